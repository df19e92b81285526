#!/usr/bin/env python3
"""A mixed storm of client processes on one store: PostgreSQL against SQLite, same machine.

    .venv/bin/python bench/pg_storm.py [--clients 1,8,32] [--hogs both|no|yes]
                                       [--api-ops 40] [--url postgresql://...]

Clients are processes as users start them. Every fourth client (the 4th, 8th, ...) is a
person at the CLI: `atlas --db STORE --json ...`, one process per operation, a cycle of
add, adjust, undo, adjust of the shared item, receive, pick, transfer, move, import of a
two-row CSV, count-session start/count/apply and backup (13 operations). The others are
scripts of the Python API: one process each, `--api-ops` adjusts of their own counter and
of the shared item in turn (at least 400 adjusts in all, for a sample worth timing). So 1
client is one API script; 8 are 6 scripts and 2 people; 32 are 24 and 8. All start
together (imports done); the run is over when the last ends.

Prints, per client count and backend: operations per second over the run (and of each kind
over its own span), PG/SQLite, and the checks: every acknowledged change in the history
exactly once and nothing else there (none lost, none duplicated), nothing refused, the
shared and own counters equal to their acknowledged adjusts, `atlas verify` passes. With
--hogs, two `python3 -c "while 1: pass"` run beside the storm (both: without, then with).
The PostgreSQL store is a fresh schema of --url (dropped afterwards), over TCP; SQLite a
file in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.hogs import hogs  # noqa: E402

ATLAS = str(Path(sys.executable).with_name("atlas"))
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
CLI_CYCLE = 13
MIN_API_OPS = 400  # all API clients together, at least

API_CLIENT = """
import json, sys, time
from atlas_tui.api import AtlasAPI
store, me, ops, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
api = AtlasAPI(store)
api.get_item("HOT")  # opened and warm before the start
while time.time() < start:
    time.sleep(0.001)
acks, refused = [], []
for n in range(ops):
    sku, tag = (f"{me}-C", f"{me}-{n}-adjust") if n % 2 else ("HOT", f"{me}-{n}-hot")
    envelope = api.adjust_quantity(sku, 1, tag)
    (acks if envelope["success"] else refused).append([tag, 1, envelope.get("error", "")])
print(json.dumps({"acks": acks, "refused": refused, "end": time.time()}))
"""


@dataclass
class Run:
    """What the clients of one run were told: tag -> movements, and the refusals."""

    acks: dict[str, int] = field(default_factory=dict)
    undone: list[int] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    cli_ops: int = 0
    api_ops: int = 0
    cli_end: float = 0.0
    api_end: float = 0.0
    start: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


def names(clients: int) -> tuple[list[str], list[str]]:
    """The CLI people and the API scripts among `clients`."""
    cli = [f"c{n}" for n in range(clients) if n % 4 == 3]
    api = [f"a{n}" for n in range(clients) if n % 4 != 3]
    return cli, api


def seed(store: str, cli: list[str], api: list[str], env: dict[str, str]) -> int:
    rows: list[dict[str, Any]] = [{"sku": "HOT", "name": "shared"}]
    for me in cli:
        rows += [
            {"sku": f"{me}-C", "name": "counter"},
            {"sku": f"{me}-M", "name": "mover", "location": "L0"},
            {"sku": f"{me}-R", "name": "lots", "location": "R0"},
            {"sku": f"{me}-K", "name": "counted", "location": f"CNT-{me}", "quantity": 20},
        ]
    rows += [{"sku": f"{me}-C", "name": "counter"} for me in api]
    rows += [{"sku": f"B-{n:04d}", "name": "ballast " * 8, "quantity": n} for n in range(1000)]
    code = (
        "import sys, json; from atlas_tui.api import AtlasAPI; "
        "r = AtlasAPI(sys.argv[1]).add_items(json.load(sys.stdin), reason='setup'); "
        "assert r['success'], r"
    )
    subprocess.run([sys.executable, "-c", code, store], input=json.dumps(rows), text=True,
                   check=True, env=env)  # fmt: skip
    return len(rows)


def cli_client(store: str, me: str, start: float, env: dict[str, str], run: Run) -> None:
    """A person at the CLI: one cycle of every kind of write, a process each."""
    env = {**env, "ATLAS_USER": me}
    folder = Path(env["XDG_DATA_HOME"]) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    t = f"{me}-1"
    csv = folder / f"{t}.csv"
    csv.write_text(f"sku,name,quantity\n{me}-I1,imported,1\n{me}-M,mover,6\n")
    while time.time() < start:
        time.sleep(0.001)

    def op(tag: str, args: list[str]) -> dict[str, Any]:
        done = subprocess.run([ATLAS, "--db", store, "--json", *args], capture_output=True,
                              text=True, env=env)  # fmt: skip
        try:
            envelope: dict[str, Any] = json.loads(done.stdout)
        except json.JSONDecodeError:
            envelope = {"success": False, "error": done.stderr.strip()[-300:]}
        with run.lock:
            run.cli_ops += 1
            if not envelope["success"]:
                run.refused.append(f"{tag}: {envelope['error']}")
        return envelope

    def change(step: str, args: list[str], movements: int = 1) -> dict[str, Any]:
        tag = f"{t}-{step}"
        envelope = op(tag, [*args, "--reason", tag])
        if envelope["success"] and movements:
            with run.lock:
                run.acks[tag] = movements
        return envelope

    change("add", ["add", "--sku", f"{me}-N1", "--name", "storm", "--qty", "3", "--location", "L0"])
    change("adjust", ["adjust", "--sku", f"{me}-C", "--delta", "1"])
    undone = op(f"{t}-undo", ["undo", "--yes"])
    if undone["success"]:
        with run.lock:
            run.undone += [m["id"] for m in undone["undone"]["movements"]]
    change("hot", ["adjust", "--sku", "HOT", "--delta", "1"])
    change("receive", ["receive", "--sku", f"{me}-R", "--qty", "5", "--location", "R1",
                       "--lot", "LOT1", "--expiry", "2030-01-01"])  # fmt: skip
    change("pick", ["pick", "--sku", f"{me}-R", "--qty", "2"])
    change("transfer", ["transfer", "--sku", f"{me}-R", "--qty", "1", "--from", "R1",
                        "--to", "R2"])  # fmt: skip
    change("move", ["move", "--sku", f"{me}-M", "--location", "L1"])
    imported = change("import", ["import", str(csv), "--strict"], 0)
    if imported["success"]:
        with run.lock:
            run.acks[f"{t}-import"] = imported["import"]["added"] + imported["import"]["updated"]
    started = change("count", ["count-session", "start", "--location", f"CNT-{me}"], 0)
    number = str(started["session"]["id"]) if started["success"] else "0"
    op(f"{t}-record", ["count-session", "count", number, f"{me}-K", "7"])
    applied = op(f"{t}-count", ["count-session", "apply", number])
    if applied["success"] and applied["applied"]["changes"]:
        with run.lock:
            run.acks[f"{t}-count"] = len(applied["applied"]["changes"])
    op(f"{t}-backup", ["backup"])
    with run.lock:
        run.cli_end = max(run.cli_end, time.time())


def storm(store: str, clients: int, api_ops: int, env: dict[str, str]) -> tuple[Run, float]:
    """All clients at once; the run and its seconds, from the start to the last one done."""
    cli, api = names(clients)
    api_ops = max(api_ops, MIN_API_OPS // max(1, len(api)))  # a sample worth timing
    run = Run()
    start = time.time() + 1.5 + 0.05 * clients  # every API process started and warm by then
    scripts = [
        subprocess.Popen([sys.executable, "-c", API_CLIENT, store, me, str(api_ops), str(start)],
                         stdout=subprocess.PIPE, text=True, env={**env, "ATLAS_USER": me})
        for me in api
    ]  # fmt: skip
    people = [threading.Thread(target=cli_client, args=(store, me, start, env, run)) for me in cli]
    for person in people:
        person.start()
    for script in scripts:
        out, _ = script.communicate()
        assert script.returncode == 0, f"API client failed: {out}"
        told = json.loads(out)
        run.acks.update({tag: made for tag, made, _ in told["acks"]})
        run.refused += [f"{tag}: {error}" for tag, _, error in told["refused"]]
        run.api_ops += len(told["acks"]) + len(told["refused"])
        run.api_end = max(run.api_end, told["end"])
    for person in people:
        person.join()
    run.start = start
    return run, max(run.cli_end, run.api_end) - start


def check(store: str, run: Run, setup: int, clients: int, env: dict[str, str]) -> list[str]:
    """What is wrong with the store after the run ([]: nothing)."""
    from atlas_tui.factory import make_service

    problems = [f"refused: {refused}" for refused in run.refused[:3]]
    os.environ.update({"XDG_DATA_HOME": env["XDG_DATA_HOME"]})
    service = make_service(store)
    history = service.repository.movements()
    by_reason = Counter(m.reason for m in history)
    undoing = Counter(n for m in history for n in m.details.get("undoes", []))
    lost = [tag for tag, made in run.acks.items() if by_reason[tag] != made]
    problems += [f"acknowledged, not in the history once: {tag}" for tag in lost[:3]]
    problems += [f"undo of #{n} made {undoing[n]} times" for n in run.undone if undoing[n] != 1]
    expected = setup + sum(run.acks.values()) + len(run.undone)
    if len(history) != expected:
        problems.append(f"{len(history)} movements in the history, {expected} acknowledged")
    hot = sum(1 for tag in run.acks if tag.endswith("-hot"))
    if service.get("HOT").quantity != hot:
        problems.append(f"HOT holds {service.get('HOT').quantity}, {hot} adjusts acknowledged")
    _, api = names(clients)
    for me in api:
        mine = sum(1 for tag in run.acks if tag.startswith(f"{me}-") and tag.endswith("-adjust"))
        if service.get(f"{me}-C").quantity != mine:
            problems.append(f"{me}-C holds {service.get(f'{me}-C').quantity}, not {mine}")
    service.repository.close()
    verified = subprocess.run([ATLAS, "--db", store, "verify"], capture_output=True, text=True,
                              env=env)  # fmt: skip
    if verified.returncode != 0:
        problems.append(f"verify: {verified.stdout.strip()[-200:]} {verified.stderr.strip()}")
    return problems


@contextmanager
def pg_store(url: str) -> Iterator[str]:
    """A fresh schema of the server, dropped afterwards."""
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'.encode())


@contextmanager
def sqlite_store(folder: Path) -> Iterator[str]:
    yield str(folder / "atlas.sqlite")


def one(backend: str, clients: int, api_ops: int, url: str, hot: bool) -> tuple[float, Run]:
    with tempfile.TemporaryDirectory(prefix="atlas-storm-") as tmp:
        folder = Path(tmp)
        env = {
            **os.environ,
            "XDG_DATA_HOME": str(folder / "data"),  # a PostgreSQL store's backups go here
            "ATLAS_LOCK_TIMEOUT": "300",
            "NO_COLOR": "1",
        }
        env.pop("ATLAS_STORAGE_PATH", None)
        opened = pg_store(url) if backend == "postgresql" else sqlite_store(folder)
        with opened as store:
            cli, api = names(clients)
            setup = seed(store, cli, api, env)
            with hogs(hot):
                run, seconds = storm(store, clients, api_ops, env)
            problems = check(store, run, setup, clients, env)
        ops = run.cli_ops + run.api_ops
        rate = ops / seconds
        kinds = [
            f"{kind} {ops_ / (end - run.start):.1f}/s"
            for kind, ops_, end in (
                ("API", run.api_ops, run.api_end),
                ("CLI", run.cli_ops, run.cli_end),
            )
            if ops_
        ]
        print(
            f"  {backend:<10} {clients:>2} clients{' +hogs' if hot else '      '}: "
            f"{ops:>5} ops in {seconds:6.2f} s = {rate:7.1f} ops/s "
            f"({', '.join(kinds)}); "
            f"checks: {'ok' if not problems else '; '.join(problems)}",
            flush=True,
        )
        return rate, run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--hogs", choices=["both", "no", "yes"], default="both")
    parser.add_argument("--api-ops", type=int, default=40)
    parser.add_argument("--url", default=os.environ.get("ATLAS_TEST_POSTGRES_URL") or DEFAULT_URL)
    args = parser.parse_args()
    counts = [int(n) for n in args.clients.split(",")]
    modes = {"both": [False, True], "no": [False], "yes": [True]}[args.hogs]
    where = args.url.rpartition("@")[2]
    print(
        f"{os.cpu_count()} CPUs; PostgreSQL at {where}; at least {args.api_ops} adjusts per "
        f"API client, {CLI_CYCLE} processes per CLI client"
    )
    table = []
    for hot in modes:
        for clients in counts:
            pg, _ = one("postgresql", clients, args.api_ops, args.url, hot)
            lite, _ = one("sqlite", clients, args.api_ops, args.url, hot)
            table.append((clients, hot, pg, lite))
    print("\nclients  hogs   PostgreSQL ops/s   SQLite ops/s   PG/SQLite")
    for clients, hot, pg, lite in table:
        print(f"{clients:>7}  {'yes' if hot else 'no ':<4} {pg:>17.1f} {lite:>14.1f} "
              f"{pg / lite:>10.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
