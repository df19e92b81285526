"""Type-ahead that lands where it was aimed: keys from one burst are routed one at a time.

A terminal delivers keys as fast as they arrive: over SSH, from a paste or a fast typist,
several come in one read. Textual routes each key to the widget focused when the app
dequeues it, but a binding that moves the focus or opens a screen does so through messages
queued *behind* the keys already read. So in `/utility` the `u` went to the table (undo)
instead of the filter box it was typed for.

`TypeAheadApp` holds every key, paste, click and wheel turn that arrives while the effects
of the previous one are still being processed, and releases the next only once the routing
chain (the app, the screen, the focused widget and its ancestors) is quiet: the same state a
person typing one key at a time would see. Keys that cannot move the focus (text typed into
a box, a table's cursor keys) pass straight through, since waiting costs a repaint per key.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any, Generic, TypeVar

from textual import events
from textual.app import App
from textual.message import Message
from textual.message_pump import MessagePump
from textual.widgets import Input, TextArea

# A screen that never goes quiet (an animation, a chatty worker) must not hold keys forever.
_MAX_ROUNDS = 40

# Everything a person does that must keep its order: keys, pastes, clicks and wheel turns
# (a click typed ahead of `/ab` must not land before the filter has the focus).
_Typed = (
    events.Key
    | events.Paste
    | events.MouseDown
    | events.MouseUp
    | events.MouseScrollDown
    | events.MouseScrollUp
)
ReturnType = TypeVar("ReturnType")


def _has_work(pump: MessagePump, app: MessagePump) -> bool:
    """Whether `pump` has messages to process (keys still waiting at the app are not work)."""
    queue: asyncio.Queue[Message | None] = pump._message_queue
    # A pump peeks one message ahead (to merge replaceable ones): it is out of the queue.
    peeked: Message | None = getattr(pump, "_pending_message", None)
    waiting: list[Message | None] = [] if peeked is None else [peeked]
    waiting += list(getattr(queue, "_queue", ()))
    if pump is not app:
        return bool(waiting)
    return any(
        message is not None and (not isinstance(message, _Typed) or message.is_forwarded)
        for message in waiting
    )


class TypeAheadApp(App[ReturnType], Generic[ReturnType]):
    """An App whose keys, pastes and clicks are applied strictly one after another."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._held: deque[_Typed] = deque()
        self._settling = False
        self._releasing: _Typed | None = None
        self._round = 0
        self._outstanding = 0
        self._quiet = 0
        # Keys passed straight through (cursor keys, typed text) may still be on their way
        # up the widget chain: a key that needs the settled state must wait for them first,
        # or a priority binding (ctrl+p) would overtake them.
        self._in_transit = False
        # Messages the app is in the middle of: a key's binding runs here, in the app's own
        # task, and may await (an action pushing a screen) while other queues look empty.
        self._dispatching = 0
        self.last_input = 0.0
        """When (time.monotonic) a key, paste, click or wheel turn last arrived: long
        background work (a big store's read) pauses while the person is at work."""

    async def _dispatch_message(self, message: Message) -> None:
        self._dispatching += 1
        try:
            await super()._dispatch_message(message)
        finally:
            self._dispatching -= 1

    async def on_event(self, event: events.Event) -> None:
        if not isinstance(event, _Typed) or event.is_forwarded:
            await super().on_event(event)
            return
        self.last_input = time.monotonic()
        if event is self._releasing:
            self._releasing = None
        elif self._settling or self._held or self._releasing is not None:
            self._held.append(event)
            return
        if self._keeps_routing(event):
            await super().on_event(event)
            self._in_transit = True
            self._release_next()
            return
        self._settling = True
        self._quiet = 0
        if self._in_transit:
            self._held.appendleft(event)
            self._settle(0)
            return
        try:
            await super().on_event(event)
        finally:
            self._settle(0)

    def _keeps_routing(self, event: _Typed) -> bool:
        """Whether this key surely leaves focus and screen as they are, so the next key
        need not wait: text typed into a text box, or a key the focused widget declares
        in `KEYS_KEEP_FOCUS` (a table's cursor keys). Waiting costs a repaint per key."""
        focused = self.focused
        if focused is None or not isinstance(event, events.Key):
            return False
        if event.is_printable and isinstance(focused, Input | TextArea):
            return True
        return event.key in getattr(focused, "KEYS_KEEP_FOCUS", ())

    def _pumps(self) -> list[MessagePump]:
        """Where a key's effects on routing are queued: the app (focus changes, screen
        pushes), the screen, and the focused widget with its ancestors (a key and its
        binding travel up that chain). Work elsewhere (a pane loading history) never
        decides where the next key goes, so it is not waited for."""
        pumps: list[MessagePump] = [self]
        try:
            screen = self.screen
        except Exception:  # no screen yet, or the app is closing
            return pumps
        node = screen.focused
        while node is not None and node is not screen:
            pumps.append(node)
            node = node.parent  # type: ignore[assignment]
        pumps.append(screen)
        return pumps

    def _settle(self, rounds: int) -> None:
        """Wait (without blocking) until every queue that had work when called has done it."""
        self._round += 1
        token = self._round
        self._outstanding = 0

        def back(pump: MessagePump) -> None:
            if token != self._round:
                return
            self._outstanding -= 1
            if self._outstanding == 0:
                self._round_done(rounds, pump)

        for pump in self._pumps():
            if pump.call_later(back, pump):
                self._outstanding += 1
        if self._outstanding == 0:
            self._round_done(rounds, None)

    def _round_done(self, rounds: int, last: MessagePump | None) -> None:
        # An empty queue does not prove a pump idle: it may be inside a message (a binding
        # awaiting its action) whose effects are still to come. So it takes two quiet
        # rounds in a row: the second one's markers queue behind any message in progress.
        # The marker that ends this round may itself be a message the app is dispatching.
        app_busy = self._dispatching > (1 if last is self else 0)
        if app_busy or any(_has_work(pump, self) for pump in self._pumps()):
            self._quiet = 0
        else:
            self._quiet += 1
        if self._quiet < 2 and rounds < _MAX_ROUNDS:
            self._settle(rounds + 1)
            return
        self._settling = False
        self._in_transit = False
        self._release_next()

    def _release_next(self) -> None:
        if self._held and self._releasing is None:
            self._releasing = self._held.popleft()
            self.post_message(self._releasing)
