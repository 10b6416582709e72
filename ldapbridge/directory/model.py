"""Values of the coworking directory: members, groups and snapshots.

All are frozen: one snapshot serves every request until a refresh swaps in the
next one, so nothing here may change after it is built.
"""

from __future__ import annotations

import time

import attrs


@attrs.frozen
class MemberRecord:
    """One member as a source reported it, before any normalisation."""

    member_id: str
    full_name: str
    email: str
    company: str = ""
    teams: tuple[str, ...] = ()
    plan: str = ""
    location: str = ""
    card: str = ""
    pin: str = attrs.field(default="", repr=False)
    active: bool = True
    password_hash: str = attrs.field(default="", repr=False)
    second_card: str = ""
    # Set when the platform keeps the parts of the name apart (Optix).
    given_name: str = ""
    surname: str = ""


@attrs.frozen
class Member:
    """A member as the directory publishes them; ``username`` is lowercase."""

    username: str
    member_id: str
    full_name: str
    given_name: str
    surname: str
    email: str
    company: str
    teams: tuple[str, ...]
    plan: str
    location: str
    card: str
    pin: str = attrs.field(repr=False)
    active: bool
    uid_number: int
    password_hash: str = attrs.field(repr=False)
    second_card: str = ""


@attrs.frozen
class Group:
    """A set of members: a team, plan, location, or everyone."""

    name: str
    kind: str
    gid_number: int
    usernames: tuple[str, ...]


@attrs.frozen
class SkippedRecord:
    """A source record left out of the snapshot, and why."""

    member_id: str
    reason: str


@attrs.frozen
class Snapshot:
    """Every member and group at one moment; immutable once built."""

    members: tuple[Member, ...]
    groups: tuple[Group, ...]
    skipped: tuple[SkippedRecord, ...] = ()
    built_at: float = attrs.field(factory=time.time)

    @property
    def active_count(self) -> int:
        return sum(1 for m in self.members if m.active)
