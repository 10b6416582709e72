"""Start and stop the two servers under test: ldapbridge and OpenLDAP slapd."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

from bench.directory import BASE_DN

SCHEMAS = ("core", "cosine", "inetorgperson", "nis")
INDEXED = "uid,mail,cn,employeeNumber,memberUid,member"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited:\n{log.read_text(errors='replace')}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not start")


def start_bridge(
    config_path: Path, port: int, workdir: Path
) -> subprocess.Popen[bytes]:
    log = workdir / "bridge.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ldapbridge.service.cli",
                "serve",
                "--config",
                str(config_path),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    wait_for_port(port, process, log)
    return process


def slapd_config(workdir: Path) -> Path:
    (workdir / "db").mkdir(exist_ok=True)
    lines = [f"include /etc/ldap/schema/{s}.schema" for s in SCHEMAS]
    lines += [
        "modulepath /usr/lib/ldap",
        "moduleload back_mdb",
        f"pidfile {workdir}/slapd.pid",
        "sizelimit unlimited",
        "loglevel 0",
        "database mdb",
        f'suffix "{BASE_DN}"',
        f'rootdn "cn=admin,{BASE_DN}"',
        f"directory {workdir}/db",
        "maxsize 8589934592",
        "index objectClass eq",
        f"index {INDEXED} eq",
        "access to * by * read",
    ]
    path = workdir / "slapd.conf"
    path.write_text("\n".join(lines) + "\n")
    return path


def start_slapd(ldif: Path, port: int, workdir: Path) -> subprocess.Popen[bytes]:
    """Load ``ldif`` with slapadd (schema checks off: posixGroup and
    groupOfNames share entries, as RFC 2307bis allows) and start slapd."""
    conf = slapd_config(workdir)
    subprocess.run(
        ["slapadd", "-q", "-s", "-f", str(conf), "-l", str(ldif)],
        check=True,
        capture_output=True,
    )
    log = workdir / "slapd.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["slapd", "-d", "0", "-f", str(conf), "-h", f"ldap://127.0.0.1:{port}/"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    wait_for_port(port, process, log)
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")
