"""Throttling of failed binds, per bind DN and per client address.

Each failed bind is answered after a delay that doubles with the recent
failures of its DN or its address, whichever has more; enough failures in
the window lock the DN or the address out for a while.  A locked-out bind is
refused like a wrong password, without checking the password, so the answer
tells nothing.  Successful binds are never delayed.  The per-address limit
is set higher than the per-DN one: PaperCut makes every member bind from its
own address, as do members behind one NAT.

Time comes from an injected IReactorTime, so tests drive it with a Clock.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from typing import Any

import attrs
from twisted.internet import task
from twisted.logger import Logger

from ldapbridge.config import SecuritySettings

log = Logger(namespace="ldapbridge.ldap")

# Records kept per kind (DN, address); the least recently used go first, so
# a flood of made-up DNs cannot grow memory without bound.
MAX_TRACKED = 100_000


@attrs.define
class _Record:
    failures: deque[float] = attrs.field(factory=deque)
    locked_until: float = 0.0


class _Tracker:
    """Recent failures and lockouts of one kind of key."""

    def __init__(self, kind: str, threshold: int, settings: SecuritySettings):
        self.kind = kind
        self.threshold = threshold
        self.settings = settings
        self.records: OrderedDict[str, _Record] = OrderedDict()

    def locked(self, key: str, now: float) -> bool:
        record = self.records.get(key)
        return record is not None and record.locked_until > now

    def failures(self, key: str, now: float) -> int:
        record = self.records.get(key)
        if record is None:
            return 0
        self._forget_old(record, now)
        return len(record.failures)

    def fail(self, key: str, now: float) -> None:
        """Count a failure; start a lockout when the threshold is reached."""
        record = self.records.pop(key, None) or _Record()
        self.records[key] = record
        while len(self.records) > MAX_TRACKED:
            self.records.popitem(last=False)

        self._forget_old(record, now)
        record.failures.append(now)
        if self.threshold and len(record.failures) >= self.threshold:
            record.failures.clear()
            record.locked_until = now + self.settings.lockout_s
            log.warn(
                "bind lockout: {kind}={key} after {count} failed binds, "
                "for {seconds:g} s",
                kind=self.kind,
                key=key,
                count=self.threshold,
                seconds=self.settings.lockout_s,
            )

    def clear(self, key: str) -> None:
        self.records.pop(key, None)

    def _forget_old(self, record: _Record, now: float) -> None:
        horizon = now - self.settings.failure_window_s
        while record.failures and record.failures[0] <= horizon:
            record.failures.popleft()


class BindThrottle:
    """Failed-bind bookkeeping for one server; keys are normalised DNs and
    client addresses (host only)."""

    def __init__(self, settings: SecuritySettings, clock: Any) -> None:
        self.settings = settings
        self.clock = clock
        self.dns = _Tracker("dn", settings.lockout_failures_per_dn, settings)
        self.addresses = _Tracker(
            "address", settings.lockout_failures_per_address, settings
        )

    def locked_out(self, dn: str, address: str, by_address: bool = True) -> bool:
        """Whether binds to ``dn`` from ``address`` are locked out now;
        ``by_address`` False looks at the DN's own failures only."""
        now = self.clock.seconds()
        if self.dns.locked(dn, now):
            return True
        return by_address and self.addresses.locked(address, now)

    def failed(self, dn: str, address: str) -> float:
        """Count a failed bind; return how long to wait before answering it."""
        now = self.clock.seconds()
        self.dns.fail(dn, now)
        self.addresses.fail(address, now)
        if self.locked_out(dn, address):
            return self.lockout_delay_s()
        return self.delay_s(dn, address)

    def succeeded(self, dn: str) -> None:
        """Forget a DN's failures.  The address keeps its count, so an
        attacker with one valid account cannot reset it."""
        self.dns.clear(dn)

    def delay_s(self, dn: str, address: str) -> float:
        """The delay before answering a failed bind: doubling per failure."""
        now = self.clock.seconds()
        count = max(self.dns.failures(dn, now), self.addresses.failures(address, now))
        if count == 0 or self.settings.failure_delay_s == 0:
            return 0.0
        delay = self.settings.failure_delay_s * 2.0 ** min(count - 1, 32)
        return min(delay, self.settings.max_failure_delay_s)

    def lockout_delay_s(self) -> float:
        """The delay before refusing a locked-out bind: the longest one."""
        if self.settings.failure_delay_s == 0:
            return 0.0
        return self.settings.max_failure_delay_s

    def wait(self, seconds: float) -> Any:
        """A Deferred firing after ``seconds`` on the throttle's clock."""
        return task.deferLater(self.clock, seconds, lambda: None)
