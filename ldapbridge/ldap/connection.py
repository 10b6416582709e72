"""One client connection's bytes: framing, limits, flow control, closing.

The LDAP operations live in ldapbridge.ldap.server; this base class turns the
byte stream into decoded messages and keeps each client within its bounds:
message size and shape (ldapbridge.ldap.framing), open connections, idle
time and operations in progress.  A client that breaks them loses its own
connection, and only that.
"""

from __future__ import annotations

import itertools
from typing import Any

import attrs
from ldaptor.protocols import pureber, pureldap
from ldaptor.protocols.ldap.ldapserver import BaseLDAPServer
from OpenSSL import SSL
from twisted.internet import defer, protocol
from twisted.internet.interfaces import ISSLTransport
from twisted.logger import Logger
from twisted.protocols.policies import TimeoutMixin
from twisted.python.failure import Failure

from ldapbridge.config import LimitsSettings
from ldapbridge.ldap import ber, decode, framing, oids, results

log = Logger(namespace="ldapbridge.ldap")

EXTENDED_RESPONSE = 0x78

_session_ids = itertools.count(1)


@attrs.frozen
class ServerLimits:
    """Bounds on one client's demands (README, "Security")."""

    max_message_bytes: int = 1024 * 1024
    max_paged_searches: int = 16
    max_message_elements: int = 20000
    max_connections: int = 1000
    idle_timeout_s: float = 600.0
    max_outstanding: int = 16

    @classmethod
    def from_settings(cls, settings: LimitsSettings) -> ServerLimits:
        return cls(
            max_message_bytes=settings.max_message_bytes,
            max_message_elements=settings.max_message_elements,
            max_connections=settings.max_connections,
            idle_timeout_s=settings.idle_timeout_s,
            max_outstanding=settings.max_outstanding_operations,
        )

    def frame_limits(self) -> framing.FrameLimits:
        return framing.FrameLimits(
            max_bytes=self.max_message_bytes, max_elements=self.max_message_elements
        )


class ConnectionFactory(protocol.ServerFactory):
    """What the connections of one server share: limits, clock, their count."""

    noisy = False  # one "starting factory" line per listener is noise

    def __init__(self, limits: ServerLimits | None, clock: Any) -> None:
        if clock is None:
            from twisted.internet import reactor as clock
        self.limits = limits or ServerLimits()
        self.frame_limits = self.limits.frame_limits()
        self.clock = clock
        self.connections = 0


class LDAPConnection(TimeoutMixin, BaseLDAPServer):
    """Bytes in, decoded requests to ``handle``; limits enforced on the way.

    It is also the producer of its own replies: when the client stops reading
    and Twisted's write buffer fills, reading stops too, so a client cannot
    make the server hold unbounded replies.
    """

    def __init__(self, factory: ConnectionFactory) -> None:
        super().__init__()
        self.connection_factory = factory
        self.limits = factory.limits
        self.buffer: bytes = b""
        self.session = next(_session_ids)
        self.peer = ""
        self.peer_host = ""
        self.tls_active = False
        self.outstanding: dict[int, defer.Deferred[Any]] = {}
        self.paused = False
        self.counted = False

    def callLater(self, period: float, func: Any) -> Any:
        """TimeoutMixin's clock: the factory's, so tests can drive it."""
        return self.connection_factory.clock.callLater(period, func)

    def handle(self, message: Any) -> None:
        """Answer one decoded LDAPMessage (subclasses)."""
        raise NotImplementedError

    def connectionMade(self) -> None:
        super().connectionMade()
        peer = self.transport.getPeer()
        self.peer_host = str(getattr(peer, "host", "?"))
        self.peer = f"{self.peer_host}:{getattr(peer, 'port', '?')}"
        self.tls_active = ISSLTransport.providedBy(self.transport)

        if self.connection_factory.connections >= self.limits.max_connections:
            # RFC 4511 4.4.1: a notice of disconnection says why.
            self._drop("too many connections", results.BUSY)
            return
        self.connection_factory.connections += 1
        self.counted = True
        self.transport.registerProducer(self, True)
        self.setTimeout(self.limits.idle_timeout_s or None)

    def connectionLost(self, reason: Failure = protocol.connectionDone) -> None:
        if reason.check(SSL.Error):
            # A client that does not trust the certificate closes the
            # handshake; without this line the log would show nothing at all.
            log.warn(
                "session={session} peer={peer} TLS failed: {error}",
                session=self.session,
                peer=self.peer,
                error=tls_failure(reason.value),
            )
        if self.counted:
            self.connection_factory.connections -= 1
            self.counted = False
        self.setTimeout(None)
        super().connectionLost(reason)

    def timeoutConnection(self) -> None:
        log.info(
            "session={session} peer={peer} closing idle connection",
            session=self.session,
            peer=self.peer,
        )
        self.connected = 0
        self.transport.abortConnection()

    # -- flow control (IPushProducer) ------------------------------------

    def pauseProducing(self) -> None:
        self.paused = True
        self.transport.pauseProducing()

    def resumeProducing(self) -> None:
        self.paused = False
        self.transport.resumeProducing()
        self._process()

    def stopProducing(self) -> None:
        self.paused = True

    # -- framing ---------------------------------------------------------

    def dataReceived(self, data: bytes) -> None:
        self.resetTimeout()
        self.buffer += data
        self._process()

    def _process(self) -> None:
        while self.connected and not self.paused and self.buffer:
            message = self._next_message()
            if message is None:
                return
            self.handle(message)

    def _next_message(self) -> Any:
        """Decode one message from the buffer; None when more bytes are needed.

        Bytes that cannot be an acceptable LDAP message close this connection
        only (DESIGN.md, safety rules), as soon as that is known.
        """
        try:
            size = framing.next_frame(self.buffer, self.connection_factory.frame_limits)
        except framing.FramingError as e:
            return self._drop(str(e))
        if size is None:
            return None

        # Searches, most of what PaperCut sends, skip ldaptor's slower decoder.
        fast = decode.decode_search(self.buffer[:size])
        if fast is not None and fast[1] == size:
            self.buffer = self.buffer[size:]
            return fast[0]

        try:
            message, used = pureber.berDecodeObject(self.berdecoder, self.buffer[:size])
        except Exception as e:
            return self._drop("undecodable message", detail=type(e).__name__)
        self.buffer = self.buffer[size:]
        if message is None or used != size:
            return self._drop("undecodable message")
        if not isinstance(
            getattr(message, "value", None), pureldap.LDAPProtocolRequest
        ):
            return self._drop("not an LDAP request")
        return message

    def _drop(
        self, reason: str, code: int = results.PROTOCOL_ERROR, detail: str = ""
    ) -> None:
        """Send the notice of disconnection with ``reason`` and close.

        ``detail`` (what broke inside the decoder) goes to the log only:
        internal error text never reaches a client.
        """
        log.warn(
            "session={session} peer={peer} closing connection: {reason}",
            session=self.session,
            peer=self.peer,
            reason=f"{reason} ({detail})" if detail else reason,
        )
        notice = ber.result(
            EXTENDED_RESPONSE,
            code,
            reason,
            extra=ber.octets(oids.NOTICE_OF_DISCONNECTION, tag=0x8A),
        )
        self.transport.write(ber.message(0, notice))
        self._close()

    def _close(self) -> None:
        """Close after the pending replies; reading stops at once."""
        self.buffer = b""
        self.connected = 0
        # A registered producer would hold the close until it resumes.
        self.transport.unregisterProducer()
        self.transport.loseConnection()

    # -- operations in progress ---------------------------------------

    def over_capacity(self) -> bool:
        return len(self.outstanding) >= self.limits.max_outstanding

    def track(self, message_id: int, d: defer.Deferred[Any]) -> None:
        """Count ``d`` as in progress until it fires."""
        if not d.called:
            self.outstanding[message_id] = d
            d.addBoth(self._completed, message_id)

    def _completed(self, result: Any, message_id: int) -> None:
        self.outstanding.pop(message_id, None)


def tls_failure(error: BaseException | None) -> str:
    """The reasons OpenSSL gives for a failed TLS session, e.g. 'unknown ca'."""
    details = error.args[0] if error is not None and error.args else ()
    if not isinstance(details, list):
        return str(details) or type(error).__name__
    reasons = [str(item[-1]) for item in details if isinstance(item, tuple) and item]
    return "; ".join(reasons) or type(error).__name__
