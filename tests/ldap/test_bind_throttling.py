"""Failed binds over real connections: lockouts per DN and per address."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ldap import wire
from tests.ldap.wire import ALEX_DN, ALEX_PASSWORD, Response
from tests.support import SERVICE_DN, SERVICE_PASSWORD, RunningServer, demo_config
from tests.support import running_server as start

UNKNOWN_DN = "uid=nobody@example.com,ou=people,dc=example,dc=com"
WRONG = "not-the-password-7731"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    """Lockout after 3 failures per DN and 6 per address; no delays."""
    config = demo_config(
        security={
            "failure_delay_s": "0",
            "lockout_failures_per_dn": "3",
            "lockout_failures_per_address": "6",
            "lockout_s": "600",
        }
    )
    with start(config, tmp_path) as running:
        yield running


def bind(server: RunningServer, dn: str, password: str) -> int | None:
    """The result code of one simple bind on a fresh connection."""
    answer = wire.exchange(server, wire.bind_request(1, dn, password), 1)
    assert [r.message_id for r in answer] == [1]
    return answer[0].code


def bind_message(server: RunningServer, dn: str, password: str) -> str:
    """The diagnostic message of a bind, as ldapwhoami prints it."""
    done = subprocess.run(
        ["ldapwhoami", "-x", "-H", server.url, "-D", dn, "-w", password],
        capture_output=True,
        text=True,
        timeout=30,
    )
    return done.stderr


class TestDnLockout:
    def test_right_password_is_refused_during_a_lockout(
        self, server: RunningServer
    ) -> None:
        """After three wrong passwords, even the right one gets 49."""
        assert [bind(server, ALEX_DN, WRONG) for _ in range(3)] == [49, 49, 49]
        assert bind(server, ALEX_DN, ALEX_PASSWORD) == 49

    def test_locked_out_dn_answers_like_an_unknown_dn(
        self, server: RunningServer
    ) -> None:
        """A locked DN with its right password reads as an unknown DN: no oracle."""
        assert [bind(server, ALEX_DN, WRONG) for _ in range(3)] == [49, 49, 49]
        locked = bind_message(server, ALEX_DN, ALEX_PASSWORD)
        unknown = bind_message(server, UNKNOWN_DN, WRONG)
        assert (
            locked
            == unknown
            == (
                "ldap_bind: Invalid credentials (49)\n"
                "\tadditional info: invalid credentials\n"
            )
        )

    def test_log_names_dn_peer_and_reason_but_never_the_password(
        self, server: RunningServer
    ) -> None:
        """The lockout is logged with reason=locked_out; no password, no length."""
        for _ in range(3):
            bind(server, ALEX_DN, WRONG)
        bind(server, ALEX_DN, ALEX_PASSWORD)
        log = server.log()
        locked = [line for line in log.splitlines() if "reason=locked_out" in line]
        assert len(locked) == 1
        assert f"dn='{ALEX_DN}'" in locked[0]
        assert "peer=127.0.0.1:" in locked[0]
        assert "result=49" in locked[0]
        assert f"bind lockout: dn={ALEX_DN.lower()} after 3 failed binds" in log
        assert WRONG not in log and ALEX_PASSWORD not in log
        assert f"={len(WRONG)} " not in log.replace("ms=", "")


class TestAddressLockout:
    def test_other_dns_from_the_same_address_keep_working(
        self, server: RunningServer
    ) -> None:
        """A locked member does not stop the service account on the same address."""
        for _ in range(3):
            bind(server, ALEX_DN, WRONG)
        assert bind(server, SERVICE_DN, SERVICE_PASSWORD) == 0

    def test_address_is_locked_out_at_its_higher_threshold(
        self, server: RunningServer
    ) -> None:
        """Six failures over different DNs lock the address for every member,
        but not for PaperCut's service account, locked by its own DN only."""
        for n in range(5):
            assert (
                bind(
                    server,
                    f"uid=guess{n}@example.com,ou=people,dc=example,dc=com",
                    WRONG,
                )
                == 49
            )
        assert bind(server, ALEX_DN, ALEX_PASSWORD) == 0
        assert bind(server, UNKNOWN_DN, WRONG) == 49
        assert bind(server, ALEX_DN, ALEX_PASSWORD) == 49
        assert bind(server, SERVICE_DN, SERVICE_PASSWORD) == 0
        assert "bind lockout: address=127.0.0.1 after 6 failed binds" in server.log()

    def test_service_account_is_still_locked_by_its_own_failures(
        self, server: RunningServer
    ) -> None:
        """Three wrong service passwords lock the service DN itself."""
        for _ in range(3):
            assert bind(server, SERVICE_DN, WRONG) == 49
        assert bind(server, SERVICE_DN, SERVICE_PASSWORD) == 49

    def test_successful_binds_do_not_count(self, server: RunningServer) -> None:
        """Many good binds from one address never lock anything."""
        answers = [bind(server, SERVICE_DN, SERVICE_PASSWORD) for _ in range(10)]
        assert answers == [0] * 10


class TestBindAnswers:
    def test_anonymous_and_empty_password_binds_are_not_throttled(
        self, server: RunningServer
    ) -> None:
        """Anonymous binds (0) and empty passwords (53) are no password failures."""
        answers = [bind(server, "", "") for _ in range(4)]
        answers += [bind(server, ALEX_DN, "") for _ in range(4)]
        assert answers == [0] * 4 + [53] * 4
        assert bind(server, ALEX_DN, ALEX_PASSWORD) == 0

    def test_response_to_a_locked_bind_is_invalid_credentials(
        self, server: RunningServer
    ) -> None:
        """The locked-out answer is the wrong-password answer, message included."""
        with wire.connect(server) as sock:
            sock.sendall(wire.bind_request(1, ALEX_DN, WRONG))
            first = sock.recv(4096)
        for _ in range(2):
            bind(server, ALEX_DN, WRONG)
        with wire.connect(server) as sock:
            sock.sendall(wire.bind_request(1, ALEX_DN, ALEX_PASSWORD))
            locked = sock.recv(4096)
        assert locked == first
        assert wire.parse_responses(locked) == [Response(1, 0x61, 49)]
