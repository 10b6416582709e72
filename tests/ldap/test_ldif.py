"""LDIF content records (RFC 2849) for export and lookup."""

from __future__ import annotations

from ldapbridge.ldap.entry import Entry
from ldapbridge.ldap.ldif import entries_ldif, entry_ldif
from ldapbridge.ldap.search import Selection


def entry(dn: str, **attributes: list[str]) -> Entry:
    return Entry(dn=dn, ndn=dn.lower(), parent_ndn="", attributes=attributes)


class TestValueEncoding:
    def test_safe_values_are_written_plain(self) -> None:
        """ASCII values with no unsafe first or last character stay readable."""
        written = entry_ldif(entry("cn=a,dc=x", cn=["Ann Lee"]), ["cn"])

        assert written == b"dn: cn=a,dc=x\ncn: Ann Lee\n\n"

    def test_non_ascii_dn_and_value_are_base64(self) -> None:
        """A non-ASCII DN and value are not SAFE-STRINGs, so both go base64."""
        written = entry_ldif(entry("cn=Zoë,dc=x", cn=["Zoë"]), ["cn"])

        assert written == b"dn:: Y249Wm/DqyxkYz14\ncn:: Wm/Dqw==\n\n"

    def test_unsafe_first_or_last_character_is_base64(self) -> None:
        """Leading space, colon or '<', and a trailing space force base64."""
        values = [" lead", ":colon", "<angle", "trail "]
        written = entry_ldif(entry("cn=a,dc=x", description=values), ["description"])

        assert written.splitlines()[1:5] == [
            b"description:: IGxlYWQ=",
            b"description:: OmNvbG9u",
            b"description:: PGFuZ2xl",
            b"description:: dHJhaWwg",
        ]

    def test_attribute_names_keep_their_case(self) -> None:
        """Names are looked up lowercase but written as the profile spells them."""
        written = entry_ldif(
            entry("cn=a,dc=x", employeeNumber=["007"]), ["employeenumber"]
        )

        assert written == b"dn: cn=a,dc=x\nemployeeNumber: 007\n\n"


class TestFile:
    def test_file_starts_with_version_and_keeps_entry_order(self) -> None:
        """A file is "version: 1", then each entry in the order given."""
        entries = [entry("dc=x", dc=["x"]), entry("cn=a,dc=x", cn=["a"])]

        written = b"".join(entries_ldif(entries, Selection()))

        assert written == b"version: 1\n\ndn: dc=x\ndc: x\n\ndn: cn=a,dc=x\ncn: a\n\n"
