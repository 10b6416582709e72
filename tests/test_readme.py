"""README.md's commands are the ones CI runs, and its examples work."""

from __future__ import annotations

import configparser
import re
import shlex
import subprocess

from tests import demo
from tests.clients import parse_ldif
from tests.support import ROOT, SERVICE_DN, RunningServer

README = (ROOT / "README.md").read_text(encoding="utf-8")
CI_SCRIPT = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
README_URL = "ldap://127.0.0.1:10389"


def section(title: str) -> str:
    """The text of README's ``## title`` section, up to the next one."""
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end >= 0 else len(README)]


def readme_commands(program: str) -> list[str]:
    """The indented command lines of README's "Try it" that run ``program``.

    Other sections (the operator guide) show commands for a site's own host.
    """
    return [
        line.strip()
        for line in section("Try it").splitlines()
        if line.startswith("    ") and line.strip().startswith(program + " ")
    ]


def run_example(line: str, server: RunningServer) -> subprocess.CompletedProcess[str]:
    """Run a README command line against ``server`` instead of port 10389."""
    assert README_URL in line, line
    args = shlex.split(line.replace(README_URL, server.url))
    return subprocess.run(args, capture_output=True, text=True, timeout=30)


class TestCommands:
    def test_readme_test_command_is_what_ci_runs(self):
        """The README line starting `apt-get update` appears verbatim in .ci/run."""
        (command,) = [
            line.strip()
            for line in README.splitlines()
            if line.strip().startswith("apt-get update")
        ]
        assert "python -m pytest" in command
        assert command in CI_SCRIPT.splitlines()

    def test_readme_run_command_uses_the_shipped_config(self):
        """The run command installs the package and serves bridge.conf."""
        assert "    pip install . && ldapbridge serve --config bridge.conf" in README

    def test_readme_counts_the_demo_members(self):
        """README's "48 invented members" is the number of rows in the export."""
        assert f"({len(demo.rows())} invented members" in README


class TestExamples:
    def test_paged_sync_example_returns_every_active_member(self, demo_server):
        """README's `ldapsearch ... -E pr=10/noprompt` lists all 46 over pages."""
        (line,) = [c for c in readme_commands("ldapsearch") if "pr=10/noprompt" in c]
        done = run_example(line, demo_server)

        assert done.returncode == 0, done.stderr
        entries = parse_ldif(done.stdout)
        assert sorted(e.dn for e in entries) == sorted(r.dn for r in demo.active())
        assert done.stdout.count("pagedresults: cookie=") == 5

    def test_lookup_examples_find_what_they_describe(self, demo_server):
        """The by-username, by-card and groups examples each return entries."""
        results = {}
        for line in readme_commands("ldapsearch"):
            if "pr=10/noprompt" in line or "-b ''" in line:
                continue
            done = run_example(line, demo_server)
            assert done.returncode == 0, (line, done.stderr)
            results[line] = [e.dn for e in parse_ldif(done.stdout)]

        by_uid, by_card, groups = results.values()
        assert by_uid == [demo.ALEX_DN]
        assert by_card == [demo.ALEX_DN]
        assert len(groups) == 4

    def test_whoami_example_prints_the_member(self, demo_server):
        """README's ldapwhoami example binds as Alex Demo."""
        (line,) = readme_commands("ldapwhoami")
        done = run_example(line, demo_server)
        assert (done.returncode, done.stdout) == (0, f"dn:{demo.ALEX_DN}\n")

    def test_root_dse_example_works_anonymously(self, demo_server):
        """README's `ldapsearch -x -H ... -b '' -s base` reads the root DSE."""
        (line,) = [c for c in readme_commands("ldapsearch") if "-b ''" in c]
        done = run_example(line, demo_server)
        (entry,) = parse_ldif(done.stdout)
        assert entry.dn == ""
        assert entry.get("namingContexts") == ["dc=example,dc=com"]

    def test_demo_accounts_table_matches_the_config(self):
        """The service DN and Alex's credentials in README are the real ones."""
        assert f"`{SERVICE_DN}` | `papercut-demo`" in README
        assert f"`{demo.ALEX_DN}` | `{demo.ALEX_PASSWORD}`" in README


class TestConfiguration:
    def test_every_shipped_key_is_documented(self):
        """Each key of the shipped bridge.conf appears in README's tables."""
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(ROOT / "bridge.conf", encoding="utf-8")
        documented = set(re.findall(r"^\| `([a-z_]+)`", README, re.MULTILINE))
        keys = {key for section in parser.sections() for key in parser[section]}
        assert keys <= documented, keys - documented
