"""Prometheus metrics, scraped over HTTP from a real server after real traffic."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import ldap3
import pytest
import requests
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from ldapbridge.service.metrics import Metrics
from tests.service.helpers import (
    metrics_config,
    metrics_url,
    scrape,
    scrape_until,
    value,
)
from tests.support import (
    BASE_DN,
    SERVICE_DN,
    SERVICE_PASSWORD,
    RunningServer,
    ldap_tool,
    running_server,
)

OPS = "ldapbridge_ldap_operations_total"
BINDS = "ldapbridge_ldap_binds_total"
ENTRIES = "ldapbridge_ldap_entries_returned_total"
CONNECTIONS = "ldapbridge_ldap_connections_total"
OPEN = "ldapbridge_ldap_connections_open"
SEARCH_SECONDS = "ldapbridge_ldap_operation_duration_seconds_count"
ACTIVE_DEMO_MEMBERS = 46
DEMO_GROUPS = 12


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    workdir = tmp_path_factory.mktemp("metrics-server")
    with running_server(metrics_config(), workdir) as running:
        yield running


@pytest.fixture(scope="module")
def url(server: RunningServer) -> str:
    return metrics_url(server)


def ldapmodify(server: RunningServer, change: str) -> int:
    """Send an LDIF change with the real ldapmodify; return its exit status."""
    result = subprocess.run(
        [
            "ldapmodify",
            "-x",
            "-H",
            server.url,
            "-D",
            SERVICE_DN,
            "-w",
            SERVICE_PASSWORD,
        ],
        input=change,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return result.returncode


def unbinds(samples: dict) -> float:
    return value(samples, OPS, operation="unbind", result="0")


def search_as_service(server: RunningServer, *args: str) -> str:
    result = ldap_tool(
        "ldapsearch", server, "-D", SERVICE_DN, "-w", SERVICE_PASSWORD, *args
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


class TestOperationMetrics:
    def test_service_search_counts_bind_search_unbind_and_entries(
        self, server: RunningServer, url: str
    ) -> None:
        """One ldapsearch as PaperCut moves each counter by exactly its share."""
        before = scrape(url)

        search_as_service(server, "-b", BASE_DN, "(objectClass=posixAccount)", "uid")
        after = scrape_until(url, lambda s: unbinds(s) == unbinds(before) + 1)

        def moved(name: str, **labels: str) -> float:
            return value(after, name, **labels) - value(before, name, **labels)

        assert moved(OPS, operation="bind", result="0") == 1
        assert moved(OPS, operation="search", result="0") == 1
        assert moved(OPS, operation="unbind", result="0") == 1
        assert moved(BINDS, outcome="service") == 1
        assert moved(ENTRIES) == ACTIVE_DEMO_MEMBERS
        assert moved(CONNECTIONS) == 1
        assert moved(SEARCH_SECONDS, operation="search") == 1

    def test_paged_search_counts_each_page_as_an_operation(
        self, server: RunningServer, url: str
    ) -> None:
        """Five pages of ten carry 46 members: five searches, 46 entries."""
        before = scrape(url)

        search_as_service(
            server, "-b", BASE_DN, "-E", "pr=10/noprompt", "(objectClass=posixAccount)"
        )
        after = scrape_until(url, lambda s: unbinds(s) == unbinds(before) + 1)

        searches = value(after, OPS, operation="search", result="0")
        assert searches - value(before, OPS, operation="search", result="0") == 5
        assert value(after, ENTRIES) - value(before, ENTRIES) == ACTIVE_DEMO_MEMBERS

    def test_wrong_password_counts_as_result_49(
        self, server: RunningServer, url: str
    ) -> None:
        """A refused bind is counted under result 49 and outcome wrong_password."""
        before = scrape(url)

        result = ldap_tool("ldapwhoami", server, "-D", SERVICE_DN, "-w", "not-it")
        assert result.returncode == 49
        after = scrape_until(
            url,
            lambda s: (
                value(s, BINDS, outcome="wrong_password")
                == value(before, BINDS, outcome="wrong_password") + 1
            ),
        )

        refused = value(after, OPS, operation="bind", result="49")
        assert refused - value(before, OPS, operation="bind", result="49") == 1
        assert value(after, BINDS, outcome="service") == value(
            before, BINDS, outcome="service"
        )

    def test_modify_counts_as_result_53(self, server: RunningServer, url: str) -> None:
        """A refused write is counted under its operation and result 53."""
        before = scrape(url)
        change = f"dn: {SERVICE_DN}\nchangetype: modify\nreplace: cn\ncn: x\n"

        assert ldapmodify(server, change) == 53
        after = scrape_until(url, lambda s: unbinds(s) >= unbinds(before) + 1)

        modified = value(after, OPS, operation="modify", result="53")
        assert modified - value(before, OPS, operation="modify", result="53") == 1

    def test_open_connections_follow_a_client(
        self, server: RunningServer, url: str
    ) -> None:
        """The open-connections gauge counts a held connection, then drops it."""
        baseline = value(scrape(url), OPEN)

        connection = ldap3.Connection(
            ldap3.Server(server.host, port=server.port),
            SERVICE_DN,
            SERVICE_PASSWORD,
            auto_bind=True,
        )
        held = scrape_until(url, lambda s: value(s, OPEN) == baseline + 1)
        connection.unbind()
        released = scrape_until(url, lambda s: value(s, OPEN) == baseline)

        assert value(held, OPEN) == baseline + 1
        assert value(released, OPEN) == baseline


class TestSnapshotMetrics:
    def test_snapshot_size_is_the_demo_directory(self, url: str) -> None:
        """The snapshot gauges give the demo's 46 active members and 12 groups."""
        samples = scrape(url)

        assert value(samples, "ldapbridge_snapshot_members") == ACTIVE_DEMO_MEMBERS
        assert value(samples, "ldapbridge_snapshot_groups") == DEMO_GROUPS

    def test_snapshot_age_is_time_since_it_was_built(self, url: str) -> None:
        """The age gauge equals now minus the build timestamp, to scrape precision."""
        samples = scrape(url)
        built = value(samples, "ldapbridge_snapshot_built_timestamp_seconds")
        age = value(samples, "ldapbridge_snapshot_age_seconds")

        assert 0 <= age < 600
        assert abs((time.time() - built) - age) < 5

    def test_start_up_refresh_is_counted(self, url: str) -> None:
        """The refresh at start counts once as a success; the others exist at 0."""
        samples = scrape(url)

        assert value(samples, "ldapbridge_refreshes_total", outcome="success") == 1
        for outcome in ("failure", "refused"):
            assert value(samples, "ldapbridge_refreshes_total", outcome=outcome) == 0

    def test_metrics_page_is_prometheus_text(self, url: str) -> None:
        """/metrics answers 200 in Prometheus' text format."""
        response = requests.get(f"{url}/metrics", timeout=10)

        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")


def exported(metrics: Metrics) -> dict[tuple[str, frozenset], float]:
    text = generate_latest(metrics.registry).decode("utf-8")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


class TestRefreshMetricsApi:
    def test_each_outcome_moves_its_own_counter(self) -> None:
        """Two successes, a failure and a refusal are counted apart."""
        metrics = Metrics(clock=lambda: 1000.0)

        metrics.refresh_succeeded(2.0)
        metrics.refresh_succeeded(3.0)
        metrics.refresh_failed(1.0)
        metrics.refresh_refused(4.0)
        samples = exported(metrics)

        assert value(samples, "ldapbridge_refreshes_total", outcome="success") == 2
        assert value(samples, "ldapbridge_refreshes_total", outcome="failure") == 1
        assert value(samples, "ldapbridge_refreshes_total", outcome="refused") == 1
        assert (
            value(samples, "ldapbridge_refresh_duration_seconds_sum", outcome="success")
            == 5.0
        )
        assert (
            value(samples, "ldapbridge_last_successful_refresh_timestamp_seconds")
            == 1000.0
        )

    def test_source_errors_are_counted_by_status(self) -> None:
        """Source request errors are counted under their status label."""
        metrics = Metrics()

        metrics.source_error("429")
        metrics.source_error("429")
        metrics.source_error("timeout")
        samples = exported(metrics)

        errors = "ldapbridge_source_request_errors_total"
        assert value(samples, errors, status="429") == 2
        assert value(samples, errors, status="timeout") == 1

    def test_two_services_keep_separate_registries(self) -> None:
        """Counts in one Metrics object never show in another's registry."""
        first, second = Metrics(), Metrics()

        first.refresh_failed(1.0)

        failures = "ldapbridge_refreshes_total"
        assert value(exported(first), failures, outcome="failure") == 1
        assert value(exported(second), failures, outcome="failure") == 0
