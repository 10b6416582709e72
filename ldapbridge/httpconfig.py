"""Settings of an HTTP source: where, how to authenticate, what to read.

One generic source reads any JSON API through a mapping; the named platforms
(``type = nexudus`` ...) are presets of that mapping (ldapbridge/presets.py)
merged under whatever the config file sets itself.  Errors name the section
and key, like every other config error.
"""

from __future__ import annotations

import configparser
import string
import urllib.parse
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

import attrs

from ldapbridge import presets
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
    from ldapbridge.config import _Section

    SectionFactory = Callable[[str], _Section]

T = TypeVar("T")

AUTH_KINDS = ("none", "basic", "bearer", "client_credentials", "password_grant")
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
DEFAULT_RETRY_STATUSES = (429, 500, 502, 503, 504)
CHECK_KEYS = ("format", "fields", "valid_statuses", "invalid_statuses", "timeout_s")

MEMBERS_SECTION = "source.members"
FIELDS_SECTION = "source.fields"
CHECK_SECTION = "source.password_check"
LOOKUP_PREFIX = "source.lookup."


@attrs.frozen
class AuthSettings:
    kind: str = "none"
    username: str = ""
    password: str = attrs.field(default="", repr=False)
    token: str = attrs.field(default="", repr=False)
    client_id: str = ""
    client_secret: str = attrs.field(default="", repr=False)
    token_path: str = "/oauth/token"
    scope: str = ""


@attrs.frozen
class ClientSettings:
    """Timeouts, retries and the request rate of one source."""

    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0
    max_retries: int = 4
    retry_backoff_s: float = 1.0
    retry_after_max_s: float = 300.0
    retry_statuses: tuple[int, ...] = DEFAULT_RETRY_STATUSES
    rate_per_minute: int = 60
    tls_ca_file: str = ""


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


@attrs.frozen
class HttpSourceSettings:
    platform: str
    base_url: str
    auth: AuthSettings
    client: ClientSettings
    members: CollectionSettings
    lookups: tuple[CollectionSettings, ...]
    fields: Mapping[str, FieldRule]
    active: AnyOf | None
    password_check: PasswordCheckSettings | None


def apply_preset(parser: configparser.ConfigParser) -> None:
    """Fill what the config leaves unset from the preset its type names."""
    if not parser.has_section("source"):
        return
    preset = presets.PRESETS.get(parser["source"].get("type", "").strip().lower())
    if preset is None:
        return

    for section, values in preset.items():
        if not parser.has_section(section):
            parser.add_section(section)
        for key, value in values.items():
            if not parser.has_option(section, key):
                parser[section][key] = value


def http_source(
    s: _Section, platform: str, make_section: SectionFactory, section_names: list[str]
) -> HttpSourceSettings:
    """Read an HTTP source from [source] and its [source.*] sections."""
    base_url = _base_url(s)
    organization = s.text("organization", "")

    auth, client = _auth(s), _client(s)
    members = _finish(make_section(MEMBERS_SECTION), _members, organization)
    lookups = tuple(
        _finish(make_section(name), _lookup, organization)
        for name in section_names
        if name.startswith(LOOKUP_PREFIX)
    )
    fields_section = make_section(FIELDS_SECTION)
    settings = HttpSourceSettings(
        platform=platform,
        base_url=base_url,
        auth=auth,
        client=client,
        members=members,
        lookups=lookups,
        fields=_fields(fields_section, {c.name for c in lookups}),
        active=_active(fields_section),
        password_check=_password_check(make_section, section_names),
    )
    fields_section.check_unknown()
    return settings


def is_source_section(name: str) -> bool:
    """True for the [source.*] sections an HTTP source reads."""
    if name in (MEMBERS_SECTION, FIELDS_SECTION, CHECK_SECTION):
        return True
    return name.startswith(LOOKUP_PREFIX) and len(name) > len(LOOKUP_PREFIX)


def _base_url(s: _Section) -> str:
    base_url = s.text("base_url", "").rstrip("/")
    parsed = urllib.parse.urlsplit(base_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        s.fail("base_url", "an http:// or https:// URL", _found(base_url))
    return base_url


def _auth(s: _Section) -> AuthSettings:
    kind = s.choice("auth", "none", AUTH_KINDS)
    auth = AuthSettings(
        kind=kind,
        username=s.text("username", ""),
        password=s.secret("password") or "",
        token=s.secret("token") or "",
        client_id=s.text("client_id", ""),
        client_secret=s.secret("client_secret") or "",
        token_path=s.text("token_path", "/oauth/token"),
        scope=s.text("token_scope", ""),
    )
    needs = {
        "basic": ("username", "password"),
        "bearer": ("token",),
        "client_credentials": ("client_id", "client_secret"),
        "password_grant": ("username", "password"),
    }
    for key in needs.get(kind, ()):
        if not getattr(auth, key):
            s.fail(key, f"a value (auth = {kind} needs it)", "nothing")
    return auth


def _client(s: _Section) -> ClientSettings:
    return ClientSettings(
        connect_timeout_s=s.number("connect_timeout_s", 5.0, 0.01, 600.0),
        read_timeout_s=s.number("read_timeout_s", 30.0, 0.01, 3600.0),
        max_retries=s.integer("max_retries", 4, 0, 20),
        retry_backoff_s=s.number("retry_backoff_s", 1.0, 0.0, 600.0),
        retry_after_max_s=s.number("retry_after_max_s", 300.0, 0.0, 3600.0),
        retry_statuses=_statuses(s, "retry_statuses", DEFAULT_RETRY_STATUSES),
        rate_per_minute=s.integer("rate_per_minute", 60, 1, 100000),
        tls_ca_file=s.text("tls_ca_file", ""),
    )


def _statuses(s: _Section, key: str, default: tuple[int, ...]) -> tuple[int, ...]:
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
        s.fail("path", "a path starting with /", _found(path))
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


def _found(text: str) -> str:
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


def _password_check(
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
        valid_statuses=_statuses(s, "valid_statuses", (200,)),
        invalid_statuses=_statuses(s, "invalid_statuses", (400, 401, 403)),
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
