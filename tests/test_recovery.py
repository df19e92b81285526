"""Backups, restore, verify, migration, history --since and report --at, on both backends."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from support import Result

from atlas_tui.factory import make_service
from atlas_tui.services.inventory import InventoryService
from atlas_tui.services.maintenance import checksum

Atlas = Callable[..., Result]


def fill(db: Path) -> InventoryService:
    service = make_service(db)
    service.add("A-1", "Alpha", "Tools", 10, "A1", 2, 50)
    service.add("B-2", "Beta", "Parts", 5, "B1")
    service.adjust("A-1", -3, "picked")
    service.move("B-2", "B9")
    return service


def damage(db: Path, how: str) -> None:
    if how == "garbage":
        db.write_bytes(b"\x00\x01 this is not data \xff")
    elif how == "truncated":
        db.write_bytes(db.read_bytes()[: db.stat().st_size // 3])
    elif how == "empty":
        db.write_bytes(b"")
    elif how == "wrong shape":
        db.write_bytes(b'["a", "list", "of", "things"]')


@pytest.mark.parametrize("how", ["garbage", "truncated", "empty", "wrong shape"])
def test_damaged_file_is_named_explained_and_restored(atlas: Atlas, db: Path, how: str) -> None:
    fill(db).repository.close()
    backup = atlas("backup")
    assert backup.code == 0, backup.err
    snapshot = backup.out.strip().removeprefix("backup written to ")
    assert Path(snapshot).is_file()
    before = json.loads(atlas("--json", "list").out)["items"]
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    damage(db, how)
    broken = db.read_bytes()
    for args in (["list"], ["adjust", "--sku", "A-1", "--delta", "1"], ["report"]):
        result = atlas(*args)
        assert result.code == 1 and f"error: data file {db}" in result.err, result.err
        assert "Traceback" not in result.err
    verify = atlas("verify")
    assert verify.code == 1 and str(db) in verify.out
    assert db.read_bytes() == broken
    refused = atlas("restore", snapshot)  # no --yes and no terminal
    assert refused.code == 1 and "not confirmed" in refused.err
    assert db.read_bytes() == broken
    restored = atlas("restore", "--yes", snapshot)
    assert restored.code == 0, restored.err
    assert "previous data is kept in" in restored.out
    assert json.loads(atlas("--json", "list").out)["items"] == before
    assert atlas("verify").code == 0
    kept = Path(restored.out.split("kept in ")[-1].strip())
    assert kept.read_bytes() == broken


def test_verify_names_the_sku_whose_quantity_disagrees_with_history(db: Path, atlas: Atlas) -> None:
    fill(db).repository.close()
    assert atlas("verify").code == 0
    if db.suffix == ".json":
        data = orjson.loads(db.read_bytes())
        for doc in data["items"].values():
            if doc["sku"] == "A-1":
                doc["quantity"] = 99
                doc["min_stock"] = -5
        db.write_bytes(orjson.dumps(data))
    else:
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE items SET quantity = 99, min_stock = -5 WHERE key = 'a-1'")
    result = atlas("verify")
    assert result.code == 1
    assert "A-1" in result.out and "minimum" in result.out
    envelope = json.loads(atlas("--json", "verify").out)
    assert envelope["report"]["ok"] is False
    assert {p["sku"] for p in envelope["report"]["problems"]} == {"A-1"}


def test_backup_to_a_folder_and_restore_from_the_latest_automatic_backup(
    db: Path, atlas: Atlas, tmp_path: Path
) -> None:
    fill(db).repository.close()
    made = atlas("backup", "--to", str(tmp_path / "safe"))
    assert made.code == 0 and str(tmp_path / "safe") in made.out
    env = {"ATLAS_AUTO_BACKUP": "1"}
    assert atlas("adjust", "--sku", "A-1", "--delta", "5", env=env).code == 0
    assert atlas("adjust", "--sku", "A-1", "--delta", "-1", env=env).code == 0
    latest = sorted((db.parent / "backups").iterdir())[-1]
    assert atlas("restore", "--yes", str(latest)).code == 0
    assert json.loads(atlas("--json", "show", "--sku", "A-1").out)["item"]["quantity"] == 12


@pytest.mark.parametrize("target_name", ["copy.sqlite", "copy.json"])
def test_migrate_copies_everything_and_checks_it(
    db: Path, atlas: Atlas, tmp_path: Path, target_name: str
) -> None:
    source = fill(db)
    source.delete("B-2", "gone")
    expected = checksum(source.repository.items(), source.repository.movements())
    source.repository.close()
    target = tmp_path / target_name
    result = atlas("migrate", "--to", str(target))
    assert result.code == 0, result.err
    assert "counts and checksums match" in result.out
    copy = make_service(target)
    assert copy.repository.backend == ("sqlite" if target.suffix == ".sqlite" else "tinydb")
    assert checksum(copy.repository.items(), copy.repository.movements()) == expected
    assert [m.kind for m in copy.history("B-2")] == ["delete", "move", "add"]
    assert copy.verify()["ok"]
    again = atlas("migrate", "--to", str(target))
    assert again.code == 1 and "already holds data" in again.err


def test_migrate_accepts_a_sqlite_url(db: Path, atlas: Atlas, tmp_path: Path) -> None:
    fill(db).repository.close()
    result = atlas("--json", "migrate", "--to", f"sqlite:///{tmp_path}/url.db")
    migration = json.loads(result.out)["migration"]
    assert (migration["backend"], migration["items"], migration["movements"]) == ("sqlite", 2, 4)


def test_report_at_rebuilds_the_past_from_history(db: Path) -> None:
    start = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    moments = iter(start + timedelta(days=n) for n in range(100))
    service = make_service(db)
    service._clock = lambda: next(moments)
    service.add("A", "Alpha", "Tools", 10, min_stock=5)  # day 0
    service.add("B", "Beta", "Parts", 1)  # day 1
    service.adjust("A", -7)  # day 2: A low
    service.update("A", category="Hand tools")  # day 3
    service.delete("B")  # day 4
    service.adjust("A", 20)  # day 5

    def at(day: float, kind: str = "summary") -> dict:  # type: ignore[type-arg]
        return service.report(kind, at=(start + timedelta(days=day)).isoformat())

    assert at(-1)["total_items"] == 0
    assert at(0.5) | {"by_category": None} == {
        "total_items": 1,
        "total_quantity": 10,
        "low_stock_count": 0,
        "over_stock_count": 0,
        "by_category": None,
    }
    assert at(1.5)["by_category"] == {
        "Parts": {"items": 1, "quantity": 1},
        "Tools": {"items": 1, "quantity": 10},
    }
    assert [i["quantity"] for i in at(2.5, "low")["low_stock"]] == [3]
    assert list(at(3.5)["by_category"]) == ["Hand tools", "Parts"]
    assert at(4.5)["total_items"] == 1
    assert at(10) == service.report()


def test_cli_history_since_and_report_at(db: Path, atlas: Atlas) -> None:
    fill(db).repository.close()
    everything = json.loads(atlas("--json", "history", "--since", "2000-01-01").out)["history"]
    assert [(m["sku"], m["kind"]) for m in everything] == [
        ("B-2", "move"),
        ("A-1", "adjust"),
        ("B-2", "add"),
        ("A-1", "add"),
    ]
    assert json.loads(atlas("--json", "history", "--since", "2999-01-01").out)["history"] == []
    only_a = json.loads(atlas("--json", "history", "--sku", "a-1", "--since", "2000-01-01").out)
    assert [m["kind"] for m in only_a["history"]] == ["adjust", "add"]
    table = atlas("history", "--since", "2000-01-01")
    assert table.code == 0 and "B-2" in table.out and "A-1" in table.out
    past = json.loads(atlas("--json", "report", "--at", "2000-01-01T00:00Z").out)
    assert past["report"]["total_items"] == 0
    bad = atlas("report", "--at", "last tuesday")
    assert bad.code == 1 and "at: must be a date" in bad.err
    assert atlas("history").code == 2
