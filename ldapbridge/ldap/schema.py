"""Attribute types and matching rules: how values are compared.

Each attribute has an equality rule, and the ordering it implies for >= and
<=.  A rule's ``normalize`` returns the comparison key of a value, or None
when the value is not valid for that rule (the filter item is then Undefined,
RFC 4511 4.5.1.7).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from ldapbridge import text
from ldapbridge.ldap import dn


def _case_ignore(value: str) -> str:
    return text.fold(value)


def _case_exact(value: str) -> str:
    return text.fold_spaces(value)


def _numeric_string(value: str) -> str | None:
    digits = value.replace(" ", "")
    return digits if digits.isdigit() else None


def _integer(value: str) -> int | None:
    try:
        return int(value.strip())
    except ValueError:
        return None


def _distinguished_name(value: str) -> str | None:
    try:
        return dn.normalize(value)
    except dn.InvalidDN:
        return None


@attrs.frozen
class MatchingRule:
    name: str
    oid: str
    normalize: Callable[[str], Any]
    ordered: bool = True
    substrings: bool = True


CASE_IGNORE = MatchingRule("caseIgnoreMatch", "2.5.13.2", _case_ignore)
CASE_EXACT = MatchingRule("caseExactMatch", "2.5.13.5", _case_exact)
NUMERIC_STRING = MatchingRule("numericStringMatch", "2.5.13.8", _numeric_string)
INTEGER = MatchingRule("integerMatch", "2.5.13.14", _integer, substrings=False)
DISTINGUISHED_NAME = MatchingRule(
    "distinguishedNameMatch",
    "2.5.13.1",
    _distinguished_name,
    ordered=False,
    substrings=False,
)
OBJECT_IDENTIFIER = MatchingRule(
    "objectIdentifierMatch", "2.5.13.0", _case_ignore, ordered=False
)
CASE_IGNORE_IA5 = MatchingRule(
    "caseIgnoreIA5Match", "1.3.6.1.4.1.1466.109.114.2", _case_ignore
)
CASE_EXACT_IA5 = MatchingRule(
    "caseExactIA5Match", "1.3.6.1.4.1.1466.109.114.1", _case_exact
)

STANDARD_RULES = (
    CASE_IGNORE,
    CASE_EXACT,
    NUMERIC_STRING,
    INTEGER,
    DISTINGUISHED_NAME,
    OBJECT_IDENTIFIER,
    CASE_IGNORE_IA5,
    CASE_EXACT_IA5,
)

# Rules looked up by OID or by name, case-insensitively.
RULES_BY_KEY = {
    key.lower(): rule for rule in STANDARD_RULES for key in (rule.name, rule.oid)
}

# Active Directory's bitwise rules, applied to integer attributes.
BIT_AND_OID = "1.2.840.113556.1.4.803"
BIT_OR_OID = "1.2.840.113556.1.4.804"
# AD's "in chain" rule; groups here are never nested, so it is DN equality.
IN_CHAIN_OID = "1.2.840.113556.1.4.1941"

INTEGER_ATTRIBUTES = ("uidnumber", "gidnumber", "useraccountcontrol", "grouptype")
DN_ATTRIBUTES = (
    "member",
    "memberof",
    "entrydn",
    "namingcontexts",
    "manager",
    "distinguishedname",
    "groupmembership",
    "uniquemember",
)
OID_ATTRIBUTES = ("supportedcontrol", "supportedextension")

# Never sent to a client, whoever asks (DESIGN.md, safety rules).  A member's
# PIN is not among them: PaperCut reads it (user-pin-field), so profiles mark
# it restricted, for service accounts only (see entry.Entry).
SECRET_ATTRIBUTES = frozenset({"userpassword", "unicodepwd"})


def equality_rule(attribute: str) -> MatchingRule:
    """The equality rule of ``attribute`` (lowercase name)."""
    if attribute in INTEGER_ATTRIBUTES:
        return INTEGER
    if attribute in DN_ATTRIBUTES:
        return DISTINGUISHED_NAME
    if attribute in OID_ATTRIBUTES:
        return OBJECT_IDENTIFIER
    return CASE_IGNORE
