"""The fast search-request decoder agrees with ldaptor's decoder."""

from __future__ import annotations

import pytest
from ldaptor import ldapfilter
from ldaptor.protocols import pureber, pureldap
from ldaptor.protocols.ldap.ldapserver import BaseLDAPServer

from ldapbridge.ldap import decode, filters

FILTERS = [
    "(objectClass=*)",
    "(uid=alex.demo@example.com)",
    "(&(objectClass=posixAccount)(|(uid=a*)(mail=*b*c)(cn=*z)))",
    "(!(employeeNumber=0012345678))",
    "(uidNumber>=10000)",
    "(uidNumber<=99999)",
    "(cn~=Emile Zola)",
    "(cn=Émile*Petit)",
    "(userAccountControl:1.2.840.113556.1.4.803:=2)",
    "(cn:dn:caseExactMatch:=people)",
    "(:dn:2.5.13.2:=example)",
    "(member:1.2.840.113556.1.4.1941:=uid=a,ou=people,dc=example,dc=com)",
]


def wire(
    search_filter: str,
    attributes: list[bytes] | None = None,
    controls: list[tuple[str, bool, bytes | None]] | None = None,
) -> bytes:
    request = pureldap.LDAPSearchRequest(
        baseObject=b"dc=example,dc=com",
        scope=2,
        sizeLimit=5,
        typesOnly=1,
        filter=ldapfilter.parseFilter(search_filter),
        attributes=attributes or [b"uid", b"cn"],
    )
    return pureldap.LDAPMessage(request, id=7, controls=controls).toWire()


def ldaptor_decode(data: bytes) -> pureldap.LDAPMessage:
    message, _ = pureber.berDecodeObject(BaseLDAPServer.berdecoder, data)
    return message


class TestDecodeSearch:
    @pytest.mark.parametrize("search_filter", FILTERS)
    def test_filter_matches_ldaptor_conversion(self, search_filter: str) -> None:
        """Each filter decodes to the same nodes as ldaptor's decoder gives."""
        data = wire(search_filter)
        decoded, used = decode.decode_search(data)  # type: ignore[misc]
        expected = ldaptor_decode(data)

        assert used == len(data)
        assert decoded.id == 7
        assert decoded.value.filter == filters.convert(expected.value.filter)
        assert decoded.value.baseObject == b"dc=example,dc=com"
        assert (decoded.value.scope, decoded.value.sizeLimit) == (2, 5)
        assert decoded.value.typesOnly is True
        assert decoded.value.attributes == [b"uid", b"cn"]

    def test_controls_are_read(self) -> None:
        """Paged results and ManageDsaIT controls come through with criticality."""
        paged = b"\x30\x05\x02\x01\x0a\x04\x00"
        controls = [
            ("1.2.840.113556.1.4.319", True, paged),
            ("2.16.840.1.113730.3.4.2", False, None),
        ]
        decoded, _ = decode.decode_search(wire("(uid=x)", controls=controls))  # type: ignore[misc]

        assert decoded.controls == [
            (b"1.2.840.113556.1.4.319", True, paged),
            (b"2.16.840.1.113730.3.4.2", False, None),
        ]

    def test_incomplete_message_is_left_for_later(self) -> None:
        """A search request cut short decodes to None, to wait for more bytes."""
        data = wire("(uid=x)")

        assert decode.decode_search(data[:-3]) is None
        assert decode.message_length(data[:1]) is None
        assert decode.message_length(data) == len(data)

    def test_other_operations_are_left_to_ldaptor(self) -> None:
        """A bind request is not decoded here."""
        bind = pureldap.LDAPMessage(
            pureldap.LDAPBindRequest(dn=b"cn=x", auth=b"pw"), id=1
        ).toWire()

        assert decode.decode_search(bind) is None


class TestOddControls:
    def test_control_oid_that_is_not_text_is_an_unknown_control(self) -> None:
        """A critical control whose OID is not UTF-8 gets 12, not an internal error."""
        from ldapbridge.ldap import controls, results

        data = wire("(uid=x)", controls=[("1.2.3", True, None)])
        data = data.replace(b"1.2.3", b"1.\xff.3")
        decoded, _ = decode.decode_search(data)  # type: ignore[misc]

        with pytest.raises(results.LDAPError) as raised:
            controls.parse(decoded.controls)
        assert raised.value.code == results.UNAVAILABLE_CRITICAL_EXTENSION
