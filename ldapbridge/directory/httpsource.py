"""The HTTP source: a platform's members, read through its JSON API.

One class serves every platform; what differs (endpoints, paging, field
names, the active rule) is the mapping in HttpSourceSettings, which the
presets fill for Nexudus, OfficeRnD, Cobot and Optix.  Blocking: the refresh
runs it in a thread pool.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from ldapbridge.directory.httpclient import HttpClient
from ldapbridge.directory.mapping import (
    Lookups,
    RecordProblem,
    resolve,
    texts,
    to_record,
)
from ldapbridge.directory.model import MemberRecord, SkippedRecord
from ldapbridge.directory.observers import FetchProgress, NoProgress
from ldapbridge.directory.paging import Listing, read_listing
from ldapbridge.directory.sources import Fetched, SourceError
from ldapbridge.httpconfig import HttpSourceSettings
from ldapbridge.mappingconfig import CollectionSettings


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


class HttpSource:
    """Members of a coworking platform, by its API and a field mapping."""

    def __init__(
        self,
        settings: HttpSourceSettings,
        client: HttpClient | None = None,
        today: Callable[[], dt.date] = utc_today,
        progress: FetchProgress | None = None,
    ) -> None:
        self.settings = settings
        self.name = settings.platform
        self.origin = f"{settings.platform} {settings.base_url}"
        self.client = client if client is not None else HttpClient(settings)
        self.today = today
        self.progress: FetchProgress = progress or NoProgress()
        # Per-listing limits (Cobot: memberships 6 a minute) last across
        # refreshes, as the platform counts them.
        self.limiters = {
            c.name: self.client.new_limiter(c.rate_per_minute)
            for c in (settings.members, *settings.lookups)
            if c.rate_per_minute
        }

    @property
    def supports_changes(self) -> bool:
        return bool(self.settings.members.changed_since_param)

    def fetch(self) -> list[MemberRecord]:
        return list(self.fetch_all().records)

    def fetch_all(self) -> Fetched:
        """Every member; raise SourceError."""
        return self._fetch((), complete=True)

    def fetch_changed(self, since: dt.datetime) -> Fetched:
        """Members changed since ``since``; raise SourceError."""
        members = self.settings.members
        if not members.changed_since_param:
            return self.fetch_all()
        value = _format_since(since, members.changed_since_format)
        return self._fetch(((members.changed_since_param, value),), complete=False)

    def _fetch(self, extra: Sequence[tuple[str, str]], complete: bool) -> Fetched:
        lookups = {c.name: self._lookup_table(c) for c in self.settings.lookups}
        listing = self._read(self.settings.members, extra)
        records, skipped, listed = self._map(listing.records, lookups)
        if listing.total is not None and listed < listing.total:
            raise SourceError(
                f"members: the platform announced {listing.total} records but "
                f"listed {listed} distinct ones"
            )
        return Fetched(records, skipped, complete)

    def _read(
        self, collection: CollectionSettings, extra: Sequence[tuple[str, str]]
    ) -> Listing:
        limiter = self.limiters.get(collection.name)
        return read_listing(self.client, collection, extra, limiter, self.progress)

    def _lookup_table(self, collection: CollectionSettings) -> dict[str, str]:
        """Key -> value over a lookup listing (company id -> company name)."""
        assert collection.key is not None and collection.value is not None
        table: dict[str, str] = {}
        for record in self._read(collection, ()).records:
            try:
                keys = texts(resolve(collection.key, record), "key")
                values = texts(resolve(collection.value, record), "value")
            except RecordProblem:
                continue
            if keys and values:
                table.setdefault(keys[0], values[0])
        return table

    def _map(
        self, documents: Sequence[Any], lookups: Lookups
    ) -> tuple[tuple[MemberRecord, ...], tuple[SkippedRecord, ...], int]:
        """Map every record; the first of two records with one id is kept.

        Returns the records, the ones left out, and how many distinct records
        the listing held.
        """
        today = self.today()
        kept: dict[str, MemberRecord] = {}
        skipped: list[SkippedRecord] = []
        unreadable = 0
        for position, document in enumerate(documents, 1):
            try:
                record = to_record(document, self.settings, lookups, today)
            except RecordProblem as e:
                where = e.member_id or f"(record {position} of the listing)"
                skipped.append(SkippedRecord(where, e.reason))
                unreadable += 1
                continue

            first = kept.setdefault(record.member_id, record)
            if first != record:
                reason = "listed twice with different values; the first is kept"
                skipped.append(SkippedRecord(record.member_id, reason))
        return tuple(kept.values()), tuple(skipped), len(kept) + unreadable

    def close(self) -> None:
        self.client.close()


def _format_since(since: dt.datetime, style: str) -> str:
    if style == "epoch":
        return str(int(since.timestamp()))
    return since.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
