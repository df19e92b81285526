"""The items screen's views: only low, only over, only expiring stock (within 30 days or
expired), each a key, combined with the text filter and the picks, named in the counts
line; the same on a store big enough to filter in a worker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_app import ready, rows, status, wait_for

from atlas_tui.app import make_app
from atlas_tui.domain.models import InventoryItem
from atlas_tui.factory import make_service
from screens.items import ItemsScreen

TODAY = datetime.now(UTC).date()
EXPIRED = (TODAY - timedelta(days=2)).isoformat()
SOON = (TODAY + timedelta(days=6)).isoformat()
LATER = (TODAY + timedelta(days=90)).isoformat()


@pytest.fixture
def store(db: Path) -> Path:
    """Low, over and fine items; milk expiring soon, yoghurt expired, cheese much later."""
    service = make_service(db)
    service.add("BOLT-1", "Bolt", "Fasteners", 2, "A1", 5)  # low
    service.add("BOLT-2", "Bolt long", "Fasteners", 90, "A1", 5, 50)  # over
    service.add("NUT-1", "Nut", "Fasteners", 20, "A1", 5, 50)  # fine
    service.add("MILK-1", "Milk", "Dairy", 0, "C1", 10)  # low
    service.receive("MILK-1", 4, location="C1", lot="M1", expiry=SOON)
    service.receive("MILK-1", 3, location="C1", lot="M2", expiry=LATER)
    service.add("YOG-1", "Yoghurt", "Dairy", 0, "C1", 0, 5)
    service.receive("YOG-1", 9, location="C2", lot="Y1", expiry=EXPIRED)  # over, expired
    service.add("CHEESE-1", "Cheese", "Dairy", 0, "C1")
    service.receive("CHEESE-1", 5, location="C1", lot="C1", expiry=LATER)
    return db


async def test_each_view_hides_and_shows_the_right_rows(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(app, pilot)
        every = ["BOLT-1", "BOLT-2", "CHEESE-1", "MILK-1", "NUT-1", "YOG-1"]
        assert rows(screen) == every
        await pilot.press("b")  # only low
        assert rows(screen) == ["BOLT-1", "MILK-1"]
        assert "2 of 6 items" in status(screen) and "only low" in status(screen)
        await pilot.press("a")  # and over: either
        assert rows(screen) == ["BOLT-1", "BOLT-2", "MILK-1", "YOG-1"]
        assert "only low or over" in status(screen)
        await pilot.press("b")  # low off again: only over
        assert rows(screen) == ["BOLT-2", "YOG-1"]
        await pilot.press("a")
        assert rows(screen) == every and "only" not in status(screen)
        await pilot.press("E")  # expiring within 30 days, or expired
        assert rows(screen) == ["MILK-1", "YOG-1"]
        assert "only expiring ≤30 d" in status(screen)
        await pilot.press("b")  # low, and expiring
        assert rows(screen) == ["MILK-1"]
        assert "only low and expiring ≤30 d" in status(screen)
        await pilot.press("b", "E")
        assert rows(screen) == every


async def test_views_combine_with_the_filter_category_and_order(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(60, 20)) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("slash", "b", "o", "l", "down")
        assert rows(screen) == ["BOLT-1", "BOLT-2"]
        await pilot.press("b")
        assert rows(screen) == ["BOLT-1"]
        assert "1 of 6 items" in status(screen) and "only low" in status(screen)
        await pilot.press("slash", "backspace", "backspace", "backspace", "down")
        assert rows(screen) == ["BOLT-1", "MILK-1"]
        screen.category = "dairy"
        screen._show()
        assert rows(screen) == ["MILK-1"]
        screen.category = ""
        await pilot.press("b", "E", "o", "o", "o")  # expiring, by quantity
        assert screen.table.sort_column == "quantity"
        assert rows(screen) == ["MILK-1", "YOG-1"]
        await pilot.press("O")
        assert rows(screen) == ["YOG-1", "MILK-1"]


async def test_a_change_that_expires_stock_shows_in_the_expiring_view(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("E")
        assert rows(screen) == ["MILK-1", "YOG-1"]
        # Another process picks all of MILK-1's soon lot: its earliest expiry is later now.
        make_service(store).pick("MILK-1", 4, location="C1", lot="M1")
        await wait_for(pilot, lambda: screen.rows.row(screen.rows.find("milk-1") or 0).expiry
                       == LATER)  # fmt: skip
        await pilot.press("E", "E")  # the view again, worked out afresh
        assert rows(screen) == ["YOG-1"]


@pytest.fixture(params=["json", "sqlite"])
def big(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """300 items, some low, some over, some with stock expiring, soon or not: every view is
    worked out in a worker, as on a million rows."""
    path = tmp_path / ("atlas.json" if request.param == "json" else "atlas.db")
    service = make_service(path)
    service.add_many(
        [
            {"sku": f"P-{n:04d}", "name": f"Part {n} {'bolt' if n % 4 else 'nut'}",
             "category": f"Cat {n % 3}", "quantity": n % 17, "location": f"L{n % 3}",
             "min_stock": 5, "max_stock": 12 if n % 2 else 0}
            for n in range(300)
        ]
    )  # fmt: skip
    with service.batch():
        for n in range(0, 300, 7):
            expiry = (EXPIRED, SOON, LATER)[n % 3]
            service.receive(f"P-{n:04d}", 1, location="X1", lot=f"L{n}", expiry=expiry)
    monkeypatch.setattr(ItemsScreen, "INLINE_ROWS", 0)
    return path


def expected(path: Path, keep: object) -> list[str]:
    items = make_service(path).list_items()
    return [item.sku for item in items if keep(item)]  # type: ignore[operator]


def expiring(item: InventoryItem) -> bool:
    soon = (TODAY + timedelta(days=30)).isoformat()
    return bool(item.earliest_expiry) and item.earliest_expiry <= soon


def settled(screen: ItemsScreen) -> bool:
    return "filtering" not in status(screen)


async def test_views_on_a_big_store_are_worked_out_in_a_worker(big: Path) -> None:
    app = make_app(big)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(app, pilot)
        cases = [
            ("b", lambda i: i.is_low),
            ("a", lambda i: i.is_low or i.is_over),
            ("E", lambda i: (i.is_low or i.is_over) and expiring(i)),
            ("b", lambda i: i.is_over and expiring(i)),
            ("a", expiring),
        ]
        for key, keep in cases:
            await pilot.press(key)
            want = expected(big, keep)
            assert want, key
            await wait_for(pilot, lambda w=want: settled(screen) and rows(screen) == w)
            assert f"{len(want)} of 300 items" in status(screen)
        # With the text filter: only nuts expiring.
        await pilot.press("slash", "n", "u", "t", "down")
        want = expected(big, lambda i: "nut" in i.name and expiring(i))
        assert want
        await wait_for(pilot, lambda: settled(screen) and rows(screen) == want)
        await pilot.press("E")
        want = expected(big, lambda i: "nut" in i.name)
        await wait_for(pilot, lambda: settled(screen) and rows(screen) == want)


async def test_a_jump_on_a_big_store_clears_the_hiding_view_and_lands(big: Path) -> None:
    app = make_app(big)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("b", "o")  # only low, by name: worked out in a worker
        want = sorted(expected(big, lambda i: i.is_low),
                      key=lambda sku: make_service(big).get(sku).name.casefold())  # fmt: skip
        await wait_for(pilot, lambda: settled(screen) and rows(screen) == want)
        target = expected(big, lambda i: not i.is_low)[-1]
        screen.select_sku(target.lower())
        await wait_for(pilot, lambda: settled(screen) and len(rows(screen)) == 300)
        current = screen.table.current
        assert current is not None and current.sku == target
        told = f"filter cleared to show {target}"  # the SKU as stored
        await wait_for(pilot, lambda: told in [str(n.message) for n in app._notifications])
        assert "only" not in status(screen)
