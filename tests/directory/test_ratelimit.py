"""The client-side rate limit, on a fake clock, alone and against Nexudus."""

from __future__ import annotations

from pathlib import Path

import pytest

from ldapbridge.directory.ratelimit import Pause, RateLimitedError, RateLimiter
from tests.directory.kit import (
    FakeTime,
    bridge_config,
    http_source,
    load,
    nexudus_source,
)
from tests.directory.platforms import NexudusSim, nexudus_coworker


class TestRateLimiter:
    def test_the_121st_request_in_a_minute_waits_for_the_first_to_age(self) -> None:
        """At 120 a minute, 120 requests go at once and the next waits 60 s."""
        time = FakeTime(0.0)
        limiter = RateLimiter(120, 60.0, time.clock, time.sleep)
        waits = [limiter.acquire() for _ in range(121)]
        assert waits == [0.0] * 120 + [60.0]
        assert time.sleeps == [60.0]

    def test_no_window_ever_holds_more_than_the_limit(self) -> None:
        """Over 30 requests at 6 a minute, any 60 s hold at most 6 starts."""
        time = FakeTime(0.0)
        limiter = RateLimiter(6, 60.0, time.clock, time.sleep)
        starts = []
        for _ in range(30):
            limiter.acquire()
            starts.append(time.now)
            time.now += 1.0
        busiest = max(sum(1 for t in starts if s <= t < s + 60) for s in starts)
        assert busiest == 6

    def test_spaced_requests_never_wait(self) -> None:
        """Requests 0.5 s apart at 120 a minute never wait."""
        time = FakeTime(0.0)
        limiter = RateLimiter(120, 60.0, time.clock, time.sleep)
        for _ in range(300):
            limiter.acquire()
            time.now += 0.5
        assert time.sleeps == []

    def test_a_wait_beyond_the_callers_patience_is_refused(self) -> None:
        """A caller that will wait 5 s is refused a slot 60 s away, reserving none."""
        time = FakeTime(0.0)
        limiter = RateLimiter(1, 60.0, time.clock, time.sleep)
        limiter.acquire()
        with pytest.raises(RateLimitedError):
            limiter.acquire(max_wait_s=5.0)
        assert limiter.acquire() == 60.0


class TestPause:
    def test_stopping_ends_a_pause_at_once(self) -> None:
        """A stopped pause no longer sleeps, so shutdown does not wait on retries."""
        pause = Pause()
        pause.stop()
        pause(3600.0)
        assert pause.stopping is True


class TestPlatformRates:
    def test_nexudus_is_never_asked_more_than_120_times_a_minute(
        self, tmp_path: Path
    ) -> None:
        """A token and 130 pages: request 121 waits a minute, the rest go on."""
        time = FakeTime()
        with NexudusSim([nexudus_coworker(n) for n in range(130)]) as sim:
            members = {"page_size": "1"}
            text = bridge_config(nexudus_source(sim), source__members=members)
            fetched = http_source(load(tmp_path, text), time).fetch_all()
            requests = len(sim.seen)
        assert (len(fetched.records), requests, time.sleeps) == (130, 131, [60.0])
