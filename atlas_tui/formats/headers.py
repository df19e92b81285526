"""Which item field each column of an import feeds: header aliases and `--mapping` specs.

A column's target is written as text: an item field (`"sku"`, `"quantity"`, ...),
`"attr:KEY"` (an attribute read as text), `"json:KEY"` (an attribute read as JSON) or
`"ignore"`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from atlas_tui.domain.errors import ValidationError
from atlas_tui.domain.models import ITEM_FIELDS

TEXT_FIELDS: Final = (
    "sku", "name", "category", "location", "created_at", "updated_at", "unit", "lot", "home"
)  # fmt: skip
WHOLE_FIELDS: Final = ("quantity", "min_stock", "max_stock")
DATE_FIELDS: Final = ("expiry",)
# The fields of an item a row holds (its attributes come from the other columns; its stock
# lines and barcodes are not one cell each).
FIELDS: Final = tuple(
    name for name in ITEM_FIELDS if name not in ("attributes", "lines", "barcodes")
)
# What a row of stock lines adds: the line's lot and expiry, and the item's home location
# (in such a file `location` is where the line's stock is).
LINE_FIELDS: Final = ("lot", "expiry", "home")
TARGET_FIELDS: Final = (*FIELDS, *LINE_FIELDS)
IGNORE: Final = "ignore"
ATTR: Final = "attr:"
JSON: Final = "json:"

# Best first: when several columns of one file match aliases of the same field, the column
# whose alias comes first here wins (e.g. Shopify's "On hand" beats its "Available") and the
# others are kept as attributes. Each field's own name always comes first.
# Deliberately absent: "Description" (a long text, not a name), plain "Type" (Shopify's
# product type, but in other tools anything), "Amount" and "Total" (often money).
ALIASES: Final[Mapping[str, tuple[str, ...]]] = {
    "sku": (
        "sku",
        "Variant SKU",
        "IPN",
        "Item Number",
        "Item No.",
        "Item Code",
        "Internal Reference",
        "default_code",
        "Part Number",
        "Part No.",
        "Product Code",
        "Article Number",
        "Article No.",
        "Code",
        "Product/Internal Reference",
        "product_id/default_code",
    ),
    "name": ("name", "Item Name", "Product Name", "Part Name", "Title"),
    "category": ("category", "Category Name", "Product Category", "Item Group", "Product Type"),
    "quantity": (
        "quantity",
        "Qty",
        "Quantity On Hand",
        "Qty On Hand",
        "On Hand Quantity",
        "On hand (current)",
        "On Hand",
        "Variant Inventory Qty",
        "qty_available",
        "actual_qty",
        "Stock",
        # After "Stock": WooCommerce's "In stock?" is a 0/1 flag beside its "Stock" count.
        "In Stock",
        "Available",
    ),
    "location": (
        "location",
        "Location Name",
        "Storage Location",
        "Storelocation",
        "Bin Location",
        "Bin",
        "Warehouse",
        "location_id",
    ),
    "min_stock": (
        "min_stock",
        "Minimum Stock",
        "Min Amount",
        "Min Qty",
        "Min Quantity",
        "Reorder Level",
        "warehouse_reorder_level",
        "Reorder Point",
        "Low stock amount",
        "notify_on_stock_below",
        "Min",
    ),
    "max_stock": (
        "max_stock",
        "Maximum Stock",
        "Max Amount",
        "Max Qty",
        "Max Quantity",
        "Max",
    ),
    "created_at": ("created_at",),
    "updated_at": ("updated_at",),
    "unit": ("unit", "Unit of Measure", "UOM", "stock_uom", "Units"),
    "lot": (
        "lot",
        "Lot/Serial Number",
        "Lot Number",
        "Batch",
        "Batch Code",
        "Batch Number",
        "batch_no",
        "lot_id",
        "lot_name",
    ),
    "expiry": (
        "expiry",
        "Expiry Date",
        "Expiration Date",
        "expiration_date",
        "Best Before",
        "Best Before Date",
        "use_by",
        "Use By Date",
    ),
    "home": ("home", "home_location"),
}


# Columns that hold what a scanner reads: kept as the `barcode` attribute, which scan mode
# looks codes up by. Only the first such column of a file; later ones keep their names.
BARCODE_ALIASES: Final = ("barcode", "Variant Barcode", "EAN", "EAN13", "EAN-13", "UPC", "GTIN")


def normalise(header: str) -> str:
    """The key headers are matched by: casefolded letters and digits only.

    `"Variant SKU"`, `"variant_sku"` and `"VARIANT-SKU"` all give `"variantsku"`. A header
    with no letter or digit (`"#"`) keeps its casefolded text so it can still be named.
    """
    folded = header.casefold()
    key = "".join(char for char in folded if char.isalnum())
    return key or folded.strip()


def _alias_index() -> dict[str, tuple[str, int]]:
    index: dict[str, tuple[str, int]] = {}
    for field, aliases in ALIASES.items():
        for rank, alias in enumerate(aliases):
            index.setdefault(normalise(alias), (field, rank))
    return index


# normalised header -> (field, rank of the alias)
ALIAS_INDEX: Final = _alias_index()
_FIELD_KEYS: Final = {normalise(field): field for field in TARGET_FIELDS}
_BARCODE_KEYS: Final = frozenset(normalise(alias) for alias in BARCODE_ALIASES)


def header_text(cell: str) -> str:
    """A header cell as a column name: stripped, except the key of an `attr:`/`json:` column,
    which is kept exactly so that attribute names round-trip."""
    if cell[:5].casefold() in (ATTR, JSON):
        return cell[:5].casefold() + cell[5:]
    return cell.strip()


def parse_target(spec: str, target: str) -> str:
    """The canonical target text for a `--mapping` right-hand side; `spec` names the mapping in
    the error."""
    target = target.strip()
    prefix = target[:5].casefold()
    if prefix in (ATTR, JSON):
        key = target[5:].strip()
        if not key:
            raise ValidationError(
                "mapping", f"{shown_spec(spec)} names no attribute after {prefix}"
            )
        return prefix + key
    if target.casefold() == IGNORE:
        return IGNORE
    field = _FIELD_KEYS.get(normalise(target)) if target else None
    if field is None:
        choices = ", ".join(TARGET_FIELDS)
        raise ValidationError(
            "mapping",
            f"{shown_spec(spec)}: {target!r} is not a field; use one of {choices}, "
            "attr:NAME, json:NAME or ignore",
        )
    return field


def listing(names: Sequence[str], limit: int = 12) -> str:
    """Column names quoted and comma-separated for a one-line message, long lists cut short."""
    shown = ", ".join(repr(name) for name in names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def shown_spec(spec: object) -> str:
    """A mapping spec quoted for a message."""
    if not isinstance(spec, str):
        return f"{spec!r:.60}"
    return repr(spec) if len(spec) <= 60 else repr(spec[:57] + "...")


def check_mapping(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Validated `{column: target}` from (column, target) pairs, targets made canonical.

    Refused (`ValidationError("mapping", ...)`): an empty column name, an unknown target,
    one column (compared as headers are) given two targets, or two columns given the same
    item field.
    """
    result: dict[str, str] = {}
    written: dict[str, str] = {}  # normalised column -> the column as first written
    owner: dict[str, str] = {}  # item field -> the column mapped to it
    for column, raw_target in pairs:
        spec = f"{column}={raw_target}"
        name = column.strip()
        if not name:
            raise ValidationError("mapping", f"{shown_spec(spec)} names no column before '='")
        target = parse_target(spec, raw_target)
        key = normalise(name)
        first = written.setdefault(key, name)
        if result.get(first, target) != target:
            raise ValidationError(
                "mapping", f"column {first!r} is mapped twice ({result[first]} and {target})"
            )
        if target in TARGET_FIELDS and normalise(owner.setdefault(target, first)) != key:
            raise ValidationError(
                "mapping", f"columns {owner[target]!r} and {name!r} are both mapped to {target}"
            )
        result[first] = target
    return result


def parse_mapping(specs: Sequence[str]) -> dict[str, str]:
    """`["Artikel=sku", "Notes=attr:note"]` -> `{"Artikel": "sku", "Notes": "attr:note"}`.

    Each spec is `COLUMN=TARGET`, split at the first `=`; TARGET is an item field (in any
    case or spacing: `Min Stock` = `min_stock`), `attr:NAME`, `json:NAME` or `ignore`.
    Refusals are `ValidationError("mapping", ...)` naming the spec.
    """
    if isinstance(specs, str | bytes) or not isinstance(specs, Sequence):
        raise ValidationError("mapping", "must be a list of COLUMN=FIELD texts")
    pairs: list[tuple[str, str]] = []
    for spec in specs:
        if not isinstance(spec, str):
            raise ValidationError("mapping", f"must be COLUMN=FIELD texts, got {shown_spec(spec)}")
        column, sep, target = spec.partition("=")
        if not sep:
            raise ValidationError(
                "mapping", f"{shown_spec(spec)} has no '='; write COLUMN=FIELD, e.g. Artikel=sku"
            )
        pairs.append((column, target))
    return check_mapping(pairs)


def resolve_columns(headers: Sequence[str], explicit: Mapping[str, str]) -> list[str]:
    """The target of each column (`headers` as given by `header_text`).

    `explicit` is `check_mapping`'s result. Order of precedence: the mapping, then
    `attr:KEY`/`json:KEY` headers, then aliases (best-ranked alias wins a field; the losers
    become attributes), then an attribute named by the header. Empty headers are ignored.
    A mapping naming a column the file lacks is refused.
    """
    keys = [normalise(header) if header else "" for header in headers]
    mapped = {normalise(column): target for column, target in explicit.items()}
    targets: list[str] = [""] * len(headers)
    claimed: dict[str, int] = {}
    candidates: dict[str, list[tuple[int, int]]] = {}
    for index, (header, key) in enumerate(zip(headers, keys, strict=True)):
        if not header:
            targets[index] = IGNORE
        elif key in mapped:
            target = mapped[key]
            if target in claimed:
                raise ValidationError(
                    "mapping",
                    f"{header!r} matches columns {claimed[target] + 1} and {index + 1}; "
                    f"only one can be {target}",
                )
            if target in TARGET_FIELDS:
                claimed[target] = index
            targets[index] = target
        elif header.startswith((ATTR, JSON)) and header[5:].strip():
            targets[index] = header
        elif key in ALIAS_INDEX:
            field, rank = ALIAS_INDEX[key]
            candidates.setdefault(field, []).append((rank, index))
    for field, found in candidates.items():
        winner = None if field in claimed else min(found)[1]
        for _, index in found:
            targets[index] = field if index == winner else ATTR + headers[index]
    barcode = ATTR + "barcode"
    for index, header in enumerate(headers):
        if not targets[index]:
            is_barcode = keys[index] in _BARCODE_KEYS and barcode not in targets
            targets[index] = barcode if is_barcode else ATTR + header
    present_keys = set(keys)
    missing = [column for column in explicit if normalise(column) not in present_keys]
    if missing and any(headers):
        present = listing([header for header in headers if header])
        raise ValidationError(
            "mapping", f"no column {missing[0]!r} in the file (its columns: {present})"
        )
    return _unique_attributes(targets)


def _unique_attributes(targets: list[str]) -> list[str]:
    """Attribute targets made distinct: a repeated one becomes `KEY (2)`, `KEY (3)`..."""
    seen: set[str] = set()
    result: list[str] = []
    for target in targets:
        if target.startswith((ATTR, JSON)):
            key = target[5:]
            unique, count = key, 1
            while unique in seen:
                count += 1
                unique = f"{key} ({count})"
            seen.add(unique)
            target = target[:5] + unique
        result.append(target)
    return result
