"""export, lookup and check show what the server serves: after a refused
shrink or during an outage, that is the last good snapshot on disk."""

from __future__ import annotations

from pathlib import Path

from tests.service.helpers import run_cli
from tests.support import DEMO_CSV, demo_config

GONE = "sophie.martin@example.fr"
LAST_GOOD = "showing the last good snapshot, which the server keeps serving"


def synced(tmp_path: Path) -> tuple[Path, Path]:
    """A config on a copy of the demo export, with a last good snapshot of
    it written by ``ldapbridge sync``; (config, export)."""
    export = tmp_path / "members.csv"
    export.write_text(DEMO_CSV.read_text(encoding="utf-8"), encoding="utf-8")
    config = tmp_path / "bridge.conf"
    snapshot = {"path": str(tmp_path / "snapshot.json")}
    config.write_text(demo_config(export, snapshot=snapshot), encoding="utf-8")
    assert run_cli("sync", "--config", str(config), cwd=tmp_path).returncode == 0
    return config, export


def cut_to(export: Path, keep: int) -> None:
    """Keep the header and the first ``keep`` members of the export."""
    lines = export.read_text(encoding="utf-8").splitlines(keepends=True)
    export.write_text("".join(lines[: keep + 1]), encoding="utf-8")


def people_in(ldif: str) -> int:
    """How many member entries an LDIF export holds."""
    return sum(
        1
        for line in ldif.splitlines()
        if line.startswith("dn: uid=") and line.endswith(",ou=people,dc=example,dc=com")
    )


class TestAfterARefusedShrink:
    def test_lookup_finds_a_member_the_server_still_serves(
        self, tmp_path: Path
    ) -> None:
        """A member cut from the export is still found, with the reason why."""
        config, export = synced(tmp_path)
        cut_to(export, 10)

        result = run_cli("lookup", GONE, "--config", str(config), cwd=tmp_path)

        assert result.returncode == 0, result.stderr
        assert f"uid={GONE}" in result.stdout
        assert (
            "the next refresh would be refused: active members would drop from 46 "
            "to 10" in result.stderr
        )
        assert LAST_GOOD in result.stderr

    def test_export_writes_the_last_good_directory(self, tmp_path: Path) -> None:
        """The LDIF holds the 46 members served, not the 10 listed."""
        config, export = synced(tmp_path)
        cut_to(export, 10)

        result = run_cli("export", "--ldif", "--config", str(config), cwd=tmp_path)

        assert result.returncode == 0, result.stderr
        assert people_in(result.stdout) == 46

    def test_check_warns_that_the_next_refresh_would_be_refused(
        self, tmp_path: Path
    ) -> None:
        """check reports the listing and warns of the shrink guard."""
        config, export = synced(tmp_path)
        cut_to(export, 10)

        result = run_cli("check", "--strict", "--config", str(config), cwd=tmp_path)

        assert result.returncode == 1
        assert (
            "warning: the server's next refresh would be refused: active members "
            "would drop from 46 to 10" in result.stdout
        )

    def test_a_listing_within_max_shrink_is_shown_as_listed(
        self, tmp_path: Path
    ) -> None:
        """Losing one member of 46 passes the guard: export shows 45, quietly."""
        config, export = synced(tmp_path)
        lines = export.read_text(encoding="utf-8").splitlines(keepends=True)
        export.write_text("".join(x for x in lines if GONE not in x), "utf-8")

        result = run_cli("export", "--ldif", "--config", str(config), cwd=tmp_path)

        assert (result.returncode, result.stderr) == (0, "")
        assert people_in(result.stdout) == 45
        assert GONE not in result.stdout


class TestDuringAnOutage:
    def test_lookup_answers_from_the_last_good_snapshot(self, tmp_path: Path) -> None:
        """With the export gone, lookup still shows the member, saying why."""
        config, export = synced(tmp_path)
        export.unlink()

        result = run_cli("lookup", GONE, "--config", str(config), cwd=tmp_path)

        assert result.returncode == 0, result.stderr
        assert f"uid={GONE}" in result.stdout
        assert f"the source failed: cannot read member file {export}" in result.stderr
        assert LAST_GOOD in result.stderr

    def test_without_a_snapshot_the_failure_is_reported(self, tmp_path: Path) -> None:
        """No last good snapshot and no source: export fails, naming the file."""
        config, export = synced(tmp_path)
        (tmp_path / "snapshot.json").unlink()
        export.unlink()

        result = run_cli("export", "--ldif", "--config", str(config), cwd=tmp_path)

        assert result.returncode == 1
        assert f"cannot read member file {export}" in result.stderr
