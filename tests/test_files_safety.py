"""Files beside the data: nothing followed, nothing foreign removed, modes that share.

Issue 10, items 7, 8, 9, 13 and the file parts of 14. Everything runs against real
stores, real processes (fork, or the CLI in a subprocess) and real FIFOs and symlinks.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from pathlib import Path

import pytest
from support import BACKENDS, ROOT, Start, backend_of, run_atlas

from atlas_tui.domain.errors import AtlasError
from atlas_tui.factory import make_service
from atlas_tui.media import clear_index_memory, load_index, read_media_file
from atlas_tui.storage.files import QUEUE_NAME

VICTIM = b"precious: a colleague's file, not ATLAS's\n"


# 7. A lock file deleted or replaced while held ---------------------------------------------


def _hold_a_batch(db: Path, talk: Connection) -> None:
    service = make_service(db)
    with service.batch():
        service.adjust("A", 100)
        talk.send("holding")
        talk.recv()
    talk.send("committed")


def _adjust(db: Path, wait: str, talk: Connection) -> None:
    os.environ["ATLAS_LOCK_TIMEOUT"] = wait
    try:
        make_service(db).adjust("A", 100)
        talk.send("done")
    except AtlasError as exc:
        talk.send(f"{type(exc).__name__}: {exc}")


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_lock_file_removed_while_held_lets_no_second_writer_in(
    json_db: Path, start: Start, how: str
) -> None:
    make_service(json_db).add("A", "a", quantity=10)
    lock = json_db.with_name(json_db.name + ".lock")
    holder, _ = start(_hold_a_batch, json_db)
    assert holder.recv() == "holding"
    if how == "deleted":
        lock.unlink()
    else:
        spare = lock.with_name("spare")
        spare.write_bytes(b"")
        os.replace(spare, lock)
    try:
        # A writer that would wait 0.3 s gives up: the holder is still in its batch.
        assert start(_adjust, json_db, "0.3")[0].recv().startswith("BusyError: data is busy")
        # One that waits long enough gets in once the holder has committed.
        patient, _ = start(_adjust, json_db, "60")
    finally:
        holder.send("go")
    assert holder.recv() == "committed"
    assert patient.recv() == "done"
    service = make_service(json_db)
    assert service.get("A").quantity == 210
    assert [m.delta for m in service.history("A")] == [100, 100, 10]
    assert service.verify()["ok"]


# 8. Nothing followed: symlinks and FIFOs at the names of ATLAS's own files -----------------


def _counted(db: Path) -> Path:
    """A store holding A (10 units), with one open count session (#1)."""
    service = make_service(db)
    service.add("A", "a", quantity=10)
    service.stocktake.start()
    service.adjust("A", 1)
    return db


def _state(db: Path) -> tuple[object, ...]:
    service = make_service(db)
    return tuple(service.list_items()), tuple(service.history("A")), service.stocktake.get(1)


def _journal(db: Path) -> Path:
    [journal] = db.parent.glob(f"{db.name}.history-*.ndjson")
    return journal


PLANTED: dict[str, tuple[Callable[[Path], Path], tuple[str, ...], str]] = {
    # where, the command that must refuse, and the name the refusal uses
    "data lock": (
        lambda db: db.with_name(db.name + ".lock"),
        ("adjust", "--sku", "A", "--delta", "1"),
        "lock file",
    ),
    "journal": (_journal, ("adjust", "--sku", "A", "--delta", "1"), "history journal"),
    "sessions lock": (
        lambda db: db.with_name(db.name + ".counts.json.lock"),
        ("count-session", "count", "1", "A", "5"),
        "lock file",
    ),
    "sessions": (
        lambda db: db.with_name(db.name + ".counts.json"),
        ("count-session", "count", "1", "A", "5"),
        "count sessions file",
    ),
}


# SQLite keeps no lock file and no journal of its own.
CASES = [("tinydb", name) for name in PLANTED] + [
    ("sqlite", "sessions lock"),
    ("sqlite", "sessions"),
]


@pytest.mark.parametrize("plant", ["symlink", "fifo"])
@pytest.mark.parametrize(("backend", "name"), CASES)
def test_a_symlink_or_fifo_at_an_atlas_file_name_is_refused(
    tmp_path: Path, backend: str, name: str, plant: str
) -> None:
    where, command, what = PLANTED[name]
    counted = _counted(tmp_path / "data" / BACKENDS[backend])
    target = where(counted)
    victim = tmp_path / "victim.txt"
    victim.write_bytes(VICTIM)
    state = _state(counted)
    target.rename(tmp_path / "aside")
    if plant == "symlink":
        target.symlink_to(victim)
    else:
        os.mkfifo(target)
    result = run_atlas(*command, db=counted)  # a FIFO that were opened would hang: timeout
    problem = "is a symbolic link" if plant == "symlink" else "is not a regular file"
    assert result.code == 1
    assert result.err.count("\n") == 1 and result.err.startswith(
        f"error: {what} {target} {problem}"
    )
    assert victim.read_bytes() == VICTIM
    target.unlink()
    (tmp_path / "aside").rename(target)
    assert _state(counted) == state


def test_a_lock_file_with_other_names_is_never_truncated(json_db: Path, tmp_path: Path) -> None:
    make_service(json_db).add("A", "a")
    lock = json_db.with_name(json_db.name + ".lock")
    victim = tmp_path / "victim.txt"
    victim.write_bytes(VICTIM)
    lock.unlink()
    os.link(victim, lock)
    result = run_atlas("adjust", "--sku", "A", "--delta", "1", db=json_db)
    assert result.code == 1 and "has other names (hard links)" in result.err
    assert victim.read_bytes() == VICTIM


# 9. Cleanup removes only its own, abandoned temp files ---------------------------------------


def test_a_first_write_removes_only_its_own_abandoned_temps(json_db: Path) -> None:
    make_service(json_db).add("A", "a")
    folder = json_db.parent
    abandoned = folder / f".{json_db.name}.0123456789abcdef.tmp"
    sessions_temp = folder / f".{json_db.name}.counts.json.0123456789abcdef.tmp"
    live = folder / f".{json_db.name}.fedcba9876543210.tmp"
    for temp in (abandoned, sessions_temp, live):
        temp.write_bytes(b'{"half": ')
    writer = os.open(live, os.O_RDONLY)  # its writer is at work: it holds the temp's flock
    try:
        fcntl.flock(writer, fcntl.LOCK_EX)
        make_service(json_db).adjust("A", 1)  # a new service's first write cleans up
        assert not abandoned.exists()
        assert sessions_temp.exists() and live.exists()
    finally:
        os.close(writer)


def test_an_export_removes_its_own_leftovers_only(json_db: Path, tmp_path: Path) -> None:
    make_service(json_db).add("A", "a")
    out = tmp_path / "report.csv"
    abandoned = tmp_path / ".report.csv.0123456789abcdef.tmp"  # an export killed midway
    users = tmp_path / ".report.csv.old.tmp"  # in a user's folder: the user's own
    for path in (abandoned, users):
        path.write_text("half")
    assert run_atlas("export", "--out", str(out), db=json_db).code == 0
    assert not abandoned.exists() and users.read_text() == "half"


def _count_many(db: Path, session: int, times: int, talk: Connection) -> None:
    failures = []
    for _ in range(times):
        try:
            make_service(db).stocktake.record(session, "A", 1, add=True)
        except AtlasError as exc:
            failures.append(str(exc))
    talk.send(failures)


def _adjust_many(db: Path, times: int, talk: Connection) -> None:
    failures = []
    for _ in range(times):
        try:
            make_service(db).adjust("A", 1)  # each a new service: each write a first write
        except AtlasError as exc:
            failures.append(str(exc))
    talk.send(failures)


@pytest.mark.slow
def test_counting_beside_first_writes_never_loses_a_count(json_db: Path, start: Start) -> None:
    service = make_service(json_db)
    service.add("A", "a", quantity=10)
    session = service.stocktake.start()["id"]
    times = 60
    pipes = [start(_count_many, json_db, session, times)[0] for _ in range(2)]
    pipes += [start(_adjust_many, json_db, times)[0] for _ in range(2)]
    failures = [failure for pipe in pipes for failure in pipe.recv()]
    assert failures == []
    (count,) = make_service(json_db).stocktake.get(session)["counts"].values()
    counted = count["counted"]
    assert counted == 2 * times  # 240 operations in all, every one acknowledged and kept
    assert make_service(json_db).get("A").quantity == 10 + 2 * times


# 13. The media reader never waits on a FIFO ---------------------------------------------------


@pytest.fixture
def unblock() -> Iterator[list[Path]]:
    """FIFOs listed here get a writer at the end, so a reader stuck on one returns."""
    fifos: list[Path] = []
    yield fifos
    for fifo in fifos:
        with contextlib.suppress(OSError):  # ENXIO: nobody is waiting on it
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


def _in_a_thread(call: Callable[[], object]) -> list[object]:
    """Run `call`; its result, or [] if it is still running after 20 s."""
    found: list[object] = []
    thread = threading.Thread(target=lambda: found.append(call()), daemon=True)
    thread.start()
    thread.join(timeout=20)
    return found


def test_the_media_reader_refuses_a_fifo_at_once(tmp_path: Path, unblock: list[Path]) -> None:
    fifo = tmp_path / "movie.nfo"
    os.mkfifo(fifo)
    unblock.append(fifo)
    [outcome] = _in_a_thread(lambda: read_media_file(str(fifo)))
    assert outcome.problems == ["not a regular file"] and not outcome.items  # type: ignore[attr-defined]


def test_a_file_swapped_for_a_fifo_after_the_walk_does_not_hang_a_search(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unblock: list[Path]
) -> None:
    monkeypatch.setenv("ATLAS_CACHE_DIR", str(tmp_path / "cache"))
    library = tmp_path / "library"
    library.mkdir()
    movie = library / "heat.json"
    movie.write_text(json.dumps({"title": "Heat", "year": 1995}))
    load_index(library)  # writes the cache
    # The cache's last section holds each file's items, checked only when a result needs
    # them; damaged, the search reads the file itself instead.
    [cache] = (tmp_path / "cache").rglob("index-*.bin")
    cached = cache.read_bytes()
    assert cached.endswith(b"]")
    cache.write_bytes(cached[:-1] + b"!")
    clear_index_memory()
    index = load_index(library)  # the walk sees a regular file, unchanged: the cache serves
    movie.unlink()
    os.mkfifo(movie)  # swapped between the walk and the read
    unblock.append(movie)
    [result] = _in_a_thread(lambda: index.search("Heat"))
    [match] = result.matches  # type: ignore[attr-defined]
    assert match.item.title.casefold() == "heat"  # what the index knows without the file


def test_atlas_find_skips_a_fifo_named_like_a_metadata_file(tmp_path: Path) -> None:
    library = tmp_path / "library"
    library.mkdir()
    (library / "heat.json").write_text(json.dumps({"title": "Heat", "year": 1995}))
    fifo = library / "movie.nfo"
    os.mkfifo(fifo)
    result = run_atlas("find", "heat", "--dir", str(library))
    assert result.code == 0 and "Heat" in result.out
    assert f"warning: skipped {fifo}: not a regular file" in result.err


# 14. Modes that follow the umask and the data file; read-only refused; backup leftovers ----

SHOW_MODES = """
import json, os, stat, sys
from pathlib import Path
from atlas_tui.factory import make_service
db = Path(sys.argv[1])
new = not db.exists()
service = make_service(db)
if new:
    service.add("A", "a", quantity=10)
service.stocktake.start()
service.adjust("A", 1)  # the connection stays open: SQLite's -wal and -shm are there
files = {p.name: p.lstat() for p in db.parent.iterdir() if stat.S_ISREG(p.lstat().st_mode)}
print(json.dumps({name: [info.st_mode & 0o7777, info.st_gid] for name, info in files.items()}))
"""


@pytest.fixture
def group() -> int:
    """A group this process may give files, other than its own."""
    if os.geteuid() == 0:
        return 4242  # root may give files any group
    others = set(os.getgroups()) - {os.getegid()}
    if not others:
        pytest.skip("needs membership in a second group")
    return min(others)


def _modes_of_a_new_store(db: Path, umask: int) -> dict[str, list[int]]:
    done = subprocess.run(
        [sys.executable, "-c", SHOW_MODES, str(db)],
        capture_output=True,
        text=True,
        umask=umask,
        timeout=60,
        cwd=ROOT,
        check=True,
    )
    modes: dict[str, list[int]] = json.loads(done.stdout)
    return modes


def test_a_new_store_in_a_group_folder_is_group_writable(db: Path, group: int) -> None:
    db.parent.mkdir()
    os.chown(db.parent, -1, group)
    os.chmod(db.parent, 0o2775)  # setgid: new files take the folder's group
    modes = _modes_of_a_new_store(db, 0o002)
    expected = {db.name, f"{db.name}.counts.json", f"{db.name}.counts.json.lock", f"{db.name}.lock"}
    expected.add(QUEUE_NAME)
    expected |= (
        {f"{db.name}-wal", f"{db.name}-shm"} if backend_of(db) == "sqlite" else {_journal(db).name}
    )
    assert set(modes) == expected
    assert {name: tuple(mode) for name, mode in modes.items()} == dict.fromkeys(
        expected, (0o664, group)
    )


def test_lock_and_session_files_take_the_data_files_mode_and_group(db: Path, group: int) -> None:
    make_service(db).add("A", "a", quantity=10)
    made = [f"{db.name}.counts.json", f"{db.name}.counts.json.lock"]
    if backend_of(db) == "tinydb":
        made.append(f"{db.name}.lock")
        db.with_name(made[-1]).unlink()
    os.chown(db, -1, group)
    os.chmod(db, 0o660)
    modes = _modes_of_a_new_store(db, 0o022)  # the umask alone would give 0644
    assert {name: tuple(modes[name]) for name in made} == dict.fromkeys(made, (0o660, group))


def test_a_read_only_data_file_is_refused_not_replaced(db: Path) -> None:
    make_service(db).add("A", "a", quantity=10)
    os.chmod(db, 0o444)
    before, inode = db.read_bytes(), db.stat().st_ino
    result = run_atlas("adjust", "--sku", "A", "--delta", "1", db=db)
    assert result.code == 1 and result.err.count("\n") == 1
    assert str(db) in result.err and ("is read-only" in result.err or "readonly" in result.err)
    assert db.read_bytes() == before and db.stat().st_ino == inode
    assert stat.S_IMODE(db.stat().st_mode) == 0o444
    assert run_atlas("show", "--sku", "A", db=db).code == 0  # reading it is fine
    assert run_atlas("backup", db=db).code == 0  # and so is keeping a copy


def test_a_backup_removes_what_killed_backups_left(db: Path) -> None:
    make_service(db).add("A", "a")
    backups = db.parent / "backups"
    backups.mkdir()
    suffix = ".sqlite" if backend_of(db) == "sqlite" else ".json"
    stem, killed = db.stem, "20260101T000000000000Z"
    leftovers = [
        backups / f".{stem}-{killed}{suffix}.0123456789abcdef.tmp",
        backups / f".{stem}-{killed}{suffix}.0123456789abcdef.tmp-journal",
        backups / f".{stem}-{killed}{suffix}.00000000000000aa.tmp-journal",  # its temp gone
    ]
    if suffix == ".sqlite":
        leftovers.append(backups / f".{stem}-{killed}{suffix}.4242.tmp")  # as versions before
    foreign = [
        backups / "notes.tmp",
        backups / f".other-{killed}{suffix}.0123456789abcdef.tmp",
        backups / f".{stem}-{killed}{suffix}.tmp",
    ]
    live = backups / f".{stem}-{killed}{suffix}.fedcba9876543210.tmp"
    for path in [*leftovers, *foreign, live]:
        path.write_bytes(b"half a backup")
    writer = os.open(live, os.O_RDONLY)
    try:
        fcntl.flock(writer, fcntl.LOCK_EX)  # a backup still being written
        assert run_atlas("backup", db=db).code == 0
    finally:
        os.close(writer)
    left = {path.name for path in backups.iterdir()}
    assert not left & {path.name for path in leftovers}
    assert {path.name for path in [*foreign, live]} <= left
    [made] = [name for name in left if not name.startswith(".") and name != "notes.tmp"]
    assert made.startswith(f"{stem}-") and made.endswith(suffix)
