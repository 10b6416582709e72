"""Names that LDAP's matching rules treat as one, against a real server.

uid and cn are caseIgnore and DNs compare in a folded form (RFC 4518: NFKC,
case folding, spaces), so two usernames that differ only in case folding, in
runs of spaces or in how an accent is encoded name one entry.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import bcrypt
import pytest

from tests.clients import search_entries
from tests.support import (
    GROUPS_DN,
    PEOPLE_DN,
    RunningServer,
    demo_config,
    ldap_tool,
    running_server,
)

HEADER = [
    "Member ID",
    "Full Name",
    "Email",
    "Team",
    "Access Card",
    "Status",
    "Password Hash",
]
# Zoë and Équipe with the accent as a combining mark, as macOS may write them.
ZOE_DECOMPOSED = "Zoe\u0308"
EQUIPE_DECOMPOSED = "E\u0301quipe"
FILLERS = [
    [f"M-9{i:02}", f"Filler {i}", f"f{i}@example.com", "", "", "Active", ""]
    for i in range(20)
]


def _hash(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode()


def _write_export(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(rows + FILLERS)


@pytest.fixture(scope="module")
def folded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server whose export holds usernames that fold alike."""
    workdir = tmp_path_factory.mktemp("folded")
    rows = [
        ["M-1", "Straße One", "straße@example.de", "", "1111", "Active", _hash("1")],
        ["M-2", "Strasse Two", "STRASSE@example.de", "", "2222", "Active", _hash("2")],
        ["M-3", "Space One", "a b@example.com", "", "3333", "Active", ""],
        ["M-4", "Space Two", "a  b@example.com", "", "4444", "Active", ""],
        [
            "M-5",
            f"{ZOE_DECOMPOSED} Lind",
            f"{ZOE_DECOMPOSED.lower()}@example.se",
            EQUIPE_DECOMPOSED,
            "5555",
            "Active",
            _hash("zoe-pw"),
        ],
        ["M-6", "Zoë Again", "zoë@example.se", "", "6666", "Active", ""],
    ]
    _write_export(workdir / "members.csv", rows)
    with running_server(demo_config(workdir / "members.csv"), workdir) as server:
        yield server


def cards(server: RunningServer, ldap_filter: str) -> list[str]:
    """employeeNumber of each entry ``ldap_filter`` finds under ou=people."""
    entries = search_entries(server, "-b", PEOPLE_DN, ldap_filter, "employeeNumber")
    return sorted(v for e in entries for v in e.get("employeeNumber"))


class TestUsernamesThatFoldAlike:
    def test_case_folded_usernames_publish_the_first_member_only(self, folded_server):
        """STRASSE after straße is skipped: a uid search finds one member."""
        assert cards(folded_server, "(uid=strasse@example.de)") == ["1111"]

    def test_usernames_differing_in_spaces_publish_the_first_member_only(
        self, folded_server
    ):
        """'a  b' after 'a b' is skipped: a uid search finds one member."""
        assert cards(folded_server, "(uid=a b@example.com)") == ["3333"]

    def test_every_published_dn_names_one_entry(self, folded_server):
        """No two entries under ou=people share a DN once folded."""
        entries = search_entries(folded_server, "-b", PEOPLE_DN, "-s", "one", "1.1")
        folded = [" ".join(e.dn.split()).casefold() for e in entries]
        assert len(folded) == len(set(folded)) == 23

    def test_the_skipped_member_is_logged_with_the_owner(self, folded_server):
        """The log names the skipped record and the member who keeps the name."""
        assert (
            "M-2: username 'strasse@example.de' matches 'straße@example.de' "
            "of member M-1 (case and spaces are ignored)"
        ) in folded_server.log()


class TestAccentsEncodedEitherWay:
    def test_uid_filter_with_a_precomposed_accent_finds_a_decomposed_username(
        self, folded_server
    ):
        """(uid=zoë@...) typed with ë finds the username exported as e + U+0308."""
        assert cards(folded_server, "(uid=zoë@example.se)") == ["5555"]

    def test_username_written_the_other_way_is_skipped(self, folded_server):
        """zoë@ with ë after zoë@ with a combining mark is the same username."""
        assert "M-6: username 'zoë@example.se' matches" in folded_server.log()

    def test_substring_filter_on_cn_ignores_the_encoding(self, folded_server):
        """(cn=Zoë*) with ë finds the full name exported with a combining mark."""
        assert cards(folded_server, "(cn=Zoë*)") == ["5555"]

    def test_base_dn_with_a_precomposed_accent_finds_the_entry(self, folded_server):
        """A base DN typed with ë names the entry whose uid holds e + U+0308."""
        base = "uid=zoë@example.se,ou=people,dc=example,dc=com"
        entries = search_entries(
            folded_server, "-b", base, "-s", "base", "employeeNumber"
        )
        assert [e.get("employeeNumber") for e in entries] == [["5555"]]

    def test_member_binds_by_a_dn_with_a_precomposed_accent(self, folded_server):
        """ldapwhoami with ë in the DN binds as the member and names their DN."""
        done = ldap_tool(
            "ldapwhoami",
            folded_server,
            "-D",
            "uid=zoë@example.se,ou=people,dc=example,dc=com",
            "-w",
            "zoe-pw",
        )
        assert (done.returncode, done.stdout) == (
            0,
            f"dn:uid={ZOE_DECOMPOSED.lower()}@example.se,ou=people,dc=example,dc=com\n",
        )

    def test_group_dn_with_a_decomposed_accent_finds_the_group(self, folded_server):
        """cn=Équipe written with a combining mark names the group exported so,
        and so does a precomposed É."""
        for name in (EQUIPE_DECOMPOSED, "Équipe"):
            base = f"cn={name},ou=groups,dc=example,dc=com"
            entries = search_entries(folded_server, "-b", base, "-s", "base", "cn")
            assert [e.get("cn") for e in entries] == [[EQUIPE_DECOMPOSED]]

    def test_member_filter_with_a_precomposed_username_finds_the_groups(
        self, folded_server
    ):
        """A group search filled with the username typed with ë finds its groups."""
        entries = search_entries(
            folded_server, "-b", GROUPS_DN, "(member=zoë@example.se)", "cn"
        )
        assert sorted(e.get("cn")[0] for e in entries) == [
            EQUIPE_DECOMPOSED,
            "all-members",
        ]
