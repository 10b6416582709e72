"""``ldapbridge sync``: one refresh from the command line, and its report."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.directory.kit import bridge_config, nexudus_source
from tests.directory.platforms import NexudusSim, nexudus_coworker
from tests.directory.simulators import serving


@pytest.fixture
def sim() -> Iterator[NexudusSim]:
    """Nexudus with 20 active coworkers."""
    yield from serving(NexudusSim([nexudus_coworker(n) for n in range(20)]))


def sync(
    tmp_path: Path, sim: NexudusSim, *args: str
) -> subprocess.CompletedProcess[str]:
    config_path = tmp_path / "bridge.conf"
    text = bridge_config(nexudus_source(sim, max_retries="0"))
    config_path.write_text(text, encoding="utf-8")
    command = [sys.executable, "-m", "ldapbridge.service.cli", "sync"]
    return subprocess.run(
        [*command, "--config", str(config_path), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


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
