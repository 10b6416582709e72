"""The directory information tree built from one snapshot.

Built once per snapshot, then only read: entries sit in depth-first order so
that every subtree is a contiguous range, and equality indexes answer the
lookups PaperCut makes (by username, mail, card, group membership) without a
scan.
"""

from __future__ import annotations

import contextlib
import gc
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from ldapbridge import __version__
from ldapbridge.config import ServiceAccount
from ldapbridge.directory.model import Member, Snapshot
from ldapbridge.ldap import dn, filters, oids, schema
from ldapbridge.ldap.entry import Entry
from ldapbridge.ldap.profiles import Profile
from ldapbridge.text import fold

SCOPE_BASE, SCOPE_ONE, SCOPE_SUB = 0, 1, 2
# OpenLDAP's subordinate scope (ldapsearch -s children): the subtree
# without its base.
SCOPE_CHILDREN = 3


# Attributes with an equality index: the ones searched by value.
# Where an index key's entries are: one position, or several.
Positions = int | tuple[int, ...]

INDEXED = frozenset(
    {
        "objectclass",
        "uid",
        "cn",
        "mail",
        "employeenumber",
        "memberuid",
        "member",
        "memberof",
        "uidnumber",
        "gidnumber",
        "samaccountname",
        "userprincipalname",
        "pager",
        "otherpager",
        "objectcategory",
    }
)

# Attributes holding member DNs, where a bare username is also understood.
MEMBER_ATTRIBUTES = frozenset({"member", "uniquemember"})


class NoSuchEntry(LookupError):
    """The search base is not in the tree; becomes noSuchObject (32)."""


@attrs.define
class Identity:
    """Who an entry may authenticate as: a member or a service account."""

    ndn: str
    member: Member | None = None
    service: ServiceAccount | None = attrs.field(default=None, repr=False)


class DirectoryTree:
    """Entries of one snapshot, with subtree ranges and equality indexes."""

    def __init__(
        self,
        entries: Sequence[Entry],
        identities: Iterable[Identity],
        root_dse: Entry,
        bind_names: Mapping[str, str] = {},
    ) -> None:
        self.root_dse = root_dse
        self.entries = list(entries)
        self.position = {e.ndn: i for i, e in enumerate(self.entries)}
        self.subtree_end = _subtree_ends(self.entries)
        self.index = _build_index(self.entries)
        self.identities = {i.ndn: i for i in identities}
        self.base_ndn = self.entries[0].ndn if self.entries else ""
        # Other names members may bind with (folded), to their DN.
        self.bind_names = {_folded(name): ndn for name, ndn in bind_names.items()}
        self.member_dns = {
            _folded(i.member.username): self.entries[self.position[i.ndn]].dn
            for i in self.identities.values()
            if i.member is not None
        }
        self.restricted = frozenset().union(*(e.restricted for e in self.entries))

    def __len__(self) -> int:
        return len(self.entries)

    def lookup(self, ndn: str) -> Entry | None:
        position = self.position.get(ndn)
        return None if position is None else self.entries[position]

    def identity(self, ndn: str) -> Identity | None:
        return self.identities.get(ndn)

    def identity_by_name(self, name: str) -> Identity | None:
        """Who a bind name means: a profile's other name, else a DN.

        Raises InvalidDN when the name is neither and the profile takes no
        other names; when it does, an unknown name is simply nobody, so that
        a wrong name and a wrong password look alike, as for DNs.
        """
        ndn = self.bind_names.get(fold(name))
        if ndn is None:
            try:
                ndn = dn.normalize(name)
            except dn.InvalidDN:
                if self.bind_names:
                    return None
                raise
        return self.identities.get(ndn)

    def root_dse_search(self, node: filters.Node) -> list[Entry]:
        return [self.root_dse] if filters.evaluate(node, self.root_dse) else []

    def search(
        self, base_ndn: str, scope: int, node: filters.Node, only: str | None = None
    ) -> list[Entry]:
        """Entries in scope of ``base_ndn`` that ``node`` makes True; with
        ``only``, the entry of that DN alone may be among them.

        Raises NoSuchEntry when the base is not in the tree.
        """
        node = self._resolve_usernames(node)
        start, end = self._scope_range(base_ndn, scope)
        if only is None:
            candidates, exact = self._candidates(node)
        else:
            candidates, exact = self._only(only)
        if candidates is None:
            positions: Iterable[int] = range(start, end)
        else:
            positions = sorted(p for p in candidates if start <= p < end)

        # Under the empty base, scope one means the naming context itself,
        # whose parent lies outside the tree: its range alone decides.
        base_parent = base_ndn if scope == SCOPE_ONE and base_ndn else None
        in_scope = (self.entries[p] for p in positions)
        if base_parent is not None:
            in_scope = (e for e in in_scope if e.parent_ndn == base_parent)
        if exact:
            # The indexes answered the whole filter with the same matching
            # rules that evaluation would apply.
            return list(in_scope)
        return [e for e in in_scope if filters.evaluate(node, e) is True]

    def _scope_range(self, base_ndn: str, scope: int) -> tuple[int, int]:
        if base_ndn == "" and scope != SCOPE_BASE:
            # An empty base with a wider scope means "every naming context".
            return (0, 1) if scope == SCOPE_ONE else (0, len(self.entries))

        start = self.position.get(base_ndn)
        if start is None:
            raise NoSuchEntry(base_ndn)
        if scope == SCOPE_BASE:
            return start, start + 1
        first = start + 1 if scope == SCOPE_CHILDREN else start
        return first, self.subtree_end[start]

    def _resolve_usernames(self, node: filters.Node) -> filters.Node:
        """Read a member's username in a member filter as their DN.

        PaperCut fills its group search with the username or the user's DN
        (DESIGN.md); groups here hold DNs, so either finds the groups.
        """
        match node:
            case filters.And(items):
                return filters.And(tuple(map(self._resolve_usernames, items)))
            case filters.Or(items):
                return filters.Or(tuple(map(self._resolve_usernames, items)))
            case filters.Not(item):
                return filters.Not(self._resolve_usernames(item))
            case filters.Compare("=", a, value) | filters.Extensible(_, a, value):
                member_dn = self.member_dns.get(fold(value))
                if a in MEMBER_ATTRIBUTES and member_dn and "=" not in value:
                    return attrs.evolve(node, value=member_dn)
        return node

    def _only(self, ndn: str) -> tuple[set[int] | None, bool]:
        """The position of ``ndn``'s entry alone, to be tested by the filter.

        A member's search can return their own entry and nothing else;
        testing their filter on every entry would let one large filter hold
        the server for seconds.
        """
        position = self.position.get(ndn)
        return ({position} if position is not None else set()), False

    def _candidates(self, node: filters.Node) -> tuple[set[int] | None, bool]:
        """Positions that may match, from the indexes, and whether exactly
        those match; None means any entry may."""
        match node:
            case filters.Compare("=", attribute, value) if attribute in INDEXED:
                key = schema.equality_rule(attribute).normalize(value)
                found = self.index[attribute].get(key, ())
                positions = {found} if isinstance(found, int) else set(found)
                return positions, key is not None
            case filters.And(items) if items:
                plans = [self._candidates(i) for i in items]
                known = [c for c, _ in plans if c is not None]
                if not known:
                    return None, False
                exact = len(known) == len(plans) and all(e for _, e in plans)
                return set.intersection(*known), exact
            case filters.Or(items) if items:
                plans = [self._candidates(i) for i in items]
                if any(c is None for c, _ in plans):
                    return None, False
                union: set[int] = set().union(*(c for c, _ in plans if c))
                return union, all(e for _, e in plans)
        return None, False


def _subtree_ends(entries: list[Entry]) -> list[int]:
    """For each position, the end of its subtree's range (depth-first order)."""
    ends = [len(entries)] * len(entries)
    open_stack: list[int] = []
    for position, entry in enumerate(entries):
        while open_stack and not _is_under(entry, entries[open_stack[-1]]):
            ends[open_stack.pop()] = position
        open_stack.append(position)
    return ends


def _folded(name: str) -> str:
    """``name`` folded as uid compares it; the same string when it already is
    (usernames mostly are), rather than a copy of each kept in the maps."""
    folded = fold(name)
    return name if folded == name else folded


def _is_under(entry: Entry, ancestor: Entry) -> bool:
    return entry.ndn.endswith("," + ancestor.ndn) or not ancestor.ndn


def _build_index(entries: list[Entry]) -> dict[str, dict[object, Positions]]:
    """Map attribute -> comparison key -> positions, for INDEXED attributes."""
    known_ndns: dict[str, object] = {e.dn: e.ndn for e in entries}
    keyers = {a: _keyer(a, known_ndns) for a in INDEXED}
    # A key's first position is kept bare: most keys (a username, a card)
    # have only one, and a list or tuple of one would cost more than it holds.
    # Keys with more gather a list while building and keep a tuple.
    index: dict[str, dict[object, Any]] = {a: {} for a in INDEXED}
    # Which attributes to index depends on the entry's shape alone.
    indexed_by_shape: dict[object, tuple[str, ...]] = {}
    for position, entry in enumerate(entries):
        indexed = indexed_by_shape.get(entry.shape)
        if indexed is None:
            names = entry.attribute_names()
            indexed = indexed_by_shape[entry.shape] = tuple(
                a for a in names if a in INDEXED
            )
        for attribute in indexed:
            keys = index[attribute]
            for key in keyers[attribute].keys(entry.get(attribute)):
                found = keys.get(key)
                if found is None:
                    keys[key] = position
                elif isinstance(found, int):
                    keys[key] = [found, position]
                else:
                    found.append(position)
    for keys in index.values():
        for key, positions in keys.items():
            if isinstance(positions, list):
                keys[key] = tuple(positions)
    return index


# Attributes whose few values repeat across many entries: each value's key is
# worked out once.  Values unique to an entry (a username, a mail) are not
# remembered: that would only hold a copy of each while the tree is built.
REPEATED = frozenset({"objectclass", "objectcategory", "gidnumber"})


def _keyer(attribute: str, known_ndns: dict[str, object]) -> _Keyer:
    rule = schema.equality_rule(attribute)
    if rule is schema.DISTINGUISHED_NAME:
        # DN values (member, memberOf) name entries of this same tree, whose
        # normal forms are known: looking them up beats parsing each DN again.
        return _Keyer(rule, known_ndns)
    return _Keyer(rule, {} if attribute in REPEATED else None)


class _Keyer:
    """Comparison keys of one attribute's values, remembered in ``memo``.

    A key equal to its value (a lowercase username) is the value itself,
    rather than a copy kept for each entry.
    """

    def __init__(
        self, rule: schema.MatchingRule, memo: dict[str, object] | None
    ) -> None:
        self.rule = rule
        self.memo = memo

    def keys(self, values: tuple[str, ...]) -> Iterable[object]:
        """The distinct keys of ``values``, invalid ones left out."""
        if len(values) == 1:
            key = self._key(values[0])
            return () if key is None else (key,)
        keys = {self._key(value) for value in values}
        keys.discard(None)
        return keys

    def _key(self, value: str) -> object:
        memo = self.memo
        if memo is None:
            key = self.rule.normalize(value)
            return value if key == value else key
        key = memo.get(value, _UNSEEN)
        if key is _UNSEEN:
            key = self.rule.normalize(value)
            key = memo[value] = value if key == value else key
        return key


_UNSEEN = object()


def build_tree(
    snapshot: Snapshot,
    profile: Profile,
    services: Sequence[ServiceAccount],
) -> DirectoryTree:
    """Lay out a snapshot's members and groups as entries, in DIT order."""
    with _no_cycle_collection():
        builder = _TreeBuilder(profile)
        builder.add_suffix()
        builder.add_container("people")
        builder.add_members(snapshot)
        builder.add_container("groups")
        builder.add_groups(snapshot)
        builder.add_container("services")
        builder.add_services(services)
        root_dse = _root_dse(profile.layout.base_dn)
        return DirectoryTree(
            builder.entries, builder.identities, root_dse, builder.bind_names
        )


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector while a tree is built.

    A build makes millions of objects that all live on; the collector would
    walk them again and again for nothing (a tenth of a large build's time).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _root_dse(base_dn: str) -> Entry:
    """The server's own entry (RFC 4512 5.1), readable before any bind."""
    return Entry(
        dn="",
        ndn="",
        parent_ndn="",
        attributes={
            "objectClass": ["top", "extensibleObject"],
            "namingContexts": [base_dn],
            "supportedLDAPVersion": ["3"],
            "supportedControl": list(oids.SUPPORTED_CONTROLS),
            "supportedExtension": list(oids.SUPPORTED_EXTENSIONS),
            "vendorName": ["ldapbridge"],
            "vendorVersion": [f"ldapbridge {__version__}"],
        },
    )


class _TreeBuilder:
    """Adds entries in depth-first order, each under the entry added for its
    parent, whose DN and normal form it extends."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.entries: list[Entry] = []
        self.identities: list[Identity] = []
        self.bind_names: dict[str, str] = {}
        # Identical value tuples (objectClass, a plan, a team) are kept once.
        self.shared_values: dict[tuple[str, ...], tuple[str, ...]] = {}
        self.containers: dict[str, Entry] = {}

    def add(
        self,
        parent: Entry,
        rdn: tuple[str, str],
        attributes: dict,
        operational: dict = {},  # noqa: B006 (read only)
        restricted: frozenset[str] = frozenset(),
    ) -> Entry:
        """Add the entry named ``rdn`` (type, unescaped value) under ``parent``."""
        attribute, value = rdn
        entry_dn = f"{attribute}={dn.escape_value(value)},{parent.dn}"
        ndn = dn.child_normal(attribute, value, parent.ndn)
        # Most DNs are already in normal form: keep one string, not two.
        ndn = entry_dn if ndn == entry_dn else ndn
        return self._append(
            entry_dn, ndn, parent.ndn, attributes, operational, restricted
        )

    def _append(
        self,
        entry_dn: str,
        ndn: str,
        parent_ndn: str,
        attributes: dict,
        operational: dict,
        restricted: frozenset[str],
    ) -> Entry:
        entry = Entry(
            dn=entry_dn,
            ndn=ndn,
            parent_ndn=parent_ndn,
            attributes=attributes,
            operational={"entryDN": [entry_dn], **operational},
            restricted=restricted,
            shared=self.shared_values,
        )
        self.entries.append(entry)
        return entry

    def add_suffix(self) -> None:
        base = self.profile.layout.base_dn
        rdns = dn.parse(base)
        attr, value = rdns[0][0]
        object_classes = {
            "dc": ["top", "domain"],
            "o": ["top", "organization"],
            "ou": ["top", "organizationalUnit"],
        }.get(attr.lower(), ["top", "extensibleObject"])
        attributes = {"objectClass": object_classes, attr: [value]}
        ndn, parent_ndn = dn.format_normal(rdns), dn.format_normal(rdns[1:])
        self.suffix = self._append(base, ndn, parent_ndn, attributes, {}, frozenset())

    def add_container(self, name: str) -> None:
        """Add ``ou=<name>`` under the suffix (the layout's people, groups and
        services DNs)."""
        self.containers[name] = self.add(
            self.suffix,
            ("ou", name),
            {"objectClass": ["top", "organizationalUnit"], "ou": [name]},
        )

    def add_members(self, snapshot: Snapshot) -> None:
        groups_of: dict[str, list[str]] = defaultdict(list)
        all_gid = self.profile.settings.gid_number_base
        for group in snapshot.groups:
            group_dn = self.profile.group_dn(group)
            for username in group.usernames:
                groups_of[username].append(group_dn)
            if group.kind == "all":
                all_gid = group.gid_number

        people = self.containers["people"]
        self.member_dns: dict[str, str] = {}
        for member in snapshot.members:
            group_dns = groups_of[member.username]
            entry = self.add(
                people,
                (self.profile.user_rdn, member.username),
                self.profile.member_attributes(member, all_gid, group_dns),
                self.profile.member_operational(group_dns),
                self.profile.restricted,
            )
            self.member_dns[member.username] = entry.dn
            self.identities.append(Identity(entry.ndn, member=member))
            for name in self.profile.bind_names(member):
                self.bind_names[name] = entry.ndn

    def add_groups(self, snapshot: Snapshot) -> None:
        groups = self.containers["groups"]
        for group in snapshot.groups:
            member_dns = [self.member_dns[u] for u in group.usernames]
            self.add(
                groups,
                ("cn", group.name),
                self.profile.group_attributes(group, member_dns),
            )

    def add_services(self, services: Sequence[ServiceAccount]) -> None:
        for account in services:
            entry = self.add(
                self.containers["services"],
                ("cn", account.name),
                self.profile.service_attributes(account.name),
            )
            self.identities.append(Identity(entry.ndn, service=account))
