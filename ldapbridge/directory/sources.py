"""Where members come from: the source interface and its simple forms."""

from __future__ import annotations

from typing import Protocol

import attrs

from ldapbridge.directory.model import MemberRecord


class SourceError(Exception):
    """A source could not produce its members (unreachable, refused, malformed).

    The message is safe to log: it never holds a credential.
    """


class MemberSource(Protocol):
    """Anything that can list every member of a space."""

    name: str

    def fetch(self) -> list[MemberRecord]:
        """Return every member record; raise SourceError on any failure.

        Blocking: callers run it off the reactor thread.
        """
        ...


@attrs.define
class InMemorySource:
    """A source over a fixed list, for tests and generated directories."""

    records: list[MemberRecord]
    name: str = "memory"

    def fetch(self) -> list[MemberRecord]:
        return list(self.records)
