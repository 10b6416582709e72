"""A fast decoder for search requests, the bulk of what PaperCut sends.

ldaptor's BER decoder builds and then discards a tree of objects per request,
which costs more than answering an indexed lookup.  Search requests are read
here straight from bytes into plain values and filter nodes; any other
operation, or anything unusual, is left to ldaptor (``decode_search`` returns
None and the caller falls back).
"""

from __future__ import annotations

from typing import Any

import attrs

from ldapbridge.ldap import filters

SEARCH_REQUEST = 0x63
CONTROLS = 0xA0

FILTER_AND, FILTER_OR, FILTER_NOT = 0xA0, 0xA1, 0xA2
FILTER_EQUALITY, FILTER_SUBSTRINGS = 0xA3, 0xA4
FILTER_GE, FILTER_LE, FILTER_PRESENT = 0xA5, 0xA6, 0x87
FILTER_APPROX, FILTER_EXTENSIBLE = 0xA8, 0xA9
COMPARISONS = {
    FILTER_EQUALITY: "=",
    FILTER_GE: ">=",
    FILTER_LE: "<=",
    FILTER_APPROX: "~=",
}


class _Unusual(Exception):
    """Bytes this decoder leaves to ldaptor."""


@attrs.frozen
class SearchRequestValues:
    """A search request with the attribute names ldaptor's class has."""

    baseObject: bytes  # noqa: N815 (ldaptor's names, read by SearchRequest)
    scope: int
    derefAliases: int  # noqa: N815
    sizeLimit: int  # noqa: N815
    timeLimit: int  # noqa: N815
    typesOnly: bool  # noqa: N815
    filter: filters.Node
    attributes: list[bytes]


@attrs.frozen
class DecodedMessage:
    id: int
    value: SearchRequestValues
    controls: list[tuple[bytes, bool, bytes | None]] | None


def message_length(buffer: bytes) -> int | None:
    """Total length of the first BER element in ``buffer``, None if unknown yet."""
    if len(buffer) < 2:
        return None
    first = buffer[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if len(buffer) < 2 + count:
        return None
    return 2 + count + int.from_bytes(buffer[2 : 2 + count], "big")


def decode_search(buffer: bytes) -> tuple[DecodedMessage, int] | None:
    """Decode a complete search request at the start of ``buffer``.

    Returns (message, bytes used), or None when the first message is not a
    search request this decoder handles, or is not complete yet.
    """
    try:
        reader = _Reader(buffer)
        tag, end = reader.header()
        if tag != 0x30 or end > len(buffer):
            return None
        message_id = reader.integer(0x02)
        if reader.peek() != SEARCH_REQUEST:
            return None
        request = _search_request(reader)
        controls = _controls(reader, end) if reader.pos < end else None
        if reader.pos != end:
            return None
    except (_Unusual, IndexError, ValueError):
        return None
    return DecodedMessage(message_id, request, controls), end


class _Reader:
    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def peek(self) -> int:
        return self.data[self.pos]

    def header(self) -> tuple[int, int]:
        """Read a tag and length; return (tag, end of the content)."""
        tag = self.data[self.pos]
        first = self.data[self.pos + 1]
        self.pos += 2
        if first >= 0x80:
            count = first & 0x7F
            if count == 0 or count > 4:
                raise _Unusual("indefinite or huge length")
            first = int.from_bytes(self.data[self.pos : self.pos + count], "big")
            self.pos += count
        return tag, self.pos + first

    def element(self, expected: int) -> bytes:
        tag, end = self.header()
        if tag != expected or end > len(self.data):
            raise _Unusual(f"tag {tag:#x}")
        value = self.data[self.pos : end]
        self.pos = end
        return value

    def integer(self, expected: int) -> int:
        return int.from_bytes(self.element(expected), "big", signed=True)

    def text(self, expected: int = 0x04) -> str:
        try:
            return self.element(expected).decode("utf-8")
        except UnicodeDecodeError:
            raise filters.FilterError("value is not valid UTF-8") from None


def _search_request(reader: _Reader) -> SearchRequestValues:
    _, end = reader.header()
    base = reader.element(0x04)
    scope = reader.integer(0x0A)
    deref = reader.integer(0x0A)
    size_limit = reader.integer(0x02)
    time_limit = reader.integer(0x02)
    types_only = reader.element(0x01) != b"\x00"
    node = _filter(reader, 0)
    attributes = _attribute_list(reader)
    if reader.pos != end:
        raise _Unusual("trailing bytes in search request")
    return SearchRequestValues(
        base, scope, deref, size_limit, time_limit, types_only, node, attributes
    )


def _attribute_list(reader: _Reader) -> list[bytes]:
    _, end = reader.header()
    names = []
    while reader.pos < end:
        names.append(reader.element(0x04))
    return names


def _filter(reader: _Reader, depth: int) -> filters.Node:
    if depth > filters.MAX_DEPTH:
        raise filters.FilterError(f"filter nested deeper than {filters.MAX_DEPTH}")
    tag = reader.peek()
    if tag in (FILTER_AND, FILTER_OR):
        _, end = reader.header()
        items = []
        while reader.pos < end:
            items.append(_filter(reader, depth + 1))
        return (
            filters.And(tuple(items)) if tag == FILTER_AND else filters.Or(tuple(items))
        )
    if tag == FILTER_NOT:
        reader.header()
        return filters.Not(_filter(reader, depth + 1))
    if tag == FILTER_PRESENT:
        return filters.Present(reader.text(FILTER_PRESENT).lower())
    if tag in COMPARISONS:
        reader.header()
        attribute = reader.text().lower()
        return filters.Compare(COMPARISONS[tag], attribute, reader.text())
    if tag == FILTER_SUBSTRINGS:
        return _substrings(reader)
    if tag == FILTER_EXTENSIBLE:
        return _extensible(reader)
    raise _Unusual(f"filter tag {tag:#x}")


def _substrings(reader: _Reader) -> filters.Substrings:
    reader.header()
    attribute = reader.text().lower()
    _, end = reader.header()
    initial = final = None
    middle = []
    while reader.pos < end:
        tag = reader.peek()
        if tag == 0x80:
            initial = reader.text(0x80)
        elif tag == 0x81:
            middle.append(reader.text(0x81))
        else:
            final = reader.text(0x82)
    return filters.Substrings(attribute, initial, tuple(middle), final)


def _extensible(reader: _Reader) -> filters.Extensible:
    _, end = reader.header()
    fields: dict[int, Any] = {}
    while reader.pos < end:
        tag = reader.peek()
        fields[tag] = reader.element(tag)
    if 0x83 not in fields:
        raise _Unusual("extensible match without a value")

    def text(tag: int) -> str | None:
        return fields[tag].decode("utf-8") if tag in fields else None

    return filters.Extensible(
        rule=text(0x81),
        attribute=(text(0x82) or "").lower() or None,
        value=text(0x83) or "",
        dn_attributes=fields.get(0x84, b"\x00") != b"\x00",
    )


def _controls(reader: _Reader, end: int) -> list[tuple[bytes, bool, bytes | None]]:
    tag, controls_end = reader.header()
    if tag != CONTROLS:
        raise _Unusual("not controls")
    found = []
    while reader.pos < controls_end:
        _, control_end = reader.header()
        oid = reader.element(0x04)
        critical = False
        value = None
        if reader.pos < control_end and reader.peek() == 0x01:
            critical = reader.element(0x01) != b"\x00"
        if reader.pos < control_end:
            value = reader.element(0x04)
        found.append((oid, critical, value))
    return found
