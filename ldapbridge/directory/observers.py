"""What refresh code reports as it runs, for metrics, health checks and
progress on a terminal.

The refresh lives in this layer; the metrics that count its outcomes, and the
``sync`` command that shows how far a fetch has got, live in the service
layer.  Refresh code takes a RefreshObserver or a FetchProgress and calls it,
so it never needs to know about Prometheus or terminals.
"""

from __future__ import annotations

from typing import Protocol


class RefreshObserver(Protocol):
    """Told how each refresh of the member directory ended."""

    def refresh_succeeded(self, duration_s: float) -> None:
        """A new snapshot was built and is now served."""
        ...

    def refresh_failed(self, duration_s: float) -> None:
        """The source could not produce members; the old snapshot stays."""
        ...

    def refresh_refused(self, duration_s: float) -> None:
        """The shrink guard refused the new snapshot; the old one stays."""
        ...

    def source_error(self, status: str) -> None:
        """One request to the source failed.

        ``status`` is the HTTP status code ("429", "500"), or one of "timeout",
        "connection", "invalid" (a response that could not be read).
        """
        ...


class Unobserved:
    """The observer of a refresh nobody watches."""

    def refresh_succeeded(self, duration_s: float) -> None:
        pass

    def refresh_failed(self, duration_s: float) -> None:
        pass

    def refresh_refused(self, duration_s: float) -> None:
        pass

    def source_error(self, status: str) -> None:
        pass


class FetchProgress(Protocol):
    """Told how far a source has got in reading a platform's listings."""

    def page_read(self, listing: str, pages: int, records: int) -> None:
        """One more page of ``listing`` (members, companies...) was read.

        ``pages`` and ``records`` count from the start of that listing.
        """
        ...


class NoProgress:
    """The progress of a fetch nobody watches."""

    def page_read(self, listing: str, pages: int, records: int) -> None:
        pass
