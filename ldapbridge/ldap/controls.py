"""Request controls the server understands (RFC 4511 4.1.11).

ldaptor refuses every critical control and never answers with one, so the
bridge reads and writes controls here, paged results (RFC 2696) above all.
"""

from __future__ import annotations

from typing import Any

import attrs
from ldaptor.protocols import pureber

from ldapbridge.ldap import ber, oids
from ldapbridge.ldap.results import (
    PROTOCOL_ERROR,
    UNAVAILABLE_CRITICAL_EXTENSION,
    LDAPError,
)


@attrs.frozen
class PagedRequest:
    size: int
    cookie: bytes


@attrs.frozen
class RequestControls:
    paged: PagedRequest | None = None


def parse(controls: list[tuple[Any, Any, Any]] | None) -> RequestControls:
    """Read a request's controls; raise LDAPError for an unknown critical one."""
    paged = None
    for oid_raw, critical, value in controls or ():
        # An OID that is not even text names no control the server knows.
        if isinstance(oid_raw, bytes):
            oid = oid_raw.decode("utf-8", errors="replace")
        else:
            oid = str(oid_raw)
        if oid == oids.PAGED_RESULTS:
            paged = _parse_paged(value)
        elif critical and oid not in oids.SUPPORTED_CONTROLS:
            raise LDAPError(
                UNAVAILABLE_CRITICAL_EXTENSION, f"critical control {oid} unsupported"
            )
    return RequestControls(paged=paged)


def _parse_paged(value: bytes | None) -> PagedRequest:
    try:
        decoded, _ = pureber.berDecodeObject(pureber.BERDecoderContext(), value)
        size, cookie = decoded.data[0].value, decoded.data[1].value
        if not isinstance(size, int) or not isinstance(cookie, bytes) or size < 0:
            raise ValueError(value)
    except Exception:
        raise LDAPError(PROTOCOL_ERROR, "malformed paged results control") from None
    return PagedRequest(size=size, cookie=cookie)


def paged_response(cookie: bytes, estimate: int = 0) -> bytes:
    """The encoded Controls field carrying a paged results response."""
    value = ber.tlv(ber.SEQUENCE, ber.integer(estimate) + ber.octets(cookie))
    return ber.tlv(ber.CONTROLS, ber.control(oids.PAGED_RESULTS, value))
