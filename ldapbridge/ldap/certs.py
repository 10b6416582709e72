"""The self-signed certificate made at first start when none is configured.

It lets LDAPS and StartTLS work out of the box: clients trust it by its file
(``LDAPTLS_CACERT``) or its fingerprint, which the server logs at each start.
README tells how to use a certificate from a real CA instead.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CERT_FILE = "ldapbridge-cert.pem"
KEY_FILE = "ldapbridge-key.pem"
VALID_DAYS = 5 * 365
KEY_BITS = 2048


def generated_paths(directory: Path) -> tuple[Path, Path]:
    return directory / CERT_FILE, directory / KEY_FILE


def ensure_self_signed(directory: Path, hostname: str) -> tuple[Path, Path, bool]:
    """(certificate path, key path, whether they were just made).

    Reuses the pair in ``directory`` when both files exist.  Raises OSError
    when the directory or files cannot be written.
    """
    cert_path, key_path = generated_paths(directory)
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path, False

    directory.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    certificate = self_signed(key, hostname)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # The key first, and never readable by others, even for a moment.
    _write_atomically(key_path, key_pem, 0o600)
    _write_atomically(
        cert_path, certificate.public_bytes(serialization.Encoding.PEM), 0o644
    )
    return cert_path, key_path, True


def self_signed(key: rsa.RSAPrivateKey, hostname: str) -> x509.Certificate:
    """A certificate for ``hostname`` (and localhost), signed by ``key``."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname[:64])])
    now = datetime.datetime.now(datetime.UTC)
    public = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(_alt_names(hostname)), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
        .add_extension(_key_usage(), True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(public), False
        )
    )
    return builder.sign(key, hashes.SHA256())


def _alt_names(hostname: str) -> list[x509.GeneralName]:
    """The host name, plus localhost and 127.0.0.1 for tools on the machine."""
    names: list[x509.GeneralName] = []
    for value in dict.fromkeys((hostname, "localhost", "127.0.0.1")):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(value)))
        except ValueError:
            names.append(x509.DNSName(value))
    return names


def _key_usage() -> x509.KeyUsage:
    # keyCertSign because the certificate is its own trust anchor: clients
    # given it as a CA file (LDAPTLS_CACERT) check that it may sign.
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=True,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        os.fchmod(handle, mode)
        with os.fdopen(handle, "wb") as f:
            f.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def fingerprint(certificate: x509.Certificate) -> str:
    """SHA-256 fingerprint as ``openssl x509 -fingerprint -sha256`` shows it."""
    digest = certificate.fingerprint(hashes.SHA256())
    return ":".join(f"{b:02X}" for b in digest)
