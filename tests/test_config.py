"""Reading bridge.conf: values, defaults, and an exact message per error."""

from __future__ import annotations

from pathlib import Path

import pytest

from ldapbridge import config
from tests.support import DEMO_CSV, ROOT

MINIMAL = f"""
[source]
path = {DEMO_CSV}

[service.papercut]
password = hunter2-secret
"""


def load(tmp_path: Path, text: str) -> config.Settings:
    path = tmp_path / "bridge.conf"
    path.write_text(text, encoding="utf-8")
    return config.load(path)


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(config.ConfigError) as caught:
        load(tmp_path, text)
    return str(caught.value)


def with_section(section: str, body: str) -> str:
    """MINIMAL plus ``body`` in ``section`` (merged if MINIMAL has it)."""
    if f"[{section}]" in MINIMAL:
        return MINIMAL.replace(f"[{section}]", f"[{section}]\n{body}")
    return f"{MINIMAL}\n[{section}]\n{body}\n"


class TestValues:
    def test_shipped_bridge_conf(self):
        """The shipped bridge.conf serves the demo on 127.0.0.1:10389."""
        settings = config.load(ROOT / "bridge.conf")
        assert settings.server == config.ServerSettings("127.0.0.1", 10389, 10636)
        assert settings.directory.base_dn == "dc=example,dc=com"
        assert settings.directory.profile == "unix"
        assert settings.directory.include_cancelled is False
        assert settings.source.type == "file"
        assert settings.source.path == ROOT / "demo" / "members.csv"
        assert [s.name for s in settings.services] == ["papercut"]
        assert settings.services[0].password == "papercut-demo"

    def test_defaults(self, tmp_path):
        """A config with only a source and a service takes every default."""
        settings = load(tmp_path, MINIMAL)
        assert settings.server == config.ServerSettings()
        # The AD names default from base_dn's dc parts (dc=example,dc=com).
        assert settings.directory == config.DirectorySettings(
            upn_suffix="example.com", netbios_domain="EXAMPLE"
        )
        assert settings.logging == config.LoggingSettings("info", "text")
        assert settings.source.encoding == "utf-8-sig"
        assert settings.source.columns == config.DEFAULT_COLUMNS
        assert settings.source.active_statuses == ("active",)
        assert settings.source.team_separator == ";"

    def test_relative_path_is_relative_to_the_config_file(self, tmp_path, monkeypatch):
        """path = members.csv means next to the config file, not the cwd."""
        monkeypatch.chdir(ROOT)
        settings = load(tmp_path, MINIMAL.replace(str(DEMO_CSV), "data/members.csv"))
        assert settings.source.path == tmp_path / "data" / "members.csv"

    def test_every_directory_key(self, tmp_path):
        """Each [directory] key is read into its setting."""
        settings = load(
            tmp_path,
            with_section(
                "directory",
                "base_dn = o=Space\ninclude_cancelled = yes\ngroups = team, all\n"
                "all_members_group = everyone\nusername_from = EMAIL_LOCALPART\n"
                "home_directory = /u/{username}\nlogin_shell = /bin/sh\n"
                "uid_number_base = 20000\ngid_number_base = 30000\nprofile = unix",
            ),
        )
        assert settings.directory == config.DirectorySettings(
            base_dn="o=Space",
            profile="unix",
            include_cancelled=True,
            group_kinds=("team", "all"),
            all_members_group="everyone",
            username_from="email_localpart",
            home_directory="/u/{username}",
            login_shell="/bin/sh",
            uid_number_base=20000,
            gid_number_base=30000,
        )

    @pytest.mark.parametrize(
        ("word", "value"),
        [
            ("true", True),
            ("Yes", True),
            ("on", True),
            ("1", True),
            ("FALSE", False),
            ("no", False),
            ("off", False),
            ("0", False),
        ],
    )
    def test_boolean_words(self, tmp_path, word, value):
        """true/yes/on/1 and false/no/off/0, in any case, are booleans."""
        text = with_section("directory", f"include_cancelled = {word}")
        assert load(tmp_path, text).directory.include_cancelled is value

    def test_source_columns_and_statuses(self, tmp_path):
        """Column names and active statuses come from [source]."""
        settings = load(
            tmp_path,
            with_section(
                "source",
                "column_email = E-mail\ncolumn_card = Badge\n"
                "active_statuses = Active, Trial\nteam_separator = |\n"
                "encoding = latin-1",
            ),
        )
        assert settings.source.columns["email"] == "E-mail"
        assert settings.source.columns["card"] == "Badge"
        assert settings.source.columns["full_name"] == "Full Name"
        assert settings.source.active_statuses == ("active", "trial")
        assert settings.source.team_separator == "|"
        assert settings.source.encoding == "latin-1"

    def test_service_password_from_a_file(self, tmp_path):
        """password_file reads the secret from a file, trailing newline dropped."""
        secret = tmp_path / "secret"
        secret.write_text("from-a-file\n", encoding="utf-8")
        text = MINIMAL.replace("password = hunter2-secret", f"password_file = {secret}")
        assert load(tmp_path, text).services[0].password == "from-a-file"

    def test_relative_password_file_is_relative_to_the_config_file(
        self, tmp_path, monkeypatch
    ):
        """password_file = secret means next to the config file, not the cwd."""
        (tmp_path / "secret").write_text("beside-the-config\n", encoding="utf-8")
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        monkeypatch.chdir(elsewhere)
        text = MINIMAL.replace("password = hunter2-secret", "password_file = secret")
        assert load(tmp_path, text).services[0].password == "beside-the-config"

    def test_service_password_from_the_environment(self, tmp_path, monkeypatch):
        """password_env names an environment variable holding the secret."""
        monkeypatch.setenv("LDAPBRIDGE_TEST_PW", "from-the-env")
        text = MINIMAL.replace(
            "password = hunter2-secret", "password_env = LDAPBRIDGE_TEST_PW"
        )
        assert load(tmp_path, text).services[0].password == "from-the-env"

    def test_several_service_accounts(self, tmp_path):
        """Each [service.<name>] section is one account."""
        text = MINIMAL + "\n[service.backup]\npassword = other\n"
        assert [s.name for s in load(tmp_path, text).services] == ["papercut", "backup"]

    def test_service_password_is_not_in_the_repr(self, tmp_path):
        """A service account's repr never shows its password."""
        settings = load(tmp_path, MINIMAL)
        assert "hunter2" not in repr(settings)


class TestErrors:
    @pytest.mark.parametrize(
        ("section", "body", "message"),
        [
            (
                "server",
                "ldap_port = 70000",
                "[server] ldap_port: expected an integer from 0 to 65535, "
                "found '70000'",
            ),
            (
                "server",
                "ldap_port = ldap",
                "[server] ldap_port: expected an integer from 0 to 65535, found 'ldap'",
            ),
            (
                "directory",
                "include_cancelled = maybe",
                "[directory] include_cancelled: expected true or false, found 'maybe'",
            ),
            (
                "directory",
                "profile = novell",
                "[directory] profile: expected one of unix, ad, edirectory, "
                "found 'novell'",
            ),
            (
                "directory",
                "username_from = name",
                "[directory] username_from: expected one of email, email_localpart, "
                "member_id, found 'name'",
            ),
            (
                "directory",
                "groups = team, desks",
                "[directory] groups: expected a list drawn from team, plan, location, "
                "all, found desks",
            ),
            (
                "directory",
                "base_dn = example.com",
                "[directory] base_dn: expected a DN such as dc=example,dc=com, "
                "found 'example.com'",
            ),
            (
                "directory",
                "uid_number_base = 0",
                "[directory] uid_number_base: expected an integer from 1 to "
                "2130706432, found '0'",
            ),
            (
                "source",
                "type = gopher",
                "[source] type: expected one of file, http, nexudus, officernd, "
                "cobot, optix, found 'gopher'",
            ),
            (
                "source",
                "team_separator =",
                "[source] team_separator: expected one or more characters, "
                "found nothing",
            ),
            (
                "source",
                "encoding = klingon",
                "[source] encoding: expected a text encoding such as utf-8, "
                "found 'klingon'",
            ),
            (
                "source",
                "encoding = base64",
                "[source] encoding: expected a text encoding such as utf-8, "
                "found 'base64'",
            ),
            (
                "logging",
                "level = loud",
                "[logging] level: expected one of debug, info, warn, error, "
                "found 'loud'",
            ),
            (
                "logging",
                "format = xml",
                "[logging] format: expected one of text, json, found 'xml'",
            ),
            (
                "server",
                "colour = blue\nport = 1",
                "[server]: unknown key(s) colour, port; "
                "expected one of bind_address, ldap_port, ldaps_port",
            ),
        ],
    )
    def test_bad_value_names_section_key_expected_and_found(
        self, tmp_path, section, body, message
    ):
        """Each bad value is reported with its section, key and what was wrong."""
        assert error_of(tmp_path, with_section(section, body)) == message

    def test_missing_source_path(self, tmp_path):
        """A config without [source] path says so."""
        text = "[service.papercut]\npassword = x\n"
        assert error_of(tmp_path, text) == (
            "[source] path: expected the path of a member export (CSV), found nothing"
        )

    def test_unknown_section(self, tmp_path):
        """A section the bridge does not know is an error naming it."""
        assert error_of(tmp_path, MINIMAL + "\n[ldap]\nport = 1\n") == (
            "[ldap]: unknown section; expected one of directory, limits, logging, "
            "metrics, security, server, snapshot, source, tls or [service.<name>] "
            "(HTTP sources: "
            "[source.members], [source.fields], [source.password_check], "
            "[source.lookup.<name>])"
        )

    def test_service_without_password(self, tmp_path):
        """A service account needs a password."""
        text = MINIMAL.replace("password = hunter2-secret", "password =")
        assert error_of(tmp_path, text) == (
            "[service.papercut] password: expected a non-empty password, found nothing"
        )

    def test_service_password_from_an_empty_variable(self, tmp_path, monkeypatch):
        """A set but empty password_env variable is blamed on password_env."""
        monkeypatch.setenv("LDAPBRIDGE_TEST_EMPTY", "")
        text = MINIMAL.replace(
            "password = hunter2-secret", "password_env = LDAPBRIDGE_TEST_EMPTY"
        )
        assert error_of(tmp_path, text) == (
            "[service.papercut] password_env: expected a non-empty password, "
            "found nothing"
        )

    def test_service_section_without_a_name(self, tmp_path):
        """[service.] would make the DN cn=,ou=services,...: it needs a name."""
        text = MINIMAL.replace("[service.papercut]", "[service.]")
        assert error_of(tmp_path, text) == (
            "[service.]: expected a name after service., such as "
            "[service.papercut], found nothing"
        )

    def test_service_names_differing_only_in_case_are_refused(self, tmp_path):
        """[service.PaperCut] after [service.papercut] would be the same DN."""
        text = MINIMAL + "\n[service.PaperCut]\npassword = other-secret\n"
        assert error_of(tmp_path, text) == (
            "[service.PaperCut]: expected a service account name of its own, "
            "found the name of [service.papercut] (names ignore case and extra "
            "spaces)"
        )

    def test_unreadable_password_file(self, tmp_path):
        """A password_file that cannot be read names the file and the reason."""
        missing = tmp_path / "no-such-secret"
        text = MINIMAL.replace(
            "password = hunter2-secret", f"password_file = {missing}"
        )
        assert error_of(tmp_path, text) == (
            f"[service.papercut] password_file: expected a readable file, "
            f"found {missing} (No such file or directory)"
        )

    @pytest.mark.parametrize(
        ("extra", "keys"),
        [
            ("password_file = secret", "password, password_file"),
            ("password_env = HOME", "password, password_env"),
        ],
    )
    def test_password_given_twice_is_refused(self, tmp_path, extra, keys):
        """A password with a password_file or _env beside it is ambiguous."""
        (tmp_path / "secret").write_text("from-a-file\n", encoding="utf-8")
        text = MINIMAL.replace(
            "password = hunter2-secret", f"password = hunter2-secret\n{extra}"
        )
        message = error_of(tmp_path, text)
        assert message == (
            f"[service.papercut] password: expected one of password, password_file "
            f"or password_env, found {keys}"
        )
        assert "hunter2" not in message

    def test_unset_password_environment_variable(self, tmp_path, monkeypatch):
        """A password_env naming an unset variable says which."""
        monkeypatch.delenv("LDAPBRIDGE_TEST_UNSET", raising=False)
        text = MINIMAL.replace(
            "password = hunter2-secret", "password_env = LDAPBRIDGE_TEST_UNSET"
        )
        assert error_of(tmp_path, text) == (
            "[service.papercut] password_env: expected the name of a set environment "
            "variable, found 'LDAPBRIDGE_TEST_UNSET'"
        )

    def test_a_secret_given_as_the_variable_name_is_not_shown(
        self, tmp_path, monkeypatch
    ):
        """A password_env holding what looks like the password itself is not
        echoed: only upper-case variable names are shown."""
        text = MINIMAL.replace(
            "password = hunter2-secret", "password_env = Hunter2Secret"
        )
        message = error_of(tmp_path, text)
        assert message == (
            "[service.papercut] password_env: expected the name of a set environment "
            "variable, found a value that is not an upper-case variable name (not "
            "shown)"
        )

    @pytest.mark.parametrize(
        "damaged",
        [
            "$2b$12$tooshort",
            "$2y$10$x9uKKTOUnrIHoTVlUj/XA.XPdiNCfbrIDVZpCPmT8IdqzhhTqTqU",
            "$2a$",
            "$argon2id$v=19$m=65536,t=3,p=4",
            "$argon2i$",
        ],
    )
    def test_damaged_hash_is_refused_without_quoting_it(self, tmp_path, damaged):
        """A value that begins like a hash but is not a whole one is an error."""
        text = MINIMAL.replace("password = hunter2-secret", f"password = {damaged}")
        message = error_of(tmp_path, text)
        assert message == (
            "[service.papercut] password: expected a whole bcrypt or argon2 hash, "
            "or a password that does not begin like one, found a value that "
            "looks like a damaged hash (did a shell expand its $?)"
        )
        assert damaged not in message

    def test_damaged_hash_from_the_environment_names_password_env(
        self, tmp_path, monkeypatch
    ):
        """The error names password_env when the damaged hash came from there."""
        monkeypatch.setenv("LDAPBRIDGE_TEST_PW", "$2b$12$")
        text = MINIMAL.replace(
            "password = hunter2-secret", "password_env = LDAPBRIDGE_TEST_PW"
        )
        assert error_of(tmp_path, text).startswith(
            "[service.papercut] password_env: expected a whole bcrypt or argon2 hash"
        )

    @pytest.mark.parametrize(
        "password",
        [
            "$2cool-but-plain",
            "$2b-not-a-hash-prefix",
            "$argon-plain",
            "$2b$10$x9uKKTOUnrIHoTVlUj/XA.XPdiNCfbrIDVZpCPmT8IdqzhhTqTqUy",
            "$argon2id$v=19$m=65536,t=3,p=4$fQm4rC2+cuRxgCsZnKdrIQ"
            "$prJF4VqO9cjeupeKgxRcqLtnmm+l/+bwIsFWDry0uNI",
        ],
    )
    def test_whole_hashes_and_other_dollar_passwords_are_kept(self, tmp_path, password):
        """Whole hashes and passwords not starting like a hash load as given."""
        text = MINIMAL.replace("password = hunter2-secret", f"password = {password}")
        assert load(tmp_path, text).services[0].password == password

    def test_unknown_service_key_does_not_reveal_the_password(self, tmp_path):
        """An error in a service section never quotes its secret."""
        message = error_of(tmp_path, MINIMAL + "passwd = hunter2-typo\n")
        assert message == (
            "[service.papercut]: unknown key(s) passwd; "
            "expected one of password, password_env, password_file"
        )
        assert "hunter2" not in message

    def test_missing_config_file(self, tmp_path):
        """A config file that does not exist is named in the error."""
        path = tmp_path / "nowhere.conf"
        with pytest.raises(config.ConfigError) as caught:
            config.load(path)
        assert str(caught.value) == (
            f"cannot read config file {path}: No such file or directory"
        )

    def test_not_ini(self, tmp_path):
        """Text that is not INI is reported as such, with the line."""
        message = error_of(tmp_path, "ldap_port = 10389\n")
        assert message == (
            f"config file {tmp_path / 'bridge.conf'} is not valid INI: "
            "line 1: a key before the first [section] header"
        )

    def test_a_broken_line_is_not_quoted(self, tmp_path):
        """A secret pasted without its key is named by line number only."""
        message = error_of(tmp_path, MINIMAL + "S3cretAdminPw\n")
        assert message == (
            f"config file {tmp_path / 'bridge.conf'} is not valid INI: "
            "line 7: expected 'key = value' or a [section] header"
        )

    def test_a_repeated_key_is_named(self, tmp_path):
        """A key given twice in a section names the key and the section."""
        message = error_of(tmp_path, MINIMAL + "password = again\n")
        assert message == (
            f"config file {tmp_path / 'bridge.conf'} is not valid INI: "
            "line 7: key password appears twice in [service.papercut]"
        )
