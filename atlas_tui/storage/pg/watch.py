"""A store watched from a thread: pushed changes, the store's version, and outages.

The thread LISTENs on a connection of its own. Between notifications it asks the store's
version every HEARTBEAT seconds: a change whose notification was lost (a pooler in
transaction mode drops LISTEN) is still seen, and a dead connection is found out. After an
outage it reconnects by itself, with a growing pause, and reports everything changed
(notifications sent meanwhile were lost).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

from atlas_tui.domain.errors import StorageError
from atlas_tui.storage.pg.notify import Listener

if TYPE_CHECKING:
    from atlas_tui.storage.pg.repo import PostgresRepository

HEARTBEAT = 2.0
FIRST_PAUSE = 0.25
LONGEST_PAUSE = 5.0

OnChange = Callable[[frozenset[str] | None], None]
OnState = Callable[[str | None], None]


class StoreWatch:
    """Calls `on_change(skus)` (None: reload everything) for every committed change, and
    `on_state(problem)` when the server becomes unreachable (problem) or is listened to
    (None: first once connected, then after each outage). Both are called on the watch's
    thread."""

    def __init__(
        self,
        repository: PostgresRepository,
        on_change: OnChange,
        on_state: OnState,
        heartbeat: float = HEARTBEAT,
    ) -> None:
        self._repository = repository
        self._on_change = on_change
        self._on_state = on_state
        self._heartbeat = heartbeat
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="atlas-store-watch", daemon=True)
        self.version: int | None = None  # the latest version seen; None while unreachable
        self.down = False

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        pause = FIRST_PAUSE
        listener = Listener(self._repository)
        while not self._stop.is_set():
            try:
                listener.open()
                version = self._ask_version(listener)
                again = self.down or self.version is not None
                if again:
                    self._repository.check_pool()  # connections from before are dead
                self.version, self.down, pause = version, False, FIRST_PAUSE
                self._on_state(None)
                if again:
                    self._on_change(None)  # what changed while away is not known
                self._listen(listener)
            except StorageError as problem:
                listener.close()
                self.version = None
                if not self.down:
                    self.down = True
                    self._on_state(str(problem))
                self._stop.wait(pause)
                pause = min(pause * 2, LONGEST_PAUSE)
        listener.close()

    def _listen(self, listener: Listener) -> None:
        while not self._stop.is_set():
            told = False
            for change in listener.changes(self._heartbeat):
                told = True
                if self.version is None or change.version > self.version:
                    self.version = change.version
                self._on_change(change.skus)
            if not told:
                version = self._ask_version(listener)
                if version != self.version:
                    self.version = version
                    self._on_change(None)

    def _ask_version(self, listener: Listener) -> int:
        conn = listener.connection
        if conn is None:
            raise self._repository.unreachable(None)
        query = sql.SQL("SELECT version FROM {}.store").format(
            sql.Identifier(self._repository.url.schema)
        )
        try:
            row = conn.execute(query).fetchone()
        except psycopg.errors.UndefinedTable:
            return 0  # the store is not made yet
        except psycopg.Error as exc:
            raise self._repository.unreachable(exc) from None
        return int(str(row[0])) if row else 0
