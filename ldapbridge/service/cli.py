"""The ``ldapbridge`` command: serve, check, export, lookup, hash-password.

Exit status: 0 when all went well, 1 when the command found a problem (a
source that cannot be read, a member not found), 2 for a bad command line or
an invalid config file.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, BinaryIO

from ldapbridge import __version__, config
from ldapbridge.directory.sources import SourceError
from ldapbridge.service import papercut

DEFAULT_CONFIG = "bridge.conf"
USAGE_ERROR = 2

Command = Callable[[config.Settings, argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if hasattr(args, "papercut"):
        # PaperCut's programs find their config themselves (papercut.py).
        return int(args.papercut(args.words))
    if not hasattr(args, "run"):
        parser.print_help()
        return USAGE_ERROR
    if args.run is hash_password_command:
        return hash_password_command()
    try:
        settings = config.load(args.config)
    except config.ConfigError as e:
        print(f"ldapbridge: config error: {e}", file=sys.stderr)
        return USAGE_ERROR
    try:
        return int(args.run(settings, args))
    except config.ConfigError as e:
        # Some settings are judged only once the LDAP profile is built.
        print(f"ldapbridge: config error: {e}", file=sys.stderr)
        return USAGE_ERROR
    except SourceError as e:
        print(f"ldapbridge: cannot read members: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader went away (``export --ldif | head``): stop quietly, and
        # keep Python from complaining again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ldapbridge",
        description="Serve a coworking space's members to PaperCut over LDAP.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(title="commands")

    _command(commands, "serve", serve_command, "run the LDAP server until stopped")
    check = _command(
        commands,
        "check",
        check_command,
        "validate the config, read the source, report counts and skipped records",
    )
    check.add_argument(
        "--strict",
        action="store_true",
        help="treat warnings (skipped records, no service account) as problems",
    )
    _export_parser(commands)
    lookup = _command(
        commands,
        "lookup",
        lookup_command,
        "show the entry and groups PaperCut would see for one member",
    )
    lookup.add_argument("member", help="a username, email, card number or member id")
    hashing = commands.add_parser(
        "hash-password",
        help="print a bcrypt hash of a password, to paste into the config",
        description="Read a password (prompted without echo, or one line on "
        "standard input) and print its bcrypt hash. A password longer than "
        "bcrypt's limit of 72 bytes (UTF-8) gets an argon2id hash instead, "
        "which the server checks just as well.",
    )
    hashing.set_defaults(run=hash_password_command)
    _sync_parser(commands)
    _add_papercut_commands(commands)
    return parser


def _command(commands: Any, name: str, run: Command, summary: str) -> Any:
    command = commands.add_parser(name, help=summary, description=summary + ".")
    command.add_argument(
        "--config", default=DEFAULT_CONFIG, help="config file (default: %(default)s)"
    )
    command.set_defaults(run=run)
    return command


def _export_parser(commands: Any) -> None:
    export = _command(
        commands,
        "export",
        export_command,
        "write the directory as the server serves it to a service account",
    )
    formats = export.add_mutually_exclusive_group(required=True)
    formats.add_argument(
        "--ldif", action="store_true", help="as LDIF (RFC 2849); the only format"
    )
    export.add_argument(
        "--operational",
        action="store_true",
        help="include operational attributes (memberOf, entryDN), as '+' asks",
    )
    export.add_argument(
        "--output", metavar="FILE", help="write to FILE instead of standard output"
    )


def _add_papercut_commands(commands: Any) -> None:
    """PaperCut's custom user sync and auth programs (docs/papercut.md)."""
    where = f"config from ${papercut.CONFIG_ENV}, else {papercut.DEFAULT_CONFIG}"
    sync = commands.add_parser(
        "papercut-sync",
        help=f"PaperCut custom user sync program: - <command> ({where})",
        description=papercut.SYNC_USAGE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sync.add_argument("words", nargs=argparse.REMAINDER, metavar="- COMMAND ...")
    sync.set_defaults(papercut=papercut.sync_main)

    auth = commands.add_parser(
        "papercut-auth",
        help=f"PaperCut custom auth program: username and password on stdin ({where})",
    )
    auth.set_defaults(papercut=lambda words: papercut.auth_main(), words=[])


def _sync_parser(commands: Any) -> None:
    sync = _command(
        commands,
        "sync",
        sync_command,
        "refresh the directory once, keep it as the last good snapshot, "
        "and print the counts",
    )
    sync.add_argument(
        "--accept-shrink",
        action="store_true",
        help="publish the new directory even if its active members shrank "
        "past [snapshot] max_shrink",
    )


def sync_command(settings: config.Settings, args: argparse.Namespace) -> int:
    """One refresh against the snapshot on disk; 0 if it was kept, 1 if not."""
    from ldapbridge.service.sync import run_sync

    return run_sync(settings, args.accept_shrink, sys.stdout, sys.stderr)


def serve_command(settings: config.Settings, args: argparse.Namespace) -> int:
    from twisted.internet import reactor

    from ldapbridge.service.app import make_service
    from ldapbridge.service.logs import start_logging

    levels = start_logging(settings.logging)
    try:
        top = make_service(settings, reactor, levels)
    except config.ConfigError as e:
        print(f"ldapbridge: config error: {e}", file=sys.stderr)
        return 2
    except SourceError as e:
        print(f"ldapbridge: cannot load members: {e}", file=sys.stderr)
        return 1

    top.startService()
    reactor.addSystemEventTrigger("before", "shutdown", top.stopService)
    reactor.run()
    failed = any(getattr(s, "failed", False) for s in top)
    return 1 if failed else 0


def check_command(settings: config.Settings, args: argparse.Namespace) -> int:
    from ldapbridge.service.commands import check

    return check(settings, sys.stdout, strict=args.strict)


def export_command(settings: config.Settings, args: argparse.Namespace) -> int:
    from ldapbridge.service.commands import export_ldif, served_directory

    chunks = export_ldif(served_directory(settings, sys.stderr), args.operational)
    if args.output is None:
        sys.stdout.buffer.writelines(chunks)
        sys.stdout.buffer.flush()
        return 0
    try:
        with open_private(args.output) as f:
            f.writelines(chunks)
    except OSError as e:
        print(f"ldapbridge: cannot write {args.output}: {e.strerror}", file=sys.stderr)
        return 1
    return 0


def open_private(path: str) -> BinaryIO:
    """Open ``path`` for writing, readable by its owner only; raise OSError.

    The export holds every member's PIN, so it gets the snapshot file's mode
    (0600); a file that already exists is narrowed to it as well.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
    except OSError:
        os.close(fd)
        raise
    return os.fdopen(fd, "wb")


def lookup_command(settings: config.Settings, args: argparse.Namespace) -> int:
    from ldapbridge.service.commands import lookup, served_directory, why_missing

    directory = served_directory(settings, sys.stderr)
    found = lookup(settings, directory, args.member, sys.stdout.buffer)
    sys.stdout.buffer.flush()
    if found != 0:
        print(
            f"ldapbridge: {why_missing(settings, directory, args.member)}",
            file=sys.stderr,
        )
    return found


def hash_password_command() -> int:
    """Read a password without echoing it; print its bcrypt (or, past 72
    bytes, argon2id) hash."""
    from ldapbridge.directory.passwords import hash_password

    try:
        password = _read_password()
    except NoPassword as e:
        print(f"ldapbridge: {e}", file=sys.stderr)
        return 1
    print(hash_password(password))
    return 0


class NoPassword(Exception):
    """No usable password was typed; the message says why."""


def _read_password() -> str:
    """Prompt twice on a terminal, echo off; else read one line of stdin.

    Raises NoPassword for an empty password, a mismatch or end of input.
    """
    try:
        if sys.stdin.isatty():
            password = getpass.getpass("Password: ")
            if getpass.getpass("Again: ") != password:
                raise NoPassword("the two passwords differ")
        else:
            password = sys.stdin.readline().rstrip("\r\n")
    except (EOFError, KeyboardInterrupt):
        raise NoPassword("no password given") from None
    if not password:
        raise NoPassword("the password is empty")
    return password


if __name__ == "__main__":
    sys.exit(main())
