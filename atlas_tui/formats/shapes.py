"""Exports whose rows are not one item each, read as their own systems mean them.

Shopify's product CSV writes a product's own columns (Title, Body, Vendor, Type, Tags...)
only on the first row of each Handle; the rows after it are further variants of that
product, or rows that only add an image. WooCommerce and Magento list every category of
a product in one cell, as paths. HomeBox prefixes every column with `HB.`. ERPNext keeps
an item's minimum and default warehouse in child tables. A system is recognised by its
headers (`system`); ATLAS's own exports never match one, so they round-trip unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from atlas_tui.domain.errors import ValidationError
from atlas_tui.formats.headers import ALIAS_INDEX, ATTR, normalise
from atlas_tui.formats.numbers import whole_value
from atlas_tui.formats.table import SourceRow

SHOPIFY: Final = "Shopify"
WOOCOMMERCE: Final = "WooCommerce"
MAGENTO: Final = "Magento"
HOMEBOX: Final = "HomeBox"
ERPNEXT: Final = "ERPNext"
_HB: Final = "hb."
_HB_FIELD: Final = "field."
_HB_TARGETS: Final = {"assetid": "sku", "labels": "category"}
# Shopify writes this option value for a product that has no variants of its own.
_NO_OPTION: Final = "Default Title"
# A Shopify name with its options: "Shirt", an en dash, "M / Red" (Shopify's own variant title).
_DASH: Final = " \N{EN DASH} "
_OPTION_JOIN: Final = " / "
# Columns that describe one variant or one image, never inherited from the product's row.
_OWN_PREFIXES: Final = ("variant", "image", "option1value", "option2value", "option3value")


def implied_mapping(headers: Sequence[str], explicit: Mapping[str, str]) -> dict[str, str]:
    """`explicit` plus what a recognised system's columns mean beyond their aliases.

    Shopify (a `Handle` and an `Option1 Value` column): its `Type` is the shop's own
    grouping, so it is the category; `Product Category`, Shopify's taxonomy path, stays an
    attribute. WooCommerce and Magento: `Categories` is the category (see `_category_paths`);
    Magento's own `created_at`/`updated_at` stay text attributes. HomeBox: see
    `_homebox_mapping`. ERPNext: `item_name` is the name, not its document `name`.
    A column or field the user's own mapping names is left to it.
    """
    keys = {normalise(header): header for header in headers if header}
    named = {normalise(column) for column in explicit}
    taken = set(explicit.values())
    result = dict(explicit)

    def imply(key: str, target: str) -> None:
        if key in keys and key not in named and target not in taken:
            named.add(key)
            result[keys[key]] = target
            taken.add(target)

    kind = system(headers)
    if kind == HOMEBOX:
        _homebox_mapping(headers, imply)
    if kind == SHOPIFY:
        imply("type", "category")
    elif kind == ERPNEXT:
        # `name` is ERPNext's document name (the item code again); `item_name` the name.
        imply("itemname", "name")
    elif kind in (WOOCOMMERCE, MAGENTO):
        imply("categories", "category")
    if kind == MAGENTO:
        # Magento's own dates ("2/11/25, 9:14 AM") are no ATLAS timestamps: kept as text.
        imply("createdat", ATTR + "created_at")
        imply("updatedat", ATTR + "updated_at")
    return result


def _homebox_mapping(headers: Sequence[str], imply: Callable[[str, str], None]) -> None:
    """HomeBox names every column `HB.<field>`: the field names are matched as ATLAS's own
    headers are; `asset_id` is the SKU (HomeBox's own item number) and the first of the
    `labels` the category. The other columns are attributes without the prefix (custom
    fields, `HB.field.NAME`, as NAME)."""
    for header in headers:
        if not header.casefold().startswith(_HB):
            continue
        bare = header[len(_HB) :]
        if bare.casefold().startswith(_HB_FIELD):
            bare = bare[len(_HB_FIELD) :]
        key = normalise(bare)
        target = _HB_TARGETS.get(key) or ALIAS_INDEX.get(key, ("", 0))[0]
        if target:
            imply(normalise(header), target)
        imply(normalise(header), ATTR + bare)


def system(headers: Sequence[str]) -> str:
    """Which system's export these headers are ("" when none is recognised)."""
    keys = {normalise(header) for header in headers}
    if {"hbname", "hbquantity"} <= keys:
        return HOMEBOX
    if {"itemcode", "itemname"} <= keys and {"reorderlevels", "itemdefaults"} & keys:
        return ERPNEXT
    if {"handle", "option1value"} <= keys:
        return SHOPIFY
    if {"instock", "stock", "categories"} <= keys and "backordersallowed" in keys:
        return WOOCOMMERCE
    if {"sku", "attributesetcode", "producttype", "categories"} <= keys:
        return MAGENTO
    return ""


def read_as_exported(
    headers: Sequence[str], rows: list[SourceRow], columns: Mapping[str, str]
) -> list[SourceRow]:
    """The rows of a recognised system's export as that system means them."""
    kind = system(headers)
    if kind == SHOPIFY:
        return shopify_variants(rows, columns)
    if kind == MAGENTO:
        rows = _magento_rows(rows, columns)
    if kind in (WOOCOMMERCE, MAGENTO, HOMEBOX):
        header = next((column for column, target in columns.items() if target == "category"), None)
        if header is not None and normalise(header) in ("categories", "hblabels"):
            return _category_paths(rows, header, kind, columns)
    return rows


def _magento_rows(rows: list[SourceRow], columns: Mapping[str, str]) -> list[SourceRow]:
    """Magento's own rows: a row for a store view (`store_view_code` set) only overrides
    texts of the product's global row, so it is no item; `notify_on_stock_below` is the
    item's minimum only where `use_config_notify_stock_qty` is 0 (else the store default
    applies and the cell holds a placeholder)."""
    view = _attribute(columns, "storeviewcode")
    configured = _attribute(columns, "useconfignotifystockqty")
    result: list[SourceRow] = []
    for row in rows:
        if view is not None and row.attributes.get(view):
            continue
        if configured is not None and row.attributes.get(configured, "1") != "0":
            fields = {key: value for key, value in row.fields.items() if key != "min_stock"}
            row = SourceRow(row.row, fields, dict(row.attributes), list(row.problems))
        result.append(row)
    return result


def _split_list(text: str, separator: str = ",") -> list[str]:
    """A list of `separator`-separated items that may hold an escaped separator (`\\,`,
    WooCommerce)."""
    parts = [""]
    escaped = False
    for char in text:
        if escaped:
            parts[-1] += char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == separator:
            parts.append("")
        else:
            parts[-1] += char
    return [part.strip() for part in parts if part.strip()]


def _category_paths(
    rows: list[SourceRow], header: str, kind: str, columns: Mapping[str, str]
) -> list[SourceRow]:
    """Each row's category: the first of its category paths (`Clothing > Tshirts`), without
    Magento's root category (`Default Category/Gear/Bags` -> `Gear/Bags`); the whole list is
    kept as the attribute named by the column. A WooCommerce variation has no categories of
    its own: it takes its parent's (`Parent` holds `id:NN` or the parent's SKU). HomeBox's
    labels (`HB.labels`, `;`-separated) are read the same way and kept as `labels`."""
    separator = ";" if kind == HOMEBOX else ","
    name = header[len(_HB) :] if kind == HOMEBOX else header
    by_parent: dict[str, str] = {}
    ident = _attribute(columns, "id")
    parent = _attribute(columns, "parent")
    result: list[SourceRow] = []
    for row in rows:
        fields = dict(row.fields)
        attributes = dict(row.attributes)
        listed = fields.get("category")
        if listed is None and parent is not None:
            key = str(row.attributes.get(parent, ""))
            listed = by_parent.get(key)
        if listed is not None:
            paths = _split_list(listed, separator)
            if kind == MAGENTO:
                paths = [path.partition("/")[2] or path for path in paths]
            attributes[name] = listed
            if paths:
                fields["category"] = paths[0]
            else:
                fields.pop("category", None)
            if row.sku:
                by_parent[row.sku] = listed
            if ident is not None and ident in row.attributes:
                by_parent[f"id:{row.attributes[ident]}"] = listed
        result.append(SourceRow(row.row, fields, attributes, list(row.problems)))
    return result


def _attribute(columns: Mapping[str, str], header: str) -> str | None:
    """The attribute name a header's column was read into, if it was read as one."""
    for column, target in columns.items():
        if normalise(column) == header and target.startswith(ATTR):
            return target[len(ATTR) :]
    return None


def shopify_variants(rows: list[SourceRow], columns: Mapping[str, str]) -> list[SourceRow]:
    """Rows of a Shopify product CSV with each variant row given its product's fields.

    A variant row inherits the name, category and attributes of its Handle's first row (not
    those of a variant or image); each row's name becomes the Title plus its option values
    ("Shirt", en dash, "M / Red"), leaving out empty values and Shopify's "Default Title".
    A row of a Handle that holds no SKU, no quantity and no option value only adds an
    image: it is left out.
    """
    handle = _attribute(columns, "handle")
    options = [_attribute(columns, f"option{number}value") for number in (1, 2, 3)]
    if handle is None:
        return rows
    own = {
        target[len(ATTR) :]
        for column, target in columns.items()
        if target.startswith(ATTR) and normalise(column).startswith(_OWN_PREFIXES)
    }
    own.add("barcode")  # Shopify's Variant Barcode, read as the `barcode` attribute
    result: list[SourceRow] = []
    product: SourceRow | None = None
    for row in rows:
        key = row.attributes.get(handle)
        if key is None:
            product = None
            result.append(row)
            continue
        values = [row.attributes.get(name, "") for name in options if name is not None]
        if product is None or product.attributes.get(handle) != key:
            product = row
        elif not (row.sku or "quantity" in row.fields or any(values)):
            continue  # an image row
        fields = dict(row.fields)
        attributes = dict(row.attributes)
        if row is not product:
            for field in ("name", "category"):
                if field not in fields and field in product.fields:
                    fields[field] = product.fields[field]
            for name, value in product.attributes.items():
                if name not in own:
                    attributes.setdefault(name, value)
        shown = [value for value in values if value and value != _NO_OPTION]
        if "name" in fields and shown:
            fields["name"] = fields["name"] + _DASH + _OPTION_JOIN.join(shown)
        # Key order as read: the SKU first problem stays first, the rest follow.
        result.append(SourceRow(row.row, fields, attributes, list(row.problems)))
    return result


def erpnext_items(keys: Sequence[str], rows: list[SourceRow]) -> list[SourceRow]:
    """Rows of ERPNext Item documents (JSON, `item_code` beside `reorder_levels` or
    `item_defaults`) as ERPNext means them: the first `item_defaults` entry's
    `default_warehouse` is the home location, and the minimum is the
    `warehouse_reorder_level` of the `reorder_levels` entry for that warehouse (else of the
    first entry); the first of its `barcodes` is the `barcode` scan mode finds it by. The
    lists themselves stay attributes, a warehouse per entry."""
    if "item_code" not in keys or not {"reorder_levels", "item_defaults"} & set(keys):
        return rows
    result: list[SourceRow] = []
    for row in rows:
        fields = dict(row.fields)
        problems = list(row.problems)
        home = next(
            (
                entry["default_warehouse"]
                for entry in _entries(row.attributes.get("item_defaults"))
                if isinstance(entry.get("default_warehouse"), str)
                and entry["default_warehouse"].strip()
            ),
            None,
        )
        if home is not None and "location" not in fields:
            fields["location"] = home.strip()
        levels = [
            entry
            for entry in _entries(row.attributes.get("reorder_levels"))
            if entry.get("warehouse_reorder_level") not in (None, "")
        ]
        chosen = next((entry for entry in levels if entry.get("warehouse") == home), None)
        chosen = chosen or (levels[0] if levels else None)
        if chosen is not None and "min_stock" not in fields:
            try:
                fields["min_stock"] = whole_value("min_stock", chosen["warehouse_reorder_level"])
            except ValidationError as error:
                problems.append(error.message)
        attributes = dict(row.attributes)
        codes = [
            entry["barcode"]
            for entry in _entries(attributes.get("barcodes"))
            if isinstance(entry.get("barcode"), str) and entry["barcode"].strip()
        ]
        if codes and "barcode" not in attributes:
            attributes["barcode"] = codes[0].strip()  # what scan mode looks codes up by
        result.append(SourceRow(row.row, fields, attributes, problems))
    return result


def _entries(value: object) -> list[dict[str, Any]]:
    """The objects of a list of child rows (anything else: none)."""
    if not isinstance(value, list):
        return []
    return [entry for entry in value if isinstance(entry, dict)]
