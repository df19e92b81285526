#!/usr/bin/env python3
"""Import throughput: a realistic CSV of N rows into fresh and populated stores.

    python bench/import.py [--rows 100000]

For each backend, in one process:
  read        parsing the file into rows (no store): the floor of any import
  add_many    the same items through the service's bulk add (one transaction): the
              baseline a hand-written loader would use
  import new  `atlas import` of the file into an empty store (one transaction)
  re-import   the same file with every quantity changed, into the now full store
              (every row an update with a count movement)
plus `atlas import` through the real CLI for the new-store case. Targets from the
issue: 100,000 rows under 30 s on TinyDB and under 10 s on SQLite. Machines are
noisy: read the ratios.
"""

from __future__ import annotations

import argparse
import csv
import io
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from atlas_tui.exchange import import_file, read_file
from atlas_tui.factory import make_service
from atlas_tui.repository import SQLiteRepository, TinyDBRepository
from atlas_tui.service import InventoryService

SUFFIX = {"tinydb": ".json", "sqlite": ".sqlite"}
TARGET = {"tinydb": 30.0, "sqlite": 10.0}


def make_csv(path: Path, count: int, bump: int = 0) -> None:
    """A Shopify-ish export: aliases, thousands separators, extra columns kept as attributes."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["Variant SKU", "Title", "Product Type", "Variant Inventory Qty",
                     "Location Name", "Min Amount", "Vendor", "Variant Barcode"])  # fmt: skip
    for n in range(count):
        quantity = (n * 37) % 5000 + bump
        writer.writerow([
            f"SKU-{n:06d}", f"Bench item {n}", f"Category {n % 20}",
            f"{quantity:,}".replace(",", "."), f"A-{n % 50:02d}-{n % 4}", 10,
            "Acme", str(4000000000000 + n),
        ])  # fmt: skip
    path.write_bytes(b"\xef\xbb\xbf" + out.getvalue().encode())


def clock(label: str, action: object, baseline: float | None = None) -> float:
    start = time.perf_counter()
    assert callable(action)
    action()
    took = time.perf_counter() - start
    ratio = f"  ({took / baseline:.2f}x the baseline)" if baseline else ""
    print(f"  {label:<24} {took:8.2f} s{ratio}")
    return took


def _transactions(service: InventoryService) -> int:
    """Commits so far, from each backend's own bookkeeping."""
    repository = service.repository
    if isinstance(repository, SQLiteRepository):
        return repository._commits
    assert isinstance(repository, TinyDBRepository)
    return int(repository._meta()["txn"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        source, changed = root / "stock.csv", root / "stock-changed.csv"
        make_csv(source, args.rows)
        make_csv(changed, args.rows, bump=3)
        size = source.stat().st_size / 1e6
        print(f"{args.rows:,} rows, {size:.1f} MB, semicolons, BOM, '1.234' thousands")
        read = clock("read (parse only)", lambda: read_file(source))
        table = read_file(source)
        items = [
            {**{k: v for k, v in row.fields.items()}, "attributes": row.attributes}
            for row in table.rows
        ]
        for backend, suffix in SUFFIX.items():
            print(f"{backend}:")
            base = make_service(root / f"base-{backend}{suffix}")
            baseline = clock("add_many (baseline)", lambda s=base: s.add_many(items))
            store = make_service(root / f"new-{backend}{suffix}")
            new = clock("import new", lambda s=store: import_file(s, source), baseline)
            assert store.repository.count() == args.rows
            print(f"  {'transactions':<24} {_transactions(store):8d}")
            again = clock(
                "re-import, all counts", lambda s=store: import_file(s, changed), baseline
            )
            assert store.repository.movement_count() == 2 * args.rows
            cli_db = root / f"cli-{backend}{suffix}"
            command = [
                sys.executable,
                "-m",
                "atlas_tui",
                "--db",
                str(cli_db),
                "import",
                str(source),
            ]
            cli = clock("atlas import (CLI)", lambda c=command: subprocess.run(c, check=True,
                        capture_output=True), baseline)  # fmt: skip
            worst = max(new, again, cli)
            verdict = "within" if worst < TARGET[backend] else "OVER"
            print(f"  slowest {worst:.1f} s: {verdict} the {TARGET[backend]:.0f} s target; "
                  f"reading is {read / new:.0%} of a new import")  # fmt: skip


if __name__ == "__main__":
    main()
