#!/usr/bin/env python3
"""`*` (select every row shown) on a million rows: how long the screen stops answering.

    python bench/select_all.py [--rows 1000000] [--rounds 3]

Drives an ItemTable over synthetic rows through Textual's Pilot, with a 2 ms timer on the
event loop: its longest gap is the longest the screen could not answer a key. Prints, per
round, the time until every row is selected and that longest gap, against the longest gap
during 20 cursor moves in the same run (the baseline).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from textual.app import App, ComposeResult

from screens.widgets.item_rows import ItemRows
from screens.widgets.item_table import ItemTable


class Bench(App[None]):
    def compose(self) -> ComposeResult:
        yield ItemTable(id="table")


async def run(size: int, rounds: int) -> None:
    rows = ItemRows((f"SKU-{n:07d}", f"Part {n}", "Cat", n % 50, "A1", 0, 0) for n in range(size))
    app = Bench()
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.query_one(ItemTable)
        table.show_rows(rows, range(size))
        table.focus()
        gaps: list[float] = []
        last = [time.perf_counter()]

        def tick() -> None:
            now = time.perf_counter()
            gaps.append(now - last[0])
            last[0] = now

        def restart() -> None:
            gaps.clear()
            last[0] = time.perf_counter()

        app.set_interval(0.002, tick)
        for _ in range(rounds):
            await pilot.pause(0.2)
            restart()
            for _ in range(20):
                await pilot.press("down")
            await pilot.pause(0.3)
            baseline = max(gaps)
            restart()
            started = time.perf_counter()
            await pilot.press("asterisk")
            while table.selection_size < size:
                await pilot.pause(0.005)
            took = time.perf_counter() - started
            await pilot.pause(0.3)
            print(
                f"select all {size}: done in {took * 1000:.0f} ms, longest stall "
                f"{max(gaps) * 1000:.0f} ms; cursor moves: longest stall {baseline * 1000:.0f} ms"
            )
            await pilot.press("U")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(run(args.rows, args.rounds))


if __name__ == "__main__":
    main()
