"""The LDAP protocol: one BridgeProtocol per client connection.

ldaptor supplies the BER decoder and request classes; dispatch, access rules,
controls, paging and replies are the bridge's own, because ldaptor's server
refuses controls, answers abandon requests and has no size limits (see
DESIGN.md, "Building on ldaptor").  Every operation ends in exactly one
summary log line.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import attrs
from ldaptor.protocols import pureber, pureldap
from ldaptor.protocols.ldap.ldapserver import BaseLDAPServer
from twisted.internet import defer, protocol
from twisted.logger import Logger
from twisted.python.failure import Failure

from ldapbridge.directory.passwords import PasswordChecker
from ldapbridge.ldap import ber, controls, decode, dn, filters, oids, results
from ldapbridge.ldap.binds import BindOutcome, authenticate
from ldapbridge.ldap.paging import PagedSearches
from ldapbridge.ldap.results import LDAPError
from ldapbridge.ldap.search import SearchRequest, Selection
from ldapbridge.ldap.tree import DirectoryTree, Identity

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

WRITE_RESPONSES = {
    pureldap.LDAPModifyRequest: ("modify", MODIFY_RESPONSE),
    pureldap.LDAPAddRequest: ("add", ADD_RESPONSE),
    pureldap.LDAPDelRequest: ("delete", DELETE_RESPONSE),
    pureldap.LDAPModifyDNRequest: ("modrdn", MODIFY_DN_RESPONSE),
}

_session_ids = itertools.count(1)


@attrs.define
class DirectoryHolder:
    """The tree being served; a refresh replaces ``tree`` in one assignment."""

    tree: DirectoryTree


@attrs.frozen
class ServerLimits:
    max_message_bytes: int = 1024 * 1024
    max_paged_searches: int = 16


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


class BridgeFactory(protocol.ServerFactory):
    noisy = False  # one "starting factory" line per listener is noise

    def __init__(
        self,
        holder: DirectoryHolder,
        checker: PasswordChecker,
        limits: ServerLimits | None = None,
    ) -> None:
        self.holder = holder
        self.checker = checker
        self.limits = limits or ServerLimits()

    def buildProtocol(self, addr: Any) -> BridgeProtocol:
        p = BridgeProtocol(self)
        p.factory = self
        return p


class BridgeProtocol(BaseLDAPServer):
    """One client connection: decode requests, answer them, log each one."""

    def __init__(self, factory: BridgeFactory) -> None:
        super().__init__()
        self.buffer: bytes = b""
        self.bridge = factory
        self.session = next(_session_ids)
        self.identity: Identity | None = None
        self.bound_dn = ""
        self.paged = PagedSearches(factory.limits.max_paged_searches)
        self.peer = ""

    def connectionMade(self) -> None:
        super().connectionMade()
        peer = self.transport.getPeer()
        self.peer = f"{getattr(peer, 'host', '?')}:{getattr(peer, 'port', '?')}"

    # -- framing ---------------------------------------------------------

    def dataReceived(self, data: bytes) -> None:
        self.buffer += data
        while self.connected and self.buffer:
            message = self._next_message()
            if message is None:
                return
            self.handle(message)

    def _next_message(self) -> Any:
        """Decode one message from the buffer; None when more bytes are needed.

        Bytes that cannot be an LDAP message close this connection only.
        """
        fast = decode.decode_search(self.buffer)
        if fast is not None:
            self.buffer = self.buffer[fast[1] :]
            return fast[0]
        try:
            message, used = pureber.berDecodeObject(self.berdecoder, self.buffer)
        except pureber.BERExceptionInsufficientData:
            message, used = None, 0
        except (Exception, RecursionError) as e:
            return self._drop(f"undecodable message ({type(e).__name__})")

        if message is None and len(self.buffer) > self.bridge.limits.max_message_bytes:
            return self._drop("message larger than the limit")
        self.buffer = self.buffer[used:]
        if message is not None and not isinstance(
            getattr(message, "value", None), pureldap.LDAPProtocolRequest
        ):
            return self._drop("not an LDAP request")
        return message

    def _drop(self, reason: str) -> None:
        log.warn(
            "session={session} peer={peer} closing connection: {reason}",
            session=self.session,
            peer=self.peer,
            reason=reason,
        )
        notice = ber.result(
            EXTENDED_RESPONSE,
            results.PROTOCOL_ERROR,
            reason,
            extra=ber.octets(oids.NOTICE_OF_DISCONNECTION, tag=0x8A),
        )
        self.transport.write(ber.message(0, notice))
        self.buffer = b""
        self.connected = 0
        self.transport.loseConnection()

    # -- dispatch --------------------------------------------------------

    def handle(self, message: Any) -> None:
        request = message.value
        message_id = message.id
        handler = self._handlers().get(type(request))
        if handler is None:
            handler = self._handle_unknown
        d = defer.maybeDeferred(handler, request, message.controls, message_id)
        d.addErrback(self._unexpected, message_id)

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
        self, message_id: int, entries: list[Any], selection: Selection
    ) -> None:
        """Write search result entries in one call: one syscall, not one each."""
        if self.connected and entries:
            self.transport.writeSequence(
                [ber.message(message_id, selection.encode(e)) for e in entries]
            )

    def _finish(self, op: Operation) -> None:
        """Write the one summary line of an operation."""
        elapsed_ms = (time.monotonic() - op.started) * 1000
        log.info(
            "session={session} peer={peer} op={op} msgid={msgid} dn={dn!r} "
            "scope={scope} filter={filter} result={result} entries={entries} "
            "reason={reason} ms={ms:.1f}",
            session=self.session,
            peer=self.peer,
            op=op.name,
            msgid=op.message_id,
            dn=op.dn,
            scope=op.scope,
            filter=op.filter,
            result=op.code,
            entries=op.entries,
            reason=op.reason,
            ms=elapsed_ms,
            bound=self.bound_dn,
        )

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
        try:
            controls.parse(ctrls)
            outcome: BindOutcome = yield authenticate(
                self.bridge.holder.tree, self.bridge.checker, request
            )
        except Exception as e:
            code, message = self._fail(op, e)
            op.reason = op.reason or "error"
        else:
            code, message, op.reason = outcome.code, outcome.message, outcome.reason
            op.code = code
            if code == results.SUCCESS and outcome.identity is not None:
                self.identity, self.bound_dn = outcome.identity, op.dn
        self._send(message_id, ber.result(BIND_RESPONSE, code, message))
        self._finish(op)

    def _handle_unbind(self, request: Any, ctrls: Any, message_id: int) -> None:
        self._finish(Operation("unbind", message_id))
        self.transport.loseConnection()

    def _handle_abandon(self, request: Any, ctrls: Any, message_id: int) -> None:
        # RFC 4511 4.11: abandon has no response.  Operations here finish
        # before the next request is read, so there is nothing to stop.
        self._finish(Operation("abandon", message_id, reason=f"id={request.value}"))

    # -- search ----------------------------------------------------------

    def _handle_search(self, request: Any, ctrls: Any, message_id: int) -> None:
        op = Operation("search", message_id, dn=_text(request.baseObject))
        op.scope = request.scope
        response_controls = b""
        try:
            search = SearchRequest.from_ldaptor(request, controls.parse(ctrls))
            op.filter = filters.to_text(search.filter)
            tree = self.bridge.holder.tree
            entries, op.code, response_controls = self._run_search(tree, search)
            self._send_entries(message_id, entries, search.selection)
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

        if search.paged is not None:
            return self.paged.page(tree, search, self._visible)

        found = self._visible(tree.search(search.base_ndn, search.scope, search.filter))
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
            node = filters.Compare(
                "=",
                _text(request.ava.attributeDesc.value).lower(),
                _text(request.ava.assertionValue.value),
            )
            op.filter = filters.to_text(node)
            matched = filters.evaluate(node, entry)
            op.code = results.COMPARE_TRUE if matched else results.COMPARE_FALSE
        except Exception as e:
            _, message = self._fail(op, e)
        self._send(message_id, ber.result(COMPARE_RESPONSE, op.code, message))
        self._finish(op)

    # -- extended and writes ---------------------------------------------

    def _handle_extended(self, request: Any, ctrls: Any, message_id: int) -> None:
        name = _text(request.requestName)
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

    def _handle_write(self, request: Any, ctrls: Any, message_id: int) -> None:
        name, response_tag = WRITE_RESPONSES[type(request)]
        op = Operation(name, message_id, code=results.UNWILLING_TO_PERFORM)
        op.dn = _text(getattr(request, "object", None) or getattr(request, "entry", ""))
        self._send(
            message_id,
            ber.result(
                response_tag,
                results.UNWILLING_TO_PERFORM,
                "the directory is read-only: change members in the coworking platform",
            ),
        )
        self._finish(op)

    def _handle_unknown(self, request: Any, ctrls: Any, message_id: int) -> None:
        self._drop(f"unsupported request {type(request).__name__}")


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return "" if value is None else str(value)
