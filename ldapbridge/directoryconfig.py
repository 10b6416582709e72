"""Settings of the ``[directory]`` section: the tree's suffix, profile and names.

The base DN and PaperCut profile, which groups are published, how usernames,
home directories and numeric ids are formed, which member field feeds each
card, PIN and label attribute, and the Active Directory domain names.  Read by
ldapbridge/config.py through ``read_directory``.
"""

from __future__ import annotations

import re

import attrs

from ldapbridge.configsection import _Section

PROFILES = ("unix", "ad", "edirectory")
GROUP_KINDS = ("team", "plan", "location", "all")
USERNAME_RULES = ("email", "email_localpart", "member_id")

# Member fields that may feed a card number or a PIN, and those that may
# feed a department or office label; "none" publishes nothing.
CREDENTIAL_FIELDS = ("card", "second_card", "pin", "member_id", "none")
LABEL_FIELDS = ("team", "company", "plan", "location", "none")

# An LDAP attribute type name (RFC 4512 1.4, "descr").
ATTRIBUTE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]*")


@attrs.frozen
class DirectorySettings:
    base_dn: str = "dc=example,dc=com"
    profile: str = "unix"
    include_cancelled: bool = False
    group_kinds: tuple[str, ...] = GROUP_KINDS
    all_members_group: str = "all-members"
    username_from: str = "email"
    home_directory: str = "/home/{username}"
    login_shell: str = "/bin/false"
    uid_number_base: int = 10000
    gid_number_base: int = 10000
    card_from: str = "card"
    second_card_from: str = "second_card"
    pin_from: str = "pin"
    department_from: str = "team"
    office_from: str = "location"
    # Attribute names; empty means the profile's own default.
    card_attribute: str = ""
    second_card_attribute: str = ""
    pin_attribute: str = ""
    # Active Directory names: user@upn_suffix and NETBIOS_DOMAIN\user.
    upn_suffix: str = ""
    netbios_domain: str = ""


def read_directory(s: _Section) -> DirectorySettings:
    base_dn = s.text("base_dn", "dc=example,dc=com")
    if "=" not in base_dn:
        s.fail("base_dn", "a DN such as dc=example,dc=com", repr(base_dn))

    kinds = s.words("groups", GROUP_KINDS)
    for kind in kinds:
        if kind not in GROUP_KINDS:
            s.fail("groups", "a list drawn from " + ", ".join(GROUP_KINDS), kind)

    profile = s.choice("profile", "unix", PROFILES)
    return DirectorySettings(
        base_dn=base_dn,
        profile=profile,
        include_cancelled=s.boolean("include_cancelled", False),
        group_kinds=kinds,
        all_members_group=s.text("all_members_group", "all-members"),
        username_from=s.choice("username_from", "email", USERNAME_RULES),
        home_directory=_home_directory(s),
        login_shell=s.text("login_shell", "/bin/false"),
        uid_number_base=s.integer("uid_number_base", 10000, 1, 2**31 - 2**24),
        gid_number_base=s.integer("gid_number_base", 10000, 1, 2**31 - 2**24),
        **_member_fields(s),
        **_attribute_names(s),
        **_domain_names(s, base_dn, profile),
    )


def _member_fields(s: _Section) -> dict[str, str]:
    """Which member field feeds each published credential and label."""
    return {
        "card_from": s.choice("card_from", "card", CREDENTIAL_FIELDS),
        "second_card_from": s.choice(
            "second_card_from", "second_card", CREDENTIAL_FIELDS
        ),
        "pin_from": s.choice("pin_from", "pin", CREDENTIAL_FIELDS),
        "department_from": s.choice("department_from", "team", LABEL_FIELDS),
        "office_from": s.choice("office_from", "location", LABEL_FIELDS),
    }


def _attribute_names(s: _Section) -> dict[str, str]:
    """The attribute names chosen for card, second card and PIN; distinct."""
    names: dict[str, str] = {}
    for key in ("card_attribute", "second_card_attribute", "pin_attribute"):
        name = s.text(key, "")
        if name and not ATTRIBUTE_NAME.fullmatch(name):
            s.fail(key, "an attribute name (letters, digits, hyphens)", repr(name))
        if name and name.lower() in (n.lower() for n in names.values()):
            s.fail(key, "a name not used by another *_attribute key", repr(name))
        names[key] = name
    return names


# Dot-separated labels of letters, digits and inner hyphens: the domain of a
# userPrincipalName, which PaperCut and Windows clients bind with.  One label
# is allowed: a base_dn of dc=local gives "local", which older sites use.
_DOMAIN = re.compile(
    r"([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
)


def _domain_names(s: _Section, base_dn: str, profile: str) -> dict[str, str]:
    """upn_suffix and netbios_domain, by default from base_dn's dc= parts."""
    dc_parts = [
        value.strip()
        for key, _, value in (part.partition("=") for part in base_dn.split(","))
        if key.strip().lower() == "dc" and value.strip()
    ]
    upn_suffix = s.text("upn_suffix", ".".join(dc_parts)).lstrip("@").lower()
    domain = s.text("netbios_domain", dc_parts[0] if dc_parts else "").upper()
    if profile == "ad" and not upn_suffix:
        s.fail("upn_suffix", "a DNS domain such as example.com", "nothing")
    if profile == "ad" and not _DOMAIN.fullmatch(upn_suffix):
        s.fail("upn_suffix", "a DNS domain such as example.com", repr(upn_suffix))
    if profile == "ad" and not domain:
        s.fail("netbios_domain", "a domain name such as EXAMPLE", "nothing")
    # Bind names are split at these characters, so the names cannot hold them.
    for key, value, separator in (
        ("upn_suffix", upn_suffix, "@"),
        ("netbios_domain", domain, "\\"),
    ):
        if separator in value:
            s.fail(key, f"a name without {separator!r}", repr(value))
    return {"upn_suffix": upn_suffix, "netbios_domain": domain}


def _home_directory(s: _Section) -> str:
    """The homeDirectory template, tried now rather than at the first entry."""
    template = s.text("home_directory", "/home/{username}")
    try:
        template.format(username="x")
    except (AttributeError, IndexError, KeyError, ValueError):
        s.fail(
            "home_directory",
            "a path whose only field is {username}, such as /home/{username}",
            repr(template),
        )
    return template
