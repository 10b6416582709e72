"""Who may read what: anonymous, a member bound as themselves, a service account."""

from __future__ import annotations

from collections.abc import Iterator

import ldap3
import pytest

from tests.ldap.wire import ALEX_DN, ALEX_PASSWORD
from tests.support import (
    BASE_DN,
    GROUPS_DN,
    PEOPLE_DN,
    SERVICE_DN,
    SERVICE_PASSWORD,
    RunningServer,
    ldap_tool,
)

SARA_DN = "uid=sara.haddad@example.com,ou=people,dc=example,dc=com"


@pytest.fixture
def connect(demo_server: RunningServer) -> Iterator[object]:
    """Open ldap3 connections to the demo server, closed after the test."""
    opened: list[ldap3.Connection] = []

    def open_as(user: str | None = None, password: str | None = None):
        server = ldap3.Server(demo_server.host, port=demo_server.port)
        connection = ldap3.Connection(server, user, password, raise_exceptions=False)
        assert connection.bind() is True
        opened.append(connection)
        return connection

    yield open_as
    for connection in opened:
        connection.unbind()


def dns(connection: ldap3.Connection) -> list[str]:
    return [e.entry_dn for e in connection.entries]


class TestAnonymous:
    def test_anonymous_reads_the_root_dse(self, connect) -> None:
        """The root DSE answers before any bind."""
        connection = connect()
        connection.search("", "(objectClass=*)", ldap3.BASE, attributes=["vendorName"])
        assert connection.result["result"] == 0
        assert [str(e.vendorName) for e in connection.entries] == ["ldapbridge"]

    def test_anonymous_search_of_the_tree_is_refused(self, connect) -> None:
        """Anything below the root DSE gets insufficientAccessRights (50)."""
        connection = connect()
        connection.search(BASE_DN, "(objectClass=*)")
        assert connection.result["result"] == 50
        assert connection.entries == []

    def test_anonymous_compare_is_refused(self, connect) -> None:
        """Compare is a read too: 50 for anonymous clients."""
        connection = connect()
        connection.compare(ALEX_DN, "mail", "alex.demo@example.com")
        assert connection.result["result"] == 50

    def test_failed_bind_leaves_the_connection_anonymous(self, connect) -> None:
        """After a good bind then a bad one, searches are refused again."""
        connection = connect(SERVICE_DN, SERVICE_PASSWORD)
        connection.rebind(ALEX_DN, "wrong")
        connection.search(BASE_DN, "(objectClass=*)")
        assert connection.result["result"] == 50


class TestMemberBoundAsThemselves:
    def test_member_sees_only_their_own_entry_in_a_subtree_search(
        self, connect
    ) -> None:
        """A whole-tree search returns Alex's entry and nothing else."""
        connection = connect(ALEX_DN, ALEX_PASSWORD)
        connection.search(BASE_DN, "(objectClass=*)")
        assert connection.result["result"] == 0
        assert dns(connection) == [ALEX_DN]

    def test_member_sees_no_groups(self, connect) -> None:
        """The groups subtree does not exist for a member (noSuchObject)."""
        connection = connect(ALEX_DN, ALEX_PASSWORD)
        connection.search(GROUPS_DN, "(objectClass=*)")
        assert connection.result["result"] == 32
        assert dns(connection) == []

    def test_member_cannot_tell_another_member_from_nobody(self, connect) -> None:
        """A base search on Sara's entry answers exactly as on a made-up DN."""
        connection = connect(ALEX_DN, ALEX_PASSWORD)
        connection.search(SARA_DN, "(objectClass=*)", ldap3.BASE)
        sara = (connection.result["result"], connection.result["message"])
        assert dns(connection) == []
        connection.search(f"uid=nobody@example.com,{PEOPLE_DN}", "(objectClass=*)")
        nobody = (connection.result["result"], connection.result["message"])
        assert sara == nobody == (32, "no such entry")

    def test_member_may_search_from_an_ancestor_of_their_entry(self, connect) -> None:
        """ou=people as base still finds Alex's own entry."""
        connection = connect(ALEX_DN, ALEX_PASSWORD)
        connection.search(PEOPLE_DN, "(objectClass=*)")
        assert connection.result["result"] == 0
        assert dns(connection) == [ALEX_DN]

    def test_member_cannot_compare_another_member(self, connect) -> None:
        """Compare on Sara's entry is noSuchObject (32) for Alex."""
        connection = connect(ALEX_DN, ALEX_PASSWORD)
        connection.compare(SARA_DN, "mail", "sara.haddad@example.com")
        assert connection.result["result"] == 32

    def test_member_whoami_is_their_dn(self, demo_server: RunningServer) -> None:
        """ldapwhoami as Alex answers Alex's DN."""
        done = ldap_tool("ldapwhoami", demo_server, "-D", ALEX_DN, "-w", ALEX_PASSWORD)
        assert done.stdout.strip() == f"dn:{ALEX_DN}"


class TestServiceAccount:
    def test_service_account_sees_the_whole_tree(self, connect) -> None:
        """People, groups and services all come back to PaperCut's account."""
        connection = connect(SERVICE_DN, SERVICE_PASSWORD)
        connection.search(BASE_DN, "(objectClass=*)")
        found = dns(connection)
        assert connection.result["result"] == 0
        assert ALEX_DN in found and SARA_DN in found
        assert SERVICE_DN in found
        assert sum(d.endswith("," + PEOPLE_DN) for d in found) == 46


class TestSecrets:
    @pytest.mark.parametrize(
        "who", [(SERVICE_DN, SERVICE_PASSWORD), (ALEX_DN, ALEX_PASSWORD)]
    )
    def test_no_one_gets_password_or_pin_attributes(
        self, demo_server: RunningServer, who: tuple[str, str]
    ) -> None:
        """Asked by name, with * and +, userPassword and pin never come back."""
        done = ldap_tool(
            "ldapsearch",
            demo_server,
            "-LLL",
            "-D",
            who[0],
            "-w",
            who[1],
            "-b",
            BASE_DN,
            "(objectClass=*)",
            "*",
            "+",
            "userPassword",
            "pin",
            "unicodePwd",
        )
        names = {line.split(":")[0].lower() for line in done.stdout.splitlines()}
        assert done.returncode == 0
        assert f"dn: {ALEX_DN}" in done.stdout.splitlines()
        assert "mail" in names
        assert names.isdisjoint({"userpassword", "unicodepwd"})
        # PaperCut's user-pin-field: the PIN reaches service accounts only.
        assert ("pin" in names) == (who[0] == SERVICE_DN)

    def test_filters_cannot_probe_secrets(self, connect) -> None:
        """Filters on userPassword match nothing, even for the service; on the
        PIN, only for the service, which may read it anyway."""
        service = connect(SERVICE_DN, SERVICE_PASSWORD)
        for probe in ("(userPassword=*)", "(userPassword=$2b$*)"):
            service.search(BASE_DN, probe)
            assert (probe, dns(service)) == (probe, [])
        service.search(BASE_DN, "(pin=0042)")
        assert dns(service) == [ALEX_DN]

        member = connect(ALEX_DN, ALEX_PASSWORD)
        member.search(BASE_DN, "(pin=0042)")
        assert dns(member) == []

    def test_no_password_hash_anywhere_in_a_full_dump(
        self, demo_server: RunningServer
    ) -> None:
        """ldapsearch of everything shows no hash and no service password."""
        done = ldap_tool(
            "ldapsearch",
            demo_server,
            "-D",
            SERVICE_DN,
            "-w",
            SERVICE_PASSWORD,
            "-b",
            BASE_DN,
            "(objectClass=*)",
            "*",
            "+",
        )
        assert done.returncode == 0
        assert "$2b$" not in done.stdout
        assert SERVICE_PASSWORD not in done.stdout
        assert "numEntries: " in done.stdout
