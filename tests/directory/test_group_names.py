"""Group names: stable, and unique when compared as PaperCut does (any case)."""

from __future__ import annotations

import attrs

from ldapbridge.config import DirectorySettings
from ldapbridge.directory.model import MemberRecord
from ldapbridge.directory.snapshot import build_snapshot


def record(number: int, **fields: object) -> MemberRecord:
    return attrs.evolve(
        MemberRecord(
            member_id=f"M-{number:03d}",
            full_name=f"Member {number}",
            email=f"m{number}@example.com",
        ),
        **fields,
    )


def groups(*records: MemberRecord, kinds: tuple[str, ...] = ("team", "plan")):
    settings = DirectorySettings(group_kinds=kinds)
    return {
        g.name: (g.kind, g.usernames) for g in build_snapshot(records, settings).groups
    }


class TestGroupNames:
    def test_team_spelled_in_two_cases_is_one_group(self) -> None:
        """ "Studio" and "studio " are one team, named by the spelling sorting first."""
        found = groups(
            record(1, teams=("studio ",)),
            record(2, teams=("Studio",)),
            kinds=("team",),
        )

        assert found == {"Studio": ("team", ("m1@example.com", "m2@example.com"))}

    def test_label_of_two_kinds_gets_its_kind(self) -> None:
        """A team and a plan both called Studio become "Studio (team)" and "(plan)"."""
        found = groups(record(1, teams=("Studio",), plan="studio"))

        assert found == {
            "Studio (team)": ("team", ("m1@example.com",)),
            "studio (plan)": ("plan", ("m1@example.com",)),
        }

    def test_kind_suffix_clashing_with_a_real_name_gets_a_number(self) -> None:
        """A team literally named "Studio (plan)" keeps it; the plan is numbered."""
        found = groups(
            record(1, teams=("Studio",), plan="Studio"),
            record(2, teams=("Studio (plan)",)),
        )

        assert found == {
            "Studio (plan)": ("team", ("m2@example.com",)),
            "Studio (team)": ("team", ("m1@example.com",)),
            "Studio (plan 2)": ("plan", ("m1@example.com",)),
        }

    def test_names_do_not_depend_on_record_order(self) -> None:
        """The same members in another order give the same groups."""
        records = [
            record(1, teams=("Studio", "studio"), plan="Studio"),
            record(2, teams=("STUDIO (plan)",), plan="Desk"),
            record(3, teams=("Desk",)),
        ]

        assert groups(*records) == groups(*reversed(records))
