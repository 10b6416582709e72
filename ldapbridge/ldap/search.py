"""A search request, read once from ldaptor's decoded form into plain values."""

from __future__ import annotations

from typing import Any

import attrs

from ldapbridge.ldap import dn, filters
from ldapbridge.ldap.controls import PagedRequest, RequestControls
from ldapbridge.ldap.entry import Entry
from ldapbridge.ldap.results import PROTOCOL_ERROR, LDAPError
from ldapbridge.ldap.tree import SCOPE_BASE, SCOPE_CHILDREN, SCOPE_ONE, SCOPE_SUB

NO_ATTRIBUTES = "1.1"


@attrs.frozen
class Selection:
    """Which attributes each returned entry carries (RFC 4511 4.5.1.8)."""

    all_user: bool = True
    all_operational: bool = False
    names: tuple[str, ...] = ()
    types_only: bool = False
    # The attributes chosen, by the entry's attribute names and privilege:
    # a sync's hundred thousand entries come in a handful of shapes.
    _chosen: dict[tuple[object, bool], tuple[str, ...]] = attrs.field(
        factory=dict, init=False, eq=False, repr=False
    )

    @classmethod
    def from_request(cls, requested: list[Any], types_only: bool) -> Selection:
        names = [_attribute_name(a) for a in requested]
        explicit = tuple(n for n in names if n not in ("*", "+", NO_ATTRIBUTES))
        return cls(
            all_user="*" in names or not names,
            all_operational="+" in names,
            names=explicit,
            types_only=types_only,
        )

    def for_root_dse(self) -> Selection:
        """The selection applied to the root DSE: `+` also asks for everything.

        Its attributes are operational (RFC 4512 5.1), so `+` (RFC 3673) must
        return them; they also come without asking, as README promises for
        `ldapsearch -b '' -s base`, which Active Directory does too.
        """
        return attrs.evolve(self, all_user=self.all_user or self.all_operational)

    @property
    def is_default(self) -> bool:
        return self.all_user and not (
            self.all_operational or self.names or self.types_only
        )

    def attributes(self, entry: Entry, privileged: bool = False) -> tuple[str, ...]:
        key = (entry.shape, privileged)
        chosen = self._chosen.get(key)
        if chosen is None:
            chosen = self._chosen[key] = tuple(self._choose(entry, privileged))
        return chosen

    def _choose(self, entry: Entry, privileged: bool) -> list[str]:
        chosen = list(entry.user_attributes(privileged)) if self.all_user else []
        if self.all_operational:
            chosen.extend(entry.operational_attributes())
        chosen.extend(
            n
            for n in self.names
            if entry.has(n) and n not in chosen and entry.may_read(n, privileged)
        )
        return chosen

    def encode(self, entry: Entry, privileged: bool = False) -> bytes:
        """The SearchResultEntry; restricted attributes only if ``privileged``."""
        if self.is_default:
            return entry.encode_default(privileged)
        return entry.encode(self.attributes(entry, privileged), self.types_only)


def _attribute_name(raw: Any) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    # Options such as ";binary" do not change which values exist here.
    return text.split(";", 1)[0].strip().lower()


@attrs.frozen
class SearchRequest:
    base_dn: str
    base_ndn: str
    scope: int
    filter: filters.Node
    size_limit: int
    selection: Selection
    paged: PagedRequest | None

    @classmethod
    def from_ldaptor(cls, request: Any, ctrls: RequestControls) -> SearchRequest:
        """Read ldaptor's request; raise InvalidDN, FilterError or LDAPError."""
        base_dn = _decode(request.baseObject)
        scope = request.scope
        if scope not in (SCOPE_BASE, SCOPE_ONE, SCOPE_SUB, SCOPE_CHILDREN):
            raise LDAPError(PROTOCOL_ERROR, f"unknown scope {scope}")
        base_ndn = dn.normalize(base_dn)
        selection = Selection.from_request(request.attributes, bool(request.typesOnly))
        if base_ndn == "" and scope == SCOPE_BASE:
            selection = selection.for_root_dse()
        return cls(
            base_dn=base_dn,
            base_ndn=base_ndn,
            scope=scope,
            filter=filters.convert(request.filter),
            size_limit=max(0, request.sizeLimit),
            selection=selection,
            paged=ctrls.paged,
        )

    def is_root_dse(self) -> bool:
        return self.base_ndn == "" and self.scope == SCOPE_BASE

    def identity_key(self) -> tuple[Any, ...]:
        """What must stay the same across the pages of one paged search."""
        return (
            self.base_ndn,
            self.scope,
            filters.to_text(self.filter),
            self.selection,
            self.size_limit,
        )


def _decode(value: Any) -> str:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise dn.InvalidDN("base DN is not valid UTF-8") from None
    return str(value)
