"""The snapshot file: atomic, owner-only, read back whole or not at all."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from ldapbridge.directory.model import MemberRecord
from ldapbridge.directory.store import SnapshotStore, StoreError

RECORDS = (
    MemberRecord(
        member_id="M-1",
        full_name="Zoë Ødegaard",
        email="zoe@example.com",
        company="Fjord AS",
        teams=("Night Owls", "Studio"),
        card="00A1B2C3",
        pin="0042",
        password_hash="$2b$10$2OKQzhZK7HwStZm7YYMk4OG3Msz7ZfUQezQLl/OYBT8.9L7Lpu16u",
    ),
    MemberRecord(
        member_id="M-2", full_name="Lars", email="lars@example.se", active=False
    ),
)


class TestSnapshotStore:
    def test_saved_records_read_back_equal(self, tmp_path: Path) -> None:
        """Every field, teams and secrets included, survives the round trip."""
        store = SnapshotStore(tmp_path / "state" / "snapshot.json")
        saved = store.save(RECORDS, "nexudus")
        loaded = store.load()
        assert loaded == saved
        assert (loaded.records, loaded.source) == (RECORDS, "nexudus")

    def test_the_file_is_readable_by_its_owner_only(self, tmp_path: Path) -> None:
        """The file is 0600 even where an older copy was world-readable."""
        path = tmp_path / "snapshot.json"
        path.write_text("{}")
        path.chmod(0o644)
        SnapshotStore(path).save(RECORDS, "file")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600

    def test_no_temporary_file_is_left_behind(self, tmp_path: Path) -> None:
        """After two saves the folder holds the snapshot and nothing else."""
        store = SnapshotStore(tmp_path / "snapshot.json")
        store.save(RECORDS, "file")
        store.save(RECORDS[:1], "file")
        assert [p.name for p in tmp_path.iterdir()] == ["snapshot.json"]
        assert store.load().records == RECORDS[:1]

    def test_each_save_changes_the_stamp(self, tmp_path: Path) -> None:
        """A replaced file has a new stamp, so a server notices another's write."""
        store = SnapshotStore(tmp_path / "snapshot.json")
        store.save(RECORDS, "file")
        first = store.stamp()
        store.save(RECORDS, "file")
        assert store.stamp() != first

    def test_a_file_that_is_not_json_is_an_error(self, tmp_path: Path) -> None:
        """A truncated file is reported, never taken for an empty directory."""
        path = tmp_path / "snapshot.json"
        path.write_text('{"format": "ldapbridge-snapshot", "records": [')
        with pytest.raises(StoreError) as caught:
            SnapshotStore(path).load()
        assert str(caught.value) == f"{path} is not JSON"

    def test_a_malformed_record_is_an_error(self, tmp_path: Path) -> None:
        """A record with an unknown field makes the whole file unusable."""
        store = SnapshotStore(tmp_path / "snapshot.json")
        store.save(RECORDS, "file")
        text = store.path.read_text().replace('"pin"', '"pin_code"')
        store.path.write_text(text)
        with pytest.raises(StoreError) as caught:
            store.load()
        assert str(caught.value) == f"{store.path} holds a malformed snapshot"

    def test_an_unwritable_place_is_an_error(self, tmp_path: Path) -> None:
        """A folder that is a file cannot hold the snapshot: StoreError."""
        (tmp_path / "taken").write_text("")
        store = SnapshotStore(tmp_path / "taken" / "snapshot.json")
        with pytest.raises(StoreError) as caught:
            store.save(RECORDS, "file")
        assert str(caught.value).startswith(f"cannot write {store.path}: ")

    def test_no_path_keeps_nothing(self, tmp_path: Path) -> None:
        """With [snapshot] path empty, saving writes nothing and loading finds none."""
        store = SnapshotStore(None)
        store.save(RECORDS, "file")
        assert (store.load(), list(tmp_path.iterdir())) == (None, [])
