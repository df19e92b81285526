"""Push of committed changes: NOTIFY on every write, LISTEN on a connection of its own.

A payload is "<version> <SKU keys as a JSON list>", or "<version> *" when the keys would
not fit PostgreSQL's 8,000-byte limit (or the whole store was replaced): the listener then
reloads everything, as it does after a reconnect (notifications sent meanwhile are lost).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson
import psycopg
from psycopg import sql

if TYPE_CHECKING:
    from atlas_tui.storage.pg.repo import PostgresRepository

# Under PostgreSQL's 8,000 bytes, with room for the version in front.
PAYLOAD_LIMIT = 7_900
EVERYTHING = "*"


def channel_of(schema: str) -> str:
    """The channel a store's changes are announced on (schemas are at most 56 characters)."""
    return f"atlas_{schema}"


def payload_of(changed: Iterable[str]) -> str:
    """The changed SKU keys as the payload's tail: a JSON list, or * when too many."""
    keys = sorted(changed)
    if EVERYTHING in keys:
        return EVERYTHING
    text = orjson.dumps(keys).decode()
    return text if len(text.encode()) <= PAYLOAD_LIMIT else EVERYTHING


@dataclass(frozen=True, slots=True)
class Change:
    """One committed change: the store's version after it, and the SKU keys it touched
    (None: too many to list, reload everything)."""

    version: int
    skus: frozenset[str] | None


def parse(payload: str) -> Change | None:
    """A payload read back; None for one that is not ATLAS's."""
    head, _, tail = payload.partition(" ")
    try:
        version = int(head)
    except ValueError:
        return None
    if tail == EVERYTHING:
        return Change(version, None)
    try:
        keys = orjson.loads(tail)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        return None
    return Change(version, frozenset(keys))


class Listener:
    """LISTEN on a store's channel, on an autocommit connection of its own."""

    def __init__(self, repository: PostgresRepository) -> None:
        self._repository = repository
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None

    @property
    def connection(self) -> psycopg.Connection[tuple[object, ...]] | None:
        """The listening connection (for a query between notifications), once open."""
        return self._conn

    def open(self) -> None:
        """Connect and listen; StorageError when the server cannot be reached."""
        conn = self._repository.connect()
        try:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._repository.channel)))
        except psycopg.Error as exc:
            conn.close()
            raise self._repository.unreachable(exc) from None
        self._conn = conn

    def changes(self, timeout: float) -> Iterator[Change]:
        """The changes announced within `timeout` seconds (returns early after the first
        burst); StorageError when the connection is lost."""
        conn = self._conn
        if conn is None:
            self.open()
            conn = self._conn
        assert conn is not None
        try:
            for notice in conn.notifies(timeout=timeout, stop_after=1):
                change = parse(notice.payload)
                if change is not None:
                    yield change
            # Whatever else arrived with the first: one refresh for a burst.
            for notice in conn.notifies(timeout=0.0):
                change = parse(notice.payload)
                if change is not None:
                    yield change
        except psycopg.Error as exc:
            self.close()
            raise self._repository.unreachable(exc) from None

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
