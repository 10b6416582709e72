"""Real LDAP clients for end-to-end tests: OpenLDAP's tools and ldap3.

The OpenLDAP tools print LDIF; ``parse_ldif`` reads it back (base64 values
decoded, folded lines joined), so tests compare exact strings.
"""

from __future__ import annotations

import base64
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import attrs
import ldap3
from ldap3.protocol.rfc4511 import AuthenticationChoice, BindRequest, Simple, Version

from tests.support import SERVICE_DN, SERVICE_PASSWORD, RunningServer, ldap_tool

SERVICE_AUTH = ("-D", SERVICE_DN, "-w", SERVICE_PASSWORD)
RESULT_LINE = re.compile(r"^result: (\d+)", re.MULTILINE)


@attrs.frozen
class LdifEntry:
    dn: str
    attributes: dict[str, list[str]]

    def get(self, name: str) -> list[str]:
        """Values of ``name``, matching the attribute name case-insensitively."""
        for key, values in self.attributes.items():
            if key.lower() == name.lower():
                return values
        return []


def ldapsearch(
    server: RunningServer, *args: str, auth: tuple[str, ...] = SERVICE_AUTH
) -> subprocess.CompletedProcess[str]:
    """Run ``ldapsearch`` (LDIF without comments, no line folding)."""
    return ldap_tool("ldapsearch", server, *auth, "-LLL", "-o", "ldif-wrap=no", *args)


def search_entries(
    server: RunningServer, *args: str, auth: tuple[str, ...] = SERVICE_AUTH
) -> list[LdifEntry]:
    """Entries of an ``ldapsearch`` that must succeed."""
    done = ldapsearch(server, *args, auth=auth)
    assert done.returncode == 0, done.stderr
    return parse_ldif(done.stdout)


def parse_ldif(text: str) -> list[LdifEntry]:
    """Entries of LDIF text; comments, ``search:`` and ``result:`` lines dropped."""
    entries = []
    for block in re.split(r"\n\s*\n", text.replace("\n ", "")):
        lines = [ln for ln in block.splitlines() if ln and not ln.startswith("#")]
        if lines and lines[0].startswith("dn:"):
            entries.append(_entry(lines))
    return entries


def _entry(lines: list[str]) -> LdifEntry:
    pairs = [_attribute_value(line) for line in lines]
    attributes: dict[str, list[str]] = {}
    for name, value in pairs[1:]:
        attributes.setdefault(name, []).append(value)
    return LdifEntry(dn=pairs[0][1], attributes=attributes)


def _attribute_value(line: str) -> tuple[str, str]:
    name, _, rest = line.partition(":")
    if rest.startswith(":"):
        return name, base64.b64decode(rest[1:].strip()).decode("utf-8")
    return name, rest[1:] if rest.startswith(" ") else rest


def result_codes(text: str) -> list[int]:
    """Every ``result:`` code in non-LLL ldapsearch output, in order."""
    return [int(code) for code in RESULT_LINE.findall(text)]


@contextmanager
def connection(
    server: RunningServer,
    user: str | None = SERVICE_DN,
    password: str | None = None,
    **options: Any,
) -> Iterator[ldap3.Connection]:
    """An ldap3 connection bound as ``user`` (anonymous when None), unbound after."""
    if user == SERVICE_DN and password is None:
        password = SERVICE_PASSWORD
    conn = ldap3.Connection(
        ldap3.Server(server.host, port=server.port, get_info=ldap3.NONE),
        user=user,
        password=password,
        raise_exceptions=False,
        receive_timeout=10,
        **options,
    )
    conn.open()
    if user is not None:
        conn.bind()
    try:
        yield conn
    finally:
        conn.unbind()


def simple_bind(conn: ldap3.Connection, dn: str, password: str) -> dict:
    """Send a simple bind exactly as given, even with an empty password.

    ldap3's ``bind`` refuses to send an empty password; servers must still
    cope with clients that do (RFC 4513 5.1.2).
    """
    request = BindRequest()
    request["version"] = Version(3)
    request["name"] = dn
    request["authentication"] = AuthenticationChoice().setComponentByName(
        "simple", Simple(password)
    )
    conn.post_send_single_response(conn.send("bindRequest", request, None))
    return conn.result
