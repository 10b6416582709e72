"""Log output: text lines or JSON, filtered by the configured level."""

from __future__ import annotations

import sys
from typing import IO, cast

from twisted.logger import (
    FilteringLogObserver,
    ILogFilterPredicate,
    ILogObserver,
    LogLevel,
    LogLevelFilterPredicate,
    globalLogBeginner,
    jsonFileLogObserver,
    textFileLogObserver,
)

from ldapbridge.config import LoggingSettings


def make_observer(settings: LoggingSettings, stream: IO[str]) -> ILogObserver:
    if settings.format == "json":
        base = jsonFileLogObserver(stream, recordSeparator="")
    else:
        base = textFileLogObserver(stream)
    predicate = LogLevelFilterPredicate(
        defaultLogLevel=LogLevel.levelWithName(settings.level)
    )
    # Twisted's classes declare their interfaces with zope, which mypy cannot see.
    observer = FilteringLogObserver(
        cast(ILogObserver, base), [cast(ILogFilterPredicate, predicate)]
    )
    return cast(ILogObserver, observer)


def start_logging(settings: LoggingSettings, stream: IO[str] = sys.stdout) -> None:
    globalLogBeginner.beginLoggingTo(
        [make_observer(settings, stream)], redirectStandardIO=False
    )
