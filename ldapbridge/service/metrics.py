"""Prometheus metrics of one running bridge.

Each Metrics object has its own CollectorRegistry rather than
prometheus_client's global one, so two services in one process (tests, a
reload) never share or collide on series.  The LDAP server reports through
the OperationObserver methods, refresh code through the RefreshObserver ones.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from ldapbridge.directory.model import Snapshot
from ldapbridge.ldap.server import Operation

# Searches answer in well under a millisecond; a bind hashes for tens of ms.
OPERATION_BUCKETS = (0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)

# A large platform takes minutes to page through at its documented rate.
REFRESH_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)

REFRESH_OUTCOMES = ("success", "failure", "refused")
RELOAD_OUTCOMES = ("success", "failure")


class Metrics:
    """Every metric the bridge exports, and the methods that move them."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.registry = CollectorRegistry()
        self.clock = clock
        self.snapshot: Snapshot | None = None
        self.confirmed_at = 0.0
        self._series: dict[tuple[str, int], tuple[Any, Any]] = {}
        self._ldap_metrics()
        self._snapshot_metrics()
        self._refresh_metrics()

    def _ldap_metrics(self) -> None:
        r = self.registry
        self.operations = Counter(
            "ldapbridge_ldap_operations",
            "LDAP operations answered, by operation and result code.",
            ["operation", "result"],
            registry=r,
        )
        self.operation_seconds = Histogram(
            "ldapbridge_ldap_operation_duration_seconds",
            "Time from reading an LDAP request to its last response.",
            ["operation"],
            buckets=OPERATION_BUCKETS,
            registry=r,
        )
        self.binds = Counter(
            "ldapbridge_ldap_binds",
            "Bind requests by outcome (service, member, anonymous, wrong_password...).",
            ["outcome"],
            registry=r,
        )
        self.connections_open = Gauge(
            "ldapbridge_ldap_connections_open", "LDAP connections open now.", registry=r
        )
        self.connections = Counter(
            "ldapbridge_ldap_connections", "LDAP connections accepted.", registry=r
        )
        self.entries = Counter(
            "ldapbridge_ldap_entries_returned",
            "Entries sent in search results.",
            registry=r,
        )

    def _snapshot_metrics(self) -> None:
        r = self.registry
        self.snapshot_members = Gauge(
            "ldapbridge_snapshot_members",
            "Members in the directory served.",
            registry=r,
        )
        self.snapshot_groups = Gauge(
            "ldapbridge_snapshot_groups", "Groups in the directory served.", registry=r
        )
        self.snapshot_built = Gauge(
            "ldapbridge_snapshot_built_timestamp_seconds",
            "When the members served were read from the source (Unix time).",
            registry=r,
        )
        age = Gauge(
            "ldapbridge_snapshot_age_seconds",
            "Age of the members served; NaN before the first snapshot.",
            registry=r,
        )
        age.set_function(lambda: _or_nan(self.snapshot_age_s()))

    def _refresh_metrics(self) -> None:
        r = self.registry
        self.refreshes = Counter(
            "ldapbridge_refreshes",
            "Refreshes of the member directory by outcome "
            "(success, failure, refused by the shrink guard).",
            ["outcome"],
            registry=r,
        )
        self.refresh_seconds = Histogram(
            "ldapbridge_refresh_duration_seconds",
            "Time a refresh took, by outcome.",
            ["outcome"],
            buckets=REFRESH_BUCKETS,
            registry=r,
        )
        self.last_refresh = Gauge(
            "ldapbridge_last_successful_refresh_timestamp_seconds",
            "When a refresh last succeeded (Unix time); 0 if never.",
            registry=r,
        )
        self.source_errors = Counter(
            "ldapbridge_source_request_errors",
            "Failed requests to the member source, by HTTP status or failure kind.",
            ["status"],
            registry=r,
        )
        self.reloads = Counter(
            "ldapbridge_config_reloads",
            "Config reloads (SIGHUP) by outcome.",
            ["outcome"],
            registry=r,
        )
        # Zero series exist from the start, so rate() and alerts see them.
        for outcome in REFRESH_OUTCOMES:
            self.refreshes.labels(outcome)
        for outcome in RELOAD_OUTCOMES:
            self.reloads.labels(outcome)

    # -- the LDAP server (ldap.server.OperationObserver) -----------------

    def connection_opened(self) -> None:
        self.connections.inc()
        self.connections_open.inc()

    def connection_closed(self) -> None:
        self.connections_open.dec()

    def operation_finished(self, op: Operation, elapsed_s: float) -> None:
        count, seconds = self._operation_series(op.name, op.code)
        count.inc()
        seconds.observe(elapsed_s)
        if op.name == "bind":
            self.binds.labels(op.reason or "unknown").inc()
        if op.entries:
            self.entries.inc(op.entries)

    def _operation_series(self, name: str, code: int) -> tuple[Any, Any]:
        """The counter and histogram of one kind of operation and result,
        looked up once: every LDAP operation counts in them."""
        key = (name, code)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = (
                self.operations.labels(name, str(code)),
                self.operation_seconds.labels(name),
            )
        return series

    # -- the directory being served --------------------------------------

    def snapshot_published(self, snapshot: Snapshot) -> None:
        """Record the snapshot now served (its size and age)."""
        self.snapshot = snapshot
        self.snapshot_members.set(len(snapshot.members))
        self.snapshot_groups.set(len(snapshot.groups))
        self.snapshot_built.set(snapshot.built_at)

    def snapshot_age_s(self) -> float | None:
        """Seconds since the served directory was last known current: built,
        or confirmed by a successful refresh that found nothing new; None
        before the first."""
        if self.snapshot is None:
            return None
        confirmed = max(self.snapshot.built_at, self.confirmed_at)
        return max(0.0, self.clock() - confirmed)

    # -- refreshes (directory.observers.RefreshObserver) -----------------

    def refresh_succeeded(self, duration_s: float) -> None:
        self._refresh("success", duration_s)
        # An unchanged export is as current as a new one (health, age).
        self.confirmed_at = self.clock()
        self.last_refresh.set(self.confirmed_at)

    def refresh_failed(self, duration_s: float) -> None:
        self._refresh("failure", duration_s)

    def refresh_refused(self, duration_s: float) -> None:
        self._refresh("refused", duration_s)

    def _refresh(self, outcome: str, duration_s: float) -> None:
        self.refreshes.labels(outcome).inc()
        self.refresh_seconds.labels(outcome).observe(duration_s)

    def source_error(self, status: str) -> None:
        self.source_errors.labels(str(status)).inc()

    # -- reloads -----------------------------------------------------------

    def reload_succeeded(self) -> None:
        self.reloads.labels("success").inc()

    def reload_failed(self) -> None:
        self.reloads.labels("failure").inc()


def _or_nan(value: float | None) -> float:
    return math.nan if value is None else value
