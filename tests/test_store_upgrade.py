"""Stores written before stock lines open, are upgraded once after a backup, and keep their
history; a store of a newer format is refused, naming the format. Both backends."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import orjson
import pytest
from support import ROOT, run_atlas

from atlas_tui.domain.errors import StorageError
from atlas_tui.domain.stock import StockLine
from atlas_tui.factory import make_service
from atlas_tui.services.replay import verify_store
from atlas_tui.storage.sqlite_repo import APPLICATION_ID, SQLiteRepository
from atlas_tui.storage.tinydb_repo import TinyDBRepository

FIXTURES = ROOT / "tests" / "fixtures" / "stores_v1"
STORES = {"tinydb": "store.json", "sqlite": "store.db"}


@pytest.fixture(params=sorted(STORES))
def old_store(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A copy of a store written by the ATLAS of before stock lines."""
    for source in FIXTURES.iterdir():
        if source.name.startswith(STORES[request.param]):
            shutil.copy2(source, tmp_path / source.name)
    return tmp_path / STORES[request.param]


def _open_as_is(path: Path) -> TinyDBRepository | SQLiteRepository:
    return TinyDBRepository(path) if path.suffix == ".json" else SQLiteRepository(path)


def test_an_old_store_reads_right_before_its_upgrade(old_store: Path) -> None:
    repository = _open_as_is(old_store)
    items = {item.sku: item for item in repository.items()}
    assert items["BOLT-M6"].stock == (StockLine("A-03-2", 105),)
    assert items["GLOVE-L"].stock == (StockLine("A-01-1", 8),)
    assert len(repository.movements()) == 9
    assert verify_store(repository)["ok"]
    repository.close()


def test_opening_upgrades_once_after_a_backup_and_keeps_the_history(old_store: Path) -> None:
    service = make_service(old_store)
    backups = list((old_store.parent / "backups").glob("store-before-stock-lines-*"))
    assert len(backups) == 1
    if old_store.suffix == ".db":  # the backup is the old format, as it was
        with sqlite3.connect(backups[0]) as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        conn.close()
    else:
        assert b"ATLAS store format" not in backups[0].read_bytes()
        assert b"ATLAS store format 2" in old_store.read_bytes()
    item = service.get("BOLT-M6")
    assert (item.quantity, item.location, item.unit) == (105, "A-03-2", "pcs")
    assert item.stock == (StockLine("A-03-2", 105),)
    assert item.attributes == {"barcode": "4006381333931"}
    history = service.history("BOLT-M6")
    assert [m.kind for m in history] == ["update", "adjust", "add"]
    assert [m.kind for m in service.history("OLD-1")] == ["delete", "add"]
    assert service.verify()["ok"]
    # What older movements said still replays: GLOVE-L moved before lines existed.
    service.transfer("GLOVE-L", 3, "A-01-1", "B-1")
    assert service.verify()["ok"]
    make_service(old_store)
    assert len(list((old_store.parent / "backups").glob("store-before-stock-lines-*"))) == 1
    old = _open_as_is(backups[0])
    assert [item.sku for item in old.items()] == ["BOLT-M6", "GLOVE-L", "TAPE-50"]
    old.close()


def test_the_cli_opens_an_old_store(old_store: Path) -> None:
    listed = run_atlas("list", db=old_store)
    assert listed.code == 0 and "BOLT-M6" in listed.out and "A-01-1" in listed.out
    assert run_atlas("verify", db=old_store).code == 0
    assert run_atlas("stock", "--sku", "glove-l", db=old_store).out.startswith("Location")


def test_a_store_of_a_newer_format_is_refused_naming_it(tmp_path: Path) -> None:
    newer = tmp_path / "newer.json"
    mark = "ATLAS store format 3 (something new): upgrade ATLAS to read it"
    newer.write_bytes(orjson.dumps({"_meta": {"1": {}}, mark: 3, "items": {}}))
    with pytest.raises(StorageError, match=r"newer ATLAS \(store format 3; this ATLAS reads"):
        TinyDBRepository(newer).items()
    shown = run_atlas("list", db=newer)
    assert shown.code == 1 and "store format 3" in shown.err and "Traceback" not in shown.err
    database = tmp_path / "newer.db"
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE items (key TEXT)")
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute("PRAGMA user_version = 3")
    conn.close()
    shown = run_atlas("list", db=database)
    assert shown.code == 1 and "store format 3" in shown.err
