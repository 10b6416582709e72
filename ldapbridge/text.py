"""Text from outside (clients, member records): log-safe forms and the
folded forms in which names compare.

It sits below the directory, ldap and service layers, which all log or print
text they did not write, and which must agree on when two names are one.
"""

from __future__ import annotations

import unicodedata

# Longest outside text (DN, filter, member id) a log line carries: a client,
# even an anonymous one, must not write a megabyte into the log per request.
MAX_LOGGED_CHARS = 512


def shorten(text: str) -> str:
    """``text`` cut to MAX_LOGGED_CHARS, saying how much was left out."""
    if len(text) <= MAX_LOGGED_CHARS:
        return text
    cut = len(text) - MAX_LOGGED_CHARS
    return f"{text[:MAX_LOGGED_CHARS]}...({cut} more characters)"


def printable(text: str) -> str:
    """``text`` shortened, with control characters escaped, so outside text
    cannot forge log lines (a newline in it would start a fake one)."""
    text = shorten(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


def normalized(text: str) -> str:
    """``text`` in Unicode NFKC, so that an accent typed as a combining mark
    (macOS, some exports) equals the precomposed letter (RFC 4518 2.3)."""
    # ASCII is already normal, and checking for it costs nothing.
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


def fold_spaces(text: str) -> str:
    """caseExact form: NFKC, runs of spaces collapsed, ends trimmed."""
    return " ".join(normalized(text).split())


def fold(text: str) -> str:
    """caseIgnore form: NFKC, case-folded (ß is ss), runs of spaces collapsed."""
    # The ASCII path first: every entry's values pass here when a tree is built.
    if text.isascii():
        return " ".join(text.split()).casefold()
    folded = fold_spaces(text).casefold()
    return unicodedata.normalize("NFKC", folded)
