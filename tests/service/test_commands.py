"""``ldapbridge check`` on member data PaperCut would stumble over."""

from __future__ import annotations

from pathlib import Path

from tests.directory.kit import bridge_config, nexudus_source
from tests.directory.platforms import NexudusSim, nexudus_coworker
from tests.service.helpers import run_cli
from tests.support import (
    PEOPLE_DN,
    SERVICE_DN,
    SERVICE_PASSWORD,
    demo_config,
    ldap_tool,
    running_server,
)

HEADER = "Member ID,Full Name,Email,Access Card,Second Card,Status,Password Hash"
BCRYPT = "$2b$10$x9uKKTOUnrIHoTVlUj/XA.XPdiNCfbrIDVZpCPmT8IdqzhhTqTqUy"


def check(tmp_path: Path, *rows: str) -> tuple[int, list[str]]:
    """Run ``check`` on an export of ``rows``; its status and output lines."""
    export = tmp_path / "members.csv"
    export.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    config = tmp_path / "bridge.conf"
    config.write_text(demo_config(export), encoding="utf-8")

    result = run_cli("check", "--config", str(config), cwd=tmp_path)
    assert result.stderr == ""
    return result.returncode, result.stdout.splitlines()


class TestPlatformRecordsTheMappingCannotRead:
    def test_check_and_lookup_name_them_as_sync_does(self, tmp_path: Path) -> None:
        """A Nexudus card that is not hexadecimal, where the mapping converts
        it, is listed by check (a warning) and explained by lookup."""
        coworkers = [nexudus_coworker(n, AccessCardId=f"{n:02X}") for n in range(3)]
        coworkers[1]["AccessCardId"] = "XYZ"
        config = tmp_path / "bridge.conf"
        fields = {"card_transform": "hex_to_decimal"}
        with NexudusSim(coworkers) as sim:
            source = nexudus_source(sim, max_retries="0")
            config.write_text(bridge_config(source, source__fields=fields))

            flags = ("--config", str(config))
            checked = run_cli("check", "--strict", *flags, cwd=tmp_path)
            looked = run_cli("lookup", "3000001", *flags, cwd=tmp_path)

        assert checked.stdout.splitlines()[1:5] == [
            "source nexudus: read 3 records",
            "directory dc=example,dc=com (profile unix): 2 members, 5 groups, "
            "0 cancelled members left out",
            "skipped records: 1",
            "  3000001: card 'XYZ' is not hexadecimal",
        ]
        assert checked.returncode == 1
        assert looked.stderr == (
            "ldapbridge: record 3000001 is skipped: card 'XYZ' is not hexadecimal\n"
        )


class TestCheckMemberData:
    def test_duplicate_member_id_is_a_skipped_record(self, tmp_path: Path) -> None:
        """A second row with member id M-4 is skipped, the first published."""
        status, lines = check(
            tmp_path,
            "M-4,Ann One,ann@example.com,,,Active,",
            "M-5,Bob Two,bob@example.com,,,Active,",
            "M-4,Ann Again,ann.again@example.com,,,Active,",
        )

        assert status == 0
        assert lines[1:5] == [
            "source file: read 3 records",
            "directory dc=example,dc=com (profile unix): 2 members, 1 group, "
            "0 cancelled members left out",
            "skipped records: 1",
            "  M-4: member id M-4 appears twice",
        ]
        assert lines[-1] == "check passed: 0 problem(s), 1 warning(s)"

    def test_control_characters_in_a_skipped_record_are_escaped(
        self, tmp_path: Path
    ) -> None:
        """A newline and an escape in a member id are shown as \\x0a and \\x1b,
        so the record cannot forge a line of the report or colour the terminal."""
        status, lines = check(
            tmp_path,
            '"M-4\nproblem: forged\x1b[31m",Ann One,,,,Active,',
            "M-5,Bob Two,bob@example.com,,,Active,",
        )

        assert status == 0
        assert lines[3:5] == [
            "skipped records: 1",
            "  M-4\\x0aproblem: forged\\x1b[31m: no email address",
        ]

    def test_the_server_publishes_the_duplicate_check_publishes(
        self, tmp_path: Path
    ) -> None:
        """Of two records with one id, the server serves the one check keeps."""
        rows = [
            "M-4,Ann One,ann@example.com,,,Active,",
            "M-4,Ann Again,ann.again@example.com,,,Active,",
            "M-6,Cy Six,cy@example.com,,,Active,",
            "M-6,Cy Gone,cy@example.com,,,Cancelled,",
        ]
        status, lines = check(tmp_path, *rows)
        assert (status, lines[4:5]) == (0, ["  M-4: member id M-4 appears twice"])

        with running_server(demo_config(tmp_path / "members.csv"), tmp_path) as server:
            result = ldap_tool(
                "ldapsearch", server, "-LLL", "-D", SERVICE_DN, "-w", SERVICE_PASSWORD,
                "-b", PEOPLE_DN, "-s", "one", "(objectClass=*)", "cn",
            )  # fmt: skip
            log = server.log()

        assert result.stdout.split("\n\n")[:2] == [
            f"dn: uid=ann@example.com,{PEOPLE_DN}\ncn: Ann One",
            f"dn: uid=cy@example.com,{PEOPLE_DN}\ncn: Cy Six",
        ]
        assert "skipped member record M-4: member id M-4 appears twice" in log

    def test_shared_card_names_both_members(self, tmp_path: Path) -> None:
        """Two members with card 0042 give one warning naming both member ids."""
        status, lines = check(
            tmp_path,
            "M-1,Ann One,ann@example.com,0042,,Active,",
            "M-2,Bob Two,bob@example.com,7,0042,Active,",
            "M-3,Cy Three,cy@example.com,7,,Active,",
            "M-4,Di Four,di@example.com,9,9,Active,",
        )

        assert status == 0
        assert lines[4:6] == [
            "warning: members M-1 and M-2 have the same card number (PaperCut "
            "needs each card to be unique)",
            "warning: members M-2 and M-3 have the same card number (PaperCut "
            "needs each card to be unique)",
        ]
        assert "0042" not in "\n".join(lines)
        assert lines[-1] == "check passed: 0 problem(s), 2 warning(s)"

    def test_plain_text_password_hash_is_a_warning(self, tmp_path: Path) -> None:
        """A Password Hash cell holding plain text is named, never printed."""
        status, lines = check(
            tmp_path,
            f"M-1,Ann One,ann@example.com,,,Active,{BCRYPT}",
            "M-2,Bob Two,bob@example.com,,,Active,hunter2",
            "M-3,Cy Three,cy@example.com,,,Active,",
        )

        assert status == 0
        assert lines[4] == (
            "warning: member M-2: the password hash is neither a bcrypt nor an "
            "argon2 hash, so no password will work"
        )
        assert "hunter2" not in "\n".join(lines)
        assert lines[-1] == "check passed: 0 problem(s), 1 warning(s)"


class TestCheckSource:
    def test_latin1_export_names_the_encoding_setting(self, tmp_path: Path) -> None:
        """A Latin-1 export read as UTF-8 is a problem naming [source] encoding."""
        export = tmp_path / "members.csv"
        export.write_text(
            HEADER + "\nM-1,José Ñ,jose@example.com,,,Active,\n", encoding="latin-1"
        )
        config = tmp_path / "bridge.conf"
        config.write_text(demo_config(export), encoding="utf-8")

        result = run_cli("check", "--config", str(config), cwd=tmp_path)

        assert result.returncode == 1
        assert result.stdout.splitlines()[1] == (
            f"problem: source file: member file {export} is not utf-8-sig text: "
            "byte 0xe9 on line 2 cannot be decoded; set [source] encoding to the "
            "file's encoding (such as cp1252 or latin-1)"
        )
