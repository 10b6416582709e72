"""The Nexudus preset against a loopback imitation of the Nexudus API."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from time import monotonic

import certifi
import pytest

from ldapbridge.directory.httpclient import UnreachableError
from ldapbridge.directory.sources import SourceError
from tests.directory.kit import (
    FakeTime,
    bridge_config,
    by_username,
    http_source,
    load,
    nexudus_source,
    snapshot_of,
)
from tests.directory.platforms import NexudusSim, nexudus_coworker
from tests.directory.simulators import sample, serving
from tests.testcerts import make_ca_and_server_cert

COWORKERS = "/api/spaces/coworkers"


@pytest.fixture
def sample_sim() -> Iterator[NexudusSim]:
    """Nexudus serving exactly the three coworkers of the sample page."""
    yield from serving(NexudusSim(sample("nexudus-coworkers.json")["Records"]))


def small_sim(count: int) -> NexudusSim:
    return NexudusSim([nexudus_coworker(n) for n in range(count)])


def settings_for(tmp_path: Path, sim: NexudusSim, page_size: int = 1000, **extra: str):
    members = {"page_size": str(page_size)}
    return load(
        tmp_path, bridge_config(nexudus_source(sim, **extra), source__members=members)
    )


class TestNexudusSample:
    def test_sample_page_becomes_the_two_active_members(
        self, tmp_path: Path, sample_sim: NexudusSim
    ) -> None:
        """The sample's two active coworkers are published with their fields;
        the archived one is left out."""
        settings = settings_for(tmp_path, sample_sim)
        snapshot = snapshot_of(http_source(settings).fetch_all(), settings)

        members = by_username(snapshot)
        assert sorted(members) == [
            "ana.ferreira@example.net",
            "tomas+print@example.org",
        ]
        ana = members["ana.ferreira@example.net"]
        assert (ana.member_id, ana.full_name, ana.email) == (
            "1415926",
            "Ana Lúcia Ferreira",
            "Ana.Ferreira@example.net",
        )
        assert (ana.card, ana.pin, ana.company) == (
            "0004521987",
            "4821",
            "Ferreira Design Lda",
        )
        assert ana.teams == ("Ferreira Design", "Night Owls")
        assert ana.location == "Harbour Street"
        tomas = members["tomas+print@example.org"]
        assert (tomas.card, tomas.pin, tomas.teams) == ("04A3B2C1D0", "", ())

    def test_admin_token_is_requested_once_with_the_password_grant(
        self, tmp_path: Path, sample_sim: NexudusSim
    ) -> None:
        """One POST /api/token with the admin's credentials; listings use its token."""
        settings = settings_for(tmp_path, sample_sim)
        http_source(settings).fetch_all()

        tokens = sample_sim.requests_to("/api/token")
        assert [t.form() for t in tokens] == [
            {
                "grant_type": "password",
                "username": "admin@space.example",
                "password": "admin-pw-invented",
            }
        ]
        listing = sample_sim.requests_to(COWORKERS)
        assert [r.headers["authorization"] for r in listing] == [
            "Bearer nexudus-1-invented"
        ]


class TestNexudusPaging:
    def test_ten_thousand_members_arrive_in_ten_pages_of_1000(
        self, tmp_path: Path
    ) -> None:
        """A 10,000-member space is read as pages 1 to 10 of size 1000."""
        with NexudusSim([nexudus_coworker(n) for n in range(10_000)]) as sim:
            settings = settings_for(tmp_path, sim)
            fetched = http_source(settings).fetch_all()
            listing = sim.requests_to(COWORKERS)

        assert [(r.query["page"], r.query["size"]) for r in listing] == [
            (str(n), "1000") for n in range(1, 11)
        ]
        snapshot = snapshot_of(fetched, settings)
        assert (len(snapshot.members), snapshot.active_count) == (10_000, 10_000)
        last = by_username(snapshot)["coworker09999@example.net"]
        assert (last.card, last.pin, last.teams) == (
            "0000009999",
            "9999",
            ("Team 19", "Everyone"),
        )

    def test_a_short_page_with_more_to_follow_refuses_the_listing(
        self, tmp_path: Path
    ) -> None:
        """Page 2 one record short, with HasNextPage true, fails the fetch."""
        with small_sim(25) as sim:
            sim.short_pages = {2: 1}
            source = http_source(settings_for(tmp_path, sim, page_size=10))
            with pytest.raises(SourceError) as caught:
                source.fetch_all()
        assert str(caught.value) == (
            "members (/api/spaces/coworkers): page 2 holds 9 records, not 10, "
            "yet more pages follow"
        )

    def test_a_short_last_page_falls_short_of_the_total(self, tmp_path: Path) -> None:
        """A last page missing a record falls short of TotalItems: refused."""
        with small_sim(25) as sim:
            sim.short_pages = {3: 1}
            source = http_source(settings_for(tmp_path, sim, page_size=10))
            with pytest.raises(SourceError) as caught:
                source.fetch_all()
        assert str(caught.value) == (
            "members: the platform announced 25 records but listed 24 distinct ones"
        )


class TestNexudusTokens:
    def test_token_expiring_mid_sync_is_renewed_and_the_sync_completes(
        self, tmp_path: Path
    ) -> None:
        """After two pages the token stops working; a new one finishes the listing."""
        with small_sim(50) as sim:
            sim.expire_after_calls = 2
            fetched = http_source(settings_for(tmp_path, sim, page_size=10)).fetch_all()
            tokens = len(sim.requests_to("/api/token"))
            pages = [r.query["page"] for r in sim.requests_to(COWORKERS)]

        assert len(fetched.records) == 50
        assert tokens == 2
        assert pages == ["1", "2", "3", "3", "4", "5"]

    def test_token_is_renewed_before_it_expires(self, tmp_path: Path) -> None:
        """Past nine tenths of the token's 604799 s, the next fetch asks for a new one
        first, and no request is refused."""
        time = FakeTime()
        with small_sim(5) as sim:
            source = http_source(settings_for(tmp_path, sim), time)
            source.fetch_all()
            time.now += 604799 * 0.9 + 1
            source.fetch_all()
            tokens = len(sim.requests_to("/api/token"))
            authorizations = [
                r.headers["authorization"] for r in sim.requests_to(COWORKERS)
            ]

        assert tokens == 2
        assert authorizations == [
            "Bearer nexudus-1-invented",
            "Bearer nexudus-2-invented",
        ]

    def test_wrong_admin_password_fails_the_fetch(self, tmp_path: Path) -> None:
        """The token endpoint's refusal is reported, without the password."""
        with small_sim(3) as sim:
            settings = settings_for(tmp_path, sim, password="not-the-password")
            with pytest.raises(SourceError) as caught:
                http_source(settings).fetch_all()
        assert (
            str(caught.value)
            == "cannot obtain an access token: POST /api/token: HTTP 400"
        )


class TestNexudusThrottling:
    def test_409_with_retry_after_waits_that_long_then_completes(
        self, tmp_path: Path
    ) -> None:
        """Nexudus's 409 with Retry-After: 1 makes the source wait exactly 1 s."""
        time = FakeTime()
        with small_sim(3) as sim:
            sim.fail(COWORKERS, status=409, headers={"Retry-After": "1"})
            fetched = http_source(settings_for(tmp_path, sim), time).fetch_all()
            attempts = len(sim.requests_to(COWORKERS))
        assert (len(fetched.records), attempts, time.sleeps) == (3, 2, [1.0])

    def test_429_and_503_honour_retry_after_or_back_off(self, tmp_path: Path) -> None:
        """429 waits its Retry-After (2.5 s); 503 without one backs off (0.02 s)."""
        time = FakeTime()
        with small_sim(3) as sim:
            sim.fail(COWORKERS, status=429, headers={"Retry-After": "2.5"})
            sim.fail(COWORKERS, status=503)
            fetched = http_source(settings_for(tmp_path, sim), time).fetch_all()
        assert (len(fetched.records), time.sleeps) == (3, [2.5, 0.02])

    def test_500s_past_the_retry_limit_fail_the_fetch(self, tmp_path: Path) -> None:
        """Five 500s in a row exhaust four retries, with doubling back-off."""
        time = FakeTime()
        with small_sim(3) as sim:
            sim.fail(COWORKERS, status=500, times=5)
            with pytest.raises(SourceError) as caught:
                http_source(settings_for(tmp_path, sim), time).fetch_all()
        assert str(caught.value) == (
            "GET /api/spaces/coworkers: gave up after 5 attempts; last: HTTP 500"
        )
        assert time.sleeps == [0.01, 0.02, 0.04, 0.08]

    def test_retry_after_beyond_the_allowed_wait_fails_at_once(
        self, tmp_path: Path
    ) -> None:
        """A Retry-After of an hour is not waited for: the fetch fails now."""
        time = FakeTime()
        with small_sim(3) as sim:
            sim.fail(COWORKERS, status=409, headers={"Retry-After": "3600"})
            with pytest.raises(SourceError) as caught:
                http_source(settings_for(tmp_path, sim), time).fetch_all()
        assert str(caught.value) == (
            "GET /api/spaces/coworkers: HTTP 409, asked to wait 3600 s, longer than "
            "retry_after_max_s (300 s)"
        )
        assert time.sleeps == []

    def test_a_retry_after_date_years_ahead_is_given_in_whole_seconds(
        self, tmp_path: Path
    ) -> None:
        """A Retry-After date decades ahead reads as seconds, not 2.3e+09."""
        with small_sim(3) as sim:
            far = "Fri, 01 Jan 2100 00:00:00 GMT"
            sim.fail(COWORKERS, status=409, headers={"Retry-After": far})
            with pytest.raises(SourceError) as caught:
                http_source(settings_for(tmp_path, sim), FakeTime()).fetch_all()
        assert re.fullmatch(
            r"GET /api/spaces/coworkers: HTTP 409, asked to wait \d{10} s, longer "
            r"than retry_after_max_s \(300 s\)",
            str(caught.value),
        )


class TestNexudusFailures:
    def test_a_slow_answer_is_retried(self, tmp_path: Path) -> None:
        """One answer slower than read_timeout_s is retried; the listing completes."""
        with small_sim(3) as sim:
            sim.fail(COWORKERS, delay_s=0.6, passthrough=True)
            settings = settings_for(tmp_path, sim, read_timeout_s="0.2")
            fetched = http_source(settings).fetch_all()
        assert len(fetched.records) == 3

    def test_answers_that_keep_timing_out_fail_the_fetch(self, tmp_path: Path) -> None:
        """Two timeouts with one retry allowed: the platform is reported unreachable."""
        with small_sim(3) as sim:
            sim.fail(COWORKERS, delay_s=0.6, times=2, passthrough=True)
            settings = settings_for(
                tmp_path, sim, read_timeout_s="0.2", max_retries="1"
            )
            with pytest.raises(UnreachableError) as caught:
                http_source(settings).fetch_all()
        assert str(caught.value) == (
            "GET /api/spaces/coworkers: gave up after 2 attempts; "
            "last: no answer within 0.2 s"
        )

    def test_an_answer_that_trickles_in_is_cut_off(self, tmp_path: Path) -> None:
        """Bytes arriving within read_timeout_s of each other do not hold the
        fetch past request_timeout_s; the attempt is retried, then fails."""
        with small_sim(3) as sim:
            sim.fail(COWORKERS, times=2, passthrough=True, trickle_s=0.05)
            settings = settings_for(
                tmp_path, sim, read_timeout_s="1", request_timeout_s="0.3",
                max_retries="1", retry_backoff_s="0",
            )  # fmt: skip
            began = monotonic()
            with pytest.raises(UnreachableError) as caught:
                http_source(settings).fetch_all()
        assert str(caught.value) == (
            "GET /api/spaces/coworkers: gave up after 2 attempts; last: the answer "
            "did not arrive whole within request_timeout_s (0.3 s)"
        )
        assert monotonic() - began < 5

    def test_an_answer_larger_than_max_response_mb_fails_the_fetch(
        self, tmp_path: Path
    ) -> None:
        """A body past max_response_mb is refused, not held in memory."""
        with small_sim(3) as sim:
            huge = b'{"Records": [' + b" " * (1024 * 1024 + 10) + b"]}"
            sim.fail(COWORKERS, status=200, body=huge)
            settings = settings_for(tmp_path, sim, max_response_mb="1")
            with pytest.raises(SourceError) as caught:
                http_source(settings).fetch_all()
        assert str(caught.value) == (
            "GET /api/spaces/coworkers: the answer is larger than max_response_mb "
            "(1 MB)"
        )

    def test_malformed_json_fails_the_fetch(self, tmp_path: Path) -> None:
        """A truncated body is not taken for an empty listing."""
        with small_sim(3) as sim:
            sim.fail(COWORKERS, status=200, body=b'{"Records": [')
            with pytest.raises(SourceError) as caught:
                http_source(settings_for(tmp_path, sim)).fetch_all()
        assert str(caught.value) == (
            "GET /api/spaces/coworkers: the answer is not JSON (HTTP 200, 13 bytes)"
        )

    def test_a_platform_that_is_down_is_unreachable(self, tmp_path: Path) -> None:
        """A closed port is reported as no connection, after the retries."""
        sim = small_sim(1)
        sim.close()
        settings = settings_for(tmp_path, sim, max_retries="1")
        with pytest.raises(SourceError) as caught:
            http_source(settings).fetch_all()
        assert str(caught.value) == (
            "cannot obtain an access token: POST /api/token: gave up after 2 attempts; "
            "last: cannot connect (ConnectionError)"
        )


class TestNexudusOverTls:
    def test_a_platform_signed_by_the_configured_ca_is_read(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """With tls_ca_file naming the platform's CA, all members are read,
        even where REQUESTS_CA_BUNDLE names another bundle."""
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
        ca, certificate, key = make_ca_and_server_cert(tmp_path)
        with small_sim(3) as sim:
            sim.use_tls(certificate, key)
            settings = settings_for(tmp_path, sim, tls_ca_file=str(ca))
            fetched = http_source(settings, FakeTime()).fetch_all()
        assert sim.url.startswith("https://")
        assert len(fetched.records) == 3

    def test_an_untrusted_certificate_fails_at_once_and_says_so(
        self, tmp_path: Path
    ) -> None:
        """Without the CA, the first request fails, is not retried, and the
        message points at tls_ca_file."""
        _, certificate, key = make_ca_and_server_cert(tmp_path)
        time = FakeTime()
        with small_sim(3) as sim:
            sim.use_tls(certificate, key)
            with pytest.raises(SourceError) as caught:
                http_source(settings_for(tmp_path, sim), time).fetch_all()
        assert str(caught.value) == (
            "cannot obtain an access token: POST /api/token: the platform's TLS "
            "certificate is not trusted; [source] tls_ca_file names the CA to "
            "trust if the platform's is private"
        )
        assert time.sleeps == []


class TestNexudusChanges:
    def test_changed_since_asks_for_recent_updates_only(self, tmp_path: Path) -> None:
        """from_Coworker_UpdatedOn carries the moment; only later updates come back."""
        coworkers = [nexudus_coworker(n) for n in range(4)]
        coworkers[2]["UpdatedOn"] = "2026-11-20T17:45:02Z"
        with NexudusSim(coworkers) as sim:
            source = http_source(settings_for(tmp_path, sim))
            fetched = source.fetch_changed(
                dt.datetime(2026, 11, 1, 12, 30, tzinfo=dt.UTC)
            )
            query = sim.requests_to(COWORKERS)[0].query

        assert query["from_Coworker_UpdatedOn"] == "2026-11-01T12:30:00Z"
        assert [r.member_id for r in fetched.records] == ["3000002"]
        assert fetched.complete is False
