"""The webhook dispatcher: follows the store's history and delivers each rule's events.

It is no part of the write path: a stock change commits as it always does, and the
dispatcher reads the movements committed after it (woken by a server store's push, else
polling). Each rule has a thread and a place in the history of its own, kept in the
dispatcher's file beside the store, so a slow or dead receiver holds up only its own rule,
and a restart neither loses nor repeats what was sent. An event is sent again only when
the dispatcher stopped while it was being delivered (receivers tell by its id).
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any

from atlas_tui.domain.models import Movement, format_timestamp, utc_now
from atlas_tui.services.webhooks.delivery import Outcome, attempt
from atlas_tui.services.webhooks.events import Event, Step, mark, ping, steps, whole_applies
from atlas_tui.storage.webhook_log import HookLog, log_path

if TYPE_CHECKING:
    from atlas_tui.config import Settings
    from atlas_tui.storage.base import InventoryRepository
    from atlas_tui.webhook_rules import WebhookRule

POLL = 0.5  # seconds between looks at a store that cannot push
PUSHED_POLL = 5.0  # a store that pushes is still looked at now and then
PAGE = 200  # movements read at a time
LONGEST_WAIT = 600.0  # the longest pause between two attempts of one delivery

Cursor = tuple[int, str]  # the last movement a rule is done with, and its mark


class Dispatcher:
    """Delivers the events of `rules` (default: the settings' `[[webhooks]]`) for the
    settings' store, from daemon threads, between `start()` and `stop()`.

    Secrets named by `secret_env` are read from `env` when it is made: a ConfigError names
    the rule's line when one is unset. `stats` counts deliveries, `on_attempt(event type,
    ok)` is told of each attempt (metrics), `problem` tells why the store cannot be read
    just now (None when it can).
    """

    def __init__(
        self,
        settings: Settings,
        rules: Sequence[WebhookRule] | None = None,
        *,
        env: Mapping[str, str] | None = None,
        poll: float = POLL,
        on_attempt: Callable[[str, bool], None] | None = None,
    ) -> None:
        self.settings = settings
        self.rules = tuple(settings.webhooks if rules is None else rules)
        env = os.environ if env is None else env
        self._secrets = [rule.secret_from(env) for rule in self.rules]
        self._keys: list[str] = []  # where each rule's place is kept: a twin gets its own
        for rule in self.rules:
            key, twin = rule.key, 1
            while key in self._keys:
                twin += 1
                key = f"{rule.key}#{twin}"
            self._keys.append(key)
        self.log_path = log_path(settings.storage_path)
        self.problem: str | None = None
        self.stats = {"attempts": 0, "delivered": 0, "failed": 0}
        self._poll = poll
        self._on_attempt = on_attempt
        self._stopping = threading.Event()
        self._wakes: list[threading.Event] = []
        self._threads: list[threading.Thread] = []
        self._count = threading.Lock()
        self._log: HookLog | None = None
        self._repository: InventoryRepository | None = None

    # Running ----------------------------------------------------------------------------------

    def start(self) -> None:
        """Open the store and the dispatcher's file and follow the history from where each
        rule got to (a new rule: from now). ConflictError when another dispatcher runs for
        this store."""
        if self._threads or not self.rules:
            return
        from atlas_tui.storage import open_repository

        log = HookLog(self.log_path)
        try:
            log.hold()
            repository = open_repository(self.settings)
        except BaseException:
            log.close()
            raise
        self._log, self._repository = log, repository
        self._stopping.clear()
        pushed = repository.watch_changes(self._changed, self._state)
        poll = PUSHED_POLL if pushed else self._poll
        pairs = zip(self.rules, self._secrets, self._keys, strict=True)
        for number, (rule, secret, key) in enumerate(pairs, 1):
            # Where a new rule starts is fixed now: a change made once start() returns is
            # sent. (A store that cannot be read yet leaves that to the rule's thread.)
            try:
                cursor: Cursor | None = self._cursor(key)
            except Exception as exc:
                cursor, self.problem = None, f"webhooks: {exc}"
            wake = threading.Event()
            thread = threading.Thread(
                target=self._follow,
                args=(rule, secret, key, wake, poll, cursor),
                name=f"atlas-webhook-{number}",
                daemon=True,
            )
            self._wakes.append(wake)
            self._threads.append(thread)
        for thread in self._threads:
            thread.start()

    def stop(self, wait: float = 5.0) -> bool:
        """Stop delivering: each rule finishes the attempt it is making (up to `wait`
        seconds in all). False when one is still at it (its event goes again next start)."""
        self._stopping.set()
        for wake in self._wakes:
            wake.set()
        deadline = time.monotonic() + wait
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        finished = not any(thread.is_alive() for thread in self._threads)
        repository, log = self._repository, self._log
        if repository is not None:
            repository.stop_watching()
        if finished:  # else a thread may still log: the process's end closes them
            if repository is not None:
                repository.close()
            if log is not None:
                log.close()
            self._repository = self._log = None
        self._threads, self._wakes = [], []
        return finished

    def __enter__(self) -> Dispatcher:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _changed(self, skus: frozenset[str] | None) -> None:
        for wake in self._wakes:
            wake.set()

    def _state(self, problem: str | None) -> None:
        self.problem = problem
        if problem is None:
            self._changed(None)

    # One rule's thread ------------------------------------------------------------------------

    def _follow(
        self,
        rule: WebhookRule,
        secret: str,
        key: str,
        wake: threading.Event,
        poll: float,
        cursor: Cursor | None,
    ) -> None:
        while not self._stopping.is_set():
            wake.clear()
            try:
                if cursor is None:
                    cursor = self._cursor(key)
                pending = self._pending(cursor)
                if pending is None:  # a restore replaced the history
                    cursor = self._resume(cursor)
                    self._save(key, cursor)
                    continue
                self.problem = None
                unsaved = False
                for step in pending:
                    sent = self._send(rule, secret, step)
                    if sent is None:
                        return  # stopping: this step goes again at the next start
                    assert step.last.id is not None
                    cursor = (step.last.id, mark(step.last))
                    unsaved = not sent
                    if sent:  # at once after a delivery; steps with none, once a page
                        self._save(key, cursor)
                if unsaved:
                    self._save(key, cursor)
            except Exception as exc:  # the store or the file went away: try again later
                self.problem = f"webhooks: {exc}"
                pending = []
            if not pending:
                wake.wait(poll)

    def _cursor(self, key: str) -> Cursor:
        assert self._log is not None
        found = self._log.cursor(key)
        if found is None:
            found = self._end()
            self._save(key, found)
        return found

    def _save(self, key: str, cursor: Cursor) -> None:
        assert self._log is not None
        self._log.set_cursor(key, *cursor)

    def _end(self) -> Cursor:
        assert self._repository is not None
        latest = self._repository.latest_movements(1)
        if not latest or latest[0].id is None:
            return 0, ""
        return latest[0].id, mark(latest[0])

    def _resume(self, lost: Cursor) -> Cursor:
        """Where to go on in a history a restore brought: after its last movement made
        no later than the one `lost` was at. What it restored is not sent again; what
        was done since the restore is."""
        assert self._repository is not None
        since = datetime.fromisoformat(lost[1].split("|")[1])
        wanted = 16
        while True:
            latest = self._repository.latest_movements(wanted)
            for movement in latest:  # newest first
                if movement.timestamp <= since and movement.id is not None:
                    return movement.id, mark(movement)
            if len(latest) < wanted:
                return 0, ""  # all of it is newer: send it all
            wanted *= 4

    def _pending(self, cursor: Cursor) -> list[Step] | None:
        """The steps after `cursor`, or None when its movement is gone (a restore)."""
        assert self._repository is not None
        repository = self._repository
        last, last_mark = cursor
        anchor = 1 if last > 0 else 0  # the cursor's own movement, read to recognise it
        limit = PAGE
        while True:
            asked = limit + anchor
            found = repository.movements_after(last - anchor, asked)
            if anchor and (not found or found[0].id != last or mark(found[0]) != last_mark):
                return None
            newer: list[Movement] = found[anchor:]
            whole = whole_applies(newer, full=len(found) == asked)
            if whole or not newer:
                return steps(whole, repository.get)
            limit *= 2  # one count apply longer than the page: read it whole

    def _send(self, rule: WebhookRule, secret: str, step: Step) -> int | None:
        """Deliver the step's events the rule is on: how many; None when stopping."""
        sent = 0
        for event in step.events:
            if event.type not in rule.on:
                continue
            if self._stopping.is_set() or not self._deliver(rule, secret, event):
                return None
            sent += 1
        return sent

    def _deliver(self, rule: WebhookRule, secret: str, event: Event) -> bool:
        """Attempt until it is taken or the rule's retries are spent (each attempt logged);
        False when stopping before either."""
        delivery = uuid.uuid4().hex
        for number in range(1, rule.retries + 2):
            outcome = self._attempt(rule, secret, event, delivery, number)
            if outcome.ok:
                return True
            if number > rule.retries:
                break
            pause = min(rule.backoff * 2 ** (number - 1), LONGEST_WAIT)
            if self._stopping.wait(pause):
                return False
        self._counted("failed")
        return not self._stopping.is_set()

    def _attempt(
        self, rule: WebhookRule, secret: str, event: Event, delivery: str, number: int
    ) -> Outcome:
        outcome = attempt(rule, secret, event, delivery)
        self._counted("attempts")
        if outcome.ok:
            self._counted("delivered")
        if self._on_attempt is not None:
            self._on_attempt(event.type, outcome.ok)
        log = self._log
        if log is not None:
            log.add_attempt(**_logged(rule, event, delivery, number, outcome))
        return outcome

    def _counted(self, name: str) -> None:
        with self._count:
            self.stats[name] += 1

    # `atlas webhooks test` --------------------------------------------------------------------

    def ping(self) -> list[tuple[WebhookRule, Outcome]]:
        """Send a `ping` event to every rule at once, one attempt each, logged."""
        now = format_timestamp(utc_now())
        event = ping(str(self.settings.store), now, uuid.uuid4().hex[:12])
        log = HookLog(self.log_path)

        def one(pair: tuple[WebhookRule, str]) -> tuple[WebhookRule, Outcome]:
            rule, secret = pair
            delivery = uuid.uuid4().hex
            outcome = attempt(rule, secret, event, delivery)
            log.add_attempt(**_logged(rule, event, delivery, 1, outcome))
            return rule, outcome

        try:
            with ThreadPoolExecutor(max(1, min(len(self.rules), 16))) as pool:
                return list(pool.map(one, zip(self.rules, self._secrets, strict=True)))
        finally:
            log.close()


def _logged(
    rule: WebhookRule, event: Event, delivery: str, number: int, outcome: Outcome
) -> dict[str, Any]:
    return {
        "at": format_timestamp(utc_now()),
        "event": event.id,
        "type": event.type,
        "delivery": delivery,
        "target": rule.target,
        "attempt": number,
        "ok": outcome.ok,
        "status": outcome.status,
        "error": outcome.error,
        "duration_ms": round(outcome.seconds * 1000, 1),
    }
