"""The eDirectory profile, end to end over 127.0.0.1 on the demo export."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.ldap_client import bind_result, connect, search
from tests.support import (
    BASE_DN,
    GROUPS_DN,
    PEOPLE_DN,
    RunningServer,
    demo_config,
    running_server,
)

EMILE_DN = f"cn=emile@example.fr,{PEOPLE_DN}"
EMILE_GROUPS = [
    f"cn=all-members,{GROUPS_DN}",
    f"cn=Harbour Street,{GROUPS_DN}",
    f"cn=Petit & Fils,{GROUPS_DN}",
    f"cn=Private Office,{GROUPS_DN}",
]


@pytest.fixture(scope="module")
def edir_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The demo export in the edirectory profile."""
    config = demo_config(directory={"profile": "edirectory"})
    with running_server(config, tmp_path_factory.mktemp("edir")) as server:
        yield server


class TestEDirectoryUsers:
    def test_user_entry_is_named_by_cn_with_fullname_ou_and_l(
        self, edir_server: RunningServer
    ) -> None:
        """PaperCut's eDirectory search finds a user by cn, any case."""
        found = search(
            connect(edir_server),
            BASE_DN,
            "(&(cn=EMILE@Example.FR)(objectClass=person))",
        )

        assert found == {
            EMILE_DN: {
                "objectClass": [
                    "top",
                    "person",
                    "organizationalPerson",
                    "inetOrgPerson",
                ],
                "cn": ["emile@example.fr"],
                "fullName": ["Émile Zola-Petit"],
                "givenName": ["Émile"],
                "sn": ["Zola-Petit"],
                "mail": ["EMILE@EXAMPLE.FR"],
                "ou": ["Petit & Fils"],
                "l": ["Harbour Street"],
                "o": ["Petit & Fils"],
                "groupMembership": EMILE_GROUPS,
                "employeeNumber": ["A1B2C3D4"],
                "pin": ["0007"],
            }
        }

    def test_user_search_with_star_lists_every_active_member(
        self, edir_server: RunningServer
    ) -> None:
        """(&(cn=*)(objectClass=person)) returns the 46 active members only."""
        found = search(
            connect(edir_server), BASE_DN, "(&(cn=*)(objectClass=person))", ["1.1"]
        )

        assert len(found) == 46
        assert all(dn.endswith(f",{PEOPLE_DN}") for dn in found)

    def test_member_binds_with_their_dn(self, edir_server: RunningServer) -> None:
        """The found DN and the right password log a member in."""
        assert (
            bind_result(
                edir_server, "cn=Alex.Demo@example.com," + PEOPLE_DN, "alex-demo-pw"
            )
            == 0
        )


class TestEDirectoryGroups:
    def test_groups_are_groupofnames_with_member_dns(
        self, edir_server: RunningServer
    ) -> None:
        """The group search with a user DN lists that user's groups."""
        found = search(
            connect(edir_server),
            BASE_DN,
            f"(&(member={EMILE_DN})(objectClass=groupOfNames))",
            ["objectClass"],
        )

        assert found == {
            dn: {"objectClass": ["top", "groupOfNames"]} for dn in EMILE_GROUPS
        }

    def test_group_search_with_star_lists_every_group(
        self, edir_server: RunningServer
    ) -> None:
        """(&(member=*)(objectClass=groupOfNames)) returns all twelve groups."""
        found = search(
            connect(edir_server),
            BASE_DN,
            "(&(member=*)(objectClass=groupOfNames))",
            ["cn"],
        )

        assert sorted((v["cn"][0] for v in found.values()), key=str.casefold) == [
            "all-members",
            "Brightwave Studio",
            "Dedicated Desk",
            "Haddad Legal",
            "Harbour Street",
            "Hot Desk",
            "Kettle Labs",
            "Mill Lane",
            "Night Owls",
            "Northfield Analytics",
            "Petit & Fils",
            "Private Office",
        ]
