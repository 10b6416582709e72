"""The ``ldapbridge`` command."""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Sequence

from ldapbridge import __version__, config
from ldapbridge.directory.sources import SourceError

DEFAULT_CONFIG = "bridge.conf"


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
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

    sync = commands.add_parser(
        "sync",
        help="refresh the directory once, keep it as the last good snapshot, "
        "and print the counts",
    )
    sync.add_argument(
        "--config", default=DEFAULT_CONFIG, help="config file (default: %(default)s)"
    )
    # The flag picks the command's variant, as main() hands commands the
    # settings only.
    sync.add_argument(
        "--accept-shrink",
        dest="run",
        action="store_const",
        const=functools.partial(sync_command, accept_shrink=True),
        help="publish the new directory even if its active members shrank "
        "past [snapshot] max_shrink",
    )
    sync.set_defaults(run=sync_command)
    return parser


def sync_command(settings: config.Settings, accept_shrink: bool = False) -> int:
    """One refresh against the snapshot on disk; 0 if it was kept, 1 if not."""
    from ldapbridge.service.sync import run_sync

    return run_sync(settings, accept_shrink, sys.stdout, sys.stderr)


def serve_command(settings: config.Settings) -> int:
    from twisted.internet import reactor

    from ldapbridge.service.app import make_service
    from ldapbridge.service.logs import start_logging

    start_logging(settings.logging)
    try:
        top = make_service(settings, reactor)
    except SourceError as e:
        print(f"ldapbridge: cannot load members: {e}", file=sys.stderr)
        return 1

    top.startService()
    reactor.addSystemEventTrigger("before", "shutdown", top.stopService)
    reactor.run()  # type: ignore[attr-defined]
    failed = any(getattr(s, "failed", False) for s in top)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
