"""Running a real ldapbridge server process for end-to-end tests."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import attrs

ROOT = Path(__file__).resolve().parent.parent
DEMO_CSV = ROOT / "demo" / "members.csv"
BASE_DN = "dc=example,dc=com"
SERVICE_DN = "cn=papercut,ou=services,dc=example,dc=com"
SERVICE_PASSWORD = "papercut-demo"
PEOPLE_DN = "ou=people,dc=example,dc=com"
GROUPS_DN = "ou=groups,dc=example,dc=com"

LISTENING = re.compile(r"listening for LDAP on ([\d.]+):(\d+)")


def demo_config(members_csv: Path = DEMO_CSV, **sections: dict[str, str]) -> str:
    """The text of a config like bridge.conf, on a free port, with overrides."""
    base: dict[str, dict[str, str]] = {
        "server": {"bind_address": "127.0.0.1", "ldap_port": "0"},
        "directory": {"base_dn": BASE_DN, "profile": "unix"},
        "source": {"type": "file", "path": str(members_csv)},
        "service.papercut": {"password": SERVICE_PASSWORD},
        "logging": {"level": "info", "format": "text"},
        # Tests fail binds on purpose: no delays or lockouts unless a test
        # turns them on (tests/ldap/test_bind_throttling.py).
        "security": {
            "failure_delay_s": "0",
            "lockout_failures_per_dn": "0",
            "lockout_failures_per_address": "0",
        },
    }
    for name, values in sections.items():
        base.setdefault(name.replace("__", "."), {}).update(values)
    lines = []
    for name, values in base.items():
        lines.append(f"[{name}]")
        lines.extend(f"{k} = {v}" for k, v in values.items())
        lines.append("")
    return "\n".join(lines)


@attrs.define
class RunningServer:
    process: subprocess.Popen[bytes]
    host: str
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"ldap://{self.host}:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def _wait_for_port(process: subprocess.Popen[bytes], log_path: Path) -> tuple[str, int]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        text = log_path.read_text(encoding="utf-8", errors="replace")
        found = LISTENING.search(text)
        if found:
            return found.group(1), int(found.group(2))
        if process.poll() is not None:
            raise RuntimeError(f"server exited ({process.returncode}):\n{text}")
        time.sleep(0.05)
    raise RuntimeError(f"server did not start:\n{log_path.read_text()}")


@contextmanager
def running_server(
    config_text: str,
    workdir: Path,
    prefix: Sequence[str] = (),
    cwd: Path | None = None,
) -> Iterator[RunningServer]:
    """Start ``ldapbridge serve`` on ``config_text``; stop it with SIGTERM.

    ``prefix`` goes before the command (to run it as another user), and ``cwd``
    replaces ``workdir`` as its working folder.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "bridge.conf"
    config_path.write_text(config_text, encoding="utf-8")
    log_path = workdir / "server.log"

    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [
                *prefix,
                sys.executable,
                "-m",
                "ldapbridge.service.cli",
                "serve",
                "--config",
                str(config_path),
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=cwd or workdir,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        host, port = _wait_for_port(process, log_path)
        yield RunningServer(process, host, port, log_path)
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def ldap_tool(
    tool: str, server: RunningServer, *args: str
) -> subprocess.CompletedProcess[str]:
    """Run an OpenLDAP client tool (ldapsearch, ldapwhoami...) against ``server``."""
    return subprocess.run(
        [tool, "-x", "-H", server.url, *args],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "LDAPTLS_REQCERT": "never"},
    )
