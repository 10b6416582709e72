"""The LDAP protocol: one BridgeProtocol per client connection.

ldaptor supplies the BER decoder and request classes; dispatch, access rules,
controls, paging and replies are the bridge's own, because ldaptor's server
refuses controls, answers abandon requests and has no size limits (see
DESIGN.md, "Building on ldaptor").  Every operation ends in exactly one
summary log line.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

import attrs
from ldaptor.protocols import pureldap
from twisted.internet import defer
from twisted.internet.protocol import connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure

from ldapbridge.config import SecuritySettings
from ldapbridge.directory.passwords import PasswordChecker
from ldapbridge.ldap import (
    ber,
    controls,
    decode,
    dn,
    filters,
    oids,
    results,
    schema,
    tls,
)
from ldapbridge.ldap.binds import BindOutcome, authenticate
from ldapbridge.ldap.connection import (
    ConnectionFactory,
    LDAPConnection,
    ServerLimits,
)
from ldapbridge.ldap.paging import PagedSearches
from ldapbridge.ldap.results import LDAPError
from ldapbridge.ldap.search import SearchRequest, Selection
from ldapbridge.ldap.throttle import BindThrottle
from ldapbridge.ldap.tree import DirectoryTree, Identity, NoSuchEntry
from ldapbridge.text import printable, shorten

log = Logger(namespace="ldapbridge.ldap")


# Response tags (RFC 4511 4.2 to 4.14).
BIND_RESPONSE = 0x61
SEARCH_DONE = 0x65
MODIFY_RESPONSE = 0x67
ADD_RESPONSE = 0x69
DELETE_RESPONSE = 0x6B
MODIFY_DN_RESPONSE = 0x6D
COMPARE_RESPONSE = 0x6F
EXTENDED_RESPONSE = 0x78

READ_ONLY = "the directory is read-only: change members in the coworking platform"
WRITE_RESPONSES = {
    pureldap.LDAPModifyRequest: ("modify", MODIFY_RESPONSE),
    pureldap.LDAPAddRequest: ("add", ADD_RESPONSE),
    pureldap.LDAPDelRequest: ("delete", DELETE_RESPONSE),
    pureldap.LDAPModifyDNRequest: ("modrdn", MODIFY_DN_RESPONSE),
}

# The response of each request that gets one (abandon and unbind get none).
RESPONSE_TAGS = {
    pureldap.LDAPBindRequest: BIND_RESPONSE,
    pureldap.LDAPSearchRequest: SEARCH_DONE,
    pureldap.LDAPCompareRequest: COMPARE_RESPONSE,
    pureldap.LDAPExtendedRequest: EXTENDED_RESPONSE,
    **{request: tag for request, (_, tag) in WRITE_RESPONSES.items()},
}

BUSY = "too many operations in progress on this connection"


@attrs.define
class DirectoryHolder:
    """The tree being served; a refresh replaces ``tree`` in one assignment."""

    tree: DirectoryTree


@attrs.define
class Operation:
    """What the summary log line of one operation reports."""

    name: str
    message_id: int
    dn: str = ""
    scope: int | None = None
    filter: str = ""
    code: int = results.SUCCESS
    entries: int = 0
    reason: str = ""
    started: float = attrs.field(factory=time.monotonic)


class OperationObserver(Protocol):
    """Told of connections and of each finished operation (the service's metrics)."""

    def connection_opened(self) -> None: ...

    def connection_closed(self) -> None: ...

    def operation_finished(self, op: Operation, elapsed_s: float) -> None: ...


class Unobserved:
    """The observer of a factory nobody watches."""

    def connection_opened(self) -> None:
        pass

    def connection_closed(self) -> None:
        pass

    def operation_finished(self, op: Operation, elapsed_s: float) -> None:
        pass


class BridgeFactory(ConnectionFactory):
    def __init__(
        self,
        holder: DirectoryHolder,
        checker: PasswordChecker,
        limits: ServerLimits | None = None,
        observer: OperationObserver | None = None,
        security: SecuritySettings | None = None,
        server_tls: tls.ServerTls | None = None,
        clock: Any = None,
    ) -> None:
        super().__init__(limits, clock)
        self.holder = holder
        self.checker = checker
        self.observer: OperationObserver = observer or Unobserved()
        self.security = security or SecuritySettings()
        self.tls = server_tls
        self.throttle = BindThrottle(self.security, self.clock)

    def apply(self, limits: ServerLimits, security: SecuritySettings) -> None:
        """Put reloaded settings in force: limits for connections opened from
        now on, security for every bind from now on."""
        if limits != self.limits:
            self.limits = limits
            self.frame_limits = limits.frame_limits()
        if security != self.security:
            self.security = security
            # Failures counted under the old thresholds would mean something
            # else under the new ones: counting starts again.
            self.throttle = BindThrottle(security, self.clock)

    def buildProtocol(self, addr: Any) -> BridgeProtocol:
        p = BridgeProtocol(self)
        p.factory = self
        return p


class BridgeProtocol(LDAPConnection):
    """One client connection: answer its requests, log each one."""

    def __init__(self, factory: BridgeFactory) -> None:
        super().__init__(factory)
        self.bridge = factory
        self.identity: Identity | None = None
        self.bound_dn = ""
        self.paged = PagedSearches(factory.limits.max_paged_searches)
        self.handlers = self._handlers()

    def connectionMade(self) -> None:
        super().connectionMade()
        self.bridge.observer.connection_opened()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        super().connectionLost(reason)
        self.bridge.observer.connection_closed()

    # -- dispatch --------------------------------------------------------

    def handle(self, message: Any) -> None:
        request = message.value
        message_id = message.id
        handler = self.handlers.get(type(request), self._handle_unknown)
        response_tag = RESPONSE_TAGS.get(type(request))
        if response_tag is not None and self.over_capacity():
            self._send(message_id, ber.result(response_tag, results.BUSY, BUSY))
            return

        if isinstance(request, pureldap.LDAPBindRequest) and self.outstanding:
            # RFC 4511 4.2.1: earlier operations complete before a bind.
            earlier = defer.DeferredList(list(self.outstanding.values()))
            d = earlier.addCallback(
                lambda _: handler(request, message.controls, message_id)
            )
        else:
            d = defer.maybeDeferred(handler, request, message.controls, message_id)
        d.addErrback(self._unexpected, message_id)
        self.track(message_id, d)

    def _handlers(self) -> dict[type, Any]:
        handlers: dict[type, Any] = {
            pureldap.LDAPBindRequest: self._handle_bind,
            pureldap.LDAPUnbindRequest: self._handle_unbind,
            pureldap.LDAPSearchRequest: self._handle_search,
            decode.SearchRequestValues: self._handle_search,
            pureldap.LDAPCompareRequest: self._handle_compare,
            pureldap.LDAPAbandonRequest: self._handle_abandon,
            pureldap.LDAPExtendedRequest: self._handle_extended,
            pureldap.LDAPPasswordModifyRequest: self._handle_extended,
            pureldap.LDAPStartTLSRequest: self._handle_extended,
        }
        for request_type in WRITE_RESPONSES:
            handlers[request_type] = self._handle_write
        return handlers

    def _unexpected(self, failure: Failure, message_id: int) -> None:
        log.failure(
            "session={session} unexpected failure", failure, session=self.session
        )
        self._send(
            message_id,
            ber.result(EXTENDED_RESPONSE, results.OTHER, "internal server error"),
        )

    def _send(self, message_id: int, operation: bytes, ctrls: bytes = b"") -> None:
        if self.connected:
            self.transport.write(ber.message(message_id, operation, ctrls))

    def _send_entries(
        self,
        message_id: int,
        entries: list[Any],
        selection: Selection,
        privileged: bool,
    ) -> None:
        """Write search result entries in one call: one syscall, not one each."""
        if self.connected and entries:
            encoded = (selection.encode(e, privileged) for e in entries)
            self.transport.writeSequence(ber.messages(message_id, encoded))

    def _finish(self, op: Operation) -> None:
        """Write the one summary line of an operation, and count it.

        Log line and metrics take the same values here, so they cannot disagree.
        """
        elapsed_s = time.monotonic() - op.started
        log.info(
            "session={session} peer={peer} op={op} msgid={msgid} dn={dn!r} "
            "scope={scope} filter={filter} result={result} entries={entries} "
            "reason={reason} ms={ms:.1f}",
            session=self.session,
            peer=self.peer,
            op=op.name,
            msgid=op.message_id,
            dn=shorten(op.dn),
            scope=op.scope,
            filter=printable(op.filter),
            result=op.code,
            entries=op.entries,
            reason=printable(op.reason),
            ms=elapsed_s * 1000,
            bound=self.bound_dn,
        )
        self.bridge.observer.operation_finished(op, elapsed_s)

    def _fail(self, op: Operation, error: BaseException) -> tuple[int, str]:
        """Map an exception to its result; log internal errors in full."""
        op.code, message = results.to_result(error)
        if results.is_internal(error):
            log.failure(
                "session={session} internal error in {op}",
                Failure(error),
                session=self.session,
                op=op.name,
            )
            op.reason = "internal"
        return op.code, message

    # -- bind ------------------------------------------------------------

    @defer.inlineCallbacks
    def _handle_bind(self, request: Any, ctrls: Any, message_id: int) -> Any:
        op = Operation("bind", message_id, dn=_text(request.dn))
        self.identity, self.bound_dn = None, ""
        # A paged search's later pages were chosen for the identity that
        # started it; a bind ends that identity, so it ends them too
        # (RFC 4511 4.2.1: operations before a bind complete or are abandoned).
        self.paged.clear()
        try:
            controls.parse(ctrls)
            self._check_confidentiality(request)
            outcome: BindOutcome = yield authenticate(
                self.bridge.holder.tree,
                self.bridge.checker,
                request,
                self.bridge.throttle,
                self.peer_host,
            )
        except Exception as e:
            code, message = self._fail(op, e)
            op.reason = op.reason or "error"
        else:
            code, message, op.reason = outcome.code, outcome.message, outcome.reason
            op.code = code
            if code == results.SUCCESS and outcome.identity is not None:
                # The entry's own DN, also after a bind as user@domain.
                entry = self.bridge.holder.tree.lookup(outcome.identity.ndn)
                self.identity = outcome.identity
                self.bound_dn = entry.dn if entry is not None else op.dn
        self._send(message_id, ber.result(BIND_RESPONSE, code, message))
        self._finish(op)

    def _check_confidentiality(self, request: Any) -> None:
        """Refuse a password sent in cleartext from afar (RFC 4513 6.3.1)."""
        if self.tls_active or request.sasl or not request.auth:
            return
        if not tls.cleartext_password_allowed(self.bridge.security, self.peer_host):
            raise LDAPError(
                results.CONFIDENTIALITY_REQUIRED,
                "a password needs TLS here: use ldaps:// or StartTLS",
            )

    def _handle_unbind(self, request: Any, ctrls: Any, message_id: int) -> None:
        self._finish(Operation("unbind", message_id))
        self._close()

    def _handle_abandon(self, request: Any, ctrls: Any, message_id: int) -> None:
        # RFC 4511 4.11: abandon has no response.  Searches finish before the
        # next request is read, and binds cannot be abandoned, so there is
        # nothing to stop.
        self._finish(Operation("abandon", message_id, reason=f"id={request.value}"))

    # -- search ----------------------------------------------------------

    def _handle_search(self, request: Any, ctrls: Any, message_id: int) -> None:
        op = Operation("search", message_id, dn=_text(request.baseObject))
        op.scope = request.scope
        response_controls = b""
        try:
            search = SearchRequest.from_ldaptor(request, controls.parse(ctrls))
            op.filter = filters.to_text(search.filter, self._log_masked())
            tree = self.bridge.holder.tree
            entries, op.code, response_controls = self._run_search(tree, search)
            self._send_entries(
                message_id, entries, search.selection, self._privileged()
            )
            op.entries = len(entries)
            message = "size limit exceeded" if op.code else ""
        except Exception as e:
            _, message = self._fail(op, e)
        self._send(
            message_id, ber.result(SEARCH_DONE, op.code, message), response_controls
        )
        self._finish(op)

    def _run_search(self, tree: DirectoryTree, search: SearchRequest) -> Any:
        """Return (entries to send, result code, response controls)."""
        if search.is_root_dse():
            found = tree.root_dse_search(search.filter)
            return found, results.SUCCESS, b""
        self._check_may_search()
        if not self._privileged():
            self._check_base_visible(search.base_ndn)
            hidden = filters.hide(search.filter, tree.restricted)
            search = attrs.evolve(search, filter=hidden)

        if search.paged is not None:
            return self.paged.page(tree, search, self._find)

        found = self._find(tree, search)
        if search.size_limit and len(found) > search.size_limit:
            return found[: search.size_limit], results.SIZE_LIMIT_EXCEEDED, b""
        return found, results.SUCCESS, b""

    def _check_may_search(self) -> None:
        """Anonymous clients see the root DSE only (DESIGN.md, safety rules)."""
        if self.identity is None:
            raise LDAPError(
                results.INSUFFICIENT_ACCESS_RIGHTS,
                "bind first: anonymous clients may read the root DSE only",
            )

    def _log_masked(self) -> frozenset[str]:
        """Attributes whose asserted values the log must not show."""
        return schema.SECRET_ATTRIBUTES | self.bridge.holder.tree.restricted

    def _privileged(self) -> bool:
        """Service accounts may read restricted attributes (PINs)."""
        return self.identity is not None and self.identity.service is not None

    def _check_base_visible(self, base_ndn: str) -> None:
        """A member's search based on another member's entry is noSuchObject,
        as for a name that does not exist: the answer must not tell them
        apart (DESIGN.md, a member sees their own entry only)."""
        identity = self.identity
        if identity is None or identity.service is not None:
            return
        own = identity.ndn
        if base_ndn and base_ndn != own and not own.endswith("," + base_ndn):
            raise NoSuchEntry(base_ndn)

    def _find(self, tree: DirectoryTree, search: SearchRequest) -> list[Any]:
        """The entries matching ``search`` that this client may see: a member
        bound as themselves sees their own entry only."""
        identity = self.identity
        if identity is None:
            return []
        only = None if identity.service is not None else identity.ndn
        return tree.search(search.base_ndn, search.scope, search.filter, only)

    def _visible(self, entries: list[Any]) -> list[Any]:
        """A member bound as themselves sees their own entry only."""
        identity = self.identity
        if identity is None:
            return []
        if identity.service is not None:
            return entries
        return [e for e in entries if e.ndn == identity.ndn]

    # -- compare ---------------------------------------------------------

    def _handle_compare(self, request: Any, ctrls: Any, message_id: int) -> None:
        op = Operation("compare", message_id, dn=_text(request.entry))
        message = ""
        try:
            controls.parse(ctrls)
            self._check_may_search()
            ndn = dn.normalize(op.dn)
            entry = self.bridge.holder.tree.lookup(ndn)
            if entry is None or not self._visible([entry]):
                raise LDAPError(results.NO_SUCH_OBJECT, "no such entry")
            node: filters.Node = filters.Compare(
                "=",
                _text(request.ava.attributeDesc.value).lower(),
                _text(request.ava.assertionValue.value),
            )
            op.filter = filters.to_text(node, self._log_masked())
            if not self._privileged():
                node = filters.hide(node, entry.restricted)
            matched = filters.evaluate(node, entry)
            op.code = results.COMPARE_TRUE if matched else results.COMPARE_FALSE
        except Exception as e:
            _, message = self._fail(op, e)
        self._send(message_id, ber.result(COMPARE_RESPONSE, op.code, message))
        self._finish(op)

    # -- extended and writes ---------------------------------------------

    def _handle_extended(self, request: Any, ctrls: Any, message_id: int) -> None:
        name = _text(request.requestName)
        if name == oids.START_TLS:
            self._handle_start_tls(request, ctrls, message_id)
            return
        op = Operation("extended", message_id, reason=name)
        value = None
        message = ""
        try:
            controls.parse(ctrls)
            if name != oids.WHOAMI:
                raise LDAPError(
                    results.PROTOCOL_ERROR, f"unsupported extended operation {name}"
                )
            value = f"dn:{self.bound_dn}" if self.bound_dn else ""
        except Exception as e:
            _, message = self._fail(op, e)
        extra = b"" if value is None else ber.octets(value, tag=0x8B)
        self._send(
            message_id, ber.result(EXTENDED_RESPONSE, op.code, message, extra=extra)
        )
        self._finish(op)

    def _handle_start_tls(self, request: Any, ctrls: Any, message_id: int) -> None:
        """Answer StartTLS in cleartext, then switch to TLS (RFC 4511 4.14)."""
        op = Operation("starttls", message_id)
        message = ""
        try:
            controls.parse(ctrls)
            self._check_start_tls(request)
        except Exception as e:
            _, message = self._fail(op, e)
        name = ber.octets(oids.START_TLS, tag=0x8A)
        self._send(
            message_id, ber.result(EXTENDED_RESPONSE, op.code, message, extra=name)
        )
        self._finish(op)
        if op.code == results.SUCCESS and self.bridge.tls is not None:
            self.transport.startTLS(self.bridge.tls.options)
            self.tls_active = True

    def _check_start_tls(self, request: Any) -> None:
        """Raise LDAPError when StartTLS cannot start now (RFC 4511 4.14.1)."""
        if request.requestValue is not None:
            raise LDAPError(results.PROTOCOL_ERROR, "StartTLS takes no value")
        if self.bridge.tls is None or not self.bridge.tls.start_tls:
            raise LDAPError(results.UNAVAILABLE, "StartTLS is turned off")
        if self.tls_active:
            raise LDAPError(results.OPERATIONS_ERROR, "TLS is already active")
        if self.outstanding or self.buffer:
            # Bytes sent after the request would be cleartext read as if it
            # came over TLS: the client must wait for the response.
            raise LDAPError(
                results.OPERATIONS_ERROR, "operations are outstanding or pipelined"
            )

    def _handle_write(self, request: Any, ctrls: Any, message_id: int) -> None:
        name, response_tag = WRITE_RESPONSES[type(request)]
        op = Operation(name, message_id)
        op.dn = _write_target(request)
        message = ""
        try:
            # An unknown critical control gets 12 on every operation, writes
            # included (RFC 4511 4.1.11), before the refusal of the write.
            controls.parse(ctrls)
            raise LDAPError(results.UNWILLING_TO_PERFORM, READ_ONLY)
        except Exception as e:
            _, message = self._fail(op, e)
        self._send(message_id, ber.result(response_tag, op.code, message))
        self._finish(op)

    def _handle_unknown(self, request: Any, ctrls: Any, message_id: int) -> None:
        self._drop(f"unsupported request {type(request).__name__}")


def _write_target(request: Any) -> str:
    """The DN a write names: ldaptor keeps a delete's DN as its string value."""
    if isinstance(request, pureldap.LDAPDelRequest):
        return _text(request.value)
    return _text(getattr(request, "object", None) or getattr(request, "entry", ""))


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return "" if value is None else str(value)
