"""Text from outside (clients, member records) made safe for one log line.

It sits below the directory, ldap and service layers, which all log or print
text they did not write.
"""

from __future__ import annotations

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
