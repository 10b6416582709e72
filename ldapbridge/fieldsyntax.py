"""The small languages of an HTTP source's mapping: paths, fields and rules.

They are parsed when the config is read, so that a typo is a config error
naming its key rather than a failed refresh hours later.  Evaluation against
a platform's JSON lives in ldapbridge/directory/mapping.py.

    path        Email   address.company   teams.*.name   properties[property=Card].value
    field       FullName | name + surname | 'Main space'
    transforms  lowercase, digits, hex_to_decimal, split(;)
    rule        Active and !Archived   status = active | trial   !ends or ends >= today
"""

from __future__ import annotations

import re

import attrs

TRANSFORMS = ("lowercase", "uppercase", "digits", "hex_to_decimal", "split")
COMPARISONS = (">=", "<=", "!=", "=", ">", "<")

_SEGMENT = re.compile(
    r"^(?P<key>[^\[\]]*)(?:\[(?P<field>[^=\]]+)=(?P<value>[^\]]*)\])?$"
)
_TRANSFORM = re.compile(r"^(?P<name>[a-z_]+)(?:\((?P<argument>[^)]*)\))?$")


class FieldSyntaxError(ValueError):
    """Text that is not a valid path, field expression, transform list or rule."""


@attrs.frozen
class Step:
    """One step of a path: a key, every item of a list, or the item whose
    ``field`` equals ``value``."""

    kind: str
    name: str = ""
    value: str = ""


@attrs.frozen
class JsonPath:
    steps: tuple[Step, ...]
    text: str


@attrs.frozen
class Literal:
    value: str


@attrs.frozen
class Alternative:
    """Terms whose values are joined with a space ("name + surname")."""

    terms: tuple[JsonPath | Literal, ...]


@attrs.frozen
class FieldExpression:
    """Alternatives tried in order; the first that yields a value wins."""

    alternatives: tuple[Alternative, ...]
    text: str


@attrs.frozen
class Transform:
    name: str
    argument: str = ""


@attrs.frozen
class Test:
    """One clause of a rule: ``path`` compared by ``op`` with ``values``."""

    path: JsonPath
    op: str
    values: tuple[str, ...] = ()


@attrs.frozen
class AllOf:
    items: tuple[Test, ...]


@attrs.frozen
class AnyOf:
    items: tuple[AllOf, ...]
    text: str


def parse_path(text: str) -> JsonPath:
    """Parse a dotted path; raise FieldSyntaxError."""
    text = text.strip()
    if not text:
        raise FieldSyntaxError("an empty path")

    steps: list[Step] = []
    for segment in _split_outside(text, "."):
        steps.extend(_segment_steps(segment, text))
    return JsonPath(tuple(steps), text)


def _split_outside(text: str, separator: str, brackets: str = "[]") -> list[str]:
    """Split ``text`` at ``separator`` where it is not inside ``brackets``."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        depth += {brackets[0]: 1, brackets[1]: -1}.get(char, 0)
        if char == separator and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _segment_steps(segment: str, text: str) -> list[Step]:
    found = _SEGMENT.match(segment.strip())
    if found is None or not (found["key"] or found["field"]):
        raise FieldSyntaxError(f"path {text!r} has a bad segment {segment!r}")

    steps = []
    key = found["key"].strip()
    if key == "*":
        steps.append(Step("each"))
    elif key:
        steps.append(Step("key", key))
    if found["field"] is not None:
        steps.append(Step("match", found["field"].strip(), found["value"].strip()))
    return steps


def parse_expression(text: str) -> FieldExpression:
    """Parse ``a | b + c | 'literal'``; raise FieldSyntaxError."""
    alternatives = []
    for alternative in _split_outside(text, "|"):
        parts = _split_outside(alternative, "+")
        terms = tuple(_term(t.strip(), text) for t in parts)
        alternatives.append(Alternative(terms))
    return FieldExpression(tuple(alternatives), text.strip())


def _term(text: str, whole: str) -> JsonPath | Literal:
    if not text:
        raise FieldSyntaxError(f"field {whole!r} has an empty term")
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return Literal(text[1:-1])
    return parse_path(text)


def parse_transforms(text: str) -> tuple[Transform, ...]:
    """Parse ``lowercase, split(;)``; raise FieldSyntaxError."""
    transforms = []
    for item in _split_outside(text, ",", "()"):
        if not item.strip():
            continue
        found = _TRANSFORM.match(item.strip())
        if found is None or found["name"] not in TRANSFORMS:
            raise FieldSyntaxError(
                f"unknown transform {item.strip()!r}; known: {', '.join(TRANSFORMS)}"
            )
        argument = found["argument"]
        if found["name"] == "split":
            argument = argument or ","
        elif argument is not None:
            raise FieldSyntaxError(f"transform {found['name']} takes no argument")
        transforms.append(Transform(found["name"], argument or ""))
    return tuple(transforms)


def parse_rule(text: str) -> AnyOf:
    """Parse clauses joined by ``and`` / ``or`` (``and`` binds tighter)."""
    alternatives = []
    for branch in re.split(r"\s+or\s+", text.strip()):
        clauses = re.split(r"\s+and\s+", branch.strip())
        alternatives.append(AllOf(tuple(_clause(c.strip(), text) for c in clauses)))
    return AnyOf(tuple(alternatives), text.strip())


def _clause(clause: str, text: str) -> Test:
    if not clause:
        raise FieldSyntaxError(f"rule {text!r} has an empty clause")
    found = _find_comparison(clause)
    if found is not None:
        at, op = found
        left, right = clause[:at], clause[at + len(op) :]
        return _comparison(left.strip(), op, right.strip(), text)
    if clause.startswith("!"):
        return Test(parse_path(clause[1:]), "falsy")
    if clause.startswith("not "):
        return Test(parse_path(clause[4:]), "falsy")
    return Test(parse_path(clause), "truthy")


def _find_comparison(clause: str) -> tuple[int, str] | None:
    """The first comparison operator outside ``[...]``, with its position."""
    depth = 0
    for at, char in enumerate(clause):
        depth += {"[": 1, "]": -1}.get(char, 0)
        if depth:
            continue
        for op in COMPARISONS:
            if clause.startswith(op, at):
                return at, op
    return None


def _comparison(left: str, op: str, right: str, text: str) -> Test:
    if not right:
        raise FieldSyntaxError(f"rule {text!r}: nothing after {op!r}")
    if op in ("=", "!="):
        values = tuple(v.strip() for v in right.split("|") if v.strip())
        return Test(parse_path(left), op, values)
    if right != "today" and not _is_number(right):
        raise FieldSyntaxError(f"rule {text!r}: {op} compares with 'today' or a number")
    return Test(parse_path(left), op, (right,))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
