"""The server refuses non-loopback addresses while demo passwords are in use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ldapbridge import config
from ldapbridge.directory.model import Snapshot
from ldapbridge.directory.passwords import hash_password
from ldapbridge.directory.snapshot import build_snapshot
from ldapbridge.service import exposure
from ldapbridge.service.app import make_source
from tests.support import DEMO_CSV, demo_config

REAL_CSV_HEADER = "Member ID,Full Name,Email,Status,Password Hash\n"


def load_snapshot(loaded: config.Settings) -> Snapshot:
    """The snapshot the server would build from ``loaded``'s source."""
    return build_snapshot(make_source(loaded).fetch(), loaded.directory)


def serve(config_text: str, workdir: Path) -> subprocess.CompletedProcess[str]:
    """Run ``ldapbridge serve``; it must refuse before listening."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "bridge.conf"
    path.write_text(config_text, encoding="utf-8")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "ldapbridge.service.cli",
            "serve",
            "--config",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=workdir,
    )


def settings(tmp_path: Path, text: str) -> config.Settings:
    path = tmp_path / "bridge.conf"
    path.write_text(text, encoding="utf-8")
    return config.load(path)


def real_export(tmp_path: Path) -> Path:
    path = tmp_path / "members.csv"
    path.write_text(
        REAL_CSV_HEADER + f"R-1,Real Person,real@example.org,Active,"
        f"{hash_password('a-real-password')}\n",
        encoding="utf-8",
    )
    return path


class TestDemoPasswordsStayLocal:
    def test_demo_service_password_on_all_addresses_is_refused(
        self, tmp_path: Path
    ) -> None:
        """0.0.0.0 with papercut-demo: exit 2, naming both settings."""
        text = demo_config(server={"bind_address": "0.0.0.0"})
        done = serve(text, tmp_path)
        assert done.returncode == 2
        assert done.stderr == (
            "ldapbridge: config error: [server] bind_address: expected a loopback "
            "address while [service.papercut] password is the public demo password, "
            "found 0.0.0.0: set real passwords, or listen on 127.0.0.1 "
            "(password_file or password_env)\n"
        )
        assert "listening" not in done.stdout

    def test_demo_password_given_as_a_hash_is_refused(self, tmp_path: Path) -> None:
        """Hashing the demo password does not make it secret."""
        text = demo_config(
            server={"bind_address": "::"},
            service__papercut={"password": hash_password("papercut-demo")},
        )
        with pytest.raises(config.ConfigError, match=r"\[service.papercut\] password"):
            exposure.check_exposure(
                settings(tmp_path, text), load_snapshot(settings(tmp_path, text))
            )

    def test_demo_members_on_a_public_address_are_refused(self, tmp_path: Path) -> None:
        """The demo export's members, with a real service password: still refused."""
        text = demo_config(
            server={"bind_address": "192.0.2.10"},
            service__papercut={"password": "a-long-real-secret"},
        )
        done = serve(text, tmp_path)
        assert done.returncode == 2
        assert "[source] path holds the demo members" in done.stderr
        assert "found 192.0.2.10" in done.stderr

    def test_real_passwords_may_listen_anywhere(self, tmp_path: Path) -> None:
        """No demo password: the check passes for a public address."""
        text = demo_config(
            real_export(tmp_path),
            server={"bind_address": "192.0.2.10"},
            service__papercut={"password": "a-long-real-secret"},
        )
        loaded = settings(tmp_path, text)
        exposure.check_exposure(loaded, load_snapshot(loaded))

    def test_demo_passwords_on_loopback_are_fine(self, tmp_path: Path) -> None:
        """The shipped demo on 127.0.0.1 passes the check."""
        loaded = settings(tmp_path, demo_config(DEMO_CSV))
        exposure.check_exposure(loaded, load_snapshot(loaded))


class TestCheckReportsExposure:
    def test_check_fails_where_serve_would_refuse(self, tmp_path: Path) -> None:
        """check on 0.0.0.0 with the demo password reports serve's refusal."""
        path = tmp_path / "bridge.conf"
        path.write_text(
            demo_config(server={"bind_address": "0.0.0.0"}), encoding="utf-8"
        )

        done = subprocess.run(
            [sys.executable, "-m", "ldapbridge.service.cli", "check",
             "--config", str(path)],
            capture_output=True, text=True, timeout=60, cwd=tmp_path,
        )  # fmt: skip

        assert done.returncode == 1
        assert done.stdout.splitlines()[3:5] == [
            "problem: [server] bind_address: expected a loopback address while "
            "[service.papercut] password is the public demo password, found "
            "0.0.0.0: set real passwords, or listen on 127.0.0.1 "
            "(password_file or password_env)",
            "skipped records: 0",
        ]
        assert done.stdout.splitlines()[-1] == (
            "check failed: 1 problem(s), 0 warning(s)"
        )


class TestLoopback:
    @pytest.mark.parametrize(
        "address", ["127.0.0.1", "127.1.2.3", "::1", "localhost", "::ffff:127.0.0.1"]
    )
    def test_loopback_addresses(self, address: str) -> None:
        """Addresses only this machine reaches count as loopback."""
        assert exposure.is_loopback(address) is True

    @pytest.mark.parametrize(
        "address", ["0.0.0.0", "::", "192.0.2.10", "10.0.0.1", "print.example.org"]
    )
    def test_other_addresses(self, address: str) -> None:
        """Wildcards, private and public addresses and host names do not."""
        assert exposure.is_loopback(address) is False
