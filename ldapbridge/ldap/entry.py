"""A directory entry, prepared once per snapshot for fast matching and sending.

Attribute names keep the case the profile gave them for output, and are keyed
by their lowercase form, since LDAP attribute names are case-insensitive.
Restricted attributes (a member's PIN) are held like any other but sent only
to privileged readers, the service accounts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ldapbridge.ldap import ber, schema


class Entry:
    """One entry: its DN, attributes, comparison keys and encoded form."""

    __slots__ = (
        "_default",
        "_encoded",
        "_last_selection",
        "_privileged_default",
        "dn",
        "encoded_dn",
        "names",
        "ndn",
        "operational",
        "parent_ndn",
        "restricted",
        "values",
    )

    def __init__(
        self,
        dn: str,
        ndn: str,
        parent_ndn: str,
        attributes: Mapping[str, Sequence[str]],
        operational: Mapping[str, Sequence[str]] = {},
        restricted: frozenset[str] = frozenset(),
    ) -> None:
        self.dn = dn
        self.ndn = ndn
        self.parent_ndn = parent_ndn
        self.encoded_dn = ber.octets(dn)

        # Empty values are dropped: an attribute with no value is absent.
        self.values: dict[str, tuple[str, ...]] = {}
        self.names: dict[str, str] = {}
        self.operational: frozenset[str] = frozenset(k.lower() for k in operational)
        for name, values in (*attributes.items(), *operational.items()):
            kept = tuple(v for v in values if v != "")
            if kept and name.lower() not in schema.SECRET_ATTRIBUTES:
                self.values[name.lower()] = kept
                self.names[name.lower()] = name

        self.restricted = restricted.intersection(self.values)

        # Encoded PartialAttributes, by lowercase name, filled on first use.
        self._encoded: dict[str, bytes] = {}
        self._default: bytes | None = None
        self._privileged_default: bytes | None = None
        self._last_selection: tuple[tuple[str, ...], bool, bytes] | None = None

    def get(self, attribute: str) -> tuple[str, ...]:
        return self.values.get(attribute, ())

    def user_attributes(self, privileged: bool = False) -> Iterable[str]:
        """User attribute names; restricted ones only when ``privileged``."""
        hidden = self.operational if privileged else self.operational | self.restricted
        return (a for a in self.values if a not in hidden)

    def may_read(self, attribute: str, privileged: bool) -> bool:
        return privileged or attribute not in self.restricted

    def operational_attributes(self) -> Iterable[str]:
        return (a for a in self.values if a in self.operational)

    def encoded_attribute(self, attribute: str, types_only: bool = False) -> bytes:
        """The PartialAttribute of ``attribute``, encoded once and reused."""
        if types_only:
            return ber.attribute(self.names[attribute], ())
        encoded = self._encoded.get(attribute)
        if encoded is None:
            encoded = ber.attribute(self.names[attribute], self.values[attribute])
            self._encoded[attribute] = encoded
        return encoded

    def encode(self, attributes: Sequence[str], types_only: bool = False) -> bytes:
        """A SearchResultEntry carrying ``attributes`` (lowercase names).

        The last selection's encoding is kept: a sync asks for the same
        attributes of every entry, every night.
        """
        names = tuple(attributes)
        last = self._last_selection
        if last is not None and last[0] == names and last[1] == types_only:
            return last[2]
        body = b"".join(self.encoded_attribute(a, types_only) for a in names)
        encoded = ber.search_result_entry(self.encoded_dn, body)
        self._last_selection = (names, types_only, encoded)
        return encoded

    def encode_default(self, privileged: bool = False) -> bytes:
        """The entry with all user attributes: what most searches ask for."""
        if privileged and self.restricted:
            if self._privileged_default is None:
                names = list(self.user_attributes(privileged=True))
                self._privileged_default = self.encode(names)
            return self._privileged_default
        if self._default is None:
            self._default = self.encode(list(self.user_attributes()))
        return self._default

    def keys(self, attribute: str, rule: schema.MatchingRule) -> list[Any]:
        """Comparison keys of an attribute's values under ``rule``."""
        keys = (rule.normalize(v) for v in self.values.get(attribute, ()))
        return [k for k in keys if k is not None]

    def __repr__(self) -> str:
        return f"Entry({self.dn!r})"
