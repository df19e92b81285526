"""Count sessions in a PostgreSQL store: one JSON document changed under a row lock."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import orjson
import psycopg

from atlas_tui.domain.errors import StorageError
from atlas_tui.storage.pg.repo import PostgresRepository, lost

T = TypeVar("T")
NAME = "count_sessions"


class SessionDocument:
    """The SessionStore of a PostgreSQL store: every host's operators share its sessions."""

    def __init__(
        self,
        repository: PostgresRepository,
        name: str = NAME,
        *,
        what: str = "count sessions",
        empty: Callable[[], dict[str, Any]] | None = None,
        key: str = "sessions",
    ) -> None:
        self._repository = repository
        self._name, self._what, self._key = name, what, key
        self._empty = empty or (lambda: {"next_id": 1, "sessions": {}})

    def _document(self, text: object) -> dict[str, Any]:
        try:
            data = orjson.loads(text) if isinstance(text, str) else None
        except orjson.JSONDecodeError:
            data = None
        if not isinstance(data, dict) or not isinstance(data.get(self._key), dict):
            raise StorageError(f"the {self._what} in the store are not ATLAS's")
        return data

    def read(self) -> dict[str, Any]:
        rows = self._repository.read_rows(
            "SELECT data::text FROM documents WHERE name = %s", (self._name,)
        )
        return self._document(rows[0][0]) if rows else self._empty()

    def version(self) -> Hashable:
        rows = self._repository.read_rows(
            "SELECT version FROM documents WHERE name = %s", (self._name,)
        )
        return int(rows[0][0]) if rows else None

    def change(self, edit: Callable[[dict[str, Any]], T]) -> T:
        """Run `edit` on the document with its row locked, and store the result; nothing is
        stored when `edit` raises. The lock is held by a connection of its own, so `edit`
        may change stock meanwhile (a count session's apply)."""
        with self._repository.own_connection() as conn:
            xid, committing = "", False
            try:
                with conn.transaction():
                    row = conn.execute(  # as repo's _begin: the id, the server's start
                        "SELECT pg_current_xact_id()::text || ' ' || "
                        "pg_postmaster_start_time()::text"
                    ).fetchone()
                    xid = str(row[0]) if row else ""
                    conn.execute(
                        "INSERT INTO documents (name, data, version) VALUES (%s, %s, 0) "
                        "ON CONFLICT (name) DO NOTHING",
                        (self._name, orjson.dumps(self._empty()).decode()),
                    )
                    row = conn.execute(
                        "SELECT data::text FROM documents WHERE name = %s FOR UPDATE",
                        (self._name,),
                    ).fetchone()
                    data = self._document(row[0] if row else None)
                    result = edit(data)
                    conn.execute(
                        "UPDATE documents SET data = %s, version = version + 1 WHERE name = %s",
                        (orjson.dumps(data).decode(), self._name),
                    )
                    committing = True
            except psycopg.Error as exc:
                if committing and lost(exc):
                    # The COMMIT lost its connection: the server may have it all the same.
                    look = "look at the session with `atlas count-session show`"
                    self._repository.commit_lost(exc, xid, look)
                    return result
                raise self._repository.failed(exc, "write") from None
        return result
