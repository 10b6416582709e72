"""Profiles: how members and groups appear to one kind of LDAP client.

PaperCut picks attribute names by the server type the admin chooses
(DESIGN.md, "PaperCut's three LDAP server types"); a profile publishes the
names that type expects, so PaperCut needs no schema overrides.  Profile
modules (this one for Unix, ``activedirectory`` and ``edirectory``) are the
only places that know those names; ``servertypes`` picks one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import attrs

from ldapbridge.config import ConfigError, DirectorySettings
from ldapbridge.directory import fields
from ldapbridge.directory.model import Group, Member
from ldapbridge.ldap import dn, schema

Attributes = dict[str, Sequence[str]]


@attrs.frozen
class Layout:
    """Where entries live: the suffix and its three branches."""

    base_dn: str
    people_dn: str
    groups_dn: str
    services_dn: str

    @classmethod
    def from_settings(cls, settings: DirectorySettings) -> Layout:
        base = dn.format_dn(dn.parse(settings.base_dn))
        return cls(
            base_dn=base,
            people_dn=f"ou=people,{base}",
            groups_dn=f"ou=groups,{base}",
            services_dn=f"ou=services,{base}",
        )


class Profile:
    """What every server type shares: DNs, card and PIN attributes, services.

    Subclasses give ``person_attributes`` and ``group_attributes``.  The PIN
    attribute is restricted: only service accounts may read it.
    """

    name: ClassVar[str]
    user_rdn: ClassVar[str] = "uid"
    default_card_attribute: ClassVar[str] = "employeeNumber"
    default_second_card_attribute: ClassVar[str] = "pager"
    default_pin_attribute: ClassVar[str] = "pin"

    def __init__(self, settings: DirectorySettings, layout: Layout) -> None:
        """Raises ConfigError when a configured attribute name is taken."""
        self.settings = settings
        self.layout = layout
        self.card_attribute = settings.card_attribute or self.default_card_attribute
        self.second_card_attribute = (
            settings.second_card_attribute or self.default_second_card_attribute
        )
        self.pin_attribute = settings.pin_attribute or self.default_pin_attribute
        self.restricted = frozenset({self.pin_attribute.lower()})
        self._check_attribute_names()

    def member_dn(self, member: Member) -> str:
        value = dn.escape_value(member.username)
        return f"{self.user_rdn}={value},{self.layout.people_dn}"

    def group_dn(self, group: Group) -> str:
        return f"cn={dn.escape_value(group.name)},{self.layout.groups_dn}"

    def member_attributes(
        self, member: Member, primary_gid: int, group_dns: list[str]
    ) -> Attributes:
        values = fields.published(member, self.settings)
        attributes = self.person_attributes(member, values, primary_gid, group_dns)
        attributes.update(self.credentials(values))
        return attributes

    def person_attributes(
        self,
        member: Member,
        values: fields.Published,
        primary_gid: int,
        group_dns: list[str],
    ) -> Attributes:
        raise NotImplementedError

    def credentials(self, values: fields.Published) -> Attributes:
        """Card numbers and PIN, exactly as stored; empty ones are left out."""
        return {
            self.card_attribute: [values.card],
            self.second_card_attribute: [values.second_card],
            self.pin_attribute: [values.pin],
        }

    def member_operational(self, group_dns: list[str]) -> Attributes:
        return {"memberOf": group_dns}

    def group_attributes(self, group: Group, member_dns: list[str]) -> Attributes:
        raise NotImplementedError

    def service_attributes(self, name: str) -> Attributes:
        return {
            "objectClass": ["top", "applicationProcess"],
            "cn": [name],
            "description": ["ldapbridge service account"],
        }

    def bind_names(self, member: Member) -> list[str]:
        """Names other than the DN that a member may bind with."""
        return []

    def _check_attribute_names(self) -> None:
        """Card, second card and PIN each need an attribute of their own.

        Defaults count too: a PIN moved onto the card's default name would
        silently replace the card.
        """
        sample = _sample_member()
        values = fields.published(sample, self.settings)
        profile_names = (
            *self.person_attributes(sample, values, 1, ["cn=x"]),
            *self.member_operational(["cn=x"]),
            *schema.SECRET_ATTRIBUTES,
            "entrydn",
        )
        owners = {a.lower(): f"the {self.name} profile" for a in profile_names}
        for key, name in (
            ("card_attribute", self.card_attribute),
            ("second_card_attribute", self.second_card_attribute),
            ("pin_attribute", self.pin_attribute),
        ):
            owner = owners.setdefault(name.lower(), f"[directory] {key}")
            if owner != f"[directory] {key}":
                raise ConfigError(
                    f"[directory] {key}: expected an attribute not already used "
                    f"by {owner}, found {name!r}"
                )


def _sample_member() -> Member:
    return Member(
        username="sample",
        member_id="1",
        full_name="Sample Member",
        given_name="Sample",
        surname="Member",
        email="sample@example.com",
        company="Company",
        teams=("Team",),
        plan="Plan",
        location="Location",
        card="1",
        pin="1",
        active=True,
        uid_number=1,
        password_hash="",
        second_card="2",
    )


class UnixProfile(Profile):
    """PaperCut's "Unix / Open Directory" type: inetOrgPerson, posixGroup."""

    name = "unix"
    user_rdn = "uid"

    def person_attributes(
        self,
        member: Member,
        values: fields.Published,
        primary_gid: int,
        group_dns: list[str],
    ) -> Attributes:
        return {
            "objectClass": [
                "top",
                "person",
                "organizationalPerson",
                "inetOrgPerson",
                "posixAccount",
            ],
            "uid": [member.username],
            "cn": [member.full_name],
            "sn": [member.surname],
            "givenName": [member.given_name],
            "displayName": [member.full_name],
            "mail": [member.email],
            "departmentNumber": [values.department],
            "physicalDeliveryOfficeName": [values.office],
            "o": [member.company],
            "l": [member.location],
            "employeeType": [member.plan],
            "uidNumber": [str(member.uid_number)],
            "gidNumber": [str(primary_gid)],
            "homeDirectory": [self._home(member)],
            "loginShell": [self.settings.login_shell],
        }

    def group_attributes(self, group: Group, member_dns: list[str]) -> Attributes:
        return {
            "objectClass": ["top", "groupOfNames", "posixGroup"],
            "cn": [group.name],
            "description": [f"{group.kind} group"],
            "gidNumber": [str(group.gid_number)],
            "memberUid": list(group.usernames),
            "member": member_dns,
        }

    def _home(self, member: Member) -> str:
        return self.settings.home_directory.format(username=member.username)
