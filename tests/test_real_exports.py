"""Real exports read as their own systems mean them: each fixture is written in the exact
shape the system exports (own data), and imported into a real store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from support import Result

from atlas_tui.formats import read_import
from atlas_tui.services.exchange import import_file
from atlas_tui.services.inventory import InventoryService

FIXTURES = Path(__file__).parent / "fixtures" / "import"


def imported(service: InventoryService, name: str) -> dict[str, tuple[object, ...]]:
    """Import a fixture after a dry run that must predict it exactly; SKU -> what a user sees."""
    planned = import_file(service, FIXTURES / name, dry_run=True)
    result = import_file(service, FIXTURES / name)
    assert [(row.row, row.sku, row.action, row.reason) for row in planned.rows] == [
        (row.row, row.sku, row.action, row.reason) for row in result.rows
    ]
    return {
        item.sku: (item.name, item.quantity, item.category, item.location, item.min_stock)
        for item in service.list_items()
    }


def test_shopify_variants_are_named_after_their_product_and_options(
    service: InventoryService,
) -> None:
    items = imported(service, "shopify_variants.csv")
    # Title, Type and Tags stand only on a Handle's first row; the variants inherit them.
    assert items == {
        "FS-S-MOSS": ("Field Shirt \N{EN DASH} S / Moss", 12, "Shirts", "", 0),
        "FS-M-MOSS": ("Field Shirt \N{EN DASH} M / Moss", 7, "Shirts", "", 0),
        "FS-M-RUST": ("Field Shirt \N{EN DASH} M / Rust", 0, "Shirts", "", 0),
        # Shopify's "Default Title" is no option: the name is the Title alone.
        "KET-1L": ("Camp Kettle 1 L", 9, "Cookware", "", 0),
    }
    rust = service.get("FS-M-RUST")
    assert rust.attributes["Vendor"] == "Larch & Co"
    assert rust.attributes["Tags"] == "flannel, autumn"
    assert rust.attributes["Product Category"].endswith("> Shirts & Tops")
    # A variant's own cells are its own: no image or barcode borrowed from the first row.
    assert rust.attributes["barcode"] == "5012345000031"
    assert "Image Src" not in rust.attributes


def test_a_shopify_row_that_only_adds_an_image_is_no_item() -> None:
    table = read_import((FIXTURES / "shopify_variants.csv").read_bytes(), name="p.csv")
    assert [row.row for row in table.rows] == [2, 3, 4, 6]
    assert all(row.problems == [] for row in table.rows)


def test_woocommerce_stock_is_the_count_not_the_in_stock_flag(
    service: InventoryService,
) -> None:
    items = imported(service, "woocommerce_products.csv")
    # "In stock?" is 0/1; "Stock" is the count and "Low stock amount" the minimum. The
    # category is the first category path as the shop wrote it.
    assert items == {
        "BEE-WAX-250": ("Beeswax Block 250 g", 38, "Workshop > Waxes", "", 10),
        "WICK-ROLL-10": ("Cotton Wick, 10 m roll", 4, "Workshop > Wicks", "", 5),
        "TIN-CANDLE": ("Tin Candle", 0, "Candles > Travel", "", 0),
        # A variation takes its parent's categories (Parent: id:203).
        "TIN-CANDLE-CEDAR": ("Tin Candle - Cedar", 17, "Candles > Travel", "", 3),
        "TIN-CANDLE-LEMON": ("Tin Candle - Lemon", 0, "Candles > Travel", "", 3),
    }
    wax = service.get("BEE-WAX-250")
    assert wax.attributes["Categories"] == "Workshop > Waxes, Gifts"
    assert wax.attributes["In stock?"] == "1"


def test_magento_categories_lose_the_root_and_store_view_rows_are_no_items(
    service: InventoryService,
) -> None:
    items = imported(service, "magento_catalog_product.csv")
    assert items == {
        # notify_on_stock_below is the minimum where the product does not use the default.
        "HK-DAYPACK-20": ("Ridge Daypack 20 L", 42, "Gear/Bags", "", 5),
        "HK-BOTTLE-750": ("Steel Bottle 750 ml", 130, "Gear/Kitchen", "", 0),
        "HK-MAP-ALPS": ("Alps Route Map (PDF)", 0, "", "", 0),
    }
    pack = service.get("HK-DAYPACK-20")
    assert pack.attributes["categories"] == (
        "Default Category/Gear/Bags,Default Category/Gear/Hiking"
    )
    assert pack.attributes["created_at"] == "2/11/25, 9:14 AM"


def test_homebox_columns_are_read_without_their_prefix(service: InventoryService) -> None:
    items = imported(service, "homebox_items.csv")
    # The asset ID is HomeBox's item number; the first label is the category.
    assert items == {
        "000-001": ("Cordless Drill", 1, "Power Tools", "Garage Shelf", 0),
        "000-002": ("AA Batteries", 24, "Batteries", "Hall Cupboard", 0),
        "000-003": ("USB-C Cable 1 m", 2, "", "Office Desk", 0),
    }
    drill = service.get("000-001")
    assert drill.attributes["labels"] == "Power Tools;Workshop"
    assert drill.attributes["serial_number"] == "DR-88213"
    assert drill.attributes["description"] == "18 V drill with two batteries"
    assert drill.attributes["Voltage"] == "18 V"  # a custom field, HB.field.Voltage
    # A warranty date is no expiry of stock: it stays an attribute.
    assert drill.attributes["warranty_expires"] == "2026-04-02"


def test_erpnext_items_take_min_and_home_from_their_child_tables(
    service: InventoryService,
) -> None:
    items = imported(service, "erpnext_item.json")
    # item_defaults names the default warehouse (the home); the minimum is that
    # warehouse's reorder level, else the first reorder level given.
    assert items == {
        "PEN-BLK-12": ("Gel Pen Black (12)", 0, "Stationery", "Stores - QS", 20),
        "PAPER-A4-500": ("Copier Paper A4", 0, "Paper", "Stores - QS", 0),
        "STAPLER-25": ("Desk Stapler", 0, "Office Equipment", "", 2),
    }
    pens = service.get("PEN-BLK-12")
    assert pens.unit == "Box"
    assert pens.attributes["barcode"] == "4006381333931"
    warehouses = [entry["warehouse"] for entry in pens.attributes["reorder_levels"]]
    assert warehouses == ["Shop Floor - QS", "Stores - QS"]


def test_a_repeated_sku_lists_its_rows_once(atlas: Callable[..., Result], tmp_path: Path) -> None:
    source = tmp_path / "stock.csv"
    source.write_text("SKU,Name,Qty\nA-1,Apple,3\nB-1,Bean,2\nA-1,Apple,4\nA-1,Apple,5\n")
    for args in (("--dry-run",), ()):
        result = atlas("import", str(source), *args)
        assert result.code == 1
        refusals = [line.strip() for line in result.out.splitlines() if "row " in line]
        assert refusals == [
            "\N{BALLOT X} row 2 A-1: sku: on rows 2, 4, 5; an item has one location, "
            "so every one is refused",
            "\N{BALLOT X} row 4 A-1: sku: repeats row 2 (all its rows are refused)",
            "\N{BALLOT X} row 5 A-1: sku: repeats row 2 (all its rows are refused)",
        ]
