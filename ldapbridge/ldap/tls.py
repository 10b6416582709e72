"""TLS for the LDAPS listener and StartTLS (RFC 4511 4.14, RFC 4513 3).

One server context serves both: TLS 1.2 or newer, forward-secret AEAD
ciphers only.  The certificate is the configured one or, when none is, a
self-signed one made at first start (ldapbridge.ldap.certs).
"""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path
from typing import Any

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from OpenSSL import crypto
from twisted.internet import ssl
from twisted.internet.interfaces import IOpenSSLServerConnectionCreator
from twisted.logger import Logger
from zope.interface import implementer

from ldapbridge.config import ConfigError, SecuritySettings, TlsSettings
from ldapbridge.ldap import certs

log = Logger(namespace="ldapbridge.ldap")

# Mozilla's "intermediate" list (TLS 1.2 part): ECDHE key exchange and AEAD
# ciphers only; TLS 1.3 suites are all strong and set by OpenSSL.
CIPHERS = (
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
)
MIN_VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


@attrs.frozen
class ServerTls:
    """What the LDAP server needs to speak TLS."""

    options: Any = attrs.field(repr=False)
    start_tls: bool
    certificate_path: Path
    fingerprint: str


@implementer(IOpenSSLServerConnectionCreator)
class CurrentTls:
    """The TLS configuration in force for LDAPS; a reload (SIGHUP) replaces
    ``current``, and each new connection then gets the new certificate."""

    def __init__(self, current: ServerTls) -> None:
        self.current = current

    def serverConnectionForTLS(self, tls_protocol: Any) -> Any:
        return self.current.options.serverConnectionForTLS(tls_protocol)


def load(settings: TlsSettings, bind_address: str) -> ServerTls:
    """Load (or first make) the certificate and build the TLS context.

    Raises ConfigError naming the [tls] key when a file cannot be used.
    """
    if settings.certificate is not None and settings.private_key is not None:
        cert_path, key_path = settings.certificate, settings.private_key
    else:
        cert_path, key_path = _self_signed(settings, bind_address)

    chain = _read_certificates(cert_path)
    _warn_if_exposed(key_path)
    key = _read_key(key_path)
    options = ssl.CertificateOptions(
        privateKey=crypto.PKey.from_cryptography_key(key),
        certificate=crypto.X509.from_cryptography(chain[0]),
        extraCertChain=[crypto.X509.from_cryptography(c) for c in chain[1:]],
        raiseMinimumTo=MIN_VERSIONS[settings.min_version],
        acceptableCiphers=ssl.AcceptableCiphers.fromOpenSSLCipherString(CIPHERS),
    )
    _check_context(options)

    fingerprint = certs.fingerprint(chain[0])
    log.info(
        "TLS certificate {path} SHA-256 fingerprint {fingerprint}",
        path=str(cert_path),
        fingerprint=fingerprint,
    )
    return ServerTls(options, settings.start_tls, cert_path, fingerprint)


def _self_signed(settings: TlsSettings, bind_address: str) -> tuple[Path, Path]:
    hostname = settings.hostname or default_hostname(bind_address)
    try:
        cert_path, key_path, made = certs.ensure_self_signed(
            settings.generated_dir, hostname
        )
    except OSError as e:
        raise ConfigError(
            f"[tls] certificate: none configured, and a self-signed one cannot "
            f"be written to {settings.generated_dir} ({e.strerror}); set [tls] "
            f"self_signed_dir to a folder the bridge may write"
        ) from None
    if made:
        log.info(
            "generated a self-signed TLS certificate for {hostname} in {path}",
            hostname=hostname,
            path=str(cert_path),
        )
    return cert_path, key_path


def default_hostname(bind_address: str) -> str:
    """The listening address, or this machine's name when that is a wildcard."""
    if bind_address in ("", "0.0.0.0", "::"):
        return socket.getfqdn()
    return bind_address


def _read_certificates(path: Path) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(path.read_bytes())
    except OSError as e:
        raise ConfigError(
            f"[tls] certificate: expected a readable file, found {path} ({e.strerror})"
        ) from None
    except ValueError:
        raise ConfigError(
            f"[tls] certificate: expected PEM certificates, found {path} without any"
        ) from None


def _warn_if_exposed(path: Path) -> None:
    """Warn when others than the key's owner may read it: anyone who can
    read it can pose as this server and collect the passwords PaperCut
    sends.  A warning, not a refusal: the key may be shared on purpose,
    with a group of the operator's choosing."""
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        return  # _read_key names the problem
    if mode & 0o077:
        log.warn(
            "TLS private key {path} may be read by others than its owner (mode "
            "{mode}); chmod 600 it",
            path=str(path),
            mode=f"{mode:04o}",
        )


def _read_key(path: Path) -> Any:
    try:
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as e:
        raise ConfigError(
            f"[tls] private_key: expected a readable file, found {path} ({e.strerror})"
        ) from None
    except (ValueError, TypeError):
        # The message says nothing of the key's content.
        raise ConfigError(
            f"[tls] private_key: expected an unencrypted PEM private key, "
            f"found {path} unusable"
        ) from None


def _check_context(options: Any) -> None:
    try:
        options.getContext()
    except Exception:
        raise ConfigError(
            "[tls] private_key: expected the key of [tls] certificate, "
            "found a key that does not match it"
        ) from None


def cleartext_password_allowed(settings: SecuritySettings, host: str) -> bool:
    """Whether a password may come over a connection without TLS from ``host``.

    With require_tls_for_passwords, only the listed networks (loopback by
    default) may; RFC 4513 6.3.1 recommends refusing cleartext passwords.
    """
    if not settings.require_tls_for_passwords:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    networks = settings.cleartext_password_networks
    return any(address in ipaddress.ip_network(n, strict=False) for n in networks)
