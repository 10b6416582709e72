"""The one place where failures become LDAP result codes (RFC 4511 A.2).

Handlers raise LDAPError with a code and a message fit for the client, or let
a domain exception propagate; ``to_result`` maps both.  Any other exception
is an internal failure: the client gets "other" (80) and a generic message,
the log gets the details.
"""

from __future__ import annotations

from ldapbridge.directory.passwords import PasswordCheckUnavailable
from ldapbridge.directory.sources import SourceError
from ldapbridge.ldap.dn import InvalidDN
from ldapbridge.ldap.filters import FilterError
from ldapbridge.ldap.tree import NoSuchEntry

SUCCESS = 0
OPERATIONS_ERROR = 1
PROTOCOL_ERROR = 2
SIZE_LIMIT_EXCEEDED = 4
COMPARE_FALSE = 5
COMPARE_TRUE = 6
AUTH_METHOD_NOT_SUPPORTED = 7
UNAVAILABLE_CRITICAL_EXTENSION = 12
CONFIDENTIALITY_REQUIRED = 13
NO_SUCH_OBJECT = 32
INVALID_DN_SYNTAX = 34
INVALID_CREDENTIALS = 49
INSUFFICIENT_ACCESS_RIGHTS = 50
BUSY = 51
UNAVAILABLE = 52
UNWILLING_TO_PERFORM = 53
OTHER = 80

# One message for every failed bind, so a client cannot tell an unknown DN
# from a wrong password.
BAD_CREDENTIALS = "invalid credentials"


class LDAPError(Exception):
    """A failure with the result code and message the client should get."""

    def __init__(self, code: int, message: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def to_result(error: BaseException) -> tuple[int, str]:
    """The (result code, client message) for an exception."""
    if isinstance(error, LDAPError):
        return error.code, error.message
    if isinstance(error, NoSuchEntry):
        return NO_SUCH_OBJECT, "no such entry"
    if isinstance(error, InvalidDN):
        return INVALID_DN_SYNTAX, f"invalid DN: {error}"
    if isinstance(error, FilterError):
        return PROTOCOL_ERROR, str(error)
    if isinstance(error, PasswordCheckUnavailable | SourceError):
        return UNAVAILABLE, "the member directory cannot check passwords right now"
    return OTHER, "internal server error"


def is_internal(error: BaseException) -> bool:
    """True for failures the log should explain with a traceback."""
    known = (LDAPError, NoSuchEntry, InvalidDN, FilterError)
    return not isinstance(error, (*known, PasswordCheckUnavailable, SourceError))
