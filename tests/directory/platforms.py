"""Imitations of Nexudus, OfficeRnD, Cobot, Optix and a plain JSON API.

Each answers in exactly the shapes of tests/directory/samples (the platforms'
real field names and paging fields), over as many records as a test needs.
"""

from __future__ import annotations

import base64
import copy
import functools
import math
from typing import Any

from tests.directory.simulators import Answer, Seen, Simulator, TokenDesk, pages, sample

# -- records ------------------------------------------------------------------


@functools.cache
def _template(name: str, *path: str | int) -> Any:
    found = sample(name)
    for step in path:
        found = found[step]
    return found


def nexudus_coworker(number: int, **changes: Any) -> dict[str, Any]:
    """A coworker record shaped like the Nexudus sample, numbered."""
    record = copy.deepcopy(_template("nexudus-coworkers.json", "Records", 0))
    record.update(
        Id=3_000_000 + number,
        UniqueId=f"00000000-0000-4000-8000-{number:012d}",
        FullName=f"Coworker {number:05d}",
        Email=f"coworker{number:05d}@example.net",
        CompanyName=f"Company {number % 40}",
        TeamNames=f"Team {number % 20}, Everyone",
        InvoicingBusinessName=("Harbour Street", "Mill Lane")[number % 2],
        AccessCardId=f"{number:010d}",
        KeyFobNumber="",
        AccessPincode=f"{number % 10000:04d}",
        UpdatedOn="2026-01-01T00:00:00Z",
    )
    record.update(changes)
    return record


def officernd_member(number: int, **changes: Any) -> dict[str, Any]:
    record = copy.deepcopy(_template("officernd-members.json", "results", 0))
    record.update(
        _id=f"64b7f0c2a1e3d4f5{number:08x}",
        name=f"Member {number:04d}",
        email=f"member{number:04d}@example.com",
        company=officernd_company(number % 3)["_id"],
        properties={
            "print_card": f"{number:08d}",
            "print_pin": f"{number % 10000:04d}",
        },
    )
    record.update(changes)
    return record


def officernd_company(number: int) -> dict[str, Any]:
    record = copy.deepcopy(_template("officernd-companies.json", "results", 0))
    record.update(_id=f"64b7f0c2a1e3d4f5c0{number:06x}", name=f"Company {number}")
    return record


def optix_user(number: int, **changes: Any) -> dict[str, Any]:
    record = copy.deepcopy(_template("optix-users.json", "data", "users", "data", 0))
    record.update(
        user_id=str(5000 + number),
        name=f"Given{number}",
        surname=f"Family {number}",
        fullname=f"Given{number} Family {number}",
        email=f"user{number}@example.com",
        teams=[{"team_id": str(number % 4), "name": f"Team {number % 4}"}],
        properties=[{"property": "Print card", "value": f"{number:010d}"}],
    )
    record.update(changes)
    return record


# -- platforms ----------------------------------------------------------------


class NexudusSim(Simulator):
    """Nexudus: password-grant tokens, page/size listings up to 1000."""

    ADMIN = ("admin@space.example", "admin-pw-invented")

    def __init__(
        self,
        coworkers: list[dict[str, Any]],
        member_passwords: dict[str, str] | None = None,
    ) -> None:
        self.coworkers = coworkers
        self.member_passwords = member_passwords or {}
        self.tokens = TokenDesk("nexudus")
        self.expire_after_calls: int | None = None
        self.short_pages: dict[int, int] = {}
        self.api_calls = 0
        super().__init__()

    def route(self, seen: Seen) -> Answer:
        if seen.method == "POST" and seen.path == "/api/token":
            return self._token(seen.form())
        self._maybe_expire()
        if not self.tokens.accepts(seen):
            return Answer.of(401, {"Message": "Authorization has been denied."})
        self.api_calls += 1
        if seen.path == "/api/spaces/coworkers":
            return self._listing(self._changed(seen), seen)
        if seen.path == "/api/spaces/teams":
            return Answer.of(200, sample("nexudus-teams.json"))
        return Answer.of(404, {"Message": "No HTTP resource was found."})

    def _maybe_expire(self) -> None:
        if (
            self.expire_after_calls is not None
            and self.api_calls >= self.expire_after_calls
        ):
            self.tokens.expire_all()
            self.expire_after_calls = None

    def _token(self, form: dict[str, str]) -> Answer:
        if form.get("grant_type") != "password":
            return Answer.of(400, {"error": "unsupported_grant_type"})
        pair = (form.get("username", ""), form.get("password", ""))
        known = self.member_passwords.get(pair[0])
        if pair != self.ADMIN and (known is None or known != pair[1]):
            return Answer.of(400, {"error": "invalid_grant"})
        body = dict(sample("nexudus-token.json"), access_token=self.tokens.issue())
        return Answer.of(200, body)

    def _changed(self, seen: Seen) -> list[dict[str, Any]]:
        since = seen.query.get("from_Coworker_UpdatedOn")
        if since is None:
            return self.coworkers
        return [c for c in self.coworkers if c["UpdatedOn"] >= since]

    def _listing(self, records: list[dict[str, Any]], seen: Seen) -> Answer:
        page, size = int(seen.query.get("page", 1)), int(seen.query.get("size", 25))
        if size > 1000:
            return Answer.of(400, {"Message": "size must be at most 1000"})
        chunk = pages(records, page, size)
        chunk = chunk[: len(chunk) - self.short_pages.get(page, 0)]
        total_pages = math.ceil(len(records) / size)
        first = (page - 1) * size + 1
        return Answer.of(
            200,
            {
                "Records": chunk,
                "CurrentPageSize": len(chunk),
                "CurrentPage": page,
                "CurrentOrderField": "Id",
                "CurrentSortDirection": 1,
                "FirstItem": first,
                "HasNextPage": page < total_pages,
                "HasPreviousPage": page > 1,
                "LastItem": first + len(chunk) - 1,
                "PageNumber": page,
                "PageSize": size,
                "TotalItems": len(records),
                "TotalPages": total_pages,
            },
        )


class OfficeRnDSim(Simulator):
    """OfficeRnD Flex: client-credentials tokens, cursor listings up to 50."""

    ORGANIZATION = "harbour-hub"
    CLIENT = ("ofr-client-invented", "ofr-secret-invented")

    def __init__(
        self,
        members: list[dict[str, Any]],
        companies: list[dict[str, Any]],
        member_passwords: dict[str, str] | None = None,
        token_lifetime_s: int = 3600,
    ) -> None:
        self.members = members
        self.companies = companies
        self.member_passwords = member_passwords or {}
        self.token_lifetime_s = token_lifetime_s
        self.tokens = TokenDesk("officernd")
        super().__init__()

    def route(self, seen: Seen) -> Answer:
        base = f"/api/v2/organizations/{self.ORGANIZATION}"
        if seen.method == "POST" and seen.path == "/oauth/token":
            return self._token(seen.form())
        if seen.method == "POST" and seen.path == "/auth/signin":
            return self._signin(seen.json())
        if not self.tokens.accepts(seen):
            return Answer.of(401, {"message": "Unauthorized"})
        if seen.path == f"{base}/members":
            return self._listing(self._changed(seen), seen)
        if seen.path == f"{base}/companies":
            return self._listing(self.companies, seen)
        return Answer.of(404, {"message": "Not found"})

    def _token(self, form: dict[str, str]) -> Answer:
        pair = (form.get("client_id"), form.get("client_secret"))
        if form.get("grant_type") != "client_credentials" or pair != self.CLIENT:
            return Answer.of(401, {"error": "invalid_client"})
        body = dict(sample("officernd-token.json"), access_token=self.tokens.issue())
        body["expires_in"] = self.token_lifetime_s
        return Answer.of(200, body)

    def _signin(self, body: dict[str, str]) -> Answer:
        if self.member_passwords.get(body.get("email", "")) == body.get("password"):
            return Answer.of(200, {"success": True})
        return Answer.of(401, {"message": "Invalid email or password"})

    def _changed(self, seen: Seen) -> list[dict[str, Any]]:
        since = seen.query.get("modifiedAt[$gte]")
        if since is None:
            return self.members
        return [m for m in self.members if m["modifiedAt"][:19] >= since[:19]]

    def _listing(self, records: list[dict[str, Any]], seen: Seen) -> Answer:
        limit = int(seen.query.get("$limit", 50))
        if limit > 50:
            return Answer.of(400, {"message": "$limit must be at most 50"})
        cursor = seen.query.get("$cursorNext")
        start = int(base64.urlsafe_b64decode(cursor).decode()) if cursor else 0
        chunk = records[start : start + limit]
        end = start + len(chunk)
        after = base64.urlsafe_b64encode(str(end).encode()).decode()
        return Answer.of(
            200,
            {
                "results": chunk,
                "cursorNext": after if end < len(records) else None,
                "cursorPrev": None,
                "rangeStart": start,
                "rangeEnd": end,
            },
        )


class CobotSim(Simulator):
    """Cobot: a space's bearer token, unpaged memberships and check-in tokens."""

    TOKEN = "cobot-token-invented"

    def __init__(
        self, memberships: list[dict[str, Any]], check_in_tokens: list[dict[str, Any]]
    ):
        self.memberships = memberships
        self.check_in_tokens = check_in_tokens
        super().__init__()

    def route(self, seen: Seen) -> Answer:
        if seen.headers.get("authorization") != f"Bearer {self.TOKEN}":
            return Answer.of(401, {"error": "unauthorized"})
        if seen.path == "/api/memberships":
            return Answer.of(200, self.memberships)
        if seen.path == "/api/check_in_tokens":
            return Answer.of(200, self.check_in_tokens)
        return Answer.of(404, {"error": "not found"})


class OptixSim(Simulator):
    """Optix: GraphQL over POST, users(limit, page) with a total."""

    TOKEN = "optix-token-invented"

    def __init__(self, users: list[dict[str, Any]]) -> None:
        self.users = users
        super().__init__()

    def route(self, seen: Seen) -> Answer:
        if seen.headers.get("authorization") != f"Bearer {self.TOKEN}":
            return Answer.of(401, {"errors": [{"message": "Unauthenticated"}]})
        if seen.method != "POST" or seen.path != "/graphql":
            return Answer.of(404, {"errors": [{"message": "Not found"}]})
        request = seen.json()
        if "users(" not in request.get("query", ""):
            return Answer.of(200, {"errors": [{"message": "Cannot query that field"}]})
        variables = request.get("variables", {})
        chunk = pages(self.users, int(variables["page"]), int(variables["limit"]))
        users = {"total": len(self.users), "data": chunk}
        return Answer.of(200, {"data": {"users": users}})


class PlainApiSim(Simulator):
    """A platform of no name, with each paging style on its own path.

    /plain/people: one array.  /pages/people?p=&n=: numbered pages with a
    total.  /header/people?after=: a cursor in the X-Next-Cursor header.
    /links/people?offset=: the Link header's next.  /body/people?offset=: a
    next link in the body.  POST /login (form login, secret): 204 or 403.
    """

    PAGE = 3

    def __init__(self, people: list[dict[str, Any]]) -> None:
        self.people = people
        self.link_host = ""  # body links are relative unless a test says
        self.passwords: dict[str, str] = {}
        super().__init__()

    def route(self, seen: Seen) -> Answer:
        if seen.method == "POST" and seen.path == "/login":
            form = seen.form()
            valid = self.passwords.get(form.get("login", "")) == form.get("secret")
            return Answer(204) if valid else Answer.of(403, {"error": "denied"})
        style = seen.path.split("/")[1]
        if style == "plain":
            return Answer.of(200, self.people)
        if style == "pages":
            chunk = pages(self.people, int(seen.query["p"]), int(seen.query["n"]))
            return Answer.of(
                200, {"data": {"items": chunk}, "meta": {"total": len(self.people)}}
            )
        start = int(seen.query.get("after") or seen.query.get("offset") or 0)
        chunk, end = self.people[start : start + self.PAGE], start + self.PAGE
        more = end < len(self.people)
        if style == "header":
            headers = {"X-Next-Cursor": str(end)} if more else {}
            return Answer.of(200, {"items": chunk}, **headers)
        following = f"/{style}/people?offset={end}" if more else None
        if style == "body" and following:
            following = self.link_host + following
        if style == "links":
            headers = {"Link": f'<{self.url}{following}>; rel="next"'} if more else {}
            return Answer.of(200, {"items": chunk}, **headers)
        return Answer.of(200, {"items": chunk, "links": {"next": following}})
