"""Log output: one line per operation, as text or as JSON, also under twistd."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.service.helpers import wait_for_log
from tests.support import (
    BASE_DN,
    LISTENING,
    ROOT,
    SERVICE_DN,
    SERVICE_PASSWORD,
    RunningServer,
    demo_config,
    ldap_tool,
    running_server,
    stop,
)

JSON_CONFIG = demo_config(logging={"format": "json"})
WRONG_PASSWORD = "not-the-demo-password"


def events(log: str) -> list[dict[str, Any]]:
    """Every line of a JSON log, parsed; fails on a line that is not JSON."""
    return [json.loads(line) for line in log.splitlines()]


def traffic(server: RunningServer) -> None:
    """A wrong-password bind, then a search as the service account."""
    refused = ldap_tool("ldapwhoami", server, "-D", SERVICE_DN, "-w", WRONG_PASSWORD)
    found = ldap_tool(
        "ldapsearch", server, "-D", SERVICE_DN, "-w", SERVICE_PASSWORD,
        "-b", BASE_DN, "(uid=alex.demo@example.com)", "cn",
    )  # fmt: skip
    assert (refused.returncode, found.returncode) == (49, 0)


def the_event(all_events: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    matching = [e for e in all_events if fields.items() <= e.items()]
    assert len(matching) == 1, matching
    return matching[0]


class TestTextLog:
    def test_search_line_carries_every_field(self, demo_server: RunningServer) -> None:
        """A search's text line has session, peer, dn, scope, filter, result."""
        ldap_tool(
            "ldapsearch", demo_server, "-D", SERVICE_DN, "-w", SERVICE_PASSWORD,
            "-b", BASE_DN, "(mail=sara.haddad@example.com)", "cn",
        )  # fmt: skip
        log = wait_for_log(demo_server, r"filter=\(mail=sara\.haddad@example\.com\)")

        line = re.compile(
            r"\[ldapbridge\.ldap#info\] session=\d+ peer=127\.0\.0\.1:\d+ op=search "
            r"msgid=2 dn='dc=example,dc=com' scope=2 "
            r"filter=\(mail=sara\.haddad@example\.com\) result=0 entries=1 "
            r"reason= ms=\d+\.\d$",
            re.MULTILINE,
        )
        assert len(line.findall(log)) == 1

    def test_secret_values_in_filters_and_compares_are_masked(
        self, demo_server: RunningServer
    ) -> None:
        """A password or PIN sent in a filter or a compare is logged as ***."""
        ldap_tool(
            "ldapsearch", demo_server, "-D", SERVICE_DN, "-w", SERVICE_PASSWORD,
            "-b", BASE_DN,
            "(|(userPassword=alex-demo-pw)(pin=4821*)(uid=alex.demo@example.com))",
            "cn",
        )  # fmt: skip
        ldap_tool(
            "ldapcompare", demo_server, "-D", SERVICE_DN, "-w", SERVICE_PASSWORD,
            f"uid=alex.demo@example.com,ou=people,{BASE_DN}",
            "userPassword;binary:alex-demo-pw",
        )  # fmt: skip
        log = wait_for_log(demo_server, r"op=compare .*userpassword;binary=\*\*\*")

        assert (
            r"filter=(|(userpassword=***)(pin=***)(uid=alex.demo@example.com))" in log
        )
        assert "alex-demo-pw" not in log
        assert "4821" not in log


class TestWriteLines:
    def test_refused_delete_line_names_the_target_dn(
        self, demo_server: RunningServer, tmp_path: Path
    ) -> None:
        """A refused delete's line carries the DN the client tried to delete."""
        target = f"uid=alex.demo@example.com,ou=people,{BASE_DN}"
        change = tmp_path / "delete.ldif"
        change.write_text(f"dn: {target}\nchangetype: delete\n", encoding="utf-8")
        done = ldap_tool(
            "ldapmodify", demo_server, "-D", SERVICE_DN, "-w", SERVICE_PASSWORD,
            "-f", str(change),
        )  # fmt: skip
        log = wait_for_log(demo_server, r"op=delete ")

        assert done.returncode == 53
        assert f"op=delete msgid=2 dn='{target}' scope=None" in log


class TestJsonLog:
    def test_every_line_is_json_with_the_operation_fields(self, tmp_path: Path) -> None:
        """With format = json each line is one JSON object with named fields."""
        with running_server(JSON_CONFIG, tmp_path) as server:
            traffic(server)
            log = wait_for_log(server, '"op": "unbind"', count=2)

        parsed = events(log)
        search = the_event(parsed, op="search")
        assert search["log_namespace"] == "ldapbridge.ldap"
        assert search["log_level"]["name"] == "info"
        assert search["level"] == "info"
        assert search["dn"] == BASE_DN
        assert search["scope"] == 2
        assert search["filter"] == "(uid=alex.demo@example.com)"
        assert search["result"] == 0
        assert search["entries"] == 1
        assert search["ms"] >= 0
        assert re.fullmatch(r"127\.0\.0\.1:\d+", search["peer"])
        assert search["text"].startswith(f"session={search['session']} peer=")

    def test_failed_bind_event_has_reason_but_no_password(self, tmp_path: Path) -> None:
        """A refused bind logs result 49 and its reason; the password never."""
        with running_server(JSON_CONFIG, tmp_path) as server:
            traffic(server)
            log = wait_for_log(server, '"op": "unbind"', count=2)

        refused = the_event(events(log), op="bind", result=49)
        assert refused["dn"] == SERVICE_DN
        assert refused["reason"] == "wrong_password"
        assert WRONG_PASSWORD not in log


@contextmanager
def twistd(config_text: str, workdir: Path) -> Iterator[RunningServer]:
    """Run ``twistd -n ldapbridge`` on ``config_text`` until the block ends."""
    config_path = workdir / "bridge.conf"
    config_path.write_text(config_text, encoding="utf-8")
    log_path = workdir / "twistd.log"
    beside_python = Path(sys.executable).parent / "twistd"
    command = [str(beside_python) if beside_python.exists() else "twistd"]
    # The plugin is found through sys.path entries holding twisted/plugins.
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)}
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [*command, "-n", "--pidfile=", "ldapbridge", "--config", str(config_path)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=workdir,
            env=env,
        )
    try:
        starting = RunningServer(process, "", 0, log_path)
        found = LISTENING.search(wait_for_log(starting, LISTENING.pattern))
        assert found is not None
        yield RunningServer(process, found.group(1), int(found.group(2)), log_path)
    finally:
        stop(process)


class TestTwistdPlugin:
    def test_twistd_honours_json_format_and_reloads(self, tmp_path: Path) -> None:
        """Under twistd the log is the configured JSON, and SIGHUP reloads."""
        with twistd(JSON_CONFIG, tmp_path) as server:
            traffic(server)
            wait_for_log(server, '"op": "unbind"', count=2)
            server.process.send_signal(signal.SIGHUP)
            log = wait_for_log(server, "reloaded config")
            server.process.send_signal(signal.SIGTERM)
            status = server.process.wait(timeout=15)

        parsed = events(server.log())
        # twistd stops cleanly, then re-raises the signal it stopped on, so its
        # parent sees how it ended (twisted.application.app, _exitSignal).
        assert status == -signal.SIGTERM
        assert the_event(parsed, log_format="Main loop terminated.")
        assert the_event(parsed, op="search")["entries"] == 1
        assert "reloaded config from" in log
        assert WRONG_PASSWORD not in server.log()
