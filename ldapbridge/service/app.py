"""Assembly: from settings to a running service, in one place.

Nothing listens at import time; ``make_service`` returns a MultiService that
the CLI and the twistd plugin both start.
"""

from __future__ import annotations

import contextlib
import shlex
import sys
from collections.abc import Callable
from typing import Any

import attrs
from twisted.application import service
from twisted.internet import endpoints
from twisted.internet.error import ReactorNotRunning
from twisted.logger import Logger
from twisted.protocols.tls import TLSMemoryBIOFactory

from ldapbridge.config import ConfigError, Settings
from ldapbridge.directory.filesource import CsvFileSource
from ldapbridge.directory.httpclient import HttpClient
from ldapbridge.directory.httpsource import HttpSource
from ldapbridge.directory.model import Snapshot
from ldapbridge.directory.observers import FetchProgress, RefreshObserver
from ldapbridge.directory.passwords import HashPasswordChecker, PasswordChecker
from ldapbridge.directory.ratelimit import Pause
from ldapbridge.directory.refresh import Refresher
from ldapbridge.directory.refreshloop import RefreshService
from ldapbridge.directory.remotecheck import NoPasswordChecker, RemotePasswordChecker
from ldapbridge.directory.sources import MemberSource, SourceError
from ldapbridge.directory.store import SnapshotStore
from ldapbridge.ldap import dn, tls
from ldapbridge.ldap.server import BridgeFactory, DirectoryHolder, ServerLimits
from ldapbridge.ldap.servertypes import make_profile
from ldapbridge.ldap.tree import DirectoryTree, build_tree
from ldapbridge.service.exposure import check_exposure
from ldapbridge.service.logs import LogLevels
from ldapbridge.service.metrics import Metrics
from ldapbridge.service.reload import Reloader, ReloadHook, ReloadService
from ldapbridge.service.web import make_site

log = Logger(namespace="ldapbridge.service")


def make_source(
    settings: Settings,
    pause: Pause | None = None,
    observer: RefreshObserver | None = None,
    progress: FetchProgress | None = None,
) -> MemberSource:
    """The configured source; ``progress`` is told of each page a platform
    sends (an export file is read in one go and tells nothing)."""
    http = settings.source.http
    if http is not None:
        client = HttpClient(http, pause=pause, observer=observer)
        return HttpSource(http, client, progress=progress)
    return CsvFileSource(settings.source)


def make_checker(source: MemberSource) -> PasswordChecker:
    """Members of a platform are checked by it; of an export, by its hashes."""
    if not isinstance(source, HttpSource):
        return HashPasswordChecker()
    check = source.settings.password_check
    if check is None:
        return NoPasswordChecker(source.name)
    return RemotePasswordChecker(check, source.client)


def make_refresher(
    settings: Settings, source: MemberSource, observer: RefreshObserver | None = None
) -> Refresher:
    store = SnapshotStore(settings.snapshot.path)
    accept = (
        f"ldapbridge sync --accept-shrink --config {shlex.quote(str(settings.path))}"
    )
    return Refresher(
        source,
        settings.directory,
        settings.snapshot,
        store,
        observer=observer,
        accept_command=accept,
    )


def first_snapshot(refresher: Refresher) -> tuple[Snapshot, bool]:
    """The snapshot to serve at start, and whether to refresh at once.

    The last good snapshot on disk serves at once, refreshed in the
    background; without one, the first refresh must succeed (SourceError).
    """
    stored = refresher.load_stored()
    if stored is not None:
        log.info("serving the last good snapshot from disk until the refresh")
        return stored, True
    result = refresher.refresh()
    if result.snapshot is None:
        raise SourceError(result.message)
    return result.snapshot, False


# How long a thread may hold the interpreter while another waits for it.
# Snapshots are built and fetched in threads; Python's default (5 ms) would
# let a build hold up each lookup that long, several times per request.
SWITCH_INTERVAL_S = 0.001


def _share_the_interpreter_promptly() -> None:
    sys.setswitchinterval(SWITCH_INTERVAL_S)


def check_base_dn(settings: Settings) -> None:
    """Raise ConfigError naming [directory] base_dn if it is not a DN.

    config.py sits below the LDAP layer and cannot parse DNs, so the check
    happens here, before any member is loaded.
    """
    base_dn = settings.directory.base_dn
    try:
        dn.parse(base_dn)
    except dn.InvalidDN as e:
        raise ConfigError(
            f"[directory] base_dn: expected a DN such as dc=example,dc=com, "
            f"found {base_dn!r} ({e})"
        ) from None


def check_settings(settings: Settings) -> None:
    """Raise ConfigError for what only the LDAP layer can judge: the base DN,
    and attribute names that clash with the profile's own."""
    check_base_dn(settings)
    make_profile(settings.directory)


def make_tree(settings: Settings, snapshot: Snapshot) -> DirectoryTree:
    profile = make_profile(settings.directory)
    return build_tree(snapshot, profile, settings.services)


@attrs.define
class Feed:
    """Where members come from, for one config: the source, its refresher
    (which holds the last good snapshot and the shrink guard) and the way
    members' passwords are checked."""

    source: MemberSource
    refresher: Refresher
    checker: PasswordChecker
    pause: Pause


def make_feed(
    settings: Settings, pause: Pause, observer: RefreshObserver | None = None
) -> Feed:
    source = make_source(settings, pause, observer)
    refresher = make_refresher(settings, source, observer)
    return Feed(source, refresher, make_checker(source), pause)


class FeedLoader:
    """Reloads (SIGHUP) through a new feed, so they pass the shrink guard too."""

    def __init__(self, pause: Pause, observer: RefreshObserver) -> None:
        self.pause = pause
        self.observer = observer
        self.pending: Feed | None = None

    def load(self, settings: Settings) -> tuple[Snapshot, DirectoryTree]:
        """Blocking: refresh from the new config's source; raise SourceError
        or ConfigError to refuse the reload."""
        check_settings(settings)
        feed = make_feed(settings, self.pause, self.observer)
        feed.refresher.load_stored()
        result = feed.refresher.refresh()
        if not result.accepted or result.snapshot is None:
            raise SourceError(result.message)
        self.pending = feed
        return result.snapshot, make_tree(settings, result.snapshot)

    def commit_to(
        self, factory: BridgeFactory, refreshing: RefreshService[Any]
    ) -> Callable[[Settings], Callable[[], None]]:
        """A reload hook: once applied, refresh and check passwords anew."""

        def hook(settings: Settings) -> Callable[[], None]:
            feed = self.pending

            def commit() -> None:
                if feed is not None:
                    factory.checker = feed.checker
                    refreshing.refresher = feed.refresher

            return commit

        return hook


@attrs.define
class Bridge:
    """A running bridge's state: the settings in force and what is served.

    Changed only on the reactor thread, by ``serve``, so every operation sees
    one consistent directory.
    """

    settings: Settings
    holder: DirectoryHolder
    metrics: Metrics
    log_levels: LogLevels | None = None

    def serve(
        self, settings: Settings, snapshot: Snapshot, tree: DirectoryTree
    ) -> None:
        """Put a new directory in force in one step; open connections keep going."""
        self.settings = settings
        self.holder.tree = tree
        self.metrics.snapshot_published(snapshot)
        log.info(
            "serving {members} members and {groups} groups under {base}",
            members=len(snapshot.members),
            groups=len(snapshot.groups),
            base=settings.directory.base_dn,
        )


def server_endpoint(reactor: Any, address: str, port: int) -> Any:
    if ":" in address:
        return endpoints.TCP6ServerEndpoint(reactor, port, interface=address)
    return endpoints.TCP4ServerEndpoint(reactor, port, interface=address)


class ListenerService(service.Service):
    """Listen on an endpoint; a failure to listen stops the whole process.

    ``settings`` names the config keys that chose the address and port, so
    that the failure says what to change.
    """

    def __init__(
        self, reactor: Any, endpoint: Any, factory: Any, label: str, settings: str
    ):
        self.reactor = reactor
        self.endpoint = endpoint
        self.factory = factory
        self.label = label
        self.settings = settings
        self.port: Any = None
        self.failed = False

    def startService(self) -> None:
        super().startService()
        d = self.endpoint.listen(self.factory)
        d.addCallbacks(self._listening, self._cannot_listen)

    def _listening(self, port: Any) -> None:
        self.port = port
        address = port.getHost()
        log.info(
            "listening for {label} on {host}:{port}",
            label=self.label,
            host=address.host,
            port=address.port,
        )

    def _cannot_listen(self, failure: Any) -> None:
        self.failed = True
        log.critical(
            "cannot listen for {label}: {error} (set by {settings})",
            label=self.label,
            error=failure.getErrorMessage(),
            settings=self.settings,
        )
        # Listening fails inside startService, which `ldapbridge serve` calls
        # before the reactor runs: stopping it then would raise and leave the
        # process running, so stop it once it runs.
        self.reactor.callWhenRunning(_stop_once, self.reactor)

    def stopService(self) -> Any:
        super().stopService()
        if self.port is not None:
            return self.port.stopListening()
        return None


def _stop_once(reactor: Any) -> None:
    """Stop the reactor; a second listener that failed finds it stopping."""
    with contextlib.suppress(ReactorNotRunning):
        reactor.stop()


class BridgeService(service.MultiService):
    """The whole bridge: LDAP listener, optional metrics listener, reloads."""

    def __init__(self, bridge: Bridge) -> None:
        super().__init__()
        self.bridge = bridge
        self.reloader: Reloader | None = None


def make_service(
    settings: Settings, reactor: Any, log_levels: LogLevels | None = None
) -> BridgeService:
    """Build the whole bridge: load the directory, then the listeners.

    Raises ConfigError for a base_dn that is not a DN, attribute names the
    profile already uses, TLS files that cannot be used or demo passwords
    that would be exposed; SourceError when the first snapshot cannot be
    loaded.
    """
    check_settings(settings)
    _share_the_interpreter_promptly()
    metrics = Metrics()
    pause = Pause()
    feed = make_feed(settings, pause, metrics)
    bridge, refresh_now = _first_bridge(settings, feed, metrics, log_levels)

    top = BridgeService(bridge)
    server_tls = make_tls(settings)
    factory = _make_factory(settings, bridge, feed.checker, server_tls, reactor)
    current_tls = tls.CurrentTls(server_tls) if server_tls is not None else None
    _add_ldap_listener(top, settings, reactor, factory)
    add_ldaps_listener(top, settings, reactor, factory, current_tls)
    _add_metrics_listener(top, bridge, reactor)
    refreshing = _add_refresh(top, bridge, feed, reactor, refresh_now)

    loader = FeedLoader(pause, metrics)
    top.reloader = Reloader(bridge, reactor, loader.load)
    top.reloader.hooks.extend(_reload_hooks(loader, factory, refreshing, current_tls))
    ReloadService(top.reloader).setServiceParent(top)
    return top


def _first_bridge(
    settings: Settings,
    feed: Feed,
    metrics: Metrics,
    log_levels: LogLevels | None,
) -> tuple[Bridge, bool]:
    """A bridge serving the first snapshot, and whether to refresh at once;
    SourceError without a snapshot, ConfigError for exposed demo passwords."""
    snapshot, refresh_now = first_snapshot(feed.refresher)
    check_exposure(settings, snapshot)
    bridge = Bridge(settings, DirectoryHolder(make_tree(settings, snapshot)), metrics)
    bridge.log_levels = log_levels
    bridge.serve(settings, snapshot, bridge.holder.tree)
    return bridge, refresh_now


def _make_factory(
    settings: Settings,
    bridge: Bridge,
    checker: PasswordChecker,
    server_tls: tls.ServerTls | None,
    reactor: Any,
) -> BridgeFactory:
    """The LDAP server for the bridge's directory, shared by LDAP and LDAPS."""
    return BridgeFactory(
        bridge.holder,
        checker,
        ServerLimits.from_settings(settings.limits),
        observer=bridge.metrics,
        security=settings.security,
        server_tls=server_tls,
        clock=reactor,
    )


def _add_ldap_listener(
    top: service.MultiService, settings: Settings, reactor: Any, factory: BridgeFactory
) -> None:
    """Plain LDAP (StartTLS when it is on) on ``[server] ldap_port``."""
    endpoint = server_endpoint(
        reactor, settings.server.bind_address, settings.server.ldap_port
    )
    ListenerService(
        reactor, endpoint, factory, "LDAP", "[server] bind_address and ldap_port"
    ).setServiceParent(top)


def _reload_hooks(
    loader: FeedLoader,
    factory: BridgeFactory,
    refreshing: RefreshService[Any],
    current_tls: tls.CurrentTls | None,
) -> list[ReloadHook]:
    """What a reload applies, in this order: the new feed, [limits] and
    [security], then the [tls] files when TLS is on."""
    hooks = [loader.commit_to(factory, refreshing), limits_reload_hook(factory)]
    if current_tls is not None:
        hooks.append(tls_reload_hook(factory, current_tls))
    return hooks


def limits_reload_hook(
    factory: BridgeFactory,
) -> Callable[[Settings], Callable[[], None]]:
    """A reload hook: the new [limits] and [security] settings."""

    def hook(settings: Settings) -> Callable[[], None]:
        limits = ServerLimits.from_settings(settings.limits)
        return lambda: factory.apply(limits, settings.security)

    return hook


def tls_reload_hook(
    factory: BridgeFactory, current: tls.CurrentTls
) -> Callable[[Settings], Callable[[], None]]:
    """A reload hook: read the [tls] files again (a renewed certificate);
    ConfigError refuses the reload and the old certificate stays."""

    def hook(settings: Settings) -> Callable[[], None]:
        renewed = make_tls(settings)

        def commit() -> None:
            if renewed is not None:
                factory.tls = renewed
                current.current = renewed

        return commit

    return hook


def _add_metrics_listener(top: BridgeService, bridge: Bridge, reactor: Any) -> None:
    """Serve /metrics and /healthz when ``[metrics] port`` is set."""
    settings = bridge.settings.metrics
    if settings.port is None:
        return
    site = make_site(bridge.metrics, lambda: bridge.settings.metrics.max_snapshot_age_s)
    endpoint = server_endpoint(reactor, settings.bind_address, settings.port)
    ListenerService(
        reactor, endpoint, site, "metrics", "[metrics] bind_address and port"
    ).setServiceParent(top)


def _add_refresh(
    top: BridgeService, bridge: Bridge, feed: Feed, reactor: Any, run_now: bool
) -> RefreshService[tuple[Snapshot, DirectoryTree]]:
    """Refresh on the configured interval; publish each new directory."""

    def prepare(snapshot: Snapshot) -> tuple[Snapshot, DirectoryTree]:
        return snapshot, make_tree(bridge.settings, snapshot)

    def install(prepared: tuple[Snapshot, DirectoryTree]) -> None:
        log.info("now serving the refreshed directory")
        bridge.serve(bridge.settings, *prepared)

    refreshing = RefreshService(
        reactor,
        feed.refresher,
        bridge.settings.snapshot.refresh_interval_s,
        prepare=prepare,
        install=install,
        run_now=run_now,
        pause=feed.pause,
    )
    refreshing.setServiceParent(top)
    return refreshing


def make_tls(settings: Settings) -> tls.ServerTls | None:
    """The TLS context, when LDAPS or StartTLS is on; raises ConfigError."""
    if settings.server.ldaps_port is None and not settings.tls.start_tls:
        return None
    return tls.load(settings.tls, settings.server.bind_address)


def add_ldaps_listener(
    top: service.MultiService,
    settings: Settings,
    reactor: Any,
    factory: BridgeFactory,
    current_tls: tls.CurrentTls | None,
) -> None:
    """LDAPS: the same server behind TLS from the first byte (RFC 4513 3)."""
    if settings.server.ldaps_port is None or current_tls is None:
        return
    endpoint = server_endpoint(
        reactor, settings.server.bind_address, settings.server.ldaps_port
    )
    wrapped = TLSMemoryBIOFactory(current_tls, False, factory)
    wrapped.noisy = False
    ListenerService(
        reactor, endpoint, wrapped, "LDAPS", "[server] bind_address and ldaps_port"
    ).setServiceParent(top)
