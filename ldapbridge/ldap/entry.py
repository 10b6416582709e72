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


class _Shape:
    """The attribute names an entry has, shared by every entry with the same.

    A directory of members holds a hundred thousand entries of a handful of
    shapes: keeping the names (and their lowercase keys) once per shape
    rather than once per entry saves most of an entry's memory.
    """

    __slots__ = ("index", "names", "operational", "order", "restricted")

    def __init__(
        self,
        names: tuple[str, ...],
        operational: frozenset[str],
        restricted: frozenset[str],
    ) -> None:
        self.order = tuple(n.lower() for n in names)
        self.index = {name: i for i, name in enumerate(self.order)}
        self.names = dict(zip(self.order, names, strict=True))
        self.operational = operational.intersection(self.order)
        self.restricted = restricted.intersection(self.order)


_shapes: dict[tuple[object, ...], _Shape] = {}


def _shape(
    names: tuple[str, ...], operational: tuple[str, ...], restricted: frozenset[str]
) -> _Shape:
    key = (names, operational, restricted)
    shape = _shapes.get(key)
    if shape is None:
        lowered = frozenset(name.lower() for name in operational)
        shape = _shapes[key] = _Shape(names, lowered, restricted)
    return shape


class Entry:
    """One entry: its DN, attributes, comparison keys and encoded form."""

    __slots__ = (
        "_columns",
        "_default",
        "_last_selection",
        "_privileged_default",
        "_shape",
        "dn",
        "ndn",
        "parent_ndn",
    )

    def __init__(
        self,
        dn: str,
        ndn: str,
        parent_ndn: str,
        attributes: Mapping[str, Sequence[str]],
        operational: Mapping[str, Sequence[str]] = {},
        restricted: frozenset[str] = frozenset(),
        shared: dict[tuple[str, ...], tuple[str, ...]] | None = None,
    ) -> None:
        """``shared`` holds value tuples already seen, to reuse identical ones
        (every member's objectClass, say) across the entries of one tree."""
        self.dn = dn
        self.ndn = ndn
        self.parent_ndn = parent_ndn

        # Empty values are dropped: an attribute with no value is absent.
        names: list[str] = []
        columns: list[str | tuple[str, ...]] = []
        for source in (attributes, operational):
            for name, values in source.items():
                kept = tuple(filter(None, values)) if "" in values else tuple(values)
                if kept and name.lower() not in schema.SECRET_ATTRIBUTES:
                    if shared is not None:
                        kept = shared.setdefault(kept, kept)
                    names.append(name)
                    # A lone value is kept bare, saving a tuple per attribute.
                    columns.append(kept[0] if len(kept) == 1 else kept)
        self._shape = _shape(tuple(names), tuple(operational), restricted)
        self._columns: tuple[str | tuple[str, ...], ...] = tuple(columns)

        # Encoded entries, filled on first use: a sync reads every entry with
        # one selection, a lookup reads the defaults.
        self._default: bytes | None = None
        self._privileged_default: bytes | None = None
        self._last_selection: tuple[tuple[str, ...], bool, bytes] | None = None

    @property
    def shape(self) -> object:
        """Equal for entries with the same attribute names: what a selection
        of attributes depends on."""
        return self._shape

    @property
    def names(self) -> Mapping[str, str]:
        """Attribute names as published, by lowercase name."""
        return self._shape.names

    @property
    def values(self) -> dict[str, tuple[str, ...]]:
        """Every attribute's values, by lowercase name (a new dict each time)."""
        return {name: self.get(name) for name in self._shape.order}

    @property
    def operational(self) -> frozenset[str]:
        return self._shape.operational

    @property
    def restricted(self) -> frozenset[str]:
        """Attributes sent to privileged readers only."""
        return self._shape.restricted

    def has(self, attribute: str) -> bool:
        return attribute in self._shape.index

    def attribute_names(self) -> tuple[str, ...]:
        """Lowercase names of every attribute the entry has."""
        return self._shape.order

    def get(self, attribute: str) -> tuple[str, ...]:
        position = self._shape.index.get(attribute)
        if position is None:
            return ()
        values = self._columns[position]
        return (values,) if isinstance(values, str) else values

    def user_attributes(self, privileged: bool = False) -> Iterable[str]:
        """User attribute names; restricted ones only when ``privileged``."""
        hidden = self.operational if privileged else self.operational | self.restricted
        return (a for a in self._shape.order if a not in hidden)

    def may_read(self, attribute: str, privileged: bool) -> bool:
        return privileged or attribute not in self.restricted

    def operational_attributes(self) -> Iterable[str]:
        return (a for a in self._shape.order if a in self.operational)

    def encoded_attribute(self, attribute: str, types_only: bool = False) -> bytes:
        """The PartialAttribute of ``attribute``.

        Not kept: a whole entry's encoding is, and keeping each attribute's
        too would double the memory a sync leaves behind.
        """
        values = () if types_only else self.get(attribute)
        return ber.attribute(self.names[attribute], values)

    def encode(self, attributes: Sequence[str], types_only: bool = False) -> bytes:
        """A SearchResultEntry carrying ``attributes`` (lowercase names).

        The last selection's encoding is kept: a sync asks for the same
        attributes of every entry, every night.
        """
        names = attributes if isinstance(attributes, tuple) else tuple(attributes)
        last = self._last_selection
        if last is not None and last[0] == names and last[1] == types_only:
            return last[2]
        body = b"".join(self.encoded_attribute(a, types_only) for a in names)
        encoded = ber.search_result_entry(ber.octets(self.dn), body)
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
        keys = (rule.normalize(v) for v in self.get(attribute))
        return [k for k in keys if k is not None]

    def __repr__(self) -> str:
        return f"Entry({self.dn!r})"
