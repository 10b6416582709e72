"""The admin commands that read the directory without serving it.

``check``, ``export`` and ``lookup`` build the directory exactly as the
server does (same source, same snapshot rules, same tree and profile), so
what they show is what PaperCut would get.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import IO

import attrs

from ldapbridge.config import ConfigError, Settings
from ldapbridge.directory.fields import published
from ldapbridge.directory.model import Member, MemberRecord, Snapshot
from ldapbridge.directory.refresh import counted, describe_record, shrink_problem
from ldapbridge.directory.snapshot import build_snapshot
from ldapbridge.directory.sources import (
    Fetched,
    MemberSource,
    ReportingSource,
    SourceError,
)
from ldapbridge.directory.store import SnapshotStore, StoreError
from ldapbridge.hashes import is_hash
from ldapbridge.ldap import dn, ldif
from ldapbridge.ldap.search import Selection
from ldapbridge.ldap.servertypes import make_profile
from ldapbridge.ldap.tree import DirectoryTree
from ldapbridge.service.app import check_settings, make_source, make_tree
from ldapbridge.service.exposure import check_exposure
from ldapbridge.text import printable

OK, PROBLEMS = 0, 1


@attrs.frozen
class Directory:
    """What one read of the source becomes: records, snapshot and tree."""

    records: tuple[MemberRecord, ...]
    snapshot: Snapshot
    tree: DirectoryTree
    # Records the source itself left out (unreadable, or listed twice): they
    # are among the snapshot's skipped records but have no MemberRecord.
    unread: int = 0

    @property
    def read(self) -> int:
        """How many records the source listed."""
        return len(self.records) + self.unread

    @property
    def cancelled_left_out(self) -> int:
        published = len(self.snapshot.members) + len(self.snapshot.skipped)
        return self.read - published

    def service_dns(self) -> list[str]:
        return [
            entry.dn
            for ndn, identity in self.tree.identities.items()
            if identity.service is not None and (entry := self.tree.lookup(ndn))
        ]


def read_directory(settings: Settings) -> Directory:
    """Blocking: read the source and build the tree; raises SourceError, or
    ConfigError for settings the server would refuse."""
    check_settings(settings)
    return _directory(settings, _fetch(make_source(settings)))


def _fetch(source: MemberSource) -> Fetched:
    """Every record, with those the source left out and why, as a refresh
    gets them: the records a platform's mapping cannot read have no other
    trace, and check and lookup must name them."""
    if isinstance(source, ReportingSource):
        return source.fetch_all()
    return Fetched(tuple(source.fetch()))


def _directory(settings: Settings, fetched: Fetched) -> Directory:
    snapshot = build_snapshot(fetched.records, settings.directory, fetched.skipped)
    tree = make_tree(settings, snapshot)
    return Directory(fetched.records, snapshot, tree, len(fetched.skipped))


def served_directory(settings: Settings, err: IO[str]) -> Directory:
    """Blocking: the directory the server serves, as its next refresh leaves it.

    That is the source's listing, unless the source fails or the shrink
    guard would refuse the listing: then it is the last good snapshot on
    disk, and ``err`` says why.  Raises SourceError when there is neither.
    """
    check_settings(settings)
    source = make_source(settings)
    stored = _stored_records(settings, source.origin)
    try:
        listed = _directory(settings, _fetch(source))
    except SourceError as e:
        if stored is None:
            raise
        _say_last_good(err, f"the source failed: {e}")
        return _directory(settings, Fetched(stored))

    if stored is None or settings.snapshot.accept_shrink:
        return listed
    last_good = _directory(settings, Fetched(stored))
    problem = shrink_problem(
        last_good.snapshot, listed.snapshot, settings.snapshot.max_shrink
    )
    if not problem:
        return listed
    _say_last_good(err, f"the next refresh would be refused: {problem}")
    return last_good


def _stored_records(settings: Settings, origin: str) -> tuple[MemberRecord, ...] | None:
    """The records of the last good snapshot of this source, if any."""
    try:
        stored = SnapshotStore(settings.snapshot.path).load()
    except StoreError:
        return None
    if stored is None or stored.source != origin:
        return None
    return stored.records


def _say_last_good(err: IO[str], why: str) -> None:
    print(
        f"ldapbridge: {why}; showing the last good snapshot, which the server "
        "keeps serving",
        file=err,
    )


# -- check -----------------------------------------------------------------


def check(settings: Settings, out: IO[str], strict: bool = False) -> int:
    """Report on the config and the source; 1 if anything would go wrong.

    Skipped records and a missing service account are warnings: the server
    runs with them, but ``strict`` counts them as problems too.  Settings the
    server would refuse raise ConfigError before anything is printed.
    """
    check_settings(settings)
    print(f"config {settings.path}: valid", file=out)
    try:
        directory = read_directory(settings)
    except SourceError as e:
        print(f"problem: source {settings.source.type}: {e}", file=out)
        return _verdict(out, problems=1, warnings=0, strict=strict)

    problems = _report_directory(settings, directory, out)
    problems += _report_exposure(settings, directory.snapshot, out)
    warnings = _report_shrink(settings, directory, out)
    warnings += _report_skipped(directory.snapshot, out)
    warnings += _report_shared_cards(settings, directory.snapshot, out)
    warnings += _report_unusable_hashes(directory.snapshot, out)
    warnings += _report_services(directory, out)
    return _verdict(out, problems, warnings, strict)


def _report_directory(settings: Settings, directory: Directory, out: IO[str]) -> int:
    snapshot = directory.snapshot
    print(
        f"source {settings.source.type}: read {counted(directory.read, 'record')}",
        file=out,
    )
    print(
        f"directory {settings.directory.base_dn} (profile "
        f"{settings.directory.profile}): {counted(len(snapshot.members), 'member')}, "
        f"{counted(len(snapshot.groups), 'group')}, "
        f"{counted(directory.cancelled_left_out, 'cancelled member')} left out",
        file=out,
    )
    if not snapshot.members:
        # PaperCut's "delete users that do not exist" would empty its user
        # list against an empty directory (DESIGN.md, PaperCut's behaviour).
        print("problem: the directory would have no members", file=out)
        return 1
    return 0


def _report_shrink(settings: Settings, directory: Directory, out: IO[str]) -> int:
    """Warn when the server's next refresh would refuse this listing."""
    stored = _stored_records(settings, make_source(settings).origin)
    if stored is None or settings.snapshot.accept_shrink:
        return 0
    last_good = build_snapshot(stored, settings.directory)
    problem = shrink_problem(
        last_good, directory.snapshot, settings.snapshot.max_shrink
    )
    if not problem:
        return 0
    print(
        f"warning: the server's next refresh would be refused: {problem}; it "
        "keeps serving the last good snapshot (ldapbridge sync --accept-shrink "
        "publishes this listing)",
        file=out,
    )
    return 1


def _report_exposure(settings: Settings, snapshot: Snapshot, out: IO[str]) -> int:
    """The server refuses to offer the public demo passwords beyond loopback."""
    try:
        check_exposure(settings, snapshot)
    except ConfigError as e:
        print(f"problem: {e}", file=out)
        return 1
    return 0


def _report_skipped(snapshot: Snapshot, out: IO[str]) -> int:
    print(f"skipped records: {len(snapshot.skipped)}", file=out)
    for skipped in snapshot.skipped:
        print(f"  {describe_record(skipped)}", file=out)
    return len(snapshot.skipped)


def _report_shared_cards(settings: Settings, snapshot: Snapshot, out: IO[str]) -> int:
    """Warn of card numbers published for more than one member.

    PaperCut finds a user by card number, so a card shared by two members
    logs in as whichever PaperCut meets first.  The numbers stay unprinted.
    """
    holders: dict[str, set[str]] = defaultdict(set)
    for member in snapshot.members:
        values = published(member, settings.directory)
        for card in {values.card, values.second_card} - {""}:
            holders[card].add(member.member_id)

    shared = sorted(sorted(ids) for ids in holders.values() if len(ids) > 1)
    for ids in shared:
        print(
            f"warning: members {', '.join(ids[:-1])} and {ids[-1]} have the same "
            "card number (PaperCut needs each card to be unique)",
            file=out,
        )
    return len(shared)


def _report_unusable_hashes(snapshot: Snapshot, out: IO[str]) -> int:
    """Warn of password hashes that are not bcrypt or argon2 (never printed)."""
    unusable = [
        m.member_id
        for m in snapshot.members
        if m.password_hash and not is_hash(m.password_hash)
    ]
    for member_id in unusable:
        print(
            f"warning: member {member_id}: the password hash is neither a bcrypt "
            "nor an argon2 hash, so no password will work",
            file=out,
        )
    return len(unusable)


def _report_services(directory: Directory, out: IO[str]) -> int:
    service_dns = directory.service_dns()
    for service_dn in service_dns:
        print(f"service account: {service_dn}", file=out)
    if not service_dns:
        print(
            "warning: no [service.<name>] section, so PaperCut has no account "
            "to bind as",
            file=out,
        )
        return 1
    return 0


def _verdict(out: IO[str], problems: int, warnings: int, strict: bool) -> int:
    failed = problems > 0 or (strict and warnings > 0)
    word = "failed" if failed else "passed"
    print(f"check {word}: {problems} problem(s), {warnings} warning(s)", file=out)
    return PROBLEMS if failed else OK


# -- export ----------------------------------------------------------------


def export_ldif(directory: Directory, operational: bool) -> Iterator[bytes]:
    """The whole tree as LDIF, each entry as a service account's search sends it."""
    selection = Selection(all_user=True, all_operational=operational)
    return ldif.entries_ldif(directory.tree.entries, selection)


# -- lookup ----------------------------------------------------------------


def find_members(snapshot: Snapshot, query: str) -> list[tuple[Member, list[str]]]:
    """Members whose username, email, card or member id is ``query``.

    Usernames and emails match in any case; cards match exactly, since
    PaperCut compares card numbers as strings (DESIGN.md).
    """
    text = query.strip()
    folded = text.lower()
    found = []
    for member in snapshot.members:
        how = [
            name
            for name, matched in (
                ("username", member.username == folded),
                ("email", member.email.lower() == folded),
                ("card", bool(member.card) and member.card == text),
                ("member id", member.member_id == text),
            )
            if matched
        ]
        if how:
            found.append((member, how))
    return found


def lookup(settings: Settings, directory: Directory, query: str, out: IO[bytes]) -> int:
    """Print each matching member's entry and groups; 1 when none matches."""
    found = find_members(directory.snapshot, query)
    for member, how in found:
        out.write(_member_report(settings, directory, member, how))
    return OK if found else PROBLEMS


def _member_report(
    settings: Settings, directory: Directory, member: Member, how: list[str]
) -> bytes:
    profile = make_profile(settings.directory)
    entry = directory.tree.lookup(dn.normalize(profile.member_dn(member)))
    assert entry is not None, "every member of a snapshot has an entry"
    group_dns = [
        profile.group_dn(g)
        for g in directory.snapshot.groups
        if member.username in g.usernames
    ]

    lines = [f"# member {member.member_id}, found by {', '.join(how)}"]
    if not member.active:
        lines.append(
            "# cancelled: listed (include_cancelled = true) but cannot bind,"
            " with no card or PIN"
        )
    head = "".join(line + "\n" for line in lines).encode("utf-8")
    body = ldif.entry_ldif(entry, list(entry.user_attributes(privileged=True)))
    groups = [f"# groups PaperCut would see: {len(group_dns)}"]
    groups += [f"#   {group_dn}" for group_dn in group_dns]
    return head + body + "".join(g + "\n" for g in groups).encode("utf-8") + b"\n"


def why_missing(settings: Settings, directory: Directory, query: str) -> str:
    """Explain why no member matches ``query``: cancelled, skipped, or unknown."""
    text = query.strip()
    if not text:
        # Records with no card or email would otherwise match an empty query.
        return "expected a username, email, card or member id to look up, found nothing"
    skipped = {s.member_id: s.reason for s in directory.snapshot.skipped}
    for record in directory.records:
        same_email = record.email.strip().lower() == text.lower()
        if not same_email and text not in (record.member_id, record.card):
            continue
        if record.member_id in skipped:
            reason = printable(skipped[record.member_id])
            return f"record {printable(record.member_id)} is skipped: {reason}"
        if not record.active and not settings.directory.include_cancelled:
            return (
                f"member {printable(record.member_id)} is cancelled, and cancelled "
                "members are left out ([directory] include_cancelled = false)"
            )
    if text in skipped:
        # A record the platform's mapping could not read: only its id is known.
        return f"record {printable(text)} is skipped: {printable(skipped[text])}"
    return f"no member has the username, email, card or member id {text!r}"
