"""``ldapbridge sync``: one refresh from the command line, and its report."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.directory.kit import bridge_config, nexudus_source
from tests.directory.platforms import NexudusSim, nexudus_coworker
from tests.directory.simulators import serving
from tests.support import demo_config


@pytest.fixture
def sim() -> Iterator[NexudusSim]:
    """Nexudus with 20 active coworkers."""
    yield from serving(NexudusSim([nexudus_coworker(n) for n in range(20)]))


def sync_command(tmp_path: Path, config_text: str, *args: str) -> list[str]:
    """The command line of ``ldapbridge sync`` over a config of ``config_text``."""
    config_path = tmp_path / "bridge.conf"
    config_path.write_text(config_text, encoding="utf-8")
    command = [sys.executable, "-m", "ldapbridge.service.cli", "sync"]
    return [*command, "--config", str(config_path), *args]


def nexudus_config(sim: NexudusSim) -> str:
    return bridge_config(nexudus_source(sim, max_retries="0"))


def sync(
    tmp_path: Path, sim: NexudusSim, *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        sync_command(tmp_path, nexudus_config(sim), *args),
        capture_output=True,
        text=True,
        timeout=60,
    )


def sync_on_terminal(command: list[str]) -> tuple[int, str, str]:
    """Run ``command`` with standard error on a pseudo-terminal, as in an
    admin's shell; return its exit status, standard output and what the
    terminal received."""
    terminal, child_end = os.openpty()
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=child_end,
            text=True,
        )
    finally:
        os.close(child_end)
    try:
        screen = read_until_closed(terminal, deadline=time.monotonic() + 60)
        out, _ = process.communicate(timeout=60)
    finally:
        process.kill()
        process.wait()
        os.close(terminal)
    return process.returncode, out, screen


def read_until_closed(terminal: int, deadline: float) -> str:
    """Everything written to the terminal until every writer closed it."""
    received = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([terminal], [], [], 0.5)
        if not ready:
            continue
        try:
            chunk = os.read(terminal, 65536)
        except OSError:  # EIO: the last process holding the terminal ended
            break
        if not chunk:
            break
        received += chunk
    # The terminal turns each newline into CR LF, as it shows it.
    return received.decode("utf-8").replace("\r\n", "\n")


class TestSyncCommand:
    def test_sync_publishes_and_prints_the_counts(
        self, tmp_path: Path, sim: NexudusSim
    ) -> None:
        """A first sync reports members, groups and where the snapshot went."""
        done = sync(tmp_path, sim)
        assert (done.returncode, done.stdout.splitlines()) == (
            0,
            [
                "source: nexudus (full)",
                "published: 20 members (20 active), 24 groups, 0 skipped records",
                f"snapshot: {tmp_path / 'ldapbridge-snapshot.json'}",
            ],
        )

    def test_a_second_sync_reports_no_change(
        self, tmp_path: Path, sim: NexudusSim
    ) -> None:
        """Against an unchanged platform, sync says so and compares with before."""
        sync(tmp_path, sim)
        done = sync(tmp_path, sim)
        assert (done.returncode, done.stdout.splitlines()) == (
            0,
            [
                "source: nexudus (full)",
                "before: 20 members (20 active)",
                "unchanged: 20 members (20 active), 24 groups, 0 skipped records",
            ],
        )

    def test_a_shrink_is_refused_unless_accepted(
        self, tmp_path: Path, sim: NexudusSim
    ) -> None:
        """Losing half the members exits 1 with the numbers; --accept-shrink
        publishes the smaller directory."""
        sync(tmp_path, sim)
        for coworker in sim.coworkers[:10]:
            coworker.update(Active=False, Archived=True)

        refused = sync(tmp_path, sim)
        accepted = sync(tmp_path, sim, "--accept-shrink")
        assert (refused.returncode, refused.stdout.splitlines()[2:]) == (
            1,
            [
                "refused: active members would drop from 20 to 10 (50.0% fewer; "
                "[snapshot] max_shrink allows 10.0%)",
                "rerun with --accept-shrink to publish it anyway",
            ],
        )
        assert (accepted.returncode, accepted.stdout.splitlines()[2]) == (
            0,
            "published: 10 members (10 active), 14 groups, 0 skipped records",
        )

    def test_skipped_records_are_listed_with_their_reason(
        self, tmp_path: Path, sim: NexudusSim
    ) -> None:
        """A coworker without email is named with its id and the reason."""
        sim.coworkers[3]["Email"] = None
        done = sync(tmp_path, sim)
        assert done.stdout.splitlines()[1:3] == [
            "published: 19 members (19 active), 23 groups, 1 skipped record",
            "  skipped 3000003: no email address",
        ]

    def test_control_characters_in_a_skipped_record_are_escaped(
        self, tmp_path: Path
    ) -> None:
        """A newline and an escape in a member id are shown as \\x0a and \\x1b
        in the report and the log, so the record cannot forge a line of either."""
        export = tmp_path / "members.csv"
        export.write_text(
            "Member ID,Full Name,Email,Access Card,Second Card,Status,Password Hash\n"
            '"M-4\nWARN forged\x1b[31m",Ann One,,,,Active,\n'
            "M-5,Bob Two,bob@example.com,,,Active,\n",
            encoding="utf-8",
        )

        done = subprocess.run(
            sync_command(tmp_path, demo_config(export)),
            capture_output=True,
            text=True,
            timeout=60,
        )
        escaped = "M-4\\x0aWARN forged\\x1b[31m: no email address"
        assert done.stdout.splitlines()[2] == f"  skipped {escaped}"
        assert f"skipped member record {escaped}\n" in done.stderr
        assert "\x1b" not in done.stdout + done.stderr

    def test_a_corrupt_stored_snapshot_is_reported_once(
        self, tmp_path: Path, sim: NexudusSim
    ) -> None:
        """A snapshot file that is not JSON is logged once, then replaced."""
        stored = tmp_path / "ldapbridge-snapshot.json"
        stored.write_text("{not json", encoding="utf-8")

        done = sync(tmp_path, sim)

        assert done.returncode == 0
        assert done.stderr.count("cannot use the stored snapshot") == 1
        assert f"cannot use the stored snapshot: {stored} is not JSON" in done.stderr
        assert stored.read_text(encoding="utf-8").startswith("{")

    def test_a_failed_sync_exits_1_with_the_reason(
        self, tmp_path: Path, sim: NexudusSim
    ) -> None:
        """With the platform down, sync says the source failed and exits 1."""
        sim.close()
        done = sync(tmp_path, sim)
        assert (done.returncode, done.stdout.splitlines()[1]) == (
            1,
            "failed: the source failed: cannot obtain an access token: POST "
            "/api/token: gave up after 1 attempt; last: cannot connect "
            "(ConnectionError)",
        )


class TestSyncProgress:
    @pytest.fixture
    def big_sim(self) -> Iterator[NexudusSim]:
        """Nexudus with 2,500 coworkers: three pages of up to 1000."""
        yield from serving(NexudusSim([nexudus_coworker(n) for n in range(2500)]))

    def test_a_terminal_sees_each_page_on_one_line(
        self, tmp_path: Path, big_sim: NexudusSim
    ) -> None:
        """On a terminal, the line is rewritten after each of the three pages,
        then ended before the log line and the counts."""
        command = sync_command(tmp_path, nexudus_config(big_sim))
        status, out, screen = sync_on_terminal(command)

        # Not splitlines(): it would split at the carriage returns too.
        lines = screen.split("\n")
        (at,) = [n for n, line in enumerate(lines) if "so far" in line]
        assert lines[at] == (
            "\rmembers: page 1, 1,000 so far"
            "\rmembers: page 2, 2,000 so far"
            "\rmembers: page 3, 2,500 so far"
        )
        assert "refresh (full) published: 2500 members" in lines[at + 1]
        assert (status, out.splitlines()[1]) == (
            0,
            "published: 2500 members (2500 active), 24 groups, 0 skipped records",
        )

    def test_a_pipe_gets_no_progress(self, tmp_path: Path, big_sim: NexudusSim) -> None:
        """With standard error a pipe, it holds the log lines only."""
        done = sync(tmp_path, big_sim)
        assert done.returncode == 0
        assert "\r" not in done.stderr
        assert "so far" not in done.stderr
        assert "refresh (full) published: 2500 members" in done.stderr

    def test_an_export_file_shows_no_progress(self, tmp_path: Path) -> None:
        """A member file is read in one go: even a terminal gets no progress."""
        command = sync_command(tmp_path, demo_config())
        status, out, screen = sync_on_terminal(command)
        assert (status, out.splitlines()[1][:11]) == (0, "published: ")
        assert "so far" not in screen
        assert "\r" not in screen
