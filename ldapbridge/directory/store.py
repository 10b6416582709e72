"""The last good snapshot on disk, so a restart during an outage serves at once.

The file holds the member records the last good snapshot was built from
(JSON).  It is written whole or not at all: a temporary file in the same
folder, fsync, rename over the old one, fsync of the folder.  It holds what
the directory serves, PINs and any password hashes of the export included,
so it is created readable by its owner only (mode 0600).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import attrs

from ldapbridge.directory.model import MemberRecord

FORMAT = "ldapbridge-snapshot"
VERSION = 1
FILE_MODE = 0o600
FOLDER_MODE = 0o700


class StoreError(Exception):
    """The snapshot file cannot be written, or read back as a snapshot."""


@attrs.frozen
class StoredSnapshot:
    """What the file holds: the records and who wrote them when."""

    records: tuple[MemberRecord, ...]
    source: str
    written_at: float
    serial: str


class SnapshotStore:
    """One snapshot file; ``path`` None keeps nothing on disk."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def save(self, records: tuple[MemberRecord, ...], source: str) -> StoredSnapshot:
        """Replace the file atomically; raise StoreError."""
        stored = StoredSnapshot(records, source, time.time(), uuid.uuid4().hex)
        if self.path is None:
            return stored
        document = {
            "format": FORMAT,
            "version": VERSION,
            "source": source,
            "written_at": stored.written_at,
            "serial": stored.serial,
            "records": [attrs.asdict(r) for r in records],
        }
        try:
            _write_atomically(self.path, json.dumps(document, ensure_ascii=False))
        except OSError as e:
            raise StoreError(f"cannot write {self.path}: {e.strerror}") from None
        return stored

    def load(self) -> StoredSnapshot | None:
        """The stored snapshot; None if there is none; raise StoreError."""
        if self.path is None or not self.path.exists():
            return None
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
        except OSError as e:
            raise StoreError(f"cannot read {self.path}: {e.strerror}") from None
        except ValueError:
            raise StoreError(f"{self.path} is not JSON") from None
        return _parse(document, self.path)

    def stamp(self) -> tuple[int, int] | None:
        """The file's (mtime, inode): it changes whenever the file is replaced."""
        if self.path is None:
            return None
        try:
            st = self.path.stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_ino


def _parse(document: Any, path: Path) -> StoredSnapshot:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise StoreError(f"{path} is not an ldapbridge snapshot")
    if document.get("version") != VERSION:
        raise StoreError(f"{path} has snapshot version {document.get('version')!r}")
    try:
        records = tuple(_record(r) for r in document["records"])
        return StoredSnapshot(
            records,
            str(document["source"]),
            float(document["written_at"]),
            str(document["serial"]),
        )
    except (KeyError, TypeError, ValueError):
        raise StoreError(f"{path} holds a malformed snapshot") from None


def _record(fields: dict[str, Any]) -> MemberRecord:
    values = dict(fields)
    values["teams"] = tuple(values.get("teams", ()))
    return MemberRecord(**values)


def _write_atomically(path: Path, text: str) -> None:
    """Temp file, fsync, rename, fsync of the folder (POSIX rename is atomic)."""
    folder = path.parent
    folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    # mkstemp creates the file with mode 0600.
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temp_name, FILE_MODE)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    _fsync_folder(folder)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
