"""Random and mutated LDAP messages, sent to a real server over sockets.

Used by tests/ldap/test_fuzz.py (a bounded, repeatable run) and by
scripts/fuzz.py (a longer random run).  After each batch the server must
still answer a normal bind and search correctly.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ldapbridge.ldap import ber
from tests.ldap import wire
from tests.support import BASE_DN, SERVICE_DN, SERVICE_PASSWORD, RunningServer

ATTRIBUTES = ["uid", "cn", "mail", "objectClass", "member", "memberUid", "*", "+"]
DNS = [BASE_DN, "", SERVICE_DN, wire.ALEX_DN, "ou=groups," + BASE_DN, "cn=x,o=else"]
OIDS = [wire.START_TLS, "1.3.6.1.4.1.4203.1.11.3", "1.3.6.1.4.1.4203.1.11.1", "9.9"]

texts = st.one_of(st.sampled_from(ATTRIBUTES + DNS), st.text(max_size=20))
small_ints = st.one_of(st.integers(-3, 300), st.integers(-(2**40), 2**40))


@attrs.frozen
class Batch:
    """What one example sends: bytes, after an optional service bind."""

    bound: bool
    payload: bytes


# -- valid building blocks ---------------------------------------------------


def filters(depth: int = 3) -> st.SearchStrategy[bytes]:
    leaves = st.one_of(
        texts.map(lambda a: ber.octets(a, tag=0x87)),
        st.tuples(st.sampled_from([0xA3, 0xA5, 0xA6, 0xA8]), texts, texts).map(
            lambda t: ber.tlv(t[0], ber.octets(t[1]) + ber.octets(t[2]))
        ),
        st.tuples(texts, texts).map(
            lambda t: ber.tlv(
                0xA4, ber.octets(t[0]) + ber.tlv(0x30, ber.octets(t[1], tag=0x81))
            )
        ),
        st.tuples(texts, texts).map(
            lambda t: ber.tlv(
                0xA9, ber.octets(t[0], tag=0x81) + ber.octets(t[1], tag=0x83)
            )
        ),
    )
    if depth == 0:
        return leaves
    inner = filters(depth - 1)
    return st.one_of(
        leaves,
        st.lists(inner, max_size=4).map(lambda items: ber.tlv(0xA0, b"".join(items))),
        st.lists(inner, max_size=4).map(lambda items: ber.tlv(0xA1, b"".join(items))),
        inner.map(lambda item: ber.tlv(0xA2, item)),
    )


def paged_control(size: int, cookie: bytes) -> bytes:
    value = ber.tlv(ber.SEQUENCE, ber.integer(size) + ber.octets(cookie))
    return ber.tlv(ber.CONTROLS, ber.control("1.2.840.113556.1.4.319", value))


@st.composite
def searches(draw: Any) -> bytes:
    body = (
        ber.octets(draw(texts))
        + ber.integer(draw(st.integers(0, 3)), tag=0x0A)
        + ber.integer(draw(st.integers(0, 3)), tag=0x0A)
        + ber.integer(draw(st.integers(0, 1000)))
        + ber.integer(draw(st.integers(0, 100)))
        + draw(st.sampled_from([b"\x01\x01\x00", b"\x01\x01\xff"]))
        + draw(filters())
        + ber.tlv(
            0x30, b"".join(ber.octets(a) for a in draw(st.lists(texts, max_size=6)))
        )
    )
    controls = b""
    if draw(st.booleans()):
        controls = paged_control(draw(st.integers(0, 50)), draw(st.binary(max_size=16)))
    return ber.message(
        draw(small_ints.filter(lambda n: n >= 0)), ber.tlv(0x63, body), controls
    )


@st.composite
def other_requests(draw: Any) -> bytes:
    message_id = draw(st.integers(0, 2**31 - 1))
    kind = draw(st.sampled_from(["bind", "compare", "extended", "abandon", "write"]))
    if kind == "bind":
        return wire.bind_request(message_id, draw(texts), draw(texts))
    if kind == "compare":
        ava = ber.tlv(0x30, ber.octets(draw(texts)) + ber.octets(draw(texts)))
        return ber.message(message_id, ber.tlv(0x6E, ber.octets(draw(texts)) + ava))
    if kind == "extended":
        value = draw(st.one_of(st.none(), st.binary(max_size=30)))
        return wire.extended_request(message_id, draw(st.sampled_from(OIDS)), value)
    if kind == "abandon":
        return wire.abandon_request(message_id, draw(st.integers(0, 300)))
    return ber.message(message_id, ber.tlv(0x4A, draw(texts).encode()))  # delete


valid_messages = st.one_of(searches(), other_requests())


# -- mutations ---------------------------------------------------------------


@st.composite
def mutated(draw: Any) -> bytes:
    data = bytearray(draw(valid_messages))
    for _ in range(draw(st.integers(1, 4))):
        how = draw(st.sampled_from(["flip", "truncate", "insert", "length", "splice"]))
        position = draw(st.integers(0, max(0, len(data) - 1)))
        if how == "flip" and data:
            data[position] ^= draw(st.integers(1, 255))
        elif how == "truncate":
            del data[position:]
        elif how == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=8))
        elif how == "length" and len(data) > 1:
            data[1:2] = draw(
                st.sampled_from([b"\x84\x7f\xff\xff\xff", b"\x80", b"\xff"])
            )
        elif how == "splice":
            data[position:position] = draw(valid_messages)
    return bytes(data)


payload_parts = st.one_of(valid_messages, mutated(), st.binary(min_size=1, max_size=64))
batches = st.builds(
    Batch,
    bound=st.booleans(),
    payload=st.lists(payload_parts, min_size=1, max_size=5).map(b"".join),
)


# -- running -----------------------------------------------------------------


def send(server: RunningServer, batch: Batch) -> None:
    """Send one batch on a fresh connection, then close our side."""
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        if batch.bound:
            sock.sendall(wire.bind_request(1, SERVICE_DN, SERVICE_PASSWORD))
            wire.read_responses(sock, 1)
        try:
            sock.sendall(batch.payload)
            sock.shutdown(socket.SHUT_WR)
            wire.read_until_closed(sock)
        except OSError:
            pass  # the server may close first: that is allowed


def check(server: RunningServer) -> None:
    """The server is alive and a normal client still gets the right answer."""
    assert server.process.poll() is None, server.log()[-3000:]
    assert wire.service_search_answers(server)


def fuzz_run(
    server: RunningServer, max_examples: int, derandomize: bool
) -> Callable[[], None]:
    """A hypothesis-driven run of ``max_examples`` batches against ``server``."""

    @settings(
        max_examples=max_examples,
        derandomize=derandomize,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(batches)
    def run(batch: Batch) -> None:
        send(server, batch)
        check(server)

    return run
