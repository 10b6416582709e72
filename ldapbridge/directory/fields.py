"""What a member shows PaperCut: card numbers, PIN, department and office.

Which member field feeds each of them is configured once (``[directory]
card_from`` ...), and the LDAP profiles and the custom sync program both read
them here, so the two doors to PaperCut always agree.
"""

from __future__ import annotations

import re

import attrs

from ldapbridge.config import DirectorySettings
from ldapbridge.directory.model import Member

# PaperCut accepts a PIN of digits only (its user-pin-field); anything else in
# the data is left out rather than published in a form PaperCut rejects.
PIN_DIGITS = re.compile(r"[0-9]+")


@attrs.frozen
class Published:
    """The PaperCut-facing values of one member; an empty string is absent."""

    card: str
    second_card: str
    pin: str = attrs.field(repr=False)
    department: str
    office: str


def published(member: Member, settings: DirectorySettings) -> Published:
    """The values ``member`` publishes under ``settings``."""
    pin = _device_credential(member, settings.pin_from)
    return Published(
        card=_device_credential(member, settings.card_from),
        second_card=_device_credential(member, settings.second_card_from),
        pin=pin if PIN_DIGITS.fullmatch(pin) else "",
        department=label(member, settings.department_from),
        office=label(member, settings.office_from),
    )


def _device_credential(member: Member, field: str) -> str:
    """A card or PIN to publish: none for a cancelled member.

    PaperCut logs a card or PIN in at the copier from its own copy, without
    asking the directory: a cancelled member published with include_cancelled
    must not bring one along, or they could still print.
    """
    return credential(member, field) if member.active else ""


def credential(member: Member, field: str) -> str:
    """A card-like member field, exactly as stored (leading zeros, case)."""
    values = {
        "card": member.card,
        "second_card": member.second_card,
        "pin": member.pin,
        "member_id": member.member_id,
    }
    return values.get(field, "")


def label(member: Member, field: str) -> str:
    """A grouping field; ``team`` is the first team, else the company."""
    values = {
        "team": member.teams[0] if member.teams else member.company,
        "company": member.company,
        "plan": member.plan,
        "location": member.location,
    }
    return values.get(field, "")
