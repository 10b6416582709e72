"""Every ``ldapbridge`` command, run as a process against the demo config."""

from __future__ import annotations

import base64
import os
import pty
import select
import stat
import sys
import time
from pathlib import Path

import argon2
import bcrypt
import pytest

from ldapbridge.directory.passwords import verify_secret
from tests.service.helpers import run_cli
from tests.support import (
    DEMO_CSV,
    ROOT,
    SERVICE_DN,
    SERVICE_PASSWORD,
    RunningServer,
    demo_config,
    ldap_tool,
    running_server,
)

DEMO_CONFIG = ROOT / "bridge.conf"
HEADER = "Member ID,Full Name,Email,Company,Team,Plan,Location,Access Card,PIN,Status"
ALEX_GROUPS = [
    "# groups PaperCut would see: 4",
    "#   cn=all-members,ou=groups,dc=example,dc=com",
    "#   cn=Hot Desk,ou=groups,dc=example,dc=com",
    "#   cn=Mill Lane,ou=groups,dc=example,dc=com",
    "#   cn=Night Owls,ou=groups,dc=example,dc=com",
]


def write_export(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "members.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bridge.conf"
    path.write_text(text, encoding="utf-8")
    return path


def served_ldif(server: RunningServer, *extra: str) -> str:
    """The whole tree as ldapsearch prints it, unwrapped, with no comments."""
    result = ldap_tool(
        "ldapsearch", server, "-LLL", "-o", "ldif-wrap=no",
        "-D", SERVICE_DN, "-w", SERVICE_PASSWORD,
        "-b", "dc=example,dc=com", "(objectClass=*)", *extra,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


class TestHelp:
    @pytest.mark.parametrize("command", ["serve", "check", "export", "lookup", "sync"])
    def test_each_directory_command_takes_config(
        self, command: str, tmp_path: Path
    ) -> None:
        """--help of each command that reads the config documents --config."""
        result = run_cli(command, "--help", cwd=tmp_path)

        assert result.returncode == 0
        assert result.stdout.startswith(f"usage: ldapbridge {command} [-h] [--config")
        assert "config file (default: bridge.conf)" in result.stdout

    def test_hash_password_help_says_how_the_password_is_read(
        self, tmp_path: Path
    ) -> None:
        """hash-password --help says the password is prompted without echo."""
        result = run_cli("hash-password", "--help", cwd=tmp_path)

        assert result.returncode == 0
        assert "prompted without echo" in result.stdout

    def test_no_command_prints_help_and_exits_2(self, tmp_path: Path) -> None:
        """Without a command, the overview of commands is printed."""
        result = run_cli(cwd=tmp_path)

        assert result.returncode == 2
        assert (
            "{serve,check,export,lookup,hash-password,sync,papercut-sync,papercut-auth}"
            in result.stdout
        )


class TestCheck:
    def test_demo_config_passes(self, tmp_path: Path) -> None:
        """The shipped config checks clean, with the demo's exact counts."""
        result = run_cli("check", "--config", str(DEMO_CONFIG), cwd=tmp_path)

        assert result.returncode == 0
        assert result.stdout.splitlines() == [
            f"config {DEMO_CONFIG}: valid",
            "source file: read 48 records",
            "directory dc=example,dc=com (profile unix): 46 members, 12 groups, "
            "2 cancelled members left out",
            "skipped records: 0",
            "service account: cn=papercut,ou=services,dc=example,dc=com",
            "check passed: 0 problem(s), 0 warning(s)",
        ]

    def test_skipped_records_are_listed_as_warnings(self, tmp_path: Path) -> None:
        """Records with no email or a taken username are listed with the reason."""
        export = write_export(
            tmp_path,
            "M-1,Ann One,ann@example.com,,,,,,,Active",
            "M-2,No Mail,,,,,,,,Active",
            "M-3,Ann Again,ANN@example.com,,,,,,,Active",
        )
        config = write_config(tmp_path, demo_config(export))

        result = run_cli("check", "--config", str(config), cwd=tmp_path)
        strict = run_cli("check", "--strict", "--config", str(config), cwd=tmp_path)

        assert result.returncode == 0
        assert result.stdout.splitlines()[3:6] == [
            "skipped records: 2",
            "  M-2: no email address",
            "  M-3: username 'ann@example.com' already belongs to member M-1",
        ]
        assert result.stdout.splitlines()[-1] == (
            "check passed: 0 problem(s), 2 warning(s)"
        )
        assert strict.returncode == 1
        assert strict.stdout.splitlines()[-1] == (
            "check failed: 0 problem(s), 2 warning(s)"
        )

    def test_unreadable_source_fails(self, tmp_path: Path) -> None:
        """A member file that is not there is a problem: exit status 1."""
        missing = tmp_path / "nowhere.csv"
        config = write_config(tmp_path, demo_config(missing))

        result = run_cli("check", "--config", str(config), cwd=tmp_path)

        assert result.returncode == 1
        assert result.stdout.splitlines()[1:] == [
            f"problem: source file: cannot read member file {missing}: "
            "No such file or directory",
            "check failed: 1 problem(s), 0 warning(s)",
        ]

    def test_empty_directory_fails(self, tmp_path: Path) -> None:
        """An export with no active member is a problem, not an empty directory."""
        export = write_export(
            tmp_path, "M-1,Gone Member,gone@example.com,,,,,,,Cancelled"
        )
        config = write_config(tmp_path, demo_config(export))

        result = run_cli("check", "--config", str(config), cwd=tmp_path)

        assert result.returncode == 1
        assert "problem: the directory would have no members" in result.stdout

    def test_invalid_value_names_section_key_expected_found(
        self, tmp_path: Path
    ) -> None:
        """A bad port is reported with its section, key, expectation and value."""
        config = write_config(tmp_path, demo_config(server={"ldap_port": "banana"}))

        result = run_cli("check", "--config", str(config), cwd=tmp_path)

        assert result.returncode == 2
        assert result.stderr == (
            "ldapbridge: config error: [server] ldap_port: expected an integer "
            "from 0 to 65535, found 'banana'\n"
        )

    @pytest.mark.parametrize(
        ("sections", "message"),
        [
            (
                {"security": {"failure_delay_s": "4", "max_failure_delay_s": "2"}},
                "[security] max_failure_delay_s: expected at least [security] "
                "failure_delay_s (4), found 2",
            ),
            (
                {"directory": {"profile": "ad", "upn_suffix": "print server"}},
                "[directory] upn_suffix: expected a DNS domain such as "
                "example.com, found 'print server'",
            ),
        ],
    )
    def test_inconsistent_security_or_domain_is_a_config_error(
        self, tmp_path: Path, sections: dict[str, dict[str, str]], message: str
    ) -> None:
        """A delay cap below the first delay, or a upn_suffix that is not a
        domain, stops check with exit 2 and the key, expectation and value."""
        config = write_config(tmp_path, demo_config(**sections))

        result = run_cli("check", "--config", str(config), cwd=tmp_path)

        assert (result.returncode, result.stderr) == (
            2,
            f"ldapbridge: config error: {message}\n",
        )

    def test_metrics_address_without_port_is_an_error(self, tmp_path: Path) -> None:
        """[metrics] bind_address alone is refused: the listener needs a port."""
        config = write_config(
            tmp_path, demo_config(metrics={"bind_address": "127.0.0.1"})
        )

        result = run_cli("check", "--config", str(config), cwd=tmp_path)

        assert result.returncode == 2
        assert result.stderr == (
            "ldapbridge: config error: [metrics] port: expected a port for the "
            "metrics listener, found nothing\n"
        )


class TestConfigErrors:
    @pytest.mark.parametrize(
        "command", [["check"], ["export", "--ldif"], ["lookup", "M-2001"], ["sync"]]
    )
    def test_attribute_clash_is_a_config_error(
        self, command: list[str], tmp_path: Path
    ) -> None:
        """An attribute name the profile already uses exits 2 as serve does."""
        text = demo_config(
            directory={"card_attribute": "mail"},
            snapshot={"path": str(tmp_path / "snapshot.json")},
        )
        config = write_config(tmp_path, text)

        result = run_cli(*command, "--config", str(config), cwd=tmp_path)

        assert result.returncode == 2
        assert result.stdout == ""
        assert result.stderr.startswith(
            "ldapbridge: config error: [directory] card_attribute: "
        )
        assert result.stderr.count("\n") == 1
        assert not (tmp_path / "snapshot.json").exists()

    def test_damaged_service_hash_is_refused(self, tmp_path: Path) -> None:
        """A bcrypt hash cut short by a shell is a config error, not a password."""
        text = demo_config(service__papercut={"password": "$2b$12$tooshort"})
        config = write_config(tmp_path, text)

        result = run_cli("check", "--config", str(config), cwd=tmp_path)

        assert result.returncode == 2
        assert result.stderr == (
            "ldapbridge: config error: [service.papercut] password: expected a "
            "whole bcrypt or argon2 hash, or a password that does not begin like "
            "one, found a value that looks like a damaged hash (did a shell "
            "expand its $?)\n"
        )

    @pytest.mark.parametrize("command", ["check", "serve"])
    def test_ldap_and_ldaps_on_one_port_is_refused(
        self, command: str, tmp_path: Path
    ) -> None:
        """ldap_port equal to ldaps_port is refused by check and serve alike."""
        text = demo_config(server={"ldap_port": "10390", "ldaps_port": "10390"})
        config = write_config(tmp_path, text)

        result = run_cli(command, "--config", str(config), cwd=tmp_path)

        assert result.returncode == 2
        assert result.stderr == (
            "ldapbridge: config error: [server] ldaps_port: expected a port other "
            "than [server] ldap_port, found 10390\n"
        )

    @pytest.mark.parametrize(
        "template", ["/home/{user}", "/home/{", "/home/{0}", "/h/{username.x}"]
    )
    @pytest.mark.parametrize("command", ["check", "serve"])
    def test_home_directory_with_an_unknown_field_is_a_config_error(
        self, command: str, template: str, tmp_path: Path
    ) -> None:
        """A home_directory template with a field other than {username} exits 2."""
        text = demo_config(directory={"home_directory": template})
        config = write_config(tmp_path, text)

        result = run_cli(command, "--config", str(config), cwd=tmp_path)

        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        assert result.stderr == (
            "ldapbridge: config error: [directory] home_directory: expected a "
            "path whose only field is {username}, such as /home/{username}, "
            f"found {template!r}\n"
        )

    def test_zero_for_both_ports_is_allowed(self, tmp_path: Path) -> None:
        """Port 0 (any free port) for LDAP and LDAPS is no clash."""
        text = demo_config(server={"ldap_port": "0", "ldaps_port": "0"})
        config = write_config(tmp_path, text)

        result = run_cli("check", "--config", str(config), cwd=tmp_path)

        assert result.returncode == 0


class TestExport:
    def test_ldif_is_what_ldapsearch_gets_from_the_server(
        self, demo_server: RunningServer, tmp_path: Path
    ) -> None:
        """The export equals, byte for byte, the whole tree as the server sends it."""
        result = run_cli("export", "--ldif", "--config", str(DEMO_CONFIG), cwd=tmp_path)

        assert result.returncode == 0
        assert result.stdout == "version: 1\n\n" + served_ldif(demo_server)
        assert result.stdout.count("\ndn: ") == 63

    def test_operational_attributes_match_a_plus_search(
        self, demo_server: RunningServer, tmp_path: Path
    ) -> None:
        """--operational adds exactly what a search for '*' and '+' returns."""
        result = run_cli(
            "export", "--ldif", "--operational", "--config", str(DEMO_CONFIG),
            cwd=tmp_path,
        )  # fmt: skip

        assert result.returncode == 0
        assert result.stdout == "version: 1\n\n" + served_ldif(demo_server, "*", "+")
        assert "memberOf: cn=Night Owls,ou=groups,dc=example,dc=com" in result.stdout

    def test_unsafe_values_and_dns_are_base64_as_the_server_sends_them(
        self, tmp_path: Path
    ) -> None:
        """Non-ASCII DNs and values with a leading '<' or ':' are written base64."""
        export = write_export(
            tmp_path,
            "M-1,<Angle Person,angle@example.com,,Café Crew,,,,,Active",
            "M-2,:Colon Person,colon@example.com,,Café Crew,,,,,Active",
        )
        text = demo_config(export)
        config = write_config(tmp_path, text)

        result = run_cli("export", "--ldif", "--config", str(config), cwd=tmp_path)
        with running_server(text, tmp_path / "server") as server:
            served = served_ldif(server)

        group_dn = "cn=Café Crew,ou=groups,dc=example,dc=com"
        assert result.stdout == "version: 1\n\n" + served
        assert f"dn:: {b64(group_dn)}\n" in result.stdout
        assert f"cn:: {b64('<Angle Person')}\n" in result.stdout
        assert f"cn:: {b64(':Colon Person')}\n" in result.stdout

    def test_output_file_holds_the_same_ldif(self, tmp_path: Path) -> None:
        """--output writes to a file exactly what standard output would get."""
        target = tmp_path / "directory.ldif"

        to_file = run_cli(
            "export", "--ldif", "--output", str(target), "--config", str(DEMO_CONFIG),
            cwd=tmp_path,
        )  # fmt: skip
        to_stdout = run_cli(
            "export", "--ldif", "--config", str(DEMO_CONFIG), cwd=tmp_path
        )

        assert to_file.returncode == 0
        assert to_file.stdout == ""
        assert target.read_text(encoding="utf-8") == to_stdout.stdout

    def test_output_file_is_readable_by_its_owner_only(self, tmp_path: Path) -> None:
        """The export holds PINs: a new file and a replaced one get mode 0600."""
        created = tmp_path / "new.ldif"
        replaced = tmp_path / "old.ldif"
        replaced.write_text("stale\n", encoding="utf-8")
        replaced.chmod(0o644)

        for target in (created, replaced):
            result = run_cli(
                "export", "--ldif", "--output", str(target),
                "--config", str(DEMO_CONFIG), cwd=tmp_path,
            )  # fmt: skip
            assert result.returncode == 0

        assert stat.S_IMODE(created.stat().st_mode) == 0o600
        assert stat.S_IMODE(replaced.stat().st_mode) == 0o600
        assert replaced.read_text(encoding="utf-8").startswith("version: 1\n")

    def test_output_in_a_missing_folder_is_refused(self, tmp_path: Path) -> None:
        """An --output path that cannot be created exits 1 naming the path."""
        target = tmp_path / "nonexistent" / "x.ldif"

        result = run_cli(
            "export", "--ldif", "--output", str(target),
            "--config", str(DEMO_CONFIG), cwd=tmp_path,
        )  # fmt: skip

        assert result.returncode == 1
        assert result.stdout == ""
        assert result.stderr == (
            f"ldapbridge: cannot write {target}: No such file or directory\n"
        )

    def test_format_must_be_named(self, tmp_path: Path) -> None:
        """export without --ldif is a usage error."""
        result = run_cli("export", "--config", str(DEMO_CONFIG), cwd=tmp_path)

        assert result.returncode == 2
        assert "one of the arguments --ldif is required" in result.stderr


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


class TestLookup:
    def test_by_card_shows_entry_and_groups(self, tmp_path: Path) -> None:
        """A card number with leading zeros finds Alex Demo, entry and groups."""
        result = run_cli(
            "lookup", "0000424242", "--config", str(DEMO_CONFIG), cwd=tmp_path
        )

        lines = result.stdout.rstrip("\n").splitlines()
        assert result.returncode == 0
        assert lines[0] == "# member M-2001, found by card"
        assert lines[1] == "dn: uid=alex.demo@example.com,ou=people,dc=example,dc=com"
        assert "employeeNumber: 0000424242" in lines
        assert "userPassword" not in result.stdout
        assert lines[-5:] == ALEX_GROUPS

    def test_entry_is_what_the_server_returns(
        self, demo_server: RunningServer, tmp_path: Path
    ) -> None:
        """The printed entry equals the server's answer to PaperCut's search."""
        result = run_cli(
            "lookup", "alex.demo@example.com", "--config", str(DEMO_CONFIG),
            cwd=tmp_path,
        )  # fmt: skip
        served = ldap_tool(
            "ldapsearch", demo_server, "-LLL", "-o", "ldif-wrap=no",
            "-D", SERVICE_DN, "-w", SERVICE_PASSWORD,
            "-b", "dc=example,dc=com", "(uid=alex.demo@example.com)",
        )  # fmt: skip

        after_heading = result.stdout.split("\n", 1)[1]
        entry = after_heading[: after_heading.index("# groups")]
        assert entry == served.stdout

    def test_email_matches_in_any_case(self, tmp_path: Path) -> None:
        """An upper-case email finds the member, by username and by email."""
        result = run_cli(
            "lookup", "ALEX.DEMO@EXAMPLE.COM", "--config", str(DEMO_CONFIG),
            cwd=tmp_path,
        )  # fmt: skip

        assert result.returncode == 0
        assert result.stdout.splitlines()[0] == (
            "# member M-2001, found by username, email"
        )

    def test_cancelled_member_is_explained(self, tmp_path: Path) -> None:
        """A cancelled member is not found, and the message says why."""
        result = run_cli(
            "lookup", "ex@example.com", "--config", str(DEMO_CONFIG), cwd=tmp_path
        )

        assert result.returncode == 1
        assert result.stdout == ""
        assert result.stderr == (
            "ldapbridge: member M-2016 is cancelled, and cancelled members are "
            "left out ([directory] include_cancelled = false)\n"
        )

    def test_skipped_record_is_explained(self, tmp_path: Path) -> None:
        """A record skipped for a taken username gives its reason."""
        export = write_export(
            tmp_path,
            "M-1,Ann One,ann@example.com,,,,,,,Active",
            "M-2,Ann Again,ANN@example.com,,,,,0042,,Active",
        )
        config = write_config(tmp_path, demo_config(export))

        result = run_cli("lookup", "0042", "--config", str(config), cwd=tmp_path)

        assert result.returncode == 1
        assert result.stderr == (
            "ldapbridge: record M-2 is skipped: username 'ann@example.com' "
            "already belongs to member M-1\n"
        )

    def test_unknown_member_exits_1(self, tmp_path: Path) -> None:
        """Nothing matching is reported on stderr with exit status 1."""
        result = run_cli("lookup", "nobody", "--config", str(DEMO_CONFIG), cwd=tmp_path)

        assert result.returncode == 1
        assert result.stderr == (
            "ldapbridge: no member has the username, email, card or member id "
            "'nobody'\n"
        )

    @pytest.mark.parametrize("query", ["", "  "])
    def test_an_empty_query_matches_no_record(self, query: str, tmp_path: Path) -> None:
        """An empty WHAT is not taken for a record's empty card or email."""
        export = write_export(
            tmp_path,
            "M-1,Ann One,ann@example.com,,,,,,,Active",
            "M-2,Bob Gone,bob@example.com,,,,,,,Cancelled",
            "M-3,No Mail,,,,,,,,Active",
        )
        config = write_config(tmp_path, demo_config(export))

        result = run_cli("lookup", query, "--config", str(config), cwd=tmp_path)

        assert (result.returncode, result.stdout) == (1, "")
        assert result.stderr == (
            "ldapbridge: expected a username, email, card or member id to look "
            "up, found nothing\n"
        )


class TestHashPassword:
    def test_hash_from_stdin_verifies_and_hides_the_password(
        self, tmp_path: Path
    ) -> None:
        """A password piped in comes back as a bcrypt hash, never as itself."""
        result = run_cli("hash-password", cwd=tmp_path, stdin="correct horse\n")

        hashed = result.stdout.strip()
        assert result.returncode == 0
        assert result.stdout.count("\n") == 1
        assert hashed.startswith("$2b$")
        assert bcrypt.checkpw(b"correct horse", hashed.encode("ascii"))
        assert "correct horse" not in result.stdout + result.stderr

    def test_password_past_72_bytes_gets_an_argon2id_hash(self, tmp_path: Path) -> None:
        """A 100-byte password, too long for bcrypt, is hashed with argon2id."""
        password = "a" * 100

        result = run_cli("hash-password", cwd=tmp_path, stdin=password + "\n")

        hashed = result.stdout.strip()
        assert result.returncode == 0
        assert result.stderr == ""
        assert hashed.startswith("$argon2id$")
        assert argon2.PasswordHasher().verify(hashed, password) is True
        assert verify_secret(password, hashed) is True
        assert verify_secret("a" * 99, hashed) is False

    def test_help_names_the_72_byte_limit(self, tmp_path: Path) -> None:
        """hash-password --help says what happens past bcrypt's 72 bytes."""
        result = run_cli("hash-password", "--help", cwd=tmp_path)

        assert "limit of 72 bytes (UTF-8) gets an argon2id hash" in " ".join(
            result.stdout.split()
        )

    def test_empty_password_is_refused(self, tmp_path: Path) -> None:
        """An empty line gives no hash and exit status 1."""
        result = run_cli("hash-password", cwd=tmp_path, stdin="\n")

        assert result.returncode == 1
        assert result.stdout == ""
        assert result.stderr == "ldapbridge: the password is empty\n"

    def test_terminal_prompt_does_not_echo(self) -> None:
        """Typed at a terminal, the password never appears on the terminal."""
        output, status = run_on_terminal(
            ["hash-password"], ["pty-secret", "pty-secret"]
        )

        assert status == 0
        assert "Password: " in output
        assert "Again: " in output
        assert "pty-secret" not in output
        hashed = output.strip().splitlines()[-1]
        assert bcrypt.checkpw(b"pty-secret", hashed.encode("ascii"))

    def test_terminal_mismatch_is_refused(self) -> None:
        """Two different passwords at the prompts give no hash."""
        output, status = run_on_terminal(["hash-password"], ["one-pw", "other-pw"])

        assert status == 1
        assert "ldapbridge: the two passwords differ" in output
        assert "$2b$" not in output

    def test_hash_works_as_a_service_password(self, tmp_path: Path) -> None:
        """A hash it prints, put in the config, lets the service account bind."""
        hashed = run_cli("hash-password", cwd=tmp_path, stdin="hashed-pw\n").stdout
        text = demo_config(DEMO_CSV, service__papercut={"password": hashed.strip()})

        with running_server(text, tmp_path / "server") as server:
            good = ldap_tool("ldapwhoami", server, "-D", SERVICE_DN, "-w", "hashed-pw")
            bad = ldap_tool("ldapwhoami", server, "-D", SERVICE_DN, "-w", hashed)

        assert good.returncode == 0
        assert good.stdout == f"dn:{SERVICE_DN}\n"
        assert bad.returncode == 49


def run_on_terminal(args: list[str], typed: list[str]) -> tuple[str, int]:
    """Run ldapbridge on a pseudo-terminal, typing each line at a prompt."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: its terminal is the pty
        os.execv(
            sys.executable, [sys.executable, "-m", "ldapbridge.service.cli", *args]
        )

    output = b""
    for line in typed:
        output += read_until(fd, b": ")
        os.write(fd, line.encode("utf-8") + b"\n")
    output += read_until(fd, None)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return output.decode("utf-8", "replace"), os.waitstatus_to_exitcode(status)


def read_until(fd: int, marker: bytes | None, timeout_s: float = 30) -> bytes:
    """Read the terminal until ``marker`` shows (None: until it closes)."""
    data = b""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        readable, _, _ = select.select([fd], [], [], deadline - time.monotonic())
        if not readable:
            break
        try:
            chunk = os.read(fd, 1024)
        except OSError:  # the child closed the terminal
            return data
        if not chunk:
            return data
        data += chunk
        if marker is not None and data.endswith(marker):
            return data
    raise AssertionError(f"terminal output stalled: {data!r}")
