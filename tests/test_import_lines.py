"""Files of stock lines: one row per SKU, location, lot and expiry, in and out."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support import Result, run_atlas

from atlas_tui.factory import make_service
from atlas_tui.services import imports
from atlas_tui.services.exchange import export_text, import_file, read_file
from atlas_tui.services.inventory import InventoryService

FIXTURES = Path(__file__).parent / "fixtures" / "import"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def items_of(service: InventoryService) -> list[dict[str, Any]]:
    return [item.to_dict() for item in service.list_items()]


def lines_of(service: InventoryService, sku: str) -> list[tuple[str, str, str, int]]:
    return [(line.location, line.lot, line.expiry, line.quantity) for line in service.stock(sku)]


def ok(service: InventoryService) -> bool:
    verdict = service.verify()
    assert verdict["problems"] == []
    return bool(verdict["ok"])


def _stock_in_lines(service: InventoryService) -> None:
    """Lots, expiry dates, several locations, a lot's trace at zero, an item holding
    nothing, a home holding none of its item's stock, awkward text."""
    service.add("MILK-1", "Milk 1L", "Dairy", 0, "COLD/1", 5, 80, attributes={"n": 3})
    service.receive("MILK-1", 12, "in", location="COLD/1", lot="L-07", expiry="2027-01-31")
    service.receive("MILK-1", 6, "in", location="COLD/1", lot="L-08", expiry="2027-02-14")
    service.receive("MILK-1", 4, "in", location="COLD/2", lot="L-08", expiry="2027-02-14")
    service.receive("MILK-1", 3, "in", location="COLD/1", expiry="2027-03-01")
    service.receive("MILK-1", 2, "in", location="COLD/1", expiry="2027-03-09")
    service.add("BOLT-8", "Hex bolt M8", "Hardware", 40, "A-1", attributes={"note": "=1+1"})
    service.receive("BOLT-8", 25, "in", location="@B-2")
    service.add("GLUE-2", "Glue", quantity=7, location="SHELF")
    service.receive("GLUE-2", 5, "in", location="SHELF", lot="G-1")
    service.pick("GLUE-2", 5, "out", location="SHELF", lot="G-1")  # G-1's trace stays
    service.add("EMPTY-1", "Nothing yet", location="NOWHERE")
    service.add("AWAY-1", "Kept away", quantity=0, location="HOME-1")
    service.receive("AWAY-1", 9, "in", location="FAR-9")


@pytest.mark.parametrize("file_format", ["csv", "json"])
def test_a_lines_export_gives_back_the_same_items_and_lines_and_is_a_no_op_on_its_store(
    service: InventoryService, tmp_path: Path, file_format: str
) -> None:
    _stock_in_lines(service)
    assert ("SHELF", "G-1", "", 0) in lines_of(service, "GLUE-2")
    exported = write(
        tmp_path / f"lines.{file_format}", export_text(service, file_format, lines=True)
    )
    fresh = make_service(tmp_path / "fresh" / service.repository.path.name)
    result = import_file(fresh, exported)
    assert result.counts == {"added": 5, "updated": 0, "unchanged": 0, "refused": 0}
    assert items_of(fresh) == items_of(service)
    assert lines_of(fresh, "MILK-1") == lines_of(service, "MILK-1")
    assert ok(fresh)
    before = service.repository.movement_count()
    again = import_file(service, exported)
    assert again.counts == {"added": 0, "updated": 0, "unchanged": 5, "refused": 0}
    assert service.repository.movement_count() == before
    assert ok(service)


def test_the_item_export_of_a_store_in_lines_still_reimports_as_a_no_op(
    service: InventoryService, tmp_path: Path
) -> None:
    """One row per item (home, total) is not a file of lines: its location is the home."""
    _stock_in_lines(service)
    before = items_of(service)
    exported = write(tmp_path / "items.csv", export_text(service, "csv"))
    assert (
        exported.read_text()
        .splitlines()[0]
        .startswith(
            "sku,name,category,quantity,location,min_stock,max_stock,created_at,updated_at,unit"
        )
    )
    result = import_file(service, exported)
    assert result.counts["unchanged"] == 5
    assert items_of(service) == before


def test_an_odoo_stock_quant_export_imports_into_lines(
    service: InventoryService, tmp_path: Path
) -> None:
    service.add("TAPE-MSK48", "Masking Tape 48mm", quantity=0, location="WH/Stock/Shelf 2")
    service.receive("TAPE-MSK48", 100, "in", location="WH/Stock/Shelf 2")
    service.receive("TAPE-MSK48", 10, "in", location="WH3/Overflow")
    result = import_file(service, FIXTURES / "odoo_stock_quant.csv")
    assert result.counts == {"added": 2, "updated": 1, "unchanged": 0, "refused": 0}
    assert lines_of(service, "PAINT-W5") == [
        ("WH/Stock/Shelf 1", "LOT-2611-A", "2027-03-31", 12),
        ("WH/Stock/Shelf 1", "LOT-2612-B", "2027-06-30", 20),
        ("WH2/Stock", "LOT-2612-B", "2027-06-30", 8),
    ]
    paint = service.get("PAINT-W5")
    assert (paint.name, paint.quantity, paint.location, paint.unit) == (
        "Wall Paint White 5L",
        40,
        "WH/Stock/Shelf 1",
        "Units",
    )
    # The same on every row: the item's; different per row: a line's, which lines lack.
    assert paint.attributes == {"Company": "Northwind Supplies"}
    # A column that differs between the lines of an item describes lines: no item keeps it.
    assert "Reserved Quantity" not in service.get("GLUE-PVA1").attributes
    assert result.rows[0].notes == (
        "'Reserved Quantity' not kept: it differs between the stock lines of an item in this file",
    )
    # A stored item: the locations the file names are as it says, the others kept.
    assert lines_of(service, "TAPE-MSK48") == [
        ("WH/Stock/Shelf 2", "", "", 144),
        ("WH2/Stock", "", "", 36),
        ("WH3/Overflow", "", "", 10),
    ]
    assert result.lines_kept == 1
    assert result.to_dict()["lines_kept"] == 1
    history = service.history("TAPE-MSK48")[0]
    assert history.kind == "count" and history.details["lines"] == [
        ["WH/Stock/Shelf 2", "", "", 100, 144],
        ["WH2/Stock", "", "", 0, 36],
    ]
    assert ok(service)
    again = import_file(service, FIXTURES / "odoo_stock_quant.csv")
    assert again.counts["unchanged"] == 3
    assert ok(service)


def test_a_lot_the_file_no_longer_holds_at_a_location_keeps_its_trace(
    service: InventoryService, tmp_path: Path
) -> None:
    service.add("V-1", "Vaccine", quantity=0, location="FRIDGE")
    service.receive("V-1", 5, "in", location="FRIDGE", lot="R-1", expiry="2027-01-31")
    service.receive("V-1", 3, "in", location="SHELF", lot="R-2")
    source = write(tmp_path / "v.csv", "sku,location,lot,quantity\nV-1,FRIDGE,R-3,4\n")
    result = import_file(service, source)
    assert result.counts["updated"] == 1 and result.lines_kept == 1
    assert lines_of(service, "V-1") == [
        ("FRIDGE", "R-1", "2027-01-31", 0),
        ("FRIDGE", "R-3", "", 4),
        ("SHELF", "R-2", "", 3),
    ]
    assert service.history("V-1")[0].details["lines"] == [
        ["FRIDGE", "R-1", "2027-01-31", 5, 0],
        ["FRIDGE", "R-3", "", 0, 4],
    ]
    assert import_file(service, source).counts["unchanged"] == 1
    assert ok(service)


def test_an_inventree_stock_export_imports_into_lines(service: InventoryService) -> None:
    # InvenTree's stock export names the part by its id only.
    result = import_file(service, FIXTURES / "inventree_stock_items.csv", mapping=["Part ID=sku"])
    assert result.counts == {"added": 3, "updated": 0, "unchanged": 0, "refused": 0}
    assert lines_of(service, "7") == [
        ("Drawer D4", "B-2026-02", "", 250),
        ("Reel Rack R1", "B-2025-31", "", 4000),
    ]
    assert lines_of(service, "12") == [
        ("Chem Cabinet C2", "FX-121", "2027-09-30", 6),
        ("Drawer D4", "FX-118", "2027-04-30", 15),
    ]
    flux = service.get("12")
    assert (flux.name, flux.location, flux.quantity) == ("Flux Pen No-Clean", "Drawer D4", 21)
    # Columns of the stock record (its id, packaging, dates) differ between an item's lines:
    # kept by no item. What every line of an item agrees on is the item's.
    assert service.get("19").attributes == {
        "Status": "OK",
        "Status Code": "10",
        "Stocktake": "2026-08-14",
    }
    assert flux.attributes == {"Status": "OK", "Status Code": "10"}
    assert ok(service)


def test_an_erpnext_bin_report_gives_a_line_per_warehouse(
    service: InventoryService, tmp_path: Path
) -> None:
    source = write(
        tmp_path / "bin.csv",
        "item_code,item_name,warehouse,actual_qty,stock_uom\n"
        "RM-STEEL,Steel Sheet,Stores - AC,420,Nos\n"
        "RM-STEEL,Steel Sheet,Work In Progress - AC,35,Nos\n",
    )
    result = import_file(service, source)
    assert result.counts["added"] == 1
    assert lines_of(service, "RM-STEEL") == [
        ("Stores - AC", "", "", 420),
        ("Work In Progress - AC", "", "", 35),
    ]
    assert [row.to_dict().get("with_row") for row in result.rows] == [None, 2]
    assert ok(service)


def test_a_repeated_sku_location_and_lot_is_refused_naming_its_rows(
    service: InventoryService, tmp_path: Path
) -> None:
    source = write(
        tmp_path / "dup.csv",
        "sku,name,location,lot,quantity\n"
        "P-1,Paint,A-1,L1,5\n"  # row 2
        "P-1,Paint,A-1,L2,3\n"  # row 3: another lot, fine
        "p-1,Paint,a-1,l1,7\n"  # row 4: row 2 again, in other case
        "Q-1,Other,A-1,,1\n",  # row 5
    )
    result = import_file(service, source)
    reason = (
        "location: rows 2, 4 all give 'P-1' at A-1 lot L1; a line may be given once, "
        "so every one is refused"
    )
    assert {(row.row, row.reason) for row in result.of("refuse")} == {(2, reason), (4, reason)}
    assert lines_of(service, "P-1") == [("A-1", "L2", "", 3)]
    assert service.get("Q-1").quantity == 1
    assert ok(service)


def test_rows_of_one_sku_that_disagree_on_an_item_field_are_refused(
    service: InventoryService, tmp_path: Path
) -> None:
    source = write(
        tmp_path / "names.csv",
        "sku,name,location,quantity,min_stock\n"
        "N-1,Nut M6,A-1,5,10\n"
        "N-1,Nut M6,B-1,5,20\n"
        "K-1,Key,A-1,1,\n"
        "K-1,Key,B-1,2,\n",
    )
    result = import_file(service, source)
    reason = (
        "minimum: rows 2, 3 give 'N-1' different values (10, 20); an item has one minimum, "
        "so these rows are refused"
    )
    assert [(row.row, row.reason) for row in result.of("refuse")] == [(2, reason), (3, reason)]
    assert service.repository.get("N-1") is None
    assert service.get("K-1").quantity == 3
    assert ok(service)


def test_an_expiry_that_is_not_an_iso_date_is_refused_naming_its_column(
    service: InventoryService, tmp_path: Path
) -> None:
    source = write(
        tmp_path / "dates.csv",
        "sku,name,location,Best Before,quantity\n"
        "E-1,Eggs,COLD,2027-01-31,6\n"
        "E-1,Eggs,COLD/2,2027-02-28 00:00:00,6\n"
        "E-1,Eggs,COLD/3,2027-03-31T08:00:00+02:00,6\n"
        "E-2,Butter,COLD,31/01/2027,2\n"
        "E-3,Cream,COLD,2027-02-30,2\n",
    )
    result = import_file(service, source)
    assert [(row.row, row.reason) for row in result.of("refuse")] == [
        (
            5,
            "expiry: '31/01/2027' in column 'Best Before' is not a date; write it as "
            "YYYY-MM-DD (2027-01-31; a date and time such as 2027-01-31 00:00:00 is read as "
            "its date)",
        ),
        (6, "expiry: '2027-02-30' in column 'Best Before' is not a date of the calendar"),
    ]
    assert [line[2] for line in lines_of(service, "E-1")] == [
        "2027-01-31",
        "2027-02-28",
        "2027-03-31",
    ]
    assert ok(service)


def test_a_row_of_a_line_whose_item_another_writer_changed_is_refused_with_its_item(
    service: InventoryService, tmp_path: Path
) -> None:
    service.add("W-1", "Washer", quantity=10, location="A-1")
    source = write(tmp_path / "w.csv", "sku,location,quantity\nW-1,A-1,4\nW-1,B-1,6\nW-2,A-1,1\n")
    table = read_file(source)
    planned = imports.plan_rows(table, service.repository, service.now())
    assert [row.action for row in planned] == ["update", "update", "refuse"]
    service.adjust("W-1", -1, "meanwhile")
    checked = imports.recheck(planned, service.repository)
    assert [row.action for row in checked] == ["refuse", "refuse", "refuse"]
    assert checked[0].reason == checked[1].reason
    assert "changed by another writer" in checked[1].reason
    assert imports.kept(planned, checked) == [False]


def test_cli_exports_lines_and_imports_them_into_a_fresh_store(
    service: InventoryService, atlas: Callable[..., Result], tmp_path: Path
) -> None:
    _stock_in_lines(service)
    expected = items_of(service)
    service.repository.close()
    shown = atlas("export", "--lines")
    assert shown.code == 0, shown.err
    assert shown.out.splitlines()[0].startswith(
        "sku,name,category,unit,location,lot,expiry,quantity,home,min_stock,max_stock"
    )
    target = tmp_path / "out" / "lines.json"
    written = atlas("export", "--lines", "--out", str(target))
    assert written.code == 0, written.err
    assert written.out.strip() == f"exported 5 items (11 stock lines) as json to {target}"
    document = json.loads(target.read_text())
    assert document["format"] == "atlas-lines"
    fresh = tmp_path / "fresh" / service.repository.path.name
    dry = run_atlas("import", str(target), "--dry-run", db=fresh)
    assert dry.code == 0, dry.err
    assert dry.out.count("  + ") == 5
    done = run_atlas("import", str(target), db=fresh)
    assert (done.code, done.out.strip()) == (
        0,
        "imported: added 5, updated 0, 0 rows refused (of 11 rows)",
    )
    assert items_of(make_service(fresh)) == expected
    assert run_atlas("verify", db=fresh).code == 0
    same = atlas("import", str(target))
    assert (
        same.out.strip() == "imported: added 0, updated 0, 5 unchanged, 0 rows refused (of 11 rows)"
    )


def test_the_api_exports_lines_as_data_or_to_a_file(db: Path, tmp_path: Path) -> None:
    from atlas_tui.api import AtlasAPI

    api = AtlasAPI(db)
    api.add_item("S-1", "Screw", quantity=4, location="A-1")
    assert api.receive("S-1", 2, location="B-1", lot="K9", expiry="2028-05-01")["success"]
    shown = api.export_items("json", lines=True)
    rows = json.loads(shown["export"]["data"])["items"]
    assert [(row["location"], row["lot"], row["expiry"], row["quantity"]) for row in rows] == [
        ("A-1", "", "", 4),
        ("B-1", "K9", "2028-05-01", 2),
    ]
    written = api.export_items("csv", tmp_path / "lines.csv", lines=True)
    assert (written["export"]["items"], written["export"]["lines"]) == (1, 2)
    assert api.export_items("csv", lines="yes")["success"] is False
