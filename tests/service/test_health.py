"""/healthz: 200 while the directory served is fresh enough, 503 otherwise."""

from __future__ import annotations

import time
from pathlib import Path

import attrs
import requests

from ldapbridge.config import DirectorySettings
from ldapbridge.directory.model import MemberRecord, Snapshot
from ldapbridge.directory.snapshot import build_snapshot
from ldapbridge.service.metrics import Metrics
from ldapbridge.service.web import health
from tests.service.helpers import (
    hangup,
    metrics_config,
    metrics_url,
    wait_for_log,
    write_config,
)
from tests.support import RunningServer, running_server


def healthz(url: str) -> requests.Response:
    return requests.get(f"{url}/healthz", timeout=10)


def healthz_until(url: str, status: int, timeout_s: float = 20) -> requests.Response:
    """Ask /healthz until it answers ``status`` (the snapshot ages meanwhile)."""
    deadline = time.monotonic() + timeout_s
    response = healthz(url)
    while response.status_code != status and time.monotonic() < deadline:
        time.sleep(0.1)
        response = healthz(url)
    return response


class TestHealthOverHttp:
    def test_fresh_directory_is_healthy(self, tmp_path: Path) -> None:
        """A just-loaded demo directory answers 200 with its size and limit."""
        with running_server(metrics_config(), tmp_path) as server:
            response = healthz(metrics_url(server))

        body = response.json()
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert body["status"] == "ok"
        assert body["members"] == 46
        assert body["groups"] == 12
        assert body["max_snapshot_age_s"] == 3600
        assert 0 <= body["snapshot_age_s"] < 3600

    def test_head_request_answers_the_status_without_a_log_line(
        self, tmp_path: Path
    ) -> None:
        """A monitor probing with HEAD gets the status and leaves the log quiet."""
        with running_server(metrics_config(), tmp_path) as server:
            url = metrics_url(server)
            probes = [requests.head(f"{url}/healthz", timeout=10) for _ in range(3)]
            healthz(url)
            log = server.log()

        assert [p.status_code for p in probes] == [200, 200, 200]
        assert probes[0].headers["content-type"] == "application/json"
        assert "HEAD request" not in log

    def test_stale_directory_is_unhealthy_until_a_reload(self, tmp_path: Path) -> None:
        """Past max_snapshot_age_s the answer is 503; a reload makes it 200 again."""
        stale = metrics_config(metrics={"max_snapshot_age_s": "1"})
        with running_server(stale, tmp_path) as server:
            url = metrics_url(server)
            unhealthy = healthz_until(url, 503)

            write_config(server, metrics_config())
            hangup(server)
            wait_for_log(server, "reloaded config")
            healthy = healthz(url)

        body = unhealthy.json()
        assert unhealthy.status_code == 503
        assert body["status"] == "stale"
        assert body["reason"].startswith("the directory served is ")
        assert body["reason"].endswith(" s old, older than max_snapshot_age_s (1 s)")
        assert healthy.status_code == 200
        assert healthy.json()["max_snapshot_age_s"] == 3600

    def test_metrics_listener_is_off_unless_configured(
        self, demo_server: RunningServer
    ) -> None:
        """The demo config has no [metrics] port, so nothing else listens."""
        log = wait_for_log(demo_server, "listening for LDAP")

        assert "listening for metrics" not in log


def snapshot(members: int, built_at: float) -> Snapshot:
    """A snapshot of ``members`` members, all in the one all-members group."""
    records = [
        MemberRecord(member_id=f"M-{i}", full_name="A Member", email=f"m{i}@x.org")
        for i in range(members)
    ]
    built = build_snapshot(records, DirectorySettings())
    return attrs.evolve(built, built_at=built_at)


class TestHealthVerdict:
    def test_no_directory_yet_is_unavailable(self) -> None:
        """Before the first snapshot, health is 503 "unavailable"."""
        code, body = health(Metrics(clock=lambda: 100.0), 60)

        assert code == 503
        assert body == {"status": "unavailable", "reason": "no directory loaded yet"}

    def test_directory_at_the_limit_is_still_healthy(self) -> None:
        """A snapshot exactly max_snapshot_age_s old is still served as healthy."""
        metrics = Metrics(clock=lambda: 160.0)
        metrics.snapshot_published(snapshot(3, built_at=100.0))

        code, body = health(metrics, 60)

        assert code == 200
        assert body == {
            "status": "ok",
            "snapshot_age_s": 60.0,
            "max_snapshot_age_s": 60,
            "members": 3,
            "groups": 1,
        }

    def test_directory_past_the_limit_is_stale(self) -> None:
        """One second past the limit, health is 503 with the age in the reason."""
        metrics = Metrics(clock=lambda: 161.0)
        metrics.snapshot_published(snapshot(3, built_at=100.0))

        code, body = health(metrics, 60)

        assert code == 503
        assert body["status"] == "stale"
        assert body["reason"] == (
            "the directory served is 61 s old, older than max_snapshot_age_s (60 s)"
        )

    def test_a_refresh_that_finds_nothing_new_keeps_the_directory_fresh(
        self,
    ) -> None:
        """An unchanged source read successfully counts as current: age 0."""
        now = [161.0]
        metrics = Metrics(clock=lambda: now[0])
        metrics.snapshot_published(snapshot(3, built_at=100.0))
        metrics.refresh_succeeded(0.5)
        now[0] = 170.0

        code, body = health(metrics, 60)

        assert (code, body["status"], body["snapshot_age_s"]) == (200, "ok", 9.0)
