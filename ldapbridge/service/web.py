"""The optional HTTP listener: Prometheus metrics and a health check.

``/metrics`` is prometheus_client's own Twisted resource over the bridge's
private registry.  ``/healthz`` answers 200 while the directory served is
younger than ``[metrics] max_snapshot_age_s``, else 503, with a short JSON
reason, so a load balancer or monitor can tell a stale directory from a
live one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from twisted.web import resource, server

from ldapbridge.service.metrics import Metrics


def health(metrics: Metrics, max_age_s: float) -> tuple[int, dict[str, Any]]:
    """The HTTP status and JSON body of a health check."""
    age_s = metrics.snapshot_age_s()
    snapshot = metrics.snapshot
    if age_s is None or snapshot is None:
        return 503, {"status": "unavailable", "reason": "no directory loaded yet"}

    body: dict[str, Any] = {
        "snapshot_age_s": round(age_s, 1),
        "max_snapshot_age_s": max_age_s,
        "members": len(snapshot.members),
        "groups": len(snapshot.groups),
    }
    if age_s > max_age_s:
        reason = (
            f"the directory served is {age_s:.0f} s old, "
            f"older than max_snapshot_age_s ({max_age_s} s)"
        )
        return 503, {"status": "stale", "reason": reason, **body}
    return 200, {"status": "ok", **body}


class HealthResource(resource.Resource):
    """``GET /healthz``: 200 or 503 with a JSON reason."""

    isLeaf = True  # noqa: N815 (twisted.web reads this name)

    def __init__(self, metrics: Metrics, max_age_s: Callable[[], float]) -> None:
        super().__init__()
        self.metrics = metrics
        # A callable, so that a reload's new limit applies at once.
        self.max_age_s = max_age_s

    def render_GET(self, request: Any) -> bytes:
        code, body = health(self.metrics, self.max_age_s())
        request.setResponseCode(code)
        request.setHeader(b"content-type", b"application/json")
        request.setHeader(b"cache-control", b"no-store")
        return json.dumps(body).encode("utf-8") + b"\n"

    def render_HEAD(self, request: Any) -> bytes:
        """The status and headers of GET; no body, so twisted logs no warning."""
        body = self.render_GET(request)
        request.setHeader(b"content-length", b"%d" % len(body))
        return b""


class QuietSite(server.Site):
    """A Site that writes no access log line per request.

    Prometheus scrapes every few seconds; their lines would drown the LDAP
    operation lines that operators read.
    """

    noisy = False

    def log(self, request: Any) -> None:
        pass


def make_site(metrics: Metrics, max_age_s: Callable[[], float]) -> QuietSite:
    """The HTTP site serving /metrics and /healthz."""
    # Imported here: prometheus_client.twisted installs the default reactor
    # on import, which only the serving process may do.
    from prometheus_client.twisted import MetricsResource

    root = resource.Resource()
    root.putChild(b"metrics", MetricsResource(registry=metrics.registry))
    root.putChild(b"healthz", HealthResource(metrics, max_age_s))
    return QuietSite(root)
