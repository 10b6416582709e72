"""Distinguished names: parsing, escaping and normalising (RFC 4514).

ldaptor's DN class mishandles upper-case hex escapes and multi-byte UTF-8
escapes, so the bridge parses DNs itself.  A DN is compared by its normal
form: attribute types lowercased, values unescaped, NFKC, case-folded and with
runs of spaces collapsed (every naming attribute here is caseIgnore).
"""

from __future__ import annotations

import functools
import re

from ldapbridge.text import fold

ESCAPE_ALWAYS = ',+"\\<>;='
HEX_DIGITS = "0123456789abcdefABCDEF"

RDN = tuple[tuple[str, str], ...]

# Longest DN a client may send, far past any a directory of members holds.
# Without a bound, anyone could send binds with DNs of a mebibyte: each takes
# a third of a second to parse, before any throttling, and the cache of
# normal forms would keep thousands of them.
MAX_LENGTH = 4096

# A value needs escaping only if it holds one of these (RFC 4514 2.4); most
# usernames and group names do not, and skip the character walk.
_NEEDS_ESCAPE = re.compile(r'[,+"\\<>;=\x00-\x1f]|\A[ #]| \Z')


class InvalidDN(ValueError):
    """Text that is not a DN; becomes invalidDNSyntax (34)."""


def escape_value(value: str) -> str:
    """Escape an attribute value for use in a DN string (RFC 4514 2.4)."""
    if not _NEEDS_ESCAPE.search(value):
        return value
    out = []
    last = len(value) - 1
    for i, char in enumerate(value):
        leading = i == 0 and char in " #"
        trailing = i == last and char == " "
        if char in ESCAPE_ALWAYS or leading or trailing:
            out.append("\\" + char)
        elif char == "\0" or ord(char) < 32:
            out.append(f"\\{ord(char):02x}")
        else:
            out.append(char)
    return "".join(out)


def parse(text: str) -> tuple[RDN, ...]:
    """Split a DN string into RDNs of (attribute type, unescaped value) pairs.

    Raises InvalidDN for anything that is not a DN.
    """
    if not text.strip():
        return ()
    parser = _Parser(text)
    rdns = [parser.rdn()]
    while parser.take(",;"):
        rdns.append(parser.rdn())
    if not parser.at_end():
        raise InvalidDN(f"unexpected {parser.rest()!r} in DN")
    return tuple(rdns)


def normalize(text: str) -> str:
    """The comparison form of a DN; raises InvalidDN, also for one longer
    than MAX_LENGTH."""
    if len(text) > MAX_LENGTH:
        raise InvalidDN(f"DN of {len(text)} characters, over {MAX_LENGTH}")
    return _normalize(text)


@functools.lru_cache(maxsize=4096)
def _normalize(text: str) -> str:
    # Cached: clients send the same few base and bind DNs over and over.
    return format_normal(parse(text))


def format_dn(rdns: tuple[RDN, ...]) -> str:
    """A DN string from parsed RDNs, keeping the case of types and values."""
    return ",".join(
        "+".join(f"{attr}={escape_value(value)}" for attr, value in rdn) for rdn in rdns
    )


def format_normal(rdns: tuple[RDN, ...]) -> str:
    return ",".join(
        "+".join(
            f"{attr.lower()}={escape_value(fold_value(value))}"
            for attr, value in sorted(rdn, key=lambda av: av[0].lower())
        )
        for rdn in rdns
    )


def child_normal(attribute: str, value: str, parent_ndn: str) -> str:
    """The normal form of ``attribute=value,<parent>`` from the parent's.

    The same as normalizing the child's DN string, without parsing it again:
    a tree of many entries is built from RDNs it already holds.
    """
    rdn = f"{attribute.lower()}={escape_value(fold_value(value))}"
    return f"{rdn},{parent_ndn}" if parent_ndn else rdn


def fold_value(value: str) -> str:
    """caseIgnore normal form: NFKC, case-folded, runs of spaces collapsed."""
    return fold(value)


class _Parser:
    """A small cursor over a DN string."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def at_end(self) -> bool:
        self._skip_spaces()
        return self.pos >= len(self.text)

    def rest(self) -> str:
        return self.text[self.pos :]

    def take(self, chars: str) -> bool:
        self._skip_spaces()
        if self.pos < len(self.text) and self.text[self.pos] in chars:
            self.pos += 1
            return True
        return False

    def rdn(self) -> RDN:
        pairs = [self._attribute_value()]
        while self.take("+"):
            pairs.append(self._attribute_value())
        return tuple(pairs)

    def _skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] == " ":
            self.pos += 1

    def _attribute_value(self) -> tuple[str, str]:
        self._skip_spaces()
        start = self.pos
        while self.pos < len(self.text) and (
            self.text[self.pos].isalnum() or self.text[self.pos] in "-."
        ):
            self.pos += 1
        attr = self.text[start : self.pos]
        if not attr or not attr[0].isascii() or not attr.isascii():
            raise InvalidDN(f"expected an attribute type at {self.rest()!r}")
        if not self.take("="):
            raise InvalidDN(f"expected '=' after {attr!r}")
        self._skip_spaces()
        return attr, self._value()

    def _value(self) -> str:
        if self.text.startswith("#", self.pos):
            return self._hex_value()

        raw = bytearray()
        trailing_spaces = 0
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char in ",;+":
                break
            if char == "\\":
                raw += self._escape()
                trailing_spaces = 0
                continue
            # RFC 4514 3: these must be escaped; `=` need not be.
            if char in '"<>' or char == "\0":
                raise InvalidDN(f"unescaped {char!r} in DN value")
            trailing_spaces = trailing_spaces + 1 if char == " " else 0
            raw += char.encode("utf-8")
            self.pos += 1

        if trailing_spaces:
            raw = raw[:-trailing_spaces]
        return _decode(raw)

    def _escape(self) -> bytes:
        pair = self.text[self.pos + 1 : self.pos + 3]
        if len(pair) == 2 and all(c in HEX_DIGITS for c in pair):
            self.pos += 3
            return bytes.fromhex(pair)
        if len(pair) >= 1 and (pair[0] in ESCAPE_ALWAYS or pair[0] in " #"):
            self.pos += 2
            return pair[0].encode("utf-8")
        raise InvalidDN(f"bad escape at {self.rest()!r}")

    def _hex_value(self) -> str:
        """A `#` value: the BER encoding of the value, in hex (RFC 4514 2.4)."""
        start = self.pos + 1
        end = start
        while end < len(self.text) and self.text[end] in HEX_DIGITS:
            end += 1
        self.pos = end
        try:
            return _ber_string(bytes.fromhex(self.text[start:end]))
        except ValueError:
            raise InvalidDN("bad hex-encoded DN value") from None


# BER tags of the string types a `#` value may hold here (X.690): OCTET
# STRING, UTF8String, PrintableString and IA5String.
_STRING_TAGS = (0x04, 0x0C, 0x13, 0x16)


def _ber_string(encoded: bytes) -> str:
    """The text of one BER-encoded string; ValueError for anything else."""
    if len(encoded) < 2 or encoded[0] not in _STRING_TAGS:
        raise ValueError("not a BER string")
    length, start = encoded[1], 2
    if length & 0x80:
        start += length & 0x7F
        length = int.from_bytes(encoded[2:start], "big")
    if len(encoded) != start + length:
        raise ValueError("BER length does not match")
    # A UnicodeDecodeError is a ValueError too.
    return encoded[start:].decode("utf-8")


def _decode(raw: bytes | bytearray) -> str:
    try:
        return bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidDN("DN value is not valid UTF-8") from None
