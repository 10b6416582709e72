"""The CSV file source: columns from config, statuses, teams, failures."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from ldapbridge.config import DEFAULT_COLUMNS, SourceSettings
from ldapbridge.directory.filesource import CsvFileSource
from ldapbridge.directory.model import MemberRecord
from ldapbridge.directory.sources import SourceError
from tests import demo
from tests.support import DEMO_CSV

HEADER = "Member ID,Full Name,Email,Team,Access Card,Status\n"


def source(path: Path, **settings: object) -> CsvFileSource:
    return CsvFileSource(attrs.evolve(SourceSettings(path=path), **settings))


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "members.csv"
    path.write_text(text, encoding=encoding)
    return path


class TestReading:
    def test_demo_export_reads_every_row(self):
        """The bundled export yields one record per row, 48 in all."""
        records = source(DEMO_CSV).fetch()
        assert len(records) == len(demo.rows()) == 48
        assert sum(r.active for r in records) == 46

    def test_fields_are_kept_exactly(self):
        """Cards, PINs and names come through unchanged; hashes are read."""
        (alex,) = [r for r in source(DEMO_CSV).fetch() if r.member_id == "M-2001"]
        assert (alex.full_name, alex.email, alex.card, alex.pin) == (
            "Alex Demo",
            "alex.demo@example.com",
            "0000424242",
            "0042",
        )
        assert alex.teams == ("Night Owls",)
        assert alex.password_hash.startswith("$2b$10$")

    def test_renamed_columns_come_from_config(self, tmp_path):
        """column_* settings name the headers of another platform's export."""
        path = write(tmp_path, "ID,Name,E-mail,Badge\n7,Ann Lee,ann@x.org,00AB\n")
        columns = {
            **DEFAULT_COLUMNS,
            "member_id": "ID",
            "full_name": "Name",
            "email": "E-mail",
            "card": "Badge",
        }
        assert source(path, columns=columns).fetch() == [
            MemberRecord(
                member_id="7", full_name="Ann Lee", email="ann@x.org", card="00AB"
            )
        ]

    def test_several_teams_split_on_the_separator(self, tmp_path):
        """ "Owls; Bats" is two teams; blanks around them are dropped."""
        path = write(tmp_path, HEADER + "1,A B,a@x.org, Owls ;; Bats ,,\n")
        (record,) = source(path).fetch()
        assert record.teams == ("Owls", "Bats")

    def test_configured_team_separator(self, tmp_path):
        """team_separator = | splits on | instead."""
        path = write(tmp_path, HEADER + "1,A B,a@x.org,Owls|Bats,,\n")
        (record,) = source(path, team_separator="|").fetch()
        assert record.teams == ("Owls", "Bats")

    @pytest.mark.parametrize(
        ("status", "active"),
        [
            ("Active", True),
            ("ACTIVE", True),
            ("", True),
            ("Cancelled", False),
            ("Trial", False),
        ],
    )
    def test_status_decides_who_is_active(self, tmp_path, status, active):
        """Active in any case, or an empty status, is active; others are not."""
        path = write(tmp_path, HEADER + f"1,A B,a@x.org,,,{status}\n")
        assert source(path).fetch()[0].active is active

    def test_configured_active_statuses(self, tmp_path):
        """active_statuses lists every status that counts as active."""
        path = write(tmp_path, HEADER + "1,A,a@x.org,,,Trial\n2,B,b@x.org,,,Active\n")
        records = source(path, active_statuses=("trial",)).fetch()
        assert [r.active for r in records] == [True, False]

    def test_byte_order_mark_is_skipped(self, tmp_path):
        """An export saved by Excel with a BOM still finds its first column."""
        path = write(tmp_path, HEADER + "1,A B,a@x.org,,,\n", encoding="utf-8-sig")
        assert source(path).fetch()[0].member_id == "1"

    def test_configured_encoding(self, tmp_path):
        """encoding = latin-1 reads a Latin-1 export's accents."""
        path = write(tmp_path, HEADER + "1,Zoë,z@x.org,,,\n", encoding="latin-1")
        assert source(path, encoding="latin-1").fetch()[0].full_name == "Zoë"


class TestSeparators:
    def test_semicolon_export_as_excel_writes_it(self, tmp_path):
        """A ;-separated export with a byte order mark and CRLF reads as CSV."""
        text = "Member ID;Full Name;Email;Team;Access Card;Status\r\n"
        text += 'M-1;"Nguyen; Van";van@example.com;Night Owls;0042;Active\r\n'
        (record,) = source(write(tmp_path, "\ufeff" + text)).fetch()
        assert (record.member_id, record.full_name, record.card) == (
            "M-1",
            "Nguyen; Van",
            "0042",
        )
        assert record.teams == ("Night Owls",)

    def test_tab_separated_export(self, tmp_path):
        """A tab-separated export reads as CSV; commas stay in their cells."""
        text = "Member ID\tFull Name\tEmail\tAccess Card\n"
        text += "M-1\tNguyen, Van\tvan@example.com\t00A1\n"
        (record,) = source(write(tmp_path, text)).fetch()
        assert (record.full_name, record.email, record.card) == (
            "Nguyen, Van",
            "van@example.com",
            "00A1",
        )

    def test_rows_of_separators_only_are_not_records(self, tmp_path):
        """Rows of empty cells, as spreadsheets leave below the data, are ignored
        like blank lines rather than reported as records without an id."""
        text = HEADER + "M-1,Ann Lee,ann@example.com,,,Active\r\n,,,,,\r\n , ,,,,\r\n"
        records = source(write(tmp_path, text)).fetch()
        assert [r.member_id for r in records] == ["M-1"]

    def test_semicolons_in_a_comma_export_stay_in_their_cells(self, tmp_path):
        """A comma header keeps the comma separator: Team's ; lists still split."""
        text = HEADER + "M-1,Ann Lee,ann@example.com,Red;Blue,0001,Active\n"
        (record,) = source(write(tmp_path, text)).fetch()
        assert (record.teams, record.card) == (("Red", "Blue"), "0001")


class TestFailures:
    def test_missing_file(self, tmp_path):
        """A missing export is a SourceError naming the file."""
        missing = tmp_path / "gone.csv"
        with pytest.raises(SourceError) as caught:
            source(missing).fetch()
        assert str(caught.value) == (
            f"cannot read member file {missing}: No such file or directory"
        )

    def test_missing_required_column(self, tmp_path):
        """An export without the Email column says which columns it has."""
        path = write(tmp_path, "Member ID,Full Name\n1,A B\n")
        with pytest.raises(SourceError) as caught:
            source(path).fetch()
        assert str(caught.value) == (
            f"member file {path} lacks column(s) Email; "
            "its header is: Member ID, Full Name"
        )

    def test_a_column_named_twice_is_refused(self, tmp_path):
        """Two Email columns: which one is the member's cannot be guessed."""
        path = write(
            tmp_path, "Member ID,Full Name,Email,Email\n1,A B,a@x.org,b@x.org\n"
        )
        with pytest.raises(SourceError) as caught:
            source(path).fetch()
        assert str(caught.value) == (
            f"member file {path} has more than one column named Email; "
            "rename all but one, or set [source] column_email to another column"
        )

    def test_wrong_encoding(self, tmp_path):
        """Bytes that are not UTF-8 are a SourceError naming [source] encoding."""
        path = write(tmp_path, HEADER + "1,Zoë,z@x.org,,,\n", encoding="latin-1")
        with pytest.raises(SourceError) as failed:
            source(path).fetch()
        assert str(failed.value) == (
            f"member file {path} is not utf-8-sig text: byte 0xeb on line 2 "
            "cannot be decoded; set [source] encoding to the file's encoding "
            "(such as cp1252 or latin-1)"
        )

    def test_wrong_encoding_far_into_the_file_gives_its_line(self, tmp_path):
        """A bad byte past the first block read is still placed on its line."""
        rows = "".join(f"{n},Member {n},m{n}@x.org,,,\n" for n in range(1, 1000))
        path = write(tmp_path, HEADER + rows + "1000,Zoë,z@x.org,,,\n", "latin-1")
        with pytest.raises(SourceError, match="byte 0xeb on line 1001 cannot"):
            source(path, encoding="utf-8").fetch()
