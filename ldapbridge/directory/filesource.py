"""The file source: a member export in CSV, as most platforms can produce."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path

import attrs

from ldapbridge.config import SourceSettings
from ldapbridge.directory.model import MemberRecord
from ldapbridge.directory.sources import SourceError

# Columns the file must have; the rest may be missing from an export.
REQUIRED_FIELDS = ("member_id", "full_name", "email")

# Excel writes ";" where the decimal mark is a comma (most of Europe), and a
# tab for "Unicode text"; the first is the default on a tie.
SEPARATORS = (",", ";", "\t")


@attrs.define
class CsvFileSource:
    """Read members from a CSV export whose column names come from config."""

    settings: SourceSettings
    name: str = "file"

    @property
    def path(self) -> Path:
        return self.settings.path

    @property
    def origin(self) -> str:
        return f"file {self.path}"

    def fetch(self) -> list[MemberRecord]:
        try:
            with self.path.open(encoding=self.settings.encoding, newline="") as f:
                separator = _separator(f.readline())
                f.seek(0)
                reader = csv.DictReader(f, delimiter=separator)
                self._check_header(list(reader.fieldnames or []))
                common: dict[str, str] = {}
                return [self._record(row, common) for row in reader if not _blank(row)]
        except OSError as e:
            raise SourceError(
                f"cannot read member file {self.path}: {e.strerror}"
            ) from None
        except UnicodeDecodeError as e:
            raise SourceError(self._decode_problem(e)) from None
        except csv.Error as e:
            raise SourceError(
                f"member file {self.path} is not valid CSV: {e}"
            ) from None

    def _decode_problem(self, error: UnicodeDecodeError) -> str:
        """Name the setting to change and the line of the first bad byte.

        The error's position counts from the start of the block the file was
        being decoded in, not of the file, so the file is decoded again whole
        to find the line.
        """
        encoding = self.settings.encoding
        bad = error.object[error.start : error.start + 1].hex()
        where = ""
        try:
            self.path.read_bytes().decode(encoding)
        except UnicodeDecodeError as whole:
            line = whole.object.count(b"\n", 0, whole.start) + 1
            where = f" on line {line}"
            bad = whole.object[whole.start : whole.start + 1].hex()
        except OSError:
            pass
        return (
            f"member file {self.path} is not {encoding} text: byte 0x{bad}{where} "
            f"cannot be decoded; set [source] encoding to the file's encoding "
            f"(such as cp1252 or latin-1)"
        )

    def _check_header(self, header: list[str]) -> None:
        present = set(header)
        columns = self.settings.columns
        for field, column in columns.items():
            # DictReader would silently keep the last of the two.
            if header.count(column) > 1:
                raise SourceError(
                    f"member file {self.path} has more than one column named "
                    f"{column}; rename all but one, or set [source] "
                    f"column_{field} to another column"
                )

        missing = [columns[f] for f in REQUIRED_FIELDS if columns[f] not in present]
        if missing:
            raise SourceError(
                f"member file {self.path} lacks column(s) {', '.join(missing)}; "
                f"its header is: {', '.join(header)}"
            )

    def _record(
        self, row: Mapping[str, str | None], common: dict[str, str]
    ) -> MemberRecord:
        """One row's member; ``common`` keeps one copy of each company, team,
        plan and location name, which thousands of rows repeat."""

        def cell(field: str) -> str:
            return (row.get(self.settings.columns[field]) or "").strip()

        def shared(value: str) -> str:
            return common.setdefault(value, value)

        teams = cell("team").split(self.settings.team_separator)
        status = cell("status").lower()
        return MemberRecord(
            member_id=cell("member_id"),
            full_name=cell("full_name"),
            email=cell("email"),
            company=shared(cell("company")),
            teams=tuple(shared(t.strip()) for t in teams if t.strip()),
            plan=shared(cell("plan")),
            location=shared(cell("location")),
            card=cell("card"),
            pin=cell("pin"),
            active=not status or status in self.settings.active_statuses,
            password_hash=cell("password_hash"),
            second_card=cell("second_card"),
        )


def _separator(header_line: str) -> str:
    """The separator the header line uses most: column names hold none."""
    return max(SEPARATORS, key=header_line.count)


def _blank(row: Mapping[str | None, object]) -> bool:
    """A row of separators only, as spreadsheets leave below the data."""
    return not any(
        value.strip() if isinstance(value, str) else value for value in row.values()
    )
