"""The items screen's big-store paths: filters and sorts worked out in a worker, the first
screenful before the rest, narrowing as the query grows, changes while filtered.

Big stores take those paths past `ItemsScreen.INLINE_ROWS` rows; these tests lower the
threshold so a few hundred real items take them too, and compare with what the store holds.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_app import ready, rows, status, wait_for

from atlas_tui.api import AtlasAPI
from atlas_tui.app import make_app
from atlas_tui.factory import make_service
from screens.items import ItemsScreen
from screens.widgets.item_rows import ItemRows

WORDS = ("bolt", "anvil", "washer", "hinge", "Bracket")


@pytest.fixture(params=["json", "sqlite"])
def big(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A store of 600 items (400 on SQLite), with every screen path taken as if it were huge."""
    path = tmp_path / ("atlas.json" if request.param == "json" else "atlas.db")
    size = 600 if request.param == "json" else 400
    make_service(path).add_many(
        [
            {"sku": f"P-{n:04d}", "name": f"Part {n} {WORDS[n % 5]}", "category": f"Cat {n % 7}",
             "quantity": (n * 37) % 101, "location": f"L{n % 3}", "min_stock": 5}
            for n in range(size)
        ]
    )  # fmt: skip
    monkeypatch.setattr(ItemsScreen, "INLINE_ROWS", 0)
    return path


def expected(path: Path, keep: Callable[[Any], bool], key: Callable[[Any], Any]) -> list[str]:
    items = [item for item in make_service(path).list_items() if keep(item)]
    return [item.sku for item in sorted(items, key=key)]


def settled(screen: ItemsScreen) -> bool:
    return "filtering" not in status(screen)


async def test_filter_typed_grows_and_shrinks_like_the_store(big: Path) -> None:
    app = make_app(big)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("slash")
        typed = ""
        for key in ["1", "2", "backspace", "backspace", "b", "r", "a"]:
            typed = typed[:-1] if key == "backspace" else typed + key
            await pilot.press(key)
            needle = typed.casefold()
            want = expected(big, lambda i, n=needle: n in f"{i.sku}\t{i.name}".casefold(),
                            lambda i: i.key)  # fmt: skip
            await wait_for(pilot, lambda w=want: settled(screen) and rows(screen) == w)
            shown = f"{len(want)} of" if typed else "items ·"
            assert shown in status(screen), (typed, status(screen))


async def test_sorts_and_picks_in_a_worker_show_the_stored_order(big: Path) -> None:
    app = make_app(big)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("o")  # by name
        want = expected(big, lambda i: True, lambda i: (i.name.casefold(), i.key))
        await wait_for(pilot, lambda: rows(screen) == want)
        await pilot.press("O")  # reversed
        await wait_for(pilot, lambda: rows(screen) == want[::-1])
        await pilot.press("o", "o")  # by quantity
        want = expected(big, lambda i: True, lambda i: (i.quantity, i.key))
        await wait_for(pilot, lambda: rows(screen) == want)
        # A category and a filter on top of the order.
        screen.category = "cat 3"
        await pilot.press("slash", "b")
        want = expected(big, lambda i: i.category == "Cat 3" and "b" in i.name.casefold()
                        + i.sku.casefold(), lambda i: (i.quantity, i.key))  # fmt: skip
        await wait_for(pilot, lambda: settled(screen) and rows(screen) == want)
        assert want and f"{len(want)} of" in status(screen)


async def test_cursor_keys_typed_while_an_order_is_worked_out_move_in_it(big: Path) -> None:
    """`End` right after `o` goes to the last row of the new order. It used to act on the
    old order still shown, and the new one then put the cursor back where it had been."""
    app = make_app(big)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(app, pilot)
        table = screen.table
        by_name = expected(big, lambda i: True, lambda i: (i.name.casefold(), i.key))
        # No turn of the event loop between sort and key: the worker cannot have shown the
        # new order yet, as on a busy machine (or a million items) it often has not.
        screen.action_sort()
        table.action_jump(-1)
        await wait_for(pilot, lambda: settled(screen) and rows(screen) == by_name)
        assert table.current is not None and table.current.sku == by_name[-1]
        # `↓` moves on from the same item, in the next order (by category).
        by_category = expected(big, lambda i: True, lambda i: (i.category.casefold(), i.key))
        screen.action_sort()
        table.action_cursor(1)
        await wait_for(pilot, lambda: settled(screen) and rows(screen) == by_category)
        below = by_category[by_category.index(by_name[-1]) + 1]
        assert table.current is not None and table.current.sku == below


async def test_changes_while_filtered_show_at_once(big: Path) -> None:
    app = make_app(big)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("slash", "h", "i", "n", "down")
        await wait_for(pilot, lambda: settled(screen) and rows(screen)[:1] == ["P-0003"])
        before = rows(screen)
        # `+` on the first match: the row and the store agree once saved.
        await pilot.press("plus")
        await app.workers.wait_for_complete()
        stored = make_service(big).get("P-0003").quantity
        await wait_for(pilot, lambda: getattr(screen.table.current, "quantity", None) == stored)
        # Delete it: the next match takes its place, at once.
        await pilot.press("delete", "y")
        assert rows(screen) == before[1:]
        assert screen.table.current is not None and screen.table.current.sku == before[1]
        # A new item that matches the filter shows in its place in the order.
        service = make_service(big)
        service.add("P-0004a", "New hinge", "Cat 1", 3, "L1")
        screen._show_change("P-0004a")
        await wait_for(pilot, lambda: settled(screen) and "P-0004a" in rows(screen))
        assert rows(screen) == sorted([*before[1:], "P-0004a"], key=str.casefold)
        assert screen.table.current is not None and screen.table.current.sku == "P-0004a"


async def test_a_change_made_while_the_store_is_read_survives_the_read(tmp_path: Path) -> None:
    """A read of every item that began before a `+` (a million rows take seconds) must not
    put the old figure back when it lands."""
    path = tmp_path / "atlas.db"
    make_service(path).add_many([{"sku": f"K-{n:03d}", "name": "k", "quantity": 5}
                                 for n in range(50)])  # fmt: skip
    app = make_app(path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(app, pilot)
        # What a read begun now would deliver, and the change count it would start from.
        since, version = screen._changes, make_service(path).version()
        stale = ItemRows(row for batch in make_service(path).item_rows() for row in batch)
        await pilot.press("plus", "plus")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert make_service(path).get("K-000").quantity == 7
        screen.post_message(ItemsScreen.Loaded(stale, version, False, since))
        await pilot.pause()
        assert screen.table.current is not None and screen.table.current.quantity == 7
        assert rows(screen)[:2] == ["K-000", "K-001"]


@pytest.mark.parametrize("bad", ["D-002", "D-249"])  # in the first screenful, or read later
async def test_a_damaged_row_is_reported_not_shown(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "atlas.db"
    make_service(path).add_many(
        [{"sku": f"D-{n:03d}", "name": "d", "quantity": 1} for n in range(250)]
    )
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE items SET quantity = 'lots' WHERE sku = ?", (bad,))
    app = make_app(path)
    async with app.run_test(size=(100, 30)) as pilot:
        notice = lambda: str(app.screen.query_one("#notice").render())  # noqa: E731
        await wait_for(pilot, lambda: "atlas verify" in notice())
        assert "whole number" in notice() and str(path) in notice()
        assert not isinstance(app.screen, ItemsScreen) or bad not in rows(app.screen)


@pytest.mark.parametrize("suffix", [".json", ".db"])
async def test_others_changes_show_by_reading_only_what_changed(
    tmp_path: Path, suffix: str
) -> None:
    """Another process adds, changes and deletes: the screen shows it within a second by
    reading those items only (a million items are not read again for one change); after a
    restore, whose changes cannot be told apart, it reads everything again."""
    path = tmp_path / f"atlas{suffix}"
    make_service(path).add_many([{"sku": f"C-{n:02d}", "name": "c", "quantity": n}
                                 for n in range(20)])  # fmt: skip
    app = make_app(path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(app, pilot)
        held = screen.rows
        other = make_service(path)
        api = AtlasAPI(path)
        backup = api.backup(tmp_path / "backups")["backup"]["path"]
        other.adjust("C-05", 10)
        other.add("C-05a", "new", quantity=1)
        other.delete("C-07")
        await wait_for(pilot, lambda: "C-05a" in rows(screen) and "C-07" not in rows(screen))
        assert screen.rows is held  # caught up in place: nothing read whole
        shown = {row.sku: row.quantity for row in screen.table.items}
        assert shown["C-05"] == 15 and shown["C-05a"] == 1 and len(shown) == 20
        assert api.restore(backup)["success"]
        await wait_for(pilot, lambda: "C-07" in rows(screen) and "C-05a" not in rows(screen))
        assert screen.rows is not held
        assert {row.sku: row.quantity for row in screen.table.items}["C-05"] == 5
