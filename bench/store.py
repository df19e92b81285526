#!/usr/bin/env python3
"""TinyDB writes independent of size, and lookup / durable-adjust latency of every store,
in one run, with ratios.

    python bench/store.py [--tinydb-sizes 1000,100000,1000000] [--cli-ops 15]
                          [--history-lines 511000] [--compare] [--sizes ...]

First (always), the TinyDB backend as users reach it:
  adjust via CLI  `atlas --db FILE adjust --sku S --delta 1` as a process, median wall
                  time per size, ratio to the 1k store
  adjust via API  AtlasAPI(FILE).adjust_quantity in this process (steady state), ratio
                  to the 1k store; and what a checkpoint (the data file rewritten) costs
                  at each size, with its share per adjust
  first history   a fresh process's first `history` of one SKU on a 100k store with a
                  --history-lines journal, against parsing every journal line (the old
                  per-SKU index) measured in the same run
  GIL hold        the longest pause a 1 ms ticker thread sees while this process adjusts
                  (what the app's UI thread would wait), against one orjson.dumps of the
                  whole 100k-item file (what every commit did before)
Stores are built through the repository's bulk path (replace_all).

With --compare, at each of --sizes:
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
import subprocess
import sys
import tempfile
import threading
import time
from array import array
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import orjson
from tinydb import Query, TinyDB

from atlas_tui.api import AtlasAPI
from atlas_tui.domain.models import InventoryItem, Movement, sku_key
from atlas_tui.factory import make_service
from atlas_tui.services.inventory import InventoryService
from atlas_tui.storage import TinyDBRepository

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


def bulk_store(path: Path, size: int, history: int = 0) -> None:
    """A TinyDB store of `size` items (and `history` adjust movements spread over them),
    written through the repository's bulk path."""
    now = datetime.now(UTC)
    items = [
        InventoryItem.from_dict({**row, "created_at": now, "updated_at": now}) for row in rows(size)
    ]
    movements = [
        Movement(item.sku, "add", item.quantity, 0, item.quantity, "bench", now) for item in items
    ]
    rng = random.Random(history)
    movements += [
        Movement(f"SKU-{rng.randrange(size):06d}", "adjust", 0, 1000, 1000, "bench", now)
        for _ in range(history)
    ]
    repository = TinyDBRepository(path)
    repository.replace_all(items, movements)
    repository.close()


def cli_adjust(path: Path, ops: int) -> float:
    """Median wall time of `atlas adjust` as a process, in milliseconds."""
    atlas = Path(sys.executable).with_name("atlas")
    pick = Picker(int(path.stem.split("-")[-1]))
    samples = []
    for _ in range(ops):
        command = [str(atlas), "--db", str(path), "adjust", "--sku", pick(), "--delta", "1"]
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True)
        samples.append((time.perf_counter() - start) * 1000)
        assert done.returncode == 0, done.stderr
    return statistics.median(samples)


def journal_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(f"{path.name}.history-*.ndjson"))


def api_adjust(path: Path, ops: int) -> tuple[float, float, float, float]:
    """Median and max adjust via the API in this process, a checkpoint's cost (ms), and
    the journal bytes one adjust appends."""
    api = AtlasAPI(path)
    pick = Picker(int(path.stem.split("-")[-1]))
    assert api.adjust_quantity(pick(), 1)["success"]  # opens the store: time the steady state
    samples = []
    before = journal_size(path)
    for _ in range(ops):
        start = time.perf_counter()
        assert api.adjust_quantity(pick(), 1)["success"]
        samples.append((time.perf_counter() - start) * 1000)
    appended = (journal_size(path) - before) / ops
    repository = api.service.repository
    assert isinstance(repository, TinyDBRepository)
    start = time.perf_counter()
    repository.checkpoint()
    checkpoint = (time.perf_counter() - start) * 1000
    return statistics.median(samples), max(samples), checkpoint, appended


def tinydb_sizes(workdir: Path, sizes: list[int], cli_ops: int, api_ops: int) -> None:
    print("TinyDB adjust, by store size (stores built through the bulk path)")
    stores = {}
    for size in sizes:
        started = time.perf_counter()
        stores[size] = workdir / f"tiny-{size}.json"
        bulk_store(stores[size], size)
        print(f"  (built {size:,} items in {time.perf_counter() - started:.1f} s)")
    header = (
        f"  {'items':>9}  {'CLI ms':>8} {'vs 1st':>7}   {'API ms':>8} {'vs 1st':>7}"
        f" {'API max':>8}   {'checkpoint ms':>13} {'per adjust':>10}"
    )
    print(header)
    base_cli = base_api = 0.0
    for size in sizes:
        cli = cli_adjust(stores[size], cli_ops)
        api, api_max, checkpoint, appended = api_adjust(stores[size], api_ops)
        base_cli, base_api = base_cli or cli, base_api or api
        # A checkpoint comes once the journal holds as many bytes after it as the file
        # holds, within 64 KiB..8 MiB.
        file_size = stores[size].stat().st_size
        per = checkpoint / (min(max(file_size, 64 * 1024), 8 * 1024 * 1024) / appended)
        print(
            f"  {size:>9,}  {cli:>8.1f} {cli / base_cli:>6.2f}x   {api:>8.2f}"
            f" {api / base_api:>6.2f}x {api_max:>8.1f}   {checkpoint:>13.0f} {per:>9.2f}ms"
        )
    print(
        "  CLI: `atlas adjust` as a process (median); API: AtlasAPI.adjust_quantity in-process"
        " (median; max over the run); checkpoint: the data file rewritten, and its share"
        " per adjust (one per journal-bytes-of-the-file appended, 64 KiB..8 MiB)"
    )
    print()


def first_history(workdir: Path, size: int, lines: int) -> None:
    path = workdir / f"history-{size}.json"
    started = time.perf_counter()
    bulk_store(path, size, lines)
    print(
        f"First history lookup: {size:,} items, {lines + size:,} journal lines "
        f"(built in {time.perf_counter() - started:.1f} s)"
    )
    [journal] = path.parent.glob(f"{path.name}.history-*.ndjson")
    # What the per-SKU index did before, on first use: parse every line, index its SKU.
    start = time.perf_counter()
    offsets, by_sku, offset = array("q"), {}, 0
    with open(journal, "rb") as handle:
        for line in handle:
            record = orjson.loads(line)
            by_sku.setdefault(sku_key(str(record.get("sku", ""))), []).append(len(offsets))
            offsets.append(offset)
            offset += len(line)
    old = (time.perf_counter() - start) * 1000
    atlas = Path(sys.executable).with_name("atlas")
    samples = []
    for n in range(5):
        command = [
            str(atlas),
            "--db",
            str(path),
            "--json",
            "history",
            "--sku",
            f"sku-{n * 7919:06d}",
        ]
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True)
        samples.append((time.perf_counter() - start) * 1000)
        assert done.returncode == 0, done.stderr
    fresh = TinyDBRepository(path)
    fresh.get("SKU-000001")
    start = time.perf_counter()
    found = fresh.movements("sku-000777")
    first = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    fresh.movements("sku-000777")
    again = (time.perf_counter() - start) * 1000
    print(f"  index every journal line (before)        {old:>9.0f} ms   baseline")
    print(
        f"  first lookup, in-process                 {first:>9.0f} ms   {first / old:.3f}x"
        f"   ({len(found)} movements; a second lookup {again:.1f} ms)"
    )
    median = statistics.median(samples)
    print(
        f"  `atlas history --sku` as a process       {median:>9.0f} ms   {median / old:.3f}x"
        "   (median of 5 SKUs, process start included)"
    )
    print()


def gil_hold(workdir: Path, size: int, ops: int) -> None:
    """Longest pause of a 1 ms ticker thread while adjusting, against a whole-file dumps."""
    path = workdir / f"tiny-{size}.json"
    if not path.exists():
        bulk_store(path, size)
    api = AtlasAPI(path)
    pick = Picker(size)
    api.adjust_quantity(pick(), 1)
    gaps: list[float] = []
    stop = threading.Event()

    def ticker() -> None:
        last = time.perf_counter()
        while not stop.is_set():
            time.sleep(0.001)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    def longest(work: Callable[[], object]) -> float:
        gaps.clear()
        stop.clear()
        thread = threading.Thread(target=ticker)
        thread.start()
        time.sleep(0.05)
        work()
        time.sleep(0.05)
        stop.set()
        thread.join()
        return max(gaps) * 1000

    def adjusts() -> None:
        for _ in range(ops):
            api.adjust_quantity(pick(), 1)

    table = orjson.loads(path.read_bytes())
    dumps = longest(lambda: orjson.dumps(table))
    idle = longest(lambda: time.sleep(0.2))
    steady = longest(adjusts)
    print(f"GIL hold: longest pause of a 1 ms ticker thread, {size:,}-item store")
    print(f"  idle                                    {idle:>7.1f} ms")
    print(f"  one orjson.dumps of the whole file      {dumps:>7.1f} ms   (every commit, before)")
    print(f"  {ops} steady-state adjusts (API)          {steady:>7.1f} ms   {steady / dumps:.2f}x")
    start = time.perf_counter()
    for _ in range(1000):
        api.service.version()
    version = (time.perf_counter() - start) * 1000
    print(f"  version() (the app's change check)      {version:>7.3f} us per call")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tinydb-sizes", default="1000,100000,1000000", help="item counts")
    parser.add_argument("--cli-ops", type=int, default=15, help="`atlas adjust` runs per size")
    parser.add_argument("--api-ops", type=int, default=200, help="API adjusts per size")
    parser.add_argument("--history-lines", type=int, default=511_000, help="journal lines")
    parser.add_argument("--compare", action="store_true", help="also compare every store")
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated item counts")
    parser.add_argument("--ops", type=int, default=30, help="operations timed per figure")
    parser.add_argument(
        "--history", type=int, default=1_000_000, help="movements for the last test"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        workdir = Path(tmp)
        tiny = [int(size) for size in args.tinydb_sizes.split(",")]
        tinydb_sizes(workdir, tiny, args.cli_ops, args.api_ops)
        first_history(workdir, 100_000, args.history_lines)
        gil_hold(workdir, 100_000, 50)
        if args.compare:
            compare(workdir, args)


def compare(workdir: Path, args: argparse.Namespace) -> None:
    sizes = [int(size) for size in args.sizes.split(",")]
    header = (
        f"{'items':>7}  {'store':<13}{'lookup ms':>11}{'p95':>10}{'adjust ms':>11}{'p95':>10}"
        "   adjust vs naive   vs raw sqlite3"
    )
    print(header)
    print("-" * len(header))
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
    print(f"atlas TinyDB adjust at {size:,} items, empty history vs {args.history:,} movements:")
    empty, full = history_independence(workdir, size, args.history, args.ops)
    print(f"  empty history  {empty:8.3f} ms median")
    print(f"  full history   {full:8.3f} ms median   ratio {full / empty:.2f}")


if __name__ == "__main__":
    main()
