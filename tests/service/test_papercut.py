"""PaperCut's custom user sync and auth programs, run as PaperCut runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import bcrypt
import pytest

from ldapbridge.service.papercut import DEFAULT_CONFIG
from tests import generated
from tests.support import DEMO_CSV, demo_config

BIN = Path(sys.executable).parent
# PaperCut is given one of these paths; both forms must behave the same.
SYNC_PROGRAMS = {
    "subcommand": [str(BIN / "ldapbridge"), "papercut-sync"],
    "script": [str(BIN / "ldapbridge-papercut-sync")],
}
AUTH_PROGRAMS = {
    "subcommand": [str(BIN / "ldapbridge"), "papercut-auth"],
    "script": [str(BIN / "ldapbridge-papercut-auth")],
}

ALEX_LINE = (
    "alex.demo@example.com\tAlex Demo\talex.demo@example.com\tNight Owls\t"
    "Mill Lane\t0000424242\t\t\t\t\t0042"
)
NIGHT_OWLS = [
    "alex.demo@example.com",
    "aoife.murphy@example.ie",
    "bjorn.hakansson@example.se",
    "diego.fernandez@example.mx",
    "dmitry.ivanov@example.ru",
    "freya.andersen@example.dk",
    "mia.novak@example.si",
    "van.an@example.vn",
    "yuki.tanaka@example.jp",
]


def write_config(folder: Path, members_csv: Path = DEMO_CSV, **sections) -> Path:
    path = folder / "bridge.conf"
    path.write_text(demo_config(members_csv, **sections), encoding="utf-8")
    return path


def run(
    program: list[str],
    *args: str,
    config: Path | None,
    stdin: str = "",
) -> tuple[int, str, str]:
    """Run a program with LDAPBRIDGE_CONFIG set (or unset); exit, stdout, stderr."""
    env = {k: v for k, v in os.environ.items() if k != "LDAPBRIDGE_CONFIG"}
    if config is not None:
        env["LDAPBRIDGE_CONFIG"] = str(config)
    done = subprocess.run(
        [*program, *args],
        input=stdin.encode("utf-8"),
        capture_output=True,
        env=env,
        cwd="/",
        timeout=60,
    )
    return done.returncode, done.stdout.decode("utf-8"), done.stderr.decode("utf-8")


@pytest.fixture(params=sorted(SYNC_PROGRAMS))
def sync(request: pytest.FixtureRequest) -> list[str]:
    return SYNC_PROGRAMS[request.param]


@pytest.fixture(params=sorted(AUTH_PROGRAMS))
def auth(request: pytest.FixtureRequest) -> list[str]:
    return AUTH_PROGRAMS[request.param]


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    return write_config(tmp_path)


class TestSyncProgram:
    def test_is_valid_answers_y(self, sync: list[str], demo: Path) -> None:
        """`- is-valid` prints Y when the config and the source work."""
        assert run(sync, "-", "is-valid", config=demo) == (0, "Y\n", "")

    def test_all_users_prints_papercut_user_lines(
        self, sync: list[str], demo: Path
    ) -> None:
        """`- all-users` prints the 46 active members in PaperCut's field order."""
        code, out, err = run(sync, "-", "all-users", config=demo)
        lines = out.splitlines()

        assert (code, err, len(lines)) == (0, "", 46)
        assert ALEX_LINE in lines
        assert (
            "emile@example.fr\tÉmile Zola-Petit\tEMILE@EXAMPLE.FR\tPetit & Fils\t"
            "Harbour Street\tA1B2C3D4\t\t\t\t\t0007"
        ) in lines
        assert all(line.count("\t") == 10 for line in lines)

    def test_all_groups_lists_every_group_name(
        self, sync: list[str], demo: Path
    ) -> None:
        """`- all-groups` prints one group name per line."""
        code, out, _ = run(sync, "-", "all-groups", config=demo)

        assert code == 0
        assert out.splitlines() == [
            "all-members",
            "Brightwave Studio",
            "Dedicated Desk",
            "Haddad Legal",
            "Harbour Street",
            "Hot Desk",
            "Kettle Labs",
            "Mill Lane",
            "Night Owls",
            "Northfield Analytics",
            "Petit & Fils",
            "Private Office",
        ]

    def test_get_user_details_reads_the_username_on_stdin(
        self, sync: list[str], demo: Path
    ) -> None:
        """`- get-user-details` finds the user named on stdin, in any case."""
        result = run(
            sync, "-", "get-user-details", config=demo, stdin="ALEX.Demo@example.com\n"
        )

        assert result == (0, ALEX_LINE + "\n", "")

    def test_get_user_details_of_unknown_user_is_an_error(
        self, sync: list[str], demo: Path
    ) -> None:
        """An unknown username prints nothing and exits non-zero with a reason."""
        result = run(sync, "-", "get-user-details", config=demo, stdin="nobody\n")

        assert result == (1, "", "ldapbridge: no user named 'nobody'\n")

    def test_group_member_names_lists_usernames(
        self, sync: list[str], demo: Path
    ) -> None:
        """`- group-member-names <group>` prints the group's usernames."""
        code, out, _ = run(sync, "-", "group-member-names", "Night Owls", config=demo)

        assert (code, out.splitlines()) == (0, NIGHT_OWLS)

    def test_group_members_lists_user_lines(self, sync: list[str], demo: Path) -> None:
        """`- group-members <group>` prints a user line per member."""
        code, out, _ = run(sync, "-", "group-members", "Night Owls", config=demo)
        lines = out.splitlines()

        assert (code, [line.split("\t")[0] for line in lines]) == (0, NIGHT_OWLS)
        assert lines[0] == ALEX_LINE

    @pytest.mark.parametrize(
        ("group", "user", "answer"),
        [
            ("Night Owls", "alex.demo@example.com", "Y\n"),
            ("night owls", "ALEX.DEMO@EXAMPLE.COM", "Y\n"),
            ("Night Owls", "sara.haddad@example.com", "N\n"),
            ("Night Owls", "nobody", "N\n"),
        ],
    )
    def test_is_user_in_group(
        self, sync: list[str], demo: Path, group: str, user: str, answer: str
    ) -> None:
        """`- is-user-in-group <group> <user>` answers Y or N."""
        assert run(sync, "-", "is-user-in-group", group, user, config=demo) == (
            0,
            answer,
            "",
        )

    def test_unknown_group_is_an_error(self, sync: list[str], demo: Path) -> None:
        """A group that does not exist is an error, not an empty group."""
        result = run(sync, "-", "group-member-names", "Chess Club", config=demo)

        assert result == (1, "", "ldapbridge: no group named 'Chess Club'\n")

    def test_is_user_in_an_unknown_group_answers_n(
        self, sync: list[str], demo: Path
    ) -> None:
        """`- is-user-in-group` with a group that does not exist prints N and
        exits 0, as PaperCut's protocol expects Y or N."""
        result = run(
            sync,
            "-",
            "is-user-in-group",
            "Chess Club",
            "alex.demo@example.com",
            config=demo,
        )

        assert result == (0, "N\n", "")

    def test_unknown_command_prints_usage(self, sync: list[str], demo: Path) -> None:
        """Anything but `- <command>` exits 1 with the list of commands."""
        assert run(sync, "all-users", config=demo) == (
            1,
            "",
            "ldapbridge: usage: - is-valid|all-users|all-groups|get-user-details|"
            "group-member-names|group-members|is-user-in-group [arguments]\n",
        )

    def test_help_lists_the_commands_and_the_config(
        self, sync: list[str], demo: Path
    ) -> None:
        """--help exits 0 and names every command and where the config is read."""
        status, out, err = run(sync, "--help", config=demo)

        assert (status, err) == (0, "")
        assert "COMMAND: is-valid, all-users, all-groups, get-user-details," in out
        assert "  group-member-names, group-members, is-user-in-group" in out
        assert "$LDAPBRIDGE_CONFIG, else /etc/ldapbridge/bridge.conf" in out


class TestSyncProgramSafety:
    def test_config_defaults_to_etc_ldapbridge(self, sync: list[str]) -> None:
        """Without LDAPBRIDGE_CONFIG the program reads /etc/ldapbridge/bridge.conf."""
        if Path(DEFAULT_CONFIG).exists():
            pytest.skip(f"{DEFAULT_CONFIG} exists on this machine")

        assert run(sync, "-", "all-users", config=None) == (
            1,
            "",
            "ldapbridge: config error: cannot read config file "
            "/etc/ldapbridge/bridge.conf: No such file or directory\n",
        )

    def test_is_valid_answers_n_when_the_source_fails(
        self, sync: list[str], tmp_path: Path
    ) -> None:
        """A missing member file makes is-valid print N, with the reason on stderr."""
        config = write_config(tmp_path, tmp_path / "missing.csv")

        code, out, err = run(sync, "-", "is-valid", config=config)

        assert (code, out) == (0, "N\n")
        assert err.startswith(
            "ldapbridge: cannot load members: cannot read member file"
        )

    def test_empty_member_file_is_refused(
        self, sync: list[str], tmp_path: Path
    ) -> None:
        """No members is an error, so PaperCut never deletes everyone."""
        empty = tmp_path / "members.csv"
        empty.write_text("Member ID,Full Name,Email\n", encoding="utf-8")

        result = run(sync, "-", "all-users", config=write_config(tmp_path, empty))

        assert result == (
            1,
            "",
            "ldapbridge: the member source holds no active members; refusing to "
            "answer\n",
        )

    def test_tab_or_newline_in_a_value_cannot_shift_fields(
        self, sync: list[str], tmp_path: Path
    ) -> None:
        """A tab or line break inside a name becomes a space."""
        members = tmp_path / "members.csv"
        header = "Member ID,Full Name,Email,Access Card\n"
        members.write_text(header + 'M-1,"Ana\tLima\nJr",ana@x.org,007\n', "utf-8")

        result = run(sync, "-", "all-users", config=write_config(tmp_path, members))

        line = "ana@x.org\tAna Lima Jr\tana@x.org\t\t\t007\t\t\t\t\t\n"
        assert result == (0, line, "")

    def test_nul_escape_or_other_control_character_becomes_a_space(
        self, sync: list[str], tmp_path: Path
    ) -> None:
        """A NUL, an escape, a DEL or a C1 control inside a value becomes a space,
        as a tab does, so none reaches PaperCut."""
        members = tmp_path / "members.csv"
        header = "Member ID,Full Name,Email,Access Card\n"
        name = "Ana\x00Lima\x1b[31mJr\x7fda\x85Silva"
        members.write_text(header + f'M-1,"{name}",ana@x.org,007\n', "utf-8")

        result = run(sync, "-", "all-users", config=write_config(tmp_path, members))

        line = "ana@x.org\tAna Lima [31mJr da Silva\tana@x.org\t\t\t007\t\t\t\t\t\n"
        assert result == (0, line, "")

    def test_line_break_or_tab_in_a_group_name_cannot_split_it(
        self, sync: list[str], tmp_path: Path
    ) -> None:
        """A group name prints on one line, and PaperCut can ask for it by that name."""
        members = tmp_path / "members.csv"
        header = "Member ID,Full Name,Email,Team,Plan\n"
        members.write_text(
            header + 'M-1,Ana,ana@x.org,"Line\nBreak",Hot\tDesk\n', "utf-8"
        )
        config = write_config(tmp_path, members)

        groups = run(sync, "-", "all-groups", config=config)
        names = run(sync, "-", "group-member-names", "Line Break", config=config)
        member = run(
            sync, "-", "is-user-in-group", "Hot Desk", "ana@x.org", config=config
        )

        assert groups == (0, "all-members\nHot Desk\nLine Break\n", "")
        assert names == (0, "ana@x.org\n", "")
        assert member == (0, "Y\n", "")

    def test_generated_directory_matches_what_ldap_publishes(
        self, sync: list[str], tmp_path: Path
    ) -> None:
        """All 5,000 generated users, cards and PINs exact, as the replay sees them."""
        members = tmp_path / "members.csv"
        generated.write_csv(members)

        code, out, _ = run(
            sync, "-", "all-users", config=write_config(tmp_path, members)
        )

        expected = sorted(user_line(m) for m in generated.all_members() if m.active)
        assert code == 0
        assert sorted(out.splitlines()) == expected


def user_line(m: generated.Generated) -> str:
    """The line PaperCut must get for a generated member."""
    fields = [m.username, m.full_name, m.email, m.team, m.location, m.card]
    return "\t".join([*fields, "", m.second_card, "", "", m.published_pin])


CSV_WITH_PASSWORDS = """\
Member ID,Full Name,Email,Status,Password Hash
M-1,Ana Lima,Ana.Lima@example.com,Active,{ana}
M-2,Ex Member,ex@example.com,Cancelled,{ex}
"""


@pytest.fixture
def with_passwords(tmp_path: Path) -> Path:
    """Ana (password "pässwörd") and a cancelled member with a password."""

    def hashed(password: str) -> str:
        return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()

    members = tmp_path / "members.csv"
    text = CSV_WITH_PASSWORDS.format(ana=hashed("pässwörd"), ex=hashed("ex-pw"))
    members.write_text(text, encoding="utf-8")
    return write_config(tmp_path, members, directory={"include_cancelled": "true"})


class TestCancelledMembers:
    def test_sync_leaves_cancelled_members_out_even_when_ldap_shows_them(
        self, sync: list[str], with_passwords: Path
    ) -> None:
        """With include_cancelled, LDAP marks them disabled; the program, which
        cannot, leaves them out of users and groups."""
        users = run(sync, "-", "all-users", config=with_passwords)
        members = run(sync, "-", "group-member-names", "all-members",
                      config=with_passwords)  # fmt: skip
        in_group = run(sync, "-", "is-user-in-group", "all-members", "ex@example.com",
                       config=with_passwords)  # fmt: skip

        assert users[0] == 0
        assert [line.split("\t")[0] for line in users[1].splitlines()] == [
            "ana.lima@example.com"
        ]
        assert members == (0, "ana.lima@example.com\n", "")
        assert in_group == (0, "N\n", "")


class TestAuthProgram:
    def test_right_password_prints_ok_and_the_canonical_username(
        self, auth: list[str], with_passwords: Path
    ) -> None:
        """A UTF-8 password checks out; OK is followed by the lowercase username."""
        result = run(
            auth, config=with_passwords, stdin="ANA.LIMA@example.com\npässwörd\n"
        )

        assert result == (0, "OK\nana.lima@example.com\n", "")

    @pytest.mark.parametrize(
        "stdin",
        [
            "ana.lima@example.com\nwrong\n",
            "ana.lima@example.com\n\n",
            "ana.lima@example.com\n",
            "nobody@example.com\npässwörd\n",
            "ex@example.com\nex-pw\n",
            "",
        ],
        ids=["wrong", "empty", "missing", "unknown", "cancelled", "nothing"],
    )
    def test_anything_else_prints_error_and_exits_zero(
        self, auth: list[str], with_passwords: Path, stdin: str
    ) -> None:
        """Wrong, empty or no password, unknown or cancelled user: ERROR, exit 0."""
        result = run(auth, config=with_passwords, stdin=stdin)

        assert result == (0, "ERROR\n", "ldapbridge: Invalid username or password\n")

    def test_broken_config_prints_error(self, auth: list[str], tmp_path: Path) -> None:
        """A config that cannot be read refuses the login, saying why on stderr."""
        result = run(auth, config=tmp_path / "nope.conf", stdin="a\nb\n")

        assert result[:2] == (0, "ERROR\n")
        assert result[2].startswith("ldapbridge: config error: cannot read config file")
