#!/usr/bin/env python3
"""Load on `atlas serve` over loopback, as scanners and scripts meet it.

    .venv/bin/python bench/serve.py [--backend tinydb|sqlite|postgresql|all]
                                    [--clients 50] [--seconds 30] [--items 500]
                                    [--hogs] [--url postgresql://...]

Starts the real server (the venv's `atlas serve`) on a fresh store in a temporary folder (a
fresh schema of --url for PostgreSQL, dropped afterwards), seeds --items items, makes
operator users and tokens with `atlas user add` / `atlas token create` (one user per five
clients), then runs --clients HTTP clients (a thread and keep-alive connection each). Each
first logs in (GET /api/v1/me: a token's first check costs a scrypt hash), timed apart as
`first`; then all run together for --seconds: a mix of reads (a page of items following
the cursor, one item, an item's movements) and stock changes (adjust +/-, receive, pick,
transfer), a fifth of the changes on ten hot items. Every change carries an
Idempotency-Key and a reason of its own; one in ten acknowledged changes is sent again with
the same key (it must be answered again, not made again), and one in thirty is first sent
with a read timeout too short to wait for the answer, then retried with the same key until
answered (a scanner on flaky Wi-Fi).

Prints p50/p90/p99 latency per kind and requests/s, then checks: no 5xx and no transport
error; in `atlas history --json` every acknowledged change exactly once, refused ones
never, nothing unacknowledged; every item's quantity equal to its seed plus the
acknowledged changes and to the sum of its movements; `atlas verify --json` ok. Baselines
in the same run: GET /healthz with the same clients (the HTTP floor), and the same mix
through the Python API in-process (AtlasAPI over one shared service, as the server holds
it) with as many threads, on a store of its own seeded the same; ratios printed. With
--hogs two `python3 -c "while 1: pass"` spin beside everything. Exits 1 if a check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.hogs import hogs  # noqa: E402

ATLAS = str(Path(sys.executable).with_name("atlas"))
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
HOT = 10  # items a fifth of the changes go to
SEED_QTY = 50
CLIENTS_PER_USER = 5
# Kind -> weight in the mix: 60% reads, 40% changes.
MIX = {
    "list": 15,
    "get": 30,
    "movements": 15,
    "adjust": 15,
    "receive": 8,
    "pick": 8,
    "transfer": 9,
}
CHANGES = ("adjust", "receive", "pick", "transfer")
REPLAY_SHARE = 0.10
FLAKY_SHARE = 1 / 30
RETRY_FOR = 30.0  # seconds a flaky change is retried before it counts as unanswered


@dataclass
class Tally:
    """What the clients saw; shared by the threads (under `lock`)."""

    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    status: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    acks: dict[str, tuple[str, int]] = field(default_factory=dict)  # reason -> (sku, delta)
    refused: set[str] = field(default_factory=set)
    unanswered: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    requests: int = 0
    sent: int = 0  # changes, each counted once however often it was sent
    lock: threading.Lock = field(default_factory=threading.Lock)

    def seen(self, kind: str, seconds: float, status: int) -> None:
        with self.lock:
            self.latency[kind].append(seconds)
            self.status[kind][status] += 1
            if kind != "first":  # the warm-up, before the timed run
                self.requests += 1

    def problem(self, text: str) -> None:
        with self.lock:
            if len(self.problems) < 20:
                self.problems.append(text)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# A change: its path, body and the net change of the item's quantity if made.
Change = tuple[str, dict[str, Any], int]


def pick_sku(rng: random.Random, items: int) -> str:
    if rng.random() < 0.2:
        return f"L{rng.randrange(HOT):04d}"
    return f"L{rng.randrange(items):04d}"


def make_change(kind: str, sku: str, reason: str, rng: random.Random) -> Change:
    if kind == "adjust":
        delta = rng.choice([-3, -2, -1, 1, 2, 3])
        return "adjust", {"delta": delta, "reason": reason}, delta
    if kind == "receive":
        quantity = rng.randint(1, 5)
        body = {"quantity": quantity, "location": rng.choice(["A", "B"]), "reason": reason}
        return "receive", body, quantity
    if kind == "pick":
        quantity = rng.randint(1, 2)
        return "pick", {"quantity": quantity, "reason": reason}, -quantity
    source, target = rng.choice([("A", "B"), ("B", "A")])
    body = {"quantity": 1, "source": source, "target": target, "reason": reason}
    return "transfer", body, 0


class HttpClient:
    """One scanner or script: its own connection, token and random stream."""

    def __init__(self, base: str, token: str, number: int, items: int, tally: Tally) -> None:
        self.http = httpx.Client(
            base_url=base,
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(60.0),
        )
        self.name, self.items, self.tally = f"c{number}", items, tally
        self.rng = random.Random(number)
        self.cursor: str | None = None
        self.n = 0

    def timed(self, kind: str, method: str, url: str, **kwargs: Any) -> httpx.Response | None:
        start = time.perf_counter()
        try:
            answer = self.http.request(method, url, **kwargs)
        except httpx.TimeoutException:
            raise
        except httpx.HTTPError as exc:
            self.tally.seen(kind, time.perf_counter() - start, 0)
            self.tally.problem(f"{kind} {url}: {type(exc).__name__}: {exc}")
            return None
        self.tally.seen(kind, time.perf_counter() - start, answer.status_code)
        if answer.status_code >= 500:
            self.tally.problem(f"{kind} {url} -> {answer.status_code}: {answer.text[:300]}")
        return answer

    def first(self) -> None:
        """Log in: the first request of a token pays its scrypt check (later ones are
        cached), so it is timed apart, as a scanner starting its shift."""
        self.timed("first", "GET", "/api/v1/me")

    def step(self) -> None:
        kind = self.rng.choices(list(MIX), weights=list(MIX.values()))[0]
        sku = pick_sku(self.rng, self.items)
        if kind == "list":
            params: dict[str, Any] = {"limit": 50}
            if self.cursor:
                params["cursor"] = self.cursor
            answer = self.timed(kind, "GET", "/api/v1/items", params=params)
            if answer is not None and answer.status_code == 200:
                self.cursor = answer.json()["next_cursor"]
        elif kind == "get":
            self.timed(kind, "GET", f"/api/v1/items/{sku}")
        elif kind == "movements":
            self.timed(kind, "GET", "/api/v1/movements", params={"sku": sku, "limit": 20})
        else:
            self.n += 1
            self.change(kind, sku, f"bench-{self.name}-{self.n}-{kind}")

    def change(self, kind: str, sku: str, reason: str) -> None:
        path, body, delta = make_change(kind, sku, reason, self.rng)
        with self.tally.lock:
            self.tally.sent += 1
        url = f"/api/v1/items/{sku}/{path}"
        headers = {"Idempotency-Key": uuid.uuid4().hex}
        if self.rng.random() < FLAKY_SHARE:
            answer = self.flaky(url, body, headers, reason)
        else:
            answer = self.timed(kind, "POST", url, json=body, headers=headers)
        if answer is None:
            return
        status = answer.status_code
        if 200 <= status < 300:
            with self.tally.lock:
                self.tally.acks[reason] = (sku, delta)
            if self.rng.random() < REPLAY_SHARE:
                again = self.timed("replay", "POST", url, json=body, headers=headers)
                if again is not None and (
                    again.status_code != status
                    or again.content != answer.content
                    or again.headers.get("idempotent-replayed") != "true"
                ):
                    said = f"{again.status_code} {again.text[:200]}"
                    self.tally.problem(f"replay of {reason}: {said}")
        elif status < 500:
            with self.tally.lock:
                self.tally.refused.add(reason)

    def flaky(
        self, url: str, body: dict[str, Any], headers: dict[str, str], reason: str
    ) -> httpx.Response | None:
        """Sent with a read timeout too short for the answer, then again with the same key
        until answered (409 while the first still runs)."""
        short = httpx.Timeout(60.0, read=0.001)
        try:
            return self.timed("flaky-first", "POST", url, json=body, headers=headers, timeout=short)
        except httpx.TimeoutException:
            pass
        give_up = time.monotonic() + RETRY_FOR
        while time.monotonic() < give_up:
            try:
                answer = self.timed("flaky-retry", "POST", url, json=body, headers=headers)
            except httpx.TimeoutException:
                continue
            if answer is None or answer.status_code != 409:
                return answer
            time.sleep(0.05)
        with self.tally.lock:
            self.tally.unanswered.add(reason)
        return None


def run_clients(
    clients: list[Any],
    seconds: float,
    step: Callable[[Any], None],
    warm: Callable[[Any], None] | None = None,
) -> tuple[float, float]:
    """Every client warms up (outside the timing), then steps until the deadline; the wall
    seconds and the client process's CPU seconds of the timed part."""
    ready = threading.Barrier(len(clients) + 1)
    go = threading.Barrier(len(clients) + 1)
    deadline = [0.0]

    def loop(client: Any) -> None:
        if warm is not None:
            warm(client)
        ready.wait()
        go.wait()
        while time.monotonic() < deadline[0]:
            step(client)

    threads = [threading.Thread(target=loop, args=(c,), daemon=True) for c in clients]
    for thread in threads:
        thread.start()
    ready.wait()
    cpu = time.process_time()
    deadline[0] = time.monotonic() + seconds
    start = time.monotonic()
    go.wait()
    for thread in threads:
        thread.join()
    return time.monotonic() - start, time.process_time() - cpu


# Stores, the server, the hogs --------------------------------------------------------------


@contextmanager
def store_of(backend: str, folder: Path, url: str, name: str) -> Iterator[str]:
    if backend == "tinydb":
        yield str(folder / f"{name}.json")
    elif backend == "sqlite":
        yield str(folder / f"{name}.sqlite")
    else:
        import psycopg

        schema = f"bench_{uuid.uuid4().hex[:12]}"
        try:
            yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
        finally:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'.encode())


def seed(store: str, items: int, env: dict[str, str]) -> None:
    """The items, in A (and 10 of each in B), added as one step."""
    code = (
        "import sys; from atlas_tui.api import AtlasAPI; n = int(sys.argv[2]); "
        "api = AtlasAPI(sys.argv[1]); "
        "r = api.add_items([{'sku': f'L{i:04d}', 'name': f'bench item {i}', 'location': 'A', "
        f"'quantity': {SEED_QTY - 10}}} for i in range(n)], reason='seed'); "
        "assert r['success'], r; "
        "[api.receive(f'L{i:04d}', 10, 'B', reason='seed') for i in range(n)]"
    )
    subprocess.run([sys.executable, "-c", code, store, str(items)], check=True, env=env)


def atlas(store: str, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [ATLAS, "--db", store, *args], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"atlas {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def tokens(store: str, clients: int, env: dict[str, str]) -> list[str]:
    """Operator users (one per five clients) and a token each, through the CLI."""
    made = []
    for n in range((clients + CLIENTS_PER_USER - 1) // CLIENTS_PER_USER):
        atlas(store, env, "user", "add", f"scanner{n}", "--role", "operator")
        made.append(atlas(store, env, "token", "create", f"scanner{n}").strip())
    return made


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def server(store: str, env: dict[str, str], log: Path) -> Iterator[str]:
    port = free_port()
    with log.open("w") as out:
        process = subprocess.Popen(
            [ATLAS, "--db", store, "serve", "--port", str(port), "--log-format", "json"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise SystemExit(f"atlas serve exited {process.returncode}: {log.read_text()}")
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"atlas serve not ready in 30 s: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# Checks --------------------------------------------------------------------------------------


def check(store: str, env: dict[str, str], tally: Tally, items: int) -> list[str]:
    """What is wrong after the run ([]: nothing), from the real CLI's answers."""
    problems = list(tally.problems)
    fives = sum(n for counts in tally.status.values() for s, n in counts.items() if s >= 500)
    errors = sum(counts[0] for counts in tally.status.values())
    if fives:
        problems.append(f"{fives} answers were 5xx")
    if errors:
        problems.append(f"{errors} requests failed in transport")
    if tally.unanswered:
        problems.append(f"{len(tally.unanswered)} flaky changes never answered (409 after retries)")
    history = json.loads(atlas(store, env, "--json", "history", "--since", "2000-01-01"))
    movements = history["history"]
    by_reason = Counter(m["reason"] for m in movements)
    twice = [r for r in tally.acks if by_reason[r] != 1]
    problems += [f"acknowledged, {by_reason[r]} times in the history: {r}" for r in twice[:5]]
    made = [r for r in tally.refused if by_reason[r]]
    problems += [f"refused, yet in the history: {r}" for r in made[:5]]
    known = set(tally.acks) | tally.unanswered
    stray = [r for r in by_reason if r.startswith("bench-") and r not in known]
    problems += [f"in the history, never acknowledged: {r}" for r in stray[:5]]
    listed = json.loads(atlas(store, env, "--json", "list"))["items"]
    quantity = {item["sku"]: item["quantity"] for item in listed}
    expected = dict.fromkeys((f"L{i:04d}" for i in range(items)), SEED_QTY)
    for sku, delta in tally.acks.values():
        expected[sku] += delta
    sums: Counter[str] = Counter()
    for m in movements:
        sums[m["sku"]] += m["delta"]
    for sku, want in expected.items():
        if tally.unanswered:
            break  # an unanswered change may or may not be made: no exact figure to expect
        if quantity.get(sku) != want:
            problems.append(f"{sku} holds {quantity.get(sku)}, acknowledged changes say {want}")
    for sku, have in quantity.items():
        if sums[sku] != have:
            problems.append(f"{sku} holds {have}, its movements add up to {sums[sku]}")
    verified = json.loads(atlas(store, env, "--json", "verify"))
    if not verified["success"] or not verified["report"]["ok"]:
        problems.append(f"verify: {json.dumps(verified)[:300]}")
    return problems


# Baselines -----------------------------------------------------------------------------------


def healthz_rate(base: str, clients: int, seconds: float) -> float:
    """Requests/s of GET /healthz with the same number of clients: the HTTP floor."""
    count = [0]
    lock = threading.Lock()
    sessions = [httpx.Client(base_url=base, timeout=60) for _ in range(clients)]

    def step(http: httpx.Client) -> None:
        http.get("/healthz").raise_for_status()
        with lock:
            count[0] += 1

    wall, _ = run_clients(sessions, seconds, step)
    for http in sessions:
        http.close()
    return count[0] / wall


def in_process(store: str, clients: int, seconds: float, items: int) -> tuple[float, Tally]:
    """The same mix through AtlasAPI over one shared service, one thread per client."""
    from atlas_tui.api import AtlasAPI
    from atlas_tui.config import Settings
    from atlas_tui.domain.access import Role
    from atlas_tui.factory import make_service

    settings = Settings.from_env(storage_path=store)
    service = make_service(settings=settings)
    tally = Tally()

    class Direct:
        def __init__(self, number: int) -> None:
            acting = service.acting_as(f"scanner{number // CLIENTS_PER_USER}", Role.OPERATOR)
            self.api = AtlasAPI.over(acting, settings)
            self.rng = random.Random(number)
            self.name, self.n, self.page = f"c{number}", 0, 0

    def step(me: Direct) -> None:
        kind = me.rng.choices(list(MIX), weights=list(MIX.values()))[0]
        sku = pick_sku(me.rng, items)
        api = me.api
        start = time.perf_counter()
        if kind == "list":
            found = api.list_items()  # what GET /items pages from
            me.page = (me.page + 1) % max(1, items // 50)
            envelope = {"success": found["success"]}
        elif kind == "get":
            envelope = api.get_item(sku)
        elif kind == "movements":
            envelope = api.history(sku)
        else:
            me.n += 1
            reason = f"bench-{me.name}-{me.n}-{kind}"
            path, body, _ = make_change(kind, sku, reason, me.rng)
            if path == "adjust":
                envelope = api.adjust_quantity(sku, body["delta"], reason)
            elif path == "receive":
                envelope = api.receive(sku, body["quantity"], body["location"], reason=reason)
            elif path == "pick":
                envelope = api.pick(sku, body["quantity"], reason=reason)
            else:
                envelope = api.transfer(sku, 1, body["source"], body["target"], reason=reason)
        status = 200 if envelope["success"] else 422
        if not envelope["success"] and envelope.get("error_type") not in ("validation", "conflict"):
            status = 500
            tally.problem(f"in-process {kind}: {envelope.get('error')}")
        tally.seen(kind, time.perf_counter() - start, status)

    wall, _ = run_clients([Direct(n) for n in range(clients)], seconds, step)
    service.repository.close()
    return tally.requests / wall, tally


# One run -------------------------------------------------------------------------------------


def report(tally: Tally, wall: float, title: str) -> None:
    print(f"  {title}: {tally.requests} requests in {wall:.1f} s = {tally.requests / wall:.1f}/s")
    print(f"    {'kind':<12}{'n':>7}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}  statuses")
    for kind in ["first", *MIX, "replay", "flaky-first", "flaky-retry"]:
        times = tally.latency.get(kind)
        if not times:
            continue
        statuses = " ".join(f"{s}:{n}" for s, n in sorted(tally.status[kind].items()))
        p50, p90, p99 = (1000 * percentile(times, q) for q in (0.5, 0.9, 0.99))
        print(f"    {kind:<12}{len(times):>7}{p50:>9.1f}{p90:>9.1f}{p99:>9.1f}  {statuses}")


def one(backend: str, args: argparse.Namespace) -> bool:
    print(f"\n== {backend}{' + 2 CPU hogs' if args.hogs else ''}: {args.clients} clients, "
          f"{args.seconds:g} s, {args.items} items", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="atlas-serve-bench-") as tmp:
        folder = Path(tmp)
        env = {
            **os.environ,
            "HOME": str(folder),
            "XDG_DATA_HOME": str(folder / "data"),
            "XDG_CONFIG_HOME": str(folder / "config"),
            "XDG_CACHE_HOME": str(folder / "cache"),
            "ATLAS_CONFIG": str(folder / "config.toml"),
            "NO_COLOR": "1",
        }
        env.pop("ATLAS_STORAGE_PATH", None)
        env.pop("ATLAS_ROLE", None)
        os.environ.update({k: env[k] for k in ("HOME", "XDG_DATA_HOME", "ATLAS_CONFIG")})
        with (
            store_of(backend, folder, args.url, "served") as store,
            store_of(backend, folder, args.url, "direct") as direct,
        ):
            seed(store, args.items, env)
            seed(direct, args.items, env)
            made = tokens(store, args.clients, env)
            tally = Tally()
            with hogs(args.hogs), server(store, env, folder / "serve.log") as base:
                floor = healthz_rate(base, args.clients, args.baseline_seconds)
                clients = [
                    HttpClient(base, made[n // CLIENTS_PER_USER], n, args.items, tally)
                    for n in range(args.clients)
                ]
                wall, cpu = run_clients(clients, args.seconds, HttpClient.step, HttpClient.first)
                for client in clients:
                    client.http.close()
            with hogs(args.hogs):
                base_rate, base_tally = in_process(
                    direct, args.clients, args.baseline_seconds, args.items
                )
            rate = tally.requests / wall
            load = "/".join(f"{n:.1f}" for n in os.getloadavg())
            print(f"  load average after the run (1/5/15 min): {load}")
            report(tally, wall, "HTTP (atlas serve)")
            print(f"    client process CPU: {cpu:.1f} s of {wall:.1f} s")
            report(base_tally, args.baseline_seconds, "in-process AtlasAPI, same threads")
            print(f"  GET /healthz: {floor:.1f}/s")
            print(
                f"  ratios: HTTP mix / in-process mix = {rate / base_rate:.2f}; "
                f"HTTP mix / healthz = {rate / floor:.2f}; "
                f"acknowledged changes {len(tally.acks)} of {tally.sent} sent, "
                f"{len(tally.refused)} refused, "
                f"{len(tally.latency['replay'])} replays"
            )
            problems = check(store, env, tally, args.items)
            problems += [f"in-process: {p}" for p in base_tally.problems]
    if problems:
        print("  CHECKS FAILED:")
        for problem in problems:
            print(f"    - {problem}")
        return False
    print(
        "  checks: ok (0 5xx; every acknowledged change once in the history, none refused "
        "or unacknowledged; quantities = seed + acknowledged = sum of movements; verify ok)"
    )
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--backend", choices=["tinydb", "sqlite", "postgresql", "all"], default="tinydb"
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--baseline-seconds", type=float, default=10.0)
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--hogs", action="store_true", help="two CPU hogs beside the run")
    parser.add_argument("--url", default=os.environ.get("ATLAS_TEST_POSTGRES_URL") or DEFAULT_URL)
    args = parser.parse_args()
    if args.items < HOT:
        parser.error(f"--items: at least {HOT}")
    backends = ["tinydb", "sqlite", "postgresql"] if args.backend == "all" else [args.backend]
    print(f"{os.cpu_count()} CPUs; httpx {httpx.__version__}; PostgreSQL at "
          f"{args.url.rpartition('@')[2]}")  # fmt: skip
    results = {backend: one(backend, args) for backend in backends}
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
