"""Count sessions: scope, counts in any order, variance, apply, and sharing between operators."""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Callable
from pathlib import Path

import pytest
from support import Result, file_unchanged

from atlas_tui.domain.errors import ConflictError, NotFoundError, ValidationError
from atlas_tui.factory import make_service
from atlas_tui.services.inventory import InventoryService
from atlas_tui.storage.sessions import sessions_path

FORK = multiprocessing.get_context("fork")


@pytest.fixture
def shelf(service: InventoryService) -> InventoryService:
    """Three items at A1 (one with a barcode), one at B2."""
    service.add("BOLT-1", "Bolt", "Hardware", 40, "A1", attributes={"barcode": "4006381333931"})
    service.add("NUT-1", "Nut", "Hardware", 25, "A1")
    service.add("TAPE-1", "Tape", "Supplies", 8, "A1")
    service.add("CABLE-1", "Cable", "Electronics", 12, "B2")
    return service


def test_a_session_covers_its_scope_and_lists_expected_figures(shelf: InventoryService) -> None:
    session = shelf.stocktake.start(location="a1")
    assert (session["id"], session["expected_items"], session["scope"]) == (1, 3, "at a1")
    both = shelf.stocktake.start(location="A1", category="hardware")
    assert both["expected_items"] == 2
    variance = shelf.stocktake.variance(1)
    assert [row["sku"] for row in variance["uncounted"]] == ["BOLT-1", "NUT-1", "TAPE-1"]
    assert [row["expected"] for row in variance["uncounted"]] == [40, 25, 8]


def test_an_empty_scope_is_refused(shelf: InventoryService) -> None:
    with pytest.raises(ValidationError, match="location: no items at Z9 to count"):
        shelf.stocktake.start(location="Z9")
    assert shelf.stocktake.sessions() == []


def test_counts_in_any_order_by_sku_or_barcode_then_variance(shelf: InventoryService) -> None:
    take = shelf.stocktake
    take.start(location="A1")
    take.record(1, "nut-1", 24)
    for _ in range(3):
        take.record(1, "4006381333931", 1, add=True)
    take.record(1, "BOLT-1", 37, add=True)
    variance = take.variance(1)
    rows = {row["sku"]: row for row in variance["rows"]}
    assert (rows["BOLT-1"]["counted"], rows["BOLT-1"]["difference"]) == (40, 0)
    assert (rows["NUT-1"]["counted"], rows["NUT-1"]["difference"]) == (24, -1)
    assert [row["sku"] for row in variance["uncounted"]] == ["TAPE-1"]
    assert variance["totals"] == {
        "expected_items": 3,
        "counted": 2,
        "uncounted": 1,
        "differences": 1,
        "net": -1,
        "not_expected": 0,
    }
    assert shelf.get("NUT-1").quantity == 25, "counting alone changes no stock"


def test_refused_counts_change_nothing(shelf: InventoryService, db: Path) -> None:
    take = shelf.stocktake
    take.start(location="A1", category="Hardware")
    take.record(1, "NUT-1", 2)
    with file_unchanged(sessions_path(db)):
        with pytest.raises(
            ValidationError, match="sku: TAPE-1 is not in count #1 \\(at A1, in Hardware\\)"
        ):
            take.record(1, "TAPE-1", 3)
        with pytest.raises(ValidationError, match="location: count #1 is at A1, in Hardware, not"):
            take.record(1, "NUT-1", 3, location="B2")
        with pytest.raises(NotFoundError, match="code: no item has SKU or barcode 'NOPE'"):
            take.record(1, "NOPE", 1)
        with pytest.raises(ValidationError, match="quantity: must be 0 or more"):
            take.record(1, "NUT-1", -1)
        with pytest.raises(ValidationError, match="NUT-1 would be counted -1, below zero"):
            take.record(1, "NUT-1", -3, add=True)
        with pytest.raises(NotFoundError, match="no count session #7"):
            take.record(7, "NUT-1", 1)


def test_apply_turns_differences_into_count_movements(shelf: InventoryService) -> None:
    take = shelf.stocktake
    take.start(location="A1", reason="year-end count")
    take.record(1, "BOLT-1", 38)
    take.record(1, "NUT-1", 25)
    shelf.adjust("BOLT-1", -5, "picked after counting")
    result = take.apply(1)
    assert result["changes"] == [
        {
            "sku": "BOLT-1",
            "location": "A1",
            "lot": "",
            "expected": 40,
            "counted": 38,
            "before": 35,
            "after": 33,
            "difference": -2,
        }
    ]
    assert shelf.get("BOLT-1").quantity == 33, "the pick made after counting is kept"
    assert shelf.get("NUT-1").quantity == 25
    assert shelf.get("TAPE-1").quantity == 8, "uncounted items are left alone"
    last = shelf.history("BOLT-1")[0]
    assert (last.kind, last.reason, last.delta) == ("count", "year-end count", -2)
    assert last.details["session"] == 1
    assert [m.kind for m in shelf.history("NUT-1")] == ["add"]
    assert result["session"]["status"] == "applied"
    with pytest.raises(ValidationError, match="session: count #1 was applied"):
        take.apply(1)
    with pytest.raises(ValidationError, match="count #1 was applied"):
        take.record(1, "NUT-1", 3)
    assert shelf.verify()["ok"]


def test_apply_is_all_or_nothing(shelf: InventoryService, db: Path) -> None:
    take = shelf.stocktake
    take.start(location="A1")
    take.record(1, "NUT-1", 20)
    take.record(1, "TAPE-1", 2)
    shelf.adjust("TAPE-1", -8, "all sold after the count")
    with file_unchanged(db), pytest.raises(ConflictError, match="TAPE-1: 0 on hand now"):
        take.apply(1)
    assert shelf.get("NUT-1").quantity == 25
    assert take.sessions()[0]["status"] == "open"


def test_an_apply_interrupted_after_its_commit_is_not_applied_twice(
    shelf: InventoryService,
) -> None:
    take = shelf.stocktake
    take.start(location="A1")
    take.record(1, "NUT-1", 20)
    # What a process killed between the stock commit and closing the session leaves.
    shelf.count("NUT-1", 20, "stocktake #1", details={"session": 1})
    take.apply(1)
    assert shelf.get("NUT-1").quantity == 20
    assert take.sessions(include_closed=True)[0]["status"] == "applied"


def test_cancel_and_the_session_list(shelf: InventoryService) -> None:
    take = shelf.stocktake
    take.start(location="A1")
    take.start(location="B2")
    assert [s["id"] for s in take.sessions()] == [2, 1]
    take.cancel(1)
    assert [s["id"] for s in take.sessions()] == [2]
    assert [s["status"] for s in take.sessions(include_closed=True)] == ["open", "cancelled"]
    assert shelf.get("NUT-1").quantity == 25


def test_sessions_survive_a_restart(shelf: InventoryService, db: Path) -> None:
    shelf.stocktake.start(location="A1")
    shelf.stocktake.record(1, "NUT-1", 7)
    again = make_service(db)
    assert again.stocktake.variance(1)["rows"][0]["counted"] == 7


def _tally(db: str, rounds: int) -> None:
    service = make_service(db)
    for _ in range(rounds):
        service.stocktake.record(1, "BOLT-1", 1, add=True)


def test_operators_counting_at_once_add_up(shelf: InventoryService, db: Path) -> None:
    shelf.stocktake.start(location="A1")
    workers = [FORK.Process(target=_tally, args=(str(db), 25)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    assert shelf.stocktake.variance(1)["rows"][0]["counted"] == 100


def test_the_cli_runs_a_session_from_start_to_apply(
    shelf: InventoryService, atlas: Callable[..., Result]
) -> None:
    started = atlas("count-session", "start", "--location", "A1")
    assert started.code == 0, started.err
    assert "count #1 started: 3 lines at A1" in started.out
    assert atlas("count-session", "count", "1", "nut-1", "20").out.strip() == (
        "NUT-1 at A1 counted 20 (system holds 25)"
    )
    assert atlas("count-session", "count", "1", "4006381333931", "2", "--add").code == 0
    shown = atlas("count-session", "show", "1")
    assert shown.code == 0, shown.err
    assert "2 of 3 counted, 2 with a difference (net -43), 1 uncounted" in shown.out
    assert all(len(line) <= 80 for line in shown.out.splitlines())
    as_json = json.loads(atlas("--json", "count-session", "show", "1").out)
    assert as_json["success"] and as_json["variance"]["totals"]["net"] == -43
    applied = atlas("count-session", "apply", "1")
    assert applied.code == 0, applied.err
    assert "BOLT-1 at A1: 40 → 2 (-38)" in applied.out
    assert "count #1 applied: 2 lines changed" in applied.out
    listed = atlas("count-session", "list", "--all")
    assert "#1 applied" in listed.out


def test_the_cli_refuses_clearly(shelf: InventoryService, atlas: Callable[..., Result]) -> None:
    atlas("count-session", "start", "--location", "A1", "--category", "Hardware")
    wrong = atlas("count-session", "count", "1", "TAPE-1", "3")
    assert (wrong.code, wrong.err.strip()) == (
        1,
        "error: sku: TAPE-1 is not in count #1 (at A1, in Hardware)",
    )
    elsewhere = atlas("count-session", "count", "1", "NUT-1", "3", "--location", "B2")
    assert (elsewhere.code, elsewhere.err.strip()) == (
        1,
        "error: location: count #1 is at A1, in Hardware, not at B2",
    )
    missing = atlas("count-session", "show", "x")
    assert missing.code == 1
    assert missing.err.strip() == "error: session: must be a session number such as 3, got 'x'"
    assert atlas("count-session", "count", "1", "NUT-1", "ten").code == 2
