"""Benchmark stores, built once and kept in a cache folder (they take a while at 1M items).

    python bench/stores.py [--dir DIR]   build every store the app benches use

`store(kind, size)` returns the path of a store with `size` items: "tinydb" (with a history
of about five movements per item, like a store in use) or "sqlite" (one movement per item).
The items are built through the repository's whole-store path (`replace_all`), the same one
restore and migrate use, so the files are exactly what ATLAS writes.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from atlas_tui.config import Settings
from atlas_tui.domain.models import InventoryItem, Movement
from atlas_tui.domain.stock import StockLine
from atlas_tui.storage import open_repository

DEFAULT_DIR = Path(os.environ.get("ATLAS_BENCH_DIR", Path(tempfile.gettempdir()) / "atlas-bench"))
SUFFIX = {"tinydb": ".json", "sqlite": ".db"}
WORDS = ("bolt", "anvil", "washer", "hinge", "bracket", "spring", "gasket", "valve", "wrench")


def item(n: int) -> InventoryItem:
    """The n-th bench item: a few low and over, twenty categories, fifty locations; one in
    seven also holds 200 in overstock (half of those as a dated lot)."""
    stamp = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=n)
    made = _item(n, stamp)
    if n % 7 != 3 or made.quantity <= 200:
        return made
    lot, expiry = (f"L{n % 100:02d}", "2027-06-30") if n % 14 == 3 else ("", "")
    lines = [
        StockLine(made.location, made.quantity - 200),
        StockLine(f"OS-{n % 24:02d}", 200, lot, expiry),
    ]
    return made.evolve(lines=lines)


def _item(n: int, stamp: datetime) -> InventoryItem:
    return InventoryItem(
        sku=f"SKU-{n:07d}",
        name=f"Bench item {n} {WORDS[n % len(WORDS)]}",
        category=f"Category {n % 20}",
        quantity=5 if n % 97 == 0 else 6000 if n % 89 == 0 else 1000 + n % 50,
        location=f"A-{n % 50:02d}",
        min_stock=10,
        max_stock=5000,
        created_at=stamp,
        updated_at=stamp,
    )


def history(items: list[InventoryItem], per_item: int) -> list[Movement]:
    """`per_item` receipts per item, oldest first, ending at the item's quantity."""
    moves = []
    for round_ in range(per_item):
        for it in items:
            before = it.quantity - (per_item - round_)
            moves.append(
                Movement(
                    sku=it.sku,
                    kind="adjust" if round_ else "add",
                    delta=1 if round_ else before + 1,
                    quantity_before=before if round_ else 0,
                    quantity_after=before + 1,
                    reason="bench",
                    user="bench",
                    timestamp=it.created_at + timedelta(days=round_),
                )
            )
    return moves


def store(kind: str, size: int, directory: Path = DEFAULT_DIR) -> Path:
    """The path of a bench store of this kind and size, built the first time it is asked."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{kind}-{size}-lines{SUFFIX[kind]}"
    done = path.with_name(path.name + ".built")
    if done.exists():
        return path
    items = [item(n) for n in range(size)]
    per_item = 5 if kind == "tinydb" else 1
    repo = open_repository(Settings.from_env(storage_path=path))
    try:
        repo.replace_all(items, history(items, per_item))
    finally:
        repo.close()
    done.touch()
    return path


@contextmanager
def working_copy(path: Path) -> Iterator[Path]:
    """A copy of a bench store (with its journal or WAL) in a temporary folder, so a bench
    that changes it leaves the built store as it was for the next run."""
    with tempfile.TemporaryDirectory(prefix="atlas-bench-", dir=path.parent) as folder:
        for part in path.parent.glob(glob.escape(path.name) + "*"):
            if part.suffix not in {".built", ".lock"} and not part.name.endswith("-shm"):
                shutil.copy2(part, Path(folder) / part.name)
        yield Path(folder) / path.name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    args = parser.parse_args()
    for kind, size in (("tinydb", 1000), ("tinydb", 100_000), ("sqlite", 1000),
                       ("sqlite", 1_000_000)):  # fmt: skip
        print(store(kind, size, args.dir))


if __name__ == "__main__":
    main()
