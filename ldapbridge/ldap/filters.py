"""Search filters (RFC 4511 4.5.1, RFC 4515): conversion and evaluation.

ldaptor decodes a filter into its BER objects; the bridge converts that once
per request into small frozen nodes, which it then evaluates against entries
with three-valued logic: True, False, or None for Undefined.
"""

from __future__ import annotations

from typing import Any

import attrs
from ldaptor.protocols import pureldap

from ldapbridge.ldap import dn, schema
from ldapbridge.ldap.entry import Entry
from ldapbridge.text import fold

MAX_DEPTH = 64


class FilterError(ValueError):
    """A filter the server cannot accept; becomes protocolError (2)."""


@attrs.frozen
class And:
    items: tuple[Node, ...]


@attrs.frozen
class Or:
    items: tuple[Node, ...]


@attrs.frozen
class Not:
    item: Node


@attrs.frozen
class Compare:
    """Equality, ordering or approximate match of one attribute."""

    op: str  # "=", ">=", "<=", "~="
    attribute: str
    value: str


@attrs.frozen
class Substrings:
    attribute: str
    initial: str | None
    any: tuple[str, ...]
    final: str | None


@attrs.frozen
class Present:
    attribute: str


@attrs.frozen
class Extensible:
    rule: str | None
    attribute: str | None
    value: str
    dn_attributes: bool
    # With no attribute named, every attribute is tried except these.
    skip: frozenset[str] = frozenset()


Node = And | Or | Not | Compare | Substrings | Present | Extensible
NODE_TYPES = (And, Or, Not, Compare, Substrings, Present, Extensible)


def convert(ldap_filter: Any, depth: int = 0) -> Node:
    """Convert ldaptor's decoded filter; raise FilterError if too deep.

    A filter already decoded into nodes (see ldap/decode.py) is returned as is.
    """
    if isinstance(ldap_filter, NODE_TYPES):
        return ldap_filter
    if depth > MAX_DEPTH:
        raise FilterError(f"filter nested deeper than {MAX_DEPTH} levels")

    if isinstance(ldap_filter, pureldap.LDAPFilter_and):
        return And(tuple(convert(f, depth + 1) for f in ldap_filter))
    if isinstance(ldap_filter, pureldap.LDAPFilter_or):
        return Or(tuple(convert(f, depth + 1) for f in ldap_filter))
    if isinstance(ldap_filter, pureldap.LDAPFilter_not):
        return Not(convert(ldap_filter.value, depth + 1))
    if isinstance(ldap_filter, pureldap.LDAPFilter_present):
        return Present(_text(ldap_filter.value).lower())
    if isinstance(ldap_filter, pureldap.LDAPFilter_substrings):
        return _substrings(ldap_filter)
    if isinstance(ldap_filter, pureldap.LDAPFilter_extensibleMatch):
        return _extensible(ldap_filter)
    for cls, op in _COMPARISONS:
        if isinstance(ldap_filter, cls):
            return Compare(
                op,
                _text(ldap_filter.attributeDesc.value).lower(),
                _text(ldap_filter.assertionValue.value),
            )
    raise FilterError(f"unsupported filter {type(ldap_filter).__name__}")


_COMPARISONS = (
    (pureldap.LDAPFilter_equalityMatch, "="),
    (pureldap.LDAPFilter_greaterOrEqual, ">="),
    (pureldap.LDAPFilter_lessOrEqual, "<="),
    (pureldap.LDAPFilter_approxMatch, "~="),
)


def _text(value: bytes | str) -> str:
    if isinstance(value, str):
        return value
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise FilterError("filter value is not valid UTF-8") from None


def _substrings(f: Any) -> Substrings:
    initial = final = None
    middle = []
    for piece in f.substrings:
        text = _text(piece.value)
        if isinstance(piece, pureldap.LDAPFilter_substrings_initial):
            initial = text
        elif isinstance(piece, pureldap.LDAPFilter_substrings_final):
            final = text
        else:
            middle.append(text)
    return Substrings(_text(f.type).lower(), initial, tuple(middle), final)


def _extensible(f: Any) -> Extensible:
    return Extensible(
        rule=_text(f.matchingRule.value) if f.matchingRule else None,
        attribute=_text(f.type.value).lower() if f.type else None,
        value=_text(f.matchValue.value),
        dn_attributes=bool(f.dnAttributes and f.dnAttributes.value),
    )


def evaluate(node: Node, entry: Entry) -> bool | None:
    """Evaluate ``node`` on ``entry``: True, False, or None for Undefined."""
    match node:
        case And(items):
            return _all(evaluate(i, entry) for i in items)
        case Or(items):
            return _any(evaluate(i, entry) for i in items)
        case Not(item):
            result = evaluate(item, entry)
            return None if result is None else not result
        case Present(attribute):
            return attribute == "objectclass" or bool(entry.get(attribute))
        case Compare():
            return _compare(node, entry)
        case Substrings():
            return _match_substrings(node, entry)
        case Extensible():
            return _match_extensible(node, entry)
    raise AssertionError(node)


def _all(results: Any) -> bool | None:
    undefined = False
    for r in results:
        if r is False:
            return False
        undefined = undefined or r is None
    return None if undefined else True


def _any(results: Any) -> bool | None:
    undefined = False
    for r in results:
        if r is True:
            return True
        undefined = undefined or r is None
    return None if undefined else False


def _compare(node: Compare, entry: Entry) -> bool | None:
    rule = schema.equality_rule(node.attribute)
    if node.op == "~=":
        return _approximate(node, entry)

    wanted = rule.normalize(node.value)
    if wanted is None:
        return None
    keys = entry.keys(node.attribute, rule)
    if node.op == "=":
        return wanted in keys
    if not rule.ordered:
        return None
    if node.op == ">=":
        return any(k >= wanted for k in keys)
    return any(k <= wanted for k in keys)


def _approximate(node: Compare, entry: Entry) -> bool:
    """Approximate match: equal once case, spaces and punctuation are ignored."""

    def squash(text: str) -> str:
        return "".join(c for c in fold(text) if c.isalnum())

    wanted = squash(node.value)
    return any(squash(v) == wanted for v in entry.get(node.attribute))


def _match_substrings(node: Substrings, entry: Entry) -> bool | None:
    rule = schema.equality_rule(node.attribute)
    if not rule.substrings:
        return None
    fold = schema.CASE_IGNORE.normalize
    initial = fold(node.initial) if node.initial is not None else None
    final = fold(node.final) if node.final is not None else None
    middle = [fold(p) for p in node.any]
    return any(
        _substring_fits(fold(v), initial, middle, final)
        for v in entry.get(node.attribute)
    )


def _substring_fits(
    value: str, initial: str | None, middle: list[str], final: str | None
) -> bool:
    start, end = 0, len(value)
    if initial is not None:
        if not value.startswith(initial):
            return False
        start = len(initial)
    if final is not None:
        if not value.endswith(final) or end - len(final) < start:
            return False
        end -= len(final)
    for piece in middle:
        found = value.find(piece, start, end)
        if found < 0:
            return False
        start = found + len(piece)
    return True


def _match_extensible(node: Extensible, entry: Entry) -> bool | None:
    if node.attribute:
        attributes = [node.attribute]
    else:
        attributes = [a for a in entry.attribute_names() if a not in node.skip]
    results = [_extensible_on(node, a, entry.get(a)) for a in attributes]
    if node.dn_attributes:
        results.extend(_extensible_on_dn(node, entry))
    return _any(results)


def _extensible_on(node: Extensible, attribute: str, values: tuple[str, ...]):
    rule_key = (node.rule or "").lower()
    if rule_key in (schema.BIT_AND_OID, schema.BIT_OR_OID):
        return _bitwise(rule_key, node.value, values)
    if rule_key == schema.IN_CHAIN_OID:
        rule = schema.DISTINGUISHED_NAME
    elif rule_key:
        found = schema.RULES_BY_KEY.get(rule_key)
        if found is None:
            return None
        rule = found
    else:
        rule = schema.equality_rule(attribute)

    wanted = rule.normalize(node.value)
    if wanted is None:
        return None
    return any(rule.normalize(v) == wanted for v in values)


def _bitwise(rule_key: str, assertion: str, values: tuple[str, ...]) -> bool | None:
    mask = schema.INTEGER.normalize(assertion)
    if mask is None:
        return None
    numbers = [schema.INTEGER.normalize(v) for v in values]
    if rule_key == schema.BIT_AND_OID:
        return any(n is not None and n & mask == mask for n in numbers)
    return any(n is not None and n & mask != 0 for n in numbers)


def _extensible_on_dn(node: Extensible, entry: Entry) -> list[bool | None]:
    """With dnAttributes set, the DN's own attribute values also count."""
    results: list[bool | None] = []
    for rdn in dn.parse(entry.dn):
        for attribute, value in rdn:
            if node.attribute in (None, attribute.lower()):
                results.append(_extensible_on(node, attribute.lower(), (value,)))
    return results


# Stands in for an attribute the reader may not see: no entry has it.
HIDDEN_ATTRIBUTE = "\0hidden"


def hide(node: Node, attributes: frozenset[str]) -> Node:
    """``node`` with every test of ``attributes`` made a test of an absent one.

    A reader who may not read an attribute (a member, a PIN) thus learns
    nothing about its values from which entries match.
    """
    match node:
        case And(items):
            return And(tuple(hide(i, attributes) for i in items))
        case Or(items):
            return Or(tuple(hide(i, attributes) for i in items))
        case Not(item):
            return Not(hide(item, attributes))
        case Extensible(attribute=None):
            return attrs.evolve(node, skip=node.skip | attributes)
        case Present(a) | Compare(_, a) | Substrings(a) | Extensible(_, a):
            if a in attributes:
                return attrs.evolve(node, attribute=HIDDEN_ATTRIBUTE)
    return node


def to_text(node: Node, masked: frozenset[str] = frozenset()) -> str:
    """The RFC 4515 string form of a filter, for logs.

    Values tested against ``masked`` attributes (passwords, PINs) are written
    as ``***``: a client may send a secret in a filter, and logs keep none.
    """
    match node:
        case And(items):
            return "(&" + "".join(to_text(i, masked) for i in items) + ")"
        case Or(items):
            return "(|" + "".join(to_text(i, masked) for i in items) + ")"
        case Not(item):
            return "(!" + to_text(item, masked) + ")"
        case Present(attribute):
            return f"({attribute}=*)"
        case Compare(op, attribute, value):
            return f"({attribute}{op}{_shown(attribute, value, masked)})"
        case Substrings(attribute, initial, middle, final):
            if _is_masked(attribute, masked):
                return f"({attribute}={MASK})"
            pieces = [initial or "", *middle, final or ""]
            return f"({attribute}=" + "*".join(_escape(p) for p in pieces) + ")"
        case Extensible(rule, attribute, value, dn_attributes):
            dn_part = ":dn" if dn_attributes else ""
            rule_part = f":{rule}" if rule else ""
            shown = _shown(attribute or "", value, masked)
            return f"({attribute or ''}{dn_part}{rule_part}:={shown})"
    raise AssertionError(node)


MASK = "***"


def _is_masked(attribute: str, masked: frozenset[str]) -> bool:
    # Options (userPassword;binary) name the same attribute.
    return attribute.split(";", 1)[0] in masked


def _shown(attribute: str, value: str, masked: frozenset[str]) -> str:
    return MASK if _is_masked(attribute, masked) else _escape(value)


def _escape(value: str) -> str:
    return "".join(f"\\{ord(c):02x}" if c in "*()\\\0" else c for c in value)
