"""Benchmark the `atlas` command as users run it: each figure is whole processes, with its
baseline measured in the same run and the ratio.

    .venv/bin/python bench/cli.py [--items 10000] [--repeat 11] [--demo-million]

- `atlas --help` and `atlas show` (SQLite) against `python -c pass`, run in turns with it
  (goal: <= 5x);
- `atlas list` of the store as a table to a pipe, against `atlas list --json` (goal: <= 3x);
- `atlas list | head -1`: the time until head has its line and until atlas has exited,
  against `atlas list --json` (the whole listing);
- with --demo-million, `atlas demo --items 1000000` on a new SQLite store (goal: < 120 s),
  against `atlas demo --items 1000` in the same run.

The children run with PYTHONDONTWRITEBYTECODE and PYTHONUNBUFFERED removed from their
environment (a user's shell has neither), after one untimed run that compiles the modules.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ATLAS = str(BIN / "atlas")
ENV = {
    key: value
    for key, value in os.environ.items()
    if key not in ("PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "ATLAS_STORAGE_PATH")
}


def run(command: list[str]) -> None:
    subprocess.run(command, stdout=subprocess.DEVNULL, env=ENV, check=True)


def timed(action: Callable[[], object], repeat: int) -> float:
    """Median wall time of `repeat` runs after one untimed warm-up, in seconds."""
    action()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def timed_against(
    action: Callable[[], object], base: Callable[[], object], repeat: int
) -> tuple[float, float]:
    """Median wall times of `action` and of `base`, their runs taken in turns (after one
    untimed warm-up of each), so that a load on the machine weighs on both alike."""
    action()
    base()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for which, run_ in enumerate((action, base)):
            started = time.perf_counter()
            run_()
            times[which].append(time.perf_counter() - started)
    return statistics.median(times[0]), statistics.median(times[1])


def head_one(db: Path) -> tuple[float, float, int, bytes]:
    """`atlas list | head -1` through a real pipe: seconds until the first line arrives,
    until atlas has exited, its exit code and what it wrote on stderr."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [ATLAS, "--db", str(db), "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.readline()
    first = time.perf_counter() - started
    child.stdout.close()  # what head does after its line
    err = child.stderr.read()
    code = child.wait()
    return first, time.perf_counter() - started, code, err


def line(label: str, seconds: float, base_label: str, base: float) -> None:
    print(
        f"  {label:<34} {seconds * 1000:9.1f} ms   {base_label} {base * 1000:8.1f} ms"
        f"   ratio {seconds / base:5.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--demo-million", action="store_true", help="also time a 1M demo")
    args = parser.parse_args()
    repeat = args.repeat
    with tempfile.TemporaryDirectory(prefix="atlas-cli-bench-") as temp:
        db = Path(temp, "store.sqlite")
        run([ATLAS, "--db", str(db), "demo", "--items", str(args.items)])
        first = subprocess.run(
            [ATLAS, "--db", str(db), "list", "--limit", "1", "--format", "tsv"],
            capture_output=True, text=True, env=ENV, check=True,
        ).stdout.splitlines()[1].split("\t")[0]  # fmt: skip
        print(f"store: {db.name}, {args.items} demo items; median of {repeat} runs")

        def python() -> None:
            run([sys.executable, "-c", "pass"])

        print("start-up (goal: <= 5x python -c pass; each run in turn with one of python's)")
        for label, command in (
            ("atlas --help", [ATLAS, "--help"]),
            (f"atlas show --sku {first}", [ATLAS, "--db", str(db), "show", "--sku", first]),
        ):
            took, base = timed_against(lambda c=command: run(c), python, repeat)
            line(label, took, "python -c pass", base)

        print(f"listing {args.items} items (goal: table <= 3x --json)")
        as_json = timed(lambda: run([ATLAS, "--db", str(db), "list", "--json"]), repeat)
        line("atlas list --json", as_json, "itself", as_json)
        for label, extra in (
            ("atlas list (table, to a pipe)", []),
            ("atlas list --format csv", ["--format", "csv"]),
            ("atlas list --format tsv", ["--format", "tsv"]),
            ("atlas list --limit 20", ["--limit", "20"]),
        ):
            command = [ATLAS, "--db", str(db), "list", *extra]
            line(label, timed(lambda c=command: run(c), repeat), "--json", as_json)

        head_one(db)  # warm-up
        runs = [head_one(db) for _ in range(repeat)]
        codes = {code for _, _, code, _ in runs}
        errors = {err for _, _, _, err in runs}
        print(f"atlas list | head -1 (exit codes {sorted(codes)}, stderr {sorted(errors)!r})")
        line("first line at head", statistics.median(r[0] for r in runs), "--json", as_json)
        line("atlas exited", statistics.median(r[1] for r in runs), "--json", as_json)

        if args.demo_million:
            print("demo on a new SQLite store (goal: 1M in < 120 s)")
            small_db, big_db = Path(temp, "small.sqlite"), Path(temp, "big.sqlite")
            started = time.perf_counter()
            run([ATLAS, "--db", str(small_db), "demo", "--items", "1000"])
            small = time.perf_counter() - started
            started = time.perf_counter()
            run([ATLAS, "--db", str(big_db), "demo", "--items", "1000000"])
            big = time.perf_counter() - started
            line("atlas demo --items 1000000", big, "--items 1000", small)


if __name__ == "__main__":
    main()
