"""Exports whose rows are not one item each, read as their own systems mean them.

Shopify's product CSV writes a product's own columns (Title, Body, Vendor, Type, Tags...)
only on the first row of each Handle; the rows after it are further variants of that
product, or rows that only add an image.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from atlas_tui.formats.headers import ATTR, normalise
from atlas_tui.formats.table import SourceRow

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
    attribute. A column or field the user's own mapping names is left to it.
    """
    keys = {normalise(header): header for header in headers if header}
    named = {normalise(column) for column in explicit}
    taken = set(explicit.values())
    result = dict(explicit)

    def imply(key: str, target: str) -> None:
        if key in keys and key not in named and target not in taken:
            result[keys[key]] = target
            taken.add(target)

    if "handle" in keys and "option1value" in keys:
        imply("type", "category")
    return result


def _attribute(columns: Mapping[str, str], header: str) -> str | None:
    """The attribute name a header's column was read into, if it was read as one."""
    for column, target in columns.items():
        if normalise(column) == header and target.startswith(ATTR):
            return target[len(ATTR) :]
    return None


def shopify_variants(rows: list[SourceRow], columns: Mapping[str, str]) -> list[SourceRow]:
    """Rows of a Shopify product CSV with each variant row given its product's fields.

    A file without a `Handle` column and `Option1 Value` column is returned as it is. A
    variant row inherits the name, category and attributes of its Handle's first row (not
    those of a variant or image); each row's name becomes the Title plus its option values
    ("Shirt", en dash, "M / Red"), leaving out empty values and Shopify's "Default Title".
    A row of a Handle that holds no SKU, no quantity and no option value only adds an
    image: it is left out.
    """
    handle = _attribute(columns, "handle")
    options = [_attribute(columns, f"option{number}value") for number in (1, 2, 3)]
    if handle is None or options[0] is None:
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
