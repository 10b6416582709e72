"""``ldapbridge sync``: one refresh from the command line, with its counts.

It reads and writes the same snapshot file as the server, which adopts the
file at its next refresh; so ``sync --accept-shrink`` is how an operator lets
a refused shrink through.  On a terminal, it shows how far the fetch has got
(service/progress.py).
"""

from __future__ import annotations

from typing import TextIO

from ldapbridge.config import Settings
from ldapbridge.directory.refresh import RefreshResult, describe, describe_skipped
from ldapbridge.service.app import check_settings, make_refresher, make_source
from ldapbridge.service.logs import start_logging
from ldapbridge.service.progress import ProgressLine


def run_sync(settings: Settings, accept_shrink: bool, out: TextIO, log: TextIO) -> int:
    """Refresh once and report on ``out``; 0 when the directory was kept, else 1.

    Logs go to ``log``, and so does the fetch's progress if ``log`` is a
    terminal.  Raises ConfigError for settings the server would refuse, before
    reading.
    """
    check_settings(settings)
    progress = _start_output(settings, log)
    source = make_source(settings, progress=progress)
    refresher = make_refresher(settings, source)
    before = refresher.load_stored()
    result = refresher.refresh(accept_shrink=accept_shrink)
    if progress is not None:
        progress.end()

    kind = "full" if result.full else "changes only"
    print(f"source: {source.name} ({kind})", file=out)
    if before is not None:
        print(
            f"before: {len(before.members)} members ({before.active_count} active)",
            file=out,
        )
    _report(result, out)
    if result.outcome == "published":
        kept = settings.snapshot.path or "(not kept: [snapshot] path is empty)"
        print(f"snapshot: {kept}", file=out)
    return 0 if result.accepted else 1


def _start_output(settings: Settings, log: TextIO) -> ProgressLine | None:
    """Start logging to ``log``; the progress line too, on a terminal only,
    since in a pipe or a file the carriage returns would be clutter."""
    if not log.isatty():
        start_logging(settings.logging, log)
        return None
    progress = ProgressLine(log)
    start_logging(settings.logging, log, before_each=progress.end)
    return progress


def _report(result: RefreshResult, out: TextIO) -> None:
    snapshot = result.snapshot
    if not result.accepted or snapshot is None:
        print(f"{result.outcome}: {result.message}", file=out)
        if result.outcome == "refused":
            print("rerun with --accept-shrink to publish it anyway", file=out)
        return

    print(f"{result.outcome}: {describe(snapshot)}", file=out)
    for line in describe_skipped(snapshot.skipped):
        print(f"  {line}", file=out)
