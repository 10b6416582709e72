"""The generic HTTP source (type = http): paging styles, fields, bad records."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from ldapbridge.directory.model import SkippedRecord
from ldapbridge.directory.sources import SourceError
from tests.directory.kit import (
    FAST,
    PagesSeen,
    bridge_config,
    by_username,
    http_source,
    load,
    snapshot_of,
)
from tests.directory.platforms import PlainApiSim

FIELDS = {
    "member_id": "id",
    "email": "mail",
    "email_transform": "lowercase",
    "full_name": "name | first + last",
    "given_name": "first",
    "surname": "last",
    "card": "badge",
    "card_transform": "hex_to_decimal",
    "pin": "pin",
    "pin_transform": "digits",
    "teams": "groups",
    "teams_transform": "split(;)",
    "location": "site | 'Main floor'",
    "active": "state = active | trial",
}

STYLES = {
    "none": {"path": "/plain/people"},
    "page": {
        "path": "/pages/people",
        "records": "data.items",
        "paging": "page",
        "page_param": "p",
        "size_param": "n",
        "page_size": "3",
        "total": "meta.total",
    },
    "cursor_header": {
        "path": "/header/people",
        "records": "items",
        "paging": "cursor_header",
        "cursor_header": "X-Next-Cursor",
        "cursor_param": "after",
    },
    "next_link (Link header)": {
        "path": "/links/people",
        "records": "items",
        "paging": "next_link",
    },
    "next_link (body)": {
        "path": "/body/people",
        "records": "items",
        "paging": "next_link",
        "next": "links.next",
    },
}


def person(number: int, **changes: Any) -> dict[str, Any]:
    record = {
        "id": f"p{number}",
        "mail": f"Person.{number}@Example.COM",
        "first": f"Given{number}",
        "last": f"Family{number}",
        "badge": f"{number:X}A",
        "pin": f"{number}-{number}",
        "state": "Active",
        "groups": "Print; Night ",
    }
    record.update(changes)
    return record


def source_keys(sim: PlainApiSim) -> dict[str, str]:
    return {
        "type": "http",
        "base_url": sim.url,
        "auth": "basic",
        "username": "reader",
        "password": "reader-pw-invented",
        **FAST,
    }


def settings_for(tmp_path: Path, sim: PlainApiSim, members: dict[str, str]):
    text = bridge_config(
        source_keys(sim), source__members=members, source__fields=FIELDS
    )
    return load(tmp_path, text)


class TestPagingStyles:
    @pytest.mark.parametrize("style", list(STYLES))
    def test_every_paging_style_reads_all_eight_people(
        self, tmp_path: Path, style: str
    ) -> None:
        """Eight people over pages of three arrive whole, in order."""
        with PlainApiSim([person(n) for n in range(1, 9)]) as sim:
            fetched = http_source(
                settings_for(tmp_path, sim, STYLES[style])
            ).fetch_all()
            requests = len(sim.seen)
        assert [r.member_id for r in fetched.records] == [f"p{n}" for n in range(1, 9)]
        assert requests == (1 if style == "none" else 3)

    def test_basic_auth_is_sent_with_every_request(self, tmp_path: Path) -> None:
        """auth = basic sends the username and password on each page."""
        with PlainApiSim([person(n) for n in range(1, 5)]) as sim:
            http_source(
                settings_for(tmp_path, sim, STYLES["cursor_header"])
            ).fetch_all()
            sent = {r.headers["authorization"] for r in sim.seen}
        expected = base64.b64encode(b"reader:reader-pw-invented").decode()
        assert sent == {f"Basic {expected}"}


class TestProgress:
    @pytest.mark.parametrize("style", list(STYLES))
    def test_progress_is_told_after_every_page(
        self, tmp_path: Path, style: str
    ) -> None:
        """Each page of three is counted with the records read so far; an
        unpaged listing is one page."""
        progress = PagesSeen()
        with PlainApiSim([person(n) for n in range(1, 9)]) as sim:
            settings = settings_for(tmp_path, sim, STYLES[style])
            http_source(settings, progress=progress).fetch_all()

        expected = [("members", 1, 8)]
        if style != "none":
            expected = [("members", 1, 3), ("members", 2, 6), ("members", 3, 8)]
        assert progress.told == expected


class TestFieldMapping:
    def test_fields_are_joined_transformed_and_defaulted(self, tmp_path: Path) -> None:
        """Names join, the hex badge becomes decimal, the PIN keeps its digits,
        groups split, email lowercases, and a missing site takes the literal."""
        with PlainApiSim([person(1), person(2, site="Annex", state="trial")]) as sim:
            settings = settings_for(tmp_path, sim, STYLES["none"])
            snapshot = snapshot_of(http_source(settings).fetch_all(), settings)

        members = by_username(snapshot)
        one = members["person.1@example.com"]
        assert (one.full_name, one.given_name, one.surname) == (
            "Given1 Family1",
            "Given1",
            "Family1",
        )
        assert (one.card, one.pin, one.teams, one.location) == (
            "26",
            "11",
            ("Print", "Night"),
            "Main floor",
        )
        assert (members["person.2@example.com"].location, snapshot.active_count) == (
            "Annex",
            2,
        )


class TestBadRecords:
    def test_bad_records_are_reported_and_the_rest_published(
        self, tmp_path: Path
    ) -> None:
        """Each bad record is skipped with its id and reason; the others publish."""
        people = [
            person(1),
            person(2, badge="ZZ"),
            "not a record",
            {"mail": "noid@example.com"},
            person(5, mail=""),
            person(6, mail="PERSON.1@example.com"),
            person(1, first="Other"),
            person(8, state="former"),
            person(9, badge=None, groups=["Print", "Day"]),
            person(10, mail={"work": "ten@example.com"}),
        ]
        with PlainApiSim(people) as sim:
            settings = settings_for(tmp_path, sim, STYLES["none"])
            snapshot = snapshot_of(http_source(settings).fetch_all(), settings)

        assert sorted(by_username(snapshot)) == [
            "person.1@example.com",
            "person.9@example.com",
        ]
        assert by_username(snapshot)["person.9@example.com"].teams == ("Print", "Day")
        assert snapshot.skipped == (
            SkippedRecord("p2", "card 'ZZ' is not hexadecimal"),
            SkippedRecord("(record 3 of the listing)", "a JSON str, not an object"),
            SkippedRecord("(record 4 of the listing)", "no member id"),
            SkippedRecord(
                "p1", "listed twice with different values; the first is kept"
            ),
            SkippedRecord("p10", "email (mail) is a JSON dict, not a value"),
            SkippedRecord("p5", "no email address"),
            SkippedRecord(
                "p6", "username 'person.1@example.com' already belongs to member p1"
            ),
        )

    def test_records_that_are_not_a_list_fail_the_fetch(self, tmp_path: Path) -> None:
        """A records path leading to no list is a failed fetch, not an empty one."""
        with PlainApiSim([person(1)]) as sim:
            members = {**STYLES["cursor_header"], "records": "people"}
            with pytest.raises(SourceError) as caught:
                http_source(settings_for(tmp_path, sim, members)).fetch_all()
        assert str(caught.value) == (
            "members (/header/people): people is not a list of records"
        )

    def test_a_next_link_to_another_host_is_refused(self, tmp_path: Path) -> None:
        """Credentials never follow a next link off the platform's host."""
        with PlainApiSim([person(n) for n in range(1, 5)]) as sim:
            sim.link_host = sim.url.replace("127.0.0.1", "localhost")
            settings = settings_for(tmp_path, sim, STYLES["next_link (body)"])
            with pytest.raises(SourceError) as caught:
                http_source(settings).fetch_all()
            requests = len(sim.seen)
        assert str(caught.value) == (
            "members (/body/people): a next link leads to another host"
        )
        assert requests == 1
