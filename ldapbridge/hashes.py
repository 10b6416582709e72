"""Telling a bcrypt or argon2 hash from a password, and a damaged hash from both.

It sits beside config.py, which refuses a damaged hash as a service password,
and below the directory layer, which verifies passwords against hashes.
"""

from __future__ import annotations

import re

# How the hashes begin: bcrypt's "$2a$", "$2b$" and "$2y$" (OpenBSD's
# revisions), argon2's "$argon2id$", "$argon2i$" and "$argon2d$".
BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")
ARGON2_PREFIX = "$argon2"

# Whole hashes: bcrypt's cost (4 to 31) and 53 characters of salt and
# digest; argon2's PHC string (version, costs, salt and digest in base64).
_HASH = re.compile(
    r"\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}"
    r"|\$argon2(id|i|d)\$(v=[0-9]+\$)?m=[0-9]+,t=[0-9]+,p=[0-9]+"
    r"\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+"
)


def is_hash(secret: str) -> bool:
    """True if ``secret`` is a whole bcrypt or argon2 hash."""
    return _HASH.fullmatch(secret) is not None


def starts_like_hash(secret: str) -> bool:
    """True if ``secret`` begins as a bcrypt or argon2 hash does."""
    return secret.startswith((*BCRYPT_PREFIXES, ARGON2_PREFIX))


def is_damaged_hash(secret: str) -> bool:
    """True if ``secret`` begins like a hash but is not a whole one: most
    often a hash whose "$" signs a shell took for variables."""
    return starts_like_hash(secret) and not is_hash(secret)
