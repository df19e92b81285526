#!/usr/bin/env python3
"""How soon another operator's change shows in an open app, per backend.

    python bench/push.py [--rounds 20] [--url postgresql://postgres@127.0.0.1:5432/test]

The `atlas` app runs in tmux (100x30) on a 300-item store; another process (the Python API,
as a script or a second terminal would) adds 1 to the first row's item, and the time until
the new figure is on screen is read off it (`capture-pane` polled, ~3 ms a poll). PostgreSQL
pushes each commit (LISTEN/NOTIFY); the file backends are polled twice a second, so their
median is about a quarter of a second. Prints the median and p90 for each backend, and each
median against the file backends' (the push's gain). Changes are spaced irregularly so the
polls' phase is sampled evenly.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.terminal import Terminal  # noqa: E402

ATLAS = str(Path(sys.executable).with_name("atlas"))
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def first_row(screen: str) -> tuple[str, int] | None:
    """The first table row's SKU and quantity."""
    for line in screen.splitlines():
        found = re.match(r"^([A-Z]{2}-\d{5}) .*?\s(\d+) [A-Z]-\d\d-\d", line)
        if found:
            return found[1], int(found[2])
    return None


def measure(store: str, rounds: int) -> list[float]:
    """Milliseconds from each commit until the app shows it."""
    from atlas_tui.factory import make_service

    service = make_service(store)
    term = Terminal([ATLAS, "--db", store], env={"ATLAS_USER": "viewer"})
    try:
        term.until(lambda screen: first_row(screen) is not None, timeout=60)
        found = first_row(term.screen())
        assert found is not None
        sku, shown = found
        times = []
        for _ in range(rounds):
            time.sleep(random.uniform(0.3, 0.8))
            expected = shown + 1
            started = time.perf_counter()
            service.adjust(sku, 1, "bench")
            seen = term.until(lambda s, e=expected: first_row(s) == (sku, e), timeout=10)
            times.append((seen - started) * 1000)
            shown = expected
        return times
    finally:
        term.close()
        service.repository.close()


def seed(store: str) -> None:
    import subprocess

    subprocess.run([ATLAS, "--db", store, "demo"], check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--url", default=os.environ.get("ATLAS_TEST_POSTGRES_URL", DEFAULT_URL))
    args = parser.parse_args()
    schema = f"bench_push_{uuid.uuid4().hex[:8]}"
    sep = "&" if "?" in args.url else "?"
    pg = f"{args.url}{sep}options=-csearch_path%3D{schema}"
    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        stores = {
            "postgresql": pg,
            "sqlite": str(Path(folder) / "push.sqlite"),
            "tinydb": str(Path(folder) / "push.json"),
        }
        try:
            for name, store in stores.items():
                seed(store)
                results[name] = measure(store, args.rounds)
        finally:
            import psycopg

            with psycopg.connect(args.url, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'.encode())
    polled = statistics.median(results["sqlite"] + results["tinydb"])
    print(f"another operator's change on screen, {args.rounds} changes each (ms):")
    for name, times in results.items():
        median = statistics.median(times)
        p90 = statistics.quantiles(times, n=10)[-1]
        print(
            f"  {name:<11} median {median:6.1f}  p90 {p90:6.1f}  "
            f"max {max(times):6.1f}  = {median / polled:.2f}x the polled median"
        )


if __name__ == "__main__":
    main()
