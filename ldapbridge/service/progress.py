"""How far a fetch has got, on one terminal line rewritten after each page.

``ldapbridge sync`` shows it when its standard error is a terminal, so that a
long listing (thousands of members, a platform's rate limit) visibly moves;
scripts and logs, which read a pipe or a file, never see it.
"""

from __future__ import annotations

from typing import TextIO


def progress_text(listing: str, pages: int, records: int) -> str:
    """``members: page 3, 2,500 so far``."""
    return f"{listing}: page {pages}, {records:,} so far"


class ProgressLine:
    """A FetchProgress that rewrites one terminal line with a carriage return.

    Each listing (companies, then members) gets a line of its own.  Call
    ``end`` before anything else is written to the terminal, so that it
    starts on a line of its own too.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.listing = ""
        self.open = False  # a progress line is on screen, not yet ended

    def page_read(self, listing: str, pages: int, records: int) -> None:
        if listing != self.listing:
            self.end()
        self.listing = listing

        # Counts only grow within a listing, so each text covers the last.
        self.stream.write("\r" + progress_text(listing, pages, records))
        self.stream.flush()
        self.open = True

    def end(self) -> None:
        """Finish the progress line, if one is open."""
        if self.open:
            self.stream.write("\n")
            self.stream.flush()
        self.open = False
