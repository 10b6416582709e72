"""Members' passwords checked by their platform: valid, invalid, or no verdict."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from twisted.logger import LogEvent, formatEvent, globalLogPublisher

from ldapbridge import config
from ldapbridge.config import DirectorySettings
from ldapbridge.directory.model import Member, MemberRecord
from ldapbridge.directory.passwords import PasswordCheckUnavailable
from ldapbridge.directory.snapshot import build_snapshot
from ldapbridge.service.app import make_checker
from tests.directory.kit import (
    bridge_config,
    cobot_source,
    http_source,
    load,
    nexudus_source,
    officernd_source,
)
from tests.directory.platforms import CobotSim, NexudusSim, OfficeRnDSim, PlainApiSim

EMAIL = "coworker00001@example.net"
PASSWORD = "member-pw-invented"


def member(email: str = EMAIL) -> Member:
    record = MemberRecord(member_id="3000001", full_name="Coworker One", email=email)
    return build_snapshot([record], DirectorySettings()).members[0]


@contextmanager
def captured_log() -> Iterator[list[str]]:
    lines: list[str] = []

    def observe(event: LogEvent) -> None:
        lines.append(formatEvent(event))

    globalLogPublisher.addObserver(observe)
    try:
        yield lines
    finally:
        globalLogPublisher.removeObserver(observe)


def nexudus_checker(tmp_path: Path, sim: NexudusSim, **keys: str) -> object:
    text = bridge_config(nexudus_source(sim), source__password_check=keys)
    return make_checker(http_source(load(tmp_path, text)))


class TestNexudusPasswordCheck:
    def test_the_members_own_token_request_decides(self, tmp_path: Path) -> None:
        """The right password is valid, a wrong one is not; each is one token
        request with the member's credentials and no admin token."""
        with NexudusSim([], {EMAIL: PASSWORD}) as sim:
            checker = nexudus_checker(tmp_path, sim)
            verdicts = [
                checker.check(member(), PASSWORD),
                checker.check(member(), "no"),
            ]
            requests = sim.requests_to("/api/token")
        assert verdicts == [True, False]
        assert [r.form() for r in requests] == [
            {"grant_type": "password", "username": EMAIL, "password": PASSWORD},
            {"grant_type": "password", "username": EMAIL, "password": "no"},
        ]
        assert [r.headers.get("authorization") for r in requests] == [None, None]

    def test_a_platform_too_slow_to_answer_gives_no_verdict(
        self, tmp_path: Path
    ) -> None:
        """Past timeout_s the check is unavailable, and the log says it timed out."""
        with NexudusSim([], {EMAIL: PASSWORD}) as sim:
            sim.fail("/api/token", delay_s=0.5, passthrough=True)
            checker = nexudus_checker(tmp_path, sim, timeout_s="0.2")
            with captured_log() as lines, pytest.raises(PasswordCheckUnavailable):
                checker.check(member(), PASSWORD)
        assert lines == [
            f"cannot check the password of {EMAIL} with nexudus (POST /api/token): "
            "no answer within 0.2 s"
        ]

    def test_a_platform_that_is_down_gives_no_verdict(self, tmp_path: Path) -> None:
        """A refused connection makes the check unavailable, and the log says so."""
        sim = NexudusSim([], {EMAIL: PASSWORD})
        sim.close()
        checker = nexudus_checker(tmp_path, sim)
        with captured_log() as lines, pytest.raises(PasswordCheckUnavailable):
            checker.check(member(), PASSWORD)
        assert lines == [
            f"cannot check the password of {EMAIL} with nexudus (POST /api/token): "
            "cannot connect (ConnectionError)"
        ]

    def test_a_throttled_check_gives_no_verdict(self, tmp_path: Path) -> None:
        """A 409 is neither valid nor invalid: the check is unavailable."""
        with NexudusSim([], {EMAIL: PASSWORD}) as sim:
            sim.fail("/api/token", status=409, headers={"Retry-After": "5"})
            checker = nexudus_checker(tmp_path, sim)
            with pytest.raises(PasswordCheckUnavailable) as caught:
                checker.check(member(), PASSWORD)
        assert str(caught.value) == "nexudus: it answered HTTP 409"


class TestOtherPasswordChecks:
    def test_officernd_signs_the_member_in(self, tmp_path: Path) -> None:
        """OfficeRnD's sign-in endpoint gets the email and password as JSON."""
        with OfficeRnDSim([], [], {"kwame@example.com": PASSWORD}) as sim:
            settings = load(tmp_path, bridge_config(officernd_source(sim)))
            checker = make_checker(http_source(settings))
            kwame = member("kwame@example.com")
            verdicts = [checker.check(kwame, PASSWORD), checker.check(kwame, "x")]
            bodies = [r.json() for r in sim.requests_to("/auth/signin")]
        assert verdicts == [True, False]
        assert bodies[0] == {"email": "kwame@example.com", "password": PASSWORD}

    def test_a_generic_check_uses_the_configured_fields_and_statuses(
        self, tmp_path: Path
    ) -> None:
        """POST these fields; 204 means valid and 403 invalid, as configured."""
        with PlainApiSim([]) as sim:
            sim.passwords = {"3000001": PASSWORD}
            source = {"type": "http", "base_url": sim.url}
            check = {
                "path": "/login",
                "fields": "login={member_id}&secret={password}",
                "valid_statuses": "204",
                "invalid_statuses": "403",
            }
            text = bridge_config(
                source,
                source__members={"path": "/plain/people"},
                source__fields={"member_id": "id", "email": "mail"},
                source__password_check=check,
            )
            checker = make_checker(http_source(load(tmp_path, text)))
            verdicts = [checker.check(member(), PASSWORD), checker.check(member(), "x")]
            sent = sim.requests_to("/login")[0].form()
        assert verdicts == [True, False]
        assert sent == {"login": "3000001", "secret": PASSWORD}

    def test_without_a_check_members_cannot_bind(self, tmp_path: Path) -> None:
        """Cobot has no password check: every member password is refused."""
        with CobotSim([], []) as sim:
            settings: config.Settings = load(tmp_path, bridge_config(cobot_source(sim)))
            checker = make_checker(http_source(settings))
            assert checker.check(member(), PASSWORD) is False
            assert sim.seen == []
