"""A bounded fuzz run: random and mutated messages never take the server down."""

from __future__ import annotations

from pathlib import Path

from tests.ldap import fuzzing
from tests.ldap.test_hostile_input import rss_kib
from tests.support import demo_config, running_server

# Derandomized so CI repeats the same examples; scripts/fuzz.py explores.
EXAMPLES = 1500


class TestFuzz:
    def test_server_answers_correctly_after_every_fuzzed_batch(
        self, tmp_path: Path
    ) -> None:
        """1500 batches of random, valid and mutated messages; a search after each."""
        config = demo_config(limits={"idle_timeout_s": "5"})
        with running_server(config, tmp_path) as server:
            fuzzing.check(server)
            before = rss_kib(server.process.pid)
            fuzzing.fuzz_run(server, EXAMPLES, derandomize=True)()
            fuzzing.check(server)
            assert rss_kib(server.process.pid) - before < 50 * 1024
            log = server.log()
        assert "unexpected failure" not in log
        assert "internal error" not in log
        assert "Traceback" not in log
