"""Hostile input closes that connection only; everyone else is still served."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ldapbridge.ldap import ber, framing
from tests import generated
from tests.ldap import wire
from tests.ldap.wire import NOTICE_OF_DISCONNECTION, Response
from tests.support import (
    BASE_DN,
    SERVICE_DN,
    SERVICE_PASSWORD,
    RunningServer,
    demo_config,
)
from tests.support import running_server as start

PROTOCOL_ERROR = 2
INVALID_DN_SYNTAX = 34
BUSY = 51
NOTICE = 0x78


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server with the default limits and a short idle timeout."""
    workdir = tmp_path_factory.mktemp("hostile")
    config = demo_config(
        limits={"idle_timeout_s": "2", "max_outstanding_operations": "4"}
    )
    with start(config, workdir) as running:
        yield running


def notice(code: int) -> Response:
    return Response(0, NOTICE, code, NOTICE_OF_DISCONNECTION)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


class TestOversizedMessages:
    def test_two_gigabyte_length_is_refused_as_soon_as_the_header_arrives(
        self, server: RunningServer
    ) -> None:
        """Six bytes claiming a 2 GiB message bring the notice, with no more sent."""
        with wire.connect(server) as sock:
            sock.sendall(b"\x30\x84\x7f\xff\xff\xff")
            answer = wire.parse_responses(wire.read_until_closed(sock))
        assert answer == [notice(PROTOCOL_ERROR)]
        assert wire.service_search_answers(server)

    def test_message_over_one_mebibyte_is_refused(self, server: RunningServer) -> None:
        """A message of 1 MiB and one byte is over the default limit."""
        content_length = 1024 * 1024 + 1 - 6
        with wire.connect(server) as sock:
            sock.sendall(b"\x30\x84" + content_length.to_bytes(4, "big"))
            answer = wire.parse_responses(wire.read_until_closed(sock))
        assert answer == [notice(PROTOCOL_ERROR)]
        assert "is over the limit of 1048576" in server.log()

    def test_memory_stays_bounded_under_a_flood_of_oversized_messages(
        self, server: RunningServer
    ) -> None:
        """Twenty clients pushing 4 MiB each behind absurd headers grow RSS < 40 MiB."""
        before = rss_kib(server.process.pid)
        junk = b"\x00" * (4 * 1024 * 1024)

        def flood() -> None:
            # The server closes the connection mid-send: as intended.
            with wire.connect(server) as sock, contextlib.suppress(OSError):
                sock.sendall(b"\x30\x84\x7f\xff\xff\xff" + junk)

        threads = [threading.Thread(target=flood) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert wire.service_search_answers(server)
        assert rss_kib(server.process.pid) - before < 40 * 1024


class TestMalformedMessages:
    def test_inner_length_overrunning_the_message_closes_the_connection(
        self, server: RunningServer
    ) -> None:
        """An element longer than its container gets the protocolError notice."""
        answer = wire.exchange(server, b"\x30\x05\x02\x01\x01\x63\x10")
        assert answer == [notice(PROTOCOL_ERROR)]
        assert wire.service_search_answers(server)

    def test_indefinite_length_closes_the_connection(
        self, server: RunningServer
    ) -> None:
        """BER's indefinite form is not LDAP (RFC 4511 5.1)."""
        answer = wire.exchange(server, b"\x30\x80\x02\x01\x01\x00\x00")
        assert answer == [notice(PROTOCOL_ERROR)]

    def test_bytes_that_are_not_ldap_close_the_connection(
        self, server: RunningServer
    ) -> None:
        """An HTTP request sent to the LDAP port gets the notice."""
        answer = wire.exchange(server, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert answer == [notice(PROTOCOL_ERROR)]

    def test_well_framed_garbage_closes_the_connection(
        self, server: RunningServer
    ) -> None:
        """A frame ldaptor cannot decode as an LDAPMessage gets the notice."""
        answer = wire.exchange(server, ber.tlv(0x30, ber.octets("nonsense")))
        assert answer == [notice(PROTOCOL_ERROR)]

    def test_the_notice_names_no_internal_error(self, server: RunningServer) -> None:
        """The client reads "undecodable message"; the decoder's error is logged."""
        with wire.connect(server) as sock:
            sock.sendall(ber.tlv(0x30, ber.octets("nonsense")))
            raw = wire.read_until_closed(sock)

        assert b"undecodable message" in raw
        assert b"Error" not in raw
        assert "closing connection: undecodable message (" in server.log()

    def test_response_sent_by_a_client_closes_the_connection(
        self, server: RunningServer
    ) -> None:
        """A BindResponse is not a request."""
        payload = ber.message(1, ber.result(0x61, 0))
        assert wire.exchange(server, payload) == [notice(PROTOCOL_ERROR)]
        assert "not an LDAP request" in server.log()

    def test_requests_before_the_bad_message_are_answered(
        self, server: RunningServer
    ) -> None:
        """A root DSE search then garbage: the search is answered, then the notice."""
        payload = wire.search_request(1, base="", scope=0) + b"\x30\x80"
        answer = wire.exchange(server, payload)
        assert answer == [
            Response(1, 0x64, None),
            Response(1, 0x65, 0),
            notice(PROTOCOL_ERROR),
        ]


class TestTruncatedMessages:
    def test_client_closing_mid_message_leaves_the_server_serving(
        self, server: RunningServer
    ) -> None:
        """Half a search, then a close: nothing is answered, others still are."""
        message = wire.search_request(1)
        answer = wire.half_close_exchange(server, message[: len(message) // 2])
        assert answer == []
        assert wire.service_search_answers(server)

    def test_client_stalling_mid_message_is_closed_when_idle(
        self, server: RunningServer
    ) -> None:
        """Half a search, then silence: the idle timeout closes the connection."""
        message = wire.search_request(1)
        with wire.connect(server, timeout_s=30) as sock:
            sock.sendall(message[: len(message) // 2])
            assert wire.read_until_closed(sock) == b""
        assert "closing idle connection" in server.log()


class TestDeepFilters:
    def test_filter_nested_100000_levels_closes_the_connection(
        self, server: RunningServer
    ) -> None:
        """The notice comes from the raw-byte check; ldaptor never recurses."""
        payload = wire.search_request(7, ldap_filter=wire.nested_not_filter(100_000))
        assert len(payload) < 1024 * 1024
        assert wire.exchange(server, payload) == [notice(PROTOCOL_ERROR)]
        assert "nested deeper than 100 levels" in server.log()
        assert wire.service_search_answers(server)

    def test_filter_nested_80_levels_gets_protocol_error(
        self, server: RunningServer
    ) -> None:
        """Past the filter limit of 64 but within framing: a protocolError result."""
        payload = wire.search_request(7, ldap_filter=wire.nested_not_filter(80))
        answer = wire.exchange(server, payload, results=1)
        assert answer == [Response(7, 0x65, PROTOCOL_ERROR)]


class TestHugeAttributeLists:
    def test_search_asking_for_100000_attributes_closes_the_connection(
        self, server: RunningServer
    ) -> None:
        """Too many elements in one message: the notice, before any decoding."""
        payload = wire.search_request(3, attributes=["cn"] * 100_000)
        assert wire.exchange(server, payload) == [notice(PROTOCOL_ERROR)]
        assert "more than 20000 elements" in server.log()
        assert wire.service_search_answers(server)

    def test_search_asking_for_200_attributes_is_answered(
        self, server: RunningServer
    ) -> None:
        """A long but reasonable attribute list is fine."""
        search = wire.search_request(
            2,
            ldap_filter=wire.equality_filter("uid", "alex.demo@example.com"),
            attributes=[f"attr{n}" for n in range(199)] + ["mail"],
        )
        answer = wire.service_exchange(server, search, results=1)
        assert answer == [
            Response(2, 0x64, None),
            Response(2, 0x65, 0),
        ]


class TestHugeDistinguishedNames:
    def test_binds_with_mebibyte_dns_are_refused_and_kept_nowhere(
        self, server: RunningServer
    ) -> None:
        """Thirty binds with DNs of a million characters get 34, RSS grows < 40 MiB."""
        before = rss_kib(server.process.pid)

        answers = []
        with wire.connect(server, timeout_s=60) as sock:
            for n in range(30):
                huge = f"uid={n:02d}{'a' * 1_000_000},ou=people,{BASE_DN}"
                sock.sendall(wire.bind_request(n + 1, huge, "wrong"))
                answers.extend(wire.read_responses(sock, 1))

        assert answers == [Response(n + 1, 0x61, INVALID_DN_SYNTAX) for n in range(30)]
        assert rss_kib(server.process.pid) - before < 40 * 1024
        assert wire.service_search_answers(server)


class TestCostlyMemberFilters:
    def test_member_filter_is_tested_on_their_own_entry_only(
        self, tmp_path: Path
    ) -> None:
        """A member's 1,500-item filter over 5,000 members is answered at once."""
        members_csv = tmp_path / "members.csv"
        generated.write_csv(members_csv)
        member = generated.member(generated.LOGIN_MEMBER)
        own_dn = f"uid={member.username},ou=people,{BASE_DN}"
        items = [substring_filter("cn", "q", "z", "x") for _ in range(1500)]
        costly = ber.tlv(
            0xA1, b"".join(items) + wire.equality_filter("uid", member.username)
        )

        with (
            start(demo_config(members_csv), tmp_path / "run") as running,
            wire.connect(running, timeout_s=60) as sock,
        ):
            sock.sendall(wire.bind_request(1, own_dn, member.password))
            bound = wire.read_responses(sock, 1)
            started = time.monotonic()
            sock.sendall(wire.search_request(2, ldap_filter=costly))
            answer = wire.read_responses(sock, 1)
            elapsed_s = time.monotonic() - started

        assert bound == [Response(1, 0x61, 0)]
        assert answer == [Response(2, 0x64, None), Response(2, 0x65, 0)]
        # Tested on all 5,000 entries, this filter holds the server for
        # about 15 s; on the member's own entry alone, a few milliseconds.
        assert elapsed_s < 3


def substring_filter(attribute: str, *middles: str) -> bytes:
    """(attribute=*m1*m2*...*)."""
    parts = b"".join(ber.octets(m, tag=0x81) for m in middles)
    return ber.tlv(0xA4, ber.octets(attribute) + ber.tlv(0x30, parts))


class TestOutstandingOperations:
    def test_operations_past_the_cap_get_busy(self, server: RunningServer) -> None:
        """Ten pipelined binds with a cap of 4: four answered 0, six busy (51)."""
        payload = b"".join(
            wire.bind_request(n, wire.ALEX_DN, wire.ALEX_PASSWORD) for n in range(1, 11)
        )
        answer = wire.exchange(server, payload, results=10)
        codes = sorted((r.message_id, r.code) for r in answer)
        assert codes == [(n, 0) for n in range(1, 5)] + [
            (n, BUSY) for n in range(5, 11)
        ]

    def test_pipelined_binds_are_answered_in_order(self, server: RunningServer) -> None:
        """A bind waits for the earlier ones (RFC 4511 4.2.1): the last one counts."""
        with wire.connect(server) as sock:
            sock.sendall(
                wire.bind_request(1, SERVICE_DN, SERVICE_PASSWORD)
                + wire.bind_request(2, wire.ALEX_DN, "wrong")
                + wire.bind_request(3, SERVICE_DN, SERVICE_PASSWORD)
            )
            binds = wire.read_responses(sock, 3)
            sock.sendall(wire.search_request(4, base="ou=groups,dc=example,dc=com"))
            search = wire.read_responses(sock, 1)
        assert [(r.message_id, r.code) for r in binds] == [(1, 0), (2, 49), (3, 0)]
        assert search[-1] == Response(4, 0x65, 0)
        assert len(search) > 5  # the service account sees every group


class TestAbandon:
    def test_abandon_gets_no_response_and_the_connection_goes_on(
        self, server: RunningServer
    ) -> None:
        """Abandon is answered by nothing; the next search is answered."""
        with wire.connect(server) as sock:
            sock.sendall(wire.bind_request(1, SERVICE_DN, SERVICE_PASSWORD))
            assert wire.read_responses(sock, 1) == [Response(1, 0x61, 0)]
            sock.sendall(
                wire.abandon_request(2, 1)
                + wire.search_request(
                    3, ldap_filter=wire.equality_filter("uid", "alex.demo@example.com")
                )
            )
            answer = wire.read_responses(sock, 1)
        assert answer == [Response(3, 0x64, None), Response(3, 0x65, 0)]


class TestConnectionLimit:
    def test_connection_over_the_limit_gets_busy_notice(self, tmp_path: Path) -> None:
        """With max_connections 3, a fourth client gets notice busy (51)."""
        config = demo_config(limits={"max_connections": "3"})
        with start(config, tmp_path) as running:
            socks = [
                socket.create_connection((running.host, running.port), 10)
                for _ in range(3)
            ]
            try:
                for sock in socks:  # each one is accepted and answered
                    sock.sendall(wire.search_request(1, base="", scope=0))
                    assert wire.read_responses(sock, 1)[-1].code == 0
                with wire.connect(running) as fourth:
                    answer = wire.parse_responses(wire.read_until_closed(fourth))
                assert answer == [notice(BUSY)]
            finally:
                for sock in socks:
                    sock.close()
            assert wire.service_search_answers(running)


class TestLogInjection:
    def test_newline_in_a_filter_cannot_forge_a_log_line(
        self, server: RunningServer
    ) -> None:
        """Control characters in a filter are escaped in the summary line."""
        forged = "x\n2026-01-01T00:00:00+0000 [ldapbridge.ldap#info] FORGED"
        payload = wire.search_request(5, ldap_filter=wire.equality_filter("cn", forged))
        assert wire.exchange(server, payload, 1) == [Response(5, 0x65, 50)]
        lines = server.log().splitlines()
        assert not any(line.startswith("2026-01-01") for line in lines)
        assert any("filter=(cn=x\\x0a2026-01-01" in line for line in lines)

    def test_a_huge_filter_is_logged_cut_short(self, server: RunningServer) -> None:
        """A megabyte filter from an anonymous client adds one short log line."""
        huge = "b" * 1_000_000
        payload = wire.search_request(6, ldap_filter=wire.equality_filter("cn", huge))
        assert wire.exchange(server, payload, 1) == [Response(6, 0x65, 50)]
        # Other tests on this module's server send msgid 6 too.
        lines = server.log().splitlines()
        (line,) = [x for x in lines if "msgid=6 " in x and "filter=(cn=b" in x]
        assert "filter=(cn=" + "b" * 508 + "...(999493 more characters)" in line
        assert len(line) < 1500


class TestSlowReaders:
    def test_client_that_does_not_read_cannot_grow_server_memory(
        self, server: RunningServer
    ) -> None:
        """Unread replies to 2500 whole-tree searches stay out of server memory."""
        count = 2500
        with wire.connect(server, timeout_s=60) as sock:
            sock.sendall(wire.bind_request(1, SERVICE_DN, SERVICE_PASSWORD))
            assert wire.read_responses(sock, 1) == [Response(1, 0x61, 0)]
            sock.sendall(wire.search_request(2))
            reply_bytes = len(b"".join(_raw_replies(sock, 1)))
            assert count * reply_bytes > 90 * 1024 * 1024  # what buffering would cost

            before = rss_kib(server.process.pid)
            sock.sendall(b"".join(wire.search_request(n) for n in range(count)))
            assert wire.service_search_answers(server)  # others are still served
            grown = max(rss_kib(server.process.pid) - before for _ in range(20))
            answered = sum(1 for _ in _raw_replies(sock, count))
        assert grown < 30 * 1024
        assert answered == count


def _raw_replies(sock: socket.socket, count: int) -> Iterator[bytes]:
    """The bytes of each search's replies, up to its SearchResultDone."""
    data = b""
    position = start = 0
    done = 0
    while done < count:
        head = framing.header(data, position)
        if head is None or len(data) < position + head[1] + head[2]:
            chunk = sock.recv(1 << 20)
            assert chunk, "connection closed"
            data, position, start = data[start:] + chunk, position - start, 0
            continue
        message_id_end = position + head[1]
        position = message_id_end + head[2]
        _, id_header, id_length = framing.header(data, message_id_end) or (0, 0, 0)
        if data[message_id_end + id_header + id_length] == 0x65:
            yield data[start:position]
            start = position
            done += 1
