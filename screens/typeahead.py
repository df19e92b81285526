"""Type-ahead that lands where it was aimed: keys from one burst are routed one at a time.

A terminal delivers keys as fast as they arrive: over SSH, from a paste or a fast typist,
several come in one read. Textual routes each key to the widget focused when the app
dequeues it, but a binding that moves the focus or opens a screen does so through messages
queued *behind* the keys already read. So in `/utility` the `u` went to the table (undo)
instead of the filter box it was typed for.

`TypeAheadApp` holds every key (and paste) that arrives while the effects of the previous
one are still being processed, and releases the next only once the app and every widget of
the current screen have emptied their message queues: the same state a person typing one
key at a time would see. Settling costs a few message round trips, well under a millisecond.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any, Generic, TypeVar

from textual import events
from textual.app import App
from textual.message import Message
from textual.message_pump import MessagePump

# A screen that never goes quiet (an animation, a chatty worker) must not hold keys forever.
_MAX_ROUNDS = 40

_Typed = events.Key | events.Paste
ReturnType = TypeVar("ReturnType")


def _has_work(pump: MessagePump, app: MessagePump) -> bool:
    """Whether `pump` has messages to process (keys still waiting at the app are not work)."""
    queue: asyncio.Queue[Message | None] = pump._message_queue
    if pump is not app or queue.empty():
        return not queue.empty()
    waiting: deque[Message | None] = getattr(queue, "_queue", deque())
    return any(not isinstance(message, _Typed) or message.is_forwarded for message in waiting)


class TypeAheadApp(App[ReturnType], Generic[ReturnType]):
    """An App whose keys and pastes are applied strictly one after another."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._held: deque[_Typed] = deque()
        self._settling = False
        self._releasing: _Typed | None = None
        self._round = 0
        self._outstanding = 0

    async def on_event(self, event: events.Event) -> None:
        if not isinstance(event, _Typed) or event.is_forwarded:
            await super().on_event(event)
            return
        if event is self._releasing:
            self._releasing = None
        elif self._settling or self._held or self._releasing is not None:
            self._held.append(event)
            return
        self._settling = True
        try:
            await super().on_event(event)
        finally:
            self._settle(0)

    @property
    def typing_ahead(self) -> bool:
        """Whether keys are waiting for an earlier key's effects to finish."""
        return bool(self._held) or self._settling

    def _pumps(self) -> list[MessagePump]:
        try:
            return [self, *self.screen.walk_children(with_self=True)]
        except Exception:  # no screen yet, or the app is closing
            return [self]

    def _settle(self, rounds: int) -> None:
        """Wait (without blocking) until every queue that had work when called has done it."""
        self._round += 1
        token = self._round
        self._outstanding = 0

        def back() -> None:
            if token != self._round:
                return
            self._outstanding -= 1
            if self._outstanding == 0:
                self._round_done(rounds)

        for pump in self._pumps():
            if pump.call_later(back):
                self._outstanding += 1
        if self._outstanding == 0:
            self._round_done(rounds)

    def _round_done(self, rounds: int) -> None:
        busy = any(_has_work(pump, self) for pump in self._pumps())
        if busy and rounds < _MAX_ROUNDS:
            self._settle(rounds + 1)
            return
        self._settling = False
        if self._held:
            self._releasing = self._held.popleft()
            self.post_message(self._releasing)
