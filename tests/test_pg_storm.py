"""PostgreSQL under load and faults: 32 client processes on one store over TCP, and the
server stopped hard in the middle of a storm.

Clients are processes as users run them: the CLI (`python -m atlas_tui --db URL ...`, a
process per operation) and scripts of the Python API (AtlasAPI, or a service of
factory.make_service) adjusting in a loop. Each does a fixed number of operations and
reports every one on a pipe (test_whole_store's `writers`) with the reason it gave, unique
to it, so that its movements can be found in the history afterwards.

Storm, exactly afterwards:
- every acknowledged operation has all its movements in the history, once, and every
  movement there is an acknowledged operation's (or the setup's); nothing was refused;
- every quantity is the sum of its movements, counters hold their acknowledged adjusts
  (less the undone ones) and `atlas verify` passes;
- every backup passes verify and holds each change acknowledged before it was asked for,
  none begun after it returned, and the others whole or not at all;
- count sessions hold what was acknowledged for them.

Kill: a private server (a cluster of its own in a temporary folder, on a free port) is
stopped with `pg_ctl stop -m immediate` while clients write, at a moment one COMMIT is in
flight (the server is made to sleep in it), and started again. Afterwards every
acknowledged change is there once, none reported "nothing was changed" is, nor the cut
one; clients said "database unreachable ..." in one line (scripts print nothing else),
and every attempt begun once the server answered again succeeded.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pg_support import PgStore, PrivateServer, fresh_store
from support import poll, run_atlas
from test_storm import _count_movements_apply_their_difference, _sessions_hold_what_was_acknowledged
from test_whole_store import Ack, report, writers

from atlas_tui.api import AtlasAPI
from atlas_tui.domain.models import Movement, sku_key
from atlas_tui.factory import make_service

CLI_WORKERS, API_WORKERS = 4, 28
CLI_CYCLES = 1  # a cycle is 7 CLI processes: odd and even workers do different kinds
API_LOOPS = 12  # each loop is 2 adjusts
BALLAST = 200

Envelope = dict[str, Any]

# On a loaded machine a writer may wait long for its turn: it must get it, not "busy".
pytestmark = pytest.mark.usefixtures("patient_writers")


@pytest.fixture
def pg() -> Iterator[PgStore]:
    """A store in a fresh schema of the test server."""
    with fresh_store() as store:
        yield store


def _setup(db: str, cli: list[str], api: list[str]) -> int:
    """The items every worker writes; returns how many movements the setup made."""
    rows: list[dict[str, Any]] = [{"sku": "HOT", "name": "shared"}]
    for me in cli:
        rows += [
            {"sku": f"{me}-C", "name": "counter"},
            {"sku": f"{me}-M", "name": "mover", "location": "L0"},
            {"sku": f"{me}-R", "name": "lots", "location": "R0"},
            {"sku": f"{me}-K", "name": "counted", "location": f"CNT-{me}", "quantity": 20},
        ]
    rows += [{"sku": f"{me}-C", "name": "counter"} for me in api]
    rows += [{"sku": f"B-{n}", "name": "ballast " * 8, "quantity": n} for n in range(BALLAST)]
    service = make_service(db)
    service.add_many(rows, reason="setup")
    made = len(service.repository.movements())
    service.repository.close()
    return made


# Storm workers ------------------------------------------------------------------------------


def _one(envelope: Envelope) -> int:
    return 1


def _none(envelope: Envelope) -> int:
    return 0


def _cli(db: str, me: str, *args: str) -> Envelope:
    result = run_atlas("--json", *args, db=db, env={"ATLAS_USER": me})  # type: ignore[arg-type]
    assert result.code in (0, 1) and "Traceback" not in result.err, result
    envelope: Envelope = json.loads(result.out)
    assert envelope["success"] == (result.code == 0), result
    return envelope


def _cli_worker(db: str, number: int, pipe: int, stop: Event) -> None:
    """CLI_CYCLES cycles of CLI writes, a process each, as user c<number>: the workers
    take every kind of write in turns (a person's whole cycle in one would make the run
    as long as 13 processes one after another)."""
    for n in range(1, CLI_CYCLES + 1):
        _cli_cycle(db, f"c{number}", n, pipe, number % 2)


def _cli_cycle(db: str, me: str, n: int, pipe: int, part: int) -> None:
    t = f"{me}-{n}"

    def op(
        step: str,
        args: list[str],
        movements: Callable[[Envelope], int] = _one,
        note: Callable[[Envelope], str] = lambda envelope: "",
    ) -> Envelope:
        start = time.monotonic_ns()
        envelope = _cli(db, me, *args)
        if envelope["success"]:
            report(pipe, f"{t}-{step}", start, movements(envelope), note(envelope))
        else:
            report(pipe, f"{t}-{step}", start, 0, "refused")
            print(f"{t}-{step}: {envelope['error']}", file=sys.stderr)
        return envelope

    def change(step: str, *args: str) -> None:
        op(step, [*args, "--reason", f"{t}-{step}"])

    change("hot", "adjust", "--sku", "HOT", "--delta", "1")
    if part:
        _cli_stocktake_and_more(t, me, n, op, change)
        return
    change("add", "add", "--sku", f"{me}-N{n}", "--name", "new", "--qty", "3", "--location", "L0")
    change("adjust", "adjust", "--sku", f"{me}-C", "--delta", "1")
    op(
        "undo",
        ["undo", "--yes"],
        lambda e: len(e["undone"]["movements"]),
        lambda e: "undoes=" + ",".join(str(m["id"]) for m in e["undone"]["movements"]),
    )
    lot = ["--lot", f"LOT{n}", "--expiry", f"2030-01-{n:02d}"]
    change("receive", "receive", "--sku", f"{me}-R", "--qty", "5", "--location", "R1", *lot)
    change("pick", "pick", "--sku", f"{me}-R", "--qty", "2")
    change("transfer", "transfer", "--sku", f"{me}-R", "--qty", "1", "--from", "R1", "--to", "R2")


def _cli_stocktake_and_more(
    t: str, me: str, n: int, op: Callable[..., Envelope], change: Callable[..., None]
) -> None:
    change("move", "move", "--sku", f"{me}-M", "--location", f"L{n}")
    csv = Path(os.environ["HOME"]) / f"{t}.csv"
    csv.write_text(f"sku,name,quantity\n{me}-I{n},imported,{n}\n{me}-M,mover,{n + 5}\n")
    op(
        "import",
        ["import", str(csv), "--strict", "--reason", f"{t}-import"],
        lambda e: int(e["import"]["added"] + e["import"]["updated"]),
    )
    start = ["count-session", "start", "--location", f"CNT-{me}", "--reason", f"{t}-count"]
    started = op("start", start, _none)
    session = started["session"]["id"] if started["success"] else 0
    counted = (int(me[1:]) * 7 + n) % 40
    op(
        "record",
        ["count-session", "count", str(session), f"{me}-K", str(counted)],
        _none,
        lambda _: f"session={session} counted={counted}",
    )
    op(
        "count",
        ["count-session", "apply", str(session)],
        lambda e: len(e["applied"]["changes"]),
        lambda _: f"session={session} applied",
    )
    op("backup", ["backup"], _none, lambda e: f"backup={e['backup']['path']}")


def _api_worker(db: str, number: int, pipe: int, stop: Event) -> None:
    """API_LOOPS times: its own counter +1, the shared HOT +1; through AtlasAPI (odd
    numbers) or a service of make_service (even: an error would end the process)."""
    me = f"a{number - CLI_WORKERS}"
    os.environ["ATLAS_USER"] = me
    if number % 2:
        api = AtlasAPI(db)

        def adjust(sku: str, tag: str) -> bool:
            envelope = api.adjust_quantity(sku, 1, tag)
            if not envelope["success"]:
                print(f"{tag}: {envelope['error']}", file=sys.stderr)
            return bool(envelope["success"])
    else:
        service = make_service(db)

        def adjust(sku: str, tag: str) -> bool:
            service.adjust(sku, 1, tag)
            return True

    for n in range(API_LOOPS):
        for sku, step in ((f"{me}-C", "adjust"), ("HOT", "hot")):
            tag, start = f"{me}-{n}-{step}", time.monotonic_ns()
            ok = adjust(sku, tag)
            report(pipe, tag, start, 1 if ok else 0, "" if ok else "refused")


# What the history must say ------------------------------------------------------------------


def _undone(ack: Ack) -> list[int]:
    return [int(n) for n in ack.note.removeprefix("undoes=").split(",")] if ack.movements else []


def _history_accounts_for_every_ack(history: list[Movement], acks: list[Ack], setup: int) -> None:
    """Each acknowledged operation's movements are there once; there is nothing else."""
    by_reason = Counter(m.reason for m in history)
    undoing = Counter(n for m in history for n in m.details.get("undoes", []))
    by_id = {m.id: m for m in history}
    assert len(by_id) == len(history), "movement ids repeat"
    problems = []
    for ack in acks:
        if ack.tag.endswith("-undo"):
            for n in _undone(ack):
                if undoing[n] != 1 or by_id[n].reason != ack.tag.replace("-undo", "-adjust"):
                    problems.append(f"{ack.tag}: #{n} undone {undoing[n]} times")
        elif by_reason[ack.tag] != ack.movements:
            problems.append(f"{ack.tag}: {by_reason[ack.tag]} movements, not {ack.movements}")
    assert not problems, f"{len(problems)} unaccounted, e.g. {problems[:5]}"
    acknowledged = sum(ack.movements for ack in acks)
    assert by_reason["setup"] == setup
    assert len(history) == setup + acknowledged, "movements no acknowledged operation made"


def _quantities_are_their_movements(db: str) -> int:
    """Each item's movements chain from nothing to its quantity, step by step."""
    service = make_service(db)
    chains: dict[str, list[Movement]] = {}
    for m in service.repository.movements():
        chains.setdefault(sku_key(m.sku), []).append(m)
    checked = 0
    for item in service.repository.items():
        chain = chains[sku_key(item.sku)]
        start = max(i for i, m in enumerate(chain) if m.kind == "add")
        after = 0
        for m in chain[start:]:
            assert m.quantity_before == (after if m.kind != "add" else 0), m
            assert m.quantity_after - m.quantity_before == m.delta or m.kind == "add", m
            after = m.quantity_after
        assert after == item.quantity, (item.sku, after, item.quantity)
        checked += 1
    service.repository.close()
    return checked


def _backups_hold_one_moment(acks: list[Ack]) -> int:
    """Each backup: verified, with every change acknowledged before it was asked for, none
    begun after it returned, and those in between whole or absent."""
    backups = [ack for ack in acks if ack.tag.endswith("-backup") and ack.note]
    changes = [ack for ack in acks if ack.movements and not ack.tag.endswith("-undo")]
    for backup in backups:
        path = Path(backup.note.removeprefix("backup="))
        service = make_service(path)
        checked = service.verify()
        assert checked["ok"], (path.name, checked["problems"][:3])
        found = Counter(m.reason for m in service.repository.movements())
        service.repository.close()
        for ack in changes:
            if ack.end < backup.start:
                assert found[ack.tag] == ack.movements, (path.name, ack)
            elif ack.start > backup.end:
                assert found[ack.tag] == 0, (path.name, ack)
            else:
                assert found[ack.tag] in (0, ack.movements), (path.name, ack)
    return len(backups)


@pytest.mark.slow
def test_a_storm_of_32_client_processes_loses_and_repeats_nothing(pg: PgStore) -> None:
    cli = [f"c{n}" for n in range(CLI_WORKERS)]
    api = [f"a{n}" for n in range(API_WORKERS)]
    setup = _setup(pg, cli, api)
    targets = [_cli_worker] * CLI_WORKERS + [_api_worker] * API_WORKERS
    with writers(pg, targets) as (acks, _stop):  # type: ignore[arg-type]
        pass
    every = acks.join()
    refused = [ack.tag for ack in every if ack.note == "refused"]
    assert not refused, f"{len(refused)} refused, e.g. {refused[:5]}"
    assert len(every) == CLI_WORKERS * CLI_CYCLES * 7 + API_WORKERS * API_LOOPS * 2

    service = make_service(pg)
    history = service.repository.movements()
    _history_accounts_for_every_ack(history, every, setup)
    done = Counter(ack.tag.rsplit("-", 1)[1] for ack in every if ack.movements)
    assert service.get("HOT").quantity == done["hot"]
    for me in api:
        assert service.get(f"{me}-C").quantity == API_LOOPS
    for me in cli:  # each cycle's adjust was undone
        assert service.get(f"{me}-C").quantity == 0
    service.repository.close()
    items = _quantities_are_their_movements(pg)
    backups = _backups_hold_one_moment(every)
    counts = _count_movements_apply_their_difference(pg)  # type: ignore[arg-type]
    sessions = _sessions_hold_what_was_acknowledged(pg, every)  # type: ignore[arg-type]
    verified = run_atlas("verify", db=pg)  # type: ignore[arg-type]
    assert verified.code == 0, verified
    print(
        f"{len(targets)} clients, {len(every)} operations ({dict(sorted(done.items()))}): "
        f"{len(history)} movements accounted for; {items} items add up; {backups} backups, "
        f"{counts} count movements, {sessions} sessions checked; verify passes"
    )


# The server stopped hard mid-storm ----------------------------------------------------------

KILL_CLI, KILL_API = 3, 5
KILL_CLI_OPS, KILL_API_OPS = 6, 30  # acknowledged changes each
# The change whose COMMIT the stop cuts: the server is made to take seconds over it.
CUT = "a0-10-0"
SLOW_COMMIT = f"""
CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN PERFORM pg_sleep(5); RETURN NULL; END $$;
CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON movements
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
  WHEN (NEW.reason = '{CUT}') EXECUTE FUNCTION slow_commit();
"""
UNREACHABLE = "database unreachable"


@dataclass(frozen=True)
class Attempt:
    """How an attempt at a change ended, as its client said."""

    done: bool
    outcome: str  # "" when done, else "unreachable" or "unknown" (lost in the commit)


def _outage(message: str) -> Attempt:
    assert message.startswith(UNREACHABLE) and "\n" not in message.strip(), message
    assert "Traceback" not in message, message
    if "unknown" in message:
        return Attempt(False, "unknown")
    return Attempt(False, "commit lost" if "during the commit" in message else "unreachable")


def _keep_trying(pipe: int, me: str, ops: int, change: Callable[[str, str], Attempt]) -> None:
    """`ops` changes acknowledged, alternately of its counter and HOT; an attempt the outage
    refused is reported and tried again, under a reason of its own."""
    for n in range(ops):
        sku = f"{me}-C" if n % 2 else "HOT"
        for attempt in range(1000):
            tag, start = f"{me}-{n}-{attempt}", time.monotonic_ns()
            result = change(sku, tag)
            report(pipe, tag, start, 1 if result.done else 0, result.outcome)
            if result.done:
                break
            time.sleep(0.1)  # a person or a script would not retry in a tight loop either
        else:
            raise AssertionError(f"{me}: never reconnected")


def _kill_cli_worker(db: str, number: int, pipe: int, stop: Event) -> None:
    """`atlas adjust` processes as a person runs them (plain output, not JSON)."""
    me = f"c{number}"

    def change(sku: str, tag: str) -> Attempt:
        args = ["adjust", "--sku", sku, "--delta", "1", "--reason", tag]
        result = run_atlas(*args, db=db, env={"ATLAS_USER": me})  # type: ignore[arg-type]
        if result.code == 0:
            return Attempt(True, "")
        assert result.out == "", result
        return _outage(result.err.removeprefix("error: "))

    _keep_trying(pipe, me, KILL_CLI_OPS, change)


def _kill_api_worker(db: str, number: int, pipe: int, stop: Event) -> None:
    """One AtlasAPI for the whole run: it must reconnect by itself."""
    me = f"a{number - KILL_CLI}"
    os.environ["ATLAS_USER"] = me
    errors = os.open(Path(os.environ["HOME"]) / f"{me}.stderr", os.O_WRONLY | os.O_CREAT)
    os.dup2(errors, 2)  # a script's stderr: nothing but what it prints itself
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115 (pytest replaced it)
    logging.getLogger().handlers.clear()  # and logging as a script has it (pytest's gone)
    api = AtlasAPI(db)

    def change(sku: str, tag: str) -> Attempt:
        envelope = api.adjust_quantity(sku, 1, tag)
        if envelope["success"]:
            return Attempt(True, "")
        assert envelope["error_type"] == "storage", envelope
        return _outage(envelope["error"])

    _keep_trying(pipe, me, KILL_API_OPS, change)


def _committing(url: str) -> bool:
    """Whether a COMMIT is running (CUT's: the server sleeps in it)."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE query = 'COMMIT' "
            "AND wait_event = 'PgSleep'"
        ).fetchone()
    return bool(row and row[0])


def _outages(acks: list[Ack], me: str) -> int:
    """How many times client `me` (or any whose name starts so) reported the outage."""
    return sum(1 for ack in acks if ack.note and ack.tag.startswith(me))


def _down_long_enough(acks: list[Ack]) -> bool:
    """A CLI client said so, and every API client but the one whose commit was cut (it
    waits for the server to tell what became of it) twice: their pools lost their
    connections and tried again in vain, and are let go or waiting to try again."""
    waiting = CUT.split("-")[0]
    others = [f"a{n}-" for n in range(KILL_API) if f"a{n}" != waiting]
    return _outages(acks, "c") > 0 and all(_outages(acks, me) >= 2 for me in others)


@pytest.mark.slow
def test_the_server_stopped_hard_mid_storm_loses_no_acknowledged_change(
    private_server: PrivateServer,
) -> None:
    store = PgStore(private_server.url, "atlas")
    clients = [f"c{n}" for n in range(KILL_CLI)] + [f"a{n}" for n in range(KILL_API)]
    rows: list[dict[str, Any]] = [{"sku": "HOT", "name": "shared"}]
    rows += [{"sku": f"{me}-C", "name": "counter"} for me in clients]
    service = make_service(store)
    service.add_many(rows, reason="setup")
    service.repository.close()
    with psycopg.connect(str(store), autocommit=True) as conn:
        conn.execute(SLOW_COMMIT.encode())
    targets = [_kill_cli_worker] * KILL_CLI + [_kill_api_worker] * KILL_API
    with writers(store, targets) as (acks, _stop):  # type: ignore[arg-type]
        poll(lambda: _committing(private_server.url), f"{CUT}'s commit")
        private_server.kill()
        # Down until clients of both kinds said so; then up while they keep trying.
        acks.wait_until(_down_long_enough, "clients reporting the outage")
        private_server.start()
        answering = time.monotonic_ns()
    every = acks.join()
    after = [ack for ack in every if ack.start > answering]
    failed_after = [f"{ack.tag}: {ack.note}" for ack in after if not ack.movements]
    assert not failed_after, f"refused once the server answered again: {failed_after[:5]}"

    service = make_service(store)
    found = Counter(m.reason for m in service.repository.movements())
    done = [ack for ack in every if ack.movements]
    unreachable = [ack for ack in every if ack.note in ("unreachable", "commit lost")]
    commits = sum(1 for ack in every if ack.note == "commit lost")
    unknown = [ack for ack in every if ack.note == "unknown"]
    assert len(done) == KILL_CLI * KILL_CLI_OPS + KILL_API * KILL_API_OPS
    assert [ack.tag for ack in done if found[ack.tag] != 1] == [], "acknowledged, not saved once"
    assert [ack.tag for ack in unreachable if found[ack.tag]] == [], "nothing changed, but saved"
    assert all(found[ack.tag] in (0, 1) for ack in unknown)
    cut = next(ack for ack in every if ack.tag == CUT)
    assert cut.note in ("commit lost", "unknown") and not found[CUT], cut
    saved_unknown = sum(found[ack.tag] for ack in unknown)
    assert sum(found.values()) == len(rows) + len(done) + saved_unknown
    on_counter: Counter[str] = Counter()
    on_hot = 0
    for ack in every:
        me, n, _attempt = ack.tag.split("-")
        if int(n) % 2:
            on_counter[me] += found[ack.tag]
        else:
            on_hot += found[ack.tag]
    assert service.get("HOT").quantity == on_hot
    for me in clients:
        assert service.get(f"{me}-C").quantity == on_counter[me], me
    verified = run_atlas("verify", db=store)  # type: ignore[arg-type]
    assert verified.code == 0, verified
    service.repository.close()
    for me in clients[KILL_CLI:]:
        assert (Path(os.environ["HOME"]) / f"{me}.stderr").read_text() == "", me
    saw = sorted({ack.tag.split("-")[0] for ack in every if ack.note})
    print(
        f"{len(targets)} clients: {len(done)} acknowledged changes, all saved once; "
        f"{len(unreachable)} attempts reported unreachable (by {', '.join(saw)}; {commits} "
        "of them in the commit), none saved; "
        f"{len(unknown)} lost in the commit ({saved_unknown} of them saved)"
    )
