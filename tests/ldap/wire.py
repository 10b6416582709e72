"""Raw LDAP over sockets, for tests that must send what no client would."""

from __future__ import annotations

import re
import socket
import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import attrs
import ldap3

from ldapbridge.ldap import ber, framing
from tests.support import BASE_DN, SERVICE_DN, SERVICE_PASSWORD, RunningServer

LDAPS_LISTENING = re.compile(r"listening for LDAPS on ([\d.]+):(\d+)")
NOTICE_OF_DISCONNECTION = "1.3.6.1.4.1.1466.20036"
START_TLS = "1.3.6.1.4.1.1466.20037"
ALEX_DN = "uid=alex.demo@example.com,ou=people,dc=example,dc=com"
ALEX_PASSWORD = "alex-demo-pw"


# -- encoding requests -----------------------------------------------------


def bind_request(message_id: int, dn: str, password: str) -> bytes:
    body = ber.integer(3) + ber.octets(dn) + ber.octets(password, tag=0x80)
    return ber.message(message_id, ber.tlv(0x60, body))


def search_request(
    message_id: int,
    base: str = BASE_DN,
    ldap_filter: bytes | None = None,
    attributes: Sequence[str] = (),
    scope: int = 2,
) -> bytes:
    if ldap_filter is None:
        ldap_filter = ber.octets("objectClass", tag=0x87)
    body = (
        ber.octets(base)
        + ber.integer(scope, tag=0x0A)
        + ber.integer(0, tag=0x0A)
        + ber.integer(0)
        + ber.integer(0)
        + b"\x01\x01\x00"
        + ldap_filter
        + ber.tlv(0x30, b"".join(ber.octets(a) for a in attributes))
    )
    return ber.message(message_id, ber.tlv(0x63, body))


def equality_filter(attribute: str, value: str) -> bytes:
    return ber.tlv(0xA3, ber.octets(attribute) + ber.octets(value))


def nested_not_filter(depth: int) -> bytes:
    """(!(!(!...(objectClass=*)...))) nested ``depth`` times."""
    node = ber.octets("objectClass", tag=0x87)
    for _ in range(depth):
        node = ber.tlv(0xA2, node)
    return node


def extended_request(message_id: int, oid: str, value: bytes | None = None) -> bytes:
    body = ber.octets(oid, tag=0x80)
    if value is not None:
        body += ber.octets(value, tag=0x81)
    return ber.message(message_id, ber.tlv(0x77, body))


def abandon_request(message_id: int, target: int) -> bytes:
    return ber.message(message_id, ber.integer(target, tag=0x50))


def unbind_request(message_id: int) -> bytes:
    return ber.message(message_id, b"\x42\x00")


# -- decoding responses ----------------------------------------------------


@attrs.frozen
class Response:
    message_id: int
    tag: int
    code: int | None
    response_name: str = ""


def parse_responses(data: bytes) -> list[Response]:
    """The LDAPMessages in ``data``: id, operation tag, result code if any."""
    found = []
    position = 0
    while position < len(data):
        head = framing.header(data, position)
        if head is None:
            break
        _, header_length, length = head
        body = data[position + header_length : position + header_length + length]
        position += header_length + length
        found.append(_response(body))
    return found


def _response(body: bytes) -> Response:
    _, id_header, id_length = framing.header(body) or (0, 0, 0)
    message_id = int.from_bytes(body[id_header : id_header + id_length], "big")
    operation = body[id_header + id_length :]
    tag, op_header, _ = framing.header(operation) or (0, 0, 0)
    if tag in (0x64, 0x73):  # entries and references carry no result
        return Response(message_id, tag, None)
    content = operation[op_header:]
    code = content[2] if content[:1] == b"\x0a" else None
    return Response(message_id, tag, code, _response_name(content))


def _response_name(content: bytes) -> str:
    """The responseName [10] of an ExtendedResponse, if present."""
    position = 0
    while position < len(content):
        tag, header_length, length = framing.header(content, position) or (0, 0, 0)
        value = content[position + header_length : position + header_length + length]
        if tag == 0x8A:
            return value.decode()
        position += header_length + length
    return ""


# -- talking ---------------------------------------------------------------


@contextmanager
def connect(server: RunningServer, timeout_s: float = 10) -> Iterator[socket.socket]:
    sock = socket.create_connection((server.host, server.port), timeout=timeout_s)
    try:
        yield sock
    finally:
        sock.close()


def read_until_closed(sock: socket.socket, limit: int = 1 << 24) -> bytes:
    """Everything the server sends until it closes the connection."""
    data = b""
    while len(data) < limit:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


def read_responses(sock: socket.socket, count: int) -> list[Response]:
    """Read until ``count`` result-carrying responses have arrived."""
    data = b""
    while True:
        responses = parse_responses(data)
        if sum(r.code is not None for r in responses) >= count:
            return responses
        chunk = sock.recv(65536)
        if not chunk:
            return responses
        data += chunk


def exchange(
    server: RunningServer, payload: bytes, results: int | None = None
) -> list[Response]:
    """Send ``payload``; read until ``results`` results came, or until closed."""
    with connect(server) as sock:
        sock.sendall(payload)
        if results is not None:
            return read_responses(sock, results)
        return parse_responses(read_until_closed(sock))


def service_exchange(
    server: RunningServer, payload: bytes, results: int
) -> list[Response]:
    """Bind as the service account, then send ``payload`` and read its answers."""
    with connect(server) as sock:
        sock.sendall(bind_request(1, SERVICE_DN, SERVICE_PASSWORD))
        assert read_responses(sock, 1) == [Response(1, 0x61, 0)]
        sock.sendall(payload)
        return read_responses(sock, results)


def half_close_exchange(server: RunningServer, payload: bytes) -> list[Response]:
    """Send ``payload``, close our side, and parse what comes back."""
    with connect(server) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        return parse_responses(read_until_closed(sock))


# -- TLS and normal clients ------------------------------------------------


def ldaps_port(server: RunningServer) -> int:
    found = LDAPS_LISTENING.search(server.log())
    assert found is not None, server.log()
    return int(found.group(2))


def certificate_path(server: RunningServer) -> Path:
    return server.log_path.parent / "certs" / "ldapbridge-cert.pem"


def client_tls(certificate: Path) -> ldap3.Tls:
    # On Python 3.12 and later ldap3 checks the name with its own copy of
    # match_hostname, which cannot match an IP address SAN; the certificate
    # also names localhost, which it can match. The chain is still verified.
    return ldap3.Tls(
        ca_certs_file=str(certificate),
        validate=ssl.CERT_REQUIRED,
        version=ssl.PROTOCOL_TLS_CLIENT,
        valid_names=["localhost"],
    )


def service_search_answers(server: RunningServer) -> bool:
    """A normal client's bind and search still get the right answer."""
    connection = ldap3.Connection(
        ldap3.Server(server.host, port=server.port, connect_timeout=10),
        SERVICE_DN,
        SERVICE_PASSWORD,
        receive_timeout=10,
    )
    try:
        if not connection.bind():
            return False
        connection.search(BASE_DN, "(uid=alex.demo@example.com)", attributes=["mail"])
        mails = [str(e.mail) for e in connection.entries]
        return mails == ["alex.demo@example.com"]
    finally:
        connection.unbind()
