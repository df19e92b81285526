#!/usr/bin/env python3
"""Writers on one store: is the lock fair and short? Both backends, real processes.

    .venv/bin/python bench/writers.py [--writers 8] [--seconds 10] [--rows 100000]

1. Fairness: N writer processes, each a loop of `AtlasAPI().adjust_quantity` on its own
   SKU for the same seconds, started together. Each op's time (waiting for the lock plus
   the write) is recorded. Prints ops per process, the least productive process against
   the mean (goal >= 0.30), the longest op (goal <= 1 s), how many ops were refused busy
   (goal 0). Baseline from the same run: one writer alone, its ops and longest op.
2. An operator's adjust during an import: `atlas import` of ROWS rows (every row an update
   with a count) runs as a process while `atlas adjust` processes run one after another on
   an item outside the file. Prints the slowest adjust (goal <= 2 s) against an adjust with
   nothing else running (baseline, same run), and the import's own time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ATLAS = str(BIN / "atlas")
SUFFIX = {"tinydb": ".json", "sqlite": ".sqlite"}

WRITER = """
import json, os, sys, time
from atlas_tui.api import AtlasAPI
db, sku, start, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
api = AtlasAPI(db)
api.get_item(sku)  # opened and warm before the start
while time.time() < start:
    time.sleep(0.001)
end = time.monotonic() + seconds
ops = busy = 0
longest = 0.0
while time.monotonic() < end:
    began = time.monotonic()
    envelope = api.adjust_quantity(sku, 1, "bench")
    took = time.monotonic() - began
    longest = max(longest, took)
    if envelope["success"]:
        ops += 1
    elif "busy" in envelope.get("error", {}).get("message", ""):
        busy += 1
    else:
        raise SystemExit(json.dumps(envelope))
print(json.dumps({"ops": ops, "busy": busy, "longest": longest}))
"""


def atlas(db: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ATLAS, "--db", str(db), *args], capture_output=True, text=True,
                          check=check)  # fmt: skip


def seed(db: Path, writers: int, ballast: int) -> None:
    items = [{"sku": f"W-{n}", "name": f"writer {n}", "quantity": 0} for n in range(writers)]
    items += [{"sku": f"B-{n:05d}", "name": f"ballast {n}", "quantity": n} for n in range(ballast)]
    code = (
        "import sys, json; from atlas_tui.api import AtlasAPI; "
        "r = AtlasAPI(sys.argv[1]).add_items(json.load(sys.stdin)); assert r['success'], r"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(db)], input=json.dumps(items), text=True, check=True
    )


def run_writers(db: Path, count: int, seconds: float) -> list[dict[str, float]]:
    start = time.time() + 2.0  # every process started and warm by then
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(db), f"W-{n}", str(start), str(seconds)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(count)
    ]
    results = []
    for process in processes:
        out, _ = process.communicate()
        assert process.returncode == 0, out
        results.append(json.loads(out))
    return results


def fairness(root: Path, backend: str, writers: int, seconds: float) -> None:
    db = root / f"writers{SUFFIX[backend]}"
    seed(db, writers, 1000)
    [alone] = run_writers(db, 1, seconds)
    results = run_writers(db, writers, seconds)
    ops = [int(r["ops"]) for r in results]
    mean = statistics.mean(ops)
    longest = max(r["longest"] for r in results)
    busy = sum(int(r["busy"]) for r in results)
    print(f"  one writer alone (baseline): {alone['ops']} ops, longest op "
          f"{alone['longest'] * 1000:.0f} ms")  # fmt: skip
    print(f"  {writers} writers: ops per process {ops}")
    print(f"    total {sum(ops)} ops = {sum(ops) / max(1, alone['ops']):.2f}x one writer alone")
    print(f"    least productive / mean = {min(ops) / mean:.2f}   (goal >= 0.30)")
    ratio = longest / max(alone["longest"], 1e-9)
    print(
        f"    longest op (lock wait + write) = {longest * 1000:.0f} ms = "
        f"{ratio:.1f}x alone's longest   (goal <= 1000 ms)"
    )
    print(f"    refused busy: {busy}   (goal 0)")


def make_csv(path: Path, rows: int, bump: int) -> None:
    lines = ["sku,name,category,quantity,location"]
    lines += [f"SKU-{n:06d},Item {n},Cat {n % 20},{n % 500 + bump},A-{n % 50}" for n in range(rows)]
    path.write_text("\n".join(lines) + "\n")


def timed_adjust(db: Path) -> float:
    began = time.monotonic()
    done = atlas(db, "adjust", "--sku", "OPS-1", "--delta", "1", check=False)
    took = time.monotonic() - began
    assert done.returncode == 0, done.stderr
    return took


def adjust_during_import(root: Path, backend: str, rows: int) -> None:
    db = root / f"import{SUFFIX[backend]}"
    first, second = root / "first.csv", root / "second.csv"
    make_csv(first, rows, 0)
    make_csv(second, rows, 1)
    atlas(db, "import", str(first))
    atlas(db, "add", "--sku", "OPS-1", "--name", "operator's item", "--qty", "5")
    alone = sorted(timed_adjust(db) for _ in range(5))
    began = time.monotonic()
    importing = subprocess.Popen(
        [ATLAS, "--db", str(db), "import", str(second)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    during = []
    while importing.poll() is None:
        during.append(timed_adjust(db))
    took = time.monotonic() - began
    _, err = importing.communicate()
    base = statistics.median(alone)
    worst = max(during) if during else float("nan")
    print(f"  adjust alone (baseline): median {base * 1000:.0f} ms")
    print(f"  import of {rows} rows (every row a count): {took:.1f} s, exit {importing.returncode}"
          f"{' ' + err.strip().splitlines()[-1] if err.strip() else ''}")  # fmt: skip
    print(f"  {len(during)} adjusts during it: slowest {worst * 1000:.0f} ms = {worst / base:.1f}x "
          f"alone   (goal <= 2000 ms)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--only", choices=["fairness", "import"])
    args = parser.parse_args()
    os.environ.pop("ATLAS_STORAGE_PATH", None)
    for backend in SUFFIX:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            if args.only != "import":
                print(f"{backend}: {args.writers} writers x {args.seconds:g} s")
                fairness(root, backend, args.writers, args.seconds)
            if args.only != "fairness":
                print(f"{backend}: an operator's adjust during an import")
                adjust_during_import(root, backend, args.rows)


if __name__ == "__main__":
    main()
