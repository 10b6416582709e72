"""contrib/ldapbridge.service: a valid, hardened systemd unit."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import DEMO_CSV, ROOT, demo_config, running_server

UNIT = ROOT / "contrib" / "ldapbridge.service"
INSTALLED_COMMAND = "/opt/ldapbridge/bin/ldapbridge"

needs_systemd_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed"
)


needs_root_and_setpriv = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="running as another user needs root and setpriv",
)
STATE_DIR = "/var/lib/ldapbridge"
NOBODY = "65534"


def readme_service_config() -> dict[str, dict[str, str]]:
    """The config sections README's "Running as a service" has the admin add."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("\n    [snapshot]\n", readme.index("### Running as a service"))
    lines = []
    for line in readme[start + 1 :].splitlines():
        if line and not line.startswith("    "):
            break
        lines.append(line)

    parser = configparser.ConfigParser()
    parser.read_string("\n".join(lines))
    return {name: dict(parser[name]) for name in parser.sections()}


def settings(text: str) -> list[tuple[str, str]]:
    """(key, value) of each setting line, in order; keys may repeat."""
    pairs = []
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            pairs.append((key, value))
    return pairs


def local_unit(tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at this environment's ldapbridge."""
    here = Path(sys.executable).parent / "ldapbridge"
    text = UNIT.read_text(encoding="utf-8").replace(INSTALLED_COMMAND, str(here))
    path = tmp_path / "ldapbridge.service"
    path.write_text(text, encoding="utf-8")
    return path


class TestUnitSettings:
    def test_runs_unprivileged_with_only_the_bind_capability(self) -> None:
        """A dedicated user, with CAP_NET_BIND_SERVICE as its only capability."""
        found = settings(UNIT.read_text(encoding="utf-8"))

        assert ("User", "ldapbridge") in found
        assert ("AmbientCapabilities", "CAP_NET_BIND_SERVICE") in found
        assert ("CapabilityBoundingSet", "CAP_NET_BIND_SERVICE") in found
        assert ("NoNewPrivileges", "yes") in found

    def test_reload_sends_hangup_and_start_serves_the_etc_config(self) -> None:
        """systemctl reload sends SIGHUP; start serves /etc/ldapbridge/bridge.conf."""
        found = dict(settings(UNIT.read_text(encoding="utf-8")))

        assert found["ExecReload"] == "/bin/kill -HUP $MAINPID"
        assert found["ExecStart"] == (
            f"{INSTALLED_COMMAND} serve --config /etc/ldapbridge/bridge.conf"
        )


@needs_systemd_analyze
class TestUnitWithSystemd:
    def test_systemd_accepts_every_line(self, tmp_path: Path) -> None:
        """systemd-analyze verify finds no error and no unknown key."""
        result = subprocess.run(
            ["systemd-analyze", "verify", str(local_unit(tmp_path))],
            capture_output=True,
            text=True,
            timeout=60,
        )

        assert result.returncode == 0
        assert result.stderr == ""

    def test_exposure_is_rated_ok(self, tmp_path: Path) -> None:
        """systemd's own security review rates the sandbox 2.0 or better."""
        result = subprocess.run(
            [
                "systemd-analyze",
                "security",
                "--offline=true",
                str(local_unit(tmp_path)),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )

        found = re.search(r"Overall exposure level for \S+: ([\d.]+)", result.stdout)
        assert found is not None, result.stdout + result.stderr
        assert float(found.group(1)) <= 2.0


@needs_root_and_setpriv
class TestInstalledAsReadmeSays:
    def test_unprivileged_user_starts_with_config_dir_read_only(
        self, tmp_path: Path
    ) -> None:
        """As user nobody, with a root-owned config folder, the README's config
        starts the server and keeps snapshot and certificate in the state folder."""
        etc, state = tmp_path / "etc", tmp_path / "state"
        etc.mkdir(mode=0o755)
        state.mkdir(mode=0o700)
        os.chown(state, int(NOBODY), int(NOBODY))
        shutil.copy(DEMO_CSV, etc / "members.csv")
        (etc / "members.csv").chmod(0o644)
        sections = {
            name: {k: v.replace(STATE_DIR, str(state)) for k, v in values.items()}
            for name, values in readme_service_config().items()
        }
        config = demo_config(etc / "members.csv", **sections)

        # Python itself may live under /root (pyenv), which nobody cannot
        # read: keep the right to read and search everywhere, and no right
        # to write, which is what this test is about.
        as_nobody = [
            "setpriv",
            f"--reuid={NOBODY}",
            f"--regid={NOBODY}",
            "--clear-groups",
            "--inh-caps=+dac_read_search",
            "--ambient-caps=+dac_read_search",
        ]
        with running_server(config, etc, prefix=as_nobody, cwd=state) as server:
            log = server.log()
        kept = sorted(p.relative_to(state).as_posix() for p in state.rglob("*"))

        assert "cannot" not in log
        assert kept == [
            "certs",
            "certs/ldapbridge-cert.pem",
            "certs/ldapbridge-key.pem",
            "ldapbridge-snapshot.json",
        ]
