"""A real server on a live platform: refreshes, refusals, restarts, binds.

Each test runs ``ldapbridge serve`` as its own process against a loopback
imitation of Nexudus, and reads the directory with the real ldapsearch and
ldapwhoami tools.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.directory.kit import bridge_config, nexudus_source
from tests.directory.platforms import NexudusSim, nexudus_coworker
from tests.directory.simulators import serving
from tests.service.helpers import metrics_url, scrape, value
from tests.support import (
    DEMO_CSV,
    PEOPLE_DN,
    SERVICE_DN,
    SERVICE_PASSWORD,
    RunningServer,
    demo_config,
    ldap_tool,
    running_server,
    stop,
)

COWORKERS = "/api/spaces/coworkers"
MEMBER_PASSWORD = "member-pw-invented"
FIRST = "coworker00001@example.net"
FIRST_DN = f"uid={FIRST},{PEOPLE_DN}"

# Refresh often, fail fast: the tests wait for refreshes, never for retries.
QUICK = {"refresh_interval_s": "0.2", "full_refresh_interval_s": "0"}


@pytest.fixture
def sim() -> Iterator[NexudusSim]:
    """Nexudus with 50 active coworkers; the first has a print password."""
    coworkers = [nexudus_coworker(n) for n in range(50)]
    yield from serving(NexudusSim(coworkers, {FIRST: MEMBER_PASSWORD}))


def live_config(sim: NexudusSim, **snapshot: str) -> str:
    source = nexudus_source(sim, max_retries="0")
    return bridge_config(source, snapshot={**QUICK, **snapshot})


def people(
    server: RunningServer, search: str = "(objectClass=posixAccount)"
) -> list[str]:
    """The member DNs a paged search by PaperCut's service account returns."""
    found = ldap_tool(
        "ldapsearch",
        server,
        *("-LLL", "-D", SERVICE_DN, "-w", SERVICE_PASSWORD, "-b", PEOPLE_DN),
        *("-E", "pr=1000/noprompt", search, "1.1"),
    )
    assert found.returncode == 0, found.stderr
    return [line[4:] for line in found.stdout.splitlines() if line.startswith("dn: ")]


def wait_for_log(server: RunningServer, text: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while text not in server.log():
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} never logged:\n{server.log()[-3000:]}")
        time.sleep(0.05)


def archive(sim: NexudusSim, count: int) -> None:
    for coworker in sim.coworkers[-count:]:
        coworker.update(Active=False, Archived=True)


class TestLiveDirectory:
    def test_ten_thousand_nexudus_members_are_served(self, tmp_path: Path) -> None:
        """A 10,000-member space is listed whole by a paged search, cards intact."""
        with NexudusSim([nexudus_coworker(n) for n in range(10_000)]) as sim:
            text = bridge_config(nexudus_source(sim))
            with running_server(text, tmp_path) as server:
                listed = people(server)
                by_card = people(server, "(employeeNumber=0000004242)")
        assert len(listed) == 10_000
        assert by_card == [f"uid=coworker04242@example.net,{PEOPLE_DN}"]

    def test_a_failing_platform_leaves_the_old_directory_serving(
        self, tmp_path: Path, sim: NexudusSim
    ) -> None:
        """500s refuse the refresh with a logged reason; all 50 members still serve."""
        with running_server(live_config(sim), tmp_path) as server:
            sim.fail(COWORKERS, status=500, times=1000)
            wait_for_log(
                server,
                "refresh refused: the source failed: GET /api/spaces/coworkers: gave "
                "up after 1 attempt; last: HTTP 500; still serving the last good "
                "snapshot (50 members (50 active), 24 groups, 0 skipped records)",
            )
            assert len(people(server)) == 50

    def test_a_shrink_is_refused_until_the_operator_accepts_it(
        self, tmp_path: Path, sim: NexudusSim
    ) -> None:
        """Half the members gone is refused and the old directory serves; after
        ``ldapbridge sync --accept-shrink`` the server serves the smaller one."""
        with running_server(live_config(sim), tmp_path) as server:
            archive(sim, 25)
            wait_for_log(
                server,
                "refresh refused: active members would drop from 50 to 25 (50.0% "
                "fewer; [snapshot] max_shrink allows 10.0%)",
            )
            wait_for_log(
                server,
                "to accept it, run: ldapbridge sync --accept-shrink --config "
                f"{tmp_path / 'bridge.conf'}",
            )
            assert len(people(server)) == 50

            accepted = sync(tmp_path / "bridge.conf", "--accept-shrink")
            assert accepted.returncode == 0, accepted.stdout + accepted.stderr
            wait_for_log(server, "adopted the snapshot another process wrote")
            wait_for_log(server, "now serving the refreshed directory")
            assert len(people(server)) == 25

    def test_a_restart_during_an_outage_serves_the_last_good_directory(
        self, tmp_path: Path, sim: NexudusSim
    ) -> None:
        """With the platform down, a restarted server serves the stored directory."""
        text = live_config(sim)
        with running_server(text, tmp_path / "first") as server:
            assert len(people(server)) == 50
        sim.close()

        (tmp_path / "first" / "server.log").unlink()
        with running_server(text, tmp_path / "first") as server:
            wait_for_log(server, "serving the last good snapshot from disk")
            wait_for_log(server, "refresh refused: the source failed: cannot obtain")
            assert len(people(server)) == 50


class TestShutdown:
    def test_a_stop_during_a_retry_wait_is_clean(
        self, tmp_path: Path, sim: NexudusSim
    ) -> None:
        """SIGTERM while a refresh waits out a long Retry-After ends the wait and
        the process exits 0."""
        text = bridge_config(nexudus_source(sim), snapshot=QUICK)
        with running_server(text, tmp_path) as server:
            sim.fail(COWORKERS, status=503, headers={"Retry-After": "120"}, times=100)
            wait_for_log(server, "failed (HTTP 503); retry 1 of 4 in 120.00 s")
            code = stop(server.process)
        assert code == 0


class TestExportRefresh:
    def test_a_changed_export_is_served_without_a_restart(self, tmp_path: Path) -> None:
        """A member added to the CSV export appears at the next refresh."""
        export = tmp_path / "members.csv"
        export.write_text(DEMO_CSV.read_text(encoding="utf-8"), encoding="utf-8")
        text = demo_config(export, snapshot=QUICK)
        with running_server(text, tmp_path / "server") as server:
            before = len(people(server))
            with export.open("a", encoding="utf-8") as f:
                f.write("M-9001,New Member,new.member@example.com,,,,,,,Active,\n")
            wait_for_log(server, "now serving the refreshed directory")
            found = people(server, "(uid=new.member@example.com)")
            after = len(people(server))
        assert found == [f"uid=new.member@example.com,{PEOPLE_DN}"]
        assert after == before + 1


class TestSwitchingSources:
    def test_a_new_export_is_not_held_back_by_the_old_ones_snapshot(
        self, tmp_path: Path
    ) -> None:
        """After the demo, a two-member export is served; the demo's snapshot
        (another file) is neither served nor used for the shrink guard."""
        workdir = tmp_path / "server"
        with running_server(demo_config(), workdir) as server:
            assert len(people(server)) == 46
        real = tmp_path / "real.csv"
        real.write_text(
            "Member ID,Full Name,Email,Status\n"
            "R-1,Real One,one@example.org,Active\n"
            "R-2,Real Two,two@example.org,Active\n",
            encoding="utf-8",
        )

        with running_server(demo_config(real), workdir) as server:
            served = people(server)
            log = server.log()

        assert served == [
            f"uid=one@example.org,{PEOPLE_DN}",
            f"uid=two@example.org,{PEOPLE_DN}",
        ]
        assert f"ignoring the stored snapshot: it came from file {DEMO_CSV}" in log
        assert "refresh refused" not in log


class TestLiveBinds:
    def test_member_passwords_are_checked_by_the_platform(
        self, tmp_path: Path, sim: NexudusSim
    ) -> None:
        """The right password binds, a wrong one gets 49, and with the platform
        down the bind gets 52 and the log says why."""
        with running_server(live_config(sim), tmp_path) as server:
            right = whoami(server, MEMBER_PASSWORD)
            wrong = whoami(server, "not-the-password")
            sim.close()
            down = whoami(server, MEMBER_PASSWORD)
            wait_for_log(
                server,
                f"cannot check the password of {FIRST} with nexudus (POST /api/token): "
                "cannot connect (ConnectionError)",
            )
        assert (right.returncode, right.stdout.strip()) == (0, f"dn:{FIRST_DN}")
        assert (wrong.returncode, "Invalid credentials (49)" in wrong.stderr) == (
            49,
            True,
        )
        assert (down.returncode, "Server is unavailable (52)" in down.stderr) == (
            52,
            True,
        )


def whoami(server: RunningServer, password: str) -> subprocess.CompletedProcess[str]:
    return ldap_tool("ldapwhoami", server, "-D", FIRST_DN, "-w", password)


def sync(config_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "ldapbridge.service.cli", "sync"]
    return subprocess.run(
        [*command, "--config", str(config_path), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


class TestMetricsOfPlatformTrouble:
    def test_refused_credentials_and_a_shrink_show_in_metrics_and_health(
        self, tmp_path: Path, sim: NexudusSim
    ) -> None:
        """Scraped over HTTP from a running server: a 401 from the platform moves
        the source errors and failed refreshes, a shrink the refused refreshes."""
        text = live_config(sim) + "[metrics]\nbind_address = 127.0.0.1\nport = 0\n"
        with running_server(text, tmp_path) as server:
            url = metrics_url(server)
            sim.fail(COWORKERS, status=401, times=1000)
            wait_for_log(server, "refresh refused: the source failed")
            refused_credentials = scrape(url)
            with sim.lock:
                sim.faults.clear()
            archive(sim, 25)
            wait_for_log(server, "refresh refused: active members would drop")
            shrunk = scrape(url)
            health = requests.get(f"{url}/healthz", timeout=10)

        errors = "ldapbridge_source_request_errors_total"
        refreshes = "ldapbridge_refreshes_total"
        assert value(refused_credentials, errors, status="401") >= 1
        assert value(refused_credentials, refreshes, outcome="failure") >= 1
        assert value(refused_credentials, refreshes, outcome="refused") == 0
        assert value(shrunk, refreshes, outcome="refused") >= 1
        assert value(shrunk, "ldapbridge_snapshot_members") == 50
        assert (health.status_code, health.json()["members"]) == (200, 50)
