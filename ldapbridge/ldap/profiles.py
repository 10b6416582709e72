"""Profiles: how members and groups appear to one kind of LDAP client.

PaperCut picks attribute names by the server type the admin chooses
(DESIGN.md, "PaperCut's three LDAP server types"); a profile publishes the
names that type expects, so PaperCut needs no schema overrides.  This module
is the only place that knows those names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from ldapbridge.config import DirectorySettings
from ldapbridge.directory.model import Group, Member
from ldapbridge.ldap import dn

Attributes = dict[str, Sequence[str]]


@attrs.frozen
class Layout:
    """Where entries live: the suffix and its three branches."""

    base_dn: str
    people_dn: str
    groups_dn: str
    services_dn: str

    @classmethod
    def from_settings(cls, settings: DirectorySettings) -> Layout:
        base = dn.format_dn(dn.parse(settings.base_dn))
        return cls(
            base_dn=base,
            people_dn=f"ou=people,{base}",
            groups_dn=f"ou=groups,{base}",
            services_dn=f"ou=services,{base}",
        )


class UnixProfile:
    """PaperCut's "Unix / Open Directory" type: inetOrgPerson, posixGroup."""

    name = "unix"
    user_rdn = "uid"

    def __init__(self, settings: DirectorySettings, layout: Layout) -> None:
        self.settings = settings
        self.layout = layout

    def member_dn(self, member: Member) -> str:
        value = dn.escape_value(member.username)
        return f"{self.user_rdn}={value},{self.layout.people_dn}"

    def group_dn(self, group: Group) -> str:
        return f"cn={dn.escape_value(group.name)},{self.layout.groups_dn}"

    def member_attributes(self, member: Member, primary_gid: int) -> Attributes:
        return {
            "objectClass": [
                "top",
                "person",
                "organizationalPerson",
                "inetOrgPerson",
                "posixAccount",
            ],
            "uid": [member.username],
            "cn": [member.full_name],
            "sn": [member.surname],
            "givenName": [member.given_name],
            "displayName": [member.full_name],
            "mail": [member.email],
            "departmentNumber": [department(member)],
            "o": [member.company],
            "l": [member.location],
            "employeeType": [member.plan],
            "employeeNumber": [member.card],
            "uidNumber": [str(member.uid_number)],
            "gidNumber": [str(primary_gid)],
            "homeDirectory": [self._home(member)],
            "loginShell": [self.settings.login_shell],
        }

    def member_operational(self, group_dns: list[str]) -> Attributes:
        return {"memberOf": group_dns}

    def group_attributes(self, group: Group, member_dns: list[str]) -> Attributes:
        return {
            "objectClass": ["top", "groupOfNames", "posixGroup"],
            "cn": [group.name],
            "description": [f"{group.kind} group"],
            "gidNumber": [str(group.gid_number)],
            "memberUid": list(group.usernames),
            "member": member_dns,
        }

    def service_attributes(self, name: str) -> Attributes:
        return {
            "objectClass": ["top", "applicationProcess"],
            "cn": [name],
            "description": ["ldapbridge service account"],
        }

    def _home(self, member: Member) -> str:
        return self.settings.home_directory.format(username=member.username)


def department(member: Member) -> str:
    """A member's department: their first team, else their company."""
    return member.teams[0] if member.teams else member.company


PROFILES: Mapping[str, type[UnixProfile]] = {"unix": UnixProfile}


def make_profile(settings: DirectorySettings) -> UnixProfile:
    return PROFILES[settings.profile](settings, Layout.from_settings(settings))
