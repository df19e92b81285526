"""The TinyDB repository: atomic commits, fresh reads, locking, backups, file hygiene."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import orjson
import pytest

from atlas_tui.config import Settings
from atlas_tui.errors import BusyError, ValidationError
from atlas_tui.factory import make_service
from atlas_tui.models import InventoryItem
from atlas_tui.repository import TinyDBRepository, open_repository
from atlas_tui.repository.backups import BackupPolicy, list_backups
from atlas_tui.service import InventoryService


def test_file_is_plain_tinydb_json_with_items_and_movements_tables(
    widget: InventoryService, db: Path
) -> None:
    from tinydb import TinyDB

    with TinyDB(db) as plain:
        assert {"items", "movements"} <= set(plain.tables())
        [doc] = plain.table("items").all()
        assert doc["sku"] == "ITEM-001" and doc["quantity"] == 100
        assert plain.table("movements").all()[0]["kind"] == "add"


def test_a_file_written_by_plain_tinydb_is_read(db: Path) -> None:
    from tinydb import TinyDB

    db.parent.mkdir(parents=True)
    with TinyDB(db) as plain:
        plain.table("items").insert(InventoryItem("P-1", "From plain TinyDB", quantity=3).to_dict())
    service = make_service(db)
    assert service.adjust("p-1", 2).quantity == 5


def test_nothing_is_created_by_reads_of_a_missing_file(db: Path) -> None:
    service = make_service(db)
    assert service.list_items() == []
    assert service.history("X") == []
    assert not db.exists()


def test_a_failed_transaction_writes_nothing(widget: InventoryService, db: Path) -> None:
    before = db.read_bytes()
    with pytest.raises(ValidationError), widget.batch():
        widget.adjust("ITEM-001", -10)
        widget.add("NEW", "new")
        widget.adjust("ITEM-001", -1000)
    assert db.read_bytes() == before
    assert widget.get("ITEM-001").quantity == 100
    assert widget.list_items(search="NEW") == []
    assert len(widget.history("ITEM-001")) == 1


def test_a_batch_is_one_atomic_write(widget: InventoryService, db: Path) -> None:
    inode = db.stat().st_ino
    with widget.batch():
        widget.adjust("ITEM-001", -10)
        widget.add("NEW", "new", quantity=4)
        assert db.stat().st_ino == inode  # nothing reached the disk yet
        assert widget.get("new").quantity == 4  # but the batch sees its own changes
    assert widget.get("ITEM-001").quantity == 90
    assert [m.kind for m in widget.history("new")] == ["add"]


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
    assert len(first.repository.movements()) == 5


def test_reads_reuse_the_parsed_file_until_it_changes(widget: InventoryService, db: Path) -> None:
    repo = widget.repository
    assert isinstance(repo, TinyDBRepository)
    storage = repo._storage
    widget.list_items()
    reloads = storage.reloads
    for _ in range(20):
        widget.get("ITEM-001")
        widget.list_items()
    assert storage.reloads == reloads
    make_service(db).adjust("ITEM-001", 1)
    assert widget.get("ITEM-001").quantity == 101
    assert storage.reloads == reloads + 1


def test_file_mode_and_group_follow_the_existing_file(widget: InventoryService, db: Path) -> None:
    os.chmod(db, 0o664)
    widget.adjust("ITEM-001", 1)
    assert stat.S_IMODE(db.stat().st_mode) == 0o664
    os.chmod(db, 0o600)
    widget.adjust("ITEM-001", 1)
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


def test_leftover_temp_files_are_cleaned_at_the_first_write(db: Path) -> None:
    db.parent.mkdir(parents=True)
    leftover = db.parent / f".{db.name}.abc123.tmp"
    leftover.write_bytes(b'{"half": ')
    unrelated = db.parent / "notes.tmp"
    unrelated.write_text("keep me")
    make_service(db).add("A", "a")
    assert not leftover.exists()
    assert unrelated.exists()
    assert [p.name for p in db.parent.iterdir() if p.name.endswith(".tmp")] == ["notes.tmp"]


def test_a_held_lock_times_out_with_a_clear_busy_error(widget: InventoryService, db: Path) -> None:
    holder = textwrap.dedent(
        f"""
        import sys, time
        from atlas_tui.factory import make_service
        service = make_service({str(db)!r})
        with service.batch():
            service.adjust("ITEM-001", 1)
            print("holding", flush=True)
            sys.stdin.readline()
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", holder], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "holding"
        repo = TinyDBRepository(db, lock_timeout=0.2)
        waiting = InventoryService(repo)
        before = db.read_bytes()
        with pytest.raises(BusyError, match=r"data is busy \(held by .*pid \d+.*\).*try again"):
            waiting.adjust("ITEM-001", 1)
        assert db.read_bytes() == before
    finally:
        assert process.stdin is not None
        process.stdin.write("\n")
        process.stdin.close()
        process.wait(timeout=30)
    assert widget.get("ITEM-001").quantity == 101
    assert waiting.adjust("ITEM-001", 1).quantity == 102


def test_a_killed_lock_holder_does_not_block_others(widget: InventoryService, db: Path) -> None:
    holder = (
        "from atlas_tui.factory import make_service\n"
        f"s = make_service({str(db)!r})\n"
        "import os\n"
        "with s.batch():\n"
        "    s.adjust('ITEM-001', 5)\n"
        "    os.kill(os.getpid(), 9)\n"
    )
    done = subprocess.run([sys.executable, "-c", holder], timeout=30)
    assert done.returncode == -9
    assert widget.adjust("ITEM-001", 1).quantity == 101  # the killed batch never landed


def test_auto_backup_keeps_a_rotated_set(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATLAS_AUTO_BACKUP", "yes")
    monkeypatch.setenv("ATLAS_BACKUP_KEEP", "3")
    make_service(db).add("A", "a")  # nothing to back up before the very first write
    backups = db.parent / "backups"
    assert list_backups(db, backups) == []
    contents = []
    for n in range(5):
        contents.append(db.read_bytes())
        service = make_service(db)  # each process (write session) backs up once
        service.adjust("A", n + 1)
        service.adjust("A", 1)
    kept = list_backups(db, backups)
    assert len(kept) == 3
    assert [p.read_bytes() for p in kept] == contents[-3:]
    assert orjson.loads(kept[-1].read_bytes())["items"]["1"]["quantity"] == (1 + 2 + 3 + 4) + 4


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
    repo = open_repository(settings)
    assert repo.path == settings.storage_path


def test_backup_policy_rotation_helper(tmp_path: Path) -> None:
    from atlas_tui.repository.backups import rotate_backup

    data = tmp_path / "x.json"
    data.write_text("{}")
    policy = BackupPolicy(tmp_path / "b", keep=2)
    made = [rotate_backup(data, policy) for _ in range(4)]
    assert list_backups(data, policy.directory) == made[-2:]
