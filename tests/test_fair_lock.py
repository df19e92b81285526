"""The writers' lock serves waiters in arrival order, and nobody's death or impatience
blocks the rest (issue 11, "fair and short locks").

Real processes (fork) take the real lock; a waiter has arrived once the queue's ticket
counter counts it, so the order is set by the test, never by sleeps.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

import pytest
from support import Start, poll

from atlas_tui.domain.errors import BusyError
from atlas_tui.storage.files import QUEUE_NAME, FileLock


def _tickets(folder: Path) -> int:
    """How many waiters have taken a ticket in the folder's queue so far."""
    raw = (folder / QUEUE_NAME).read_bytes()[:8] if (folder / QUEUE_NAME).exists() else b""
    return int.from_bytes(raw, "little") if len(raw) == 8 else 0


def _hold(path: Path, talk: Connection) -> None:
    """Take the lock, say so, keep it until told."""
    lock = FileLock(path, 60)
    lock.acquire()
    talk.send("holding")
    talk.recv()
    lock.release()
    talk.send("released")


def _take_and_log(path: Path, log: Path, name: str, timeout: float, talk: Connection) -> None:
    """Wait for the lock, write `name` to the log while holding it, let it go."""
    lock = FileLock(path, timeout)
    try:
        lock.acquire()
    except BusyError as exc:
        talk.send(f"busy: {exc}")
        return
    with log.open("a") as out:
        out.write(name + "\n")
    lock.release()
    talk.send("done")


def _queue_behind(folder: Path, target: Callable[[], None]) -> None:
    """Run `target` (which starts a waiter) and return once that waiter holds a ticket."""
    before = _tickets(folder)
    target()
    poll(lambda: _tickets(folder) > before, "the waiter to queue")


def test_waiters_get_the_lock_in_the_order_they_arrived(tmp_path: Path, start: Start) -> None:
    path, log = tmp_path / "data.lock", tmp_path / "order.log"
    holder, _ = start(_hold, path)
    assert holder.recv() == "holding"
    waiters = []
    for name in ["first", "second", "third", "fourth", "fifth"]:
        _queue_behind(
            tmp_path, lambda n=name: waiters.append(start(_take_and_log, path, log, n, 60)[0])
        )
    holder.send("go")
    assert holder.recv() == "released"
    assert [waiter.recv() for waiter in waiters] == ["done"] * 5
    assert log.read_text().split() == ["first", "second", "third", "fourth", "fifth"]


def test_a_timeout_names_the_holder_and_the_lock_still_works(tmp_path: Path, start: Start) -> None:
    path, log = tmp_path / "data.lock", tmp_path / "order.log"
    holder, process = start(_hold, path)
    assert holder.recv() == "holding"
    impatient, _ = start(_take_and_log, path, log, "impatient", 0.2)
    answer = impatient.recv()
    assert answer.startswith("busy: data is busy (held by ")
    assert f"pid {process.pid} " in answer and "try again" in answer
    # It gave up, but its place in the queue does not stop the next waiter.
    patient: list[Connection] = []
    _queue_behind(
        tmp_path, lambda: patient.append(start(_take_and_log, path, log, "patient", 60)[0])
    )
    holder.send("go")
    assert patient[0].recv() == "done"
    assert log.read_text().split() == ["patient"]


def test_an_abandoned_wait_in_this_process_lets_the_next_one_in(
    tmp_path: Path, start: Start
) -> None:
    path, log = tmp_path / "data.lock", tmp_path / "order.log"
    holder, _ = start(_hold, path)
    assert holder.recv() == "holding"
    mine = FileLock(path, 0.1)
    with pytest.raises(BusyError, match=r"data is busy \(held by .+ pid \d+"):
        mine.acquire()
    other: list[Connection] = []
    _queue_behind(tmp_path, lambda: other.append(start(_take_and_log, path, log, "other", 60)[0]))
    holder.send("go")
    assert other[0].recv() == "done"
    again = FileLock(path, 60)
    again.acquire()  # the abandoned wait has let go of everything it got
    again.release()
    assert log.read_text().split() == ["other"]


@pytest.mark.parametrize("killed", ["holder", "a waiter"])
def test_a_killed_holder_or_waiter_blocks_nobody(tmp_path: Path, start: Start, killed: str) -> None:
    path, log = tmp_path / "data.lock", tmp_path / "order.log"
    holder, holding = start(_hold, path)
    assert holder.recv() == "holding"
    started: list[tuple[Connection, multiprocessing.process.BaseProcess]] = []
    for name in ["doomed", "survivor"]:
        _queue_behind(
            tmp_path, lambda n=name: started.append(start(_take_and_log, path, log, n, 60))
        )
    (_, doomed), (survivor, _) = started
    victim = holding if killed == "holder" else doomed
    assert victim.pid is not None
    os.kill(victim.pid, signal.SIGKILL)
    victim.join()
    if killed == "a waiter":
        holder.send("go")
    assert survivor.recv() == "done"
    expected = ["doomed", "survivor"] if killed == "holder" else ["survivor"]
    assert log.read_text().split() == expected


def _hold_one_then_take_another(first: Path, second: Path, talk: Connection) -> None:
    outer = FileLock(first, 60)
    outer.acquire()
    talk.send("holding")
    talk.recv()
    inner = FileLock(second, 5)
    try:
        inner.acquire()
    except BusyError as exc:
        talk.send(f"busy: {exc}")
        outer.release()
        return
    inner.release()
    outer.release()
    talk.send("both")


def test_a_lock_taken_inside_another_never_waits_for_its_own_waiters(
    tmp_path: Path, start: Start
) -> None:
    """The sessions' lock around the data's: a process holding one lock of a folder takes a
    second one there even while another process queues for that second one."""
    sessions, data, log = tmp_path / "sessions.lock", tmp_path / "data.lock", tmp_path / "log"
    holder, _ = start(_hold_one_then_take_another, sessions, data)
    assert holder.recv() == "holding"
    waiter: list[Connection] = []
    _queue_behind(tmp_path, lambda: waiter.append(start(_take_and_log, data, log, "waiter", 60)[0]))
    holder.send("go")
    assert holder.recv() == "both"
    assert waiter[0].recv() == "done"
