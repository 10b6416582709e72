"""The mapping of an HTTP source: its listings, member fields and password check.

Reads [source.members], [source.lookup.<name>], [source.fields] and
[source.password_check] into frozen values; the paths, field expressions and
rules in them are parsed here (ldapbridge/fieldsyntax.py), so a typo is a
config error naming its key.
"""

from __future__ import annotations

import string
import urllib.parse
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import attrs

from ldapbridge.fieldsyntax import (
    AnyOf,
    FieldExpression,
    FieldSyntaxError,
    JsonPath,
    Transform,
    parse_expression,
    parse_path,
    parse_rule,
    parse_transforms,
)

if TYPE_CHECKING:
    from ldapbridge.configsection import _Section

    SectionFactory = Callable[[str], _Section]

T = TypeVar("T")

PAGING_STYLES = ("none", "page", "cursor", "cursor_header", "next_link")
CHANGED_SINCE_FORMATS = ("iso", "epoch")
MEMBER_FIELDS = (
    "member_id",
    "full_name",
    "given_name",
    "surname",
    "email",
    "company",
    "teams",
    "plan",
    "location",
    "card",
    "pin",
)
REQUIRED_FIELDS = ("member_id", "email")
CHECK_PLACEHOLDERS = ("email", "username", "member_id", "password")
CHECK_KEYS = ("format", "fields", "valid_statuses", "invalid_statuses", "timeout_s")

MEMBERS_SECTION = "source.members"
FIELDS_SECTION = "source.fields"
CHECK_SECTION = "source.password_check"
LOOKUP_PREFIX = "source.lookup."


@attrs.frozen
class CollectionSettings:
    """One listing the source reads, and how its pages follow each other."""

    name: str
    path: str
    records: JsonPath | None = None
    paging: str = "none"
    page_param: str = "page"
    size_param: str = "size"
    page_size: int = 100
    first_page: int = 1
    has_more: JsonPath | None = None
    total: JsonPath | None = None
    cursor_param: str = "cursor"
    cursor: JsonPath | None = None
    cursor_header: str = ""
    next: JsonPath | None = None
    params: tuple[tuple[str, str], ...] = ()
    graphql: str = ""
    rate_per_minute: int = 0
    changed_since_param: str = ""
    changed_since_format: str = "iso"
    key: JsonPath | None = None
    value: JsonPath | None = None


@attrs.frozen
class FieldRule:
    """Where one member field comes from, and what is done to it."""

    expression: FieldExpression
    lookup: str = ""
    transforms: tuple[Transform, ...] = ()


@attrs.frozen
class PasswordCheckSettings:
    """Ask the platform whether a member's password is right."""

    path: str
    format: str = "form"
    fields: tuple[tuple[str, str], ...] = ()
    valid_statuses: tuple[int, ...] = (200,)
    invalid_statuses: tuple[int, ...] = (400, 401, 403)
    timeout_s: float = 5.0


def is_mapping_section(name: str) -> bool:
    """True for the [source.*] sections an HTTP source reads."""
    if name in (MEMBERS_SECTION, FIELDS_SECTION, CHECK_SECTION):
        return True
    return name.startswith(LOOKUP_PREFIX) and len(name) > len(LOOKUP_PREFIX)


def read_listings(
    make_section: SectionFactory, names: list[str], organization: str
) -> tuple[CollectionSettings, tuple[CollectionSettings, ...]]:
    """The members listing and the lookup listings; ConfigError on a bad key."""
    members = _finish(make_section(MEMBERS_SECTION), _members, organization)
    lookups = tuple(
        _finish(make_section(name), _lookup, organization)
        for name in names
        if name.startswith(LOOKUP_PREFIX)
    )
    return members, lookups


def read_fields(
    make_section: SectionFactory, lookups: tuple[CollectionSettings, ...]
) -> tuple[dict[str, FieldRule], AnyOf | None]:
    """The member fields and the active rule; ConfigError on a bad key."""
    s = make_section(FIELDS_SECTION)
    fields = _fields(s, {c.name for c in lookups})
    active = _active(s)
    s.check_unknown()
    return fields, active


def read_statuses(s: _Section, key: str, default: tuple[int, ...]) -> tuple[int, ...]:
    """HTTP statuses listed under ``key``; ConfigError for anything else."""

    def convert(raw: str) -> tuple[int, ...]:
        codes = tuple(int(w) for w in raw.replace(",", " ").split())
        if not all(100 <= c <= 599 for c in codes):
            raise ValueError(raw)
        return codes

    return s.parse(key, default, convert, "a comma-separated list of HTTP statuses")


def _finish(
    s: _Section,
    read: Callable[[_Section, str], CollectionSettings],
    organization: str,
) -> CollectionSettings:
    collection = read(s, organization)
    s.check_unknown()
    return collection


def _collection(s: _Section, organization: str, name: str) -> CollectionSettings:
    """The keys every listing has: path, records, paging, rate."""
    paging = s.choice("paging", "none", PAGING_STYLES)
    collection = CollectionSettings(
        name=name,
        path=_collection_path(s, organization),
        records=_optional_path(s, "records"),
        paging=paging,
        page_param=s.text("page_param", "page"),
        size_param=s.text("size_param", "size" if paging == "page" else ""),
        page_size=s.integer("page_size", 100, 1, 100000),
        first_page=s.integer("first_page", 1, 0, 1),
        has_more=_optional_path(s, "has_more"),
        total=_optional_path(s, "total"),
        cursor_param=s.text("cursor_param", "cursor"),
        cursor=_optional_path(s, "cursor"),
        cursor_header=s.text("cursor_header", ""),
        next=_optional_path(s, "next"),
        params=_params(s),
        graphql=s.text("graphql", ""),
        rate_per_minute=s.integer("rate_per_minute", 0, 0, 100000),
    )
    _check_paging(s, collection)
    return collection


def _collection_path(s: _Section, organization: str) -> str:
    path = s.text("path", "")
    if "{organization}" in path and not organization:
        s.fail("path", "[source] organization to be set for {organization}", path)
    path = path.replace("{organization}", urllib.parse.quote(organization, safe=""))
    if not path.startswith("/"):
        s.fail("path", "a path starting with /", found_text(path))
    return path


def _check_paging(s: _Section, c: CollectionSettings) -> None:
    if c.paging == "cursor" and c.cursor is None:
        s.fail("cursor", "the path of the next cursor (paging = cursor)", "nothing")
    if c.paging == "cursor_header" and not c.cursor_header:
        s.fail("cursor_header", "a header name (paging = cursor_header)", "nothing")
    if c.graphql and c.paging in ("cursor_header", "next_link"):
        s.fail("paging", "none, page or cursor for a GraphQL query", c.paging)


def _params(s: _Section) -> tuple[tuple[str, str], ...]:
    def convert(raw: str) -> tuple[tuple[str, str], ...]:
        pairs = urllib.parse.parse_qsl(raw, keep_blank_values=True, strict_parsing=True)
        return tuple(pairs)

    return s.parse("params", (), convert, "query parameters such as a=1&b=2")


def _optional_path(s: _Section, key: str) -> JsonPath | None:
    text = s.text(key, "")
    if not text:
        return None
    return _syntax(s, key, parse_path, text, "a path such as data.items")


def _syntax(
    s: _Section, key: str, parse: Callable[[str], T], text: str, want: str
) -> T:
    try:
        return parse(text)
    except FieldSyntaxError as e:
        s.fail(key, f"{want} ({e})", repr(text))
    raise AssertionError("unreachable")


def found_text(text: str) -> str:
    return repr(text) if text else "nothing"


def _members(s: _Section, organization: str) -> CollectionSettings:
    collection = _collection(s, organization, "members")
    return attrs.evolve(
        collection,
        changed_since_param=s.text("changed_since_param", ""),
        changed_since_format=s.choice(
            "changed_since_format", "iso", CHANGED_SINCE_FORMATS
        ),
    )


def _lookup(s: _Section, organization: str) -> CollectionSettings:
    name = s.name[len(LOOKUP_PREFIX) :]
    collection = _collection(s, organization, name)
    key, value = _optional_path(s, "key"), _optional_path(s, "value")
    if key is None or value is None:
        s.fail("key" if key is None else "value", "a path into each record", "nothing")
    return attrs.evolve(collection, key=key, value=value)


def _fields(s: _Section, lookups: set[str]) -> dict[str, FieldRule]:
    rules = {}
    for field in MEMBER_FIELDS:
        text = s.text(field, "")
        if not text:
            if field in REQUIRED_FIELDS:
                s.fail(
                    field, "a field expression such as Email | user.email", "nothing"
                )
            continue
        rules[field] = _field_rule(s, field, text, lookups)
    return rules


def _field_rule(s: _Section, field: str, text: str, lookups: set[str]) -> FieldRule:
    expression = _syntax(s, field, parse_expression, text, "a field expression")
    lookup = s.text(field + "_lookup", "")
    if lookup and lookup not in lookups:
        s.fail(
            field + "_lookup", f"the name of a [{LOOKUP_PREFIX}<name>] section", lookup
        )
    key = field + "_transform"
    transforms = _syntax(
        s, key, parse_transforms, s.text(key, ""), "transforms such as lowercase"
    )
    return FieldRule(expression, lookup, transforms)


def _active(s: _Section) -> AnyOf | None:
    text = s.text("active", "")
    if not text:
        return None
    return _syntax(s, "active", parse_rule, text, "a rule such as status = active")


def read_password_check(
    make_section: SectionFactory, names: list[str]
) -> PasswordCheckSettings | None:
    if CHECK_SECTION not in names:
        return None
    s = make_section(CHECK_SECTION)
    path = s.text("path", "")
    if not path:
        # An empty path switches off a preset's check: its other keys are moot.
        for key in CHECK_KEYS:
            s.text(key, "")
        s.check_unknown()
        return None
    if not path.startswith("/"):
        s.fail("path", "a path starting with /", repr(path))

    settings = PasswordCheckSettings(
        path=path,
        format=s.choice("format", "form", ("form", "json")),
        fields=_check_fields(s),
        valid_statuses=read_statuses(s, "valid_statuses", (200,)),
        invalid_statuses=read_statuses(s, "invalid_statuses", (400, 401, 403)),
        timeout_s=s.number("timeout_s", 5.0, 0.01, 120.0),
    )
    s.check_unknown()
    return settings


def _check_fields(s: _Section) -> tuple[tuple[str, str], ...]:
    """Parse ``name={placeholder}&...``; only known placeholders are allowed."""
    fields = _params_key(s, "fields")
    for _, template in fields:
        for name in _placeholders(s, template):
            if name not in CHECK_PLACEHOLDERS:
                s.fail(
                    "fields",
                    "placeholders among {" + "}, {".join(CHECK_PLACEHOLDERS) + "}",
                    "{" + name + "}",
                )
    if not any("{password}" in template for _, template in fields):
        s.fail("fields", "a field carrying {password}", "none")
    return fields


def _placeholders(s: _Section, template: str) -> list[str]:
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        s.fail("fields", "balanced {placeholders}", repr(template))
        raise AssertionError("unreachable") from None
    return [name for _, name, _, _ in parsed if name is not None]


def _params_key(s: _Section, key: str) -> tuple[tuple[str, str], ...]:
    def convert(raw: str) -> tuple[tuple[str, str], ...]:
        pairs = [p.split("=", 1) for p in raw.split("&") if p.strip()]
        if any(len(p) != 2 or not p[0].strip() for p in pairs):
            raise ValueError(raw)
        return tuple((name.strip(), value.strip()) for name, value in pairs)

    return s.parse(key, (), convert, "name={placeholder} pairs joined by &")
