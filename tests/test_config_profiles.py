"""Config keys of the profiles: card and PIN fields, attribute names, AD domains."""

from __future__ import annotations

import configparser
import subprocess
import sys
from pathlib import Path

import pytest

from ldapbridge import config
from ldapbridge.ldap.servertypes import make_profile
from tests.support import demo_config


def load(**directory: str) -> config.Settings:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(demo_config(directory=directory))
    return config.parse(parser, Path("/etc/ldapbridge/bridge.conf"))


class TestProfileKeys:
    def test_defaults(self) -> None:
        """Without the keys: card, second card, PIN, first team, location."""
        d = load().directory

        assert (d.card_from, d.second_card_from, d.pin_from) == (
            "card",
            "second_card",
            "pin",
        )
        assert (d.department_from, d.office_from) == ("team", "location")
        assert (d.card_attribute, d.second_card_attribute, d.pin_attribute) == (
            "",
            "",
            "",
        )

    def test_domain_names_come_from_the_base_dn(self) -> None:
        """upn_suffix is the dc= parts joined by dots; the domain is the first."""
        d = load(base_dn="OU=Print,DC=Cowork,DC=Example,DC=org", profile="ad").directory

        assert (d.upn_suffix, d.netbios_domain) == ("cowork.example.org", "COWORK")

    @pytest.mark.parametrize(
        ("key", "value", "message"),
        [
            (
                "card_from",
                "badge",
                "[directory] card_from: expected one of card, second_card, pin, "
                "member_id, none, found 'badge'",
            ),
            (
                "department_from",
                "desk",
                "[directory] department_from: expected one of team, company, plan, "
                "location, none, found 'desk'",
            ),
            (
                "pin_attribute",
                "print pin",
                "[directory] pin_attribute: expected an attribute name (letters, "
                "digits, hyphens), found 'print pin'",
            ),
        ],
    )
    def test_bad_value_names_section_key_expected_and_found(
        self, key: str, value: str, message: str
    ) -> None:
        """A bad value is a ConfigError saying what was expected."""
        with pytest.raises(config.ConfigError) as raised:
            load(**{key: value})

        assert str(raised.value) == message

    def test_two_credentials_on_one_attribute_is_refused(self) -> None:
        """The card and PIN cannot share an attribute name, whatever its case."""
        with pytest.raises(config.ConfigError) as raised:
            load(card_attribute="printId", pin_attribute="PRINTID")

        assert str(raised.value) == (
            "[directory] pin_attribute: expected a name not used by another "
            "*_attribute key, found 'PRINTID'"
        )

    def test_ad_profile_without_dc_parts_needs_a_upn_suffix(self) -> None:
        """base_dn o=Cowork gives no domain to derive, so the key is required."""
        with pytest.raises(config.ConfigError) as raised:
            load(base_dn="o=Cowork", profile="ad")

        assert str(raised.value) == (
            "[directory] upn_suffix: expected a DNS domain such as example.com, "
            "found nothing"
        )

    @pytest.mark.parametrize(
        "upn_suffix",
        ["print example.com", "example..com", ".example.com", "-a.com", "a_b.com"],
    )
    def test_ad_profile_refuses_a_upn_suffix_that_is_not_a_domain(
        self, upn_suffix: str
    ) -> None:
        """Spaces, an empty label or an underscore are not a DNS domain."""
        with pytest.raises(config.ConfigError) as raised:
            load(profile="ad", upn_suffix=upn_suffix)

        assert str(raised.value) == (
            "[directory] upn_suffix: expected a DNS domain such as example.com, "
            f"found {upn_suffix!r}"
        )

    def test_ad_profile_takes_a_single_label_domain_from_the_base_dn(self) -> None:
        """dc=local, as older sites have, gives upn_suffix local."""
        settings = load(profile="ad", base_dn="dc=local")

        assert settings.directory.upn_suffix == "local"

    def test_ad_profile_takes_a_domain_with_digits_and_hyphens(self) -> None:
        """A upn_suffix such as print-2.Example.org is kept, lowercased."""
        settings = load(profile="ad", upn_suffix="print-2.Example.org")

        assert settings.directory.upn_suffix == "print-2.example.org"

    def test_pin_attribute_taken_by_the_profile_is_refused(self) -> None:
        """A PIN on uid would replace the username: make_profile refuses it."""
        settings = load(pin_attribute="UID")

        with pytest.raises(config.ConfigError) as raised:
            make_profile(settings.directory)

        assert str(raised.value) == (
            "[directory] pin_attribute: expected an attribute not already used "
            "by the unix profile, found 'UID'"
        )

    def test_pin_attribute_on_the_default_card_attribute_is_refused(self) -> None:
        """A PIN on employeeNumber, the card's default, would replace the card."""
        settings = load(pin_attribute="employeeNumber")

        with pytest.raises(config.ConfigError) as raised:
            make_profile(settings.directory)

        assert str(raised.value) == (
            "[directory] pin_attribute: expected an attribute not already used "
            "by [directory] card_attribute, found 'employeeNumber'"
        )

    def test_serve_refuses_a_taken_attribute_at_start(self, tmp_path: Path) -> None:
        """`ldapbridge serve` exits 2 with the config error, before listening."""
        conf = tmp_path / "bridge.conf"
        text = demo_config(directory={"profile": "ad", "card_attribute": "department"})
        conf.write_text(text, encoding="utf-8")

        result = subprocess.run(
            [sys.executable, "-m", "ldapbridge.service.cli", "serve", "--config", conf],
            capture_output=True,
            text=True,
            timeout=30,
        )

        assert (result.returncode, result.stderr) == (
            2,
            "ldapbridge: config error: [directory] card_attribute: expected an "
            "attribute not already used by the ad profile, found 'department'\n",
        )
