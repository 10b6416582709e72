"""LDAPS and StartTLS with real clients, and the TLS policy."""

from __future__ import annotations

import os
import re
import socket
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import ldap3
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ldapbridge.ldap import certs
from tests.ldap import wire
from tests.ldap.wire import START_TLS, Response
from tests.service.helpers import wait_for_log
from tests.support import (
    BASE_DN,
    SERVICE_DN,
    SERVICE_PASSWORD,
    RunningServer,
    demo_config,
    running_server,
)
from tests.testcerts import make_ca_and_server_cert

TLS_CONFIG = {"server": {"ldaps_port": "0"}}
ALEX_FILTER = "(uid=alex.demo@example.com)"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server with LDAPS and StartTLS on a generated certificate."""
    workdir = tmp_path_factory.mktemp("tls")
    with running_server(demo_config(**TLS_CONFIG), workdir) as running:
        yield running


def ldapsearch(
    url: str, cacert: Path | None, *args: str
) -> subprocess.CompletedProcess[str]:
    """Run ldapsearch verifying the server against ``cacert``."""
    env = {**os.environ, "LDAPTLS_REQCERT": "demand", "LDAPTLS_CACERT": ""}
    if cacert is not None:
        env["LDAPTLS_CACERT"] = str(cacert)
    return subprocess.run(
        ["ldapsearch", "-LLL", "-x", "-H", url, *args],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )


def service_search_args() -> list[str]:
    return [
        "-D",
        SERVICE_DN,
        "-w",
        SERVICE_PASSWORD,
        "-b",
        BASE_DN,
        ALEX_FILTER,
        "mail",
    ]


class TestLdaps:
    def test_ldapsearch_over_ldaps_verifies_the_generated_certificate(
        self, server: RunningServer
    ) -> None:
        """ldapsearch -H ldaps:// with LDAPTLS_CACERT finds Alex."""
        url = f"ldaps://127.0.0.1:{wire.ldaps_port(server)}"
        done = ldapsearch(url, wire.certificate_path(server), *service_search_args())
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines()[:2] == [
            "dn: uid=alex.demo@example.com,ou=people,dc=example,dc=com",
            "mail: alex.demo@example.com",
        ]

    def test_ldapsearch_without_the_certificate_refuses_the_server(
        self, server: RunningServer
    ) -> None:
        """With no trusted CA, a verifying client cannot connect."""
        url = f"ldaps://127.0.0.1:{wire.ldaps_port(server)}"
        done = ldapsearch(url, None, *service_search_args())
        assert done.returncode == 255
        assert "Can't contact LDAP server" in done.stderr

    def test_client_refusing_the_certificate_is_logged(
        self, server: RunningServer
    ) -> None:
        """A client that does not trust the certificate leaves a warning naming
        its peer and the alert it sent, so the admin sees why it failed."""
        context = ssl.create_default_context()
        raw = socket.create_connection(("127.0.0.1", wire.ldaps_port(server)))
        port = raw.getsockname()[1]
        with pytest.raises(ssl.SSLCertVerificationError):
            context.wrap_socket(raw, server_hostname="127.0.0.1")
        raw.close()

        log = wait_for_log(server, rf"peer=127\.0\.0\.1:{port} TLS failed")

        assert re.search(
            rf"\[ldapbridge\.ldap#warn\] session=\d+ peer=127\.0\.0\.1:{port} "
            r"TLS failed: tlsv1 alert unknown ca$",
            log,
            re.MULTILINE,
        )

    def test_ldap3_over_ldaps_reads_alex(self, server: RunningServer) -> None:
        """ldap3 with use_ssl and certificate validation binds and searches."""
        tls = wire.client_tls(wire.certificate_path(server))
        ldap_server = ldap3.Server(
            "127.0.0.1", port=wire.ldaps_port(server), use_ssl=True, tls=tls
        )
        with ldap3.Connection(ldap_server, SERVICE_DN, SERVICE_PASSWORD) as connection:
            connection.search(BASE_DN, ALEX_FILTER, attributes=["mail"])
            assert [str(e.mail) for e in connection.entries] == [
                "alex.demo@example.com"
            ]

    def test_start_tls_over_ldaps_is_refused_with_operations_error(
        self, server: RunningServer
    ) -> None:
        """TLS is already active on LDAPS (RFC 4511 4.14.1)."""
        context = ssl.create_default_context(cafile=str(wire.certificate_path(server)))
        port = wire.ldaps_port(server)
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            context.wrap_socket(raw, server_hostname="127.0.0.1") as sock,
        ):
            sock.sendall(wire.extended_request(1, START_TLS))
            answer = wire.read_responses(sock, 1)
        assert answer == [Response(1, 0x78, 1, START_TLS)]


class TestStartTls:
    def test_ldapsearch_zz_verifies_the_generated_certificate(
        self, server: RunningServer
    ) -> None:
        """ldapsearch -ZZ upgrades the plain port and finds Alex."""
        cacert = wire.certificate_path(server)
        done = ldapsearch(server.url, cacert, "-ZZ", *service_search_args())
        assert done.returncode == 0, done.stderr
        assert "mail: alex.demo@example.com" in done.stdout.splitlines()

    def test_ldap3_start_tls_reads_alex(self, server: RunningServer) -> None:
        """ldap3's start_tls with certificate validation, then bind and search."""
        tls = wire.client_tls(wire.certificate_path(server))
        ldap_server = ldap3.Server("127.0.0.1", port=server.port, tls=tls)
        connection = ldap3.Connection(ldap_server, SERVICE_DN, SERVICE_PASSWORD)
        connection.open()
        try:
            assert connection.start_tls() is True
            assert connection.bind() is True
            connection.search(BASE_DN, ALEX_FILTER, attributes=["mail"])
            assert [str(e.mail) for e in connection.entries] == [
                "alex.demo@example.com"
            ]
        finally:
            connection.unbind()

    def test_second_start_tls_is_refused_with_operations_error(
        self, server: RunningServer
    ) -> None:
        """StartTLS on a connection already upgraded gets operationsError (1)."""
        tls = wire.client_tls(wire.certificate_path(server))
        ldap_server = ldap3.Server("127.0.0.1", port=server.port, tls=tls)
        connection = ldap3.Connection(ldap_server)
        connection.open()
        try:
            assert connection.start_tls() is True
            connection.extended(START_TLS)
            assert connection.result["result"] == 1
            assert connection.result["description"] == "operationsError"
        finally:
            connection.unbind()

    def test_start_tls_with_a_pipelined_request_is_refused(
        self, server: RunningServer
    ) -> None:
        """A request sent behind StartTLS would be cleartext: operationsError."""
        payload = wire.extended_request(1, START_TLS) + wire.search_request(
            2, base="", scope=0
        )
        answer = wire.exchange(server, payload, results=2)
        assert answer == [
            Response(1, 0x78, 1, START_TLS),
            Response(2, 0x64, None),
            Response(2, 0x65, 0),
        ]

    def test_start_tls_behind_an_outstanding_bind_is_refused(
        self, server: RunningServer
    ) -> None:
        """A bind still checking its password is outstanding: operationsError."""
        payload = wire.bind_request(1, wire.ALEX_DN, wire.ALEX_PASSWORD)
        payload += wire.extended_request(2, START_TLS)
        answer = wire.exchange(server, payload, results=2)
        assert sorted((r.message_id, r.code) for r in answer) == [(1, 0), (2, 1)]

    def test_start_tls_with_a_value_is_a_protocol_error(
        self, server: RunningServer
    ) -> None:
        """The StartTLS request carries no value (RFC 4511 4.14.1)."""
        payload = wire.extended_request(1, START_TLS, b"surprise")
        answer = wire.exchange(server, payload, results=1)
        assert answer == [Response(1, 0x78, 2, START_TLS)]

    def test_root_dse_lists_start_tls(self, server: RunningServer) -> None:
        """supportedExtension names StartTLS next to Who am I?."""
        done = ldapsearch(
            server.url, None, "-b", "", "-s", "base", "supportedExtension"
        )
        assert done.stdout.splitlines()[1:3] == [
            "supportedExtension: 1.3.6.1.4.1.4203.1.11.3",
            "supportedExtension: 1.3.6.1.4.1.1466.20037",
        ]

    def test_start_tls_turned_off_is_unavailable(self, tmp_path: Path) -> None:
        """With [tls] start_tls = false, StartTLS gets unavailable (52)."""
        config = demo_config(tls={"start_tls": "false"})
        with running_server(config, tmp_path) as running:
            answer = wire.exchange(running, wire.extended_request(1, START_TLS), 1)
        assert answer == [Response(1, 0x78, 52, START_TLS)]
        assert not (tmp_path / "certs").exists()


class TestTlsPolicy:
    def _handshake(self, server: RunningServer, context: ssl.SSLContext) -> str:
        """The reason OpenSSL gives for a failed handshake."""
        port = wire.ldaps_port(server)
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            pytest.raises(ssl.SSLError) as failed,
        ):
            context.wrap_socket(raw, server_hostname="127.0.0.1")
        return str(failed.value.reason)

    def _lax_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.set_ciphers("ALL:@SECLEVEL=0")
        return context

    def test_tls_1_1_is_refused_by_the_server(self, server: RunningServer) -> None:
        """A client offering at most TLS 1.1 gets a protocol_version alert."""
        context = self._lax_context()
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
        assert self._handshake(server, context) == "TLSV1_ALERT_PROTOCOL_VERSION"

    def test_cbc_cipher_without_forward_secrecy_is_refused(
        self, server: RunningServer
    ) -> None:
        """A client offering only AES128-SHA gets a handshake_failure alert."""
        context = self._lax_context()
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        context.set_ciphers("AES128-SHA:@SECLEVEL=0")
        assert self._handshake(server, context) == "SSLV3_ALERT_HANDSHAKE_FAILURE"


class TestGeneratedCertificate:
    def test_key_file_is_readable_by_its_owner_only(
        self, server: RunningServer
    ) -> None:
        """The generated private key has mode 0600."""
        key = wire.certificate_path(server).with_name("ldapbridge-key.pem")
        assert key.stat().st_mode & 0o777 == 0o600

    def test_log_gives_the_certificate_fingerprint(self, server: RunningServer) -> None:
        """The logged SHA-256 fingerprint is the certificate's."""
        pem = wire.certificate_path(server).read_bytes()
        digest = x509.load_pem_x509_certificate(pem).fingerprint(hashes.SHA256())
        expected = ":".join(f"{b:02X}" for b in digest)
        assert f"SHA-256 fingerprint {expected}" in server.log()

    def test_certificate_names_the_host_and_localhost(
        self, server: RunningServer
    ) -> None:
        """The subject alternative names cover 127.0.0.1 and localhost."""
        pem = wire.certificate_path(server).read_bytes()
        names = x509.load_pem_x509_certificate(pem).extensions.get_extension_for_class(
            x509.SubjectAlternativeName
        )
        assert [str(n.value) for n in names.value] == ["127.0.0.1", "localhost"]

    def test_certificate_is_reused_at_the_next_start(self, tmp_path: Path) -> None:
        """A restart logs the same fingerprint and generates nothing."""
        config = demo_config(tls={"hostname": "print.example.org"})
        with running_server(config, tmp_path / "first") as first:
            first_log = first.log()
        (tmp_path / "second").mkdir()
        os.rename(tmp_path / "first" / "certs", tmp_path / "second" / "certs")
        with running_server(config, tmp_path / "second") as second:
            second_log = second.log()
        fingerprint = first_log.split("SHA-256 fingerprint ")[1].split()[0]
        assert (
            "generated a self-signed TLS certificate for print.example.org" in first_log
        )
        assert "generated" not in second_log
        assert f"SHA-256 fingerprint {fingerprint}" in second_log


class TestConfiguredCertificate:
    def test_configured_certificate_is_served(self, tmp_path: Path) -> None:
        """ldapsearch trusting only the test CA accepts the configured certificate."""
        ca, cert, key = make_ca_and_server_cert(tmp_path)
        config = demo_config(
            server={"ldaps_port": "0"},
            tls={"certificate": str(cert), "private_key": str(key)},
        )
        with running_server(config, tmp_path / "run") as running:
            url = f"ldaps://127.0.0.1:{wire.ldaps_port(running)}"
            done = ldapsearch(url, ca, *service_search_args())
        assert done.returncode == 0, done.stderr
        assert "mail: alex.demo@example.com" in done.stdout.splitlines()
        assert not (tmp_path / "run" / "certs").exists()

    def test_key_of_another_certificate_stops_the_server(self, tmp_path: Path) -> None:
        """A key that does not match the certificate is a config error."""
        _, cert, _ = make_ca_and_server_cert(tmp_path)
        other = tmp_path / "other-key.pem"
        other.write_bytes(
            ec.generate_private_key(ec.SECP256R1()).private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        config = demo_config(tls={"certificate": str(cert), "private_key": str(other)})
        with (
            pytest.raises(RuntimeError) as failed,
            running_server(config, tmp_path / "run"),
        ):
            pass
        assert "server exited (2)" in str(failed.value)
        assert (
            "[tls] private_key: expected the key of [tls] certificate, "
            "found a key that does not match it"
        ) in str(failed.value)


def log_of_a_start_with_key_mode(tmp_path: Path, mode: int) -> tuple[Path, str]:
    """Start with a configured key of ``mode``; its path and the server's log."""
    _, cert, key = make_ca_and_server_cert(tmp_path)
    key.chmod(mode)
    config = demo_config(tls={"certificate": str(cert), "private_key": str(key)})
    with running_server(config, tmp_path / "run") as running:
        return key, running.log()


class TestExposedKey:
    def test_a_key_readable_by_others_is_warned_of(self, tmp_path: Path) -> None:
        """A configured key of mode 0644 still serves, with a warning naming it."""
        key, log = log_of_a_start_with_key_mode(tmp_path, 0o644)
        assert (
            f"TLS private key {key} may be read by others than its owner (mode "
            "0644); chmod 600 it"
        ) in log

    def test_a_key_of_mode_0600_is_not_warned_of(self, tmp_path: Path) -> None:
        """The same key at mode 0600 starts without the warning."""
        _, log = log_of_a_start_with_key_mode(tmp_path, 0o600)
        assert "may be read by others" not in log
        assert "TLS certificate" in log


class TestCleartextPasswords:
    def test_password_over_cleartext_from_outside_the_networks_is_refused(
        self, tmp_path: Path
    ) -> None:
        """With loopback not among the cleartext networks, a plain bind gets 13."""
        config = demo_config(
            security={"cleartext_password_networks": "192.0.2.0/24"},
        )
        with running_server(config, tmp_path) as running:
            plain = wire.exchange(
                running, wire.bind_request(1, SERVICE_DN, SERVICE_PASSWORD), 1
            )
            anonymous = wire.exchange(running, wire.bind_request(1, "", ""), 1)
            cacert = wire.certificate_path(running)
            upgraded = ldapsearch(running.url, cacert, "-ZZ", *service_search_args())
            log = running.log()
        assert plain == [Response(1, 0x61, 13)]
        assert anonymous == [Response(1, 0x61, 0)]
        assert upgraded.returncode == 0, upgraded.stderr
        assert "op=bind msgid=1 dn='cn=papercut,ou=services" in log
        assert "result=13" in log

    def test_password_over_cleartext_from_loopback_is_allowed_by_default(
        self, server: RunningServer
    ) -> None:
        """The default cleartext networks are loopback: a local plain bind works."""
        answer = wire.exchange(
            server, wire.bind_request(1, SERVICE_DN, SERVICE_PASSWORD), 1
        )
        assert answer == [Response(1, 0x61, 0)]

    def test_require_tls_off_allows_cleartext_from_anywhere(
        self, tmp_path: Path
    ) -> None:
        """require_tls_for_passwords = false lifts the rule."""
        config = demo_config(
            security={
                "require_tls_for_passwords": "false",
                "cleartext_password_networks": "192.0.2.0/24",
            },
        )
        with running_server(config, tmp_path) as running:
            answer = wire.exchange(
                running, wire.bind_request(1, SERVICE_DN, SERVICE_PASSWORD), 1
            )
        assert answer == [Response(1, 0x61, 0)]


def test_generated_certificate_files_are_named_as_documented() -> None:
    """README tells admins these two file names."""
    assert (certs.CERT_FILE, certs.KEY_FILE) == (
        "ldapbridge-cert.pem",
        "ldapbridge-key.pem",
    )


class TestCertificateReload:
    def test_sighup_serves_a_renewed_certificate(self, tmp_path: Path) -> None:
        """After SIGHUP, LDAPS and StartTLS present the newly configured
        certificate; a broken one is refused and the last one kept."""
        from tests.service.helpers import hangup, wait_for_log, write_config

        ca, cert, key = make_ca_and_server_cert(tmp_path)
        with running_server(demo_config(**TLS_CONFIG), tmp_path / "run") as running:
            url = f"ldaps://127.0.0.1:{wire.ldaps_port(running)}"
            generated = tmp_path / "run" / "certs" / "ldapbridge-cert.pem"
            before = ldapsearch(url, generated, *service_search_args())

            renewed = {"certificate": str(cert), "private_key": str(key)}
            write_config(running, demo_config(**TLS_CONFIG, tls=renewed))
            hangup(running)
            wait_for_log(running, "reloaded config")
            after = ldapsearch(url, ca, *service_search_args())
            start_tls = ldapsearch(running.url, ca, "-ZZ", *service_search_args())
            old_trust = ldapsearch(url, generated, *service_search_args())

            broken = {"certificate": str(cert), "private_key": str(tmp_path / "no")}
            write_config(running, demo_config(**TLS_CONFIG, tls=broken))
            hangup(running)
            wait_for_log(running, "reload refused")
            kept = ldapsearch(url, ca, *service_search_args())

        assert before.returncode == 0, before.stderr
        assert after.returncode == 0, after.stderr
        assert start_tls.returncode == 0, start_tls.stderr
        assert old_trust.returncode != 0
        assert kept.returncode == 0, kept.stderr
