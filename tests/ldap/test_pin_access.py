"""Who may read a member's PIN: service accounts only (PaperCut's user-pin-field)."""

from __future__ import annotations

import ldap3
import pytest

from tests.ldap_client import connect, search
from tests.support import BASE_DN, PEOPLE_DN, SERVICE_DN, RunningServer, ldap_tool

ALEX_DN = f"uid=alex.demo@example.com,{PEOPLE_DN}"


def as_alex(server: RunningServer) -> ldap3.Connection:
    return connect(server, ALEX_DN, "alex-demo-pw")


class TestPinForServiceAccounts:
    def test_service_account_reads_the_pin_with_all_attributes(
        self, demo_server: RunningServer
    ) -> None:
        """A `*` search by the service account carries the PIN, leading zeros kept."""
        found = search(connect(demo_server), BASE_DN, "(uid=alex.demo@example.com)")

        assert found[ALEX_DN]["pin"] == ["0042"]

    def test_service_account_finds_a_member_by_pin(
        self, demo_server: RunningServer
    ) -> None:
        """The PIN is searchable by the service account."""
        found = search(connect(demo_server), BASE_DN, "(pin=0042)", ["uid"])

        assert found == {ALEX_DN: {"uid": ["alex.demo@example.com"]}}

    def test_service_account_compare_on_pin_is_true(
        self, demo_server: RunningServer
    ) -> None:
        """ldapcompare of the right PIN answers compareTrue (6)."""
        result = ldap_tool(
            "ldapcompare", demo_server, "-D", SERVICE_DN, "-w", "papercut-demo",
            ALEX_DN, "pin:0042",
        )  # fmt: skip

        assert (result.returncode, result.stdout.strip()) == (6, "TRUE")


class TestPinHiddenFromMembers:
    def test_member_reading_own_entry_gets_no_pin(
        self, demo_server: RunningServer
    ) -> None:
        """A member sees their entry, card included, but not their PIN."""
        result = ldap_tool(
            "ldapsearch", demo_server, "-LLL", "-D", ALEX_DN, "-w", "alex-demo-pw",
            "-b", BASE_DN, "(objectClass=*)", "*", "pin",
        )  # fmt: skip

        lines = result.stdout.splitlines()
        assert (result.returncode, lines[0]) == (0, f"dn: {ALEX_DN}")
        assert "employeeNumber: 0000424242" in lines
        assert [line for line in lines if line.lower().startswith("pin")] == []

    @pytest.mark.parametrize(
        "ldap_filter",
        [
            "(pin=0042)",
            "(pin=*)",
            "(pin=00*)",
            "(pin:=0042)",
            "(:caseIgnoreMatch:=0042)",
        ],
    )
    def test_member_cannot_probe_the_pin_with_a_filter(
        self, demo_server: RunningServer, ldap_filter: str
    ) -> None:
        """Filters on the PIN match nothing for a member, as if it were absent."""
        assert search(as_alex(demo_server), BASE_DN, ldap_filter, ["1.1"]) == {}

    def test_member_can_still_match_other_attributes(
        self, demo_server: RunningServer
    ) -> None:
        """Hiding the PIN leaves other filters working for the member."""
        found = search(as_alex(demo_server), BASE_DN, "(!(pin=0042))", ["uid"])

        assert found == {ALEX_DN: {"uid": ["alex.demo@example.com"]}}

    def test_member_compare_on_pin_is_false(self, demo_server: RunningServer) -> None:
        """ldapcompare of the right PIN by the member answers compareFalse (5)."""
        result = ldap_tool(
            "ldapcompare", demo_server, "-D", ALEX_DN, "-w", "alex-demo-pw",
            ALEX_DN, "pin:0042",
        )  # fmt: skip

        assert (result.returncode, result.stdout.strip()) == (5, "FALSE")
