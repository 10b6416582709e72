"""Which member field feeds the cards, PIN, department and office PaperCut reads."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from ldapbridge.config import DirectorySettings
from ldapbridge.directory.fields import Published, published
from ldapbridge.directory.model import Member
from tests.ldap_client import connect, search
from tests.support import PEOPLE_DN, demo_config, running_server

MEMBER = Member(
    username="ana@example.com",
    member_id="M-0007",
    full_name="Ana Lima",
    given_name="Ana",
    surname="Lima",
    email="ana@example.com",
    company="Lima Design",
    teams=("Studio", "Print Club"),
    plan="Hot Desk",
    location="Mill Lane",
    card="0042AbCd",
    pin="0099",
    active=True,
    uid_number=10001,
    password_hash="",
    second_card="00777",
)


def settings(**changes: str) -> DirectorySettings:
    return attrs.evolve(DirectorySettings(), **changes)


class TestPublishedFields:
    def test_defaults_publish_card_second_card_pin_team_and_location(self) -> None:
        """By default: card, second card and PIN as stored, first team, location."""
        assert published(MEMBER, settings()) == Published(
            card="0042AbCd",
            second_card="00777",
            pin="0099",
            department="Studio",
            office="Mill Lane",
        )

    def test_fields_can_be_swapped_or_switched_off(self) -> None:
        """Each PaperCut value takes the member field the config names."""
        chosen = settings(
            card_from="member_id",
            second_card_from="card",
            pin_from="none",
            department_from="plan",
            office_from="company",
        )

        assert published(MEMBER, chosen) == Published(
            card="M-0007",
            second_card="0042AbCd",
            pin="",
            department="Hot Desk",
            office="Lima Design",
        )

    def test_team_department_falls_back_to_company(self) -> None:
        """A member in no team has their company as department."""
        loner = attrs.evolve(MEMBER, teams=())

        assert published(loner, settings()).department == "Lima Design"

    @pytest.mark.parametrize("pin", ["12a4", "12 34", "١٢٣", "-1", ""])
    def test_pin_that_is_not_ascii_digits_is_left_out(self, pin: str) -> None:
        """PaperCut takes digit-only PINs; anything else is not published."""
        assert published(attrs.evolve(MEMBER, pin=pin), settings()).pin == ""

    def test_pin_fed_by_a_digit_only_card_is_published(self) -> None:
        """pin_from may name another field; its digits pass as the PIN."""
        assert published(MEMBER, settings(pin_from="second_card")).pin == "00777"


CSV = """\
Member ID,Full Name,Email,Company,Team,Plan,Location,Access Card,Second Card,PIN
M-1,Ana Lima,ana@example.com,Lima Design,Studio,Hot Desk,Mill Lane,0042AbCd,00777,0099
"""


class TestPublishedOverLdap:
    def test_configured_fields_and_attribute_names_reach_papercut(
        self, tmp_path: Path
    ) -> None:
        """card_from, *_attribute and department/office keys shape the entry."""
        members = tmp_path / "members.csv"
        members.write_text(CSV, encoding="utf-8")
        config = demo_config(
            members,
            directory={
                "card_from": "second_card",
                "second_card_from": "card",
                "pin_attribute": "printPin",
                "second_card_attribute": "carLicense",
                "department_from": "company",
                "office_from": "plan",
            },
        )

        with running_server(config, tmp_path / "server") as server:
            found = search(
                connect(server),
                PEOPLE_DN,
                "(uid=ana@example.com)",
                ["employeeNumber", "carLicense", "printPin", "pin", "departmentNumber",
                 "physicalDeliveryOfficeName"],
            )  # fmt: skip

        assert found == {
            f"uid=ana@example.com,{PEOPLE_DN}": {
                "departmentNumber": ["Lima Design"],
                "physicalDeliveryOfficeName": ["Hot Desk"],
                "employeeNumber": ["00777"],
                "carLicense": ["0042AbCd"],
                "printPin": ["0099"],
            }
        }
