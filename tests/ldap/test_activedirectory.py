"""The Active Directory profile, end to end over 127.0.0.1 on the demo export."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ldap_client import bind_result, connect, search
from tests.support import (
    BASE_DN,
    GROUPS_DN,
    PEOPLE_DN,
    RunningServer,
    demo_config,
    ldap_tool,
    running_server,
)

ALEX_DN = f"cn=alex.demo@example.com,{PEOPLE_DN}"
NIGHT_OWLS_DN = f"cn=Night Owls,{GROUPS_DN}"
NOT_DISABLED = "(!(userAccountControl:1.2.840.113556.1.4.803:=2))"
# The user search of PaperCut's AD type, as DESIGN.md gives it, with {0} = *.
USER_SEARCH = (
    f"(&(sAMAccountName=*)(objectCategory=person)(objectClass=user){NOT_DISABLED})"
)

NIGHT_OWLS = [
    "alex.demo@example.com",
    "aoife.murphy@example.ie",
    "bjorn.hakansson@example.se",
    "diego.fernandez@example.mx",
    "dmitry.ivanov@example.ru",
    "freya.andersen@example.dk",
    "mia.novak@example.si",
    "van.an@example.vn",
    "yuki.tanaka@example.jp",
]


@pytest.fixture(scope="module")
def ad_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The demo export in the ad profile, cancelled members included."""
    config = demo_config(directory={"profile": "ad", "include_cancelled": "true"})
    with running_server(config, tmp_path_factory.mktemp("ad")) as server:
        yield server


class TestActiveDirectoryUsers:
    def test_user_entry_carries_the_attributes_papercut_reads(
        self, ad_server: RunningServer
    ) -> None:
        """A user has AD's names for username, full name, department and office."""
        found = search(
            connect(ad_server), BASE_DN, "(sAMAccountName=ALEX.DEMO@example.com)"
        )

        assert found == {
            ALEX_DN: {
                "objectClass": ["top", "person", "organizationalPerson", "user"],
                "objectCategory": ["person"],
                "cn": ["alex.demo@example.com"],
                "sAMAccountName": ["alex.demo@example.com"],
                "userPrincipalName": ["alex.demo@example.com"],
                "displayName": ["Alex Demo"],
                "givenName": ["Alex"],
                "sn": ["Demo"],
                "mail": ["alex.demo@example.com"],
                "department": ["Night Owls"],
                "physicalDeliveryOfficeName": ["Mill Lane"],
                "memberOf": [
                    f"cn=all-members,{GROUPS_DN}",
                    f"cn=Hot Desk,{GROUPS_DN}",
                    f"cn=Mill Lane,{GROUPS_DN}",
                    NIGHT_OWLS_DN,
                ],
                "userAccountControl": ["512"],
                "distinguishedName": [ALEX_DN],
                "pager": ["0000424242"],
                "pin": ["0042"],
            }
        }

    def test_cancelled_member_is_a_disabled_account(
        self, ad_server: RunningServer
    ) -> None:
        """A cancelled member, when published, has userAccountControl 514."""
        found = search(
            connect(ad_server),
            BASE_DN,
            "(sAMAccountName=ex@example.com)",
            ["userAccountControl"],
        )

        assert found == {
            f"cn=ex@example.com,{PEOPLE_DN}": {"userAccountControl": ["514"]}
        }

    def test_bitwise_rule_leaves_out_disabled_accounts(
        self, ad_server: RunningServer
    ) -> None:
        """The 1.2.840.113556.1.4.803 rule keeps the 46 active of 48 users."""
        conn = connect(ad_server)

        everyone = search(
            conn, BASE_DN, "(&(objectCategory=person)(objectClass=user))", ["1.1"]
        )
        enabled = search(conn, BASE_DN, USER_SEARCH, ["1.1"])

        assert (len(everyone), len(enabled)) == (48, 46)
        assert set(everyone) - set(enabled) == {
            f"cn=ex@example.com,{PEOPLE_DN}",
            f"cn=jonas.weber@example.de,{PEOPLE_DN}",
        }


class TestActiveDirectoryGroups:
    def test_group_entry_is_an_ad_group_with_member_dns(
        self, ad_server: RunningServer
    ) -> None:
        """A team is objectClass group, objectCategory group, with member DNs."""
        found = search(connect(ad_server), GROUPS_DN, "(sAMAccountName=night owls)")

        assert found == {
            NIGHT_OWLS_DN: {
                "objectClass": ["top", "group"],
                "objectCategory": ["group"],
                "cn": ["Night Owls"],
                "sAMAccountName": ["Night Owls"],
                "description": ["team group"],
                "groupType": ["-2147483646"],
                "member": [f"cn={u},{PEOPLE_DN}" for u in NIGHT_OWLS],
                "distinguishedName": [NIGHT_OWLS_DN],
            }
        }

    def test_in_chain_rule_finds_the_groups_of_a_user(
        self, ad_server: RunningServer
    ) -> None:
        """(member:1.2.840.113556.1.4.1941:=<user DN>) lists the user's groups."""
        found = search(
            connect(ad_server),
            BASE_DN,
            f"(&(objectCategory=group)(member:1.2.840.113556.1.4.1941:={ALEX_DN}))",
            ["cn"],
        )

        assert sorted(v["cn"][0] for v in found.values()) == [
            "Hot Desk",
            "Mill Lane",
            "Night Owls",
            "all-members",
        ]

    def test_in_chain_rule_finds_the_members_of_a_group(
        self, ad_server: RunningServer
    ) -> None:
        """(memberOf:1.2.840.113556.1.4.1941:=<group DN>) lists its members."""
        found = search(
            connect(ad_server),
            BASE_DN,
            f"(memberOf:1.2.840.113556.1.4.1941:={NIGHT_OWLS_DN})",
            ["sAMAccountName"],
        )

        assert sorted(v["sAMAccountName"][0] for v in found.values()) == NIGHT_OWLS

    def test_group_search_accepts_a_username_for_the_member_dn(
        self, ad_server: RunningServer
    ) -> None:
        """(member=<username>) finds the same groups as (member=<user DN>)."""
        conn = connect(ad_server)

        by_name = search(
            conn, BASE_DN, "(&(member=Alex.Demo@example.com)(objectCategory=group))"
        )
        by_dn = search(conn, BASE_DN, f"(&(member={ALEX_DN})(objectCategory=group))")

        assert len(by_name) == 4
        assert by_name == by_dn


class TestActiveDirectoryBinds:
    @pytest.mark.parametrize(
        "name",
        [
            ALEX_DN,
            "alex.demo@example.com",
            "alex.demo@example.com@example.com",
            "EXAMPLE\\alex.demo@example.com",
            "example\\ALEX.Demo@EXAMPLE.com",
        ],
    )
    def test_member_binds_by_dn_upn_or_domain_name(
        self, ad_server: RunningServer, name: str
    ) -> None:
        """Each name AD accepts logs the member in as their own entry."""
        result = ldap_tool("ldapwhoami", ad_server, "-D", name, "-w", "alex-demo-pw")

        assert (result.returncode, result.stdout) == (0, f"dn:{ALEX_DN}\n")

    @pytest.mark.parametrize(
        "name",
        [
            "alex.demo@example.com",
            "OTHER\\alex.demo@example.com",
            "EXAMPLE\\nobody@example.com",
            "nobody@example.com",
        ],
    )
    def test_wrong_password_or_unknown_name_is_invalid_credentials(
        self, ad_server: RunningServer, name: str
    ) -> None:
        """A wrong password, domain or name all get invalidCredentials (49)."""
        password = "wrong" if name == "alex.demo@example.com" else "alex-demo-pw"

        assert bind_result(ad_server, name, password) == 49

    def test_cancelled_member_cannot_bind(self, ad_server: RunningServer) -> None:
        """A disabled account is refused even with the right password."""
        assert bind_result(ad_server, "EXAMPLE\\ex@example.com", "anything") == 49


class TestActiveDirectoryDomainNames:
    def test_upn_suffix_and_domain_come_from_config(self, tmp_path: Path) -> None:
        """upn_suffix and netbios_domain replace the names taken from base_dn."""
        config = demo_config(
            directory={
                "profile": "ad",
                "username_from": "email_localpart",
                "upn_suffix": "Print.Example.org",
                "netbios_domain": "cowork",
            }
        )
        with running_server(config, tmp_path) as server:
            found = search(
                connect(server),
                PEOPLE_DN,
                "(sAMAccountName=alex.demo)",
                ["userPrincipalName"],
            )
            by_domain = bind_result(server, "COWORK\\alex.demo", "alex-demo-pw")
            by_upn = bind_result(server, "alex.demo@print.example.org", "alex-demo-pw")
            by_default_domain = bind_result(
                server, "EXAMPLE\\alex.demo", "alex-demo-pw"
            )

        assert found == {
            f"cn=alex.demo,{PEOPLE_DN}": {
                "userPrincipalName": ["alex.demo@print.example.org"]
            }
        }
        assert (by_domain, by_upn, by_default_domain) == (0, 0, 49)
