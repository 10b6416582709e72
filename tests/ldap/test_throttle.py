"""Failed-bind throttling, driven by a fake clock."""

from __future__ import annotations

import pytest
from twisted.internet.task import Clock

from ldapbridge.config import SecuritySettings
from ldapbridge.ldap import throttle
from ldapbridge.ldap.throttle import BindThrottle

SETTINGS = SecuritySettings(
    failure_delay_s=1.0,
    max_failure_delay_s=8.0,
    lockout_failures_per_dn=5,
    lockout_failures_per_address=20,
    failure_window_s=600.0,
    lockout_s=900.0,
)
ALEX = "uid=alex,ou=people,dc=example,dc=com"
SARA = "uid=sara,ou=people,dc=example,dc=com"
NAT = "192.0.2.7"


def make(settings: SecuritySettings = SETTINGS) -> tuple[BindThrottle, Clock]:
    clock = Clock()
    clock.advance(1_000_000)
    return BindThrottle(settings, clock), clock


class TestDelay:
    def test_delay_doubles_with_each_failure_up_to_the_maximum(self) -> None:
        """Failures 1 to 4 wait 1, 2, 4 and 8 s; the cap holds it at 8."""
        bind_throttle, _ = make(
            SecuritySettings(lockout_failures_per_dn=0, lockout_failures_per_address=0)
        )
        delays = [bind_throttle.failed(ALEX, NAT) for _ in range(6)]
        assert delays == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]

    def test_address_failures_delay_other_dns(self) -> None:
        """A second DN failing from the same address waits as its address's third."""
        bind_throttle, _ = make()
        bind_throttle.failed(ALEX, NAT)
        bind_throttle.failed(ALEX, NAT)
        assert bind_throttle.failed(SARA, NAT) == 4.0

    def test_zero_base_delay_turns_delays_off(self) -> None:
        """failure_delay_s = 0 answers failures at once."""
        bind_throttle, _ = make(SecuritySettings(failure_delay_s=0))
        assert [bind_throttle.failed(ALEX, NAT) for _ in range(3)] == [0.0] * 3

    def test_locked_out_binds_wait_the_longest_delay(self) -> None:
        """Refusals during a lockout wait as long as the worst failure."""
        bind_throttle, _ = make()
        assert bind_throttle.lockout_delay_s() == 8.0
        no_delays, _ = make(SecuritySettings(failure_delay_s=0))
        assert no_delays.lockout_delay_s() == 0.0

    def test_failures_older_than_the_window_are_forgotten(self) -> None:
        """After the window, the delay starts again from the base."""
        bind_throttle, clock = make()
        for _ in range(3):
            bind_throttle.failed(ALEX, NAT)
        clock.advance(601)
        assert bind_throttle.failed(ALEX, NAT) == 1.0


class TestLockout:
    def test_dn_is_locked_out_at_its_threshold(self) -> None:
        """The fifth failure of a DN locks it; the fourth does not."""
        bind_throttle, _ = make()
        for _ in range(4):
            bind_throttle.failed(ALEX, NAT)
        assert bind_throttle.locked_out(ALEX, "198.51.100.1") is False
        assert bind_throttle.failed(ALEX, NAT) == 8.0
        assert bind_throttle.locked_out(ALEX, "198.51.100.1") is True

    def test_lockout_ends_after_lockout_s(self) -> None:
        """A locked DN may bind again once the lockout has passed."""
        bind_throttle, clock = make()
        for _ in range(5):
            bind_throttle.failed(ALEX, NAT)
        clock.advance(899)
        assert bind_throttle.locked_out(ALEX, NAT) is True
        clock.advance(2)
        assert bind_throttle.locked_out(ALEX, NAT) is False

    def test_other_dns_behind_the_same_address_keep_working(self) -> None:
        """A locked DN does not lock out other users of its address."""
        bind_throttle, _ = make()
        for _ in range(5):
            bind_throttle.failed(ALEX, NAT)
        assert bind_throttle.locked_out(SARA, NAT) is False

    def test_address_is_locked_out_at_its_higher_threshold(self) -> None:
        """Twenty failures over many DNs lock the address, nineteen do not."""
        bind_throttle, _ = make()
        for n in range(19):
            bind_throttle.failed(f"uid=user{n},dc=example,dc=com", NAT)
        assert bind_throttle.locked_out(SARA, NAT) is False
        bind_throttle.failed("uid=user19,dc=example,dc=com", NAT)
        assert bind_throttle.locked_out(SARA, NAT) is True
        assert bind_throttle.locked_out(SARA, "198.51.100.1") is False

    def test_success_clears_the_dn_but_not_the_address(self) -> None:
        """A good bind resets its DN's count; the address keeps counting."""
        bind_throttle, _ = make()
        for _ in range(4):
            bind_throttle.failed(ALEX, NAT)
        bind_throttle.succeeded(ALEX)
        assert bind_throttle.failed(ALEX, NAT) == 8.0  # the address's fifth
        assert bind_throttle.locked_out(ALEX, NAT) is False

    def test_zero_thresholds_turn_lockouts_off(self) -> None:
        """With both thresholds 0, no number of failures locks anything."""
        bind_throttle, _ = make(
            SecuritySettings(lockout_failures_per_dn=0, lockout_failures_per_address=0)
        )
        for _ in range(100):
            bind_throttle.failed(ALEX, NAT)
        assert bind_throttle.locked_out(ALEX, NAT) is False

    def test_tracked_keys_are_bounded(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Made-up DNs cannot grow the records past MAX_TRACKED."""
        monkeypatch.setattr(throttle, "MAX_TRACKED", 50)
        bind_throttle, _ = make()
        for n in range(500):
            bind_throttle.failed(f"uid=random{n},dc=example,dc=com", f"10.0.{n}.1")
        assert len(bind_throttle.dns.records) == 50
        assert len(bind_throttle.addresses.records) == 50
