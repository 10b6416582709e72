"""Building sources for tests the way an operator would: from config text."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from ldapbridge import config
from ldapbridge.directory.httpclient import HttpClient
from ldapbridge.directory.httpsource import HttpSource
from ldapbridge.directory.model import Snapshot
from ldapbridge.directory.observers import FetchProgress
from ldapbridge.directory.snapshot import build_snapshot
from ldapbridge.directory.sources import Fetched
from tests.directory.platforms import CobotSim, NexudusSim, OfficeRnDSim, OptixSim
from tests.support import BASE_DN, SERVICE_PASSWORD


class FakeTime:
    """A clock that only moves when something sleeps on it (or a test says)."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += max(0.0, seconds)


class PagesSeen:
    """A FetchProgress that keeps what it was told."""

    def __init__(self) -> None:
        self.told: list[tuple[str, int, int]] = []

    def page_read(self, listing: str, pages: int, records: int) -> None:
        self.told.append((listing, pages, records))


def bridge_config(source: dict[str, str], **sections: dict[str, str]) -> str:
    """Config text for an HTTP source; ``source__fields`` is [source.fields]."""
    chosen: dict[str, dict[str, str]] = {
        "server": {"bind_address": "127.0.0.1", "ldap_port": "0"},
        "directory": {"base_dn": BASE_DN, "profile": "unix"},
        "source": source,
        "service.papercut": {"password": SERVICE_PASSWORD},
        "logging": {"level": "info", "format": "text"},
    }
    for name, values in sections.items():
        chosen.setdefault(name.replace("__", "."), {}).update(values)
    lines = []
    for name, values in chosen.items():
        lines.append(f"[{name}]")
        lines.extend(f"{key} = {value}" for key, value in values.items())
        lines.append("")
    return "\n".join(lines)


def load(tmp_path: Path, text: str) -> config.Settings:
    path = tmp_path / "bridge.conf"
    path.write_text(text, encoding="utf-8")
    return config.load(path)


def http_source(
    settings: config.Settings,
    time: FakeTime | None = None,
    today: dt.date | None = None,
    progress: FetchProgress | None = None,
) -> HttpSource:
    """The source of ``settings``; on ``time``, sleeps and waits cost nothing."""
    http = settings.source.http
    assert http is not None
    client = None
    if time is not None:
        client = HttpClient(http, clock=time.clock, pause=time.sleep)
    if today is None:
        return HttpSource(http, client, progress=progress)
    return HttpSource(http, client, today=lambda: today, progress=progress)


def snapshot_of(fetched: Fetched, settings: config.Settings) -> Snapshot:
    return build_snapshot(fetched.records, settings.directory, fetched.skipped)


def by_username(snapshot: Snapshot) -> dict[str, Any]:
    return {m.username: m for m in snapshot.members}


FAST = {"retry_backoff_s": "0.01", "read_timeout_s": "2", "connect_timeout_s": "2"}


def nexudus_source(sim: NexudusSim, **extra: str) -> dict[str, str]:
    user, password = NexudusSim.ADMIN
    keys = {
        "type": "nexudus",
        "base_url": sim.url,
        "username": user,
        "password": password,
    }
    return {**keys, **FAST, **extra}


def officernd_source(sim: OfficeRnDSim, **extra: str) -> dict[str, str]:
    client_id, secret = OfficeRnDSim.CLIENT
    keys = {
        "type": "officernd",
        "base_url": sim.url,
        "organization": OfficeRnDSim.ORGANIZATION,
        "client_id": client_id,
        "client_secret": secret,
    }
    return {**keys, **FAST, **extra}


def cobot_source(sim: CobotSim, **extra: str) -> dict[str, str]:
    keys = {"type": "cobot", "base_url": sim.url, "token": CobotSim.TOKEN}
    return {**keys, **FAST, **extra}


def optix_source(sim: OptixSim, **extra: str) -> dict[str, str]:
    keys = {"type": "optix", "base_url": sim.url, "token": OptixSim.TOKEN}
    return {**keys, **FAST, **extra}
