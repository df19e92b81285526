"""Idempotency-Key: a retried request gets the first answer, never a second change.

Records live in a small SQLite file beside the store (for a server store, beside its local
anchor), shared by every `atlas serve` process on the host. A key is claimed before the
change runs; a retry while it runs, or after a crash left it unfinished, is refused rather
than run twice.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

KEEP_SECONDS: Final = 24 * 3600
KEY_MAX: Final = 200


@dataclass(frozen=True, slots=True)
class Stored:
    """A finished request's answer (status None: claimed, still running or cut short)."""

    fingerprint: str
    status: int | None
    body: bytes
    headers: dict[str, str]


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


class IdempotencyStore:
    """Claimed keys per user and their answers, kept a day."""

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

    def claim(self, user: str, key: str, print_: str) -> Stored | None:
        """None when the key is new (now claimed); else what is stored under it."""
        conn = self._connect()
        now = time.time()
        self._sweep(conn, now)
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
                    (user, key, print_, now),
                )
        finally:
            conn.execute("COMMIT")
        if row is None:
            return None
        headers = json.loads(row[3]) if row[3] else {}
        return Stored(row[0], row[1], bytes(row[2] or b""), headers)

    def finish(
        self, user: str, key: str, status: int, body: bytes, headers: dict[str, str]
    ) -> None:
        self._connect().execute(
            "UPDATE requests SET status = ?, body = ?, headers = ? WHERE user = ? AND key = ?",
            (status, body, json.dumps(headers), user, key),
        )

    def release(self, user: str, key: str) -> None:
        """Forget a claim whose request changed nothing (refused, or failed before running),
        so that it may be sent again."""
        self._connect().execute("DELETE FROM requests WHERE user = ? AND key = ?", (user, key))

    def _sweep(self, conn: sqlite3.Connection, now: float) -> None:
        if now - self._last_sweep < 60:
            return
        self._last_sweep = now
        conn.execute("DELETE FROM requests WHERE at < ?", (now - KEEP_SECONDS,))
