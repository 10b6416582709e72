"""Cutting LDAP messages out of the byte stream, before ldaptor decodes them.

ldaptor's decoder recurses once per nesting level, retries a whole partial
message on every read, and builds a Python object per element: fed hostile
bytes it can exhaust the stack, the CPU or memory (DESIGN.md, "Building on
ldaptor").  So the server first reads the outer length (refusing an absurd
one as soon as its header arrives), then walks the complete message's
elements without recursion, bounding their depth and number.  Only a message
that passes reaches ldaptor.
"""

from __future__ import annotations

import attrs

SEQUENCE = 0x30
CONSTRUCTED = 0x20
HIGH_TAG_NUMBER = 0x1F
INDEFINITE = 0x80
# Four length octets already allow 4 GiB; more can only be an attack.
MAX_LENGTH_OCTETS = 4


class FramingError(ValueError):
    """Bytes that cannot be an acceptable LDAP message; the connection closes."""


@attrs.frozen
class FrameLimits:
    max_bytes: int = 1024 * 1024
    # LDAPMessage, operation, then the filter (at most filters.MAX_DEPTH deep)
    # and its items: 100 leaves room for every legitimate request.
    max_depth: int = 100
    max_elements: int = 20000


def header(data: bytes | memoryview, offset: int = 0) -> tuple[int, int, int] | None:
    """(tag, header length, content length) of the element at ``offset``.

    None when the header is not complete yet.  Raises FramingError for forms
    LDAP forbids (RFC 4511 5.1: definite lengths only; no high tag numbers).
    """
    if len(data) - offset < 2:
        return None
    tag, first = data[offset], data[offset + 1]
    if tag & HIGH_TAG_NUMBER == HIGH_TAG_NUMBER:
        raise FramingError("multi-byte tags are not used by LDAP")
    if first < INDEFINITE:
        return tag, 2, first
    if first == INDEFINITE:
        raise FramingError("indefinite lengths are not allowed (RFC 4511 5.1)")

    octets = first & 0x7F
    if octets > MAX_LENGTH_OCTETS:
        raise FramingError(f"length field of {octets} octets")
    if len(data) - offset < 2 + octets:
        return None
    length = int.from_bytes(data[offset + 2 : offset + 2 + octets], "big")
    return tag, 2 + octets, length


def next_frame(buffer: bytes, limits: FrameLimits) -> int | None:
    """Length of the complete first message in ``buffer``; None if more is due.

    Raises FramingError as soon as the bytes seen cannot start an acceptable
    message: a length past ``limits.max_bytes`` is refused from its header.
    """
    found = header(buffer)
    if found is None:
        return None
    tag, header_length, content_length = found
    if tag != SEQUENCE:
        raise FramingError(f"message starts with tag 0x{tag:02x}, not a SEQUENCE")
    total = header_length + content_length
    if total > limits.max_bytes:
        raise FramingError(
            f"message of {total} bytes is over the limit of {limits.max_bytes}"
        )
    if len(buffer) < total:
        return None

    check_structure(memoryview(buffer)[header_length:total], limits)
    return total


def check_structure(content: memoryview, limits: FrameLimits) -> None:
    """Walk the elements of a message's content without recursion.

    Raises FramingError when an element overruns its container, or when the
    nesting or the number of elements passes ``limits``.
    """
    ends: list[int] = [len(content)]
    position = 0
    elements = 0
    while ends:
        if position == ends[-1]:
            ends.pop()
            continue

        found = header(content, position)
        if found is None:
            raise FramingError("element header cut short")
        tag, header_length, content_length = found
        end = position + header_length + content_length
        if end > ends[-1]:
            raise FramingError("element overruns its container")

        elements += 1
        if elements > limits.max_elements:
            raise FramingError(f"more than {limits.max_elements} elements")
        if tag & CONSTRUCTED:
            ends.append(end)
            if len(ends) > limits.max_depth:
                raise FramingError(f"nested deeper than {limits.max_depth} levels")
            position += header_length
        else:
            position = end
