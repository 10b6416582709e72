"""One refresh: fetch, merge, validate, guard, keep.

A refresh that fails, or whose active-member count drops by more than
``[snapshot] max_shrink``, is refused: the last good snapshot keeps serving,
since PaperCut may delete every user missing from a sync, balances and all
(DESIGN.md, safety rules).  Good snapshots are kept on disk for the next
start.  Blocking: the service runs it in a thread pool.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterable

import attrs
from twisted.logger import Logger

from ldapbridge.config import DirectorySettings, SnapshotSettings
from ldapbridge.directory.model import MemberRecord, SkippedRecord, Snapshot
from ldapbridge.directory.observers import RefreshObserver, Unobserved
from ldapbridge.directory.snapshot import build_snapshot
from ldapbridge.directory.sources import (
    Fetched,
    MemberSource,
    ReportingSource,
    SourceError,
)
from ldapbridge.directory.store import SnapshotStore, StoredSnapshot, StoreError
from ldapbridge.text import printable

log = Logger(namespace="ldapbridge.directory")

# Changed-since requests reach back this far before the last good fetch, so
# that a platform clock a little behind ours loses no change.
CHANGES_OVERLAP_S = 600.0

Records = dict[str, MemberRecord]


@attrs.frozen
class RefreshResult:
    """How a refresh ended, and the snapshot that serves after it."""

    outcome: str  # published, unchanged, refused, failed
    full: bool
    message: str
    snapshot: Snapshot | None
    new_snapshot: bool = False  # the served snapshot changed: rebuild the tree

    @property
    def accepted(self) -> bool:
        return self.outcome in ("published", "unchanged")


class Refresher:
    """Keeps the last good snapshot and decides whether a new one replaces it."""

    def __init__(
        self,
        source: MemberSource,
        directory: DirectorySettings,
        settings: SnapshotSettings,
        store: SnapshotStore,
        clock: Callable[[], float] = time.time,
        observer: RefreshObserver | None = None,
        accept_command: str = "ldapbridge sync --accept-shrink --config <file>",
    ) -> None:
        self.source = source
        # What the operator runs to accept a refused shrink, logged with it.
        self.accept_command = accept_command
        self.observer: RefreshObserver = observer or Unobserved()
        self.directory = directory
        self.settings = settings
        self.store = store
        self.clock = clock
        self.last_good: Snapshot | None = None
        # The last good records: all of them where a changes-only fetch must
        # be merged into them, else only their fingerprint.
        self._records: Records = {}
        self._fingerprint: int | None = None
        self._source_skipped: tuple[SkippedRecord, ...] = ()
        self._since: float | None = None
        self._full_at: float | None = None
        self._stamp: tuple[int, int] | None = None
        self._reported: set[SkippedRecord] = set()
        self._lock = threading.Lock()

    def load_stored(self) -> Snapshot | None:
        """Adopt the snapshot on disk, if there is a usable one.

        Usable or not, the file is not read again until it is replaced: the
        refresh after this one would otherwise log the same complaint again.
        """
        self._stamp = self.store.stamp()
        try:
            stored = self.store.load()
        except StoreError as e:
            log.error("cannot use the stored snapshot: {error}", error=str(e))
            return None
        if stored is None:
            return None
        if stored.source != self.source.origin:
            # A config switched from the demo to a real export must not keep
            # serving the demo (nor be shrink-guarded against it).
            log.warn(
                "ignoring the stored snapshot: it came from {stored}, not {current}",
                stored=stored.source,
                current=self.source.origin,
            )
            return None
        self._adopt(stored)
        return self.last_good

    def refresh(self, accept_shrink: bool = False) -> RefreshResult:
        """Fetch and, if it is safe, make the result the last good snapshot."""
        with self._lock:
            began = time.monotonic()
            result = self._refresh(accept_shrink)
            self._observe(result.outcome, time.monotonic() - began)
            return result

    def _observe(self, outcome: str, duration_s: float) -> None:
        if outcome == "failed":
            self.observer.refresh_failed(duration_s)
        elif outcome == "refused":
            self.observer.refresh_refused(duration_s)
        else:
            self.observer.refresh_succeeded(duration_s)

    def _refresh(self, accept_shrink: bool) -> RefreshResult:
        adopted = self._adopt_newer_file()
        started = self.clock()
        full = self._full_due(started)
        try:
            fetched = self._fetch(full)
        except SourceError as e:
            return self._refuse("failed", full, f"the source failed: {e}", adopted)
        return self._consider(fetched, started, accept_shrink, adopted)

    def _consider(
        self, fetched: Fetched, started: float, accept_shrink: bool, adopted: bool
    ) -> RefreshResult:
        records, skipped = self._merge(fetched)
        if self.last_good is not None and self._unchanged(records):
            self._succeeded(started, fetched.complete)
            message = f"no change in {len(records)} records"
            return RefreshResult(
                "unchanged", fetched.complete, message, self.last_good, adopted
            )

        snapshot = build_snapshot(records.values(), self.directory, skipped)
        problem = self._shrink_problem(snapshot)
        if problem and not (accept_shrink or self.settings.accept_shrink):
            return self._refuse("refused", fetched.complete, problem, adopted)
        if problem:
            log.warn(
                "accepting a shrink as the operator asked: {problem}", problem=problem
            )

        self._keep(snapshot, records, skipped)
        self._succeeded(started, fetched.complete)
        self._report(snapshot, fetched.complete)
        return RefreshResult(
            "published", fetched.complete, describe(snapshot), snapshot, True
        )

    def _full_due(self, now: float) -> bool:
        if not isinstance(self.source, ReportingSource):
            return True
        if not self.source.supports_changes or self._since is None:
            return True
        if self._full_at is None:
            return True
        return now - self._full_at >= self.settings.full_refresh_interval_s

    def _fetch(self, full: bool) -> Fetched:
        source = self.source
        if not isinstance(source, ReportingSource):
            return Fetched(tuple(source.fetch()))
        if full or self._since is None:
            return source.fetch_all()
        since = self._since - CHANGES_OVERLAP_S
        return source.fetch_changed(dt.datetime.fromtimestamp(since, dt.UTC))

    def _merge(self, fetched: Fetched) -> tuple[Records, tuple[SkippedRecord, ...]]:
        """The records after this fetch: all of them, or the last ones updated."""
        fresh, twice = self._by_member_id(fetched.records)
        if fetched.complete:
            return fresh, (*fetched.skipped, *twice)

        records = dict(self._records)
        records.update(fresh)
        still = [s for s in self._source_skipped if s.member_id not in fresh]
        return records, tuple(dict.fromkeys([*still, *fetched.skipped, *twice]))

    def _by_member_id(
        self, fetched: Iterable[MemberRecord]
    ) -> tuple[Records, list[SkippedRecord]]:
        """One record per member id, chosen as build_snapshot would choose it.

        An active record wins over a cancelled one, then the one listed first,
        so that the server publishes what ``ldapbridge check`` shows; the other
        is a skipped record unless it would be left out as cancelled anyway.
        """
        chosen: Records = {}
        dropped: list[MemberRecord] = []
        for record in fetched:
            kept = chosen.get(record.member_id)
            if kept is None or (record.active and not kept.active):
                chosen[record.member_id] = record
            if kept is not None:
                dropped.append(record if chosen[record.member_id] is kept else kept)

        shown = self.directory.include_cancelled
        return chosen, [
            SkippedRecord(r.member_id, f"member id {r.member_id} appears twice")
            for r in dropped
            if r.member_id and (r.active or shown)
        ]

    def _shrink_problem(self, snapshot: Snapshot) -> str:
        return shrink_problem(self.last_good, snapshot, self.settings.max_shrink)

    def _refuse(
        self, outcome: str, full: bool, reason: str, adopted: bool
    ) -> RefreshResult:
        serving = self.last_good
        log.error(
            "refresh refused: {reason}; still serving the last good snapshot "
            "({serving})",
            reason=reason,
            serving=describe(serving) if serving else "none yet",
        )
        if outcome == "refused":
            log.error("to accept it, run: {command}", command=self.accept_command)
        return RefreshResult(outcome, full, reason, serving, adopted)

    def _keep(
        self, snapshot: Snapshot, records: Records, skipped: tuple[SkippedRecord, ...]
    ) -> None:
        """Make ``snapshot`` the last good one, on disk as well."""
        ordered = tuple(records[k] for k in sorted(records))
        try:
            self.store.save(ordered, self.source.origin)
            self._stamp = self.store.stamp()
        except StoreError as e:
            log.error(
                "cannot keep the snapshot on disk ([snapshot] path): {error}",
                error=str(e),
            )
        self.last_good = snapshot
        self._remember(records)
        self._source_skipped = skipped

    def _merges_changes(self) -> bool:
        source = self.source
        return isinstance(source, ReportingSource) and source.supports_changes

    def _remember(self, records: Records) -> None:
        """Keep what tells the next fetch's records from these.

        A source that lists everyone each time needs no copy of the records
        (at 100,000 members, tens of megabytes): a fingerprint of them tells
        an unchanged listing just as well.
        """
        self._fingerprint = hash(tuple(records.items()))
        self._records = records if self._merges_changes() else {}

    def _unchanged(self, records: Records) -> bool:
        if self._merges_changes():
            return records == self._records
        return hash(tuple(records.items())) == self._fingerprint

    def _succeeded(self, started: float, full: bool) -> None:
        self._since = started
        if full:
            self._full_at = started

    def _report(self, snapshot: Snapshot, full: bool) -> None:
        """Log each skipped record once, and a summary of the refresh."""
        for skipped in snapshot.skipped:
            if skipped not in self._reported:
                log.warn(
                    "skipped member record {member_id}: {reason}",
                    member_id=printable(skipped.member_id),
                    reason=printable(skipped.reason),
                )
        self._reported = set(snapshot.skipped)
        log.info(
            "refresh ({kind}) published: {counts}",
            kind="full" if full else "changes only",
            counts=describe(snapshot),
        )

    def _adopt_newer_file(self) -> bool:
        """Take up a snapshot another process (ldapbridge sync) wrote."""
        stamp = self.store.stamp()
        if stamp is None or stamp == self._stamp:
            return False
        snapshot = self.load_stored()
        if snapshot is None:
            return False
        log.info(
            "adopted the snapshot another process wrote to {path}: {counts}",
            path=str(self.store.path),
            counts=describe(snapshot),
        )
        return True

    def _adopt(self, stored: StoredSnapshot) -> None:
        # Its age is the file's: a restart must not make old data look fresh.
        snapshot = build_snapshot(stored.records, self.directory)
        self.last_good = attrs.evolve(snapshot, built_at=stored.written_at)
        self._remember({r.member_id: r for r in stored.records})
        self._source_skipped = ()
        self._reported = set(self.last_good.skipped)
        # The next refresh lists everyone: the file says nothing of changes.
        self._since = None
        self._full_at = None


def shrink_problem(before: Snapshot | None, after: Snapshot, max_shrink: float) -> str:
    """Why publishing ``after`` in place of ``before`` is refused; "" if not.

    With no last good snapshot, an empty one is a shrink too: published,
    it would tell PaperCut that every user it knows is gone.
    """
    if before is None:
        if after.active_count:
            return ""
        return (
            "the source lists no active members, and there is no last good "
            "snapshot to compare with; an empty directory is not published "
            "unless accepted"
        )
    old, new = before.active_count, after.active_count
    if old == 0 or new >= old:
        return ""
    drop = (old - new) / old
    if drop <= max_shrink:
        return ""
    return (
        f"active members would drop from {old} to {new} ({drop:.1%} "
        f"fewer; [snapshot] max_shrink allows {max_shrink:.1%})"
    )


def describe(snapshot: Snapshot) -> str:
    """Counts of a snapshot, as the log and the sync command report them."""
    return (
        f"{counted(len(snapshot.members), 'member')} ({snapshot.active_count} "
        f"active), {counted(len(snapshot.groups), 'group')}, "
        f"{counted(len(snapshot.skipped), 'skipped record')}"
    )


def counted(number: int, thing: str) -> str:
    """``1 group``, ``2 groups``."""
    return f"{number} {thing}" if number == 1 else f"{number} {thing}s"


def describe_skipped(skipped: Iterable[SkippedRecord]) -> list[str]:
    """One line per skipped record, for the sync command's report."""
    return [f"skipped {describe_record(s)}" for s in skipped]


def describe_record(skipped: SkippedRecord) -> str:
    """``member id: reason`` with control characters escaped: both come from
    the platform, and a newline in them would forge a line of the report."""
    return f"{printable(skipped.member_id)}: {printable(skipped.reason)}"
