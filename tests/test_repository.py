"""What every backend guarantees: atomic transactions, fresh reads, locking, backups.

Each test runs once per backend (the `db` fixture is parametrised).
"""

from __future__ import annotations

import dataclasses
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support import backend_of

from atlas_tui.config import Settings
from atlas_tui.domain.errors import BusyError, ValidationError
from atlas_tui.factory import make_service
from atlas_tui.services.inventory import InventoryService
from atlas_tui.services.maintenance import open_file
from atlas_tui.storage import TinyDBRepository, open_repository
from atlas_tui.storage.backups import list_backups

ALL_BACKENDS = True  # every `db` test here runs on PostgreSQL as well


def test_backend_is_chosen_by_the_file_name(db: Path) -> None:
    service = make_service(db)
    assert service.repository.backend == backend_of(db)


def test_nothing_is_created_by_reads_of_a_missing_file(db: Path) -> None:
    service = make_service(db)
    assert service.list_items() == []
    assert service.history("X") == []
    assert service.report()["total_items"] == 0
    assert not db.exists()


def test_a_failed_transaction_writes_nothing(widget: InventoryService, db: Path) -> None:
    before = db.read_bytes()
    with pytest.raises(ValidationError), widget.batch():
        widget.adjust("ITEM-001", -10)
        widget.add("NEW", "new")
        widget.adjust("ITEM-001", -1000)
    assert db.read_bytes() == before
    fresh = make_service(db)
    for service in (widget, fresh):
        assert service.get("ITEM-001").quantity == 100
        assert service.list_items(search="NEW") == []
        assert len(service.history("ITEM-001")) == 1


def test_a_batch_sees_its_own_changes_and_lands_whole(widget: InventoryService, db: Path) -> None:
    other = make_service(db)
    with widget.batch():
        widget.adjust("ITEM-001", -10)
        widget.add("NEW", "new", quantity=4)
        assert widget.get("new").quantity == 4
        assert other.get("ITEM-001").quantity == 100  # not visible outside before commit
    assert other.get("ITEM-001").quantity == 90
    assert [m.kind for m in other.history("new")] == ["add"]


def test_two_repositories_on_one_file_see_each_other(db: Path) -> None:
    first, second = make_service(db), make_service(db)
    first.add("A", "a", quantity=1)
    assert second.get("a").quantity == 1
    second.adjust("A", 4)
    first.adjust("A", 5)
    assert first.get("A").quantity == second.get("A").quantity == 10
    first.add("B", "b")
    second.add("C", "c")  # a stale id counter would overwrite B here
    assert [i.sku for i in first.list_items()] == ["A", "B", "C"]
    movements = first.repository.movements()
    assert [m.id for m in movements] == [1, 2, 3, 4, 5]
    assert second.repository.movement_count() == 5


@pytest.mark.files_only("file mode bits")
def test_file_mode_follows_the_existing_file(widget: InventoryService, db: Path) -> None:
    for mode in (0o664, 0o600):
        os.chmod(db, mode)
        widget.adjust("ITEM-001", 1)
        assert stat.S_IMODE(db.stat().st_mode) == mode


HOLDER = textwrap.dedent(
    """
    import sys
    from atlas_tui.factory import make_service
    service = make_service(sys.argv[1])
    with service.batch():
        service.adjust("ITEM-001", 1)
        print("holding", flush=True)
        sys.stdin.readline()
    """
)


def test_a_held_lock_times_out_with_a_clear_busy_error(widget: InventoryService, db: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "holding"
        impatient = dataclasses.replace(Settings.from_env(storage_path=db), lock_timeout=0.2)
        waiting = make_service(db, impatient)
        with pytest.raises(BusyError, match=r"data is busy \(held by .+\).*try again"):
            waiting.adjust("ITEM-001", 1)
    finally:
        assert process.stdin is not None
        process.stdin.write("\n")
        process.stdin.close()
        assert process.wait(timeout=30) == 0
    assert widget.get("ITEM-001").quantity == 101
    assert waiting.adjust("ITEM-001", 1).quantity == 102


def test_a_killed_lock_holder_does_not_block_others(widget: InventoryService, db: Path) -> None:
    holder = (
        "import os, sys\n"
        "from atlas_tui.factory import make_service\n"
        "s = make_service(sys.argv[1])\n"
        "with s.batch():\n"
        "    s.adjust('ITEM-001', 5)\n"
        "    os.kill(os.getpid(), 9)\n"
    )
    done = subprocess.run([sys.executable, "-c", holder, str(db)], timeout=30)
    assert done.returncode == -9
    assert widget.adjust("ITEM-001", 1).quantity == 101  # the killed batch never landed


def test_auto_backup_keeps_a_rotated_set(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATLAS_AUTO_BACKUP", "yes")
    monkeypatch.setenv("ATLAS_BACKUP_KEEP", "3")
    make_service(db).add("A", "a")  # nothing to back up before the very first write
    backups = db.parent / "backups"
    assert list_backups(db, backups) == []
    seen = []
    for n in range(5):
        seen.append(make_service(db).get("A").quantity)
        service = make_service(db)  # each process (write session) backs up once
        service.adjust("A", n + 1)
        service.adjust("A", 1)
    kept = list_backups(db, backups)
    assert len(kept) == 3
    settings = Settings.from_env()
    restored = [open_file(settings, path) for path in kept]
    assert [r.get("A").quantity for r in restored] == seen[-3:]  # type: ignore[union-attr]
    assert [len(r.movements()) for r in restored] == [1 + 2 * n for n in (2, 3, 4)]


def test_no_backups_unless_asked(db: Path) -> None:
    service = make_service(db)
    service.add("A", "a")
    service.adjust("A", 1)
    assert not (db.parent / "backups").exists()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ATLAS_MAX_ITEMS", "lots", "ATLAS_MAX_ITEMS: must be a whole number, got 'lots'"),
        ("ATLAS_MAX_ITEMS", "-1", "ATLAS_MAX_ITEMS: must be 0 or more"),
        ("ATLAS_AUTO_BACKUP", "maybe", "ATLAS_AUTO_BACKUP: must be one of"),
        ("ATLAS_LOCK_TIMEOUT", "soon", "ATLAS_LOCK_TIMEOUT: must be a number of seconds"),
    ],
)
def test_bad_settings_are_named(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(Exception, match=message):
        Settings.from_env()


def test_default_storage_path_is_in_the_user_data_dir(isolated_env: Path) -> None:
    settings = Settings.from_env()
    assert settings.storage_path == isolated_env / "data" / "atlas" / "atlas.json"
    assert open_repository(settings).path == settings.storage_path
    assert settings.backend == "tinydb"


@pytest.mark.parametrize(
    ("value", "path", "backend"),
    [
        ("/srv/a.sqlite", "/srv/a.sqlite", "sqlite"),
        ("/srv/a.db", "/srv/a.db", "sqlite"),
        ("/srv/a.SQLITE3", "/srv/a.SQLITE3", "sqlite"),
        ("sqlite:////srv/stock.db", "/srv/stock.db", "sqlite"),
        ("sqlite:////srv/stock", "/srv/stock.sqlite", "sqlite"),
        ("/srv/a.json", "/srv/a.json", "tinydb"),
    ],
)
def test_storage_path_picks_the_backend(
    monkeypatch: pytest.MonkeyPatch, value: str, path: str, backend: str
) -> None:
    monkeypatch.setenv("ATLAS_STORAGE_PATH", value)
    settings = Settings.from_env()
    assert (str(settings.storage_path), settings.backend) == (path, backend)


def test_latest_movements_are_the_end_of_the_history_newest_first(db: Path) -> None:
    service = make_service(db)
    service.add_many([{"sku": f"S-{n}", "name": "x", "quantity": n} for n in range(1, 40)])
    repository = service.repository
    if isinstance(repository, TinyDBRepository):
        repository.checkpoint()  # older movements in the checkpointed journal, newer after
    service.adjust("S-3", 2, "later")
    service.update("S-4", name="renamed")
    everything = service.history_since("2000-01-01")
    latest = make_service(db).latest_movements(10)  # another process's view
    assert [m.id for m in latest] == [m.id for m in everything[:10]]
    assert (latest[0].kind, latest[1].kind, latest[1].reason) == ("update", "adjust", "later")
    assert [m.id for m in service.latest_movements(1000)] == [m.id for m in everything]
    assert service.latest_movements(0) == []
    with service.batch():  # inside a transaction, its own movements come first
        service.adjust("S-5", 1)
        assert [m.sku for m in service.latest_movements(2)] == ["S-5", "S-4"]


def test_movements_after_an_id_are_the_next_ones_oldest_first(db: Path) -> None:
    """What the webhook dispatcher tails: near the end (read backwards) or far behind."""
    service = make_service(db)
    service.add_many([{"sku": f"S-{n}", "name": "x", "quantity": n} for n in range(1, 40)])
    if isinstance(service.repository, TinyDBRepository):
        service.repository.checkpoint()
    service.adjust("S-3", 2, "later")
    everything = [m.id for m in reversed(service.history_since("2000-01-01"))]
    repository = make_service(db).repository  # another process's view
    assert [m.id for m in repository.movements_after(0, 5)] == everything[:5]
    assert [m.id for m in repository.movements_after(37, 5)] == everything[37:]
    assert [m.id for m in repository.movements_after(2, 3)] == everything[2:5]  # far behind
    assert repository.movements_after(everything[-1], 5) == []
    assert repository.movements_after(3, 0) == []


def test_an_import_of_thousands_of_rows_lands_as_row_by_row(db: Path, tmp_path: Path) -> None:
    """A batch past a few thousand rows takes the server's bulk path (COPY): the same items,
    the history in the file's order, and a re-import of the same SKUs updates them."""
    from atlas_tui.services.exchange import import_file

    service = make_service(db)
    source = tmp_path / "stock.csv"
    rows = 2_000  # the PostgreSQL backend takes as many with COPY
    for bump in (0, 1):
        lines = [f"B-{n:05d},item {n},{n + bump}" for n in range(rows)]
        source.write_text("sku,name,quantity\n" + "\n".join(lines) + "\n")
        result = import_file(service, source)
        assert result.applied and not result.of("refuse")
    fresh = make_service(db)
    assert fresh.repository.count() == rows
    assert [item.quantity for item in fresh.list_items()] == [n + 1 for n in range(rows)]
    history = fresh.repository.movements()
    assert [m.id for m in history] == list(range(1, 2 * rows + 1))
    assert [(m.sku, m.quantity_after) for m in history[rows:]] == [
        (f"B-{n:05d}", n + 1) for n in range(rows)
    ]
    assert fresh.repository.movement_count() == 2 * rows
