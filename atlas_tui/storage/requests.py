"""Requests a server has answered, by user and Idempotency-Key, kept a day.

In a small SQLite file beside a data file (shared by every server on the host), and in the
store itself for a PostgreSQL store (shared by every server on every host).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

from atlas_tui.storage.base import InventoryRepository

KEEP_SECONDS: Final = 24 * 3600


@dataclass(frozen=True, slots=True)
class Stored:
    """A request's answer (status None: claimed, still running or cut short)."""

    fingerprint: str
    status: int | None
    body: bytes
    headers: dict[str, str]


class RequestLog(Protocol):
    def claim(self, user: str, key: str, fingerprint: str) -> Stored | None:
        """None when the key is new (now claimed); else what is stored under it."""
        ...

    def finish(
        self, user: str, key: str, status: int, body: bytes, headers: dict[str, str]
    ) -> None:
        """Keep the answer of a claimed request."""
        ...

    def release(self, user: str, key: str) -> None:
        """Forget a claim whose request changed nothing, so it may be sent again."""
        ...


class SQLiteRequests:
    """The RequestLog of a data file: `<data file>.requests.sqlite`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._last_sweep = 0.0

    def _connect(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS requests (user TEXT NOT NULL, key TEXT NOT NULL, "
                "fingerprint TEXT NOT NULL, status INTEGER, body BLOB, headers TEXT, "
                "at REAL NOT NULL, PRIMARY KEY (user, key))"
            )
            self._local.conn = conn
        return conn

    def claim(self, user: str, key: str, fingerprint: str) -> Stored | None:
        conn = self._connect()
        now = time.time()
        if now - self._last_sweep > 60:
            self._last_sweep = now
            conn.execute("DELETE FROM requests WHERE at < ?", (now - KEEP_SECONDS,))
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute(
                "SELECT fingerprint, status, body, headers FROM requests "
                "WHERE user = ? AND key = ?",
                (user, key),
            ).fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO requests (user, key, fingerprint, at) VALUES (?, ?, ?, ?)",
                    (user, key, fingerprint, now),
                )
        finally:
            conn.execute("COMMIT")
        if row is None:
            return None
        return Stored(row[0], row[1], bytes(row[2] or b""), json.loads(row[3] or "{}"))

    def finish(
        self, user: str, key: str, status: int, body: bytes, headers: dict[str, str]
    ) -> None:
        self._connect().execute(
            "UPDATE requests SET status = ?, body = ?, headers = ? WHERE user = ? AND key = ?",
            (status, body, json.dumps(headers), user, key),
        )

    def release(self, user: str, key: str) -> None:
        self._connect().execute("DELETE FROM requests WHERE user = ? AND key = ?", (user, key))


def open_requests(repository: InventoryRepository) -> RequestLog:
    """The store's RequestLog (see the module's docstring)."""
    if repository.backend == "postgresql":
        from atlas_tui.storage.pg.repo import PostgresRepository
        from atlas_tui.storage.pg.requests import PgRequests

        assert isinstance(repository, PostgresRepository)
        return PgRequests(repository)
    path = repository.path
    return SQLiteRequests(path.with_name(path.name + ".requests.sqlite"))
