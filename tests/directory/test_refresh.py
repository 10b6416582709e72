"""Refreshes: merging changes, the shrink guard, failures, the file on disk."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from ldapbridge import config
from ldapbridge.directory.filesource import CsvFileSource
from ldapbridge.directory.httpclient import HttpClient
from ldapbridge.directory.httpsource import HttpSource
from ldapbridge.directory.refresh import Refresher
from ldapbridge.directory.store import SnapshotStore
from tests.directory.kit import (
    FakeTime,
    bridge_config,
    by_username,
    http_source,
    load,
    nexudus_source,
)
from tests.directory.platforms import NexudusSim, nexudus_coworker
from tests.directory.simulators import serving

START = dt.datetime(2026, 12, 1, tzinfo=dt.UTC).timestamp()
COWORKERS = "/api/spaces/coworkers"


@pytest.fixture
def sim() -> Iterator[NexudusSim]:
    """Nexudus with 50 active coworkers."""
    yield from serving(NexudusSim([nexudus_coworker(n) for n in range(50)]))


def settings_for(tmp_path: Path, sim: NexudusSim, **snapshot: str) -> config.Settings:
    keys = {"path": str(tmp_path / "snapshot.json"), **snapshot}
    text = bridge_config(
        nexudus_source(sim, max_retries="1"),
        source__members={"page_size": "20"},
        snapshot=keys,
    )
    return load(tmp_path, text)


def refresher_for(settings: config.Settings, time: FakeTime) -> Refresher:
    store = SnapshotStore(settings.snapshot.path)
    source = http_source(settings)
    return Refresher(source, settings.directory, settings.snapshot, store, time.clock)


def archive(sim: NexudusSim, count: int, updated: str = "2026-12-01T00:02:00Z") -> None:
    for coworker in sim.coworkers[:count]:
        coworker.update(Active=False, Archived=True, UpdatedOn=updated)


class TestRefresh:
    def test_first_refresh_publishes_and_keeps_the_records_on_disk(
        self, tmp_path: Path, sim: NexudusSim
    ) -> None:
        """The first refresh is full, published, and written to the snapshot file."""
        settings = settings_for(tmp_path, sim)
        result = refresher_for(settings, FakeTime(START)).refresh()
        assert (result.outcome, result.full, result.new_snapshot) == (
            "published",
            True,
            True,
        )
        assert result.message == (
            "50 members (50 active), 24 groups, 0 skipped records"
        )
        stored = SnapshotStore(settings.snapshot.path).load()
        assert (len(stored.records), stored.source) == (50, f"nexudus {sim.url}")

    def test_an_unchanged_platform_publishes_nothing_new(
        self, tmp_path: Path, sim: NexudusSim
    ) -> None:
        """A second full refresh with the same data leaves the snapshot in place."""
        settings = settings_for(tmp_path, sim, full_refresh_interval_s="0")
        refresher = refresher_for(settings, FakeTime(START))
        first = refresher.refresh()
        second = refresher.refresh()
        assert (second.outcome, second.new_snapshot) == ("unchanged", False)
        assert second.snapshot is first.snapshot


class TestChangedSince:
    def test_changes_are_merged_into_the_last_snapshot(
        self, tmp_path: Path, sim: NexudusSim
    ) -> None:
        """Five minutes on, only changes are asked for, ten minutes back; a rename
        and two archivings are merged, the other members stay."""
        time = FakeTime(START)
        refresher = refresher_for(settings_for(tmp_path, sim), time)
        refresher.refresh()
        archive(sim, 2)
        sim.coworkers[10].update(
            FullName="Renamed Person", UpdatedOn="2026-12-01T00:03:00Z"
        )
        time.now += 300
        result = refresher.refresh()

        changed = sim.requests_to(COWORKERS)[-1].query
        assert changed["from_Coworker_UpdatedOn"] == "2026-11-30T23:50:00Z"
        assert (result.outcome, result.full) == ("published", False)
        members = by_username(result.snapshot)
        assert len(members) == 48
        assert "coworker00000@example.net" not in members
        assert members["coworker00010@example.net"].full_name == "Renamed Person"

    def test_a_full_refresh_comes_at_least_daily(
        self, tmp_path: Path, sim: NexudusSim
    ) -> None:
        """A day after the last full refresh, everyone is listed again."""
        time = FakeTime(START)
        refresher = refresher_for(settings_for(tmp_path, sim), time)
        refresher.refresh()
        time.now += 86400
        result = refresher.refresh()
        assert result.full is True
        assert "from_Coworker_UpdatedOn" not in sim.requests_to(COWORKERS)[-1].query


class TestShrinkGuard:
    def test_a_shrink_past_max_shrink_is_refused(
        self, tmp_path: Path, sim: NexudusSim
    ) -> None:
        """50 to 44 active (12%) is refused; the old snapshot and file stay."""
        settings = settings_for(tmp_path, sim, full_refresh_interval_s="0")
        refresher = refresher_for(settings, FakeTime(START))
        first = refresher.refresh()
        before = SnapshotStore(settings.snapshot.path).load()
        archive(sim, 6)
        result = refresher.refresh()

        assert (result.outcome, result.new_snapshot) == ("refused", False)
        assert result.message == (
            "active members would drop from 50 to 44 (12.0% fewer; "
            "[snapshot] max_shrink allows 10.0%)"
        )
        assert result.snapshot is first.snapshot
        assert refresher.last_good is first.snapshot
        assert SnapshotStore(settings.snapshot.path).load() == before

    def test_a_shrink_within_max_shrink_is_published(
        self, tmp_path: Path, sim: NexudusSim
    ) -> None:
        """50 to 45 active (exactly 10%) is published."""
        settings = settings_for(tmp_path, sim, full_refresh_interval_s="0")
        refresher = refresher_for(settings, FakeTime(START))
        refresher.refresh()
        archive(sim, 5)
        result = refresher.refresh()
        assert (result.outcome, result.snapshot.active_count) == ("published", 45)

    def test_the_operator_can_accept_a_shrink_once(
        self, tmp_path: Path, sim: NexudusSim
    ) -> None:
        """refresh(accept_shrink=True), as sync --accept-shrink does, publishes it."""
        settings = settings_for(tmp_path, sim, full_refresh_interval_s="0")
        refresher = refresher_for(settings, FakeTime(START))
        refresher.refresh()
        archive(sim, 30)
        assert refresher.refresh().outcome == "refused"
        result = refresher.refresh(accept_shrink=True)
        assert (result.outcome, result.snapshot.active_count) == ("published", 20)

    def test_the_config_switch_accepts_every_shrink(
        self, tmp_path: Path, sim: NexudusSim
    ) -> None:
        """[snapshot] accept_shrink = true lets a shrink through."""
        settings = settings_for(
            tmp_path, sim, full_refresh_interval_s="0", accept_shrink="true"
        )
        refresher = refresher_for(settings, FakeTime(START))
        refresher.refresh()
        archive(sim, 30)
        assert refresher.refresh().snapshot.active_count == 20

    def test_a_failed_fetch_is_refused_and_the_old_snapshot_serves(
        self, tmp_path: Path, sim: NexudusSim
    ) -> None:
        """Platform errors refuse the refresh with the reason; nothing changes."""
        settings = settings_for(tmp_path, sim, full_refresh_interval_s="0")
        refresher = refresher_for(settings, FakeTime(START))
        first = refresher.refresh()
        sim.fail(COWORKERS, status=500, times=2)
        result = refresher.refresh()
        assert (result.outcome, result.snapshot) == ("failed", first.snapshot)
        assert result.message == (
            "the source failed: GET /api/spaces/coworkers: gave up after 2 "
            "attempts; last: HTTP 500"
        )

    def test_an_empty_first_listing_is_refused(
        self, tmp_path: Path, sim: NexudusSim
    ) -> None:
        """With no last good snapshot, a listing with no active member is refused."""
        archive(sim, 50)
        settings = settings_for(tmp_path, sim)
        result = refresher_for(settings, FakeTime(START)).refresh()

        assert (result.outcome, result.snapshot) == ("refused", None)
        assert result.message == (
            "the source lists no active members, and there is no last good "
            "snapshot to compare with; an empty directory is not published "
            "unless accepted"
        )
        assert SnapshotStore(settings.snapshot.path).load() is None

    def test_an_empty_first_listing_can_be_accepted(
        self, tmp_path: Path, sim: NexudusSim
    ) -> None:
        """A new space with no member yet publishes once the operator accepts it."""
        archive(sim, 50)
        settings = settings_for(tmp_path, sim)
        result = refresher_for(settings, FakeTime(START)).refresh(accept_shrink=True)
        assert (result.outcome, result.snapshot.active_count) == ("published", 0)


class TestLastGoodOnDisk:
    def test_a_restart_serves_the_stored_snapshot_while_the_platform_is_down(
        self, tmp_path: Path, sim: NexudusSim
    ) -> None:
        """A new refresher loads the last good snapshot; a failing refresh keeps it."""
        settings = settings_for(tmp_path, sim)
        published = refresher_for(settings, FakeTime(START)).refresh().snapshot
        sim.close()

        restarted = refresher_for(settings, FakeTime(START + 60))
        loaded = restarted.load_stored()
        result = restarted.refresh()
        assert loaded.members == published.members
        assert (result.outcome, result.snapshot) == ("failed", loaded)

    def test_a_stored_snapshot_is_as_old_as_its_file(
        self, tmp_path: Path, sim: NexudusSim
    ) -> None:
        """Loaded after a restart, the snapshot keeps the time it was written."""
        settings = settings_for(tmp_path, sim)
        refresher_for(settings, FakeTime(START)).refresh()
        path = settings.snapshot.path
        document = json.loads(path.read_text(encoding="utf-8"))
        path.write_text(json.dumps({**document, "written_at": START}))

        loaded = refresher_for(settings, FakeTime(START + 3600)).load_stored()
        assert loaded.built_at == START

    def test_a_snapshot_of_another_source_is_not_served(
        self, tmp_path: Path, sim: NexudusSim
    ) -> None:
        """A file written by another source type is ignored at start."""
        settings = settings_for(tmp_path, sim)
        SnapshotStore(settings.snapshot.path).save((), "cobot")
        assert refresher_for(settings, FakeTime(START)).load_stored() is None

    def test_a_snapshot_written_by_sync_is_adopted(
        self, tmp_path: Path, sim: NexudusSim
    ) -> None:
        """After the server refuses a shrink, a sync that accepts it writes the
        file, and the server's next refresh serves what the sync published."""
        settings = settings_for(tmp_path, sim, full_refresh_interval_s="0")
        server = refresher_for(settings, FakeTime(START))
        server.refresh()
        archive(sim, 30)
        assert server.refresh().outcome == "refused"

        sync = refresher_for(settings, FakeTime(START + 10))
        sync.load_stored()
        assert sync.refresh(accept_shrink=True).outcome == "published"
        result = server.refresh()
        assert (result.outcome, result.new_snapshot) == ("unchanged", True)
        assert result.snapshot.active_count == 20


class Recorder:
    """A RefreshObserver that writes down what it is told."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def refresh_succeeded(self, duration_s: float) -> None:
        self.events.append("succeeded")

    def refresh_failed(self, duration_s: float) -> None:
        self.events.append("failed")

    def refresh_refused(self, duration_s: float) -> None:
        self.events.append("refused")

    def source_error(self, status: str) -> None:
        self.events.append(f"source error {status}")


def observed(settings: config.Settings, recorder: Recorder) -> Refresher:
    http = settings.source.http
    assert http is not None
    source = HttpSource(http, HttpClient(http, observer=recorder))
    store = SnapshotStore(settings.snapshot.path)
    return Refresher(
        source, settings.directory, settings.snapshot, store, observer=recorder
    )


class TestObserver:
    def test_each_outcome_and_failed_request_is_reported(
        self, tmp_path: Path, sim: NexudusSim
    ) -> None:
        """Success, a failure after two 500s, and a shrink refusal are reported,
        with each failed request's status, for the metrics."""
        recorder = Recorder()
        refresher = observed(
            settings_for(tmp_path, sim, full_refresh_interval_s="0"), recorder
        )
        refresher.refresh()
        sim.fail(COWORKERS, status=500, times=2)
        refresher.refresh()
        archive(sim, 25)
        refresher.refresh()
        assert recorder.events == [
            "succeeded",
            "source error 500",
            "source error 500",
            "failed",
            "refused",
        ]

    def test_unanswered_and_unreadable_requests_are_labelled(
        self, tmp_path: Path, sim: NexudusSim
    ) -> None:
        """A timeout, a body that is not JSON and a refused connection each have
        their label."""
        recorder = Recorder()
        settings = settings_for(tmp_path, sim, full_refresh_interval_s="0")
        faster = attrs.evolve(settings.source.http.client, read_timeout_s=0.2)
        http = attrs.evolve(settings.source.http, client=faster)
        refresher = observed(
            attrs.evolve(settings, source=attrs.evolve(settings.source, http=http)),
            recorder,
        )
        sim.fail(COWORKERS, delay_s=0.5, passthrough=True)
        sim.fail(COWORKERS, delay_s=0.5, passthrough=True)
        refresher.refresh()
        sim.fail(COWORKERS, status=200, body=b"<html>")
        refresher.refresh()
        sim.close()
        refresher.refresh()
        assert recorder.events == [
            "source error timeout",
            "source error timeout",
            "failed",
            "source error invalid",
            "failed",
            "source error connection",
            "source error connection",
            "failed",
        ]


class TestExportRefresh:
    """An export is listed whole each time; the refresher keeps only a
    fingerprint of it, which must still tell every change."""

    def refresher(self, tmp_path: Path, export: Path) -> Refresher:
        settings = load(
            tmp_path,
            bridge_config(
                {"type": "file", "path": str(export)},
                snapshot={"path": str(tmp_path / "snapshot.json")},
            ),
        )
        store = SnapshotStore(settings.snapshot.path)
        source = CsvFileSource(settings.source)
        return Refresher(source, settings.directory, settings.snapshot, store)

    def test_the_same_export_is_unchanged_and_a_new_pin_is_published(
        self, tmp_path: Path
    ) -> None:
        """A PIN, which no log or repr shows, is a change like any other."""
        export = tmp_path / "members.csv"
        demo = Path(__file__).parents[2] / "demo" / "members.csv"
        export.write_text(demo.read_text(encoding="utf-8"), encoding="utf-8")
        refresher = self.refresher(tmp_path, export)
        assert refresher.refresh().outcome == "published"
        assert refresher.refresh().outcome == "unchanged"

        export.write_text(
            export.read_text(encoding="utf-8").replace(",0042,", ",0043,", 1),
            encoding="utf-8",
        )
        result = refresher.refresh()
        assert (result.outcome, result.new_snapshot) == ("published", True)
        alex = by_username(result.snapshot)["alex.demo@example.com"]
        assert alex.pin == "0043"
        assert refresher.refresh().outcome == "unchanged"
