"""Benchmark ldapbridge against OpenLDAP slapd on PaperCut's jobs.

    python -m bench.run --members 10000 100000 --json bench/results.json

For each size: generate members, load the same entries into both servers on
127.0.0.1, drive both with python-ldap (libldap underneath, so the client is
not the bottleneck), and print each figure with the ratio ldapbridge/slapd.
Needs Debian's slapd and python-ldap (see README, "Performance").
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import signal
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import ldap
from ldap.controls import SimplePagedResultsControl

from bench import directory, servers

SERVICE_DN = f"cn=papercut,ou=services,{directory.BASE_DN}"
PEOPLE = f"ou=people,{directory.BASE_DN}"
SYNC_FILTER = "(objectClass=posixAccount)"
SYNC_ATTRIBUTES = ["uid", "cn", "mail", "departmentNumber", "employeeNumber"]
CONCURRENT_CLIENTS = 50
CLIENT_PROCESSES = 5


def connect(url: str, who: str = SERVICE_DN, password: str = "") -> Any:
    conn = ldap.initialize(url)
    conn.protocol_version = 3
    conn.set_option(ldap.OPT_REFERRALS, 0)
    conn.simple_bind_s(who, password or directory.SERVICE_PASSWORD)
    return conn


def timed(action: Callable[[], Any]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def paged_sync(url: str) -> int:
    conn = connect(url)
    control = SimplePagedResultsControl(True, size=1000, cookie=b"")
    count = 0
    while True:
        msgid = conn.search_ext(
            directory.BASE_DN,
            ldap.SCOPE_SUBTREE,
            SYNC_FILTER,
            SYNC_ATTRIBUTES,
            serverctrls=[control],
        )
        _, data, _, response_controls = conn.result3(msgid)
        count += len(data)
        cookie = next(
            c.cookie
            for c in response_controls
            if c.controlType == SimplePagedResultsControl.controlType
        )
        if not cookie:
            break
        control.cookie = cookie
    conn.unbind_s()
    return count


def unpaged_sync(url: str) -> int:
    conn = connect(url)
    found = conn.search_s(
        directory.BASE_DN, ldap.SCOPE_SUBTREE, SYNC_FILTER, SYNC_ATTRIBUTES
    )
    conn.unbind_s()
    return len(found)


def lookup_latencies(url: str, filters: list[str]) -> list[float]:
    conn = connect(url)
    latencies = []
    for query in filters:
        start = time.perf_counter()
        found = conn.search_s(directory.BASE_DN, ldap.SCOPE_SUBTREE, query, ["uid"])
        latencies.append(time.perf_counter() - start)
        assert len(found) == 1, (query, found)
    conn.unbind_s()
    return latencies


def login(url: str, username: str) -> None:
    """PaperCut's login: service bind, find the user, bind as them."""
    conn = connect(url)
    found = conn.search_s(
        directory.BASE_DN, ldap.SCOPE_SUBTREE, f"(uid={username})", ["1.1"]
    )
    conn.simple_bind_s(found[0][0], directory.PASSWORD)
    conn.unbind_s()


def login_latencies(url: str, usernames: list[str]) -> list[float]:
    return [timed(functools.partial(login, url, u)) for u in usernames]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _client_worker(args: tuple[str, int, float, int]) -> int:
    """One client process: threads doing lookups and logins until the deadline."""
    url, members, duration, threads = args
    done = [0] * threads
    deadline = time.monotonic() + duration

    def client(slot: int) -> None:
        rng = random.Random(slot)
        conn = connect(url)
        while time.monotonic() < deadline:
            name = username(rng.randrange(members))
            if rng.random() < 0.2:
                login(url, name)
            else:
                conn.search_s(directory.BASE_DN, 2, f"(uid={name})", ["uid"])
            done[slot] += 1
        conn.unbind_s()

    workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(done)


def throughput(url: str, members: int, duration: float = 10.0) -> float:
    per_process = CONCURRENT_CLIENTS // CLIENT_PROCESSES
    jobs = [(url, members, duration, per_process)] * CLIENT_PROCESSES
    with Pool(CLIENT_PROCESSES) as pool:
        total = sum(pool.map(_client_worker, jobs))
    return total / duration


def username(i: int) -> str:
    return f"member{i:07d}@example.com"


def measure(url: str, members: int, samples: int) -> dict[str, float]:
    rng = random.Random(1)
    picks = [rng.randrange(members) for _ in range(samples)]
    by_uid = [f"(uid={username(i)})" for i in picks]
    by_card = [f"(employeeNumber={i * 7919 % 10**10:010d})" for i in picks]

    results: dict[str, float] = {}
    assert paged_sync(url) == members
    results["sync_paged_s"] = min(timed(lambda: paged_sync(url)) for _ in range(3))
    results["sync_unpaged_s"] = min(timed(lambda: unpaged_sync(url)) for _ in range(3))
    for name, queries in (("lookup_uid", by_uid), ("lookup_card", by_card)):
        latencies = lookup_latencies(url, queries)
        results[f"{name}_p50_ms"] = percentile(latencies, 0.5) * 1000
        results[f"{name}_p99_ms"] = percentile(latencies, 0.99) * 1000
    logins = login_latencies(url, [username(i) for i in picks[: samples // 4]])
    results["login_p50_ms"] = percentile(logins, 0.5) * 1000
    results["login_p99_ms"] = percentile(logins, 0.99) * 1000
    results["throughput_ops_s"] = throughput(url, members)
    return results


def reloads(metrics_url: str) -> dict[str, float]:
    """The bridge's reload counts by outcome, from its metrics."""
    with urllib.request.urlopen(metrics_url, timeout=10) as reply:
        text = reply.read().decode()
    counts = {}
    for line in text.splitlines():
        if line.startswith("ldapbridge_config_reloads_total{"):
            outcome = line.split('outcome="')[1].split('"')[0]
            counts[outcome] = float(line.rsplit(" ", 1)[1])
    return counts


def rebuild_under_load(
    url: str, metrics_url: str, bridge: Any, members: int, samples: int
) -> dict[str, float]:
    """Reload the bridge (SIGHUP) and measure lookups while it rebuilds."""
    rng = random.Random(2)
    queries = [f"(uid={username(rng.randrange(members))})" for _ in range(samples)]
    conn = connect(url)
    before = reloads(metrics_url)
    bridge.send_signal(signal.SIGHUP)
    start = checked = time.perf_counter()
    latencies: list[float] = []
    while True:
        query = queries[len(latencies) % len(queries)]
        search = functools.partial(conn.search_s, directory.BASE_DN, 2, query, ["uid"])
        latencies.append(timed(search))
        # Ask the metrics a few times a second only: each asks the reactor too.
        if time.perf_counter() - checked > 0.1:
            checked = time.perf_counter()
            now = reloads(metrics_url)
            if now != before:
                break
        if time.perf_counter() - start > 120:
            raise RuntimeError("reload did not finish in 120 s")
    if now.get("success", 0) == before.get("success", 0):
        raise RuntimeError("reload refused: see the bridge's log")
    rebuild_s = time.perf_counter() - start
    return {
        "rebuild_s": rebuild_s,
        "lookup_during_rebuild_p99_ms": percentile(latencies, 0.99) * 1000,
    }


def run_size(
    members: int, samples: int, workdir: Path, rebuild: bool = True
) -> dict[str, Any]:
    csv_path = workdir / "members.csv"
    directory.write_members(csv_path, members)
    bridge_port, slapd_port = servers.free_port(), servers.free_port()
    metrics_port = servers.free_port()
    config_path = workdir / "bridge.conf"
    config_path.write_text(directory.bridge_config(csv_path, bridge_port, metrics_port))

    tree = directory.bridge_tree(config_path)
    directory.write_ldif(tree, workdir / "data.ldif")
    del tree

    report: dict[str, Any] = {"members": members}
    slapd = servers.start_slapd(workdir / "data.ldif", slapd_port, workdir)
    try:
        report["slapd"] = measure(f"ldap://127.0.0.1:{slapd_port}", members, samples)
    finally:
        servers.stop(slapd)

    start = time.perf_counter()
    bridge = servers.start_bridge(config_path, bridge_port, workdir)
    try:
        startup = time.perf_counter() - start
        url = f"ldap://127.0.0.1:{bridge_port}"
        report["bridge"] = measure(url, members, samples)
        report["bridge"]["startup_s"] = startup
        report["bridge"]["rss_mb"] = servers.rss_mb(bridge.pid)
        if rebuild:
            metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
            report["bridge"].update(
                rebuild_under_load(url, metrics_url, bridge, members, samples)
            )
    finally:
        servers.stop(bridge)
    return report


ROWS = (
    ("sync_paged_s", "full sync, paged 1000 (s)"),
    ("sync_unpaged_s", "full sync, unpaged (s)"),
    ("lookup_uid_p50_ms", "lookup by uid p50 (ms)"),
    ("lookup_uid_p99_ms", "lookup by uid p99 (ms)"),
    ("lookup_card_p50_ms", "lookup by card p50 (ms)"),
    ("lookup_card_p99_ms", "lookup by card p99 (ms)"),
    ("login_p50_ms", "login p50 (ms)"),
    ("login_p99_ms", "login p99 (ms)"),
    ("throughput_ops_s", "50 clients, ops/s"),
)
BRIDGE_ONLY = (
    ("startup_s", "start-up with first snapshot (s)"),
    ("rss_mb", "resident memory (MB)"),
    ("rebuild_s", "snapshot rebuild (s)"),
    ("lookup_during_rebuild_p99_ms", "lookup p99 during rebuild (ms)"),
)


def print_table(report: dict[str, Any]) -> None:
    print(f"\n{report['members']:,} members")
    print(f"{'measure':<36}{'ldapbridge':>12}{'slapd':>12}{'ratio':>8}")
    for key, label in ROWS:
        ours, theirs = report["bridge"][key], report["slapd"][key]
        ratio = ours / theirs if theirs else float("nan")
        print(f"{label:<36}{ours:>12.2f}{theirs:>12.2f}{ratio:>8.2f}")
    for key, label in BRIDGE_ONLY:
        print(f"{label:<36}{report['bridge'].get(key, float('nan')):>12.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, nargs="+", default=[10000, 100000])
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--json", type=Path, default=Path("bench/results.json"))
    parser.add_argument(
        "--no-rebuild", action="store_true", help="skip the reload measurement"
    )
    args = parser.parse_args()

    reports = []
    for members in args.members:
        with tempfile.TemporaryDirectory(prefix="ldapbridge-bench-") as tmp:
            reports.append(
                run_size(members, args.samples, Path(tmp), not args.no_rebuild)
            )
        print_table(reports[-1])
    args.json.write_text(json.dumps(reports, indent=2) + "\n")
    print(f"\nwritten to {args.json}")


if __name__ == "__main__":
    main()
