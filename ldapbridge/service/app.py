"""Assembly: from settings to a running service, in one place.

Nothing listens at import time; ``make_service`` returns a MultiService that
the CLI and the twistd plugin both start.
"""

from __future__ import annotations

from typing import Any

from twisted.application import service
from twisted.internet import endpoints
from twisted.logger import Logger

from ldapbridge.config import Settings
from ldapbridge.directory.filesource import CsvFileSource
from ldapbridge.directory.httpclient import HttpClient
from ldapbridge.directory.httpsource import HttpSource
from ldapbridge.directory.model import Snapshot
from ldapbridge.directory.observers import RefreshObserver
from ldapbridge.directory.passwords import HashPasswordChecker, PasswordChecker
from ldapbridge.directory.ratelimit import Pause
from ldapbridge.directory.refresh import Refresher
from ldapbridge.directory.refreshloop import RefreshService
from ldapbridge.directory.remotecheck import NoPasswordChecker, RemotePasswordChecker
from ldapbridge.directory.snapshot import build_snapshot
from ldapbridge.directory.sources import MemberSource, SourceError
from ldapbridge.directory.store import SnapshotStore
from ldapbridge.ldap.profiles import make_profile
from ldapbridge.ldap.server import BridgeFactory, DirectoryHolder
from ldapbridge.ldap.tree import DirectoryTree, build_tree

log = Logger(namespace="ldapbridge.service")


def make_source(
    settings: Settings,
    pause: Pause | None = None,
    observer: RefreshObserver | None = None,
) -> MemberSource:
    http = settings.source.http
    if http is not None:
        return HttpSource(http, HttpClient(http, pause=pause, observer=observer))
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
    return Refresher(
        source, settings.directory, settings.snapshot, store, observer=observer
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


def load_snapshot(settings: Settings) -> Snapshot:
    """Fetch members from the configured source; raises SourceError."""
    records = make_source(settings).fetch()
    snapshot = build_snapshot(records, settings.directory)
    for skipped in snapshot.skipped:
        log.warn(
            "skipped member record {member_id}: {reason}",
            member_id=skipped.member_id,
            reason=skipped.reason,
        )
    return snapshot


def make_tree(settings: Settings, snapshot: Snapshot) -> DirectoryTree:
    profile = make_profile(settings.directory)
    return build_tree(snapshot, profile, settings.services)


def server_endpoint(reactor: Any, address: str, port: int) -> Any:
    if ":" in address:
        return endpoints.TCP6ServerEndpoint(reactor, port, interface=address)
    return endpoints.TCP4ServerEndpoint(reactor, port, interface=address)


class ListenerService(service.Service):
    """Listen on an endpoint; a failure to listen stops the whole process."""

    def __init__(self, reactor: Any, endpoint: Any, factory: Any, label: str):
        self.reactor = reactor
        self.endpoint = endpoint
        self.factory = factory
        self.label = label
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
            "cannot listen for {label}: {error}",
            label=self.label,
            error=failure.getErrorMessage(),
        )
        self.reactor.stop()

    def stopService(self) -> Any:
        super().stopService()
        if self.port is not None:
            return self.port.stopListening()
        return None


def make_service(settings: Settings, reactor: Any) -> service.MultiService:
    """Build the whole bridge: load the directory, then the LDAP listener.

    Raises SourceError when the first snapshot cannot be loaded.
    """
    pause = Pause()
    source = make_source(settings, pause)
    refresher = make_refresher(settings, source)
    snapshot, refresh_now = first_snapshot(refresher)
    tree = make_tree(settings, snapshot)
    log.info(
        "serving {members} members and {groups} groups under {base}",
        members=len(snapshot.members),
        groups=len(snapshot.groups),
        base=settings.directory.base_dn,
    )

    holder = DirectoryHolder(tree)
    factory = BridgeFactory(holder, make_checker(source))
    top = service.MultiService()
    endpoint = server_endpoint(
        reactor, settings.server.bind_address, settings.server.ldap_port
    )
    ListenerService(reactor, endpoint, factory, "LDAP").setServiceParent(top)
    RefreshService(
        reactor,
        refresher,
        settings.snapshot.refresh_interval_s,
        prepare=lambda snapshot: make_tree(settings, snapshot),
        install=lambda new_tree: install_tree(holder, new_tree),
        run_now=refresh_now,
        pause=pause,
    ).setServiceParent(top)
    return top


def install_tree(holder: DirectoryHolder, tree: DirectoryTree) -> None:
    """On the reactor: serve the new tree from the next request on."""
    holder.tree = tree
    log.info(
        "now serving the refreshed directory ({entries} entries)", entries=len(tree)
    )
