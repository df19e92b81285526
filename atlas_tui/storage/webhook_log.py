"""The webhook dispatcher's own file beside the store: where each rule got to in the history,
and every delivery attempt (`atlas webhooks log`).

A small SQLite file, `<data file>.webhooks.sqlite` (for a PostgreSQL store, beside its local
anchor name). It holds no secret: targets are logged without credentials.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from atlas_tui.domain.errors import ConflictError, StorageError

SUFFIX = ".webhooks.sqlite"
KEPT = 100_000  # attempts kept in the log: the latest
_SCHEMA = """
CREATE TABLE IF NOT EXISTS cursors (
    rule TEXT PRIMARY KEY,
    movement INTEGER NOT NULL,
    mark TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS attempts (
    n INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    event TEXT NOT NULL,
    type TEXT NOT NULL,
    delivery TEXT NOT NULL,
    target TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    status INTEGER,
    error TEXT NOT NULL,
    duration_ms REAL NOT NULL
);
"""
ATTEMPT_FIELDS = (
    "at", "event", "type", "delivery", "target", "attempt", "ok", "status", "error", "duration_ms"
)  # fmt: skip


def log_path(store_path: Path) -> Path:
    """The dispatcher's file for the store whose data file (or local anchor) is `store_path`."""
    return store_path.with_name(store_path.name + SUFFIX)


class HookLog:
    """Cursors and delivery attempts, safe to use from several threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._mutex = threading.Lock()
        self._lock_fd: int | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=10, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            # A power cut may lose the last few commits: their events go again (same ids).
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"webhook log {path}: cannot be opened ({exc})") from None

    def hold(self) -> None:
        """Be the one dispatcher of this store: a second would send every event twice."""
        lock = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise ConflictError(
                f"webhooks: another dispatcher already runs for this store ({lock} is held): "
                "`atlas serve` or `atlas webhooks run`"
            ) from None
        self._lock_fd = fd

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._mutex:
            try:
                with self._db:
                    yield self._db
            except sqlite3.Error as exc:
                raise StorageError(f"webhook log {self.path}: {exc}") from None

    def cursor(self, rule: str) -> tuple[int, str] | None:
        """The last movement `rule` is done with and its mark, or None for a new rule."""
        with self._mutex:
            row = self._db.execute(
                "SELECT movement, mark FROM cursors WHERE rule = ?", (rule,)
            ).fetchone()
        return None if row is None else (int(row[0]), str(row[1]))

    def set_cursor(self, rule: str, movement: int, mark: str) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO cursors VALUES (?, ?, ?) ON CONFLICT(rule) DO UPDATE "
                "SET movement = excluded.movement, mark = excluded.mark",
                (rule, movement, mark),
            )

    def add_attempt(self, **attempt: Any) -> None:
        """Log one delivery attempt (ATTEMPT_FIELDS); the oldest go past KEPT attempts."""
        with self._write() as db:
            added = db.execute(
                f"INSERT INTO attempts ({', '.join(ATTEMPT_FIELDS)}) "
                f"VALUES ({', '.join('?' * len(ATTEMPT_FIELDS))})",
                tuple(attempt[name] for name in ATTEMPT_FIELDS),
            ).lastrowid
            if added is not None and added % 1000 == 0:
                db.execute("DELETE FROM attempts WHERE n <= ?", (added - KEPT,))

    def attempts(self, limit: int, failed_only: bool = False) -> list[dict[str, Any]]:
        """The latest attempts, newest first."""
        where = "WHERE ok = 0 " if failed_only else ""
        with self._mutex:
            rows = self._db.execute(
                f"SELECT {', '.join(ATTEMPT_FIELDS)} FROM attempts {where}ORDER BY n DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [{**dict(zip(ATTEMPT_FIELDS, row, strict=True)), "ok": bool(row[6])} for row in rows]

    def close(self) -> None:
        with self._mutex:
            self._db.close()
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None


def read_attempts(path: Path, limit: int, failed_only: bool = False) -> list[dict[str, Any]]:
    """The latest attempts logged in the file at `path` (none when there is no file yet)."""
    if not path.is_file():
        return []
    log = HookLog(path)
    try:
        return log.attempts(limit, failed_only)
    finally:
        log.close()
