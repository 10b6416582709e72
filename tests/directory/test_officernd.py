"""The OfficeRnD preset against a loopback imitation of OfficeRnD Flex."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ldapbridge.directory.sources import SourceError
from tests.directory.kit import (
    FakeTime,
    PagesSeen,
    bridge_config,
    by_username,
    http_source,
    load,
    officernd_source,
    snapshot_of,
)
from tests.directory.platforms import OfficeRnDSim, officernd_company, officernd_member
from tests.directory.simulators import sample

MEMBERS = "/api/v2/organizations/harbour-hub/members"


def sample_sim() -> OfficeRnDSim:
    return OfficeRnDSim(
        sample("officernd-members.json")["results"],
        sample("officernd-companies.json")["results"],
    )


def generated_sim(count: int, **options: int) -> OfficeRnDSim:
    members = [officernd_member(n) for n in range(count)]
    return OfficeRnDSim(members, [officernd_company(n) for n in range(3)], **options)


class TestOfficeRnDSample:
    def test_sample_members_get_their_company_name_and_custom_card(
        self, tmp_path: Path
    ) -> None:
        """Kwame is active, in Mensah & Partners by company id, with his print card;
        Zoë is a former member and left out."""
        with sample_sim() as sim:
            settings = load(tmp_path, bridge_config(officernd_source(sim)))
            snapshot = snapshot_of(http_source(settings).fetch_all(), settings)

        members = by_username(snapshot)
        assert list(members) == ["kwame@example.com"]
        kwame = members["kwame@example.com"]
        assert (kwame.member_id, kwame.full_name, kwame.company) == (
            "64b7f0c2a1e3d4f5a6b7c8d9",
            "Kwame Mensah",
            "Mensah & Partners",
        )
        assert (kwame.card, kwame.pin) == ("00779911", "0042")

    def test_client_credentials_token_carries_the_scope(self, tmp_path: Path) -> None:
        """The token request is a client-credentials grant with the preset's scope."""
        with sample_sim() as sim:
            settings = load(tmp_path, bridge_config(officernd_source(sim)))
            http_source(settings).fetch_all()
            forms = [r.form() for r in sim.requests_to("/oauth/token")]
        assert forms == [
            {
                "grant_type": "client_credentials",
                "client_id": "ofr-client-invented",
                "client_secret": "ofr-secret-invented",
                "scope": "flex.community.members.read flex.community.companies.read",
            }
        ]


class TestOfficeRnDPaging:
    def test_cursor_paging_reads_every_page_of_50(self, tmp_path: Path) -> None:
        """120 members come in pages of 50, 50 and 20, each after the last cursor."""
        with generated_sim(120) as sim:
            settings = load(tmp_path, bridge_config(officernd_source(sim)))
            snapshot = snapshot_of(http_source(settings).fetch_all(), settings)
            queries = [r.query for r in sim.requests_to(MEMBERS)]

        assert [q["$limit"] for q in queries] == ["50", "50", "50"]
        assert [q.get("$cursorNext") for q in queries] == [None, "NTA=", "MTAw"]
        assert snapshot.active_count == 120
        member = by_username(snapshot)["member0007@example.com"]
        assert (member.company, member.card) == ("Company 1", "00000007")

    def test_progress_names_the_companies_lookup_and_the_members(
        self, tmp_path: Path
    ) -> None:
        """The companies lookup is counted as its own listing, before the
        members' three pages."""
        progress = PagesSeen()
        with generated_sim(120) as sim:
            settings = load(tmp_path, bridge_config(officernd_source(sim)))
            http_source(settings, progress=progress).fetch_all()

        assert progress.told == [
            ("companies", 1, 3),
            ("members", 1, 50),
            ("members", 2, 100),
            ("members", 3, 120),
        ]


class TestOfficeRnDTokens:
    def test_one_hour_token_is_renewed_before_it_expires(self, tmp_path: Path) -> None:
        """Fifty-five minutes on, a new token is fetched before the next listing."""
        time = FakeTime()
        with generated_sim(3) as sim:
            source = http_source(
                load(tmp_path, bridge_config(officernd_source(sim))), time
            )
            source.fetch_all()
            time.now += 55 * 60
            source.fetch_all()
            tokens = len(sim.requests_to("/oauth/token"))
            used = [r.headers["authorization"] for r in sim.requests_to(MEMBERS)]
        assert tokens == 2
        assert used == ["Bearer officernd-1-invented", "Bearer officernd-2-invented"]

    def test_token_refused_on_401_is_replaced_once(self, tmp_path: Path) -> None:
        """A token the platform stops accepting is replaced and the request repeated."""
        with generated_sim(3) as sim:
            source = http_source(load(tmp_path, bridge_config(officernd_source(sim))))
            source.fetch_all()
            sim.tokens.expire_all()
            fetched = source.fetch_all()
            tokens = len(sim.requests_to("/oauth/token"))
        assert (len(fetched.records), tokens) == (3, 2)

    def test_wrong_client_secret_fails_the_fetch(self, tmp_path: Path) -> None:
        """An invalid client is reported as the token endpoint's refusal."""
        with generated_sim(3) as sim:
            text = bridge_config(officernd_source(sim, client_secret="wrong"))
            with pytest.raises(SourceError) as caught:
                http_source(load(tmp_path, text)).fetch_all()
        assert str(caught.value) == (
            "cannot obtain an access token: POST /oauth/token: HTTP 401"
        )


class TestOfficeRnDThrottling:
    def test_429_with_retry_after_is_waited_out(self, tmp_path: Path) -> None:
        """A 429 on the second page waits its Retry-After and the listing completes."""
        time = FakeTime()
        with generated_sim(60) as sim:
            sim.fail(MEMBERS, status=429, headers={"Retry-After": "1"}, times=1)
            source = http_source(
                load(tmp_path, bridge_config(officernd_source(sim))), time
            )
            fetched = source.fetch_all()
        assert (len(fetched.records), time.sleeps) == (60, [1.0])


class TestOfficeRnDChanges:
    def test_changed_since_filters_on_modified_at(self, tmp_path: Path) -> None:
        """modifiedAt[$gte] carries the moment; only later changes come back."""
        members = [officernd_member(n) for n in range(3)]
        members[1]["modifiedAt"] = "2026-12-02T08:00:00.000Z"
        with OfficeRnDSim(members, [officernd_company(n) for n in range(3)]) as sim:
            source = http_source(load(tmp_path, bridge_config(officernd_source(sim))))
            fetched = source.fetch_changed(dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
            query = sim.requests_to(MEMBERS)[0].query
        assert query["modifiedAt[$gte]"] == "2026-12-01T00:00:00Z"
        assert [r.email for r in fetched.records] == ["member0001@example.com"]
