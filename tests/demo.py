"""What the bundled demo export holds, read straight from the CSV.

End-to-end tests compare the server's answers with these values, so that an
expected count or group list comes from the data, not from a guess.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from functools import cache

import attrs

from tests.support import DEMO_CSV, GROUPS_DN, PEOPLE_DN

ALEX_DN = f"uid=alex.demo@example.com,{PEOPLE_DN}"
ALEX_PASSWORD = "alex-demo-pw"
ALL_MEMBERS_GROUP = "all-members"


@attrs.frozen
class DemoRow:
    """One row of demo/members.csv, as written."""

    member_id: str
    full_name: str
    email: str
    company: str
    team: str
    plan: str
    location: str
    card: str
    status: str

    @property
    def username(self) -> str:
        return self.email.lower()

    @property
    def active(self) -> bool:
        return self.status.lower() == "active"

    @property
    def dn(self) -> str:
        value = self.username.replace("+", "\\+")
        return f"uid={value},{PEOPLE_DN}"


@cache
def rows() -> tuple[DemoRow, ...]:
    with DEMO_CSV.open(encoding="utf-8-sig", newline="") as f:
        return tuple(
            DemoRow(
                member_id=r["Member ID"],
                full_name=r["Full Name"],
                email=r["Email"],
                company=r["Company"],
                team=r["Team"],
                plan=r["Plan"],
                location=r["Location"],
                card=r["Access Card"],
                status=r["Status"],
            )
            for r in csv.DictReader(f)
        )


def active() -> tuple[DemoRow, ...]:
    return tuple(r for r in rows() if r.active)


def cancelled() -> tuple[DemoRow, ...]:
    return tuple(r for r in rows() if not r.active)


def by_email(email: str) -> DemoRow:
    (row,) = (r for r in rows() if r.email.lower() == email.lower())
    return row


def groups() -> dict[str, set[str]]:
    """Group name -> usernames, for every team, plan, location and everyone."""
    found: dict[str, set[str]] = defaultdict(set)
    for row in active():
        found[ALL_MEMBERS_GROUP].add(row.username)
        for label in (row.team, row.plan, row.location):
            if label:
                found[label].add(row.username)
    return dict(found)


def group_dn(name: str) -> str:
    return f"cn={name},{GROUPS_DN}"
