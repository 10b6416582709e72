"""Assembly: from settings to a running service, in one place.

Nothing listens at import time; ``make_service`` returns a MultiService that
the CLI and the twistd plugin both start.
"""

from __future__ import annotations

from typing import Any

import attrs
from twisted.application import service
from twisted.internet import endpoints
from twisted.logger import Logger

from ldapbridge.config import ConfigError, Settings
from ldapbridge.directory.filesource import CsvFileSource
from ldapbridge.directory.model import Snapshot
from ldapbridge.directory.passwords import HashPasswordChecker, PasswordChecker
from ldapbridge.directory.snapshot import build_snapshot
from ldapbridge.directory.sources import MemberSource
from ldapbridge.ldap import dn
from ldapbridge.ldap.server import BridgeFactory, DirectoryHolder
from ldapbridge.ldap.servertypes import make_profile
from ldapbridge.ldap.tree import DirectoryTree, build_tree
from ldapbridge.service.logs import LogLevels
from ldapbridge.service.metrics import Metrics
from ldapbridge.service.reload import Reloader, ReloadService
from ldapbridge.service.web import make_site

log = Logger(namespace="ldapbridge.service")


def make_source(settings: Settings) -> MemberSource:
    return CsvFileSource(settings.source)


def make_checker(settings: Settings) -> PasswordChecker:
    """How members' passwords are checked: against hashes in the export."""
    return HashPasswordChecker()


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


def make_tree(settings: Settings, snapshot: Snapshot) -> DirectoryTree:
    profile = make_profile(settings.directory)
    return build_tree(snapshot, profile, settings.services)


def load_directory(settings: Settings) -> tuple[Snapshot, DirectoryTree]:
    """Blocking: read the source and build the tree.

    Raises ConfigError for a base_dn that is not a DN, SourceError when the
    source cannot be read.
    """
    check_base_dn(settings)
    snapshot = load_snapshot(settings)
    return snapshot, make_tree(settings, snapshot)


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
        # Listening fails inside startService, which `ldapbridge serve` calls
        # before the reactor runs: stopping it then would raise and leave the
        # process running, so stop it once it runs.
        self.reactor.callWhenRunning(self.reactor.stop)

    def stopService(self) -> Any:
        super().stopService()
        if self.port is not None:
            return self.port.stopListening()
        return None


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

    Raises ConfigError for a base_dn that is not a DN, SourceError when the
    first snapshot cannot be loaded.
    """
    metrics = Metrics()
    snapshot, tree = load_directory(settings)
    bridge = Bridge(settings, DirectoryHolder(tree), metrics, log_levels)
    bridge.serve(settings, snapshot, tree)

    top = BridgeService(bridge)
    factory = BridgeFactory(bridge.holder, make_checker(settings), observer=metrics)
    endpoint = server_endpoint(
        reactor, settings.server.bind_address, settings.server.ldap_port
    )
    ListenerService(reactor, endpoint, factory, "LDAP").setServiceParent(top)
    _add_metrics_listener(top, bridge, reactor)
    top.reloader = Reloader(bridge, reactor, load_directory)
    ReloadService(top.reloader).setServiceParent(top)
    return top


def _add_metrics_listener(top: BridgeService, bridge: Bridge, reactor: Any) -> None:
    """Serve /metrics and /healthz when ``[metrics] port`` is set."""
    settings = bridge.settings.metrics
    if settings.port is None:
        return
    site = make_site(bridge.metrics, lambda: bridge.settings.metrics.max_snapshot_age_s)
    endpoint = server_endpoint(reactor, settings.bind_address, settings.port)
    ListenerService(reactor, endpoint, site, "metrics").setServiceParent(top)
