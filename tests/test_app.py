"""The app through Textual's Pilot: items shown literally, kept live, quits on q."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from textual.widgets import DataTable, Static

from atlas_tui.app import AtlasApp, make_app
from atlas_tui.service import InventoryService


async def wait_for(pilot, condition, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    """Let the app run until `condition()` holds (fails after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await pilot.pause(0.05)


def table_of(app: AtlasApp) -> DataTable:  # type: ignore[type-arg]
    return app.screen.query_one("#items", DataTable)


async def test_items_screen_lists_the_store(widget: InventoryService, db: Path) -> None:
    widget.add("LOW-1", "Low item", quantity=1, min_stock=5)
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        table = table_of(app)
        assert table.row_count == 2
        assert table.get_row_at(0)[0].plain == "ITEM-001"
        assert table.get_row_at(1)[7].plain == "▼ low"
        summary = str(app.screen.query_one("#summary", Static).render())
        assert "2 items" in summary and "1 low" in summary


async def test_user_text_is_shown_literally(service: InventoryService, db: Path) -> None:
    service.add("M-1", "[red]x[/red] \x1b[31mboom", "[b]cat", location="[link=http://e.vil]A")
    app = make_app(db)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        row = [cell.plain for cell in table_of(app).get_row_at(0)]
        assert row[1] == "[red]x[/red] \\x1b[31mboom"
        assert row[2] == "[b]cat" and row[4] == "[link=http://e.vil]A"
        assert "[red]x[/red]" in app.export_screenshot().replace("&#160;", " ")


async def test_another_process_change_shows_within_a_second(
    widget: InventoryService, db: Path
) -> None:
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert table_of(app).get_row_at(0)[3].plain == "100"
        subprocess.run(
            [sys.executable, "-m", "atlas_tui", "--db", str(db), "adjust", "--sku", "ITEM-001",
             "--delta", "-7"],
            check=True,
            timeout=60,
        )  # fmt: skip
        changed_at = time.monotonic()
        await wait_for(pilot, lambda: table_of(app).get_row_at(0)[3].plain == "93")
        assert time.monotonic() - changed_at < 1.5


async def test_q_quits(widget: InventoryService, db: Path) -> None:
    app = make_app(db)
    async with app.run_test() as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0
