"""Fuzz a local ldapbridge server for a while: ``scripts/fuzz.py --duration 600``.

Starts the server on the demo export (127.0.0.1, a free port), then sends
random and mutated LDAP messages in rounds of hypothesis examples, checking
after each batch that a normal bind and search still answer correctly.  Stops
by itself after ``--duration`` seconds; exits 1 at the first failure, with the
failing batch and the server log's tail.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.ldap import fuzzing
from tests.support import RunningServer, demo_config, running_server

ROUND = 200  # examples per hypothesis run; each run draws new random ones


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=300, help="seconds to run")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="ldapbridge-fuzz-") as workdir:
        config = demo_config(limits={"idle_timeout_s": "5"})
        with running_server(config, Path(workdir)) as server:
            return fuzz(server, args.duration)


def fuzz(server: RunningServer, duration_s: float) -> int:
    deadline = time.monotonic() + duration_s
    batches = 0
    while time.monotonic() < deadline:
        try:
            fuzzing.fuzz_run(server, ROUND, derandomize=False)()
        except Exception:
            print(server.log()[-5000:], file=sys.stderr)
            raise
        batches += ROUND
        print(f"{batches} batches sent; the server still answers correctly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
