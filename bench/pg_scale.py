#!/usr/bin/env python3
"""A million items on PostgreSQL beside the same on SQLite, in one run.

    .venv/bin/python bench/pg_scale.py [--size 1000000] [--rows 100000] [--rounds 10]
                                       [--build-import] [--skip-app] [--skip-import]
                                       [--skip-migrate]

The server is $ATLAS_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test);
every store made there is a schema of its own (bench_*), dropped at the end.

build       the PG store of `size` items: `atlas migrate --to URL` from the bench's SQLite
            store (bench/stores.py), and `add_items` (the service's path) of the first `rows`
            of the same items in batches of 10k, for its rate per item; with --build-import
            also `atlas import` of a `size`-row CSV into a new schema
app         `atlas --db URL` in tmux as bench/app.py measures it (first screenful against
            importing textual.app and the 1k store, keys against a cursor move), PG beside
            SQLite, and PG/SQLite for each figure
import      `atlas import` of a `rows`-row CSV into a new store against `add_items` of the
            same rows (goal on PG: <= 1.5x), both processes, SQLite beside
migrate     the SQLite store of `size` items to PG and back again, against a SQLite -> SQLite
            copy in the same run
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.app import import_textual, open_store, print_timings, ratio  # noqa: E402
from bench.stores import item, store  # noqa: E402

ATLAS = str(Path(sys.executable).with_name("atlas"))
SERVER = os.environ.get("ATLAS_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
BATCH = 10_000

ADD_ITEMS = """
import json, sys
from atlas_tui.api import AtlasAPI
rows = json.load(sys.stdin)
api = AtlasAPI(sys.argv[1])
for start in range(0, len(rows), int(sys.argv[2])):
    r = api.add_items(rows[start:start + int(sys.argv[2])])
    assert r["success"], str(r)[:300]
"""


def url(schema: str) -> str:
    return f"{SERVER}?options=-csearch_path%3D{schema}"


def drop(*schemas: str) -> None:
    with psycopg.connect(SERVER, autocommit=True) as conn:
        for schema in schemas:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@contextlib.contextmanager
def schemas(*names: str) -> Iterator[None]:
    drop(*names)
    try:
        yield
    finally:
        drop(*names)


def atlas(db: str | Path, *args: str) -> float:
    started = time.perf_counter()
    done = subprocess.run([ATLAS, "--db", str(db), *args], capture_output=True, text=True)
    took = time.perf_counter() - started
    assert done.returncode == 0, (done.stdout + done.stderr)[-2000:]
    return took


def add_items(db: str | Path, rows: list[dict[str, object]], batch: int) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", ADD_ITEMS, str(db), str(batch)],
        input=json.dumps(rows), text=True, check=True,
    )  # fmt: skip
    return time.perf_counter() - started


def bench_rows(count: int) -> list[dict[str, object]]:
    """The first `count` bench items (bench/stores.py) as add_items records."""
    rows = []
    for n in range(count):
        it = item(n)
        rows.append({"sku": it.sku, "name": it.name, "category": it.category,
                     "quantity": it.quantity, "location": it.location,
                     "min_stock": it.min_stock, "max_stock": it.max_stock})  # fmt: skip
    return rows


def csv_rows(source: Path) -> list[dict[str, object]]:
    """The records `add_items` is given for the import bench's CSV: the same items."""
    import csv
    import io

    text = source.read_bytes().decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    next(reader)
    return [
        {"sku": sku, "name": name, "category": category,
         "quantity": int(quantity.replace(".", "")), "location": location,
         "min_stock": int(low), "attributes": {"Vendor": vendor, "Variant Barcode": barcode}}
        for sku, name, category, quantity, location, low, vendor, barcode in reader
    ]  # fmt: skip


def make_csv(path: Path, rows: int) -> None:
    spec = importlib.util.spec_from_file_location("bench_import", ROOT / "bench" / "import.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.make_csv(path, rows)


def build(size: int, rows: int, tmp: Path, by_import: bool) -> float:
    sqlite = store("sqlite", size)
    print(f"build: {size:,} items ({sqlite})")
    took = atlas(sqlite, "migrate", "--to", url("bench_big"))
    print(f"  atlas migrate --to URL (SQLite -> PG)          {took:7.1f} s")
    if by_import:
        source = tmp / "big.csv"
        make_csv(source, size)
        with schemas("bench_import_big"):
            imported = atlas(url("bench_import_big"), "import", str(source))
        source.unlink()
        print(f"  atlas import of a {size:,}-row CSV (PG)     {imported:7.1f} s")
    with schemas("bench_add"):
        added = add_items(url("bench_add"), bench_rows(rows), BATCH)
    per = added / rows
    print(f"  add_items of {rows:,} in batches of {BATCH:,} (PG) {added:7.1f} s "
          f"= {per * 1e6:.0f} us/item, ~{per * size:.0f} s for {size:,}")  # fmt: skip
    sqlite_copy = tmp / "added.sqlite"
    added_sqlite = add_items(sqlite_copy, bench_rows(rows), BATCH)
    print(f"  add_items of {rows:,} in batches of {BATCH:,} (SQLite) {added_sqlite:5.1f} s\n")
    return took


def app(size: int, rounds: int) -> None:
    small_sqlite = store("sqlite", 1000)
    atlas(small_sqlite, "migrate", "--to", url("bench_small"))
    targets = {
        "sqlite": (store("sqlite", size), small_sqlite),
        "postgresql": (url("bench_big"), url("bench_small")),
    }
    results: dict[str, dict[str, float]] = {}
    for kind, (big, small) in targets.items():
        floors, smalls, bigs = [], [], []
        for _ in range(3):
            floors.append(import_textual(1))
            smalls.append(open_store(small, 1000, rounds, busy=False)["first"])
            bigs.append(open_store(big, size, rounds, busy=False)["first"])
        f = open_store(big, size, rounds, busy=True)
        f["floor"], f["small_first"], f["first"] = (
            statistics.median(v) for v in (floors, smalls, bigs)
        )
        results[kind] = f
    for kind, f in results.items():
        print_timings(kind, size, f)
        print()
    pg, lite = results["postgresql"], results["sqlite"]
    print("PG / SQLite:")
    for key in ("first", "all", "cursor", "load_plus", "load_filter", "plus", "filter",
                "filter_all", "rss"):  # fmt: skip
        print(f"  {key:<12} {ratio(pg[key], lite[key])}")
    print()


def imports(rows: int, tmp: Path) -> None:
    source = tmp / "stock.csv"
    make_csv(source, rows)
    records = csv_rows(source)
    print(f"import: {rows:,} rows ({source.stat().st_size / 1e6:.1f} MB CSV)")
    for kind in ("sqlite", "postgresql"):
        imported, added = [], []
        for n in range(3):  # interleaved: the machine's load drifts
            if kind == "sqlite":
                a, b = tmp / f"import{n}.sqlite", tmp / f"add{n}.sqlite"
                imported.append(atlas(a, "import", str(source)))
                added.append(add_items(b, records, rows))
            else:
                with schemas("bench_import", "bench_items"):
                    imported.append(atlas(url("bench_import"), "import", str(source)))
                    added.append(add_items(url("bench_items"), records, rows))
        i, a = statistics.median(imported), statistics.median(added)
        print(f"  {kind:<10} atlas import {i:6.2f} s   add_items (one call) {a:6.2f} s   "
              f"import/add_items {ratio(i, a)} (goal <= 1.5x; medians of 3)")  # fmt: skip
    print()


def migrations(size: int, tmp: Path) -> None:
    sqlite = store("sqlite", size)
    print(f"migrate: {size:,} items, one movement each")
    with schemas("bench_mig"):
        to_sqlite = atlas(sqlite, "migrate", "--to", str(tmp / "copy.sqlite"))
        to_pg = atlas(sqlite, "migrate", "--to", url("bench_mig"))
        back = atlas(url("bench_mig"), "migrate", "--to", str(tmp / "back.sqlite"))
    print(f"  SQLite -> SQLite  {to_sqlite:6.1f} s")
    print(f"  SQLite -> PG      {to_pg:6.1f} s  {ratio(to_pg, to_sqlite)}")
    print(f"  PG -> SQLite      {back:6.1f} s  {ratio(back, to_sqlite)}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--build-import", action="store_true")
    parser.add_argument("--skip-app", action="store_true")
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--skip-migrate", action="store_true")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="atlas-pg-scale-") as folder,
        schemas("bench_big", "bench_small"),
    ):
        tmp = Path(folder)
        if not args.skip_app or args.build_import:
            build(args.size, args.rows, tmp, args.build_import)
        if not args.skip_app:
            app(args.size, args.rounds)
        if not args.skip_import:
            imports(args.rows, tmp)
        if not args.skip_migrate:
            migrations(args.size, tmp)


if __name__ == "__main__":
    main()
