"""The progress line ``ldapbridge sync`` shows on a terminal, and the log
lines that must not land in the middle of it."""

from __future__ import annotations

import io
import time

from twisted.logger import LogLevel

from ldapbridge.config import LoggingSettings
from ldapbridge.service.logs import make_observer
from ldapbridge.service.progress import ProgressLine, progress_text


class TestProgressText:
    def test_counts_have_thousands_separators(self) -> None:
        """Large counts are grouped by thousands, pages are not."""
        assert progress_text("members", 12, 11_500) == "members: page 12, 11,500 so far"

    def test_small_counts_read_plainly(self) -> None:
        """A first short page reads as it is."""
        assert progress_text("companies", 1, 3) == "companies: page 1, 3 so far"


class TestProgressLine:
    def test_pages_of_one_listing_rewrite_one_line(self) -> None:
        """Each page returns to the start of the line; end() finishes it once."""
        screen = io.StringIO()
        line = ProgressLine(screen)
        line.page_read("members", 1, 1000)
        line.page_read("members", 2, 1500)
        line.end()
        line.end()
        assert screen.getvalue() == (
            "\rmembers: page 1, 1,000 so far\rmembers: page 2, 1,500 so far\n"
        )

    def test_each_listing_gets_a_line_of_its_own(self) -> None:
        """A new listing ends the last one's line first."""
        screen = io.StringIO()
        line = ProgressLine(screen)
        line.page_read("companies", 1, 3)
        line.page_read("members", 1, 50)
        line.end()
        assert screen.getvalue() == (
            "\rcompanies: page 1, 3 so far\n\rmembers: page 1, 50 so far\n"
        )

    def test_nothing_is_written_before_a_page(self) -> None:
        """end() without a page read leaves the terminal alone."""
        screen = io.StringIO()
        ProgressLine(screen).end()
        assert screen.getvalue() == ""


def event(level: LogLevel, text: str) -> dict[str, object]:
    return {
        "log_level": level,
        "log_format": text,
        "log_namespace": "ldapbridge.directory",
        "log_time": time.time(),
    }


class TestLogLinesEndTheProgressLine:
    def test_a_log_line_starts_on_a_line_of_its_own(self) -> None:
        """A warning during a fetch ends the progress line before it is written;
        the next page starts a fresh line."""
        screen = io.StringIO()
        line = ProgressLine(screen)
        observer = make_observer(
            LoggingSettings(level="info"), screen, before_each=line.end
        )
        line.page_read("members", 1, 1000)
        observer(event(LogLevel.warn, "retrying"))
        line.page_read("members", 2, 2000)

        shown = screen.getvalue().split("\n")
        assert shown[0] == "\rmembers: page 1, 1,000 so far"
        assert shown[1].endswith("retrying")
        assert shown[2] == "\rmembers: page 2, 2,000 so far"

    def test_events_below_the_level_leave_the_line_alone(self) -> None:
        """A debug event that is not written does not end the line."""
        screen = io.StringIO()
        line = ProgressLine(screen)
        observer = make_observer(
            LoggingSettings(level="info"), screen, before_each=line.end
        )
        line.page_read("members", 1, 1000)
        observer(event(LogLevel.debug, "hidden"))
        assert screen.getvalue() == "\rmembers: page 1, 1,000 so far"
