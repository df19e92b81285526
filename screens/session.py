"""The session's state the status line shows: store, user, save state, and every message."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from textual.dom import DOMNode

# A message log of a long day stays small: the oldest go beyond this many.
LOG_LIMIT = 2000

BACKENDS = {"tinydb": "TinyDB", "sqlite": "SQLite", "postgresql": "PostgreSQL"}


@runtime_checkable
class WatchesStore(Protocol):
    """A screen showing stored data: `check_store()` looks for others' changes now (it is
    also what the screen's own poll calls)."""

    def check_store(self) -> None: ...


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One message the app showed, as the message log lists it."""

    at: datetime
    severity: str
    text: str


class SessionStatus:
    """One place for what every screen's status line shows; updated on the app thread only.

    Workers reach it through messages or `call_from_thread`; each change tells the status
    lines that are mounted (they subscribe with `watch`).
    """

    def __init__(self, store: str = "", user: str = "") -> None:
        self.store = store
        self.user = user
        self.saving = 0
        self.waiting_for: str | None = None  # the lock's holder while a save waits for it
        self.refusal = ""  # the last refusal, until the next message or save
        self.outage: str | None = None  # why the store cannot be reached, while it cannot
        self.messages: list[LogEntry] = []
        self._watchers: list[Callable[[], None]] = []

    @property
    def save_state(self) -> str:
        """`offline: …`, `saved`, `saving 2…`, `waiting for the lock held by …` or
        `refused: …`."""
        if self.outage is not None:
            return f"offline: {self.outage} · reconnecting"
        if self.waiting_for is not None:
            return f"waiting for the lock held by {self.waiting_for}"
        if self.saving:
            return f"saving {self.saving}…"
        if self.refusal:
            return f"refused: {self.refusal}"
        return "saved"

    @property
    def last_message(self) -> LogEntry | None:
        return self.messages[-1] if self.messages else None

    def watch(self, callback: Callable[[], None]) -> None:
        self._watchers.append(callback)

    def unwatch(self, callback: Callable[[], None]) -> None:
        if callback in self._watchers:
            self._watchers.remove(callback)

    def _changed(self) -> None:
        for callback in list(self._watchers):
            callback()

    def set_saving(self, count: int) -> None:
        """How many changes are on their way to the store."""
        if count != self.saving:
            if count > self.saving:
                self.refusal = ""  # a new save: the last refusal is history
            self.saving = count
            self._changed()

    def set_waiting(self, holder: str | None) -> None:
        """A save started (holder) or stopped (None) waiting for another's lock."""
        if holder != self.waiting_for:
            self.waiting_for = holder
            self._changed()

    def set_outage(self, problem: str | None) -> None:
        """The store became unreachable (why) or answers again (None)."""
        if problem != self.outage:
            self.outage = problem
            self._changed()

    def add_message(self, text: str, severity: str, title: str = "") -> None:
        """A message the app showed: logged, and the status line's until the next one."""
        plain = " ".join(text.split())  # one line: the status line is one row
        shown = f"{title}: {plain}" if title and not plain.startswith(title) else plain
        self.messages.append(LogEntry(datetime.now(), severity, shown))
        del self.messages[:-LOG_LIMIT]
        self.refusal = plain if severity == "error" else ""
        self._changed()


def session_of(node: DOMNode) -> SessionStatus:
    """The app's session state (a bare one for an app that keeps none, as tests use)."""
    app = node.app
    status = getattr(app, "session", None)
    if not isinstance(status, SessionStatus):
        status = SessionStatus()
        app.session = status  # type: ignore[attr-defined]
    return status
