"""Framing of raw bytes into LDAP messages, before ldaptor decodes them."""

from __future__ import annotations

import pytest

from ldapbridge.ldap import ber, framing
from ldapbridge.ldap.framing import FrameLimits, FramingError
from tests.ldap import wire

LIMITS = FrameLimits(max_bytes=1024 * 1024, max_depth=100, max_elements=20000)


class TestHeader:
    def test_short_form_length_is_read(self) -> None:
        """A one-octet length gives a two-octet header."""
        assert framing.header(b"\x30\x05") == (0x30, 2, 5)

    def test_long_form_length_is_read(self) -> None:
        """A long-form length counts its length octets into the header."""
        assert framing.header(b"\x30\x82\x01\x00") == (0x30, 4, 256)

    def test_incomplete_header_needs_more_bytes(self) -> None:
        """A header cut inside its length octets asks for more bytes."""
        assert framing.header(b"\x30\x84\x00") is None

    def test_indefinite_length_is_refused(self) -> None:
        """RFC 4511 5.1 allows only definite lengths."""
        with pytest.raises(FramingError, match="indefinite"):
            framing.header(b"\x30\x80")

    def test_five_length_octets_are_refused(self) -> None:
        """A length needing more than four octets is absurd for LDAP."""
        with pytest.raises(FramingError, match="5 octets"):
            framing.header(b"\x30\x85\x01\x00\x00\x00\x00")

    def test_high_tag_number_is_refused(self) -> None:
        """Multi-byte tags do not occur in LDAP."""
        with pytest.raises(FramingError, match="multi-byte"):
            framing.header(b"\x3f\x81\x00")


class TestNextFrame:
    def test_complete_message_gives_its_length(self) -> None:
        """A whole bind request is one frame of its own length."""
        message = wire.bind_request(1, "cn=x", "pw")
        assert framing.next_frame(message + b"\x30", LIMITS) == len(message)

    def test_partial_message_needs_more_bytes(self) -> None:
        """A message cut short asks for more bytes."""
        message = wire.bind_request(1, "cn=x", "pw")
        assert framing.next_frame(message[:-1], LIMITS) is None

    def test_two_gigabyte_length_is_refused_from_the_header(self) -> None:
        """Six header bytes claiming 2 GiB are enough to refuse the message."""
        with pytest.raises(FramingError, match="over the limit of 1048576"):
            framing.next_frame(b"\x30\x84\x7f\xff\xff\xff", LIMITS)

    def test_message_one_byte_over_the_limit_is_refused(self) -> None:
        """The limit counts the whole message, header included."""
        small = FrameLimits(max_bytes=100)
        header = b"\x30\x62"  # 2 + 98 = 100 bytes: allowed
        assert framing.next_frame(header, small) is None
        with pytest.raises(FramingError, match="101 bytes"):
            framing.next_frame(b"\x30\x63", small)

    def test_message_not_starting_with_a_sequence_is_refused(self) -> None:
        """An LDAPMessage is a SEQUENCE; anything else is not LDAP."""
        with pytest.raises(FramingError, match="tag 0x47"):
            framing.next_frame(b"GET / HTTP/1.1\r\n", LIMITS)


class TestStructure:
    def test_inner_element_overrunning_its_container_is_refused(self) -> None:
        """An element claiming more bytes than its parent holds is malformed."""
        message = b"\x30\x05\x02\x01\x01\x63\x10"
        with pytest.raises(FramingError, match="overruns"):
            framing.next_frame(message, LIMITS)

    def test_filter_nested_to_the_limit_passes(self) -> None:
        """A filter 90 levels deep is within the nesting limit of 100."""
        message = wire.search_request(1, ldap_filter=wire.nested_not_filter(90))
        assert framing.next_frame(message, LIMITS) == len(message)

    def test_filter_nested_100000_levels_is_refused(self) -> None:
        """Deep nesting is refused on the raw bytes, without recursion."""
        message = wire.search_request(1, ldap_filter=wire.nested_not_filter(100_000))
        with pytest.raises(FramingError, match="deeper than 100 levels"):
            framing.next_frame(message, LIMITS)

    def test_huge_attribute_list_is_refused(self) -> None:
        """30000 requested attributes pass the element limit of 20000."""
        message = wire.search_request(1, attributes=["cn"] * 30000)
        with pytest.raises(FramingError, match="more than 20000 elements"):
            framing.next_frame(message, LIMITS)

    def test_primitive_contents_are_not_walked(self) -> None:
        """Bytes inside an OCTET STRING are data, not elements."""
        value = b"\x30\x84\x7f\xff\xff\xff" * 10
        message = ber.message(1, ber.tlv(0x60, ber.integer(3) + ber.octets(value)))
        assert framing.next_frame(message, LIMITS) == len(message)
