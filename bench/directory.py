"""Generated directories for the benchmark: one member CSV, served two ways.

The same entries go to ldapbridge (as a member export) and to OpenLDAP slapd
(as LDIF made from ldapbridge's own tree), so both servers answer the same
searches over the same data.
"""

from __future__ import annotations

import base64
import csv
import random
from pathlib import Path

import bcrypt

from ldapbridge import config
from ldapbridge.directory.filesource import CsvFileSource
from ldapbridge.directory.snapshot import build_snapshot
from ldapbridge.ldap.servertypes import make_profile
from ldapbridge.ldap.tree import DirectoryTree, build_tree

HEADER = [
    "Member ID",
    "Full Name",
    "Email",
    "Company",
    "Team",
    "Plan",
    "Location",
    "Access Card",
    "PIN",
    "Status",
    "Password Hash",
]
PLANS = ("Hot Desk", "Dedicated Desk", "Private Office")
LOCATIONS = ("Harbour Street", "Mill Lane")
FIRST = ("Ana", "Émile", "Zoë", "Sara", "Tomás", "Yuki", "Ola", "Liam", "Mia", "Noor")
LAST = ("Haddad", "Ferreira", "Nguyen", "Ó Briain", "Okafor", "Schmidt", "Kim")

# Every member shares one cheap bcrypt hash (cost 4): logins measure the
# servers, not the hash.  slapd checks it through {CRYPT} and libxcrypt.
PASSWORD = "bench-pw"
PASSWORD_HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
SERVICE_PASSWORD = "bench-service-pw"
BASE_DN = "dc=example,dc=com"


def write_members(path: Path, count: int, seed: int = 7) -> list[dict[str, str]]:
    """Write ``count`` members to ``path``; return them as rows."""
    rng = random.Random(seed)
    teams = [f"Team {i:04d}" for i in range(max(1, count // 40))]
    rows = [_member_row(i, rng, teams) for i in range(count)]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return rows


def _member_row(i: int, rng: random.Random, teams: list[str]) -> dict[str, str]:
    team = rng.choice(teams)
    return {
        "Member ID": f"B-{i:07d}",
        "Full Name": f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}",
        "Email": f"member{i:07d}@example.com",
        "Company": team,
        "Team": team,
        "Plan": rng.choice(PLANS),
        "Location": rng.choice(LOCATIONS),
        "Access Card": f"{i * 7919 % 10**10:010d}",
        "PIN": f"{rng.randrange(10000):04d}",
        "Status": "Active",
        "Password Hash": PASSWORD_HASH,
    }


def bridge_config(members_csv: Path, port: int, metrics_port: int) -> str:
    """The bridge's config: this CSV, quiet logs, the metrics listener on.

    No snapshot file and no refresh during the run: each snapshot comes from
    the CSV, and only the reload the benchmark asks for rebuilds it.  The
    metrics listener tells the benchmark when that reload has finished (the
    "reloaded" log line is at info, below the level benchmarked).
    """
    return "\n".join(
        [
            "[server]",
            "bind_address = 127.0.0.1",
            f"ldap_port = {port}",
            "[directory]",
            f"base_dn = {BASE_DN}",
            "[source]",
            "type = file",
            f"path = {members_csv}",
            "[service.papercut]",
            f"password = {SERVICE_PASSWORD}",
            "[snapshot]",
            "path =",
            "refresh_interval_s = 86400",
            "[metrics]",
            f"port = {metrics_port}",
            "[logging]",
            "level = warn",
            "",
        ]
    )


def bridge_tree(config_path: Path) -> DirectoryTree:
    """Build the tree ldapbridge serves for the config at ``config_path``."""
    settings = config.load(config_path)
    records = CsvFileSource(settings.source).fetch()
    snapshot = build_snapshot(records, settings.directory)
    return build_tree(snapshot, make_profile(settings.directory), settings.services)


def write_ldif(tree: DirectoryTree, path: Path) -> None:
    """Dump the tree's user attributes as LDIF for slapadd, with passwords."""
    with path.open("w", encoding="utf-8") as f:
        for entry in tree.entries:
            f.write(_ldif_line("dn", entry.dn))
            for name in entry.user_attributes():
                for value in entry.get(name):
                    f.write(_ldif_line(entry.names[name], value))
            identity = tree.identity(entry.ndn)
            if identity is not None:
                secret = PASSWORD_HASH if identity.member else SERVICE_PASSWORD
                prefix = "{CRYPT}" if identity.member else ""
                f.write(_ldif_line("userPassword", prefix + secret))
            f.write("\n")


def _ldif_line(name: str, value: str) -> str:
    safe = (
        value.isascii()
        and not value.startswith((" ", ":", "<"))
        and value == value.strip()
    )
    if safe and "\n" not in value:
        return f"{name}: {value}\n"
    return f"{name}:: {base64.b64encode(value.encode()).decode()}\n"
