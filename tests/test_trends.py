"""Trends and the reorder list: quantity levels per day, usage, suggestions, stock-out, CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support import Result, on_a_terminal

from atlas_tui.domain.models import InventoryItem, Movement, utc_now
from atlas_tui.factory import make_service
from atlas_tui.services.inventory import InventoryService
from atlas_tui.services.trends import REORDER_RULE, USAGE_DAYS, quantity_trend, reorder_report

ALL_BACKENDS = True  # every `db` test here runs on PostgreSQL as well

NOW = datetime(2026, 11, 29, 15, 0, tzinfo=UTC)


class Clock:
    """A clock the test sets by hand; the service reads it for every change it records."""

    def __init__(self, moment: datetime = NOW) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def at(self, text: str) -> Clock:
        self.moment = datetime.fromisoformat(text).replace(tzinfo=UTC)
        return self


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timed(service: InventoryService, clock: Clock) -> InventoryService:
    """The `service` fixture's store (a real file, each backend) with a hand-set clock."""
    return InventoryService(service.repository, user="tester", clock=clock)


def build_kit(timed: InventoryService, clock: Clock) -> None:
    """KIT-1 over day boundaries, ending at 42 on hand at NOW (2026-11-29 15:00 UTC)."""
    clock.at("2026-11-20T09:00")
    timed.add("KIT-1", "Kit", "Parts", 40, "A1", 10, 100)
    clock.at("2026-11-23T23:59:59")
    timed.adjust("KIT-1", -5, "picked")  # 35, the last second of the 23rd
    clock.at("2026-11-24T00:00:00")
    timed.adjust("KIT-1", -10, "picked")  # 25, the first second of the 24th
    clock.at("2026-11-24T18:00")
    timed.adjust("KIT-1", 30, "delivery")  # 55: a receipt is not usage
    clock.at("2026-11-26T12:00")
    timed.count("KIT-1", 50)  # -5 by a count: a correction, not usage
    clock.at("2026-11-27T08:00")
    timed.move("KIT-1", "B2")
    clock.at("2026-11-29T09:00")
    timed.adjust("KIT-1", -8, "picked")  # 42
    clock.moment = NOW


def test_levels_are_exact_over_day_boundaries(timed: InventoryService, clock: Clock) -> None:
    build_kit(timed, clock)
    trend = timed.trend("KIT-1", 7)  # 23rd .. 29th
    assert trend == {
        "days": 7,
        "levels": [35, 55, 55, 50, 50, 50, 42],
        "daily_usage": 23 / 7,  # 5 + 10 + 8 through adjustments; the count is not usage
        "used": 23,
    }
    # One day shorter: the window starts at midnight of the 24th, so the removal one
    # second before it is no longer inside.
    six = timed.trend("kit-1", 6)
    assert six["levels"] == [55, 55, 50, 50, 50, 42] and six["used"] == 18
    assert timed.trend("KIT-1", 1) == {"days": 1, "levels": [42], "daily_usage": 8.0, "used": 8}


def test_days_before_the_item_existed_are_zero(timed: InventoryService, clock: Clock) -> None:
    build_kit(timed, clock)
    trend = timed.trend("KIT-1", 12)  # 18th .. 29th; added on the 20th
    assert trend["levels"] == [0, 0, 40, 40, 40, 35, 55, 55, 50, 50, 50, 42]
    assert len(timed.trend("KIT-1", 90)["levels"]) == 90


def test_an_item_added_mid_window_is_divided_by_the_whole_window(
    timed: InventoryService, clock: Clock
) -> None:
    clock.at("2026-11-27T10:00")
    timed.add("NEW-1", "New", quantity=30, min_stock=5)
    clock.at("2026-11-28T10:00")
    timed.adjust("NEW-1", -9)
    clock.moment = NOW
    trend = timed.trend("NEW-1", 30)
    assert trend["levels"] == [0] * 27 + [30, 21, 21]
    assert trend["used"] == 9 and trend["daily_usage"] == 9 / 30


def test_counts_deletions_and_undos_are_not_usage(timed: InventoryService, clock: Clock) -> None:
    clock.at("2026-11-28T08:00")
    timed.add("U-1", "Used", quantity=100, min_stock=1)
    timed.adjust("U-1", -7, "picked by mistake")
    timed.undo_last()  # +7, "undo of #2 (adjust)": the removal did not happen
    timed.adjust("U-1", 10, "delivery")
    timed.undo_last()  # -10: taking back a receipt is not usage
    timed.count("U-1", 90)  # -10 by a count
    timed.adjust("U-1", -4, "picked")  # the only usage
    clock.moment = NOW
    assert timed.trend("U-1", 30)["used"] == 4
    timed.delete("U-1")
    (row,) = reorder_report(
        [InventoryItem("U-1", "Used", quantity=1, min_stock=1)], timed.repository.movements(), NOW
    )["reorder"]
    assert row["daily_usage"] == 4 / 30


def test_an_empty_history_is_flat() -> None:
    # Nothing recorded means nothing known to have changed: the current figure throughout.
    assert quantity_trend([], 5, 4, NOW) == {
        "days": 4,
        "levels": [5, 5, 5, 5],
        "daily_usage": 0.0,
        "used": 0,
    }
    assert reorder_report([], [], NOW) == {
        "reorder": [],
        "usage_days": USAGE_DAYS,
        "rule": REORDER_RULE,
    }
    with pytest.raises(ValueError, match="days"):
        quantity_trend([], 5, 0, NOW)


def test_a_history_that_starts_mid_life_keeps_its_first_figure() -> None:
    """A history imported without its `add`: before its first movement the item held what
    that movement started from, not 0."""
    moved = Movement("X-1", "adjust", -2, 12, 10, "u", NOW - timedelta(days=1))
    assert quantity_trend([moved], 10, 3, NOW)["levels"] == [12, 10, 10]


def usage(sku: str, units: int, days_ago: float = 1, kind: str = "adjust") -> Movement:
    moment = NOW - timedelta(days=days_ago)
    return Movement(sku, kind, -units, 1000, 1000 - units, "u", moment)  # type: ignore[arg-type]


def test_suggestions_follow_the_max_or_the_documented_rule() -> None:
    items = [
        InventoryItem("CEIL", "Has a ceiling", quantity=4, min_stock=10, max_stock=60),
        InventoryItem("FULL", "At min = max", quantity=5, min_stock=5, max_stock=5),
        InventoryItem("BUSY", "No ceiling, used", quantity=4, min_stock=10),
        InventoryItem("IDLE", "No ceiling, unused", quantity=4, min_stock=10),
        InventoryItem("ODD", "No ceiling, 7 used", quantity=2, min_stock=10),
    ]
    movements = [usage("CEIL", 30), usage("BUSY", 45), usage("ODD", 7)]
    rows = {row["sku"]: row for row in reorder_report(items, movements, NOW)["reorder"]}
    assert rows["CEIL"]["suggested"] == 56  # up to max 60
    assert rows["FULL"]["suggested"] == 1  # always at least one
    # No ceiling: up to min + the larger of min and 30 days of usage.
    assert rows["BUSY"]["suggested"] == 10 + 45 - 4
    assert rows["IDLE"]["suggested"] == 10 + 10 - 4  # twice the minimum
    assert rows["ODD"]["suggested"] == 10 + 10 - 2  # 7 used < min 10
    assert "max 0" in REORDER_RULE


def test_only_items_at_or_below_their_minimum_are_listed() -> None:
    items = [
        InventoryItem("AT", "At min", quantity=10, min_stock=10),
        InventoryItem("ABOVE", "Above min", quantity=11, min_stock=10),
        InventoryItem("NOMIN", "No min", quantity=0),
        InventoryItem("EMPTY", "Empty", quantity=0, min_stock=1),
    ]
    report = reorder_report(items, [], NOW)
    assert [row["sku"] for row in report["reorder"]] == ["EMPTY", "AT"]
    assert all(InventoryItem.from_dict(
        {k: v for k, v in row.items() if k not in ("suggested", "daily_usage", "days_left")}
    ).is_low for row in report["reorder"])  # fmt: skip


def test_stock_out_estimates_and_their_order() -> None:
    items = [
        InventoryItem("b-slow", "Slow", quantity=9, min_stock=10),  # 0.3/day -> 30 days
        InventoryItem("A-FAST", "Fast", quantity=6, min_stock=10),  # 1.5/day -> 4 days
        InventoryItem("c-idle", "Idle", quantity=5, min_stock=10),  # no usage -> None
        InventoryItem("a-idle", "Idle too", quantity=8, min_stock=10),
        InventoryItem("Z-OUT", "Out", quantity=0, min_stock=10),  # none left -> 0
        InventoryItem("B-SAME", "Same as fast", quantity=6, min_stock=10),
    ]
    movements = [
        usage("A-FAST", 40, days_ago=2),
        usage("a-fast", 5, days_ago=29.5),  # any spelling of the SKU, still inside
        usage("A-FAST", 1000, days_ago=31),  # before the 30 days: not counted
        usage("B-SLOW", 9),
        usage("B-SAME", 45),
        usage("b-slow", 50, kind="count"),  # a count is not usage
    ]
    report = reorder_report(items, movements, NOW)
    got = [(row["sku"], row["daily_usage"], row["days_left"]) for row in report["reorder"]]
    assert got == [
        ("Z-OUT", 0.0, 0.0),
        ("A-FAST", 1.5, 4.0),
        ("B-SAME", 1.5, 4.0),
        ("b-slow", 0.3, pytest.approx(30.0)),
        ("a-idle", 0.0, None),
        ("c-idle", 0.0, None),
    ]
    assert report["usage_days"] == 30
    assert report["reorder"][1]["name"] == "Fast" and report["reorder"][1]["min_stock"] == 10


def test_the_service_reorder_report_reads_the_store(timed: InventoryService, clock: Clock) -> None:
    build_kit(timed, clock)
    clock.at("2026-11-29T10:00")
    timed.adjust("KIT-1", -35, "big job")  # 7 left, under min 10
    clock.moment = NOW
    (row,) = timed.report("reorder")["reorder"]
    # 5 + 10 + 8 + 35 = 58 used in the last 30 days.
    assert row["sku"] == "KIT-1" and row["quantity"] == 7
    assert row["suggested"] == 93 and row["daily_usage"] == 58 / 30
    assert row["days_left"] == pytest.approx(7 / (58 / 30))


def test_a_reorder_report_over_200k_movements_lists_every_low_item() -> None:
    # Its speed is measured by bench/, not asserted here (no timed assertions in tests).
    items = [InventoryItem(f"S-{n:05d}", "x", quantity=n % 20, min_stock=10) for n in range(20_000)]
    start = NOW - timedelta(days=120)
    movements = [
        Movement(f"S-{n % 20_000:05d}", "adjust", -1, 5, 4, "u", start + timedelta(minutes=n))
        for n in range(200_000)
    ]
    report = reorder_report(items, movements, NOW)
    assert len(report["reorder"]) == 11_000


# The command line ----------------------------------------------------------------------------


@pytest.fixture
def reorder_store(db: Path) -> Path:
    """Three low items with recent usage (relative to the real clock the CLI reads)."""
    now = utc_now()
    service = InventoryService(make_service(db).repository, clock=lambda: now)
    service.add("BOLT-1", "[red]x[/red]", "Fasteners", 60, "B1", 50, 500)
    service.add("NUT-2", "Nuts", "Fasteners", 12, "B2", 20)
    service.add("WASHER-M6-ZINC-0003", "Washers", "Fasteners", 3, "B3", 5)  # a long SKU folds
    service.add("FINE-4", "Plenty", "Fasteners", 900, "B4", 5)
    service.adjust("BOLT-1", -15, "job")  # 45 left, 0.5/day -> 90 days
    service.adjust("NUT-2", -3, "job")  # 9 left, 0.1/day -> 90 days
    return db


def test_cli_reorder_report_fits_80_columns(
    reorder_store: Path, atlas: Callable[..., Result]
) -> None:
    # On a terminal (a file or a pipe gets every value whole; TERM=dumb: no colour codes).
    code, shown = on_a_terminal("report", "--type", "reorder", db=reorder_store,
                                env={"COLUMNS": "80", "TERM": "dumb"})  # fmt: skip
    assert code == 0, shown
    out = shown.decode().replace("\r\n", "\n")
    lines = out.splitlines()
    assert all(len(line) <= 80 for line in lines), "\n".join(lines)
    header = next(line for line in lines if "SKU" in line)
    for title in ("Name", "On hand", "Min", "Max", "Order", "Use/day", "Days left"):
        assert title in header
    assert "[red]x[/red]" in out  # text is data, never markup
    nut = next(line for line in lines if line.startswith("NUT-2"))
    assert nut.split()[-5:] == ["20", "-", "31", "0.1", "90"]  # order 20 + max(20, 3) - 9
    washer = next(line for line in lines if "Washers" in line)
    assert washer.split()[-5:] == ["5", "-", "7", "0", "—"]
    assert lines[-1] == "3 items to reorder"
    # Most urgent first; no usage last.
    order = [line.split()[0] for line in lines if line[:3] in ("BOL", "NUT", "WAS")]
    assert order[:2] == ["BOLT-1", "NUT-2"] and order[2].startswith("WASHER-M6")


def test_cli_reorder_report_as_json(reorder_store: Path, atlas: Callable[..., Result]) -> None:
    done = atlas("report", "--type", "reorder", "--json")
    assert done.code == 0, done.err
    envelope = json.loads(done.out)
    assert envelope["success"] is True
    report = envelope["report"]
    assert report["usage_days"] == 30 and report["rule"] == REORDER_RULE
    rows = {row["sku"]: row for row in report["reorder"]}
    assert list(rows) == ["BOLT-1", "NUT-2", "WASHER-M6-ZINC-0003"]
    assert rows["BOLT-1"]["suggested"] == 455
    assert rows["BOLT-1"]["daily_usage"] == 0.5
    assert rows["BOLT-1"]["days_left"] == 90.0
    assert (
        rows["WASHER-M6-ZINC-0003"]["days_left"] is None
        and rows["WASHER-M6-ZINC-0003"]["suggested"] == 7
    )
    assert rows["NUT-2"]["name"] == "Nuts" and rows["NUT-2"]["location"] == "B2"


def test_cli_reorder_report_with_nothing_to_order(db: Path, atlas: Callable[..., Result]) -> None:
    make_service(db).add("OK-1", "Fine", quantity=50, min_stock=5)
    done = atlas("report", "--type", "reorder")
    assert done.code == 0, done.err
    assert done.out.strip() == "0 items to reorder"
