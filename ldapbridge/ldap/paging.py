"""The simple paged results control, server side (RFC 2696).

A paged search runs once, on its first page; its result list and the tree it
came from are kept under a random cookie until the last page is sent, the
client abandons it (page size 0), binds again or closes the connection.
Later pages thus see one consistent snapshot even if a refresh swaps the tree
meanwhile.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import attrs

from ldapbridge.ldap import controls, results
from ldapbridge.ldap.entry import Entry
from ldapbridge.ldap.results import LDAPError
from ldapbridge.ldap.search import SearchRequest
from ldapbridge.ldap.tree import DirectoryTree

STALE_COOKIE = "paged results cookie is unknown, expired or for another search"


@attrs.define
class _PagedSearch:
    key: tuple[Any, ...]
    entries: list[Entry]
    position: int = 0


class PagedSearches:
    """The paged searches in progress on one connection."""

    def __init__(self, max_searches: int) -> None:
        self.max_searches = max_searches
        self._searches: OrderedDict[bytes, _PagedSearch] = OrderedDict()

    def clear(self) -> None:
        """Forget every paged search; their cookies become unknown (53)."""
        self._searches.clear()

    def page(
        self,
        tree: DirectoryTree,
        search: SearchRequest,
        find: Callable[[DirectoryTree, SearchRequest], list[Entry]],
    ) -> tuple[list[Entry], int, bytes]:
        """Return (this page's entries, result code, response control)."""
        assert search.paged is not None
        size, cookie = search.paged.size, search.paged.cookie

        state = self._resume(cookie, search) if cookie else None
        if size == 0:
            # A page size of zero abandons the search (RFC 2696 section 3).
            return [], results.SUCCESS, controls.paged_response(b"")
        if state is None:
            state = _PagedSearch(search.identity_key(), find(tree, search))
        return self._next_page(state, size, search.size_limit)

    def _resume(self, cookie: bytes, search: SearchRequest) -> _PagedSearch:
        state = self._searches.pop(cookie, None)
        if state is None or state.key != search.identity_key():
            raise LDAPError(results.UNWILLING_TO_PERFORM, STALE_COOKIE)
        return state

    def _next_page(
        self, state: _PagedSearch, size: int, size_limit: int
    ) -> tuple[list[Entry], int, bytes]:
        end = min(state.position + size, len(state.entries))
        if size_limit:
            end = min(end, size_limit)
        page = state.entries[state.position : end]
        state.position = end

        if size_limit and end >= size_limit and end < len(state.entries):
            return page, results.SIZE_LIMIT_EXCEEDED, controls.paged_response(b"")
        if end >= len(state.entries):
            return page, results.SUCCESS, controls.paged_response(b"")
        return page, results.SUCCESS, controls.paged_response(self._keep(state))

    def _keep(self, state: _PagedSearch) -> bytes:
        """Store ``state`` under a fresh cookie, forgetting the oldest if full."""
        while len(self._searches) >= self.max_searches:
            self._searches.popitem(last=False)
        cookie = secrets.token_bytes(12)
        self._searches[cookie] = state
        return cookie
