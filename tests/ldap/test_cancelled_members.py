"""Cancelled members published with include_cancelled, in every profile."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.ldap_client import connect, search
from tests.support import BASE_DN, RunningServer, demo_config, running_server

# The demo's cancelled members: Ex Member (card 0099887766, no PIN) and
# Jonas Weber (card 00ABCDEF12, PIN 1111).  Alex Demo is active.
CARD_ATTRIBUTES = {
    "unix": ["employeeNumber", "pager", "pin"],
    "ad": ["pager", "otherPager", "pin"],
    "edirectory": ["employeeNumber", "pager", "pin"],
}
USERNAME_ATTRIBUTE = {"unix": "uid", "ad": "sAMAccountName", "edirectory": "cn"}


@pytest.fixture(scope="module", params=sorted(CARD_ATTRIBUTES))
def profile_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, RunningServer]]:
    """The demo export in one profile, cancelled members included."""
    profile = request.param
    config = demo_config(
        directory={
            "profile": profile,
            "include_cancelled": "true",
            "second_card_from": "card",
        }
    )
    with running_server(config, tmp_path_factory.mktemp(profile)) as server:
        yield profile, server


def cards_of(profile: str, server: RunningServer, username: str) -> list[dict]:
    name = USERNAME_ATTRIBUTE[profile]
    found = search(
        connect(server), BASE_DN, f"({name}={username})", CARD_ATTRIBUTES[profile]
    )
    return list(found.values())


class TestCancelledMemberPublished:
    def test_cancelled_member_carries_no_card_or_pin(
        self, profile_server: tuple[str, RunningServer]
    ) -> None:
        """PaperCut logs cards in from its own copy, so a cancelled one has none."""
        profile, server = profile_server

        assert cards_of(profile, server, "jonas.weber@example.de") == [{}]
        assert cards_of(profile, server, "ex@example.com") == [{}]

    def test_active_member_keeps_cards_and_pin(
        self, profile_server: tuple[str, RunningServer]
    ) -> None:
        """An active member's cards and PIN are still published, exactly."""
        profile, server = profile_server
        card, second_card, pin = CARD_ATTRIBUTES[profile]

        assert cards_of(profile, server, "alex.demo@example.com") == [
            {card: ["0000424242"], second_card: ["0000424242"], pin: ["0042"]}
        ]
