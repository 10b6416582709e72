"""PaperCut's three LDAP server types, and the profile serving each."""

from __future__ import annotations

from collections.abc import Mapping

from ldapbridge.config import DirectorySettings
from ldapbridge.ldap.activedirectory import ActiveDirectoryProfile
from ldapbridge.ldap.edirectory import EDirectoryProfile
from ldapbridge.ldap.profiles import Layout, Profile, UnixProfile

# Keyed as ``[directory] profile`` names them (config.PROFILES).
PROFILES: Mapping[str, type[Profile]] = {
    "unix": UnixProfile,
    "ad": ActiveDirectoryProfile,
    "edirectory": EDirectoryProfile,
}


def make_profile(settings: DirectorySettings) -> Profile:
    """The configured profile; raises ConfigError for a clashing attribute."""
    return PROFILES[settings.profile](settings, Layout.from_settings(settings))
