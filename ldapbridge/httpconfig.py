"""Settings of an HTTP source: where, how to authenticate, what to read.

One generic source reads any JSON API through a mapping
(ldapbridge/mappingconfig.py); the named platforms (``type = nexudus`` ...)
are presets of that mapping (ldapbridge/presets.py) merged under whatever the
config file sets itself.  Errors name the section and key, like every other
config error.
"""

from __future__ import annotations

import configparser
import urllib.parse
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import attrs

from ldapbridge import presets
from ldapbridge.fieldsyntax import AnyOf
from ldapbridge.mappingconfig import (
    CollectionSettings,
    FieldRule,
    PasswordCheckSettings,
    found_text,
    is_mapping_section,
    read_fields,
    read_listings,
    read_password_check,
    read_statuses,
)

if TYPE_CHECKING:
    from ldapbridge.configsection import _Section

    SectionFactory = Callable[[str], _Section]

AUTH_KINDS = ("none", "basic", "bearer", "client_credentials", "password_grant")
DEFAULT_RETRY_STATUSES = (429, 500, 502, 503, 504)


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
    request_timeout_s: float = 300.0
    max_response_mb: int = 100
    max_retries: int = 4
    retry_backoff_s: float = 1.0
    retry_after_max_s: float = 300.0
    retry_statuses: tuple[int, ...] = DEFAULT_RETRY_STATUSES
    rate_per_minute: int = 60
    tls_ca_file: str = ""


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
    members, lookups = read_listings(make_section, section_names, organization)
    fields, active = read_fields(make_section, lookups)
    settings = HttpSourceSettings(
        platform=platform,
        base_url=base_url,
        auth=auth,
        client=client,
        members=members,
        lookups=lookups,
        fields=fields,
        active=active,
        password_check=read_password_check(make_section, section_names),
    )
    return settings


def is_source_section(name: str) -> bool:
    """True for the [source.*] sections an HTTP source reads."""
    return is_mapping_section(name)


def _base_url(s: _Section) -> str:
    base_url = s.text("base_url", "").rstrip("/")
    parsed = urllib.parse.urlsplit(base_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        s.fail("base_url", "an http:// or https:// URL", found_text(base_url))
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
        request_timeout_s=s.number("request_timeout_s", 300.0, 0.01, 86400.0),
        max_response_mb=s.integer("max_response_mb", 100, 1, 4096),
        max_retries=s.integer("max_retries", 4, 0, 20),
        retry_backoff_s=s.number("retry_backoff_s", 1.0, 0.0, 600.0),
        retry_after_max_s=s.number("retry_after_max_s", 300.0, 0.0, 3600.0),
        retry_statuses=read_statuses(s, "retry_statuses", DEFAULT_RETRY_STATUSES),
        rate_per_minute=s.integer("rate_per_minute", 60, 1, 100000),
        tls_ca_file=str(s.path("tls_ca_file", s.config_dir) or ""),
    )
