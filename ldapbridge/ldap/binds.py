"""Simple bind (RFC 4513 5.1): who the client is, and whether to believe it.

Every refusal of credentials is invalidCredentials (49) with one message, so
that an unknown DN, a wrong password and a locked-out DN look alike; the log
keeps the reason.  Failed binds are throttled (ldapbridge.ldap.throttle).
"""

from __future__ import annotations

from typing import Any

import attrs
from twisted.internet import defer, threads

from ldapbridge.directory.passwords import PasswordChecker, verify_secret
from ldapbridge.hashes import is_hash
from ldapbridge.ldap import results
from ldapbridge.ldap.results import LDAPError
from ldapbridge.ldap.throttle import BindThrottle
from ldapbridge.ldap.tree import DirectoryTree, Identity

# Checked when the DN is unknown, so a miss costs as long as a wrong password.
_DUMMY_HASH = "$2b$10$2OKQzhZK7HwStZm7YYMk4OG3Msz7ZfUQezQLl/OYBT8.9L7Lpu16u"


@attrs.frozen
class BindOutcome:
    code: int
    message: str
    reason: str
    identity: Identity | None = None


def _refused(reason: str) -> BindOutcome:
    return BindOutcome(results.INVALID_CREDENTIALS, results.BAD_CREDENTIALS, reason)


@defer.inlineCallbacks
def authenticate(
    tree: DirectoryTree,
    checker: PasswordChecker,
    request: Any,
    throttle: BindThrottle | None = None,
    address: str = "",
) -> Any:
    """Decide a bind request from ``address``; fires with a BindOutcome.

    Raises LDAPError for a bad version or SASL, InvalidDN for a malformed DN,
    PasswordCheckUnavailable when a platform cannot be asked.
    """
    bind_dn, password = _simple_credentials(request)
    settled = _settled_without_a_check(bind_dn, password)
    if settled is not None:
        return settled

    # A DN, or another name the profile accepts (user@domain, DOMAIN\\user);
    # failures count against the entry meant, however it was named.
    identity = tree.identity_by_name(bind_dn)
    ndn, by_address = _throttle_key(identity, bind_dn)
    if throttle is not None and throttle.locked_out(ndn, address, by_address):
        # No password check: the answer and its delay are a failure's.
        yield throttle.wait(throttle.lockout_delay_s())
        return _refused("locked_out")

    accepted, reason = yield _verify(identity, checker, password)
    if not accepted:
        if throttle is not None:
            yield throttle.wait(throttle.failed(ndn, address))
        return _refused(reason)

    if throttle is not None:
        throttle.succeeded(ndn)
    return BindOutcome(results.SUCCESS, "", reason, identity)


def _simple_credentials(request: Any) -> tuple[str, str]:
    """The DN and password of a simple bind; LDAPError for a bad version or
    SASL."""
    if request.version != 3:
        raise LDAPError(results.PROTOCOL_ERROR, "only LDAP version 3 is supported")
    if request.sasl:
        raise LDAPError(
            results.AUTH_METHOD_NOT_SUPPORTED, "only simple bind is supported"
        )
    return _text(request.dn), _text(request.auth)


def _settled_without_a_check(bind_dn: str, password: str) -> BindOutcome | None:
    """The outcome of a bind missing a DN or a password; None for one with
    both, which needs a password check."""
    if not bind_dn and not password:
        return BindOutcome(results.SUCCESS, "", "anonymous")
    if not password:
        # An empty password is an unauthenticated bind (RFC 4513 5.1.2):
        # never a login, whatever the DN.
        return BindOutcome(
            results.UNWILLING_TO_PERFORM,
            "unauthenticated bind (a DN with no password) is not allowed",
            "empty_password",
        )
    if not bind_dn:
        return _refused("password_without_dn")
    return None


def _throttle_key(identity: Identity | None, bind_dn: str) -> tuple[str, bool]:
    """The DN failures count against, and whether they count against the
    client's address too."""
    ndn = identity.ndn if identity is not None else bind_dn.casefold()
    # Member logins all come from PaperCut's address: failed ones must not
    # lock out PaperCut's own service account, which is locked by DN only.
    by_address = identity is None or identity.service is None
    return ndn, by_address


@defer.inlineCallbacks
def _verify(identity: Identity | None, checker: PasswordChecker, password: str) -> Any:
    """Check the password for ``identity``; fires with (accepted, reason)."""
    if not _compared_at_once(identity):
        return (yield threads.deferToThread(_check, identity, checker, password))

    accepted, reason = _check(identity, checker, password)
    if not accepted:
        # A miss must cost what an unknown name's does, or the time
        # taken would tell which service DNs exist.
        yield threads.deferToThread(verify_secret, password, _DUMMY_HASH)
    return accepted, reason


def _compared_at_once(identity: Identity | None) -> bool:
    """Whether a bind as ``identity`` is checked without a thread: a service
    account's plain secret is compared in microseconds, while hashes (and the
    dummy hash of unknown names) take the milliseconds they are made to."""
    return (
        identity is not None
        and identity.service is not None
        and not is_hash(identity.service.password)
    )


def _check(
    identity: Identity | None, checker: PasswordChecker, password: str
) -> tuple[bool, str]:
    """Blocking: verify the password for ``identity``; (accepted, reason)."""
    if identity is None:
        verify_secret(password, _DUMMY_HASH)
        return False, "unknown_dn"
    if identity.service is not None:
        ok = verify_secret(password, identity.service.password)
        return ok, "service" if ok else "wrong_password"

    member = identity.member
    assert member is not None
    if not member.active:
        # Refused whatever the password, but only after as long a check as
        # an unknown name's: a cancelled member must not stand out by timing.
        verify_secret(password, _DUMMY_HASH)
        return False, "inactive_member"
    if checker.check(member, password):
        return True, "member"
    return False, "wrong_password"


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return "" if value is None else str(value)
