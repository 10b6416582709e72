"""A generated member export of 5,000 members and 250 groups, with its answers.

Every value is derived from the member's number, so a test can say exactly
what PaperCut must see: leading-zero and mixed-case hex cards, non-ASCII
names and usernames, a comma, a plus sign, PINs with leading zeros and one
PIN PaperCut cannot take, and a few bcrypt password hashes (cost 4, fast).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import attrs
import bcrypt

MEMBERS = 5000
CANCELLED = 20

# 240 teams + 6 plans + 3 locations + everyone = 250 groups.  "Studio" is a
# team and a plan, so both get their kind appended.
TEAMS = ["Studio", "Équipe Zoë", "東京チーム", "Ωmega Labs"] + [
    f"Team {n:03d}" for n in range(4, 240)
]
PLANS = [
    "Hot Desk",
    "Dedicated Desk",
    "Private Office",
    "Studio",
    "Night Owl",
    "Virtual",
]
LOCATIONS = ["Mill Lane", "Harbour Street", "Łódź Centrum"]
ALL_MEMBERS = "all-members"
GROUP_NAMES = {
    ("team", "Studio"): "Studio (team)",
    ("plan", "Studio"): "Studio (plan)",
}

NAMES = [
    "Zoë Ångström",
    "José Martínez",
    "山田 太郎",
    "Дмитрий Иванов",
    "Σοφία Παπαδοπούλου",
    "محمد علي",
    "Nguyễn Văn An",
    "Okafor, Grace",
]

# Members with a password hash in the export, and their passwords.
WITH_PASSWORD = (7, 13, 100, 2500, 4999)
LOGIN_MEMBER = 7

HEADER = [
    "Member ID",
    "Full Name",
    "Email",
    "Company",
    "Team",
    "Plan",
    "Location",
    "Access Card",
    "Second Card",
    "PIN",
    "Status",
    "Password Hash",
]


@attrs.frozen
class Generated:
    """One generated member, and what the directory must publish for them."""

    number: int
    member_id: str
    full_name: str
    email: str
    team: str
    plan: str
    location: str
    card: str
    second_card: str
    pin: str
    active: bool
    password: str

    @property
    def username(self) -> str:
        return self.email.lower()

    @property
    def published_pin(self) -> str:
        """PaperCut takes digits only; other PINs are not published."""
        return self.pin if self.pin.isascii() and self.pin.isdigit() else ""

    def groups(self) -> list[str]:
        return [
            ALL_MEMBERS,
            GROUP_NAMES.get(("team", self.team), self.team),
            GROUP_NAMES.get(("plan", self.plan), self.plan),
            self.location,
        ]


def member(n: int) -> Generated:
    """Member number ``n``; numbers from MEMBERS on are cancelled."""
    return Generated(
        number=n,
        member_id=f"G-{n:05d}",
        full_name=f"{NAMES[n // 7 % 8]} {n}" if n % 7 == 0 else f"Member {n}",
        email=_email(n),
        team=TEAMS[n % len(TEAMS)],
        plan=PLANS[n % len(PLANS)],
        location=LOCATIONS[n % len(LOCATIONS)],
        card=_card(n),
        second_card=f"0{n:07d}" if n % 3 == 0 else "",
        pin="12a4" if n % 97 == 0 else (f"{n % 10000:04d}" if n % 2 == 0 else ""),
        active=n < MEMBERS,
        password=f"pw-{n}-ß" if n in WITH_PASSWORD else "",
    )


def _email(n: int) -> str:
    if n == LOGIN_MEMBER:
        return "Zoë.Ångström@Example.com"
    if n == 13:
        return "tomas+print@example.org"
    if n % 11 == 0:
        return f"Member{n:04d}@Example.COM"
    return f"member{n:04d}@example.com"


def _card(n: int) -> str:
    """No card, leading zeros, mixed-case hex, or plain digits, in turn."""
    kind = n % 5
    if kind == 0:
        return ""
    if kind == 1:
        return f"{n:010d}"
    hex_digits = f"{(n * 2654435761) & 0xFFFFFFFF:08x}"
    if kind == 2:
        return "".join(c.upper() if i % 2 else c for i, c in enumerate(hex_digits))
    if kind == 3:
        return "00" + hex_digits.upper()
    return str(100000 + n)


def all_members() -> list[Generated]:
    return [member(n) for n in range(MEMBERS + CANCELLED)]


def write_csv(path: Path) -> list[Generated]:
    """Write the export to ``path``; return every member, cancelled ones too."""
    members = all_members()
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for m in members:
            writer.writerow(_row(m))
    return members


def _row(m: Generated) -> list[str]:
    password_hash = ""
    if m.password:
        salt = bcrypt.gensalt(rounds=4)
        password_hash = bcrypt.hashpw(m.password.encode(), salt).decode()
    return [
        m.member_id,
        m.full_name,
        m.email,
        f"Company {m.number % 50}",
        m.team,
        m.plan,
        m.location,
        m.card,
        m.second_card,
        m.pin,
        "Active" if m.active else "Cancelled",
        password_hash,
    ]


def group_members(members: list[Generated]) -> dict[str, set[str]]:
    """Group name -> usernames of its members."""
    groups: dict[str, set[str]] = defaultdict(set)
    for m in members:
        for name in m.groups():
            groups[name].add(m.username)
    return dict(groups)
