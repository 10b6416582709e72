"""A small ldap3 client for end-to-end tests: connect, search, read values."""

from __future__ import annotations

import ldap3

from tests.support import SERVICE_DN, SERVICE_PASSWORD, RunningServer

Values = dict[str, list[str]]


def connect(
    server: RunningServer, who: str = SERVICE_DN, password: str = SERVICE_PASSWORD
) -> ldap3.Connection:
    """A bound connection; raises ldap3's LDAPBindError when refused."""
    endpoint = ldap3.Server(server.host, port=server.port, get_info=ldap3.NONE)
    return ldap3.Connection(
        endpoint, user=who, password=password, auto_bind=True, raise_exceptions=True
    )


def bind_result(server: RunningServer, who: str, password: str) -> int:
    """The result code of a simple bind as ``who``."""
    endpoint = ldap3.Server(server.host, port=server.port, get_info=ldap3.NONE)
    conn = ldap3.Connection(endpoint, user=who, password=password)
    try:
        conn.bind()
        return int(conn.result["result"])
    finally:
        conn.unbind()


def search(
    conn: ldap3.Connection,
    base: str,
    ldap_filter: str,
    attributes: list[str] | None = None,
) -> dict[str, Values]:
    """Entries found, by DN, each a dict of attribute name to its values.

    ldap3 lists a requested attribute the server did not send with no values;
    such attributes are left out here, as the server left them out.
    """
    conn.search(
        base,
        ldap_filter,
        search_scope=ldap3.SUBTREE,
        attributes=attributes if attributes is not None else ["*"],
    )
    return {
        r["dn"]: {name: _texts(v) for name, v in r["raw_attributes"].items() if v}
        for r in conn.response or []
        if r["type"] == "searchResEntry"
    }


def _texts(values: list[bytes]) -> list[str]:
    return [v.decode("utf-8") for v in values]
