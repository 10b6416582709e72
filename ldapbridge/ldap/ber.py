"""The few BER encodings the hot path needs, done directly on bytes.

ldaptor's BER objects build a tree of Python objects for every value; for
search results, which are most of the bytes the server sends, the bridge
encodes entries once per snapshot with these helpers instead.
"""

from __future__ import annotations

from collections.abc import Iterable

SEQUENCE = 0x30
SET = 0x31
OCTET_STRING = 0x04
INTEGER = 0x02
ENUMERATED = 0x0A
SEARCH_RESULT_ENTRY = 0x64
CONTROLS = 0xA0


# Every single octet, made once: tags and short lengths are most of what a
# sync's hundred thousand entries are wrapped in.
_OCTET = tuple(bytes((n,)) for n in range(256))


def length(n: int) -> bytes:
    """The BER length octets of a content of ``n`` bytes (definite form)."""
    if n < 0x80:
        return _OCTET[n]
    if n < 0x100:
        return b"\x81" + _OCTET[n]
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return _OCTET[0x80 | len(body)] + body


def tlv(tag: int, content: bytes) -> bytes:
    return _OCTET[tag] + length(len(content)) + content


def octets(value: bytes | str, tag: int = OCTET_STRING) -> bytes:
    if isinstance(value, str):
        value = value.encode("utf-8")
    return tlv(tag, value)


def integer(value: int, tag: int = INTEGER) -> bytes:
    size = max(1, (value.bit_length() + 8) // 8)
    return tlv(tag, value.to_bytes(size, "big", signed=True))


def attribute(name: str, values: Iterable[str]) -> bytes:
    """A PartialAttribute: SEQUENCE { type, SET OF value }."""
    encoded = b"".join(octets(v) for v in values)
    return tlv(SEQUENCE, octets(name) + tlv(SET, encoded))


def search_result_entry(dn: bytes, attributes: bytes) -> bytes:
    """SearchResultEntry from an encoded DN and concatenated attributes."""
    return tlv(SEARCH_RESULT_ENTRY, dn + tlv(SEQUENCE, attributes))


def message(message_id: int, operation: bytes, controls: bytes = b"") -> bytes:
    """An LDAPMessage around an encoded protocol operation."""
    return tlv(SEQUENCE, integer(message_id) + operation + controls)


def messages(message_id: int, operations: Iterable[bytes]) -> list[bytes]:
    """LDAPMessages of one ID around each operation (a search's entries)."""
    encoded_id = integer(message_id)
    return [tlv(SEQUENCE, encoded_id + operation) for operation in operations]


def result(
    tag: int, code: int, message: str = "", matched_dn: str = "", extra: bytes = b""
) -> bytes:
    """An LDAPResult-shaped operation: resultCode, matchedDN, diagnostic."""
    body = tlv(ENUMERATED, bytes((code,))) + octets(matched_dn) + octets(message)
    return tlv(tag, body + extra)


def control(oid: str, value: bytes | None = None, critical: bool = False) -> bytes:
    body = octets(oid)
    if critical:
        body += b"\x01\x01\xff"
    if value is not None:
        body += octets(value)
    return tlv(SEQUENCE, body)
