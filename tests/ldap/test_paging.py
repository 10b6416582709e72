"""The simple paged results control (RFC 2696), end to end.

PaperCut's sync lists every user with it; these tests page with ldapsearch's
``-E pr=`` and with ldap3, both its paged_search helper and the raw
``search(paged_size=, paged_cookie=)`` calls, to see cookies and pages.
"""

from __future__ import annotations

import re

import attrs
import ldap3

from tests import demo
from tests.clients import SERVICE_AUTH, connection
from tests.support import BASE_DN, GROUPS_DN, ldap_tool

PAGED_OID = "1.2.840.113556.1.4.319"
USERS = "(objectClass=posixAccount)"
GROUPS = "(objectClass=posixGroup)"
STALE = "paged results cookie is unknown, expired or for another search"


@attrs.frozen
class Page:
    dns: list[str]
    code: int
    message: str
    cookie: bytes | None


def page(
    conn: ldap3.Connection,
    size: int,
    cookie: bytes | None = None,
    base: str = BASE_DN,
    ldap_filter: str = USERS,
) -> Page:
    """One raw paged search request and what came back."""
    conn.search(
        base, ldap_filter, attributes=["1.1"], paged_size=size, paged_cookie=cookie
    )
    control = conn.result.get("controls", {}).get(PAGED_OID)
    return Page(
        dns=[e["dn"] for e in conn.response if e["type"] == "searchResEntry"],
        code=conn.result["result"],
        message=conn.result["message"],
        cookie=control["value"]["cookie"] if control else None,
    )


def all_pages(conn: ldap3.Connection, size: int, **search: str) -> list[Page]:
    pages = [page(conn, size, **search)]
    while pages[-1].cookie:
        pages.append(page(conn, size, pages[-1].cookie, **search))
    return pages


def member_dns() -> list[str]:
    return sorted(row.dn for row in demo.active())


def group_dns() -> list[str]:
    return sorted(demo.group_dn(name) for name in demo.groups())


class TestLdapsearchPaging:
    def test_pr_10_noprompt_returns_every_member_over_five_pages(self, demo_server):
        """ldapsearch -E pr=10/noprompt: 46 members in pages of 10,10,10,10,6."""
        done = ldap_tool(
            "ldapsearch",
            demo_server,
            *SERVICE_AUTH,
            "-b",
            BASE_DN,
            "-E",
            "pr=10/noprompt",
            USERS,
            "1.1",
        )
        assert done.returncode == 0, done.stderr

        dns = re.findall(r"^dn: (.*)$", done.stdout, re.MULTILINE)
        cookies = re.findall(r"^pagedresults: cookie=(.*)$", done.stdout, re.MULTILINE)
        assert sorted(dns) == member_dns()
        assert len(dns) == 46
        assert re.findall(r"^result: (\d+)", done.stdout, re.MULTILINE) == ["0"] * 5
        assert len(cookies) == 5
        assert all(cookies[:4]) and cookies[4] == ""

    def test_critical_paged_control_is_honoured(self, demo_server):
        """-E '!pr=20/noprompt' (critical) also pages: 20, 20, 6."""
        done = ldap_tool(
            "ldapsearch",
            demo_server,
            *SERVICE_AUTH,
            "-b",
            BASE_DN,
            "-E",
            "!pr=20/noprompt",
            USERS,
            "1.1",
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.count("\ndn: ") == 46
        assert done.stdout.count("pagedresults: cookie=") == 3


class TestPagedSearch:
    def test_paged_search_helper_returns_every_member(self, service):
        """ldap3's paged_search with page size 7 yields all 46 members once each."""
        found = service.extend.standard.paged_search(
            BASE_DN, USERS, attributes=["uid"], paged_size=7, generator=False
        )
        dns = [e["dn"] for e in found if e["type"] == "searchResEntry"]
        assert sorted(dns) == member_dns()

    def test_pages_have_the_asked_size_and_the_last_cookie_is_empty(self, service):
        """Pages of 7: six full pages, one of 4, and an empty final cookie."""
        pages = all_pages(service, 7)

        assert [len(p.dns) for p in pages] == [7, 7, 7, 7, 7, 7, 4]
        assert [p.code for p in pages] == [0] * 7
        assert all(p.cookie for p in pages[:-1])
        assert pages[-1].cookie == b""
        assert sorted(dn for p in pages for dn in p.dns) == member_dns()

    def test_paged_order_matches_the_unpaged_order(self, service):
        """Paging splits the unpaged result list; it never reorders it."""
        service.search(BASE_DN, USERS, attributes=["1.1"])
        unpaged = [e["dn"] for e in service.response]
        paged = [dn for p in all_pages(service, 10) for dn in p.dns]
        assert paged == unpaged

    def test_cookies_are_opaque_and_fresh_each_page(self, service):
        """Every page gets its own cookie, and the same position never gets the
        same cookie twice, so a cookie cannot be guessed from a position."""
        cookies = [p.cookie for p in all_pages(service, 7)[:-1]]
        again = [p.cookie for p in all_pages(service, 7)[:-1]]
        assert len(set(cookies)) == len(cookies) == 6
        assert not set(cookies) & set(again)
        assert all(c is not None and len(c) >= 8 for c in cookies)

    def test_page_larger_than_the_result_is_one_page(self, service):
        """A page size of 100 returns all 46 with an empty cookie at once."""
        first = page(service, 100)
        assert (len(first.dns), first.code, first.cookie) == (46, 0, b"")

    def test_page_size_equal_to_the_result_is_one_page(self, service):
        """A page size of 46 returns all 46 with an empty cookie."""
        first = page(service, 46)
        assert (len(first.dns), first.cookie) == (46, b"")

    def test_paged_search_with_no_match_is_empty(self, service):
        """A paged search matching nothing returns no entries and empty cookie."""
        first = page(service, 7, ldap_filter="(uid=nobody@example.com)")
        assert (first.dns, first.code, first.cookie) == ([], 0, b"")

    def test_size_limit_ends_a_paged_search(self, service):
        """With sizeLimit 15 and pages of 10: 10, then 5 and sizeLimitExceeded."""
        service.search(BASE_DN, USERS, attributes=["1.1"], paged_size=10, size_limit=15)
        first = len(service.response)
        cookie = service.result["controls"][PAGED_OID]["value"]["cookie"]
        service.search(
            BASE_DN,
            USERS,
            attributes=["1.1"],
            paged_size=10,
            paged_cookie=cookie,
            size_limit=15,
        )
        assert (first, len(service.response)) == (10, 5)
        assert service.result["result"] == 4


class TestAbandonAndInterleaving:
    def test_page_size_zero_abandons_the_search(self, service):
        """Size 0 with a live cookie: no entries, success, an empty cookie."""
        first = page(service, 7)
        abandoned = page(service, 0, first.cookie)
        assert (abandoned.dns, abandoned.code, abandoned.cookie) == ([], 0, b"")

    def test_abandoned_cookie_cannot_resume(self, service):
        """After abandoning, the old cookie is rejected with 53."""
        first = page(service, 7)
        page(service, 0, first.cookie)
        resumed = page(service, 7, first.cookie)
        assert (resumed.code, resumed.message, resumed.dns) == (53, STALE, [])

    def test_two_interleaved_paged_searches_on_one_connection(self, service):
        """Members in pages of 7 and groups in pages of 5, alternately."""
        people, groups = (
            [page(service, 7)],
            [page(service, 5, base=GROUPS_DN, ldap_filter=GROUPS)],
        )
        while people[-1].cookie or groups[-1].cookie:
            if people[-1].cookie:
                people.append(page(service, 7, people[-1].cookie))
            if groups[-1].cookie:
                groups.append(page(service, 5, groups[-1].cookie, GROUPS_DN, GROUPS))

        assert sorted(dn for p in people for dn in p.dns) == member_dns()
        assert sorted(dn for p in groups for dn in p.dns) == group_dns()
        assert [len(p.dns) for p in groups] == [5, 5, 2]

    def test_two_paged_searches_of_the_same_query_stay_apart(self, service):
        """Two identical paged searches started together each see every member."""
        a, b = [page(service, 10)], [page(service, 10)]
        while a[-1].cookie:
            a.append(page(service, 10, a[-1].cookie))
            b.append(page(service, 10, b[-1].cookie))
        assert [dn for p in a for dn in p.dns] == [dn for p in b for dn in p.dns]
        assert len([dn for p in a for dn in p.dns]) == 46


class TestBadCookies:
    def test_reused_cookie_is_rejected_and_the_connection_still_works(self, service):
        """A cookie used once is stale: 53, then an ordinary search succeeds."""
        first = page(service, 7)
        page(service, 7, first.cookie)
        stale = page(service, 7, first.cookie)
        assert (stale.code, stale.message) == (53, STALE)

        service.search(BASE_DN, "(uid=alex.demo@example.com)", attributes=["1.1"])
        assert service.result["result"] == 0
        assert [e["dn"] for e in service.response] == [demo.ALEX_DN]

    def test_garbage_cookie_is_rejected(self, service):
        """A cookie the server never issued gets 53 and no entries."""
        bad = page(service, 7, b"garbage")
        assert (bad.code, bad.message, bad.dns, bad.cookie) == (53, STALE, [], None)

    def test_cookie_of_another_search_is_rejected(self, service):
        """A cookie from the group search cannot continue the member search."""
        groups = page(service, 5, base=GROUPS_DN, ldap_filter=GROUPS)
        wrong = page(service, 5, groups.cookie)
        assert (wrong.code, wrong.message) == (53, STALE)

    def test_cookie_from_another_connection_is_rejected(self, demo_server, service):
        """Cookies belong to their connection: another one gets 53."""
        first = page(service, 7)
        with connection(demo_server) as other:
            foreign = page(other, 7, first.cookie)
        assert (foreign.code, foreign.message) == (53, STALE)

    def test_cookie_after_a_new_bind_is_rejected(self, service):
        """A bind ends the paged searches of the identity that started them."""
        first = page(service, 7)
        service.rebind(user=demo.ALEX_DN, password=demo.ALEX_PASSWORD)
        resumed = page(service, 7, first.cookie)
        assert (resumed.code, resumed.message, resumed.dns) == (53, STALE, [])

    def test_many_abandoned_searches_do_not_break_new_ones(self, service):
        """Twenty paged searches left open, then a fresh one still pages fully."""
        for _ in range(20):
            page(service, 3)
        pages = all_pages(service, 20)
        assert sum(len(p.dns) for p in pages) == 46
