"""Parse and validate ``bridge.conf`` into frozen settings, once, at start.

Every error names the section, the key, what was expected and what was found,
so an operator can fix the file without reading the code.  Secret values never
appear in an error message.  This module reads the file and assembles
Settings; typed reads of one section are ldapbridge/configsection.py's job.
The [directory] section and the [tls], [security] and [limits] sections have
modules of their own (directoryconfig.py, securityconfig.py), whose public
names are re-exported here; HTTP sources are read by httpconfig.py.
"""

from __future__ import annotations

import configparser
import os
from pathlib import Path

import attrs

from ldapbridge import hashes, httpconfig, presets
from ldapbridge.configsection import ENV_NAME, ConfigError, _ini_problem, _Section
from ldapbridge.directoryconfig import (
    ATTRIBUTE_NAME,
    CREDENTIAL_FIELDS,
    GROUP_KINDS,
    LABEL_FIELDS,
    PROFILES,
    USERNAME_RULES,
    DirectorySettings,
    read_directory,
)
from ldapbridge.httpconfig import HttpSourceSettings
from ldapbridge.securityconfig import (
    SECURITY_SECTIONS,
    TLS_VERSIONS,
    LimitsSettings,
    SecuritySettings,
    TlsSettings,
    read_limits,
    read_security,
    read_tls,
)
from ldapbridge.text import fold

__all__ = [
    "ATTRIBUTE_NAME",
    "CREDENTIAL_FIELDS",
    "DEFAULT_COLUMNS",
    "ENV_NAME",
    "GROUP_KINDS",
    "LABEL_FIELDS",
    "PROFILES",
    "SECURITY_SECTIONS",
    "SERVICE_PREFIX",
    "SNAPSHOT_FILE",
    "SOURCE_TYPES",
    "TLS_VERSIONS",
    "USERNAME_RULES",
    "ConfigError",
    "DirectorySettings",
    "LimitsSettings",
    "LoggingSettings",
    "MetricsSettings",
    "SecuritySettings",
    "ServerSettings",
    "ServiceAccount",
    "Settings",
    "SnapshotSettings",
    "SourceSettings",
    "TlsSettings",
    "load",
    "parse",
]

SERVICE_PREFIX = "service."
SOURCE_TYPES = ("file", "http", *presets.PRESETS)
SNAPSHOT_FILE = "ldapbridge-snapshot.json"

# CSV column names of the member export, keyed by the member field they feed.
DEFAULT_COLUMNS = {
    "member_id": "Member ID",
    "full_name": "Full Name",
    "email": "Email",
    "company": "Company",
    "team": "Team",
    "plan": "Plan",
    "location": "Location",
    "card": "Access Card",
    "second_card": "Second Card",
    "pin": "PIN",
    "status": "Status",
    "password_hash": "Password Hash",
}


@attrs.frozen
class ServerSettings:
    bind_address: str = "127.0.0.1"
    ldap_port: int = 10389
    ldaps_port: int | None = None


@attrs.frozen
class SourceSettings:
    type: str = "file"
    path: Path = Path("members.csv")
    encoding: str = "utf-8-sig"
    columns: dict[str, str] = attrs.field(factory=lambda: dict(DEFAULT_COLUMNS))
    active_statuses: tuple[str, ...] = ("active",)
    team_separator: str = ";"
    http: HttpSourceSettings | None = None


@attrs.frozen
class SnapshotSettings:
    """The refresh timer, the shrink guard and the last good copy on disk."""

    path: Path | None = None
    refresh_interval_s: float = 300.0
    full_refresh_interval_s: float = 86400.0
    max_shrink: float = 0.10
    accept_shrink: bool = False


@attrs.frozen
class ServiceAccount:
    """A non-member account that may read the whole tree (PaperCut's bind DN)."""

    name: str
    password: str = attrs.field(repr=False)


@attrs.frozen
class LoggingSettings:
    level: str = "info"
    format: str = "text"


@attrs.frozen
class MetricsSettings:
    """The HTTP listener for /metrics and /healthz; off while ``port`` is None."""

    bind_address: str = "127.0.0.1"
    port: int | None = None
    max_snapshot_age_s: int = 3600


@attrs.frozen
class Settings:
    server: ServerSettings
    directory: DirectorySettings
    source: SourceSettings
    services: tuple[ServiceAccount, ...]
    logging: LoggingSettings
    path: Path
    metrics: MetricsSettings = attrs.field(factory=MetricsSettings)
    snapshot: SnapshotSettings = attrs.field(factory=SnapshotSettings)
    tls: TlsSettings = attrs.field(factory=TlsSettings)
    security: SecuritySettings = attrs.field(factory=SecuritySettings)
    limits: LimitsSettings = attrs.field(factory=LimitsSettings)


def load(path: str | os.PathLike[str]) -> Settings:
    """Read and validate the config file at ``path``; raise ConfigError."""
    config_path = Path(path).absolute()
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with config_path.open(encoding="utf-8") as f:
            parser.read_file(f)
    except OSError as e:
        raise ConfigError(
            f"cannot read config file {config_path}: {e.strerror}"
        ) from None
    except configparser.Error as e:
        raise ConfigError(
            f"config file {config_path} is not valid INI: {_ini_problem(e)}"
        ) from None

    return parse(parser, config_path)


def parse(parser: configparser.ConfigParser, config_path: Path) -> Settings:
    """Build Settings from an already-read parser; raise ConfigError."""
    httpconfig.apply_preset(parser)
    _check_sections(parser)
    sections = {
        name: _Section(parser, name, config_path.parent)
        for name in (
            "server",
            "directory",
            "source",
            "logging",
            "metrics",
            "snapshot",
            *SECURITY_SECTIONS,
        )
    }

    settings = Settings(
        server=_server(sections["server"]),
        directory=read_directory(sections["directory"]),
        source=_source(sections["source"], config_path.parent, parser),
        services=_services(parser, config_path.parent),
        logging=_logging(sections["logging"]),
        path=config_path,
        metrics=_metrics(sections["metrics"]),
        snapshot=_snapshot(sections["snapshot"], config_path.parent),
        tls=read_tls(sections["tls"], config_path.parent),
        security=read_security(sections["security"]),
        limits=read_limits(sections["limits"]),
    )

    for section in sections.values():
        section.check_unknown()
    return settings


def _check_sections(parser: configparser.ConfigParser) -> None:
    known = {"server", "directory", "source", "logging", "metrics", "snapshot"}
    known.update(SECURITY_SECTIONS)
    for name in parser.sections():
        if httpconfig.is_source_section(name):
            continue
        if name not in known and not name.startswith(SERVICE_PREFIX):
            raise ConfigError(
                f"[{name}]: unknown section; expected one of "
                f"{', '.join(sorted(known))} or [service.<name>]"
                " (HTTP sources: [source.members], [source.fields], "
                "[source.password_check], [source.lookup.<name>])"
            )


def _server(s: _Section) -> ServerSettings:
    ldap_port = s.integer("ldap_port", 10389, 0, 65535)
    ldaps_port = s.integer("ldaps_port", -1, 0, 65535) if s.has("ldaps_port") else None
    # One address and port can hold one listener; port 0 picks a free one.
    if ldap_port and ldap_port == ldaps_port:
        s.fail("ldaps_port", "a port other than [server] ldap_port", f"{ldap_port}")
    return ServerSettings(
        bind_address=s.text("bind_address", "127.0.0.1"),
        ldap_port=ldap_port,
        ldaps_port=ldaps_port,
    )


def _source(
    s: _Section, config_dir: Path, parser: configparser.ConfigParser
) -> SourceSettings:
    source_type = s.choice("type", "file", SOURCE_TYPES)
    if source_type != "file":
        return _http_source(s, source_type, parser)
    for name in parser.sections():
        if httpconfig.is_source_section(name):
            raise ConfigError(f"[{name}]: only HTTP sources read it, not type = file")

    raw_path = s.text("path", "")
    if not raw_path:
        s.fail("path", "the path of a member export (CSV)", "nothing")
    path = Path(raw_path)
    if not path.is_absolute():
        path = config_dir / path

    columns = {
        field: s.text("column_" + field, default)
        for field, default in DEFAULT_COLUMNS.items()
    }
    statuses = s.words("active_statuses", ("Active",))
    return SourceSettings(
        type=source_type,
        path=path,
        encoding=_encoding(s),
        columns=columns,
        active_statuses=tuple(x.lower() for x in statuses),
        team_separator=_team_separator(s),
    )


def _encoding(s: _Section) -> str:
    """The export's text encoding, checked now rather than at the first read."""
    name = s.text("encoding", "utf-8-sig")
    try:
        # LookupError for unknown names and for codecs that are not text
        # encodings (base64, rot13), which open() would refuse later.
        "".encode(name)
    except LookupError:
        s.fail("encoding", "a text encoding such as utf-8", repr(name))
    return name


def _team_separator(s: _Section) -> str:
    separator = s.text("team_separator", ";")
    if not separator:
        # str.split("") raises: an empty separator cannot split anything.
        s.fail("team_separator", "one or more characters", "nothing")
    return separator


def _http_source(
    s: _Section, source_type: str, parser: configparser.ConfigParser
) -> SourceSettings:
    def make_section(name: str) -> _Section:
        return _Section(parser, name, s.config_dir)

    http = httpconfig.http_source(s, source_type, make_section, parser.sections())
    return SourceSettings(type=source_type, http=http)


def _snapshot(s: _Section, config_dir: Path) -> SnapshotSettings:
    raw_path = s.text("path", SNAPSHOT_FILE)
    path = (config_dir / raw_path) if raw_path else None
    return SnapshotSettings(
        path=path,
        refresh_interval_s=s.number("refresh_interval_s", 300.0, 0.1, 86400.0),
        full_refresh_interval_s=s.number(
            "full_refresh_interval_s", 86400.0, 0.0, 86400.0
        ),
        max_shrink=s.number("max_shrink", 0.10, 0.0, 1.0),
        accept_shrink=s.boolean("accept_shrink", False),
    )


def _services(
    parser: configparser.ConfigParser, config_dir: Path
) -> tuple[ServiceAccount, ...]:
    accounts = []
    # Folded account name -> its section: cn is caseIgnore, so two sections
    # differing in case would be one DN, and one password would silently win.
    seen: dict[str, str] = {}
    for name in parser.sections():
        if not name.startswith(SERVICE_PREFIX):
            continue

        section = _Section(parser, name, config_dir)
        account_name = name[len(SERVICE_PREFIX) :]
        if not account_name.strip():
            raise ConfigError(
                f"[{name}]: expected a name after service., such as "
                "[service.papercut], found nothing"
            )
        _check_distinct_service(name, fold(account_name), seen)
        password = section.secret("password")
        if not password:
            # Name the key that gave nothing: password_env's variable may be
            # set but empty, or password_file's file blank.
            section.fail(
                section.secret_key("password"), "a non-empty password", "nothing"
            )
        _check_not_damaged(section, password or "")
        section.check_unknown()
        accounts.append(ServiceAccount(name=account_name, password=password or ""))
    return tuple(accounts)


def _check_distinct_service(name: str, folded: str, seen: dict[str, str]) -> None:
    """Refuse a second section naming the same service DN as an earlier one."""
    if folded in seen:
        raise ConfigError(
            f"[{name}]: expected a service account name of its own, found the "
            f"name of [{seen[folded]}] (names ignore case and extra spaces)"
        )
    seen[folded] = name


def _check_not_damaged(section: _Section, password: str) -> None:
    """Refuse a hash cut short, as by a shell expanding its "$" signs.

    Used as plain text it would only ever accept its own mangled characters.
    """
    if hashes.is_damaged_hash(password):
        section.fail(
            section.secret_key("password"),
            "a whole bcrypt or argon2 hash, or a password that does not begin like one",
            "a value that looks like a damaged hash (did a shell expand its $?)",
        )


def _logging(s: _Section) -> LoggingSettings:
    return LoggingSettings(
        level=s.choice("level", "info", ("debug", "info", "warn", "error")),
        format=s.choice("format", "text", ("text", "json")),
    )


def _metrics(s: _Section) -> MetricsSettings:
    """The listener stays off unless a port is given; an address alone is a slip."""
    bind_address = s.text("bind_address", "127.0.0.1")
    if s.has("bind_address") and not s.has("port"):
        s.fail("port", "a port for the metrics listener", "nothing")
    port = s.integer("port", 0, 0, 65535) if s.has("port") else None
    return MetricsSettings(
        bind_address=bind_address,
        port=port,
        max_snapshot_age_s=s.integer("max_snapshot_age_s", 3600, 1, 365 * 86400),
    )
