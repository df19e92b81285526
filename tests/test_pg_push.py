"""Push from a PostgreSQL store: every commit is announced with the SKUs it touched, the
open app shows it, and an outage is reported and healed by itself."""

from __future__ import annotations

import os
import queue
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from pg_support import PgStore, fresh_store
from support import poll, run_atlas
from test_app import ready, wait_for

from atlas_tui.app import make_app
from atlas_tui.factory import make_service
from atlas_tui.services.inventory import InventoryService
from screens.message_log import MessageLogScreen

Pushed = queue.Queue[tuple[str, object]]


@pytest.fixture
def store() -> Iterator[PgStore]:
    with fresh_store() as made:
        service = make_service(made)
        service.add("A-1", "Anvil", "Tools", 10, "A1", 2, 50)
        service.add("B-2", "Bolt M6", "Fasteners", 5, "B1", 1, 0)
        service.repository.close()
        yield made


def watched(service: InventoryService) -> Pushed:
    """What the store pushes to `service`, in order: ("change", keys) and ("state", why);
    returns once the watch listens (its first ("state", None) is taken)."""
    pushed: Pushed = queue.Queue()
    assert service.watch_changes(
        lambda skus: pushed.put(("change", skus)), lambda why: pushed.put(("state", why))
    )
    assert next_push(pushed) == ("state", None)
    return pushed


def next_push(pushed: Pushed) -> tuple[str, object]:
    return pushed.get(timeout=60)


def on_watch(store: PgStore, what: str) -> int:
    """`what` (an aggregate of pid) over this process's listening connections, the
    watch's: the last statement on them is LISTEN or its version query."""
    with psycopg.connect(store.server, autocommit=True) as conn:
        found = conn.execute(
            f"SELECT {what} FROM pg_stat_activity WHERE application_name LIKE %s "
            "AND (query LIKE 'LISTEN%%' OR query LIKE 'SELECT version FROM \"%%')",
            (f"atlas % pid {os.getpid()}",),
        ).fetchone()
    return int(found[0]) if found else 0


def cut_off_watch(store: PgStore) -> int:
    """Terminate this process's listening connection, as a server restart or a network cut
    ends it; returns how many were ended."""
    return on_watch(store, "count(pg_terminate_backend(pid))")


def listeners(store: PgStore) -> int:
    """This process's connections listening to the store (the watch's)."""
    return on_watch(store, "count(*)")


def test_another_process_commit_is_pushed_with_its_skus(store: PgStore) -> None:
    service = make_service(store)
    pushed = watched(service)
    done = run_atlas("adjust", "--sku", "b-2", "--delta", "3", db=store)  # type: ignore[arg-type]
    assert done.code == 0, done.err
    assert next_push(pushed) == ("change", frozenset({"b-2"}))
    # The version the watch keeps is the store's, as a process without a watch reads it.
    assert service.version() == make_service(store).version()
    service.repository.close()


def test_a_change_too_big_to_name_is_pushed_as_reload_everything(store: PgStore) -> None:
    service = make_service(store)
    pushed = watched(service)
    writer = make_service(store)
    # 800 SKUs of 12 characters do not fit in a notification's 8,000 bytes.
    writer.add_many([{"sku": f"LONG-SKU-{n:03}", "name": f"n{n}"} for n in range(800)])
    assert next_push(pushed) == ("change", None)
    assert writer.get("long-sku-799").name == "n799"
    service.repository.close()


def test_a_lost_listener_is_reported_then_reconnects_and_reloads(store: PgStore) -> None:
    service = make_service(store)
    pushed = watched(service)
    assert cut_off_watch(store) == 1
    kind, why = next_push(pushed)
    assert kind == "state" and str(why).startswith("database unreachable (127.0.0.1:5432)")
    assert next_push(pushed) == ("state", None)
    assert next_push(pushed) == ("change", None)  # what happened meanwhile is not known
    make_service(store).adjust("A-1", -1)
    assert next_push(pushed) == ("change", frozenset({"a-1"}))
    service.repository.close()


def test_file_stores_do_not_push(db: Path) -> None:
    """Their screens poll `version()`, a stat."""
    assert make_service(db).watch_changes(lambda s: None, lambda w: None) is False


async def test_the_app_shows_another_terminals_change_and_survives_an_outage(
    store: PgStore,
) -> None:
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(app, pilot)
        await wait_for(pilot, lambda: "PostgreSQL" in app.session.store)
        assert app.session.store == "test/" + store.schema + "@127.0.0.1:5432 · PostgreSQL"
        done = run_atlas("adjust", "--sku", "A-1", "--delta", "5", db=store)  # type: ignore[arg-type]
        assert done.code == 0, done.err
        await wait_for(pilot, lambda: screen.table.items[0].quantity == 15, timeout=60)

        await wait_for(pilot, lambda: cut_off_watch(store) == 1, timeout=60)
        await wait_for(
            pilot,
            lambda: any("Online" in entry.text for entry in app.session.messages),
            timeout=60,
        )
        texts = [entry.text for entry in app.session.messages]
        assert any(t.startswith("Offline: database unreachable (127.0.0.1:5432)") for t in texts)
        assert app.session.outage is None and app.session.save_state == "saved"
        # Still live after the reconnect.
        done = run_atlas("adjust", "--sku", "A-1", "--delta", "1", db=store)  # type: ignore[arg-type]
        assert done.code == 0, done.err
        await wait_for(pilot, lambda: screen.table.items[0].quantity == 16, timeout=60)
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: isinstance(app.screen, MessageLogScreen))
    app.service.repository.close()


async def test_the_app_stops_listening_when_it_ends(store: PgStore) -> None:
    app = make_app(store)
    async with app.run_test() as pilot:
        await ready(app, pilot)
        await wait_for(pilot, lambda: listeners(store) == 1, timeout=60)
    poll(lambda: listeners(store) == 0, "the watch's connection to close")
