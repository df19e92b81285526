#!/usr/bin/env python3
"""Lookup and adjust latency: naive TinyDB (JSONStorage) against ATLAS's TinyDB repository.

    python bench/store.py [--sizes 1000,10000,100000] [--ops 30]

Both run in this process on the same machine, one after the other, so compare the ratios
rather than the absolute figures. Naive TinyDB re-reads and re-writes the whole file on every
operation, does not fsync and records no history; ATLAS's adjust fsyncs and appends a movement.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tinydb import Query, TinyDB

from atlas_tui.factory import make_service


def timed(operation: Callable[[], object], ops: int) -> tuple[float, float]:
    """Median and p95 in milliseconds."""
    samples = []
    for _ in range(ops):
        start = time.perf_counter()
        operation()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]


def rows(count: int) -> list[dict[str, object]]:
    return [
        {
            "sku": f"SKU-{n:06d}",
            "name": f"Bench item {n}",
            "category": f"Cat {n % 20}",
            "quantity": 1000,
            "location": f"A-{n % 50:02d}",
            "min_stock": 10,
            "max_stock": 5000,
        }
        for n in range(count)
    ]


def bench(size: int, ops: int, workdir: Path) -> dict[str, tuple[float, float]]:
    data = rows(size)
    rng = random.Random(size)
    pick = lambda: f"SKU-{rng.randrange(size):06d}"  # noqa: E731

    naive_path = workdir / f"naive-{size}.json"
    with TinyDB(naive_path) as naive:
        naive.table("items").insert_multiple(data)
    sku_field = Query().sku
    naive = TinyDB(naive_path)
    table = naive.table("items", cache_size=0)

    def naive_adjust() -> None:
        sku = pick()
        doc = table.get(sku_field == sku)
        assert doc is not None
        table.update({"quantity": doc["quantity"] + 1}, sku_field == sku)

    results = {
        "naive lookup": timed(lambda: table.get(sku_field == pick()), ops),
        "naive adjust": timed(naive_adjust, ops),
    }
    naive.close()

    service = make_service(workdir / f"atlas-{size}.json")
    service.add_many(data)
    results["atlas lookup"] = timed(lambda: service.get(pick()), ops)
    results["atlas adjust"] = timed(lambda: service.adjust(pick(), 1, "bench"), ops)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated item counts")
    parser.add_argument("--ops", type=int, default=30, help="operations timed per figure")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    header = f"{'items':>8}  {'operation':<14} {'median ms':>10} {'p95 ms':>9}  vs naive"
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            results = bench(size, args.ops, Path(tmp))
            for op in ("lookup", "adjust"):
                naive = results[f"naive {op}"]
                ours = results[f"atlas {op}"]
                print(f"{size:>8}  {'naive ' + op:<14} {naive[0]:>10.3f} {naive[1]:>9.3f}")
                ratio = naive[0] / ours[0] if ours[0] else float("inf")
                print(
                    f"{size:>8}  {'atlas ' + op:<14} {ours[0]:>10.3f} {ours[1]:>9.3f}"
                    f"  {ratio:6.1f}x faster"
                )


if __name__ == "__main__":
    main()
