"""Log output: text lines or JSON, filtered by the configured level.

The level can change while running (a reload); the format cannot, since a
log collector reading the output expects one format for its whole life.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import IO, Any

from twisted.application import service
from twisted.logger import (
    FilteringLogObserver,
    ILogObserver,
    LogLevel,
    LogLevelFilterPredicate,
    formatEvent,
    globalLogBeginner,
    jsonFileLogObserver,
    textFileLogObserver,
)
from zope.interface import implementer

from ldapbridge.config import LoggingSettings


class LogLevels:
    """The level filter of the log output, adjustable while running."""

    def __init__(self, level: str) -> None:
        self.predicate = LogLevelFilterPredicate(
            defaultLogLevel=LogLevel.levelWithName(level)
        )

    def set_level(self, level: str) -> None:
        # "" is the root namespace, which every namespace without a level of
        # its own falls back to.
        self.predicate.setLogLevelForNamespace("", LogLevel.levelWithName(level))


@implementer(ILogObserver)
class _WithText:
    """Add the rendered message as ``text``, and ``level`` by name, to each
    JSON event.

    twisted.logger's JSON carries the template and its fields, and the level
    as an object; log collectors also want the line a person would read, and
    the level as a plain word.
    """

    def __init__(self, observer: ILogObserver) -> None:
        self.observer = observer

    def __call__(self, event: dict[str, Any]) -> None:
        # Levels are constants of LogLevel, not instances of it.
        level = event.get("log_level")
        named = {"level": level.name} if level is not None else {}
        self.observer({**event, "text": formatEvent(event), **named})


@implementer(ILogObserver)
class _CallingFirst:
    """Call ``first`` before each event is written.

    ``ldapbridge sync`` ends its progress line there, so that a log line never
    lands in the middle of it.
    """

    def __init__(self, first: Callable[[], None], observer: ILogObserver) -> None:
        self.first = first
        self.observer = observer

    def __call__(self, event: dict[str, Any]) -> None:
        self.first()
        self.observer(event)


def make_observer(
    settings: LoggingSettings,
    stream: IO[str],
    levels: LogLevels | None = None,
    before_each: Callable[[], None] | None = None,
) -> ILogObserver:
    base: ILogObserver
    if settings.format == "json":
        base = _WithText(jsonFileLogObserver(stream, recordSeparator=""))
    else:
        base = textFileLogObserver(stream)
    if before_each is not None:
        base = _CallingFirst(before_each, base)
    levels = levels or LogLevels(settings.level)
    return FilteringLogObserver(base, [levels.predicate])


def start_logging(
    settings: LoggingSettings,
    stream: IO[str] = sys.stdout,
    before_each: Callable[[], None] | None = None,
) -> LogLevels:
    """Send every log event to ``stream``; return the level control.

    ``before_each`` is called before each event the level lets through.
    """
    levels = LogLevels(settings.level)
    observer = make_observer(settings, stream, levels, before_each)
    globalLogBeginner.beginLoggingTo([observer], redirectStandardIO=False)
    return levels


class ApplicationLogging(service.MultiService):
    """Under twistd: make the application log as ``[logging]`` says.

    twistd starts logging after the plugin built its service, with the
    observer the application carries as an ILogObserver component, if any
    (twisted.application.app.AppLogger.start).  This service sets that
    component when twistd adds it to the application, so twistd writes the
    same text or JSON lines, at the same level, as ``ldapbridge serve``.
    """

    def __init__(self, observer: ILogObserver) -> None:
        super().__init__()
        self.observer = observer

    def setServiceParent(self, parent: Any) -> None:
        super().setServiceParent(parent)
        set_component = getattr(parent, "setComponent", None)
        if set_component is not None:
            set_component(ILogObserver, self.observer)
