"""Checking a member's password, and hashing service passwords.

A member's print password is either a hash kept in the export (bcrypt or
argon2, never plain text) or, for live platforms, a question put to the
platform.  Checks are blocking: callers run them off the reactor thread.
"""

from __future__ import annotations

import hmac
from typing import Protocol

import argon2
import bcrypt

from ldapbridge.directory.model import Member
from ldapbridge.hashes import ARGON2_PREFIX, BCRYPT_PREFIXES, is_hash


class PasswordCheckUnavailable(Exception):
    """The password could not be checked now (platform down or timing out)."""


class PasswordChecker(Protocol):
    def check(self, member: Member, password: str) -> bool:
        """True if ``password`` is the member's; raise PasswordCheckUnavailable
        when the answer cannot be had."""
        ...


_argon2 = argon2.PasswordHasher()


def verify_hash(password: str, hashed: str) -> bool:
    """Verify ``password`` against a bcrypt or argon2 hash; False otherwise.

    An empty password or an unrecognised hash never verifies.
    """
    if not password or not hashed:
        return False
    if hashed.startswith(BCRYPT_PREFIXES):
        return _verify_bcrypt(password, hashed)
    if hashed.startswith(ARGON2_PREFIX):
        return _verify_argon2(password, hashed)
    return False


def _verify_bcrypt(password: str, hashed: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode("utf-8"), hashed.encode("ascii"))
    except ValueError:
        return False


def _verify_argon2(password: str, hashed: str) -> bool:
    try:
        return _argon2.verify(hashed, password)
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False


# bcrypt reads at most 72 bytes of a password, and bcrypt 5 refuses longer
# ones rather than cut them; argon2id has no such limit.
BCRYPT_MAX_BYTES = 72


def hash_password(password: str) -> str:
    """Return a hash of ``password`` to store in config or an export: bcrypt,
    or argon2id for a password longer than bcrypt's 72 bytes."""
    encoded = password.encode("utf-8")
    if len(encoded) > BCRYPT_MAX_BYTES:
        return _argon2.hash(password)
    return bcrypt.hashpw(encoded, bcrypt.gensalt()).decode("ascii")


def verify_secret(password: str, expected: str) -> bool:
    """Check a password against a configured secret: a hash or plain text.

    Anything but a whole hash is plain text, even a password that happens to
    start with "$2"; config.py refuses what looks like a damaged hash.
    """
    if not password:
        return False
    if is_hash(expected):
        return verify_hash(password, expected)
    return hmac.compare_digest(password.encode("utf-8"), expected.encode("utf-8"))


class HashPasswordChecker:
    """Check members against the password hash their source provided."""

    def check(self, member: Member, password: str) -> bool:
        return verify_hash(password, member.password_hash)
