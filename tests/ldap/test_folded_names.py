"""Usernames that LDAP's matching rules treat as one, against a real server.

uid is caseIgnore and DNs compare in a folded form, so two usernames that
differ only in case folding or in runs of spaces name one entry.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import bcrypt
import pytest

from tests.clients import search_entries
from tests.support import PEOPLE_DN, RunningServer, demo_config, running_server

HEADER = ["Member ID", "Full Name", "Email", "Access Card", "Status", "Password Hash"]
FILLERS = [
    [f"M-9{i:02}", f"Filler {i}", f"f{i}@example.com", "", "Active", ""]
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
        ["M-1", "Straße One", "straße@example.de", "1111", "Active", _hash("pw-1")],
        ["M-2", "Strasse Two", "STRASSE@example.de", "2222", "Active", _hash("pw-2")],
        ["M-3", "Space One", "a b@example.com", "3333", "Active", ""],
        ["M-4", "Space Two", "a  b@example.com", "4444", "Active", ""],
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
        assert len(folded) == len(set(folded)) == 22

    def test_the_skipped_member_is_logged_with_the_owner(self, folded_server):
        """The log names the skipped record and the member who keeps the name."""
        assert (
            "M-2: username 'strasse@example.de' matches 'straße@example.de' "
            "of member M-1 (case and spaces are ignored)"
        ) in folded_server.log()
