"""PaperCut's "custom user sync and authentication program", from the same data.

PaperCut runs the sync program as ``<program> - <command> [arguments]`` and
the auth program with no arguments and ``username\\npassword\\n`` on stdin
(PaperCut's custom user directory provider protocol).  Both build the same
snapshot as the LDAP server, from the configured source, so both doors show
PaperCut the same users, groups, cards and PINs.  PaperCut passes no config
path: it comes from the LDAPBRIDGE_CONFIG variable, else DEFAULT_CONFIG.

Output is UTF-8 whatever the locale; errors go to stderr with a non-zero
exit, except for the auth program, which always exits 0 (as PaperCut asks)
and prints ERROR.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import BinaryIO

import attrs

from ldapbridge import config
from ldapbridge.directory.fields import published
from ldapbridge.directory.model import Group, Member, Snapshot
from ldapbridge.directory.passwords import PasswordCheckUnavailable
from ldapbridge.directory.snapshot import build_snapshot, fold_name
from ldapbridge.directory.sources import SourceError
from ldapbridge.service.app import make_checker, make_source

# A tab or line break inside a value would shift or split the record, and a
# NUL or an escape would reach PaperCut's user list: every C0 and C1 control
# character, and DEL, becomes a space.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")

CONFIG_ENV = "LDAPBRIDGE_CONFIG"
DEFAULT_CONFIG = "/etc/ldapbridge/bridge.conf"


class ProgramError(Exception):
    """A command that cannot answer; the message goes to stderr, exit 1."""


@attrs.frozen
class Directory:
    """One snapshot, indexed the way PaperCut's commands ask for it."""

    settings: config.Settings
    snapshot: Snapshot
    members: dict[str, Member]
    groups: dict[str, Group]

    def member(self, username: str) -> Member | None:
        return self.members.get(username.strip().casefold())

    def find_group(self, name: str) -> Group | None:
        return self.groups.get(_group_key(name))

    def group(self, name: str) -> Group:
        group = self.find_group(name)
        if group is None:
            raise ProgramError(f"no group named {name!r}")
        return group

    def user_line(self, member: Member) -> str:
        return user_line(member, self.settings.directory)


def config_path() -> str:
    return os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG


def load_directory(path: str) -> Directory:
    """Read the config and the members; raise ProgramError on any failure.

    An empty directory is an error: PaperCut may delete users missing from
    its source, so nothing is better than nobody (DESIGN.md, safety rules).
    """
    try:
        settings = config.load(path)
        snapshot = build_snapshot(make_source(settings).fetch(), settings.directory)
    except config.ConfigError as e:
        raise ProgramError(f"config error: {e}") from None
    except SourceError as e:
        raise ProgramError(f"cannot load members: {e}") from None
    snapshot = _active_only(snapshot)
    if not snapshot.members:
        raise ProgramError(
            "the member source holds no active members; refusing to answer"
        )

    return Directory(
        settings=settings,
        snapshot=snapshot,
        members={m.username.casefold(): m for m in snapshot.members},
        groups={_group_key(g.name): g for g in snapshot.groups},
    )


def _group_key(name: str) -> str:
    """A group name as all-groups prints it, folded as PaperCut compares names.

    PaperCut asks for a group by the name all-groups printed, with its control
    characters made spaces, so the index must find it by that name too.
    """
    return fold_name(_printable(name))


def _printable(value: str) -> str:
    return CONTROL_CHARACTERS.sub(" ", value)


def _active_only(snapshot: Snapshot) -> Snapshot:
    """``snapshot`` without cancelled members, in its groups too.

    These programs have no way to mark a user disabled, as the LDAP profiles
    do (include_cancelled): a cancelled member listed here would be imported
    by PaperCut as a user like any other.
    """
    members = tuple(m for m in snapshot.members if m.active)
    active = {m.username for m in members}
    groups = tuple(
        attrs.evolve(g, usernames=tuple(u for u in g.usernames if u in active))
        for g in snapshot.groups
    )
    return attrs.evolve(snapshot, members=members, groups=groups)


def user_line(member: Member, settings: config.DirectorySettings) -> str:
    """A member in PaperCut's field order, tab-separated.

    Username, full name, email, department, office, card, other emails,
    second card, username alias, home directory, PIN.
    """
    values = published(member, settings)
    fields = [
        member.username,
        member.full_name,
        member.email,
        values.department,
        values.office,
        values.card,
        "",
        values.second_card,
        "",
        "",
        values.pin,
    ]
    return "\t".join(_printable(field) for field in fields)


# -- the sync program --------------------------------------------------------


def _is_valid(directory: Directory, args: list[str], stdin: BinaryIO) -> list[str]:
    return ["Y"]


def _all_users(directory: Directory, args: list[str], stdin: BinaryIO) -> list[str]:
    return [directory.user_line(m) for m in directory.snapshot.members]


def _all_groups(directory: Directory, args: list[str], stdin: BinaryIO) -> list[str]:
    # A line break in a label would make two group names of one.
    return [_printable(g.name) for g in directory.snapshot.groups]


def _get_user_details(
    directory: Directory, args: list[str], stdin: BinaryIO
) -> list[str]:
    username = _read_line(stdin).strip()
    member = directory.member(username)
    if member is None:
        raise ProgramError(f"no user named {username!r}")
    return [directory.user_line(member)]


def _group_member_names(
    directory: Directory, args: list[str], stdin: BinaryIO
) -> list[str]:
    return list(directory.group(_argument(args, 0, "a group name")).usernames)


def _group_members(directory: Directory, args: list[str], stdin: BinaryIO) -> list[str]:
    group = directory.group(_argument(args, 0, "a group name"))
    return [
        directory.user_line(directory.members[u.casefold()]) for u in group.usernames
    ]


def _is_user_in_group(
    directory: Directory, args: list[str], stdin: BinaryIO
) -> list[str]:
    group = directory.find_group(_argument(args, 0, "a group name"))
    username = _argument(args, 1, "a username").strip().casefold()
    # PaperCut expects Y or N here: nobody is in a group that does not exist.
    if group is None:
        return ["N"]
    return ["Y" if username in (u.casefold() for u in group.usernames) else "N"]


Command = Callable[[Directory, list[str], BinaryIO], list[str]]

COMMANDS: dict[str, Command] = {
    "is-valid": _is_valid,
    "all-users": _all_users,
    "all-groups": _all_groups,
    "get-user-details": _get_user_details,
    "group-member-names": _group_member_names,
    "group-members": _group_members,
    "is-user-in-group": _is_user_in_group,
}

SYNC_USAGE = f"""\
usage: - COMMAND [ARGUMENT ...], as PaperCut runs it
COMMAND: {", ".join(list(COMMANDS)[:4])},
  {", ".join(list(COMMANDS)[4:])}
  (get-user-details reads the username on standard input)
config: ${CONFIG_ENV}, else {DEFAULT_CONFIG}"""


def _argument(args: list[str], position: int, what: str) -> str:
    if len(args) <= position:
        raise ProgramError(f"this command needs {what}")
    return args[position]


def sync(
    argv: Sequence[str],
    stdin: BinaryIO,
    stdout: BinaryIO,
    stderr: BinaryIO,
) -> int:
    """Answer ``- <command> [arguments]``; return the exit status."""
    words = list(argv)
    if words in (["--help"], ["-h"]):
        _write(stdout, [SYNC_USAGE])
        return 0
    if len(words) < 2 or words[0] != "-" or words[1] not in COMMANDS:
        _write(stderr, ["ldapbridge: usage: - " + "|".join(COMMANDS) + " [arguments]"])
        return 1

    command, args = words[1], words[2:]
    try:
        directory = load_directory(config_path())
        lines = COMMANDS[command](directory, args, stdin)
    except ProgramError as e:
        if command == "is-valid":
            # is-valid answers N for a source that does not work.
            _write(stdout, ["N"])
            _write(stderr, [f"ldapbridge: {e}"])
            return 0
        _write(stderr, [f"ldapbridge: {e}"])
        return 1
    _write(stdout, lines)
    return 0


# -- the auth program --------------------------------------------------------


def authenticate(stdin: BinaryIO, stdout: BinaryIO, stderr: BinaryIO) -> int:
    """Read ``username\\npassword\\n``; print ``OK\\n<username>`` or ``ERROR``.

    Always returns 0, as PaperCut asks; every failure, whatever its cause,
    prints ERROR and one line on stderr that never holds the password.
    """
    username = _read_line(stdin).strip()
    password = _read_line(stdin)
    try:
        directory = load_directory(config_path())
        member = directory.member(username)
        accepted = member is not None and _password_ok(directory, member, password)
    except ProgramError as e:
        return _refuse(stdout, stderr, str(e))
    except PasswordCheckUnavailable:
        return _refuse(stdout, stderr, "passwords cannot be checked right now")

    if member is None or not accepted:
        return _refuse(stdout, stderr, "Invalid username or password")
    # PaperCut keeps the username printed after OK: the canonical, lowercase one.
    _write(stdout, ["OK", member.username])
    return 0


def _password_ok(directory: Directory, member: Member, password: str) -> bool:
    """An active member and their password; an empty one never passes."""
    if not member.active or not password:
        return False
    return make_checker(make_source(directory.settings)).check(member, password)


def _refuse(stdout: BinaryIO, stderr: BinaryIO, reason: str) -> int:
    _write(stdout, ["ERROR"])
    _write(stderr, [f"ldapbridge: {reason}"])
    return 0


# -- console entry points ----------------------------------------------------


def sync_console() -> None:
    """``ldapbridge-papercut-sync``: the path to give PaperCut as user program."""
    sys.exit(sync_main(sys.argv[1:]))


def auth_console() -> None:
    """``ldapbridge-papercut-auth``: the path to give PaperCut as auth program."""
    sys.exit(auth_main())


def sync_main(argv: Sequence[str]) -> int:
    return sync(argv, sys.stdin.buffer, sys.stdout.buffer, sys.stderr.buffer)


def auth_main() -> int:
    return authenticate(sys.stdin.buffer, sys.stdout.buffer, sys.stderr.buffer)


def _read_line(stream: BinaryIO) -> str:
    """One line of UTF-8 input without its line ending."""
    line = stream.readline().decode("utf-8", errors="replace")
    return line.removesuffix("\n").removesuffix("\r")


def _write(stream: BinaryIO, lines: list[str]) -> None:
    stream.write("".join(line + "\n" for line in lines).encode("utf-8"))
    stream.flush()
