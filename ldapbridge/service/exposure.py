"""Refusing to serve the demo passwords beyond this machine.

The shipped bridge.conf and demo export carry passwords printed in README.
They are fine on 127.0.0.1; on any other address they would let anyone in,
so the server refuses to start there, naming the setting to change.
"""

from __future__ import annotations

import ipaddress

from ldapbridge.config import ConfigError, Settings
from ldapbridge.directory.model import Snapshot
from ldapbridge.directory.passwords import verify_hash, verify_secret

DEMO_SERVICE_PASSWORD = "papercut-demo"
DEMO_MEMBER_EMAIL = "alex.demo@example.com"
DEMO_MEMBER_PASSWORD = "alex-demo-pw"
# The password hashes of demo/members.csv, whoever copies the file.
DEMO_PASSWORD_HASHES = frozenset(
    {
        "$2b$10$x9uKKTOUnrIHoTVlUj/XA.XPdiNCfbrIDVZpCPmT8IdqzhhTqTqUy",
        "$2b$10$CUOQQHDH6gPyshup7yl2KOUU8zPz.JWqIK5qv/pthtZH4xuEYN2Tm",
    }
)


def is_loopback(address: str) -> bool:
    """True for an address only this machine can reach."""
    if address.lower() == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def check_exposure(settings: Settings, snapshot: Snapshot) -> None:
    """Raise ConfigError when a non-loopback address meets a demo password."""
    address = settings.server.bind_address
    if is_loopback(address):
        return

    advice = "set real passwords, or listen on 127.0.0.1"
    for account in settings.services:
        if verify_secret(DEMO_SERVICE_PASSWORD, account.password):
            raise ConfigError(
                f"[server] bind_address: expected a loopback address while "
                f"[service.{account.name}] password is the public demo password, "
                f"found {address}: {advice} (password_file or password_env)"
            )
    if has_demo_members(snapshot):
        raise ConfigError(
            f"[server] bind_address: expected a loopback address while "
            f"[source] path holds the demo members, whose passwords are public, "
            f"found {address}: {advice}"
        )


def has_demo_members(snapshot: Snapshot) -> bool:
    for member in snapshot.members:
        if member.password_hash in DEMO_PASSWORD_HASHES:
            return True
        if member.email.lower() == DEMO_MEMBER_EMAIL and verify_hash(
            DEMO_MEMBER_PASSWORD, member.password_hash
        ):
            return True
    return False
