"""Reading a whole listing, page after page, in the platform's paging style.

A listing that cannot be read whole raises SourceError: a partial member list
must never reach the directory, since PaperCut may delete the users missing
from it (DESIGN.md, "Delete users that do not exist").
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from typing import Any

import attrs

from ldapbridge.directory.httpclient import HttpClient, Reply
from ldapbridge.directory.mapping import RecordProblem, resolve, texts, truthy
from ldapbridge.directory.observers import FetchProgress, NoProgress
from ldapbridge.directory.ratelimit import RateLimiter
from ldapbridge.directory.sources import SourceError
from ldapbridge.mappingconfig import CollectionSettings

# A listing longer than this many pages is taken for a paging loop.
MAX_PAGES = 10_000


@attrs.frozen
class Listing:
    """Every record of a listing, and the total the platform announced."""

    records: tuple[Any, ...]
    total: int | None = None


@attrs.define
class _Reader:
    client: HttpClient
    collection: CollectionSettings
    extra: Sequence[tuple[str, str]]
    limiter: RateLimiter | None
    progress: FetchProgress
    pages: int = 0

    @property
    def where(self) -> str:
        return f"{self.collection.name} ({self.collection.path})"

    def get(self, variables: dict[str, Any], target: str = "") -> Reply:
        """One page; ``variables`` are the paging parameters."""
        c = self.collection
        if c.graphql:
            body = {"query": c.graphql, "variables": variables}
            reply = self.client.request_json(
                "POST", c.path, params=c.params, json_body=body, limiter=self.limiter
            )
            self._check_graphql(reply)
            return reply

        if target:
            return self.client.request_json("GET", target, limiter=self.limiter)
        params = [*c.params, *self.extra, *((k, str(v)) for k, v in variables.items())]
        return self.client.request_json(
            "GET", c.path, params=params, limiter=self.limiter
        )

    def page_read(self, records: list[Any]) -> None:
        """Count one more page; ``records`` is everything read so far."""
        self.pages += 1
        self.progress.page_read(self.collection.name, self.pages, len(records))

    def _check_graphql(self, reply: Reply) -> None:
        errors = reply.body.get("errors") if isinstance(reply.body, dict) else None
        if errors:
            first = errors[0] if isinstance(errors, list) else errors
            message = first.get("message", "") if isinstance(first, dict) else first
            raise SourceError(f"{self.where}: GraphQL error: {str(message)[:200]}")

    def records(self, reply: Reply) -> list[Any]:
        c = self.collection
        found = [reply.body] if c.records is None else resolve(c.records, reply.body)
        if len(found) != 1 or not isinstance(found[0], list):
            path = c.records.text if c.records else "(the whole answer)"
            raise SourceError(f"{self.where}: {path} is not a list of records")
        return found[0]

    def text_at(self, reply: Reply, key: str) -> str:
        path = getattr(self.collection, key)
        try:
            found = texts(resolve(path, reply.body), key)
        except RecordProblem as e:
            raise SourceError(f"{self.where}: {e.reason}") from None
        return found[0] if found else ""

    def total(self, reply: Reply) -> int | None:
        if self.collection.total is None:
            return None
        text = self.text_at(reply, "total")
        if not text.isdigit():
            path = self.collection.total.text
            raise SourceError(f"{self.where}: {path} is not a count of records")
        return int(text)


def read_listing(
    client: HttpClient,
    collection: CollectionSettings,
    extra: Sequence[tuple[str, str]] = (),
    limiter: RateLimiter | None = None,
    progress: FetchProgress | None = None,
) -> Listing:
    """Every record of ``collection``; SourceError if any page fails.

    ``progress`` is told after each page.
    """
    reader = _Reader(client, collection, extra, limiter, progress or NoProgress())
    if collection.paging == "page":
        return _by_page(reader)
    if collection.paging in ("cursor", "cursor_header"):
        return _by_cursor(reader)
    if collection.paging == "next_link":
        return _by_link(reader)
    reply = reader.get({})
    records = reader.records(reply)
    reader.page_read(records)
    return Listing(tuple(records), reader.total(reply))


def _by_page(reader: _Reader) -> Listing:
    """Numbered pages, until the has-more flag, the total or a short page."""
    c = reader.collection
    records: list[Any] = []
    for number in range(c.first_page, c.first_page + MAX_PAGES):
        variables: dict[str, Any] = {c.page_param: number}
        if c.size_param:
            variables[c.size_param] = c.page_size
        reply = reader.get(variables)
        page = reader.records(reply)
        records.extend(page)
        reader.page_read(records)

        more = _more_pages(reader, reply, number - c.first_page + 1, len(page))
        if more and len(page) < c.page_size:
            # The page size was cut short (a platform cap, or records gone
            # mid-listing): numbered pages would now skip records.
            raise SourceError(
                f"{reader.where}: page {number} holds {len(page)} records, "
                f"not {c.page_size}, yet more pages follow"
            )
        if not more:
            return Listing(tuple(records), reader.total(reply))
    raise SourceError(f"{reader.where}: more than {MAX_PAGES} pages")


def _more_pages(reader: _Reader, reply: Reply, pages: int, count: int) -> bool:
    c = reader.collection
    if c.has_more is not None:
        found = resolve(c.has_more, reply.body)
        if not found:
            raise SourceError(f"{reader.where}: the answer lacks {c.has_more.text}")
        return truthy(found[0])
    total = reader.total(reply)
    if total is not None:
        return pages * c.page_size < total
    return count == c.page_size


def _by_cursor(reader: _Reader) -> Listing:
    """Pages chained by a cursor from the body or a header."""
    c = reader.collection
    records: list[Any] = []
    cursor, seen = "", set()
    for _ in range(MAX_PAGES):
        variables: dict[str, Any] = {c.size_param: c.page_size} if c.size_param else {}
        if cursor:
            variables[c.cursor_param] = cursor
        reply = reader.get(variables)
        records.extend(reader.records(reply))
        reader.page_read(records)

        if c.paging == "cursor_header":
            cursor = reply.headers.get(c.cursor_header, "").strip()
        else:
            cursor = reader.text_at(reply, "cursor")
        if not cursor:
            return Listing(tuple(records), reader.total(reply))
        if cursor in seen:
            raise SourceError(f"{reader.where}: the platform repeated a cursor")
        seen.add(cursor)
    raise SourceError(f"{reader.where}: more than {MAX_PAGES} pages")


def _by_link(reader: _Reader) -> Listing:
    """Pages chained by a next link, from the body or the Link header."""
    c = reader.collection
    records: list[Any] = []
    url, seen = "", set()
    for _ in range(MAX_PAGES):
        reply = reader.get({}, url)
        records.extend(reader.records(reply))
        reader.page_read(records)

        link = reader.text_at(reply, "next") if c.next else reply.next_link
        if not link:
            return Listing(tuple(records), reader.total(reply))
        url = _same_origin(
            reader, urllib.parse.urljoin(url or reader.client.url(c.path), link)
        )
        if url in seen:
            raise SourceError(f"{reader.where}: the platform repeated a next link")
        seen.add(url)
    raise SourceError(f"{reader.where}: more than {MAX_PAGES} pages")


def _same_origin(reader: _Reader, url: str) -> str:
    """Refuse a next link to another host: it would receive our credentials."""
    ours = urllib.parse.urlsplit(reader.client.settings.base_url)
    theirs = urllib.parse.urlsplit(url)
    if (theirs.scheme, theirs.netloc) != (ours.scheme, ours.netloc):
        raise SourceError(f"{reader.where}: a next link leads to another host")
    return url
