"""The refresh timer: a refresh every interval, in the reactor's thread pool.

Searches never wait on the platform (DESIGN.md, data flow): the refresh and
the preparation of what it publishes (the LDAP tree) run in a worker thread,
and only the final hand-over runs on the reactor, as one assignment.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from twisted.application import service
from twisted.internet import defer, task, threads
from twisted.logger import Logger
from twisted.python.failure import Failure

from ldapbridge.directory.model import Snapshot
from ldapbridge.directory.ratelimit import Pause
from ldapbridge.directory.refresh import Refresher

log = Logger(namespace="ldapbridge.directory")

T = TypeVar("T")


class RefreshService(service.Service, Generic[T]):
    """Refresh every ``interval_s``; ``prepare`` each new snapshot off the
    reactor, then ``install`` the prepared value on it."""

    def __init__(
        self,
        reactor: Any,
        refresher: Refresher,
        interval_s: float,
        prepare: Callable[[Snapshot], T],
        install: Callable[[T], None],
        run_now: bool = False,
        pause: Pause | None = None,
    ) -> None:
        self.reactor = reactor
        self.refresher = refresher
        self.interval_s = interval_s
        self.prepare = prepare
        self.install = install
        self.run_now = run_now
        self.pause = pause
        self._loop: task.LoopingCall | None = None
        self._running: defer.Deferred[list[T]] | None = None

    def startService(self) -> None:
        super().startService()
        self._loop = task.LoopingCall(self._tick)
        self._loop.clock = self.reactor
        done = self._loop.start(self.interval_s, now=self.run_now)
        done.addErrback(self._crashed)

    def _tick(self) -> defer.Deferred[list[T]]:
        pool = self.reactor.getThreadPool()
        d = threads.deferToThreadPool(self.reactor, pool, self._work)
        d.addCallback(self._hand_over)
        # A crash must not stop the timer: the next tick tries again.
        d.addErrback(self._crashed)
        self._running = d
        return d

    def _work(self) -> list[T]:
        """In a worker thread: refresh, and prepare the new snapshot if any."""
        result = self.refresher.refresh()
        if result.new_snapshot and result.snapshot is not None:
            return [self.prepare(result.snapshot)]
        return []

    def _hand_over(self, prepared: list[T]) -> None:
        for value in prepared:
            self.install(value)

    def _crashed(self, failure: Failure) -> None:
        log.failure(
            "the refresh crashed; the last good directory keeps serving", failure
        )

    def stopService(self) -> defer.Deferred[list[T]] | None:
        super().stopService()
        if self.pause is not None:
            # Cut short any retry wait, so shutdown does not wait on it.
            self.pause.stop()
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        running, self._running = self._running, None
        if running is not None and not running.called:
            return running
        return None
