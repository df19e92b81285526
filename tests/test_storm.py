"""A storm on one store: API and CLI writers (adjust, move, add, delete, import, count
sessions) while backups, restores and migrations run, all in separate processes at once.
Both backends (the `db` fixture is parametrised).

What must hold afterwards, exactly:

- Every operation records movements under a reason of its own, so each can be found in
  any store. Restore k holds the lock from L_k to U_k (somewhere inside its command's run)
  and keeps the data as at L_k, and nothing commits in between: the store's life is a
  chain of epochs (U_(k-1), L_k), each ending in restore k's kept copy, the last one in
  the final store. An acknowledged operation committed between its call and its return,
  so all its movements (never part of them) are in a store whose epoch overlaps that
  interval; a refused one's are in no store at all.
- Every store (final, kept, migrated, backed up) passes `verify`: each quantity is the sum
  its history says, so counters hold exactly their acknowledged adjusts of their epochs.
- Every count movement applied its session's difference to the stock as it was at its
  commit (CLI writers keep adjusting the API writers' counted items meanwhile).
- Sessions live outside the data (no restore touches them): each holds the last count
  acknowledged for it, and is applied exactly when its apply was acknowledged.

The size is counted in operations: maintenance runs after every STEP acknowledged changes,
and writers go on until it is all done and they did their minimum of cycles.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

import pytest
from support import run_atlas
from test_whole_store import Ack, AckReader, Window, report, unaccounted, writers

from atlas_tui.api import AtlasAPI
from atlas_tui.factory import make_service

API_WRITERS, CLI_WRITERS = 2, 1
API_CYCLES, CLI_CYCLES = 12, 2  # at least; each cycle is 9 operations
RESTORES, MIGRATIONS, BACKUPS = 3, 3, 4
STEP = 25  # acknowledged changes before each maintenance run

Envelope = dict[str, Any]


# On a loaded machine a writer may wait long for its turn: it must get it, not "busy".
pytestmark = pytest.mark.usefixtures("patient_writers")


def _names() -> list[str]:
    return [f"a{n}" for n in range(API_WRITERS)] + [f"c{n}" for n in range(CLI_WRITERS)]


def _setup(db: Path) -> None:
    rows: list[dict[str, Any]] = [{"sku": "HOT", "name": "shared"}]
    for me in _names():
        rows += [
            {"sku": f"{me}-C", "name": "counter"},
            {"sku": f"{me}-M", "name": "mover", "location": "L0"},
            {"sku": f"{me}-K", "name": "counted", "location": f"CNT-{me}", "quantity": 20},
        ]
    rows += [{"sku": f"B-{n}", "name": "ballast " * 8, "quantity": n} for n in range(300)]
    service = make_service(db)
    service.add_many(rows)
    service.repository.close()


def _one(envelope: Envelope) -> int:
    return 1


def _none(envelope: Envelope) -> int:
    return 0


def _imported(envelope: Envelope) -> int:
    return int(envelope["import"]["added"] + envelope["import"]["updated"])


def _applied(envelope: Envelope) -> int:
    return len(envelope["applied"]["changes"])


class Cycle:
    """One writer's operations; `call(tag, ...)` returns the envelope of the API or CLI."""

    def __init__(self, db: str, me: str, pipe: int) -> None:
        self.db, self.me, self.pipe = Path(db), me, pipe
        self.rng = random.Random(me)
        self.folder = self.db.parent / "imports"
        self.folder.mkdir(exist_ok=True)

    def op(
        self,
        tag: str,
        call: Callable[[], Envelope],
        movements: Callable[[Envelope], int] = _one,
        note: Callable[[Envelope], str] = lambda envelope: "",
    ) -> Envelope:
        start = time.monotonic_ns()
        envelope = call()
        made = movements(envelope) if envelope["success"] else 0
        report(self.pipe, tag, start, made, note(envelope) if envelope["success"] else "refused")
        return envelope

    def run(self, n: int, do: Callable[..., Callable[[], Envelope]], other: str) -> None:
        """Cycle n: the same nine operations for API and CLI writers (`do` builds calls)."""
        me, t = self.me, f"{self.me}-{n}"
        self.op(f"{t}-adjust", do("adjust", f"{me}-C", 1, f"{t}-adjust"))
        self.op(f"{t}-adjust-K", do("adjust", f"{other}-K", 1, f"{t}-adjust-K"))
        self.op(f"{t}-hot", do("adjust", "HOT", 1, f"{t}-hot"))
        self.op(f"{t}-add", do("add", f"{me}-N{n}", f"{t}-add"))
        self.op(f"{t}-move", do("move", f"{me}-M", f"L{n}", f"{t}-move"))
        self.op(f"{t}-delete", do("delete", f"{me}-N{n - 1}", f"{t}-delete"))
        csv = self.folder / f"{t}.csv"
        csv.write_text(f"sku,name,quantity\n{me}-I{n},imported,{n}\n{me}-M,mover,{n}\n")
        self.op(f"{t}-import", do("import", csv, f"{t}-import"), _imported)
        started = self.op(f"{t}-start", do("start", f"CNT-{me}", f"{t}-count"), _none)
        if not started["success"]:
            return
        number = started["session"]["id"]
        counted = self.rng.randrange(40)
        self.op(
            f"{t}-record",
            do("record", number, f"{me}-K", counted),
            _none,
            lambda _: f"session={number} counted={counted}",
        )
        self.op(f"{t}-count", do("apply", number), _applied, lambda _: f"session={number} applied")


def _api_calls(api: AtlasAPI) -> Callable[..., Callable[[], Envelope]]:
    def do(what: str, *args: Any) -> Callable[[], Envelope]:
        calls: dict[str, Callable[[], Envelope]] = {
            "adjust": lambda: api.adjust_quantity(args[0], args[1], args[2]),
            "add": lambda: api.add_item(args[0], "storm item", quantity=3, reason=args[1]),
            "move": lambda: api.move_item(args[0], args[1], args[2]),
            "delete": lambda: api.delete_item(args[0], args[1]),
            "import": lambda: api.import_file(args[0], strict=True, reason=args[1]),
            "start": lambda: api.count_session_start(location=args[0], reason=args[1]),
            "record": lambda: api.count_session_record(args[0], args[1], args[2]),
            "apply": lambda: api.count_session_apply(args[0]),
        }
        return calls[what]

    return do


def _cli_calls(db: Path) -> Callable[..., Callable[[], Envelope]]:
    def command(what: str, *args: Any) -> list[str]:
        a = [str(arg) for arg in args]
        if what == "adjust":
            return ["adjust", "--sku", a[0], "--delta", a[1], "--reason", a[2]]
        if what == "add":
            return ["add", "--sku", a[0], "--name", "storm item", "--qty", "3", "--reason", a[1]]
        if what == "move":
            return ["move", "--sku", a[0], "--location", a[1], "--reason", a[2]]
        if what == "delete":
            return ["delete", "--sku", a[0], "--reason", a[1]]
        if what == "import":
            return ["import", a[0], "--strict", "--reason", a[1]]
        if what == "start":
            return ["count-session", "start", "--location", a[0], "--reason", a[1]]
        if what == "record":
            return ["count-session", "count", *a]
        return ["count-session", "apply", a[0]]

    def do(what: str, *args: Any) -> Callable[[], Envelope]:
        def call() -> Envelope:
            result = run_atlas("--json", *command(what, *args), db=db)
            assert result.code in (0, 1) and "Traceback" not in result.err, result.err
            envelope: Envelope = json.loads(result.out)
            assert envelope["success"] == (result.code == 0), result
            return envelope

        return call

    return do


def _api_writer(db: str, number: int, pipe: int, stop: Event) -> None:
    cycle = Cycle(db, f"a{number}", pipe)
    do = _api_calls(AtlasAPI(db))
    n = 0
    while n < API_CYCLES or not stop.is_set():
        n += 1
        cycle.run(n, do, other=f"a{(number + 1) % API_WRITERS}")


def _cli_writer(db: str, number: int, pipe: int, stop: Event) -> None:
    me = f"c{number - API_WRITERS}"
    cycle = Cycle(db, me, pipe)
    do = _cli_calls(Path(db))
    n = 0
    while n < CLI_CYCLES or not stop.is_set():
        n += 1
        cycle.run(n, do, other=f"a{n % API_WRITERS}")


class Maintenance:
    """Backups, restores and migrations, each in its own thread, paced by the writers."""

    def __init__(self, db: Path, acks: AckReader) -> None:
        self.db, self.acks = db, acks
        self.backups: list[Path] = []
        self.windows: list[Window] = []
        self.copies: list[Path] = []
        self._first_backup = threading.Event()

    def _atlas(self, *args: str) -> Envelope:
        result = run_atlas("--json", *args, db=self.db)
        assert result.code == 0, result.err
        envelope: Envelope = json.loads(result.out)
        return envelope

    def _pace(self) -> None:
        self.acks.wait_for(self.acks.done() + STEP)

    def backup(self) -> None:
        for _ in range(BACKUPS):
            self._pace()
            self.backups.append(Path(self._atlas("backup")["backup"]["path"]))
            self._first_backup.set()

    def restore(self) -> None:
        assert self._first_backup.wait(timeout=300)
        for _ in range(RESTORES):
            self._pace()
            source = self.backups[-1]
            start = time.monotonic_ns()
            restored = self._atlas("restore", "--yes", str(source))["restore"]
            self.windows.append(
                Window(start, time.monotonic_ns(), Path(restored["previous_data_kept_in"]))
            )

    def migrate(self) -> None:
        for k in range(MIGRATIONS):
            self._pace()
            target = self.db.parent / "copies" / f"copy-{k}{'.json' if k % 2 else '.sqlite'}"
            migrated = self._atlas("migrate", "--to", str(target))["migration"]
            assert migrated["to"] == str(target)
            self.copies.append(target)


def _count_movements_apply_their_difference(store: Path) -> int:
    checked = 0
    for m in make_service(store).repository.movements():
        if "session" in m.details:
            d = m.details
            assert (m.kind, m.delta) == ("count", d["difference"]), (store.name, m)
            assert (m.quantity_before, m.quantity_after) == (d["before"], d["after"]), m
            checked += 1
    return checked


def _sessions_hold_what_was_acknowledged(db: Path, acks: list[Ack]) -> int:
    take = make_service(db).stocktake
    expected: dict[int, dict[str, Any]] = {}
    for ack in acks:
        fields = dict(part.split("=") for part in ack.note.split() if "=" in part)
        if "session" in fields:
            entry = expected.setdefault(int(fields["session"]), {"applied": False})
            if "counted" in fields:
                entry["counted"] = int(fields["counted"])
            if "applied" in ack.note:
                entry["applied"] = True
    for number, entry in expected.items():
        session = take.get(number)
        assert session["status"] == ("applied" if entry["applied"] else "open"), session
        counts = [count["counted"] for count in session["counts"].values()]
        assert counts == ([entry["counted"]] if "counted" in entry else []), session
    return len(expected)


@pytest.mark.slow
def test_a_storm_of_writers_and_whole_store_operations_loses_nothing(db: Path) -> None:
    _setup(db)
    targets = [_api_writer] * API_WRITERS + [_cli_writer] * CLI_WRITERS
    with writers(db, targets) as (acks, _stop):
        maintenance = Maintenance(db, acks)
        with ThreadPoolExecutor(3) as pool:
            jobs = (maintenance.backup, maintenance.restore, maintenance.migrate)
            for run in [pool.submit(job) for job in jobs]:
                run.result()
        acks.wait_for(acks.done() + STEP)
    every = acks.join()
    windows = maintenance.windows
    problems = unaccounted(every, windows, db)
    assert not problems, f"{len(problems)} unaccounted, e.g. {problems[:3]}"
    kept = [window.kept for window in windows]
    stores = [db, *kept, *maintenance.copies, *maintenance.backups]
    for store in stores:
        checked = make_service(store).verify()
        assert checked["ok"], (store.name, checked["problems"][:3])
    counts = sum(_count_movements_apply_their_difference(store) for store in [db, *kept])
    sessions = _sessions_hold_what_was_acknowledged(db, every)
    done = [ack for ack in every if ack.movements]
    refused = sum(1 for ack in every if ack.note == "refused")
    print(
        f"{db.suffix}: {len(every)} operations by {len(targets)} writers: "
        f"{len(done)} acknowledged changes ({sum(a.movements for a in done)} movements) "
        f"accounted for, {refused} refused and {len(every) - len(done) - refused} without "
        f"movements checked absent; {len(windows)} restores, {len(maintenance.copies)} "
        f"migrations, {len(maintenance.backups)} backups; {len(stores)} stores verified; "
        f"{counts} count movements and {sessions} sessions checked"
    )
    assert len(windows) == RESTORES and len(maintenance.copies) == MIGRATIONS
    assert len(done) >= (max(RESTORES, MIGRATIONS, BACKUPS) + 1) * STEP
