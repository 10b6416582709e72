"""Turn source records into a validated, immutable Snapshot.

Normalisation happens here, once: usernames are lowercased, bad records are
skipped with a reason, and numeric ids are assigned so that the same member
keeps the same uidNumber from one snapshot to the next.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterable

from ldapbridge.config import DirectorySettings
from ldapbridge.directory.model import (
    Group,
    Member,
    MemberRecord,
    SkippedRecord,
    Snapshot,
)
from ldapbridge.text import fold

# Ids are spread over this many numbers above the configured base.
ID_SPAN = 2**24

GROUP_KIND_ORDER = ("all", "team", "plan", "location")


def build_snapshot(
    records: Iterable[MemberRecord],
    settings: DirectorySettings,
    reported: Iterable[SkippedRecord] = (),
) -> Snapshot:
    """Validate ``records`` and build the snapshot the directory will serve.

    ``reported`` are records the source already left out; they join the
    snapshot's list of skipped records.
    """
    skipped: list[SkippedRecord] = list(reported)
    chosen = _choose_records(records, settings, skipped)

    uid_numbers = _stable_numbers(
        [(r.member_id, u) for u, r in chosen], settings.uid_number_base
    )
    members = tuple(
        _member(record, username, uid_numbers[username])
        for username, record in sorted(chosen)
    )

    return Snapshot(
        members=members,
        groups=_groups(members, settings),
        skipped=tuple(skipped),
    )


def _choose_records(
    records: Iterable[MemberRecord],
    settings: DirectorySettings,
    skipped: list[SkippedRecord],
) -> list[tuple[str, MemberRecord]]:
    """Pick the records to publish, each with its username.

    Of two records claiming one username, an active one wins over a cancelled
    one (a member who left and rejoined must still log in), then the lower
    member id, so that the same record wins on every refresh.  Of two records
    with one member id, likewise an active one wins, then the one the source
    gave first (the sort is stable); the other is skipped.
    """
    owners: dict[str, MemberRecord] = {}
    # uid is caseIgnore and DNs compare folded, so usernames that fold alike
    # (STRASSE, straße) would be one entry to LDAP: the first keeps it.
    folded_owners: dict[str, str] = {}
    member_ids: set[str] = set()
    for record in sorted(records, key=lambda r: (not r.active, r.member_id)):
        if not record.active and not settings.include_cancelled:
            continue

        if record.member_id in member_ids:
            reason = f"member id {record.member_id} appears twice"
            skipped.append(SkippedRecord(record.member_id, reason))
            continue
        if record.member_id:
            member_ids.add(record.member_id)

        username, problem = _username(record, settings.username_from)
        if problem:
            skipped.append(SkippedRecord(record.member_id or "(no id)", problem))
            continue
        folded = fold_name(username)
        if folded in folded_owners:
            reason = _taken_reason(username, folded_owners[folded], owners)
            skipped.append(SkippedRecord(record.member_id, reason))
            continue
        owners[username] = record
        folded_owners[folded] = username
    return list(owners.items())


def _taken_reason(username: str, owner: str, owners: dict[str, MemberRecord]) -> str:
    """Why ``username`` cannot be published: ``owner`` has it, or its folded form."""
    first = owners[owner].member_id
    if owner == username:
        return f"username {username!r} already belongs to member {first}"
    return (
        f"username {username!r} matches {owner!r} of member {first} "
        "(case and spaces are ignored)"
    )


def _username(record: MemberRecord, rule: str) -> tuple[str, str]:
    """Return (username, "") or ("", reason the record cannot have one)."""
    if not record.member_id:
        return "", "no member id"

    stripped = record.email.strip()
    email = stripped.lower()
    # The username is often the email as given: one string, not two.
    email = stripped if email == stripped else email
    if rule == "member_id":
        candidate = record.member_id.strip().lower()
    elif not email:
        return "", "no email address"
    elif "@" not in email:
        return "", f"email {record.email!r} has no @"
    elif rule == "email_localpart":
        candidate = email.split("@", 1)[0]
    else:
        candidate = email

    if any(ord(c) < 32 for c in candidate):
        return "", "username holds control characters"
    return candidate, ""


def _member(record: MemberRecord, username: str, uid_number: int) -> Member:
    given, surname = split_name(record.full_name)
    if record.given_name or record.surname:
        given, surname = record.given_name, record.surname
    return Member(
        username=username,
        member_id=record.member_id,
        full_name=record.full_name or username,
        given_name=given,
        surname=surname or username,
        email=record.email.strip(),
        company=record.company,
        teams=record.teams,
        plan=record.plan,
        location=record.location,
        card=record.card,
        pin=record.pin,
        active=record.active,
        uid_number=uid_number,
        password_hash=record.password_hash,
        second_card=record.second_card,
    )


def split_name(full_name: str) -> tuple[str, str]:
    """Split a display name into (given name, surname).

    "Family, Given" is the comma convention of many exports; otherwise the last
    word is the surname.
    """
    name = " ".join(full_name.split())
    if "," in name:
        surname, given = (part.strip() for part in name.split(",", 1))
        return given, surname
    if " " not in name:
        return "", name
    given, surname = name.rsplit(" ", 1)
    return given, surname


def _stable_numbers(keys: list[tuple[str, str]], base: int) -> dict[str, int]:
    """Give each (stable id, name) pair a number derived from its stable id.

    Hashing rather than counting keeps a member's number when others join or
    leave; a rare clash takes the next free number, in stable-id order.
    """
    taken: set[int] = set()
    numbers: dict[str, int] = {}
    for stable_id, name in sorted(keys):
        offset = zlib.crc32(stable_id.encode("utf-8")) % ID_SPAN
        while base + offset in taken:
            offset = (offset + 1) % ID_SPAN
        taken.add(base + offset)
        numbers[name] = base + offset
    return numbers


def _groups(
    members: tuple[Member, ...], settings: DirectorySettings
) -> tuple[Group, ...]:
    """Build one group per team, plan and location, and one of everyone."""
    by_kind = _memberships(members, settings)

    names = _unique_group_names(by_kind)
    gid_numbers = _stable_numbers(
        [(f"{kind}:{label}", names[kind, label]) for kind, label in names],
        settings.gid_number_base,
    )

    groups = [
        Group(
            name=names[kind, label],
            kind=kind,
            gid_number=gid_numbers[names[kind, label]],
            usernames=tuple(sorted(usernames)),
        )
        for kind in GROUP_KIND_ORDER
        for label, usernames in sorted(by_kind[kind].items())
    ]
    return tuple(sorted(groups, key=lambda g: g.name.lower()))


def _memberships(
    members: tuple[Member, ...], settings: DirectorySettings
) -> dict[str, dict[str, set[str]]]:
    """Map group kind -> group label -> usernames, for the enabled kinds.

    Labels of one kind that differ only in case or spacing are one group, as
    PaperCut compares group names case-insensitively; the group takes the
    spelling that sorts first, so the same data always gives the same name.
    """
    spellings: dict[tuple[str, str], set[str]] = defaultdict(set)
    usernames: dict[tuple[str, str], set[str]] = defaultdict(set)
    for member in members:
        for kind, label in _labels(member, settings):
            key = (kind, fold_name(label))
            spellings[key].add(label)
            usernames[key].add(member.username)

    by_kind: dict[str, dict[str, set[str]]] = {k: {} for k in GROUP_KIND_ORDER}
    for (kind, folded), labels in spellings.items():
        by_kind[kind][min(labels)] = usernames[kind, folded]
    return by_kind


def _labels(member: Member, settings: DirectorySettings) -> list[tuple[str, str]]:
    """(kind, label) of each enabled group the member belongs to."""
    labels = [
        ("all", settings.all_members_group),
        *(("team", team) for team in member.teams),
        ("plan", member.plan),
        ("location", member.location),
    ]
    enabled = set(settings.group_kinds)
    return [(kind, label) for kind, label in labels if kind in enabled and label]


def fold_name(name: str) -> str:
    """The form in which two names are the same to LDAP (caseIgnore): NFKC,
    case and spaces folded."""
    return fold(name)


def _unique_group_names(
    by_kind: dict[str, dict[str, set[str]]],
) -> dict[tuple[str, str], str]:
    """Name each group by its label, unique when compared case-insensitively.

    A label used by two kinds gets its kind appended ("Studio (team)"); if
    that still equals another group's name, a number follows ("Studio (team
    2)").  Labels used by one kind keep their name exactly.
    """
    kinds_of_label: dict[str, set[str]] = defaultdict(set)
    for kind, labels in by_kind.items():
        for label in labels:
            kinds_of_label[fold_name(label)].add(kind)

    def shared(label: str) -> bool:
        return len(kinds_of_label[fold_name(label)]) > 1

    names = {
        (kind, label): label
        for kind in GROUP_KIND_ORDER
        for label in by_kind[kind]
        if not shared(label)
    }
    taken = {fold_name(name) for name in names.values()}
    for kind in GROUP_KIND_ORDER:
        for label in sorted(filter(shared, by_kind[kind])):
            names[kind, label] = _free_name(f"{label} ({kind}", taken)
    return names


def _free_name(stem: str, taken: set[str]) -> str:
    """``stem`` closed with ")", or with a number first if that is taken."""
    name, number = stem + ")", 2
    while fold_name(name) in taken:
        name, number = f"{stem} {number})", number + 1
    taken.add(fold_name(name))
    return name
