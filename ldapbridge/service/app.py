"""Assembly: from settings to a running service, in one place.

Nothing listens at import time; ``make_service`` returns a MultiService that
the CLI and the twistd plugin both start.
"""

from __future__ import annotations

from typing import Any

from twisted.application import service
from twisted.internet import endpoints
from twisted.logger import Logger
from twisted.protocols.tls import TLSMemoryBIOFactory

from ldapbridge.config import Settings
from ldapbridge.directory.filesource import CsvFileSource
from ldapbridge.directory.model import Snapshot
from ldapbridge.directory.passwords import HashPasswordChecker
from ldapbridge.directory.snapshot import build_snapshot
from ldapbridge.directory.sources import MemberSource
from ldapbridge.ldap import tls
from ldapbridge.ldap.profiles import make_profile
from ldapbridge.ldap.server import BridgeFactory, DirectoryHolder, ServerLimits
from ldapbridge.ldap.tree import DirectoryTree, build_tree
from ldapbridge.service.exposure import check_exposure

log = Logger(namespace="ldapbridge.service")


def make_source(settings: Settings) -> MemberSource:
    return CsvFileSource(settings.source)


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

    Raises SourceError when the first snapshot cannot be loaded, ConfigError
    when the TLS files cannot be used or demo passwords would be exposed.
    """
    snapshot = load_snapshot(settings)
    check_exposure(settings, snapshot)
    tree = make_tree(settings, snapshot)
    log.info(
        "serving {members} members and {groups} groups under {base}",
        members=len(snapshot.members),
        groups=len(snapshot.groups),
        base=settings.directory.base_dn,
    )

    server_tls = make_tls(settings)
    factory = BridgeFactory(
        DirectoryHolder(tree),
        HashPasswordChecker(),
        ServerLimits.from_settings(settings.limits),
        settings.security,
        server_tls,
        reactor,
    )
    top = service.MultiService()
    endpoint = server_endpoint(
        reactor, settings.server.bind_address, settings.server.ldap_port
    )
    ListenerService(reactor, endpoint, factory, "LDAP").setServiceParent(top)
    add_ldaps_listener(top, settings, reactor, factory, server_tls)
    return top


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
    server_tls: tls.ServerTls | None,
) -> None:
    """LDAPS: the same server behind TLS from the first byte (RFC 4513 3)."""
    if settings.server.ldaps_port is None or server_tls is None:
        return
    endpoint = server_endpoint(
        reactor, settings.server.bind_address, settings.server.ldaps_port
    )
    wrapped = TLSMemoryBIOFactory(server_tls.options, False, factory)
    wrapped.noisy = False
    ListenerService(reactor, endpoint, wrapped, "LDAPS").setServiceParent(top)
