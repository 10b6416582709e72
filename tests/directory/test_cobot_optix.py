"""The Cobot and Optix presets against loopback imitations of their APIs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ldapbridge.directory.sources import SourceError
from tests.directory.kit import (
    FakeTime,
    bridge_config,
    by_username,
    cobot_source,
    http_source,
    load,
    optix_source,
    snapshot_of,
)
from tests.directory.platforms import CobotSim, OptixSim, optix_user
from tests.directory.simulators import sample


def cobot_sim() -> CobotSim:
    return CobotSim(
        sample("cobot-memberships.json"), sample("cobot-check-in-tokens.json")
    )


class TestCobot:
    def test_sample_memberships_with_their_check_in_token_as_card(
        self, tmp_path: Path
    ) -> None:
        """Priya's card is her check-in token; Lars, cancelled to 2026/01/31, is
        still a member on that day and has no card."""
        with cobot_sim() as sim:
            settings = load(tmp_path, bridge_config(cobot_source(sim)))
            source = http_source(settings, today=dt.date(2026, 1, 31))
            snapshot = snapshot_of(source.fetch_all(), settings)

        members = by_username(snapshot)
        assert sorted(members) == ["lars@example.se", "priya@example.in"]
        priya, lars = members["priya@example.in"], members["lars@example.se"]
        assert (priya.card, priya.company, priya.plan) == (
            "00A1B2C3",
            "Raman Analytics",
            "Fixed Desk",
        )
        assert (lars.card, lars.company, lars.plan) == ("", "", "Flex 10")

    def test_membership_cancelled_to_a_past_day_is_not_active(
        self, tmp_path: Path
    ) -> None:
        """The day after canceled_to, Lars is no longer a member."""
        with cobot_sim() as sim:
            settings = load(tmp_path, bridge_config(cobot_source(sim)))
            source = http_source(settings, today=dt.date(2026, 2, 1))
            snapshot = snapshot_of(source.fetch_all(), settings)
        assert sorted(by_username(snapshot)) == ["priya@example.in"]

    def test_an_unreadable_date_skips_the_membership(self, tmp_path: Path) -> None:
        """A canceled_to that is no date cannot say whether Lars is a member:
        his record is skipped with the reason, Priya's is published."""
        memberships = sample("cobot-memberships.json")
        memberships[1]["canceled_to"] = "end of term"
        with CobotSim(memberships, []) as sim:
            settings = load(tmp_path, bridge_config(cobot_source(sim)))
            source = http_source(settings, today=dt.date(2026, 1, 1))
            snapshot = snapshot_of(source.fetch_all(), settings)
        assert sorted(by_username(snapshot)) == ["priya@example.in"]
        assert [(s.member_id, s.reason) for s in snapshot.skipped] == [
            (
                "0f9e8d7c6b5a49382716a5b4c3d2e1f0",
                "active rule (canceled_to): 'end of term' is not a date",
            )
        ]

    def test_memberships_are_read_at_most_six_times_a_minute(
        self, tmp_path: Path
    ) -> None:
        """The seventh listing of memberships within a minute waits 60 s."""
        time = FakeTime()
        with cobot_sim() as sim:
            source = http_source(load(tmp_path, bridge_config(cobot_source(sim))), time)
            for _ in range(7):
                source.fetch_all()
            listings = len(sim.requests_to("/api/memberships"))
        assert (listings, time.sleeps) == (7, [60.0])

    def test_429_on_memberships_waits_out_retry_after(self, tmp_path: Path) -> None:
        """Cobot's 429 with Retry-After is honoured."""
        time = FakeTime()
        with cobot_sim() as sim:
            sim.fail("/api/memberships", status=429, headers={"Retry-After": "1"})
            source = http_source(load(tmp_path, bridge_config(cobot_source(sim))), time)
            fetched = source.fetch_all()
        assert (len(fetched.records), time.sleeps) == (2, [1.0])


class TestOptix:
    def test_sample_users_over_graphql(self, tmp_path: Path) -> None:
        """Mei has her team and the "Print card" property as card; her given name
        and surname come as the platform keeps them."""
        users = sample("optix-users.json")["data"]["users"]["data"]
        with OptixSim(users) as sim:
            settings = load(tmp_path, bridge_config(optix_source(sim)))
            snapshot = snapshot_of(http_source(settings).fetch_all(), settings)
            request = sim.requests_to("/graphql")[0]

        assert request.method == "POST"
        assert request.json()["variables"] == {"page": 1, "limit": 100}
        members = by_username(snapshot)
        mei = members["mei.chen@example.com"]
        assert (mei.given_name, mei.surname, mei.card) == ("Mei", "Chen", "7788990011")
        assert (mei.teams, mei.company) == (("Chen Ventures",), "Chen Ventures")
        jean = members["jl.dupont@example.fr"]
        assert (jean.full_name, jean.card, jean.teams) == ("Jean-Luc Dupont", "", ())

    def test_pages_follow_the_total(self, tmp_path: Path) -> None:
        """250 users are read as three pages of 100, as the total says."""
        with OptixSim([optix_user(n) for n in range(250)]) as sim:
            settings = load(tmp_path, bridge_config(optix_source(sim)))
            snapshot = snapshot_of(http_source(settings).fetch_all(), settings)
            asked = [r.json()["variables"]["page"] for r in sim.requests_to("/graphql")]
        assert asked == [1, 2, 3]
        assert snapshot.active_count == 250
        assert by_username(snapshot)["user249@example.com"].teams == ("Team 1",)

    def test_graphql_errors_fail_the_fetch(self, tmp_path: Path) -> None:
        """An answer carrying GraphQL errors is a failed fetch, with the message."""
        with OptixSim([optix_user(1)]) as sim:
            members = {"graphql": "query { members { id } }"}
            text = bridge_config(optix_source(sim), source__members=members)
            with pytest.raises(SourceError) as caught:
                http_source(load(tmp_path, text)).fetch_all()
        assert str(caught.value) == (
            "members (/graphql): GraphQL error: Cannot query that field"
        )
