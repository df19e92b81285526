#!/usr/bin/env python3
"""`atlas import` of N rows against the floor of writing them at all, both backends.

    .venv/bin/python bench/import.py [--rows 100000]

floor       in this process: parse the CSV (stdlib csv), build each item and its `add`
            movement as plain dicts, and write them in one commit with no checks: orjson of
            the items document + the movement lines, each fsynced (TinyDB); executemany into
            ATLAS's schema, WAL, synchronous=FULL (SQLite)
import new  `atlas import FILE` as a process, into a new store
re-import   `atlas import` of the same SKUs with every quantity changed (every row a count)

Each import is printed with its ratio to the floor of the same run (goal: <= 6x). Machines
are noisy and shared: read the ratios. To see where an import spends its time:
    python -m cProfile -s cumtime -m atlas_tui --db X.sqlite import FILE
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

from atlas_tui.storage.sqlite_repo import CREATE_SCRIPT

ATLAS = str(Path(sys.executable).parent / "atlas")
SUFFIX = {"tinydb": ".json", "sqlite": ".sqlite"}
HEADER = ["Variant SKU", "Title", "Product Type", "Variant Inventory Qty", "Location Name",
          "Min Amount", "Vendor", "Variant Barcode"]  # fmt: skip


def make_csv(path: Path, count: int, bump: int = 0) -> None:
    """A Shopify-ish export: aliases, thousands separators, extra columns kept as attributes."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(HEADER)
    for n in range(count):
        quantity = (n * 37) % 5000 + bump
        writer.writerow([
            f"SKU-{n:06d}", f"Bench item {n}", f"Category {n % 20}",
            f"{quantity:,}".replace(",", "."), f"A-{n % 50:02d}-{n % 4}", 10,
            "Acme", str(4000000000000 + n),
        ])  # fmt: skip
    path.write_bytes(b"\xef\xbb\xbf" + out.getvalue().encode())


def parsed(source: Path) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """The floor's parse: items and their movements as plain dicts, no checks."""
    now = datetime.now(UTC).isoformat(timespec="microseconds")
    text = source.read_bytes().decode("utf-8-sig")
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    next(rows)
    items, movements = [], []
    for sku, name, category, quantity, location, low, vendor, barcode in rows:
        count = int(quantity.replace(".", ""))
        attributes = {"Vendor": vendor, "Variant Barcode": barcode}
        item = {"sku": sku, "name": name, "category": category, "quantity": count,
                "location": location, "min_stock": int(low), "max_stock": 0, "created_at": now,
                "updated_at": now, "attributes": attributes}  # fmt: skip
        items.append(item)
        movements.append({"id": len(movements) + 1, "sku": sku, "kind": "add", "delta": count,
                          "quantity_before": 0, "quantity_after": count, "reason": "import",
                          "user": "bench", "timestamp": now,
                          "details": {"item": item, "import": source.name}})  # fmt: skip
    return items, movements


def write_all(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def floor_tinydb(source: Path, target: Path) -> None:
    items, movements = parsed(source)
    document = {"items": {str(n): item for n, item in enumerate(items, start=1)}}
    write_all(target.with_name(target.name + ".history.ndjson"),
              b"".join(orjson.dumps(m) + b"\n" for m in movements))  # fmt: skip
    write_all(target, orjson.dumps(document))


def floor_sqlite(source: Path, target: Path) -> None:
    items, movements = parsed(source)
    conn = sqlite3.connect(target, isolation_level=None)
    conn.executescript(CREATE_SCRIPT)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(str(i["sku"]).casefold(), i["sku"], i["name"], i["category"], i["quantity"],
          i["location"], i["min_stock"], i["max_stock"], i["created_at"], i["updated_at"],
          orjson.dumps(i["attributes"]).decode()) for i in items],
    )  # fmt: skip
    conn.executemany(
        "INSERT INTO movements VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(m["id"], m["sku"], str(m["sku"]).casefold(), m["kind"], m["delta"],
          m["quantity_before"], m["quantity_after"], m["reason"], m["user"], m["timestamp"],
          orjson.dumps(m["details"]).decode()) for m in movements],
    )  # fmt: skip
    conn.execute("COMMIT")
    conn.close()


def timed(action: object) -> float:
    assert callable(action)
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def atlas_import(db: Path, source: Path) -> None:
    done = subprocess.run([ATLAS, "--db", str(db), "import", str(source)], capture_output=True,
                          text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    floors = {"tinydb": floor_tinydb, "sqlite": floor_sqlite}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        source, changed = root / "stock.csv", root / "stock-changed.csv"
        make_csv(source, args.rows)
        make_csv(changed, args.rows, bump=3)
        size = source.stat().st_size / 1e6
        print(f"{args.rows:,} rows, {size:.1f} MB, semicolons, BOM, '1.234' thousands")
        for backend, suffix in SUFFIX.items():
            floor = timed(lambda b=backend, s=suffix: floors[b](source, root / f"floor{s}"))
            db = root / f"store{suffix}"
            new = timed(lambda d=db: atlas_import(d, source))
            again = timed(lambda d=db: atlas_import(d, changed))
            print(f"{backend}:")
            print(f"  floor (parse + write, one commit, no checks) {floor:6.2f} s")
            for label, took in (("atlas import, new store", new), ("re-import, all counts", again)):
                print(f"  {label:<44} {took:6.2f} s  = {took / floor:4.1f}x the floor (goal <= 6x)")


if __name__ == "__main__":
    main()
