"""Where members come from: the source interface and its simple forms."""

from __future__ import annotations

import datetime as dt
from typing import Protocol, runtime_checkable

import attrs

from ldapbridge.directory.model import MemberRecord, SkippedRecord


class SourceError(Exception):
    """A source could not produce its members (unreachable, refused, malformed).

    The message is safe to log: it never holds a credential.
    """


class MemberSource(Protocol):
    """Anything that can list every member of a space."""

    # A short name for logs (file, nexudus...), and where exactly the members
    # come from (a file's path, a platform's URL): a stored snapshot of
    # another origin is never served in this one's place.
    name: str

    @property
    def origin(self) -> str: ...

    def fetch(self) -> list[MemberRecord]:
        """Return every member record; raise SourceError on any failure.

        Blocking: callers run it off the reactor thread.
        """
        ...


@attrs.frozen
class Fetched:
    """What one fetch produced: records, the records left out, and whether it
    lists every member or only those changed since a moment."""

    records: tuple[MemberRecord, ...]
    skipped: tuple[SkippedRecord, ...] = ()
    complete: bool = True


@runtime_checkable
class ReportingSource(Protocol):
    """A source that reports bad records and may list changes only."""

    name: str

    @property
    def supports_changes(self) -> bool: ...

    def fetch_all(self) -> Fetched:
        """Every member; raise SourceError.  Blocking."""
        ...

    def fetch_changed(self, since: dt.datetime) -> Fetched:
        """Members changed since ``since`` (UTC); raise SourceError.  Blocking."""
        ...


@attrs.define
class InMemorySource:
    """A source over a fixed list, for tests and generated directories."""

    records: list[MemberRecord]
    name: str = "memory"
    origin: str = "memory"

    def fetch(self) -> list[MemberRecord]:
        return list(self.records)
