"""Turn one platform record (decoded JSON) into a MemberRecord.

The paths, field expressions and rules come parsed from the config
(ldapbridge/fieldsyntax.py); this module applies them.  A record that cannot
be read raises RecordProblem with the record's id and the reason, so the
refresh can report it and carry on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from ldapbridge.directory.model import MemberRecord
from ldapbridge.fieldsyntax import Alternative, AnyOf, JsonPath, Literal, Test
from ldapbridge.httpconfig import HttpSourceSettings
from ldapbridge.mappingconfig import FieldRule

Lookups = Mapping[str, Mapping[str, str]]

FALSE_WORDS = frozenset({"", "false", "0", "no", "off"})


class RecordProblem(Exception):
    """A record left out of the directory, and why."""

    def __init__(self, reason: str, member_id: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.member_id = member_id


def resolve(path: JsonPath, document: Any) -> list[Any]:
    """Every value ``path`` reaches in ``document``; [] when it reaches none."""
    values = [document]
    for step in path.steps:
        found: list[Any] = []
        for value in values:
            found.extend(_step(step.kind, step.name, step.value, value))
        values = found
    return values


def _step(kind: str, name: str, wanted: str, value: Any) -> list[Any]:
    if kind == "key":
        if isinstance(value, dict) and name in value:
            return [value[name]]
        if isinstance(value, list) and name.isdigit() and int(name) < len(value):
            return [value[int(name)]]
        return []
    if not isinstance(value, list):
        return []
    if kind == "each":
        return list(value)
    for item in value:
        if isinstance(item, dict) and text_of(item.get(name), name) == wanted:
            return [item]
    return []


def text_of(value: Any, where: str) -> str:
    """A JSON scalar as text ("" for null); RecordProblem for an object or list."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return value.strip()
    raise RecordProblem(f"{where} is a JSON {type(value).__name__}, not a value")


def texts(values: list[Any], where: str) -> list[str]:
    """The non-empty texts of ``values``, a list of scalars counting as each."""
    found: list[str] = []
    for value in values:
        items = value if isinstance(value, list) else [value]
        found.extend(text_of(item, where) for item in items)
    return [text for text in found if text]


def field_values(
    field: str, rule: FieldRule, document: Any, lookups: Lookups
) -> list[str]:
    """The values of one member field: the first alternative that has any,
    looked up and transformed."""
    values: list[str] = []
    for alternative in rule.expression.alternatives:
        values = _alternative(alternative, document, field)
        if values:
            break

    if rule.lookup:
        table = lookups.get(rule.lookup, {})
        values = [table[v] for v in values if v in table]
    for transform in rule.transforms:
        values = _transform(transform.name, transform.argument, values, field)
    return [v for v in values if v]


def _alternative(alternative: Alternative, document: Any, field: str) -> list[str]:
    """A single term's values, or the first value of each term joined by a space."""
    parts = []
    for term in alternative.terms:
        if isinstance(term, Literal):
            parts.append([term.value] if term.value else [])
        else:
            parts.append(texts(resolve(term, document), f"{field} ({term.text})"))
    if len(parts) == 1:
        return parts[0]
    joined = " ".join(values[0] for values in parts if values)
    return [joined] if joined else []


def _transform(name: str, argument: str, values: list[str], field: str) -> list[str]:
    if name == "lowercase":
        return [v.lower() for v in values]
    if name == "uppercase":
        return [v.upper() for v in values]
    if name == "digits":
        return ["".join(c for c in v if c.isdigit()) for v in values]
    if name == "split":
        return [p.strip() for v in values for p in v.split(argument) if p.strip()]
    return [_hex_to_decimal(v, field) for v in values]


def _hex_to_decimal(value: str, field: str) -> str:
    try:
        return str(int(value, 16))
    except ValueError:
        raise RecordProblem(f"{field} {value!r} is not hexadecimal") from None


def to_record(
    document: Any,
    settings: HttpSourceSettings,
    lookups: Lookups,
    today: dt.date,
) -> MemberRecord:
    """The MemberRecord of one platform record; raise RecordProblem."""
    if not isinstance(document, dict):
        raise RecordProblem(f"a JSON {type(document).__name__}, not an object")
    member_id = _first(
        field_values("member_id", _rule(settings, "member_id"), document, lookups)
    )
    if not member_id:
        raise RecordProblem("no member id")

    try:
        return _record(member_id, document, settings, lookups, today)
    except RecordProblem as e:
        raise RecordProblem(e.reason, member_id) from None


def _record(
    member_id: str,
    document: dict[str, Any],
    settings: HttpSourceSettings,
    lookups: Lookups,
    today: dt.date,
) -> MemberRecord:
    values = {
        field: field_values(field, rule, document, lookups)
        for field, rule in settings.fields.items()
    }

    def one(field: str) -> str:
        return _first(values.get(field, []))

    active = (
        True
        if settings.active is None
        else rule_holds(settings.active, document, today)
    )
    return MemberRecord(
        member_id=member_id,
        full_name=one("full_name")
        or " ".join(filter(None, (one("given_name"), one("surname")))),
        given_name=one("given_name"),
        surname=one("surname"),
        email=one("email"),
        company=one("company"),
        teams=tuple(dict.fromkeys(values.get("teams", []))),
        plan=one("plan"),
        location=one("location"),
        card=one("card"),
        pin=one("pin"),
        active=active,
    )


def _rule(settings: HttpSourceSettings, field: str) -> FieldRule:
    return settings.fields[field]


def _first(values: list[str]) -> str:
    return values[0] if values else ""


def rule_holds(rule: AnyOf, document: Any, today: dt.date) -> bool:
    """True if any ``or`` branch has every ``and`` clause true."""
    return any(
        all(_test(test, document, today) for test in branch.items)
        for branch in rule.items
    )


def _test(test: Test, document: Any, today: dt.date) -> bool:
    where = f"active rule ({test.path.text})"
    found = resolve(test.path, document)
    value = found[0] if found else None
    if test.op in ("truthy", "falsy"):
        return truthy(value) == (test.op == "truthy")

    text = text_of(value, where)
    if test.op in ("=", "!="):
        matched = text.lower() in {v.lower() for v in test.values}
        return matched == (test.op == "=")
    if not text:
        return False
    return _compare(test.op, value, test.values[0], today, where)


def _compare(op: str, value: Any, right: str, today: dt.date, where: str) -> bool:
    left: Any
    other: Any
    if right == "today":
        left, other = parse_date(value, where), today
    else:
        left, other = _number(value, where), float(right)
    return {
        ">=": left >= other,
        ">": left > other,
        "<=": left <= other,
        "<": left < other,
    }[op]


def truthy(value: Any) -> bool:
    """JSON truth, with "false", "0", "no" and "off" also false."""
    if isinstance(value, str):
        return value.strip().lower() not in FALSE_WORDS
    return bool(value)


def parse_date(value: Any, where: str) -> dt.date:
    """A date from ISO 8601, 2026/01/31 (Cobot) or Unix seconds (Optix)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value, dt.UTC).date()
    text = text_of(value, where)
    if text.isdigit():
        return dt.datetime.fromtimestamp(int(text), dt.UTC).date()
    try:
        return dt.date.fromisoformat(text[:10].replace("/", "-"))
    except ValueError:
        raise RecordProblem(f"{where}: {text!r} is not a date") from None


def _number(value: Any, where: str) -> float:
    try:
        return float(text_of(value, where))
    except ValueError:
        raise RecordProblem(f"{where}: {value!r} is not a number") from None
