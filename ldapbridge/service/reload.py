"""Reloading on SIGHUP: new config and directory, same connections.

A reload re-reads the config file and the member source in a worker thread,
builds the new tree there, then swaps it in on the reactor thread in one
assignment.  Open connections keep their sessions and see the new directory
from their next request.  Anything wrong with the new config or source
refuses the whole reload: the log says why and the old directory keeps
serving.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs
from twisted.application import service
from twisted.internet import threads
from twisted.logger import Logger
from twisted.python.failure import Failure

from ldapbridge import config
from ldapbridge.config import Settings
from ldapbridge.directory.model import Snapshot
from ldapbridge.directory.sources import SourceError
from ldapbridge.ldap.tree import DirectoryTree
from ldapbridge.service.exposure import check_exposure

if TYPE_CHECKING:
    from ldapbridge.service.app import Bridge

log = Logger(namespace="ldapbridge.service")

Loader = Callable[[Settings], tuple[Snapshot, DirectoryTree]]

# Given the new settings in a worker thread, a hook prepares what it needs
# (certificate files, say), raising ConfigError to refuse the reload, and
# returns the function that puts it in force on the reactor thread.
ReloadHook = Callable[[Settings], Callable[[], None]]

# Settings that only take effect at start, as (section, key).
RESTART_ONLY = (
    ("server", "bind_address"),
    ("server", "ldap_port"),
    ("metrics", "bind_address"),
    ("metrics", "port"),
    ("logging", "format"),
)


@attrs.frozen
class Prepared:
    """Everything a reload built off the reactor thread, ready to swap in."""

    settings: Settings
    snapshot: Snapshot
    tree: DirectoryTree
    commits: tuple[Callable[[], None], ...]


class Reloader:
    """Reload the bridge's config and directory; one reload at a time."""

    def __init__(self, bridge: Bridge, reactor: Any, load: Loader) -> None:
        self.bridge = bridge
        self.reactor = reactor
        self.load = load
        # What the listeners and log output were started with: a reload never
        # changes these, so each reload compares against them.
        self.started = bridge.settings
        self.hooks: list[ReloadHook] = []
        self._running = False
        self._again = False

    def reload(self) -> Any:
        """Start a reload; fires when it is done, whether applied or refused."""
        if self._running:
            # A change saved while a reload runs must not be missed.
            self._again = True
            log.info("reload requested while one runs: reloading again after it")
            return None

        self._running = True
        path = self.bridge.settings.path
        log.info("reloading config from {path}", path=str(path))
        d = threads.deferToThreadPool(
            self.reactor, self.reactor.getThreadPool(), self._prepare, path
        )
        d.addCallbacks(self._apply, self._refuse)
        d.addBoth(self._done)
        return d

    def _prepare(self, path: Any) -> Prepared:
        """Blocking: read the config and source and build the new tree."""
        settings = config.load(path)
        snapshot, tree = self.load(settings)
        # The listeners keep the address they started on, whatever the file
        # now says: the demo passwords are judged against that one.
        server = attrs.evolve(
            settings.server, bind_address=self.started.server.bind_address
        )
        check_exposure(attrs.evolve(settings, server=server), snapshot)
        commits = tuple(hook(settings) for hook in self.hooks)
        return Prepared(settings, snapshot, tree, commits)

    def _apply(self, prepared: Prepared) -> None:
        for change in restart_needed(self.started, prepared.settings):
            log.warn("{change}", change=change)
        self.bridge.serve(prepared.settings, prepared.snapshot, prepared.tree)
        for commit in prepared.commits:
            commit()
        self.bridge.metrics.reload_succeeded()
        log.info("reloaded config from {path}", path=str(prepared.settings.path))
        # Last, so that the line above shows at the level it was asked under.
        if self.bridge.log_levels is not None:
            self.bridge.log_levels.set_level(prepared.settings.logging.level)

    def _refuse(self, failure: Failure) -> None:
        self.bridge.metrics.reload_failed()
        if failure.check(config.ConfigError, SourceError):
            reason = failure.getErrorMessage()
        else:
            log.failure("reload failed unexpectedly", failure)
            reason = "internal error (see the traceback above)"
        log.error(
            "reload refused, still serving the previous config and directory: {reason}",
            reason=reason,
        )

    def _done(self, _: Any) -> None:
        self._running = False
        if self._again:
            self._again = False
            self.reload()


def restart_needed(old: Settings, new: Settings) -> list[str]:
    """Describe each changed setting that only a restart puts in force."""
    changes = []
    for section, key in RESTART_ONLY:
        before = getattr(getattr(old, section), key)
        after = getattr(getattr(new, section), key)
        if before != after:
            changes.append(
                f"[{section}] {key} is {after} in the config but {before} in "
                "force: restart ldapbridge to apply it"
            )
    return changes


class ReloadService(service.Service):
    """Reload on SIGHUP while running; restore the old handler on stop."""

    def __init__(self, reloader: Reloader) -> None:
        self.reloader = reloader
        self._previous: Any = None
        self._installed = False

    def startService(self) -> None:
        super().startService()
        # Signal handlers can only be set from the main thread, and some
        # platforms have no SIGHUP; reloading is then simply unavailable.
        hangup = getattr(signal, "SIGHUP", None)
        if hangup is None or threading.current_thread() is not threading.main_thread():
            return
        self._previous = signal.signal(hangup, self._hangup)
        self._installed = True

    def _hangup(self, signum: int, frame: Any) -> None:
        # Runs between two bytecodes of the reactor thread: hand the work to
        # the reactor rather than doing it here.
        self.reloader.reactor.callFromThread(self.reloader.reload)

    def stopService(self) -> Any:
        if self._installed:
            signal.signal(signal.SIGHUP, self._previous)
            self._installed = False
        return super().stopService()
