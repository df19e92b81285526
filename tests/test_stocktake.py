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

ALL_BACKENDS = True  # every `db` test here runs on PostgreSQL as well

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


@pytest.fixture
def lots(shelf: InventoryService) -> InventoryService:
    """BOLT-1: 40 at A1 (no lot) and 6 of lot L7 at B2; NUT-1 at A1 also holds lot L1."""
    shelf.receive("BOLT-1", 6, location="B2", lot="L7", expiry="2027-01-31")
    shelf.receive("NUT-1", 5, location="A1", lot="L1")
    return shelf


def test_a_one_location_session_counts_its_lines_and_flags_what_should_not_be_there(
    lots: InventoryService,
) -> None:
    take = lots.stocktake
    started = take.start(location="A1")
    assert started["expected_items"] == 4, "BOLT-1, NUT-1 and its lot L1, TAPE-1"
    listed = take.variance(1)["uncounted"]
    assert [(r["sku"], r["location"], r["lot"], r["expected"]) for r in listed] == [
        ("BOLT-1", "A1", "", 40),
        ("NUT-1", "A1", "", 25),
        ("NUT-1", "A1", "L1", 5),
        ("TAPE-1", "A1", "", 8),
    ], "B2's lot of BOLT-1 is not expected at A1"
    with pytest.raises(ValidationError, match=r"lot: NUT-1 is expected in 2 lots at A1"):
        take.record(1, "NUT-1", 3)
    take.record(1, "NUT-1", 3, lot="l1")
    take.record(1, "BOLT-1", 41)
    found = take.record(1, "CABLE-1", 2)
    assert (found["location"], found["expected"], found["note"]) == ("A1", 0, "not expected here")
    variance = take.variance(1)
    rows = {(r["sku"], r["lot"]): r for r in variance["rows"]}
    assert (rows["NUT-1", "L1"]["difference"], rows["NUT-1", "L1"]["location"]) == (-2, "A1")
    assert rows["CABLE-1", ""]["note"] == "not expected here"
    assert (rows["CABLE-1", ""]["expected"], rows["CABLE-1", ""]["difference"]) == (0, 2)
    assert "note" not in rows["BOLT-1", ""]
    assert variance["totals"]["not_expected"] == 1
    lots.pick("BOLT-1", 1, "picked at B2 meanwhile", location="B2")
    applied = take.apply(1)
    assert [(c["sku"], c["location"], c["lot"], c["before"], c["after"])
            for c in applied["changes"]] == [
        ("BOLT-1", "A1", "", 40, 41),
        ("CABLE-1", "A1", "", 0, 2),
        ("NUT-1", "A1", "L1", 5, 3),
    ]  # fmt: skip
    stock = {s: [(x.location, x.lot, x.quantity) for x in lots.stock(s)] for s in
             ("BOLT-1", "NUT-1", "CABLE-1")}  # fmt: skip
    assert stock == {
        "BOLT-1": [("A1", "", 41), ("B2", "L7", 5)],
        "NUT-1": [("A1", "", 25), ("A1", "L1", 3)],
        "CABLE-1": [("A1", "", 2), ("B2", "", 12)],
    }
    last = lots.history("NUT-1")[0]
    assert (last.kind, last.details["lines"]) == ("count", [["A1", "L1", "", 5, 3]])
    assert lots.verify()["ok"]


def test_a_session_over_every_location_asks_where_when_it_cannot_tell(
    lots: InventoryService,
) -> None:
    take = lots.stocktake
    take.start(category="Hardware")
    with pytest.raises(
        ValidationError,
        match=r"location: BOLT-1 is expected at 2 places in count #1 \(A1, B2\): give the",
    ):
        take.record(1, "BOLT-1", 5)
    counted = take.record(1, "BOLT-1", 5, location="b2")
    assert (counted["location"], counted["lot"], counted["expected"]) == ("B2", "L7", 6)
    take.apply(1)
    assert [(x.location, x.quantity) for x in lots.stock("BOLT-1")] == [("A1", 40), ("B2", 5)]


def _old_session(data: dict[str, object]) -> None:
    """A session as ATLAS wrote it before stock lines: keyed by SKU, no location per count."""
    data["next_id"] = 2
    data["sessions"] = {
        "1": {
            "id": 1,
            "status": "open",
            "created_at": "2026-11-01T09:00:00Z",
            "created_by": "ann",
            "location": "A1",
            "category": None,
            "reason": "stocktake #1",
            "expected": {
                "bolt-1": {"sku": "BOLT-1", "name": "Bolt", "location": "A1", "quantity": 40},
                "nut-1": {"sku": "NUT-1", "name": "Nut", "location": "A1", "quantity": 25},
            },
            "counts": {
                "bolt-1": {
                    "sku": "BOLT-1",
                    "counted": 37,
                    "on_hand": 40,
                    "at": "2026-11-01T09:05:00Z",
                    "by": "ann",
                },
            },
        }
    }


def test_a_session_stored_before_stock_lines_still_reads_and_applies(
    shelf: InventoryService,
) -> None:
    assert shelf.sessions is not None
    shelf.sessions.change(_old_session)
    take = shelf.stocktake
    variance = take.variance(1)
    assert [(r["sku"], r["location"], r["counted"], r["difference"]) for r in variance["rows"]] == [
        ("BOLT-1", "A1", 37, -3)
    ]
    assert [r["sku"] for r in variance["uncounted"]] == ["NUT-1"]
    take.record(1, "NUT-1", 24)
    shelf.adjust("BOLT-1", -1, "picked after the count")
    applied = take.apply(1)
    assert [(c["sku"], c["before"], c["after"]) for c in applied["changes"]] == [
        ("BOLT-1", 39, 36),
        ("NUT-1", 25, 24),
    ]
    assert shelf.get("BOLT-1").quantity == 36
    assert shelf.verify()["ok"]


def test_the_cli_counts_by_location_and_lot(
    lots: InventoryService, atlas: Callable[..., Result]
) -> None:
    assert atlas("count-session", "start", "--location", "A1").code == 0
    ambiguous = atlas("count-session", "count", "1", "NUT-1", "3")
    assert ambiguous.code == 1
    assert ambiguous.err.strip() == (
        "error: lot: NUT-1 is expected in 2 lots at A1 ((no lot), L1): give the lot"
    )
    by_lot = atlas("count-session", "count", "1", "NUT-1", "3", "--lot", "L1")
    assert by_lot.out.strip() == "NUT-1 at A1 lot L1 counted 3 (system holds 5)"
    found = atlas("count-session", "count", "1", "CABLE-1", "2", "--location", "A1")
    assert found.out.strip() == ("CABLE-1 at A1 counted 2 (system holds 0) (not expected here)")
    shown = atlas("count-session", "show", "1")
    assert shown.code == 0, shown.err
    header = next(line for line in shown.out.splitlines() if "Expected" in line)
    assert header.split()[:5] == ["SKU", "Name", "Location", "Lot", "Expected"]
    assert "not expected here: CABLE-1 at A1 (counted 2)" in shown.out.splitlines()
    assert "1 of 4 counted, 2 with a difference (net +0), 3 uncounted, 1 not expected" in shown.out
    assert all(len(line) <= 80 for line in shown.out.splitlines())
    applied = atlas("count-session", "apply", "1")
    assert applied.code == 0, applied.err
    assert "CABLE-1 at A1: 0 → 2 (+2)" in applied.out
    assert "NUT-1 at A1 lot L1: 5 → 3 (-2)" in applied.out
    assert "count #1 applied: 2 lines changed" in applied.out
    assert atlas("verify").code == 0
