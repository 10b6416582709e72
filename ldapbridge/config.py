"""Parse and validate ``bridge.conf`` into frozen settings, once, at start.

Every error names the section, the key, what was expected and what was found,
so an operator can fix the file without reading the code.  Secret values never
appear in an error message.
"""

from __future__ import annotations

import configparser
import ipaddress
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import attrs

from ldapbridge import hashes, httpconfig, presets
from ldapbridge.httpconfig import HttpSourceSettings
from ldapbridge.text import fold

T = TypeVar("T")

PROFILES = ("unix", "ad", "edirectory")
GROUP_KINDS = ("team", "plan", "location", "all")
USERNAME_RULES = ("email", "email_localpart", "member_id")
SERVICE_PREFIX = "service."
SOURCE_TYPES = ("file", "http", *presets.PRESETS)
SNAPSHOT_FILE = "ldapbridge-snapshot.json"

# Member fields that may feed a card number or a PIN, and those that may
# feed a department or office label; "none" publishes nothing.
CREDENTIAL_FIELDS = ("card", "second_card", "pin", "member_id", "none")
LABEL_FIELDS = ("team", "company", "plan", "location", "none")

# An LDAP attribute type name (RFC 4512 1.4, "descr").
ATTRIBUTE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]*")

SECURITY_SECTIONS = ("tls", "security", "limits")
TLS_VERSIONS = ("1.2", "1.3")

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


class ConfigError(ValueError):
    """The configuration file is missing, unreadable or holds a bad value."""


@attrs.frozen
class ServerSettings:
    bind_address: str = "127.0.0.1"
    ldap_port: int = 10389
    ldaps_port: int | None = None


@attrs.frozen
class DirectorySettings:
    base_dn: str = "dc=example,dc=com"
    profile: str = "unix"
    include_cancelled: bool = False
    group_kinds: tuple[str, ...] = GROUP_KINDS
    all_members_group: str = "all-members"
    username_from: str = "email"
    home_directory: str = "/home/{username}"
    login_shell: str = "/bin/false"
    uid_number_base: int = 10000
    gid_number_base: int = 10000
    card_from: str = "card"
    second_card_from: str = "second_card"
    pin_from: str = "pin"
    department_from: str = "team"
    office_from: str = "location"
    # Attribute names; empty means the profile's own default.
    card_attribute: str = ""
    second_card_attribute: str = ""
    pin_attribute: str = ""
    # Active Directory names: user@upn_suffix and NETBIOS_DOMAIN\user.
    upn_suffix: str = ""
    netbios_domain: str = ""


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
class TlsSettings:
    """Certificate and protocol settings for LDAPS and StartTLS."""

    certificate: Path | None = None
    private_key: Path | None = None
    generated_dir: Path = Path("certs")
    hostname: str = ""
    start_tls: bool = True
    min_version: str = "1.2"


@attrs.frozen
class SecuritySettings:
    """Cleartext password policy and failed-bind throttling."""

    require_tls_for_passwords: bool = True
    cleartext_password_networks: tuple[str, ...] = ("127.0.0.0/8", "::1")
    failure_delay_s: float = 1.0
    max_failure_delay_s: float = 8.0
    lockout_failures_per_dn: int = 10
    lockout_failures_per_address: int = 50
    failure_window_s: float = 900.0
    lockout_s: float = 900.0


@attrs.frozen
class LimitsSettings:
    """Bounds on what one client may make the server hold or do."""

    max_message_bytes: int = 1024 * 1024
    max_message_elements: int = 20000
    max_connections: int = 1000
    idle_timeout_s: float = 600.0
    max_outstanding_operations: int = 16


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
    tls: TlsSettings = TlsSettings()
    security: SecuritySettings = SecuritySettings()
    limits: LimitsSettings = LimitsSettings()


class _Section:
    """Typed reads from one section, remembering which keys were used."""

    def __init__(
        self, parser: configparser.ConfigParser, name: str, config_dir: Path
    ) -> None:
        self.name = name
        # Relative secret files are beside the config file, as other paths are.
        self.config_dir = config_dir
        self._values = dict(parser[name]) if parser.has_section(name) else {}
        self._used: set[str] = set()

    def has(self, key: str) -> bool:
        # Asking about a key makes it a known one, named when a typo is reported.
        self._used.add(key)
        return key in self._values

    def text(self, key: str, default: str) -> str:
        self._used.add(key)
        return self._values.get(key, default).strip()

    def secret(self, key: str) -> str | None:
        """Read a secret from ``key``, ``key_file`` or ``key_env``."""
        variants = (key, key + "_file", key + "_env")
        self._used.update(variants)
        given = [v for v in variants if v in self._values]
        if len(given) > 1:
            self.fail(
                key,
                f"one of {', '.join(variants[:2])} or {variants[2]}",
                ", ".join(given),
            )
        if key in self._values:
            return self._values[key].strip()
        if key + "_file" in self._values:
            return self._read_secret_file(key + "_file")
        if key + "_env" in self._values:
            return self._read_secret_env(key + "_env")
        return None

    def secret_key(self, key: str) -> str:
        """Which of ``key``, ``key_file`` and ``key_env`` gave the secret."""
        for variant in (key, key + "_file", key + "_env"):
            if variant in self._values:
                return variant
        return key

    def _read_secret_file(self, key: str) -> str:
        path = self.path(key, self.config_dir)
        if path is None:
            self.fail(key, "the path of a file holding the secret", "nothing")
            raise AssertionError("unreachable")
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as e:
            self.fail(key, "a readable file", f"{path} ({e.strerror})")
        raise AssertionError("unreachable")

    def _read_secret_env(self, key: str) -> str:
        name = self._values[key].strip()
        if name not in os.environ:
            self.fail(key, "the name of a set environment variable", _env_name(name))
        return os.environ[name]

    def parse(self, key: str, default: T, convert: Callable[[str], T], want: str) -> T:
        self._used.add(key)
        if key not in self._values:
            return default
        raw = self._values[key].strip()
        try:
            return convert(raw)
        except ValueError:
            self.fail(key, want, repr(raw))
        raise AssertionError("unreachable")

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        def convert(raw: str) -> int:
            value = int(raw)
            if not low <= value <= high:
                raise ValueError(raw)
            return value

        return self.parse(key, default, convert, f"an integer from {low} to {high}")

    def number(self, key: str, default: float, low: float, high: float) -> float:
        def convert(raw: str) -> float:
            value = float(raw)
            if not low <= value <= high:
                raise ValueError(raw)
            return value

        return self.parse(key, default, convert, f"a number from {low:g} to {high:g}")

    def boolean(self, key: str, default: bool) -> bool:
        words = {"true": True, "yes": True, "on": True, "1": True}
        words.update({"false": False, "no": False, "off": False, "0": False})

        def convert(raw: str) -> bool:
            return words[raw.lower()] if raw.lower() in words else _bad(raw)

        return self.parse(key, default, convert, "true or false")

    def choice(self, key: str, default: str, allowed: tuple[str, ...]) -> str:
        def convert(raw: str) -> str:
            return raw.lower() if raw.lower() in allowed else _bad(raw)

        return self.parse(key, default, convert, "one of " + ", ".join(allowed))

    def path(self, key: str, base: Path) -> Path | None:
        """A path, relative to ``base`` unless absolute; None when unset."""
        raw = self.text(key, "")
        if not raw:
            return None
        path = Path(raw)
        return path if path.is_absolute() else base / path

    def words(self, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        def convert(raw: str) -> tuple[str, ...]:
            return tuple(w.strip() for w in raw.split(",") if w.strip())

        return self.parse(key, default, convert, "a comma-separated list")

    def fail(self, key: str, expected: str, found: str) -> None:
        raise ConfigError(f"[{self.name}] {key}: expected {expected}, found {found}")

    def check_unknown(self) -> None:
        unknown = sorted(set(self._values) - self._used)
        if unknown:
            known = ", ".join(sorted(self._used)) or "none"
            raise ConfigError(
                f"[{self.name}]: unknown key(s) {', '.join(unknown)}; "
                f"expected one of {known}"
            )


# Variable names as shells and systemd write them.  Anything else given as a
# name may be the secret itself, pasted into the wrong key.
ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")


def _env_name(name: str) -> str:
    if ENV_NAME.fullmatch(name):
        return repr(name)
    return "a value that is not an upper-case variable name (not shown)"


def _bad(raw: str) -> T:  # type: ignore[type-var]
    raise ValueError(raw)


def _ini_problem(error: configparser.Error) -> str:
    """Where the file breaks INI, by line number and key name only.

    configparser quotes the offending lines, and a line that broke is often
    a secret pasted without its key: it must not reach a terminal or a log.
    """
    match error:
        case configparser.MissingSectionHeaderError():
            return f"line {error.lineno}: a key before the first [section] header"
        case configparser.ParsingError():
            # Python 3.13's MultilineContinuationError keeps no list of errors.
            errors = getattr(error, "errors", None)
            errors = errors or [(getattr(error, "lineno", "?"), "")]
            lines = ", ".join(str(number) for number, _ in errors)
            return f"line {lines}: expected 'key = value' or a [section] header"
        case configparser.DuplicateOptionError():
            return (
                f"line {error.lineno}: key {error.option} appears twice in "
                f"[{error.section}]"
            )
        case configparser.DuplicateSectionError():
            return f"line {error.lineno}: section [{error.section}] appears twice"
    return type(error).__name__


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
        directory=_directory(sections["directory"]),
        source=_source(sections["source"], config_path.parent, parser),
        services=_services(parser, config_path.parent),
        logging=_logging(sections["logging"]),
        path=config_path,
        metrics=_metrics(sections["metrics"]),
        snapshot=_snapshot(sections["snapshot"], config_path.parent),
        tls=_tls(sections["tls"], config_path.parent),
        security=_security(sections["security"]),
        limits=_limits(sections["limits"]),
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


def _directory(s: _Section) -> DirectorySettings:
    base_dn = s.text("base_dn", "dc=example,dc=com")
    if "=" not in base_dn:
        s.fail("base_dn", "a DN such as dc=example,dc=com", repr(base_dn))

    kinds = s.words("groups", GROUP_KINDS)
    for kind in kinds:
        if kind not in GROUP_KINDS:
            s.fail("groups", "a list drawn from " + ", ".join(GROUP_KINDS), kind)

    profile = s.choice("profile", "unix", PROFILES)
    return DirectorySettings(
        base_dn=base_dn,
        profile=profile,
        include_cancelled=s.boolean("include_cancelled", False),
        group_kinds=kinds,
        all_members_group=s.text("all_members_group", "all-members"),
        username_from=s.choice("username_from", "email", USERNAME_RULES),
        home_directory=_home_directory(s),
        login_shell=s.text("login_shell", "/bin/false"),
        uid_number_base=s.integer("uid_number_base", 10000, 1, 2**31 - 2**24),
        gid_number_base=s.integer("gid_number_base", 10000, 1, 2**31 - 2**24),
        **_member_fields(s),
        **_attribute_names(s),
        **_domain_names(s, base_dn, profile),
    )


def _member_fields(s: _Section) -> dict[str, str]:
    """Which member field feeds each published credential and label."""
    return {
        "card_from": s.choice("card_from", "card", CREDENTIAL_FIELDS),
        "second_card_from": s.choice(
            "second_card_from", "second_card", CREDENTIAL_FIELDS
        ),
        "pin_from": s.choice("pin_from", "pin", CREDENTIAL_FIELDS),
        "department_from": s.choice("department_from", "team", LABEL_FIELDS),
        "office_from": s.choice("office_from", "location", LABEL_FIELDS),
    }


def _attribute_names(s: _Section) -> dict[str, str]:
    """The attribute names chosen for card, second card and PIN; distinct."""
    names: dict[str, str] = {}
    for key in ("card_attribute", "second_card_attribute", "pin_attribute"):
        name = s.text(key, "")
        if name and not ATTRIBUTE_NAME.fullmatch(name):
            s.fail(key, "an attribute name (letters, digits, hyphens)", repr(name))
        if name and name.lower() in (n.lower() for n in names.values()):
            s.fail(key, "a name not used by another *_attribute key", repr(name))
        names[key] = name
    return names


# Dot-separated labels of letters, digits and inner hyphens: the domain of a
# userPrincipalName, which PaperCut and Windows clients bind with.  One label
# is allowed: a base_dn of dc=local gives "local", which older sites use.
_DOMAIN = re.compile(
    r"([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
)


def _domain_names(s: _Section, base_dn: str, profile: str) -> dict[str, str]:
    """upn_suffix and netbios_domain, by default from base_dn's dc= parts."""
    dc_parts = [
        value.strip()
        for key, _, value in (part.partition("=") for part in base_dn.split(","))
        if key.strip().lower() == "dc" and value.strip()
    ]
    upn_suffix = s.text("upn_suffix", ".".join(dc_parts)).lstrip("@").lower()
    domain = s.text("netbios_domain", dc_parts[0] if dc_parts else "").upper()
    if profile == "ad" and not upn_suffix:
        s.fail("upn_suffix", "a DNS domain such as example.com", "nothing")
    if profile == "ad" and not _DOMAIN.fullmatch(upn_suffix):
        s.fail("upn_suffix", "a DNS domain such as example.com", repr(upn_suffix))
    if profile == "ad" and not domain:
        s.fail("netbios_domain", "a domain name such as EXAMPLE", "nothing")
    # Bind names are split at these characters, so the names cannot hold them.
    for key, value, separator in (
        ("upn_suffix", upn_suffix, "@"),
        ("netbios_domain", domain, "\\"),
    ):
        if separator in value:
            s.fail(key, f"a name without {separator!r}", repr(value))
    return {"upn_suffix": upn_suffix, "netbios_domain": domain}


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


def _home_directory(s: _Section) -> str:
    """The homeDirectory template, tried now rather than at the first entry."""
    template = s.text("home_directory", "/home/{username}")
    try:
        template.format(username="x")
    except (AttributeError, IndexError, KeyError, ValueError):
        s.fail(
            "home_directory",
            "a path whose only field is {username}, such as /home/{username}",
            repr(template),
        )
    return template


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


def _tls(s: _Section, config_dir: Path) -> TlsSettings:
    certificate = s.path("certificate", config_dir)
    private_key = s.path("private_key", config_dir)
    if (certificate is None) != (private_key is None):
        missing = "private_key" if private_key is None else "certificate"
        s.fail(missing, "a path (certificate and private_key go together)", "nothing")
    return TlsSettings(
        certificate=certificate,
        private_key=private_key,
        generated_dir=s.path("self_signed_dir", config_dir) or config_dir / "certs",
        hostname=s.text("hostname", ""),
        start_tls=s.boolean("start_tls", True),
        min_version=s.choice("min_version", "1.2", TLS_VERSIONS),
    )


def _security(s: _Section) -> SecuritySettings:
    networks = s.words("cleartext_password_networks", ("127.0.0.0/8", "::1"))
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            s.fail(
                "cleartext_password_networks", "IP networks such as 10.0.0.0/8", network
            )
    failure_delay_s = s.number("failure_delay_s", 1.0, 0, 60)
    return SecuritySettings(
        require_tls_for_passwords=s.boolean("require_tls_for_passwords", True),
        cleartext_password_networks=networks,
        failure_delay_s=failure_delay_s,
        max_failure_delay_s=_max_failure_delay(s, failure_delay_s),
        lockout_failures_per_dn=s.integer("lockout_failures_per_dn", 10, 0, 10**6),
        lockout_failures_per_address=s.integer(
            "lockout_failures_per_address", 50, 0, 10**6
        ),
        failure_window_s=s.number("failure_window_s", 900.0, 1, 86400 * 7),
        lockout_s=s.number("lockout_s", 900.0, 0, 86400 * 7),
    )


def _max_failure_delay(s: _Section, failure_delay_s: float) -> float:
    """The longest failed-bind delay; the doubling starts at failure_delay_s, so
    a smaller cap would silently lower the first delay too."""
    max_failure_delay_s = s.number("max_failure_delay_s", 8.0, 0, 600)
    if max_failure_delay_s < failure_delay_s:
        s.fail(
            "max_failure_delay_s",
            f"at least [security] failure_delay_s ({failure_delay_s:g})",
            f"{max_failure_delay_s:g}",
        )
    return max_failure_delay_s


def _limits(s: _Section) -> LimitsSettings:
    return LimitsSettings(
        max_message_bytes=s.integer("max_message_bytes", 1024 * 1024, 1024, 2**30),
        max_message_elements=s.integer("max_message_elements", 20000, 100, 10**6),
        max_connections=s.integer("max_connections", 1000, 1, 10**6),
        idle_timeout_s=s.number("idle_timeout_s", 600.0, 0, 86400 * 7),
        max_outstanding_operations=s.integer(
            "max_outstanding_operations", 16, 1, 10**4
        ),
    )
