"""The "Novell eDirectory" profile: cn is the username, groups groupOfNames.

PaperCut's eDirectory type searches ``(&(cn={0})(objectClass=person))``,
reads fullName, ou (department) and l (office), and reads group members as
DNs from groupOfNames entries.
"""

from __future__ import annotations

from ldapbridge.directory import fields
from ldapbridge.directory.model import Group, Member
from ldapbridge.ldap.profiles import Attributes, Profile


class EDirectoryProfile(Profile):
    """Users as inetOrgPerson named by cn; groups as groupOfNames."""

    name = "edirectory"
    user_rdn = "cn"

    def person_attributes(
        self,
        member: Member,
        values: fields.Published,
        primary_gid: int,
        group_dns: list[str],
    ) -> Attributes:
        return {
            "objectClass": ["top", "person", "organizationalPerson", "inetOrgPerson"],
            "cn": [member.username],
            "fullName": [member.full_name],
            "givenName": [member.given_name],
            "sn": [member.surname],
            "mail": [member.email],
            "ou": [values.department],
            "l": [values.office],
            "o": [member.company],
            # eDirectory's own list of a user's groups.
            "groupMembership": group_dns,
        }

    def group_attributes(self, group: Group, member_dns: list[str]) -> Attributes:
        return {
            "objectClass": ["top", "groupOfNames"],
            "cn": [group.name],
            "description": [f"{group.kind} group"],
            "member": member_dns,
        }
