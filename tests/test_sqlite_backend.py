"""What only the SQLite backend has: its pragmas and its refusals of foreign files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from atlas_tui.domain.errors import StorageError
from atlas_tui.factory import make_service
from atlas_tui.storage import SQLiteRepository


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Path:
    return tmp_path / "stock.sqlite"


def test_wal_full_sync_and_busy_timeout(sqlite_db: Path) -> None:
    service = make_service(sqlite_db)
    service.add("A", "a")
    repo = service.repository
    assert isinstance(repo, SQLiteRepository)
    conn = repo._conn
    assert conn is not None
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 10_000


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        (lambda p: p.write_bytes(b""), "is empty"),
        (lambda p: p.write_bytes(b"not a database at all"), "is not an SQLite database"),
        (lambda p: p.write_bytes(b"SQLite format 3\x00" + b"\x00" * 50), "not an SQLite"),
    ],
    ids=["empty", "garbage", "truncated"],
)
def test_a_damaged_file_is_refused_untouched(sqlite_db: Path, prepare, message: str) -> None:  # type: ignore[no-untyped-def]
    prepare(sqlite_db)
    before = sqlite_db.read_bytes()
    for operation in ("list", "add"):
        service = make_service(sqlite_db)
        with pytest.raises(StorageError, match=message) as caught:
            service.list_items() if operation == "list" else service.add("A", "a")
        assert str(sqlite_db) in str(caught.value)
    assert sqlite_db.read_bytes() == before


def test_another_programs_database_is_refused(sqlite_db: Path) -> None:
    with sqlite3.connect(sqlite_db) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    before = sqlite_db.read_bytes()
    with pytest.raises(StorageError, match="another program"):
        make_service(sqlite_db).add("A", "a")
    assert sqlite_db.read_bytes() == before
