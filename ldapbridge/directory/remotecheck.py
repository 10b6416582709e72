"""Checking a member's password by asking their coworking platform.

Nexudus answers a token request made with the member's own credentials;
OfficeRnD has a sign-in endpoint; any other platform can be described as
"POST these fields; this status means valid".  A platform that cannot answer
makes the check unavailable (the bind gets 52, not 49), and the log says why.
"""

from __future__ import annotations

from typing import NoReturn

from twisted.logger import Logger

from ldapbridge.directory.httpclient import HttpClient, UnreachableError
from ldapbridge.directory.model import Member
from ldapbridge.directory.passwords import PasswordCheckUnavailable
from ldapbridge.directory.ratelimit import RateLimitedError
from ldapbridge.mappingconfig import PasswordCheckSettings

log = Logger(namespace="ldapbridge.directory")


class RemotePasswordChecker:
    """Ask the platform; True for a valid status, False for an invalid one."""

    def __init__(self, settings: PasswordCheckSettings, client: HttpClient) -> None:
        self.settings = settings
        self.client = client

    def check(self, member: Member, password: str) -> bool:
        """Raise PasswordCheckUnavailable when the platform gives no verdict."""
        fields = self._fields(member, password)
        form, body = (
            (fields, None) if self.settings.format == "form" else (None, fields)
        )
        try:
            status = self.client.post_once(
                self.settings.path,
                form=form,
                json_body=body,
                timeout_s=self.settings.timeout_s,
            )
        except (UnreachableError, RateLimitedError) as e:
            self._unavailable(member, str(e))
        if status in self.settings.valid_statuses:
            return True
        if status in self.settings.invalid_statuses:
            return False
        self._unavailable(member, f"it answered HTTP {status}")

    def _fields(self, member: Member, password: str) -> dict[str, str]:
        values = {
            "email": member.email,
            "username": member.username,
            "member_id": member.member_id,
            "password": password,
        }
        return {
            name: template.format_map(values) for name, template in self.settings.fields
        }

    def _unavailable(self, member: Member, why: str) -> NoReturn:
        log.warn(
            "cannot check the password of {username} with {platform} "
            "(POST {path}): {why}",
            username=member.username,
            platform=self.client.settings.platform,
            path=self.settings.path,
            why=why,
        )
        raise PasswordCheckUnavailable(f"{self.client.settings.platform}: {why}")


class NoPasswordChecker:
    """For platforms with no way to check a member's password: never valid."""

    def __init__(self, platform: str) -> None:
        self.platform = platform
        self._warned = False

    def check(self, member: Member, password: str) -> bool:
        if not self._warned:
            log.warn(
                "members of {platform} cannot bind: no [source.password_check] "
                "is configured",
                platform=self.platform,
            )
            self._warned = True
        return False
