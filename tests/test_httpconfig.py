"""Config of HTTP sources (httpconfig, mappingconfig): presets, overrides, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from ldapbridge import config
from tests.directory.kit import bridge_config, load

NEXUDUS = {
    "type": "nexudus",
    "base_url": "https://spaces.example.invalid/",
    "username": "admin@space.example",
    "password": "admin-pw-invented",
}

OFFICERND_CLIENT = {"client_id": "client", "client_secret": "secret-invented"}


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(config.ConfigError) as caught:
        load(tmp_path, text)
    return str(caught.value)


class TestPresets:
    def test_a_preset_fills_what_the_config_leaves_unset(self, tmp_path: Path) -> None:
        """type = nexudus brings its endpoints, paging, fields and password check."""
        http = load(tmp_path, bridge_config(NEXUDUS)).source.http
        assert (http.platform, http.base_url) == (
            "nexudus",
            "https://spaces.example.invalid",
        )
        assert (http.auth.kind, http.auth.token_path) == (
            "password_grant",
            "/api/token",
        )
        assert (http.members.path, http.members.page_size) == (
            "/api/spaces/coworkers",
            1000,
        )
        assert http.client.rate_per_minute == 120
        assert http.client.retry_statuses == (409, 429, 500, 502, 503, 504)
        assert http.fields["card"].expression.text == "AccessCardId | KeyFobNumber"
        assert http.password_check.path == "/api/token"

    def test_the_config_overrides_a_preset_key_by_key(self, tmp_path: Path) -> None:
        """A field set in the config wins; an empty one removes the preset's."""
        fields = {"card": "Custom1", "card_transform": "digits", "pin": ""}
        http = load(tmp_path, bridge_config(NEXUDUS, source__fields=fields)).source.http
        assert http.fields["card"].expression.text == "Custom1"
        assert [t.name for t in http.fields["card"].transforms] == ["digits"]
        assert "pin" not in http.fields
        assert http.fields["email"].expression.text == "Email"

    def test_an_empty_path_switches_off_the_password_check(
        self, tmp_path: Path
    ) -> None:
        """[source.password_check] path = (empty) leaves members no remote check."""
        text = bridge_config(NEXUDUS, source__password_check={"path": ""})
        assert load(tmp_path, text).source.http.password_check is None

    def test_secrets_come_from_a_file_and_stay_out_of_reprs(
        self, tmp_path: Path
    ) -> None:
        """password_file is read; the password appears in no repr of the settings."""
        secret = tmp_path / "nexudus-password"
        secret.write_text("from-a-file-invented\n")
        keys = {k: v for k, v in NEXUDUS.items() if k != "password"}
        settings = load(tmp_path, bridge_config({**keys, "password_file": str(secret)}))
        assert settings.source.http.auth.password == "from-a-file-invented"
        assert "from-a-file-invented" not in repr(settings)

    def test_relative_secret_and_ca_files_are_beside_the_config(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """password_file and tls_ca_file name files next to the config file."""
        (tmp_path / "nexudus-password").write_text("beside-invented\n")
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        monkeypatch.chdir(elsewhere)
        keys = {k: v for k, v in NEXUDUS.items() if k != "password"}
        keys.update(password_file="nexudus-password", tls_ca_file="ca.pem")

        http = load(tmp_path, bridge_config(keys)).source.http

        assert http.auth.password == "beside-invented"
        assert http.client.tls_ca_file == str(tmp_path / "ca.pem")


class TestHttpConfigErrors:
    @pytest.mark.parametrize(
        ("sections", "message"),
        [
            (
                {"source": {**NEXUDUS, "base_url": ""}},
                "[source] base_url: expected an http:// or https:// URL, found nothing",
            ),
            (
                {"source": {k: v for k, v in NEXUDUS.items() if k != "password"}},
                "[source] password: expected a value (auth = password_grant needs "
                "it), found nothing",
            ),
            (
                {"source": NEXUDUS, "source__fields": {"card": "Access..Card"}},
                "[source.fields] card: expected a field expression (path "
                "'Access..Card' has a bad segment ''), found 'Access..Card'",
            ),
            (
                {"source": NEXUDUS, "source__fields": {"card_transform": "rot13"}},
                "[source.fields] card_transform: expected transforms such as "
                "lowercase (unknown transform 'rot13'; known: lowercase, uppercase, "
                "digits, hex_to_decimal, split), found 'rot13'",
            ),
            (
                {"source": NEXUDUS, "source__fields": {"company_lookup": "firms"}},
                "[source.fields] company_lookup: expected the name of a "
                "[source.lookup.<name>] section, found firms",
            ),
            (
                {"source": NEXUDUS, "source__fields": {"active": "Since >= tomorrow"}},
                "[source.fields] active: expected a rule such as status = active "
                "(rule 'Since >= tomorrow': >= compares with 'today' or a number), "
                "found 'Since >= tomorrow'",
            ),
            (
                {"source": NEXUDUS, "source__members": {"colour": "blue"}},
                "[source.members]: unknown key(s) colour; expected one of "
                "changed_since_format, changed_since_param, cursor, cursor_header, "
                "cursor_param, first_page, graphql, has_more, next, page_param, "
                "page_size, paging, params, path, rate_per_minute, records, "
                "size_param, total",
            ),
            (
                {"source": NEXUDUS, "source__members": {"paging": "cursor"}},
                "[source.members] cursor: expected the path of the next cursor "
                "(paging = cursor), found nothing",
            ),
            (
                {"source": NEXUDUS, "source__password_check": {"fields": "pw={pass}"}},
                "[source.password_check] fields: expected placeholders among "
                "{email}, {username}, {member_id}, {password}, found {pass}",
            ),
            (
                {"source": {**NEXUDUS, "type": "officernd", **OFFICERND_CLIENT}},
                "[source.members] path: expected [source] organization to be set "
                "for {organization}, found "
                "/api/v2/organizations/{organization}/members",
            ),
            (
                {"source": {"type": "file", "path": "m.csv"}, "source__fields": {}},
                "[source.fields]: only HTTP sources read it, not type = file",
            ),
            (
                {"source": NEXUDUS, "snapshot": {"max_shrink": "1.5"}},
                "[snapshot] max_shrink: expected a number from 0 to 1, found '1.5'",
            ),
        ],
    )
    def test_errors_name_the_section_key_and_values(
        self, tmp_path: Path, sections: dict[str, dict[str, str]], message: str
    ) -> None:
        """Each mistake is reported with its section, key, expectation and finding."""
        source = sections.pop("source")
        assert error_of(tmp_path, bridge_config(source, **sections)) == message

    def test_an_unknown_source_section_is_named(self, tmp_path: Path) -> None:
        """[source.extra] is no section an HTTP source reads."""
        message = error_of(tmp_path, bridge_config(NEXUDUS, source__extra={"a": "1"}))
        assert message.startswith("[source.extra]: unknown section; expected one of ")


class TestSnapshotConfig:
    def test_defaults_keep_the_snapshot_next_to_the_config(
        self, tmp_path: Path
    ) -> None:
        """Without [snapshot], the file sits beside the config; 300 s, 10%, daily."""
        snapshot = load(tmp_path, bridge_config(NEXUDUS)).snapshot
        assert snapshot.path == tmp_path / "ldapbridge-snapshot.json"
        assert (snapshot.refresh_interval_s, snapshot.full_refresh_interval_s) == (
            300.0,
            86400.0,
        )
        assert (snapshot.max_shrink, snapshot.accept_shrink) == (0.10, False)

    def test_an_empty_path_keeps_no_snapshot(self, tmp_path: Path) -> None:
        """[snapshot] path = (empty) keeps nothing on disk."""
        text = bridge_config(NEXUDUS, snapshot={"path": ""})
        assert load(tmp_path, text).snapshot.path is None
