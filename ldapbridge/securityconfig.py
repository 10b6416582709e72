"""Settings of the ``[tls]``, ``[security]`` and ``[limits]`` sections.

Certificates and protocol versions for LDAPS and StartTLS, the cleartext
password policy and failed-bind throttling, and the bounds on what one client
may make the server hold or do.  Read by ldapbridge/config.py through
``read_tls``, ``read_security`` and ``read_limits``.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import attrs

from ldapbridge.configsection import _Section

SECURITY_SECTIONS = ("tls", "security", "limits")
TLS_VERSIONS = ("1.2", "1.3")


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


def read_tls(s: _Section, config_dir: Path) -> TlsSettings:
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


def read_security(s: _Section) -> SecuritySettings:
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


def read_limits(s: _Section) -> LimitsSettings:
    return LimitsSettings(
        max_message_bytes=s.integer("max_message_bytes", 1024 * 1024, 1024, 2**30),
        max_message_elements=s.integer("max_message_elements", 20000, 100, 10**6),
        max_connections=s.integer("max_connections", 1000, 1, 10**6),
        idle_timeout_s=s.number("idle_timeout_s", 600.0, 0, 86400 * 7),
        max_outstanding_operations=s.integer(
            "max_outstanding_operations", 16, 1, 10**4
        ),
    )
