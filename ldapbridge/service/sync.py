"""``ldapbridge sync``: one refresh from the command line, with its counts.

It reads and writes the same snapshot file as the server, which adopts the
file at its next refresh; so ``sync --accept-shrink`` is how an operator lets
a refused shrink through.
"""

from __future__ import annotations

from typing import TextIO

from ldapbridge.config import Settings
from ldapbridge.directory.refresh import RefreshResult, describe_skipped
from ldapbridge.service.app import make_refresher, make_source
from ldapbridge.service.logs import start_logging


def run_sync(settings: Settings, accept_shrink: bool, out: TextIO) -> int:
    """Refresh once and report; 0 when the directory was kept, else 1."""
    import sys

    start_logging(settings.logging, sys.stderr)
    source = make_source(settings)
    refresher = make_refresher(settings, source)
    before = refresher.load_stored()
    result = refresher.refresh(accept_shrink=accept_shrink)

    print(
        f"source: {source.name} ({'full' if result.full else 'changes only'})", file=out
    )
    if before is not None:
        print(f"before: {_counts(before.active_count, len(before.members))}", file=out)
    _report(result, out)
    where = settings.snapshot.path or "(not kept: [snapshot] path is empty)"
    if result.outcome == "published":
        print(f"snapshot: {where}", file=out)
    return 0 if result.accepted else 1


def _report(result: RefreshResult, out: TextIO) -> None:
    snapshot = result.snapshot
    if not result.accepted or snapshot is None:
        print(f"{result.outcome}: {result.message}", file=out)
        if result.outcome == "refused":
            print("rerun with --accept-shrink to publish it anyway", file=out)
        return

    print(
        f"{result.outcome}: {_counts(snapshot.active_count, len(snapshot.members))}, "
        f"{len(snapshot.groups)} groups, {len(snapshot.skipped)} records skipped",
        file=out,
    )
    for line in describe_skipped(snapshot.skipped):
        print(f"  {line}", file=out)


def _counts(active: int, members: int) -> str:
    return f"{members} members ({active} active)"
