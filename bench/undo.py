#!/usr/bin/env python3
"""How long `u` takes to find the user's latest change in a store of a million movements.

    python bench/undo.py [--items 200000] [--per-item 5]

For each backend, a store of --items items with --per-item movements each (user "bench"),
then two changes by "alice"; timed in a fresh process's service: alice's undo plan (her
change is the newest), the plan of "carol" who never changed anything (the whole history
is hers to search: the worst case), alice's plan after `warm_history` (as in the app), and
alice's undo itself. For SQLite also without the
movements_by_user index (a store made before it), and what adding it at the first write
costs.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from stores import history, item

from atlas_tui.config import Settings
from atlas_tui.domain.errors import ValidationError
from atlas_tui.domain.models import InventoryItem
from atlas_tui.factory import make_service
from atlas_tui.services.inventory import InventoryService
from atlas_tui.storage import open_repository


def as_user(path: Path, user: str) -> InventoryService:
    return make_service(path, replace(Settings.from_env(storage_path=path), user=user))


def timed(label: str, operation: Callable[[], object]) -> None:
    start = time.perf_counter()
    try:
        operation()
    except ValidationError as exc:
        label += f" ({exc})"
    print(f"  {label}: {(time.perf_counter() - start) * 1000:.1f} ms")


def bench(kind: str, path: Path, items: list[InventoryItem], per_item: int) -> None:
    repo = open_repository(Settings.from_env(storage_path=path))
    repo.replace_all(items, history(items, per_item))
    repo.close()
    alice = as_user(path, "alice")
    alice.adjust(items[0].sku, 1)
    alice.adjust(items[1].sku, 1)
    print(f"{kind}: {alice.repository.movement_count()} movements")
    # Each in a fresh process's service (opened before the clock starts).
    timed("alice's plan (her change is the newest)", as_user(path, "alice").undo_plan)
    timed("carol's plan (no change of hers at all)", as_user(path, "carol").undo_plan)
    warm = as_user(path, "alice")
    warm.warm_history()  # what the app does in the background at start
    timed("alice's plan, history warmed (the app)", warm.undo_plan)
    timed("alice's undo (plan and transaction)", as_user(path, "alice").undo_last)
    if kind != "sqlite":
        return
    with sqlite3.connect(path) as conn:
        conn.execute("DROP INDEX movements_by_user")
    timed("carol's plan, store without the index", as_user(path, "carol").undo_plan)
    timed("alice's plan, store without the index", as_user(path, "alice").undo_plan)
    bob = as_user(path, "bob")
    timed("first write, which adds the index", lambda: bob.adjust(items[2].sku, 1))
    timed("carol's plan, index again", as_user(path, "carol").undo_plan)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--per-item", type=int, default=5)
    args = parser.parse_args()
    items = [item(n) for n in range(args.items)]
    with tempfile.TemporaryDirectory(prefix="atlas-undo-bench-") as folder:
        for kind, suffix in (("sqlite", ".db"), ("tinydb", ".json")):
            bench(kind, Path(folder) / f"store{suffix}", items, args.per_item)


if __name__ == "__main__":
    main()
