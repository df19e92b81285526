#!/usr/bin/env python3
"""Bursts of keys through a real terminal: what one-key-at-a-time routing costs.

    python bench/typeahead.py [--keys 400] [--items 1000]

Starts ATLAS in tmux (the `atlas` entry point, `python -m atlas_tui`), writes one burst of
`--keys` cursor moves (`j`), and times until the detail pane shows the item the last one
lands on. The same run repeats with the app's type-ahead routing switched off (Textual's
plain key routing, the baseline) and prints both and their ratio: cursor keys are declared
focus-keeping, so they should cost the same. Then, type-ahead only (Textual's routing sends
the letters to the table instead), 50 `O` (reverse the order: a screen binding, so each
waits for the effects of the one before) and `/zz`, timed until the filter shows no rows.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from atlas_tui.factory import make_service

# Started like `atlas`, with TypeAheadApp's on_event bypassed for the baseline.
PLAIN = (
    "import sys; from textual.app import App; from screens.typeahead import TypeAheadApp; "
    "TypeAheadApp.on_event = App.on_event; from atlas_tui.cli.main import main; sys.exit(main())"
)


def run(db: Path, keys: int, plain: bool, socket: Path) -> tuple[float, float]:
    python = [sys.executable, "-c", PLAIN] if plain else [sys.executable, "-m", "atlas_tui"]
    command = shlex.join(["env", "TERM=xterm-256color", *python, "--db", str(db)])
    tmux = ["tmux", "-S", str(socket)]
    subprocess.run([*tmux, "new-session", "-d", "-s", "b", "-x", "100", "-y", "30", command],
                   check=True)  # fmt: skip

    def screen() -> str:
        return subprocess.run([*tmux, "capture-pane", "-p", "-t", "b"],
                              capture_output=True, text=True).stdout  # fmt: skip

    try:
        while "items ·" not in screen() or "history…" in screen():
            time.sleep(0.02)
        timings = []
        bursts = [("j" * keys, f" SKU-{keys:06d} ")]
        if not plain:
            bursts.append(("O" * 50 + "/zz", "0 of "))
        for burst, target in bursts:
            started = time.perf_counter()
            subprocess.run([*tmux, "send-keys", "-l", "-t", "b", burst], check=True)
            while target not in screen():
                time.sleep(0.005)
            timings.append(time.perf_counter() - started)
        return timings[0], timings[-1]
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=400)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.json"
        make_service(db).add_many(
            [{"sku": f"SKU-{n:06d}", "name": f"item {n}", "quantity": n}
             for n in range(args.items)]
        )  # fmt: skip
        os.environ.setdefault("HOME", folder)
        times: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
        for _ in range(args.rounds):
            for plain in (True, False):
                socket = Path(folder) / f"tmux-{len(times[plain])}-{plain}.sock"
                times[plain].append(run(db, args.keys, plain, socket))
    print(f"{args.items} items, best of {args.rounds}:")
    base = min(t[0] for t in times[True])
    ours = min(t[0] for t in times[False])
    print(f"  burst of {args.keys} cursor keys (j):")
    print(f"    Textual's routing : {base * 1000:7.0f} ms ({base / args.keys * 1000:.2f} ms/key)")
    print(f"    type-ahead routing: {ours * 1000:7.0f} ms ({ours / args.keys * 1000:.2f} ms/key)")
    print(f"    ratio             : {ours / base:7.2f}x")
    waiting = min(t[1] for t in times[False])
    print(f"  burst of 50 O + /zz, each waiting: {waiting * 1000:.0f} ms "
          f"({waiting / 53 * 1000:.2f} ms/key, {waiting / 53 / (base / args.keys):.1f}x "
          "a cursor key with Textual's routing)")  # fmt: skip


if __name__ == "__main__":
    main()
