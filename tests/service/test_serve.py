"""The two ways to run the bridge: ``ldapbridge serve`` and ``twistd``.

Each test starts a real process on the demo config (port 0), talks to it
with ldapwhoami and stops it with a signal, or feeds it a broken config.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support import (
    DEMO_CSV,
    ROOT,
    SERVICE_DN,
    SERVICE_PASSWORD,
    RunningServer,
    _wait_for_port,
    ldap_tool,
    stop,
)

SERVE = [sys.executable, "-m", "ldapbridge.service.cli", "serve", "--config"]


def twistd_command() -> list[str]:
    """The twistd of this Python, as README runs it: twistd -n ldapbridge."""
    beside = Path(sys.executable).parent / "twistd"
    found = str(beside) if beside.exists() else shutil.which("twistd")
    assert found, "twistd is not installed"
    return [found, "-n", "ldapbridge", "--config"]


def twistd_env() -> dict[str, str]:
    # `pip install .` copies twisted/plugins/ldapbridge_plugin.py into
    # site-packages; an editable install (README's test command) does not,
    # so point Twisted's plugin search at the checkout's copy.
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path, "PYTHONUNBUFFERED": "1"}


def demo_config_file(tmp_path: Path, port: int = 0, **replace: str) -> Path:
    """The shipped bridge.conf, on ``port``, reading the bundled export."""
    text = (ROOT / "bridge.conf").read_text(encoding="utf-8")
    text = text.replace("ldap_port = 10389", f"ldap_port = {port}")
    # Port 0 for LDAPS too: the shipped 10636 may be taken on a shared machine.
    text = text.replace("ldaps_port = 10636", "ldaps_port = 0")
    text = text.replace("path = demo/members.csv", f"path = {DEMO_CSV}")
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "bridge.conf"
    path.write_text(text, encoding="utf-8")
    return path


@contextmanager
def started(
    command: list[str], tmp_path: Path, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], RunningServer]]:
    """Run ``command`` in ``tmp_path`` until it listens; kill it if left running."""
    log_path = tmp_path / "out.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
            env=env or {**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        host, port = _wait_for_port(process, log_path)
        yield process, RunningServer(process, host, port, log_path)
    finally:
        stop(process)


def run(command: list[str], tmp_path: Path, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, capture_output=True, text=True, cwd=tmp_path, timeout=30, **kw
    )


def service_whoami(server: RunningServer) -> str:
    done = ldap_tool("ldapwhoami", server, "-D", SERVICE_DN, "-w", SERVICE_PASSWORD)
    return done.stdout


class TestServe:
    def test_serve_answers_and_stops_cleanly_on_sigterm(self, tmp_path):
        """ldapbridge serve on the demo config answers, then exits 0 on SIGTERM."""
        config = demo_config_file(tmp_path)
        with started([*SERVE, str(config)], tmp_path) as (process, server):
            assert service_whoami(server) == f"dn:{SERVICE_DN}\n"
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=15) == 0

        log = server.log()
        assert "serving 46 members and 12 groups under dc=example,dc=com" in log
        assert "Received SIGTERM, shutting down." in log
        assert "Main loop terminated." in log

    def test_serve_stops_cleanly_on_ctrl_c(self, tmp_path):
        """SIGINT (Ctrl-C) stops ldapbridge serve with exit code 0."""
        config = demo_config_file(tmp_path)
        with started([*SERVE, str(config)], tmp_path) as (process, server):
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=15) == 0
        assert "Received SIGINT, shutting down." in server.log()

    def test_serve_logs_in_json_when_asked(self, tmp_path):
        """format = json writes one JSON event per line, with named fields."""
        config = demo_config_file(tmp_path, **{"format = text": "format = json"})
        log_path = tmp_path / "out.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [*SERVE, str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        try:
            listening = wait_for_event(process, log_path, "listening for {label}")
            server = RunningServer(
                process, listening["host"], listening["port"], log_path
            )
            service_whoami(server)
        finally:
            assert stop(process) == 0

        events = [json.loads(line) for line in log_path.read_text().splitlines()]
        binds = [e for e in events if e.get("op") == "bind"]
        assert [(e["dn"], e["result"], e["reason"]) for e in binds] == [
            (SERVICE_DN, 0, "service")
        ]
        assert SERVICE_PASSWORD not in log_path.read_text()


def wait_for_event(
    process: subprocess.Popen[bytes], log_path: Path, log_format: str
) -> dict:
    """The first JSON log event whose format starts with ``log_format``."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for line in log_path.read_text().splitlines():
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line still being written
            if event.get("log_format", "").startswith(log_format):
                return event
        assert process.poll() is None, log_path.read_text()
        time.sleep(0.05)
    raise AssertionError(f"no {log_format!r} event:\n{log_path.read_text()}")


class TestTwistd:
    def test_twistd_answers_and_shuts_down_on_sigterm(self, tmp_path):
        """twistd -n ldapbridge serves the demo and shuts down on SIGTERM."""
        config = demo_config_file(tmp_path)
        command = [*twistd_command(), str(config)]
        with started(command, tmp_path, twistd_env()) as (process, server):
            assert service_whoami(server) == f"dn:{SERVICE_DN}\n"
            process.send_signal(signal.SIGTERM)
            # After its clean shutdown twistd re-raises the signal on itself,
            # by Twisted's design, so a supervisor sees why it stopped.
            assert process.wait(timeout=15) == -signal.SIGTERM

        log = server.log()
        assert "serving 46 members and 12 groups under dc=example,dc=com" in log
        assert "Server Shut Down." in log
        assert not (tmp_path / "twistd.pid").exists()

    def test_twistd_reports_a_bad_config_key(self, tmp_path):
        """twistd with an unknown key exits non-zero naming section and key."""
        config = demo_config_file(tmp_path, **{"[server]": "[server]\ncolour = blue"})
        done = run([*twistd_command(), str(config)], tmp_path, env=twistd_env())
        assert done.returncode == 1
        assert "ldapbridge: [server]: unknown key(s) colour" in done.stderr


class TestBadStart:
    def test_unknown_key_is_a_config_error(self, tmp_path):
        """An unknown key: exit 2 and a message naming section and key."""
        config = demo_config_file(tmp_path, **{"[directory]": "[directory]\nbase = x"})
        done = run([*SERVE, str(config)], tmp_path)
        assert (done.returncode, done.stdout) == (2, "")
        assert done.stderr.startswith(
            "ldapbridge: config error: [directory]: unknown key(s) base; "
            "expected one of all_members_group, base_dn, "
        )
        assert done.stderr.count("\n") == 1

    def test_bad_value_is_a_config_error(self, tmp_path):
        """A bad value: exit 2, section, key, expected and found."""
        config = demo_config_file(tmp_path, **{"profile = unix": "profile = novell"})
        done = run([*SERVE, str(config)], tmp_path)
        assert done.returncode == 2
        assert done.stderr == (
            "ldapbridge: config error: [directory] profile: expected one of unix, "
            "ad, edirectory, found 'novell'\n"
        )

    def test_malformed_base_dn_is_a_config_error(self, tmp_path):
        """base_dn that is no DN: a config error, not a traceback."""
        config = demo_config_file(
            tmp_path, **{"base_dn = dc=example,dc=com": "base_dn = dc=example,,dc=com"}
        )
        done = run([*SERVE, str(config)], tmp_path)
        assert done.returncode == 2
        assert done.stderr == (
            "ldapbridge: config error: [directory] base_dn: expected a DN such as "
            "dc=example,dc=com, found 'dc=example,,dc=com' "
            "(expected an attribute type at ',dc=com')\n"
        )

    def test_missing_member_file(self, tmp_path):
        """A member export that cannot be read: exit 1 and the file's name."""
        missing = tmp_path / "gone.csv"
        config = demo_config_file(tmp_path, **{str(DEMO_CSV): str(missing)})
        done = run([*SERVE, str(config)], tmp_path)
        assert done.returncode == 1
        assert done.stderr == (
            "ldapbridge: cannot load members: the source failed: "
            f"cannot read member file {missing}: "
            "No such file or directory\n"
        )

    def test_port_in_use(self, tmp_path):
        """A port another process holds: the server says so and exits 1."""
        with socket.socket() as holder:
            holder.bind(("127.0.0.1", 0))
            holder.listen()
            port = holder.getsockname()[1]
            config = demo_config_file(tmp_path, port=port)
            done = run([*SERVE, str(config)], tmp_path)
        assert done.returncode == 1
        assert re.search(
            rf"cannot listen for LDAP: Couldn't listen on 127\.0\.0\.1:{port}: "
            r".*Address already in use\.? "
            r"\(set by \[server\] bind_address and ldap_port\)\n",
            done.stdout,
        )

    def test_metrics_port_in_use_names_the_metrics_settings(self, tmp_path):
        """A taken metrics port names [metrics] bind_address and port."""
        with socket.socket() as holder:
            holder.bind(("127.0.0.1", 0))
            holder.listen()
            port = holder.getsockname()[1]
            metrics = f"[metrics]\nbind_address = 127.0.0.1\nport = {port}\n\n"
            config = demo_config_file(tmp_path, **{"[logging]": metrics + "[logging]"})
            done = run([*SERVE, str(config)], tmp_path)
        assert done.returncode == 1
        assert re.search(
            rf"cannot listen for metrics: Couldn't listen on 127\.0\.0\.1:{port}: "
            r".*Address already in use\.? "
            r"\(set by \[metrics\] bind_address and port\)\n",
            done.stdout,
        )

    def test_two_ports_in_use_are_both_named_without_a_traceback(self, tmp_path):
        """With the LDAP and the metrics port both taken, each is reported and
        the server exits 1, stopping once."""
        with socket.socket() as ldap_holder, socket.socket() as metrics_holder:
            for holder in (ldap_holder, metrics_holder):
                holder.bind(("127.0.0.1", 0))
                holder.listen()
            port = ldap_holder.getsockname()[1]
            metrics_port = metrics_holder.getsockname()[1]
            metrics = f"[metrics]\nbind_address = 127.0.0.1\nport = {metrics_port}\n\n"
            config = demo_config_file(
                tmp_path, port=port, **{"[logging]": metrics + "[logging]"}
            )
            done = run([*SERVE, str(config)], tmp_path)
        assert done.returncode == 1
        assert "cannot listen for LDAP" in done.stdout
        assert "cannot listen for metrics" in done.stdout
        assert "Traceback" not in done.stdout + done.stderr

    def test_missing_config_file(self, tmp_path):
        """A config path that does not exist: exit 2 naming it."""
        done = run([*SERVE, str(tmp_path / "nope.conf")], tmp_path)
        assert done.returncode == 2
        assert done.stderr == (
            f"ldapbridge: config error: cannot read config file "
            f"{tmp_path / 'nope.conf'}: No such file or directory\n"
        )


class TestCommandLine:
    def test_version(self, tmp_path):
        """ldapbridge --version prints the package version."""
        done = run(
            [sys.executable, "-m", "ldapbridge.service.cli", "--version"], tmp_path
        )
        assert (done.returncode, done.stdout) == (0, "0.1.0\n")

    def test_no_command_prints_usage(self, tmp_path):
        """ldapbridge with no command prints help and exits 2."""
        done = run([sys.executable, "-m", "ldapbridge.service.cli"], tmp_path)
        assert done.returncode == 2
        assert done.stdout.startswith("usage: ldapbridge")

    def test_console_script_is_installed(self, tmp_path):
        """pip install gives an `ldapbridge` command."""
        done = run(["ldapbridge", "--version"], tmp_path)
        assert (done.returncode, done.stdout) == (0, "0.1.0\n")
