"""Entries as LDIF content records (RFC 2849), for export and lookup.

ldaptor's writer decides, per value, between the plain form and base64
(RFC 2849 section 2: a value that is not a SAFE-STRING, such as one with
non-ASCII characters, a leading space, colon or "<", or a trailing space,
is written base64).  The DN line goes through the same rule: ldaptor's own
``asLDIF`` would write a non-ASCII DN plain.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ldaptor.protocols.ldap.ldif import attributeAsLDIF

from ldapbridge.ldap.entry import Entry
from ldapbridge.ldap.search import Selection

HEADER = b"version: 1\n\n"


def entry_ldif(entry: Entry, attributes: Iterable[str]) -> bytes:
    """One entry with ``attributes`` (lowercase names), ending in a blank line."""
    lines = [attributeAsLDIF("dn", entry.dn)]
    for attribute in attributes:
        name = entry.names[attribute]
        lines.extend(attributeAsLDIF(name, value) for value in entry.get(attribute))
    return b"".join(lines) + b"\n"


def entries_ldif(entries: Iterable[Entry], selection: Selection) -> Iterator[bytes]:
    """An LDIF file of ``entries``, each as a service account's search gets it
    (restricted attributes such as PINs included)."""
    yield HEADER
    for entry in entries:
        yield entry_ldif(entry, selection.attributes(entry, privileged=True))
