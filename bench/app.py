#!/usr/bin/env python3
"""The app as operators meet it: the `atlas` command in a real terminal (tmux), 100x30.

    python bench/app.py [--big tinydb-100000,sqlite-1000000] [--rounds 10]

Prints, each with its baseline from the same run and the ratio:
- open: time from starting `atlas` until the first screenful of rows is drawn, against the
  time a process takes to import `textual.app`, and against the same backend at 1k items;
  and until every item is read (the status line gives the full count);
- keys while loading: a cursor move, `+` and a filter keystroke sent as soon as the first rows
  show, each until its effect is on screen, against a cursor move once loaded;
- keys at scale (loaded): `+` on screen and a filter keystroke, against a cursor move;
- bytes written to the terminal per cursor move and per filter keystroke, against Textual's
  own DataTable with the same columns (bench/minimal_table.py);
- the app's resident memory once every item is read.
Latency is read off the screen (`capture-pane` polled; a poll costs ~3 ms, the same for the
figure and its baseline). Stores come from bench/stores.py (built once, then cached).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.stores import WORDS, item, store, working_copy  # noqa: E402
from bench.terminal import Terminal  # noqa: E402

ATLAS = str(Path(sys.executable).with_name("atlas"))


def import_textual(runs: int = 5) -> float:
    """Median wall time of a process that imports textual.app (the floor of any Textual app)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import textual.app"], check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def first_row(screen: str) -> str:
    """The SKU in the table's first row (the detail pane's SKU comes later on screen)."""
    found = re.search(r"^(SKU-\d{7}) ", screen, re.MULTILINE)
    return found[1] if found else ""


def detail_shows(n: int) -> Callable[[str], bool]:
    it = item(n)
    return lambda screen: f"{it.sku}  {it.name}" in screen


def quantity_of(screen: str, sku: str) -> int | None:
    found = re.search(rf"^{sku} .*? (\d+) +A-\d\d ", screen, re.MULTILINE)
    return int(found[1]) if found else None


def loaded(size: int) -> Callable[[str], bool]:
    return lambda screen: f"{size} items" in screen and "reading" not in screen


def rss_mib(term: Terminal) -> float:
    pane = subprocess.run(
        [*term.tmux, "list-panes", "-t", term.session, "-F", "#{pane_pid}"],
        capture_output=True, text=True, check=True,
    ).stdout.split()[0]  # fmt: skip
    best = 0
    pids = [pane]
    while pids:
        pid = pids.pop()
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            continue
        rss = re.search(r"VmRSS:\s+(\d+)", status)
        best = max(best, int(rss[1]) if rss else 0)
        pids += children
    return best / 1024


def cursor_moves(term: Terminal, rounds: int) -> tuple[float, float]:
    """Median time for a cursor move to show in the detail pane, and bytes per move."""
    times, sizes = [], []
    for n in range(rounds):
        target = 1 if n % 2 == 0 else 0
        term.quiet(0.15)
        before = term.written()
        sent = term.keys("Down" if target else "Up")
        times.append(term.until(detail_shows(target)) - sent)
        sizes.append(term.quiet(0.15) - before)
    return statistics.median(times), statistics.mean(sizes)


def plus(term: Terminal, rounds: int, sku: str = "SKU-0000000") -> float:
    times = []
    for _ in range(rounds):
        term.quiet(0.15)
        was = quantity_of(term.screen(), sku)
        assert was is not None, term.screen()
        sent = term.keys("+")
        times.append(term.until(lambda s, w=was: quantity_of(s, sku) == w + 1) - sent)
    return statistics.median(times)


def hay(n: int) -> str:
    """What the filter matches for bench item n (as bench/stores.py names it)."""
    return f"sku-{n:07d}\tbench item {n} {WORDS[n % len(WORDS)]}"


def table_rows(screen: str) -> list[int]:
    """Item numbers of the table's rows on screen (the detail pane's SKU is below a rule)."""
    top = screen.split("────")[0]
    return [int(found) for found in re.findall(r"^SKU-(\d{7}) ", top, re.MULTILINE)]


def filtered(needle: str, size: int, before: str) -> Callable[[str], bool]:
    """The screen shows only matching rows (a first screenful), changed from `before`."""

    def check(screen: str) -> bool:
        shown = table_rows(screen)
        return screen != before and bool(shown) and all(needle in hay(n) for n in shown)

    return check


def counted(needle: str, size: int) -> Callable[[str], bool]:
    """The status line gives the full count of matches."""
    total = sum(needle in hay(n) for n in range(size)) if needle else size
    text = f"{total} of {size} items" if total != size else f"{size} items"
    return lambda screen: text in screen and "filtering" not in screen


def filter_keys(term: Terminal, size: int) -> tuple[float, float, float]:
    """Type 7, 77, 777 then take them back: median time per key until matching rows show
    and until every match is counted, and mean bytes per key."""
    shown, complete, sizes = [], [], []
    term.keys("/")
    term.quiet(0.15)
    needle = ""
    for key in ["7", "7", "7", "BSpace", "BSpace", "BSpace"]:
        needle = needle + "7" if key == "7" else needle[:-1]
        term.quiet(0.15)
        all_counted = counted(needle, size)
        rows_shown = filtered(needle, size, term.screen())
        before = term.written()
        sent = term.keys(key)
        if needle:
            shown.append(term.until(rows_shown) - sent)
        complete.append(term.until(all_counted) - sent)
        sizes.append(term.quiet(0.15) - before)
    term.keys("Down")
    return statistics.median(shown), statistics.median(complete), statistics.mean(sizes)


def open_store(built: Path | str, size: int, rounds: int, busy: bool) -> dict[str, float]:
    """The figures of one start of `atlas` on a copy of a bench store (a server store's URL,
    a str, is opened as it is: `+` leaves its quantities one higher)."""
    figures: dict[str, float] = {}
    env = {"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else None
    copy = working_copy(built) if isinstance(built, Path) else contextlib.nullcontext(built)
    with copy as path, Terminal([ATLAS, "--db", str(path)], env=env) as term:
        figures["first"] = term.until(lambda s: first_row(s) == "SKU-0000000") - term.started
        if busy:
            # Keys as soon as the first screenful shows, while the rest is read.
            sent = term.keys("Down")
            figures["load_cursor"] = term.until(detail_shows(1)) - sent
            term.keys("Up")
            term.until(detail_shows(0))
            was = quantity_of(term.screen(), "SKU-0000000")
            sent = term.keys("+")
            figures["load_plus"] = (
                term.until(lambda s: quantity_of(s, "SKU-0000000") == (was or 0) + 1) - sent
            )
            term.keys("/")
            before = term.screen()
            sent = term.keys("7")
            figures["load_filter"] = term.until(filtered("7", size, before)) - sent
            term.keys("BSpace", "Down")  # back to the table (enter would adjust the match)
            term.until(lambda s: first_row(s) == "SKU-0000000")
        figures["all"] = term.until(loaded(size), timeout=300) - term.started
        figures["rss"] = rss_mib(term)
        if busy:
            term.keys("Escape", "Home")
            term.until(detail_shows(0))
            # Once read, the app indexes every item's history in the background (TinyDB: about
            # half a second per 100k items); the figures below are the steady state after it.
            time.sleep(2)
            figures["cursor"], figures["cursor_bytes"] = cursor_moves(term, rounds)
            figures["plus"] = plus(term, rounds)
            figures["filter"], figures["filter_all"], figures["filter_bytes"] = filter_keys(
                term, size
            )
            figures["rss_end"] = rss_mib(term)
    return figures


def minimal_table(rounds: int) -> tuple[float, float]:
    """Bytes per cursor move (and the time to its first byte) in Textual's DataTable."""
    command = [sys.executable, "-m", "bench.minimal_table"]
    with Terminal(command, env={"PYTHONPATH": str(ROOT)}) as term:
        term.until(lambda s: "SKU-0000000" in s)
        sizes, times = [], []
        for n in range(rounds):
            term.quiet(0.15)
            before = term.written()
            sent = term.keys("Down" if n % 2 == 0 else "Up")
            while term.written() == before:
                time.sleep(0.0005)
            times.append(time.perf_counter() - sent)
            sizes.append(term.quiet(0.15) - before)
        return statistics.median(times), statistics.mean(sizes)


def ratio(value: float, base: float) -> str:
    return f"{value / base:5.2f}x" if base else "  n/a"


def print_timings(kind: str, size: int, f: dict[str, Any], note: str = "") -> None:
    """The opening and keystroke figures of one big store, each against its baseline
    (`f` as open_store measured it, with "first", "floor" and "small_first" medians)."""
    ms = lambda v: f"{v * 1000:7.0f} ms"  # noqa: E731
    print(f"{kind} {size:,} items (RSS {f['rss']:.0f} MiB read, {f['rss_end']:.0f} MiB "
          f"after filtering)")  # fmt: skip
    print(f"  first screenful       {ms(f['first'])}  vs import textual.app "
          f"({ms(f['floor'])}) {ratio(f['first'], f['floor'])}  vs 1k store "
          f"({ms(f['small_first'])}) {ratio(f['first'], f['small_first'])}{note}")  # fmt: skip
    print(f"  every item read       {ms(f['all'])}")
    c = f["cursor"]
    print(f"  cursor move (loaded)  {c * 1000:7.1f} ms")
    for label, key in (
        ("cursor while loading", "load_cursor"),
        ("+ while loading", "load_plus"),
        ("filter while loading", "load_filter"),
        ("+ on screen", "plus"),
        ("filter key: rows", "filter"),
        ("filter key: counted", "filter_all"),
    ):
        print(f"  {label:<21} {f[key] * 1000:7.1f} ms  vs cursor move {ratio(f[key], c)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", default="tinydb-100000,sqlite-1000000")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    big = [(kind, int(size)) for kind, size in (s.split("-") for s in args.big.split(","))]
    paths = {(kind, size): store(kind, size) for kind, size in big}
    small = {kind: store(kind, 1000) for kind, _ in big}

    table_time, table_bytes = minimal_table(args.rounds)
    print(f"baseline: DataTable cursor move {table_bytes:.0f} bytes "
          f"(first byte after {table_time * 1000:.1f} ms)\n")  # fmt: skip
    for (kind, size), path in paths.items():
        # Opens interleaved with their baselines: the machine's load drifts between them.
        floors, smalls, bigs = [], [], []
        for _ in range(3):
            floors.append(import_textual(1))
            smalls.append(open_store(small[kind], 1000, args.rounds, busy=False)["first"])
            bigs.append(open_store(path, size, args.rounds, busy=False)["first"])
        floor, small_first, first = (statistics.median(v) for v in (floors, smalls, bigs))
        f = open_store(path, size, args.rounds, busy=True)
        f["floor"], f["small_first"], f["first"] = floor, small_first, first
        print_timings(kind, size, f, "   (medians of 3, interleaved)")
        print(f"  bytes per cursor move {f['cursor_bytes']:7.0f}     vs DataTable "
              f"{ratio(f['cursor_bytes'], table_bytes)}")  # fmt: skip
        print(f"  bytes per filter key  {f['filter_bytes']:7.0f}     (goal <= 8192)\n")


if __name__ == "__main__":
    main()
