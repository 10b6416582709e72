"""Helpers for the service tests: the CLI as a process, metrics over HTTP."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.support import DEMO_CSV, RunningServer, demo_config

METRICS_LISTENING = re.compile(r"listening for metrics on ([\d.]+):(\d+)")

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def metrics_config(members_csv: Path = DEMO_CSV, **sections: dict[str, str]) -> str:
    """A demo config with the metrics listener on a free port."""
    metrics = {"bind_address": "127.0.0.1", "port": "0", **sections.pop("metrics", {})}
    return demo_config(members_csv, metrics=metrics, **sections)


def run_cli(
    *args: str, cwd: Path, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``ldapbridge <args>`` as a process, as an admin would."""
    return subprocess.run(
        [sys.executable, "-m", "ldapbridge.service.cli", *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )


def wait_for_log(
    server: RunningServer, pattern: str, count: int = 1, timeout_s: float = 30
) -> str:
    """Wait until ``pattern`` occurs ``count`` times in the log; return the log."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        text = server.log()
        if len(re.findall(pattern, text)) >= count:
            return text
        time.sleep(0.05)
    raise AssertionError(f"{pattern!r} not logged {count} time(s):\n{server.log()}")


def metrics_url(server: RunningServer) -> str:
    found = METRICS_LISTENING.search(wait_for_log(server, METRICS_LISTENING.pattern))
    assert found is not None
    return f"http://{found.group(1)}:{found.group(2)}"


def scrape(url: str) -> Samples:
    """Every sample of ``/metrics``, keyed by name and labels."""
    response = requests.get(f"{url}/metrics", timeout=10)
    response.raise_for_status()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value; 0 for a labelled series not created yet."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def scrape_until(
    url: str, ready: Callable[[Samples], bool], timeout_s: float = 15
) -> Samples:
    """Scrape until ``ready`` holds: the server counts an operation just after
    answering it, so a client may exit a moment before the count moves."""
    deadline = time.monotonic() + timeout_s
    samples = scrape(url)
    while not ready(samples) and time.monotonic() < deadline:
        time.sleep(0.05)
        samples = scrape(url)
    return samples


def hangup(server: RunningServer) -> None:
    server.process.send_signal(signal.SIGHUP)


def write_config(server: RunningServer, text: str) -> None:
    """Replace the running server's config file (running_server's layout)."""
    path = server.log_path.parent / "bridge.conf"
    temporary = path.with_suffix(".new")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
