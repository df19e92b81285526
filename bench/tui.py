#!/usr/bin/env python3
"""The items screen at 1k, 10k and 100k items, driven headless with Pilot.

    python bench/tui.py [--sizes 1000,10000,100000]

Prints, per size: time from start until the first rows are drawn (and all are read), the
latency of a filter keystroke, and of `+` until the new quantity is on screen, each beyond
what a cursor move costs under Pilot (printed last: a keypress and a repaint); and, as the
baseline in the same run, how long Textual's built-in DataTable takes to take in the rows.
Goals: first rows within 1 s, filter keystroke within 100 ms, `+` within 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from atlas_tui.app import make_app
from atlas_tui.factory import make_service
from screens.items import ItemsScreen


def seed(path: Path, size: int) -> None:
    make_service(path).add_many(
        [
            {
                "sku": f"SKU-{n:06d}",
                "name": f"Bench item {n} {'bolt' if n % 7 else 'anvil'}",
                "category": f"Category {n % 20}",
                "quantity": 1000 + n % 50,
                "location": f"A-{n % 50:02d}",
                "min_stock": 10,
                "max_stock": 5000,
            }
            for n in range(size)
        ]
    )


async def measure(path: Path) -> dict[str, float]:
    started = time.perf_counter()
    app = make_app(path)
    async with app.run_test(size=(100, 30)) as pilot:
        # First rows: the table holds rows (the first screenful comes before the rest).
        while not (isinstance(app.screen, ItemsScreen) and app.screen.table.items):
            await pilot.pause(0.005)
        first = time.perf_counter() - started
        while not app.screen.loaded:
            await pilot.pause(0.005)
        whole = time.perf_counter() - started
        screen = app.screen
        # What Pilot itself costs for a key that only moves the cursor (a repaint of two rows
        # and the detail pane): the baseline subtracted from the figures below.
        idle = []
        for key in ["down", "up"] * 5:
            t = time.perf_counter()
            await pilot.press(key)
            await pilot.pause()
            idle.append(time.perf_counter() - t)
        overhead = statistics.median(idle)
        filter_times, plus_times = [], []
        await pilot.press("slash")
        for key in ["a", "n", "v", "i", "backspace", "backspace", "backspace", "backspace"]:
            t = time.perf_counter()
            await pilot.press(key)
            await pilot.pause()
            filter_times.append(time.perf_counter() - t)
        await pilot.press("enter")
        for _ in range(10):
            before = screen.table.current.quantity  # type: ignore[union-attr]
            t = time.perf_counter()
            await pilot.press("plus")
            await pilot.pause()
            plus_times.append(time.perf_counter() - t)
            assert screen.table.current.quantity == before + 1  # type: ignore[union-attr]
        await pilot.app.workers.wait_for_complete()  # every save landed before we leave
    return {
        "first": first,
        "whole": whole,
        "filter": statistics.median(filter_times) - overhead,
        "plus": statistics.median(plus_times) - overhead,
        "pilot": overhead,
    }


class Baseline(App[None]):
    """Textual's DataTable taking in the same rows: what the items screen avoids."""

    def __init__(self, rows: list[tuple[Text, ...]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        yield DataTable()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("SKU", "Name", "Category", "Qty", "Location", "Min", "Max")
        table.add_rows(self.rows)


async def baseline(path: Path) -> float:
    items = make_service(path).list_items()
    rows = [
        tuple(Text(str(v)) for v in (i.sku, i.name, i.category, i.quantity, i.location,
                                     i.min_stock, i.max_stock))
        for i in items
    ]  # fmt: skip
    started = time.perf_counter()
    app = Baseline(rows)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args()
    print(f"{'items':>7}  {'first rows':>11}  {'all rows':>9}  {'filter key':>11}  {'+ shown':>9}  "
          f"{'DataTable rows in':>18}  {'(cursor move)':>15}")  # fmt: skip
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            path = Path(tmp) / f"items-{size}.json"
            seed(path, size)
            figures = asyncio.run(measure(path))
            table = asyncio.run(baseline(path)) if size <= 10_000 else float("nan")
            print(
                f"{size:>7}  {figures['first'] * 1000:>9.0f}ms  {figures['whole'] * 1000:>7.0f}ms"
                f"  {figures['filter'] * 1000:>9.1f}ms"
                f"  {figures['plus'] * 1000:>7.1f}ms  {table * 1000:>16.0f}ms"
                f"  {figures['pilot'] * 1000:>13.1f}ms"
            )


if __name__ == "__main__":
    main()
