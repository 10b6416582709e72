"""The ``ldapbridge`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from ldapbridge import __version__, config
from ldapbridge.directory.sources import SourceError
from ldapbridge.service import papercut

DEFAULT_CONFIG = "bridge.conf"


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if hasattr(args, "papercut"):
        # PaperCut's programs find their config themselves (papercut.py).
        return int(args.papercut(args.words))
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        settings = config.load(args.config)
    except config.ConfigError as e:
        print(f"ldapbridge: config error: {e}", file=sys.stderr)
        return 2
    return int(args.run(settings))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ldapbridge",
        description="Serve a coworking space's members to PaperCut over LDAP.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(title="commands")

    serve = commands.add_parser(
        "serve", help="run the LDAP server in the foreground until stopped"
    )
    serve.add_argument(
        "--config", default=DEFAULT_CONFIG, help="config file (default: %(default)s)"
    )
    serve.set_defaults(run=serve_command)
    _add_papercut_commands(commands)
    return parser


def _add_papercut_commands(commands: Any) -> None:
    """PaperCut's custom user sync and auth programs (docs/papercut.md)."""
    where = f"config from ${papercut.CONFIG_ENV}, else {papercut.DEFAULT_CONFIG}"
    sync = commands.add_parser(
        "papercut-sync",
        help=f"PaperCut custom user sync program: - <command> ({where})",
    )
    sync.add_argument("words", nargs=argparse.REMAINDER)
    sync.set_defaults(papercut=papercut.sync_main)

    auth = commands.add_parser(
        "papercut-auth",
        help=f"PaperCut custom auth program: username and password on stdin ({where})",
    )
    auth.set_defaults(papercut=lambda words: papercut.auth_main(), words=[])


def serve_command(settings: config.Settings) -> int:
    from twisted.internet import reactor as installed_reactor

    reactor: Any = installed_reactor

    from ldapbridge.service.app import make_service
    from ldapbridge.service.logs import start_logging

    start_logging(settings.logging)
    try:
        top = make_service(settings, reactor)
    except SourceError as e:
        print(f"ldapbridge: cannot load members: {e}", file=sys.stderr)
        return 1
    except config.ConfigError as e:
        print(f"ldapbridge: config error: {e}", file=sys.stderr)
        return 2

    top.startService()
    reactor.addSystemEventTrigger("before", "shutdown", top.stopService)
    reactor.run()
    failed = any(getattr(s, "failed", False) for s in top)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
