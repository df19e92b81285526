"""Answered requests in a PostgreSQL store: every server on every host sees every key."""

from __future__ import annotations

import json
import time

import psycopg

from atlas_tui.storage.pg.repo import PostgresRepository
from atlas_tui.storage.requests import KEEP_SECONDS, Stored


class PgRequests:
    """The RequestLog of a PostgreSQL store (its `requests` table)."""

    def __init__(self, repository: PostgresRepository) -> None:
        self._repository = repository
        self._last_sweep = 0.0

    def claim(self, user: str, key: str, fingerprint: str) -> Stored | None:
        now = time.time()
        try:
            with self._repository.own_connection() as conn, conn.transaction():
                if now - self._last_sweep > 60:
                    self._last_sweep = now
                    conn.execute(
                        "DELETE FROM requests WHERE at < now() - make_interval(secs => %s)",
                        (KEEP_SECONDS,),
                    )
                made = conn.execute(
                    "INSERT INTO requests (username, key, fingerprint) VALUES (%s, %s, %s) "
                    "ON CONFLICT DO NOTHING RETURNING 1",
                    (user, key, fingerprint),
                ).fetchone()
                if made is not None:
                    return None
                row = conn.execute(
                    "SELECT fingerprint, status, body, headers FROM requests "
                    "WHERE username = %s AND key = %s",
                    (user, key),
                ).fetchone()
        except psycopg.Error as exc:
            raise self._repository.failed(exc, "write") from None
        if row is None:  # swept between the two statements: as good as new
            return None
        return Stored(row[0], row[1], bytes(row[2] or b""), json.loads(row[3] or "{}"))

    def finish(
        self, user: str, key: str, status: int, body: bytes, headers: dict[str, str]
    ) -> None:
        self._run(
            "UPDATE requests SET status = %s, body = %s, headers = %s "
            "WHERE username = %s AND key = %s",
            (status, body, json.dumps(headers), user, key),
        )

    def release(self, user: str, key: str) -> None:
        self._run("DELETE FROM requests WHERE username = %s AND key = %s", (user, key))

    def _run(self, statement: str, args: tuple[object, ...]) -> None:
        try:
            with self._repository.own_connection() as conn, conn.transaction():
                conn.execute(statement.encode(), args)
        except psycopg.Error as exc:
            raise self._repository.failed(exc, "write") from None
