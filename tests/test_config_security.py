"""The [tls], [security] and [limits] sections and [server] ldaps_port."""

from __future__ import annotations

from pathlib import Path

import pytest

from ldapbridge import config
from ldapbridge.config import LimitsSettings, SecuritySettings, TlsSettings
from tests.support import demo_config


def load(tmp_path: Path, **sections: dict[str, str]) -> config.Settings:
    path = tmp_path / "bridge.conf"
    path.write_text(demo_config(**sections), encoding="utf-8")
    return config.load(path)


class TestDefaults:
    def test_defaults_are_secure(self, tmp_path: Path) -> None:
        """Without the sections: StartTLS on, TLS 1.2, local cleartext passwords."""
        path = tmp_path / "bridge.conf"
        text = demo_config().split("[security]")[0]
        path.write_text(text, encoding="utf-8")
        settings = config.load(path)
        assert settings.server.ldaps_port is None
        assert settings.tls == TlsSettings(generated_dir=tmp_path / "certs")
        assert settings.security == SecuritySettings()
        assert settings.security.cleartext_password_networks == ("127.0.0.0/8", "::1")
        assert settings.limits == LimitsSettings()
        assert settings.limits.max_message_bytes == 1048576

    def test_shipped_bridge_conf_listens_for_ldaps_on_10636(self) -> None:
        """The demo config has LDAPS on port 10636."""
        shipped = config.load(Path(__file__).parent.parent / "bridge.conf")
        assert shipped.server.ldaps_port == 10636


class TestValues:
    def test_every_key_is_read(self, tmp_path: Path) -> None:
        """Each documented key lands in its setting."""
        settings = load(
            tmp_path,
            server={"ldaps_port": "1636"},
            tls={
                "certificate": "tls/cert.pem",
                "private_key": "/etc/ssl/key.pem",
                "hostname": "print.example.org",
                "self_signed_dir": "generated",
                "start_tls": "no",
                "min_version": "1.3",
            },
            security={
                "require_tls_for_passwords": "false",
                "cleartext_password_networks": "10.0.0.0/8, fd00::/8",
                "failure_delay_s": "0.5",
                "max_failure_delay_s": "4",
                "lockout_failures_per_dn": "7",
                "lockout_failures_per_address": "70",
                "failure_window_s": "300",
                "lockout_s": "60",
            },
            limits={
                "max_message_bytes": "65536",
                "max_message_elements": "5000",
                "max_connections": "50",
                "idle_timeout_s": "30",
                "max_outstanding_operations": "4",
            },
        )
        assert settings.server.ldaps_port == 1636
        assert settings.tls == TlsSettings(
            certificate=tmp_path / "tls" / "cert.pem",
            private_key=Path("/etc/ssl/key.pem"),
            generated_dir=tmp_path / "generated",
            hostname="print.example.org",
            start_tls=False,
            min_version="1.3",
        )
        assert settings.security == SecuritySettings(
            require_tls_for_passwords=False,
            cleartext_password_networks=("10.0.0.0/8", "fd00::/8"),
            failure_delay_s=0.5,
            max_failure_delay_s=4.0,
            lockout_failures_per_dn=7,
            lockout_failures_per_address=70,
            failure_window_s=300.0,
            lockout_s=60.0,
        )
        assert settings.limits == LimitsSettings(65536, 5000, 50, 30.0, 4)


class TestErrors:
    @pytest.mark.parametrize(
        ("sections", "message"),
        [
            (
                {"tls": {"certificate": "c.pem"}},
                "[tls] private_key: expected a path (certificate and private_key "
                "go together), found nothing",
            ),
            (
                {"tls": {"min_version": "1.0"}},
                "[tls] min_version: expected one of 1.2, 1.3, found '1.0'",
            ),
            (
                {"security": {"cleartext_password_networks": "10.0.0.0/33"}},
                "[security] cleartext_password_networks: expected IP networks such "
                "as 10.0.0.0/8, found 10.0.0.0/33",
            ),
            (
                {"security": {"failure_delay_s": "soon"}},
                "[security] failure_delay_s: expected a number from 0 to 60, "
                "found 'soon'",
            ),
            (
                {"security": {"failure_delay_s": "2", "max_failure_delay_s": "1.5"}},
                "[security] max_failure_delay_s: expected at least [security] "
                "failure_delay_s (2), found 1.5",
            ),
            (
                {"limits": {"max_message_bytes": "10"}},
                "[limits] max_message_bytes: expected an integer from 1024 to "
                "1073741824, found '10'",
            ),
            (
                {"server": {"ldaps_port": "70000"}},
                "[server] ldaps_port: expected an integer from 0 to 65535, "
                "found '70000'",
            ),
            (
                {"server": {"ldap_port": "1389", "ldaps_port": "1389"}},
                "[server] ldaps_port: expected a port other than [server] "
                "ldap_port, found 1389",
            ),
            (
                {"limits": {"max_sockets": "5"}},
                "[limits]: unknown key(s) max_sockets; expected one of "
                "idle_timeout_s, max_connections, max_message_bytes, "
                "max_message_elements, max_outstanding_operations",
            ),
        ],
    )
    def test_bad_value_names_section_key_expected_and_found(
        self, tmp_path: Path, sections: dict[str, dict[str, str]], message: str
    ) -> None:
        """Each error says where, what was expected and what was found."""
        with pytest.raises(config.ConfigError) as failed:
            load(tmp_path, **sections)
        assert str(failed.value) == message
