"""The "Microsoft Active Directory" profile: users and groups as AD shows them.

PaperCut's AD type reads sAMAccountName, displayName, department and
physicalDeliveryOfficeName, filters on objectCategory and objectClass, may
skip disabled accounts with the bitwise rule on userAccountControl, and reads
group members as DNs.  Users bind as their DN, as ``user@<upn suffix>`` or as
``<DOMAIN>\\user``, as AD accepts.
"""

from __future__ import annotations

from ldapbridge.directory import fields
from ldapbridge.directory.model import Group, Member
from ldapbridge.ldap.profiles import Attributes, Profile

# userAccountControl flags (MS-ADTS 2.2.16): NORMAL_ACCOUNT, plus
# ACCOUNTDISABLE for members whose membership has ended.
NORMAL_ACCOUNT = 0x200
ACCOUNT_DISABLE = 0x2

# groupType of a global security group (MS-ADTS 2.2.12), the usual kind.
GLOBAL_SECURITY_GROUP = str(0x2 - 0x80000000)


class ActiveDirectoryProfile(Profile):
    """Users with objectClass user and objectCategory person; group groups."""

    name = "ad"
    user_rdn = "cn"
    default_card_attribute = "pager"
    default_second_card_attribute = "otherPager"

    def user_principal_name(self, member: Member) -> str:
        """The UPN: an email-shaped username already is one; else add the suffix."""
        if "@" in member.username:
            return member.username
        return f"{member.username}@{self.settings.upn_suffix}"

    def person_attributes(
        self,
        member: Member,
        values: fields.Published,
        primary_gid: int,
        group_dns: list[str],
    ) -> Attributes:
        control = NORMAL_ACCOUNT if member.active else NORMAL_ACCOUNT | ACCOUNT_DISABLE
        return {
            "objectClass": ["top", "person", "organizationalPerson", "user"],
            "objectCategory": ["person"],
            "cn": [member.username],
            "sAMAccountName": [member.username],
            "userPrincipalName": [self.user_principal_name(member)],
            "displayName": [member.full_name],
            "givenName": [member.given_name],
            "sn": [member.surname],
            "mail": [member.email],
            "department": [values.department],
            "company": [member.company],
            "physicalDeliveryOfficeName": [values.office],
            # AD returns memberOf with the user's other attributes.
            "memberOf": group_dns,
            "userAccountControl": [str(control)],
            "distinguishedName": [self.member_dn(member)],
        }

    def member_operational(self, group_dns: list[str]) -> Attributes:
        return {}

    def group_attributes(self, group: Group, member_dns: list[str]) -> Attributes:
        return {
            "objectClass": ["top", "group"],
            "objectCategory": ["group"],
            "cn": [group.name],
            "sAMAccountName": [group.name],
            "description": [f"{group.kind} group"],
            "groupType": [GLOBAL_SECURITY_GROUP],
            "member": member_dns,
            "distinguishedName": [self.group_dn(group)],
        }

    def bind_names(self, member: Member) -> list[str]:
        """The UPN, ``username@<upn suffix>`` and ``<DOMAIN>\\username``."""
        return [
            self.user_principal_name(member),
            f"{member.username}@{self.settings.upn_suffix}",
            f"{self.settings.netbios_domain}\\{member.username}",
        ]
