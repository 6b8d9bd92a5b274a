"""Online backup and restore of the embedded SQLite database.

``backup`` copies a consistent snapshot with SQLite's online backup API in
one step: in WAL mode the gateway keeps writing meanwhile (a reader never
blocks the writer), and the copy holds exactly the transactions committed
when it began, so every hash chain in it ends at a recorded head.
``restore`` copies a backup into a database the same way (the service
stopped). PostgreSQL is backed up with its own tools (docs/operations.md).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(Exception):
    """The backup or restore cannot be done (not SQLite, missing file, target exists)."""


def sqlite_path(url: str) -> Path:
    parsed = make_url(url)
    if (
        parsed.get_backend_name() != "sqlite"
        or not parsed.database
        or parsed.database == ":memory:"
    ):
        raise BackupError(
            f"{parsed.render_as_string(hide_password=True)} is not a SQLite file: back up "
            "PostgreSQL with pg_dump or pg_basebackup (docs/operations.md)"
        )
    return Path(parsed.database)


def _copy(source: Path, target: Path) -> int:
    """Copy ``source`` into ``target`` with the backup API; the pages copied."""
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30) as src:
        # Keep the target's journal simple: a backup file is one self-contained file.
        with sqlite3.connect(target) as dst:
            src.backup(dst)  # one step: one consistent snapshot
            pages = int(dst.execute("PRAGMA page_count").fetchone()[0])
            dst.execute("PRAGMA journal_mode=DELETE")
        dst.close()
    src.close()
    return pages


def backup(url: str, target: Path, *, overwrite: bool = False) -> int:
    """Back the SQLite database at ``url`` up into the file ``target`` while it
    is in use; the pages copied."""
    source = sqlite_path(url)
    if not source.exists():
        raise BackupError(f"{source} does not exist")
    if target.exists() and not overwrite:
        raise BackupError(f"{target} exists (--overwrite replaces it)")
    if target.exists():
        target.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    return _copy(source, target)


def restore(backup_file: Path, url: str, *, overwrite: bool = False) -> int:
    """Restore ``backup_file`` into the SQLite database at ``url`` (stop the
    service first); the pages copied."""
    target = sqlite_path(url)
    if not backup_file.exists():
        raise BackupError(f"{backup_file} does not exist")
    if target.exists() and not overwrite:
        raise BackupError(f"{target} exists (--overwrite replaces it)")
    for stale in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
        stale.unlink(missing_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    return _copy(backup_file, target)
