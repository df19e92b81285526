#!/usr/bin/env python3
"""Lookup and durable-adjust latency of every store, in one run, with ratios.

    python bench/store.py [--sizes 1000,10000,100000] [--ops 30] [--history 1000000]

Compares, at each inventory size:
  naive TinyDB   TinyDB's default JSONStorage: re-reads and rewrites the whole file per
                 operation, no fsync, no history, no lock (unsafe; the baseline to beat)
  atlas TinyDB   our TinyDB backend: locked, fsynced, history appended to the journal
  atlas SQLite   our SQLite backend: WAL, synchronous=FULL, BEGIN IMMEDIATE, history row
  raw sqlite3    the same SQL by hand with no layers above it (the floor)
and, at the largest size, our TinyDB adjust with an empty history against one with
--history movements recorded. Machines are noisy: read the ratios, not the milliseconds.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from tinydb import Query, TinyDB

from atlas_tui.factory import make_service
from atlas_tui.models import InventoryItem, Movement
from atlas_tui.service import InventoryService

Figures = tuple[float, float]


def timed(operation: Callable[[], object], ops: int) -> Figures:
    """Median and p95, in milliseconds."""
    samples = []
    for _ in range(ops):
        start = time.perf_counter()
        operation()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, round(len(samples) * 0.95))]


def rows(count: int) -> list[dict[str, object]]:
    return [
        {
            "sku": f"SKU-{n:06d}",
            "name": f"Bench item {n}",
            "category": f"Category {n % 20}",
            "quantity": 1000,
            "location": f"A-{n % 50:02d}-{n % 4}",
            "min_stock": 10,
            "max_stock": 5000,
            "attributes": {"supplier": "Acme", "barcode": str(4000000000000 + n)},
        }
        for n in range(count)
    ]


class Picker:
    def __init__(self, size: int) -> None:
        self.rng, self.size = random.Random(size), size

    def __call__(self) -> str:
        return f"SKU-{self.rng.randrange(self.size):06d}"


def naive_tinydb(path: Path, data: list[dict[str, object]], ops: int) -> dict[str, Figures]:
    with TinyDB(path) as db:
        db.table("items").insert_multiple(
            InventoryItem.from_dict(row).to_dict()
            for row in data  # type: ignore[arg-type]
        )
    db = TinyDB(path)
    table = db.table("items", cache_size=0)
    sku, pick = Query().sku, Picker(len(data))

    def adjust() -> None:
        wanted = pick()
        doc = table.get(sku == wanted)
        assert doc is not None and not isinstance(doc, list)
        table.update({"quantity": doc["quantity"] + 1}, sku == wanted)

    figures = {"lookup": timed(lambda: table.get(sku == pick()), ops), "adjust": timed(adjust, ops)}
    db.close()
    return figures


def atlas(path: Path, data: list[dict[str, object]], ops: int) -> dict[str, Figures]:
    service = make_service(path)
    service.add_many(data)
    service = make_service(path)  # a process that starts on an existing file
    pick = Picker(len(data))
    service.get(pick())  # the first read parses the file; time the steady state
    return {
        "lookup": timed(lambda: service.get(pick()), ops),
        "adjust": timed(lambda: service.adjust(pick(), 1, "bench"), ops),
    }


def raw_sqlite(path: Path, data: list[dict[str, object]], ops: int) -> dict[str, Figures]:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(
        "CREATE TABLE items (key TEXT PRIMARY KEY, sku TEXT, name TEXT, category TEXT, "
        "quantity INTEGER, location TEXT, min_stock INTEGER, max_stock INTEGER, attributes TEXT)"
    )
    conn.execute(
        "CREATE TABLE movements (id INTEGER PRIMARY KEY, sku TEXT, kind TEXT, delta INTEGER, "
        "quantity_before INTEGER, quantity_after INTEGER, user TEXT, timestamp TEXT)"
    )
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (str(r["sku"]).casefold(), r["sku"], r["name"], r["category"], r["quantity"],
             r["location"], r["min_stock"], r["max_stock"], "{}")
            for r in data
        ],
    )  # fmt: skip
    conn.execute("COMMIT")
    pick = Picker(len(data))

    def lookup() -> None:
        conn.execute("SELECT * FROM items WHERE key = ?", (pick().casefold(),)).fetchone()

    def adjust() -> None:
        key = pick().casefold()
        conn.execute("BEGIN IMMEDIATE")
        (quantity,) = conn.execute("SELECT quantity FROM items WHERE key = ?", (key,)).fetchone()
        conn.execute("UPDATE items SET quantity = ? WHERE key = ?", (quantity + 1, key))
        conn.execute(
            "INSERT INTO movements (sku, kind, delta, quantity_before, quantity_after, user, "
            "timestamp) VALUES (?, 'adjust', 1, ?, ?, 'bench', ?)",
            (key, quantity, quantity + 1, datetime.now(UTC).isoformat()),
        )
        conn.execute("COMMIT")

    lookup()
    figures = {"lookup": timed(lookup, ops), "adjust": timed(adjust, ops)}
    conn.close()
    return figures


def record_history(service: InventoryService, count: int) -> None:
    """Append `count` movements to the store's history, in chunks."""
    now = datetime.now(UTC)
    repo = service.repository
    chunk = 100_000
    for start in range(0, count, chunk):
        with repo.transaction():
            for n in range(start, min(count, start + chunk)):
                repo.append_movement(
                    Movement(f"SKU-{n % 1000:06d}", "adjust", 1, 1000, 1001, "bench", now)
                )


def history_independence(workdir: Path, size: int, history: int, ops: int) -> Figures:
    """Our TinyDB adjust median with an empty history, and with `history` movements."""
    data = rows(size)
    empty = make_service(workdir / f"empty-{size}.json")
    empty.add_many(data)
    full = make_service(workdir / f"full-{size}.json")
    full.add_many(data)
    started = time.perf_counter()
    record_history(full, history)
    print(f"  (recorded {history:,} movements in {time.perf_counter() - started:.1f} s)")
    full = make_service(full.repository.path)
    empty = make_service(empty.repository.path)
    pick = Picker(size)
    empty.get(pick())
    full.get(pick())
    # Interleave the two so that machine noise hits both alike.
    first, second = [], []
    for _ in range(ops):
        first.append(timed(lambda: empty.adjust(pick(), 1), 1)[0])
        second.append(timed(lambda: full.adjust(pick(), 1), 1)[0])
    return statistics.median(first), statistics.median(second)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated item counts")
    parser.add_argument("--ops", type=int, default=30, help="operations timed per figure")
    parser.add_argument(
        "--history", type=int, default=1_000_000, help="movements for the last test"
    )
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    header = (
        f"{'items':>7}  {'store':<13}{'lookup ms':>11}{'p95':>10}{'adjust ms':>11}{'p95':>10}"
        "   adjust vs naive   vs raw sqlite3"
    )
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        workdir = Path(tmp)
        for size in sizes:
            data = rows(size)
            # Naive TinyDB costs ~1 s per operation at 100k items: time fewer of them.
            naive_ops = max(5, min(args.ops, 300_000 // size))
            results = {
                "naive TinyDB": naive_tinydb(workdir / f"naive-{size}.json", data, naive_ops),
                "atlas TinyDB": atlas(workdir / f"atlas-{size}.json", data, args.ops),
                "atlas SQLite": atlas(workdir / f"atlas-{size}.sqlite", data, args.ops),
                "raw sqlite3": raw_sqlite(workdir / f"raw-{size}.sqlite", data, args.ops),
            }
            naive, raw = results["naive TinyDB"]["adjust"][0], results["raw sqlite3"]["adjust"][0]
            for store, figures in results.items():
                (lookup, lookup95), (adjust, adjust95) = figures["lookup"], figures["adjust"]
                vs_naive = f"{naive / adjust:8.1f}x faster" if store != "naive TinyDB" else ""
                vs_raw = f"{adjust / raw:8.2f}x" if "SQLite" in store else ""
                print(
                    f"{size:>7}  {store:<13}{lookup:>11.3f}{lookup95:>10.3f}{adjust:>11.3f}"
                    f"{adjust95:>10.3f}   {vs_naive:<16}{vs_raw}"
                )
            print()
        size = sizes[-1]
        print(
            f"atlas TinyDB adjust at {size:,} items, empty history vs {args.history:,} movements:"
        )
        empty, full = history_independence(workdir, size, args.history, args.ops)
        print(f"  empty history  {empty:8.3f} ms median")
        print(f"  full history   {full:8.3f} ms median   ratio {full / empty:.2f}")


if __name__ == "__main__":
    main()
