"""The ``ldapbridge`` command."""

from __future__ import annotations

import argparse
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
    return parser


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
