"""Building a snapshot: usernames, skipped records, names, ids and groups."""

from __future__ import annotations

import itertools
import random
import zlib

import attrs
import pytest

from ldapbridge.config import DirectorySettings
from ldapbridge.directory.model import MemberRecord, SkippedRecord
from ldapbridge.directory.snapshot import ID_SPAN, build_snapshot, split_name

SETTINGS = DirectorySettings()


def record(member_id: str, email: str = "", **fields: object) -> MemberRecord:
    values: dict[str, object] = {
        "full_name": f"Member {member_id}",
        "email": email or f"{member_id.lower()}@example.com",
    }
    values.update(fields)
    return MemberRecord(member_id=member_id, **values)  # type: ignore[arg-type]


def usernames(records: list[MemberRecord], **settings: object) -> list[str]:
    snapshot = build_snapshot(records, attrs.evolve(SETTINGS, **settings))
    return [m.username for m in snapshot.members]


def colliding_ids() -> tuple[str, str]:
    """Two member ids whose hashes land on the same number (found by search)."""
    seen: dict[int, str] = {}
    for n in itertools.count():
        member_id = f"C-{n}"
        slot = zlib.crc32(member_id.encode()) % ID_SPAN
        if slot in seen:
            return seen[slot], member_id
        seen[slot] = member_id
    raise AssertionError("unreachable")


class TestUsernames:
    def test_email_is_lowercased(self):
        """The default username is the email, lowercased and stripped."""
        assert usernames([record("M-1", " Grace.Okafor@Example.COM ")]) == [
            "grace.okafor@example.com"
        ]

    def test_email_localpart_rule(self):
        """username_from = email_localpart keeps the part before the @."""
        found = usernames(
            [record("M-1", "Alex.Demo@Example.com")], username_from=("email_localpart")
        )
        assert found == ["alex.demo"]

    def test_member_id_rule(self):
        """username_from = member_id uses the lowercased member id."""
        found = usernames(
            [record("M-2001", "a@example.com")], username_from="member_id"
        )
        assert found == ["m-2001"]

    def test_member_id_rule_needs_no_email(self):
        """With member_id usernames, a record without email is still published."""
        rec = MemberRecord(member_id="M-1", full_name="No Mail", email="")
        assert usernames([rec], username_from="member_id") == ["m-1"]

    @pytest.mark.parametrize(
        ("rec", "reason"),
        [
            (MemberRecord("M-1", "No Mail", ""), "no email address"),
            (
                MemberRecord("M-1", "Bad", "not-an-email"),
                "email 'not-an-email' has no @",
            ),
            (
                MemberRecord("M-1", "Ctl", "a\tb@example.com"),
                "username holds control characters",
            ),
            (MemberRecord("", "No Id", "x@example.com"), "no member id"),
        ],
    )
    def test_record_without_a_username_is_skipped_with_reason(self, rec, reason):
        """A record that yields no username is skipped, and says why."""
        snapshot = build_snapshot([rec], SETTINGS)
        assert snapshot.members == ()
        assert snapshot.skipped == (SkippedRecord(rec.member_id or "(no id)", reason),)

    def test_special_characters_are_kept_in_the_username(self):
        """A + or comma in an email stays in the username (the DN escapes it)."""
        assert usernames([record("M-1", "tomas+print@example.org")]) == [
            "tomas+print@example.org"
        ]


class TestDuplicateUsernames:
    def test_lowest_member_id_keeps_a_shared_username(self):
        """Of two records with one email, the lower member id wins."""
        records = [
            record("M-2", "Same@Example.com", full_name="Second"),
            record("M-1", "same@example.com", full_name="First"),
        ]
        snapshot = build_snapshot(records, SETTINGS)

        assert [(m.username, m.member_id) for m in snapshot.members] == [
            ("same@example.com", "M-1")
        ]
        assert snapshot.skipped == (
            SkippedRecord(
                "M-2", "username 'same@example.com' already belongs to member M-1"
            ),
        )

    def test_winner_does_not_depend_on_record_order(self):
        """Shuffling the source's records never changes who wins."""
        records = [record(f"M-{n}", "dup@example.com") for n in range(1, 6)]
        outcomes = set()
        for seed in range(10):
            shuffled = records[:]
            random.Random(seed).shuffle(shuffled)
            snapshot = build_snapshot(shuffled, SETTINGS)
            outcomes.add((snapshot.members[0].member_id, snapshot.skipped))
        assert len(outcomes) == 1
        winner, skipped = outcomes.pop()
        assert winner == "M-1"
        assert [s.member_id for s in skipped] == ["M-2", "M-3", "M-4", "M-5"]

    def test_cancelled_duplicate_is_not_a_rival_by_default(self):
        """A cancelled record left out does not take the username from anyone."""
        records = [
            record("M-1", "back@example.com", active=False),
            record("M-9", "back@example.com"),
        ]
        snapshot = build_snapshot(records, SETTINGS)
        assert [m.member_id for m in snapshot.members] == ["M-9"]
        assert snapshot.skipped == ()

    def test_active_record_beats_a_cancelled_one_when_both_published(self):
        """With include_cancelled, a rejoined member's active record wins."""
        records = [
            record("M-1", "back@example.com", active=False),
            record("M-9", "back@example.com"),
        ]
        settings = attrs.evolve(SETTINGS, include_cancelled=True)
        snapshot = build_snapshot(records, settings)

        assert [(m.member_id, m.active) for m in snapshot.members] == [("M-9", True)]
        assert snapshot.skipped == (
            SkippedRecord(
                "M-1", "username 'back@example.com' already belongs to member M-9"
            ),
        )


class TestDuplicateMemberIds:
    def test_later_record_with_a_member_id_is_skipped(self):
        """Two records with member id M-4: the first published, the second not."""
        records = [
            record("M-4", "first@example.com"),
            record("M-5", "other@example.com"),
            record("M-4", "second@example.com"),
        ]
        snapshot = build_snapshot(records, SETTINGS)

        assert [(m.member_id, m.username) for m in snapshot.members] == [
            ("M-4", "first@example.com"),
            ("M-5", "other@example.com"),
        ]
        assert snapshot.skipped == (
            SkippedRecord("M-4", "member id M-4 appears twice"),
        )

    def test_active_record_beats_an_earlier_cancelled_one(self):
        """With include_cancelled, the active record of a member id is kept."""
        records = [
            record("M-4", "gone@example.com", active=False),
            record("M-4", "back@example.com"),
        ]
        settings = attrs.evolve(SETTINGS, include_cancelled=True)
        snapshot = build_snapshot(records, settings)

        assert [(m.username, m.active) for m in snapshot.members] == [
            ("back@example.com", True)
        ]
        assert snapshot.skipped == (
            SkippedRecord("M-4", "member id M-4 appears twice"),
        )

    def test_records_without_a_member_id_are_not_duplicates(self):
        """Records lacking a member id are each skipped for that reason alone."""
        snapshot = build_snapshot([record(""), record("")], SETTINGS)

        assert snapshot.skipped == (
            SkippedRecord("(no id)", "no member id"),
            SkippedRecord("(no id)", "no member id"),
        )


class TestCancelled:
    def test_cancelled_members_are_left_out_by_default(self):
        """Inactive records are not published unless configured."""
        records = [record("M-1"), record("M-2", active=False)]
        snapshot = build_snapshot(records, SETTINGS)
        assert [m.member_id for m in snapshot.members] == ["M-1"]
        assert snapshot.active_count == 1

    def test_cancelled_members_are_published_when_configured(self):
        """include_cancelled publishes them, marked inactive."""
        records = [record("M-1"), record("M-2", active=False)]
        snapshot = build_snapshot(
            records, attrs.evolve(SETTINGS, include_cancelled=True)
        )
        assert [(m.member_id, m.active) for m in snapshot.members] == [
            ("M-1", True),
            ("M-2", False),
        ]
        assert snapshot.active_count == 1


class TestNames:
    @pytest.mark.parametrize(
        ("full_name", "given", "surname"),
        [
            ("Alex Demo", "Alex", "Demo"),
            ("Nguyen, Van An", "Van An", "Nguyen"),
            ("Madonna", "", "Madonna"),
            ("  Alex    Demo  ", "Alex", "Demo"),
            ("Émile Zola-Petit", "Émile", "Zola-Petit"),
            ("Tomás Ó Briain", "Tomás Ó", "Briain"),
            ("Family,Given", "Given", "Family"),
            ("", "", ""),
        ],
    )
    def test_split_name(self, full_name, given, surname):
        """ "Family, Given" splits at the comma, else the last word is the surname."""
        assert split_name(full_name) == (given, surname)

    def test_member_without_a_name_falls_back_to_the_username(self):
        """An empty full name gives cn and sn equal to the username."""
        rec = MemberRecord("M-1", "", "nameless@example.com")
        (member,) = build_snapshot([rec], SETTINGS).members
        assert (member.full_name, member.given_name, member.surname) == (
            "nameless@example.com",
            "",
            "nameless@example.com",
        )

    def test_card_and_pin_are_kept_exactly(self):
        """Cards and PINs keep leading zeros and letter case."""
        rec = record("M-1", card="00aB0c", pin="0042")
        (member,) = build_snapshot([rec], SETTINGS).members
        assert (member.card, member.pin) == ("00aB0c", "0042")


class TestUidNumbers:
    def test_numbers_are_stable_when_others_join_and_leave(self):
        """A member's uidNumber does not change as the membership changes."""
        before = build_snapshot([record(f"M-{n}") for n in range(10)], SETTINGS)
        after = build_snapshot([record(f"M-{n}") for n in range(5, 30)], SETTINGS)
        old = {m.member_id: m.uid_number for m in before.members}
        new = {m.member_id: m.uid_number for m in after.members}
        assert {k: new[k] for k in old if k in new} == {
            k: old[k] for k in old if k in new
        }

    def test_numbers_do_not_depend_on_email_or_name(self):
        """The number follows the member id, not the username."""
        a = build_snapshot([record("M-7", "one@example.com")], SETTINGS).members[0]
        b = build_snapshot([record("M-7", "two@example.com")], SETTINGS).members[0]
        assert a.uid_number == b.uid_number

    def test_numbers_lie_above_the_configured_base(self):
        """Every uidNumber is in [base, base + 2**24)."""
        settings = attrs.evolve(SETTINGS, uid_number_base=50000)
        snapshot = build_snapshot([record(f"M-{n}") for n in range(200)], settings)
        numbers = [m.uid_number for m in snapshot.members]
        assert all(50000 <= n < 50000 + 2**24 for n in numbers)
        assert len(set(numbers)) == 200

    def test_hash_clash_takes_the_next_number_in_member_id_order(self):
        """Two ids hashing alike: the lower id gets the slot, the other the next."""
        first, second = sorted(colliding_ids())
        snapshot = build_snapshot([record(second), record(first)], SETTINGS)
        numbers = {m.member_id: m.uid_number for m in snapshot.members}
        assert numbers[second] == numbers[first] + 1


class TestGroups:
    def test_one_group_per_team_plan_location_and_everyone(self):
        """Each kind of label becomes a group with sorted usernames."""
        records = [
            record("M-1", "b@x.org", teams=("Owls",), plan="Desk", location="Mill"),
            record(
                "M-2", "a@x.org", teams=("Owls", "Bats"), plan="Desk", location="Dock"
            ),
        ]
        groups = build_snapshot(records, SETTINGS).groups
        assert [(g.name, g.kind, g.usernames) for g in groups] == [
            ("all-members", "all", ("a@x.org", "b@x.org")),
            ("Bats", "team", ("a@x.org",)),
            ("Desk", "plan", ("a@x.org", "b@x.org")),
            ("Dock", "location", ("a@x.org",)),
            ("Mill", "location", ("b@x.org",)),
            ("Owls", "team", ("a@x.org", "b@x.org")),
        ]

    def test_label_shared_by_two_kinds_gets_the_kind_appended(self):
        """A team and a plan both called Studio become "Studio (team)/(plan)"."""
        records = [record("M-1", teams=("Studio",), plan="studio")]
        names = [g.name for g in build_snapshot(records, SETTINGS).groups]
        assert names == ["all-members", "studio (plan)", "Studio (team)"]

    def test_labels_differing_only_in_case_make_one_group(self):
        """ "Kettle Labs" and "kettle  labs" are one team, not two same-DN groups."""
        records = [
            record("M-1", "a@x.org", teams=("Kettle Labs",)),
            record("M-2", "b@x.org", teams=("kettle  labs",)),
        ]
        teams = [
            g for g in build_snapshot(records, SETTINGS).groups if g.kind == "team"
        ]
        assert [(g.name, g.usernames) for g in teams] == [
            ("Kettle Labs", ("a@x.org", "b@x.org"))
        ]

    def test_only_configured_kinds_are_built(self):
        """groups = team, all builds no plan or location groups."""
        records = [record("M-1", teams=("Owls",), plan="Desk", location="Mill")]
        settings = attrs.evolve(SETTINGS, group_kinds=("team", "all"))
        kinds = {g.kind for g in build_snapshot(records, settings).groups}
        assert kinds == {"team", "all"}

    def test_all_members_group_name_is_configurable(self):
        """all_members_group names the group of everyone."""
        settings = attrs.evolve(SETTINGS, all_members_group="everyone")
        (group,) = build_snapshot([record("M-1")], settings).groups
        assert (group.name, group.kind) == ("everyone", "all")

    def test_group_numbers_are_stable_and_distinct(self):
        """gidNumbers follow the group's kind and label, not its members."""
        one = build_snapshot([record("M-1", teams=("Owls",))], SETTINGS).groups
        two = build_snapshot(
            [record("M-1", teams=("Owls",)), record("M-2", teams=("Bats",))], SETTINGS
        ).groups
        owls = [g.gid_number for g in one + two if g.name == "Owls"]
        assert owls[0] == owls[1]
        assert len({g.gid_number for g in two}) == len(two)
