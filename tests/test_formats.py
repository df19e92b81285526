"""The file layer of import/export: reading CSV/JSON into rows, writing CSV/JSON back out."""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from atlas_tui.domain.errors import ValidationError
from atlas_tui.domain.models import InventoryItem
from atlas_tui.formats import (
    ALIASES,
    EXPORT_COLUMNS,
    FIELDS,
    ImportTable,
    SourceRow,
    detect_delimiter,
    export_csv,
    export_json,
    neutralise,
    parse_mapping,
    parse_whole,
    read_import,
    restore,
)
from atlas_tui.formats.headers import normalise

FIXTURES = Path(__file__).parent / "fixtures" / "import"


def read(text: str, **options: Any) -> ImportTable:
    return read_import(text.encode(), **options)


def only_row(text: str, **options: Any) -> SourceRow:
    rows = read(text, **options).rows
    assert len(rows) == 1, rows
    return rows[0]


def fixture(name: str, **options: Any) -> ImportTable:
    return read_import((FIXTURES / name).read_bytes(), name=name, **options)


def by_sku(table: ImportTable) -> dict[str, SourceRow]:
    return {row.sku: row for row in table.rows if row.sku}


# --- whole numbers -----------------------------------------------------------------------

WHOLE = [
    ("0", 0),
    ("42", 42),
    ("+7", 7),
    ("  15  ", 15),
    ("-0", 0),
    ("007", 7),
    ("1,500", 1500),
    ("1.500", 1500),
    ("1 500", 1500),
    ("1\u00a0500", 1500),
    ("1\u202f500", 1500),
    ("12,345,678", 12345678),
    ("12.345.678", 12345678),
    ("12 345 678", 12345678),
    ("1,500.00", 1500),
    ("1.500,00", 1500),
    ("1 500,00", 1500),
    ("1.234.567,0", 1234567),
    ("10.0", 10),
    ("10,00", 10),
    ("15.00", 15),
    ("5.", 5),
    ("1500,000", 1500),  # four digits before the mark cannot be a thousands group
    ("1000000000000", 10**12),
    ("\u0661\u0662", 12),  # Arabic-Indic digits are digits
]


@pytest.mark.parametrize(("text", "expected"), WHOLE)
def test_parse_whole_reads_what_people_write(text: str, expected: int) -> None:
    assert parse_whole("quantity", text) == expected


REFUSED = [
    ("2,5", "quantity: '2,5' is a fraction; quantities are whole numbers"),
    ("2.5", "quantity: '2.5' is a fraction; quantities are whole numbers"),
    ("1,50", "quantity: '1,50' is a fraction; quantities are whole numbers"),
    ("0,500", "quantity: '0,500' is a fraction; quantities are whole numbers"),
    (".5", "quantity: '.5' is a fraction; quantities are whole numbers"),
    ("1,500.50", "quantity: '1,500.50' is a fraction; quantities are whole numbers"),
    ("-2.5", "quantity: '-2.5' is a fraction; quantities are whole numbers"),
    ("-5", "quantity: -5 is negative"),
    ("\u22125", "quantity: -5 is negative"),
    ("-1,500", "quantity: -1500 is negative"),
    ("abc", "quantity: 'abc' is not a number"),
    ("1e3", "quantity: '1e3' is not a number"),
    ("12a", "quantity: '12a' is not a number"),
    ("1,2,3", "quantity: '1,2,3' is not a number"),
    ("1.500.5", "quantity: '1.500.5' is not a number"),
    ("1  500", "quantity: '1  500' is not a number"),
    ("1 500.000,5", "quantity: '1 500.000,5' is not a number"),
    ("+", "quantity: '+' is not a number"),
    (".", "quantity: '.' is not a number"),
    ("\u00b2", "quantity: '²' is not a number"),
    ("N/A", "quantity: not stocked ('N/A')"),
    ("n/a", "quantity: not stocked ('n/a')"),
    ("Not Stocked", "quantity: not stocked ('Not Stocked')"),
    ("not tracked", "quantity: not stocked ('not tracked')"),
    ("UNTRACKED", "quantity: not stocked ('UNTRACKED')"),
    ("", "quantity: is empty"),
    ("   ", "quantity: is empty"),
    ("1000000000001", "quantity: 1000000000001 is too large (at most 1000000000000)"),
    ("9" * 5000, "quantity: '" + "9" * 36 + "... is too large (at most 1000000000000)"),
]


@pytest.mark.parametrize(("text", "message"), REFUSED, ids=[text[:12] for text, _ in REFUSED])
def test_parse_whole_refusals_name_the_field_and_the_value(text: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_whole("quantity", text)
    assert str(caught.value).startswith(message)
    assert caught.value.field == "quantity"


def test_parse_whole_names_the_field_it_is_given_in_operator_words() -> None:
    with pytest.raises(ValidationError, match=r"^minimum: -1 is negative$") as caught:
        parse_whole("min_stock", "-1")
    assert caught.value.field == "min_stock"


# --- neutralise / restore ----------------------------------------------------------------

NEUTRALISED = [
    ("=SUM(A1)", "'=SUM(A1)"),
    ("+1", "'+1"),
    ("-dash", "'-dash"),
    ("@at", "'@at"),
    ("\tx", "'\tx"),
    ("\rx", "'\rx"),
    ("'quoted", "''quoted"),
    ("'", "''"),
    ("plain", "plain"),
    ("", ""),
    (" =x", " =x"),
    ("a=b", "a=b"),
]


@pytest.mark.parametrize(("text", "cell"), NEUTRALISED)
def test_neutralise_and_restore_are_inverse(text: str, cell: str) -> None:
    assert neutralise(text) == cell
    assert restore(cell) == text


@pytest.mark.parametrize("cell", ["'abc", "'", "'1", "plain", "", "''"])
def test_restore_leaves_other_cells_alone(cell: str) -> None:
    expected = "'" if cell == "''" else cell
    assert restore(cell) == expected


# --- header aliases ----------------------------------------------------------------------


def spellings(alias: str) -> list[str]:
    return [alias, alias.upper(), alias.lower().replace(" ", "_"), f" {alias.title()} "]


ALIAS_CASES = [
    (field, spelling)
    for field, aliases in ALIASES.items()
    for a in aliases
    for spelling in spellings(a)
]


@pytest.mark.parametrize(("field", "header"), ALIAS_CASES)
def test_every_alias_in_any_case_spacing_or_punctuation_maps_to_its_field(
    field: str, header: str
) -> None:
    value = "7" if field in ("quantity", "min_stock", "max_stock") else "x"
    if field == "expiry":
        value = "2027-01-31"
    if field == "sku":
        table = read(f"{header},other\r\nS-1,z\r\n")
        assert table.rows[0].fields == {"sku": "S-1"}
    else:
        table = read(f"sku;{header}\nS-1;{value}\n")
        expected = 7 if value == "7" else value
        assert table.rows[0].fields == {"sku": "S-1", field: expected}
    assert table.columns[header.strip()] == field


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Variant SKU", "sku"),
        ("IPN", "sku"),
        ("Item Number", "sku"),
        ("Item No.", "sku"),
        ("Internal Reference", "sku"),
        ("item_code", "sku"),
        ("Part Number", "sku"),
        ("Product Code", "sku"),
        ("Article Number", "sku"),
        ("Code", "sku"),
        ("Item Name", "name"),
        ("Title", "name"),
        ("Part Name", "name"),
        ("Product Name", "name"),
        ("Category Name", "category"),
        ("item_group", "category"),
        ("Product Type", "category"),
        ("QTY", "quantity"),
        ("Variant Inventory Qty", "quantity"),
        ("On hand (current)", "quantity"),
        ("In Stock", "quantity"),
        ("Stock", "quantity"),
        ("On Hand", "quantity"),
        ("Qty On Hand", "quantity"),
        ("Quantity On Hand", "quantity"),
        ("Available", "quantity"),
        ("Location Name", "location"),
        ("storage_location", "location"),
        ("warehouse", "location"),
        ("Bin", "location"),
        ("Bin Location", "location"),
        ("Min Amount", "min_stock"),
        ("Minimum Stock", "min_stock"),
        ("minamount", "min_stock"),
        ("warehouse_reorder_level", "min_stock"),
        ("Reorder Level", "min_stock"),
        ("Reorder Point", "min_stock"),
        ("Min Qty", "min_stock"),
        ("Min. QTY", "min_stock"),
        ("Min", "min_stock"),
        ("min_stock", "min_stock"),
        ("Max Amount", "max_stock"),
        ("Maximum Stock", "max_stock"),
        ("maxamount", "max_stock"),
        ("Max Qty", "max_stock"),
        ("Max", "max_stock"),
        ("max_stock", "max_stock"),
        ("created_at", "created_at"),
        ("Updated At", "updated_at"),
        # Stock lines: Odoo stock.quant, InvenTree stock items, ERPNext bins.
        ("location_id", "location"),
        ("Location", "location"),
        ("location_name", "location"),
        ("warehouse", "location"),
        ("lot", "lot"),
        ("Lot", "lot"),
        ("Batch", "lot"),
        ("batch_no", "lot"),
        ("Lot/Serial Number", "lot"),
        ("lot_id", "lot"),
        ("expiry", "expiry"),
        ("Expiry Date", "expiry"),
        ("expiration_date", "expiry"),
        ("Expiration Date", "expiry"),
        ("use_by", "expiry"),
        ("Best Before", "expiry"),
        ("home", "home"),
    ],
)
def test_the_briefed_aliases(header: str, field: str) -> None:
    assert normalise(header) in {normalise(alias) for alias in ALIASES[field]}


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2027-01-31", "2027-01-31"),
        (" 2027-01-31 ", "2027-01-31"),
        ("2027-01-31 00:00:00", "2027-01-31"),
        ("2027-01-31T23:59:59", "2027-01-31"),
        ("2027-01-31T23:59:59.123456Z", "2027-01-31"),
        ("2027-01-31 08:00+02:00", "2027-01-31"),
    ],
)
def test_expiry_cells_read_as_iso_dates(cell: str, expected: str) -> None:
    table = read(f"sku,Expiration Date\nS-1,{cell}\n")
    assert table.rows[0].fields == {"sku": "S-1", "expiry": expected}
    assert table.columns["Expiration Date"] == "expiry"


@pytest.mark.parametrize(
    ("cell", "problem"),
    [
        ("31/01/2027", "is not a date; write it as YYYY-MM-DD"),
        ("01/31/2027", "is not a date; write it as YYYY-MM-DD"),
        ("Jan 31 2027", "is not a date; write it as YYYY-MM-DD"),
        ("20270131", "is not a date; write it as YYYY-MM-DD"),
        ("2027-13-01", "is not a date of the calendar"),
    ],
)
def test_other_expiry_cells_are_refused_naming_the_column(cell: str, problem: str) -> None:
    table = read(f"sku;Best Before;qty\nS-1;{cell};3\n")
    row = table.rows[0]
    assert row.fields == {"sku": "S-1", "quantity": 3}
    assert len(row.problems) == 1
    assert row.problems[0].startswith(f"expiry: {cell!r} in column 'Best Before' {problem}")


def test_json_expiry_must_be_a_date_text() -> None:
    table = read(
        '[{"sku": "S-1", "use_by": "2027-01-31 00:00:00"}, {"sku": "S-2", "use_by": 20270131}]'
    )
    assert table.rows[0].fields == {"sku": "S-1", "expiry": "2027-01-31"}
    assert table.rows[1].problems == ["expiry: column 'use_by' must hold a date, got 20270131"]


def test_lot_expiry_and_home_can_be_mapped() -> None:
    table = read("Artikel,Charge,MHD,Lager\nS-1,C7,2027-01-31,A\n", mapping={
        "Artikel": "sku", "Charge": "lot", "MHD": "expiry", "Lager": "home"
    })  # fmt: skip
    assert table.rows[0].fields == {"sku": "S-1", "lot": "C7", "expiry": "2027-01-31", "home": "A"}


@pytest.mark.parametrize(
    "header", ["Description", "Type", "Amount", "Total", "Notes", "Price", "Color", "Vendor"]
)
def test_common_attribute_columns_are_not_taken_for_fields(header: str) -> None:
    table = read(f"sku,{header}\nS-1,value\n")
    assert table.columns[header] == f"attr:{header}"
    assert table.rows[0].attributes == {header: "value"}


def test_no_alias_belongs_to_two_fields() -> None:
    owners: dict[str, str] = {}
    for field, aliases in ALIASES.items():
        assert normalise(aliases[0]) == normalise(field)
        for alias in aliases:
            assert owners.setdefault(normalise(alias), field) == field, alias


def test_the_best_ranked_alias_wins_and_the_others_stay_attributes() -> None:
    table = read("Available,SKU,On hand,Qty\n3,S-1,5,9\n")
    assert table.columns == {
        "Available": "attr:Available",
        "SKU": "sku",
        "On hand": "attr:On hand",
        "Qty": "quantity",
    }
    assert table.rows[0].fields == {"sku": "S-1", "quantity": 9}
    assert table.rows[0].attributes == {"Available": "3", "On hand": "5"}


def test_the_same_alias_twice_first_column_wins() -> None:
    table = read("sku,Qty,QTY\nS-1,1,2\n")
    assert table.columns == {"sku": "sku", "Qty": "quantity", "QTY": "attr:QTY"}
    assert table.rows[0].fields["quantity"] == 1


def test_repeated_headers_and_empty_headers() -> None:
    table = read("sku,Color,,Color,attr:Color\nS-1,red,lost,blue,green\n")
    assert table.columns == {
        "sku": "sku",
        "Color": "attr:Color",
        "Color (2)": "attr:Color (2)",
        "attr:Color": "attr:Color (3)",
    }
    assert table.rows[0].attributes == {"Color": "red", "Color (2)": "blue", "Color (3)": "green"}


def test_attr_and_json_columns() -> None:
    text = 'sku,attr:qty,json:dims,json:flag,attr: spaced key \nS-1,12,"{""w"": 2}",true,x\n'
    table = read(text)
    assert table.columns["attr:qty"] == "attr:qty"
    assert table.rows[0].fields == {"sku": "S-1"}
    assert table.rows[0].attributes == {
        "qty": "12",
        "dims": {"w": 2},
        "flag": True,
        " spaced key ": "x",
    }


def test_empty_cells_set_nothing() -> None:
    row = only_row("sku,name,quantity,Color,json:n\nS-1, ,,  ,\n")
    assert row.fields == {"sku": "S-1"}
    assert row.attributes == {}
    assert row.problems == []


# --- mapping -----------------------------------------------------------------------------


def test_parse_mapping() -> None:
    specs = [
        "Artikel=sku",
        "Bestand = quantity",
        "Notes=attr:note",
        "Junk=ignore",
        "Mini=Min Stock",
    ]
    assert parse_mapping(specs) == {
        "Artikel": "sku",
        "Bestand": "quantity",
        "Notes": "attr:note",
        "Junk": "ignore",
        "Mini": "min_stock",
    }


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        (["Artikel"], "mapping: 'Artikel' has no '='; write COLUMN=FIELD, e.g. Artikel=sku"),
        (["Artikel=colour"], "mapping: 'Artikel=colour': 'colour' is not a field; use one of"),
        (["=sku"], "mapping: '=sku' names no column before '='"),
        (["Notes=attr:"], "mapping: 'Notes=attr:' names no attribute after attr:"),
        (
            ["Artikel=sku", "artikel=name"],
            "mapping: column 'Artikel' is mapped twice (sku and name)",
        ),
        (["A=sku", "B=sku"], "mapping: columns 'A' and 'B' are both mapped to sku"),
    ],
)
def test_bad_mappings_are_refused_naming_the_spec(specs: list[str], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_mapping(specs)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_mapping_overrides_aliases_and_names_attributes() -> None:
    text = "Artikel,Bestand,SKU,Qty,Notes,Junk\nA-1,1.500,old,9,hello,zzz\n"
    mapping = parse_mapping(["artikel=sku", "BESTAND=quantity", "Notes=attr:note", "Junk=ignore"])
    table = read(text, mapping=mapping)
    assert table.columns == {
        "Artikel": "sku",
        "Bestand": "quantity",
        "SKU": "attr:SKU",
        "Qty": "attr:Qty",
        "Notes": "attr:note",
        "Junk": "ignore",
    }
    row = table.rows[0]
    assert row.fields == {"sku": "A-1", "quantity": 1500}
    assert row.attributes == {"SKU": "old", "Qty": "9", "note": "hello"}


def test_mapping_a_column_the_file_lacks_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"^mapping: no column 'Artikel' in the file"):
        read("sku,name\nS-1,x\n", mapping={"Artikel": "sku"})


def test_mapping_given_directly_is_checked_too() -> None:
    with pytest.raises(ValidationError, match=r"^mapping: 'Artikel=nope'"):
        read("Artikel\nx\n", mapping={"Artikel": "nope"})


def test_mapping_a_description_to_the_name(tmp_path: Path) -> None:
    table = fixture("warehouse_export.tsv", mapping=parse_mapping(["Description=name"]))
    assert by_sku(table)["HW-1002"].fields["name"] == 'Washer M8, "DIN 125"'


# --- delimiters, encodings, row numbers --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("sku,name,qty\nA,x,1\n", ","),
        ("sku;name;qty\nA;x;1,5\nB;y;2,0\n", ";"),
        ("sku\tname\tqty\nA\tx, y; z\t1\n", "\t"),
        ('sku,name\nA,"a;b;c;d"\nB,"e;f"\n', ","),
        ('sku;"name, long";qty\nA;1,50;3\nB;2,00;4\n', ";"),
        ("sku\n", ","),
        ("sku,name\n", ","),
        ("sku;name\n", ";"),
        ('sku;name\nA;"line\none; two"\nB;x\n', ";"),
    ],
)
def test_detect_delimiter(text: str, delimiter: str) -> None:
    assert detect_delimiter(text) == delimiter


def test_a_tie_goes_to_the_comma() -> None:
    assert detect_delimiter("a,b;c\n1,2;3\n") == ","


def test_utf8_bom_and_given_encodings() -> None:
    assert read_import(b"\xef\xbb\xbfsku,name\nS-1,Caf\xc3\xa9\n").rows[0].fields == {
        "sku": "S-1",
        "name": "Café",
    }
    cp1252 = "sku;name\nS-1;Café\n".encode("cp1252")
    assert read_import(cp1252, encoding="cp1252").rows[0].fields["name"] == "Café"
    utf16 = "sku\tname\r\nS-1\tCafé\r\n".encode("utf-16")
    table = read_import(utf16)
    assert table.delimiter == "\t"
    assert table.rows[0].fields["name"] == "Café"
    assert read_import(b"\xef\xbb\xbfsku\nS-1\n", encoding="utf-8").columns == {"sku": "sku"}


def test_multi_line_cells_count_as_one_row_and_blank_rows_count() -> None:
    table = fixture("multiline_notes.csv")
    assert [row.row for row in table.rows] == [2, 3, 4, 6]
    assert table.rows[1].attributes["Description"] == (
        'Line one\nline two, with a comma\nline three; with a semicolon\nand a "quoted" word'
    )


def test_row_numbers_count_records_not_lines() -> None:
    text = 'sku,name\r\n\r\nA,"one\r\ntwo\r\nthree"\r\n,\r\nB,x\r\n'
    assert [(row.row, row.sku) for row in read(text).rows] == [(3, "A"), (5, "B")]


def test_leading_blank_rows_move_the_header_down() -> None:
    assert [row.row for row in read("\n,,\nsku\nA\n").rows] == [4]


def test_windows_line_ends_inside_quotes_are_kept() -> None:
    row = only_row('sku,Note\r\nA,"x\r\ny"\r\n')
    assert row.attributes == {"Note": "x\r\ny"}


# --- row problems ------------------------------------------------------------------------


def test_every_row_problem() -> None:
    text = (
        "sku,name,quantity,min_stock,max_stock,json:dims\n"
        "A,ok,1,2,3,[1]\n"
        ",no sku,4,,,\n"
        "B,fraction,2.5,,,\n"
        "C,negative,-5,-1,,\n"
        "D,words,abc,,lots,\n"
        "E,not stocked,N/A,,,\n"
        "F,bad json,,,,{oops\n"
        "G,extra,1,,,,surprise\n"
        "H,huge,99999999999999,,,\n"
    )
    problems = {row.row: row.problems for row in read(text).rows}
    assert problems == {
        2: [],
        3: ["sku: is empty"],
        4: ["quantity: '2.5' is a fraction; quantities are whole numbers"],
        5: ["quantity: -5 is negative", "minimum: -1 is negative"],
        6: ["quantity: 'abc' is not a number", "maximum: 'lots' is not a number"],
        7: ["quantity: not stocked ('N/A')"],
        8: ["attributes.dims: '{oops' is not valid JSON"],
        9: ["row: has 7 cells but the header has 6 columns (a missing quote or delimiter?)"],
        10: ["quantity: '99999999999999' is too large (at most 1000000000000)"],
    }


def test_a_refused_value_is_left_out_of_the_fields() -> None:
    row = only_row("sku,name,quantity\nA,x,2.5\n")
    assert row.fields == {"sku": "A", "name": "x"}
    assert row.sku == "A"


def test_trailing_empty_cells_are_no_problem() -> None:
    row = only_row("sku;name\nA;x;;\n")
    assert row.problems == []


def test_a_row_with_only_ignored_cells_is_blank() -> None:
    assert read("sku,Junk\n,zzz\n", mapping={"Junk": "ignore"}).rows == []


def test_sku_property_is_empty_without_a_sku() -> None:
    assert only_row("sku,name\n,x\n").sku == ""


# --- file-wide refusals ------------------------------------------------------------------


def refusal(data: bytes, **options: Any) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        read_import(data, **options)
    assert "\n" not in str(caught.value)
    return caught.value


def test_not_utf8_names_the_byte_and_suggests_an_encoding() -> None:
    # Without --encoding this file is detected (tests/test_encodings.py).
    error = refusal(b"sku,name\nS-1,Caf\xe9\n", encoding="utf-8")
    assert error.field == "file"
    assert str(error) == (
        "file: is not UTF-8 text (byte 0xe9 at offset 16, line 2); "
        "give its encoding, e.g. --encoding cp1252"
    )


def test_a_wrong_given_encoding_is_named() -> None:
    error = refusal(b"sku\n\xff\n", encoding="ascii")
    assert str(error).startswith("file: is not ascii text (byte 0xff at offset 4, line 2)")
    assert refusal(b"sku\n", encoding="klingon").field == "encoding"


@pytest.mark.parametrize("data", [b"", b"   \r\n\t\n", b"\xef\xbb\xbf"])
def test_an_empty_file_is_refused(data: bytes) -> None:
    assert str(refusal(data)) == "file: is empty"


def test_a_file_of_empty_cells_has_no_header() -> None:
    assert str(refusal(b",,\n,,\n")) == "file: has no header row (every cell is empty)"


def test_a_file_without_a_sku_column_is_refused() -> None:
    error = refusal(b"Name,Qty\nx,1\n")
    assert str(error) == (
        "file: no column maps to sku (columns: 'Name', 'Qty'); name it with --mapping COLUMN=sku"
    )


def test_spreadsheets_and_utf16_without_bom_are_named() -> None:
    assert "xlsx" in str(refusal(b"PK\x03\x04\x14\x00\x06\x00rest"))
    assert "utf-16" in str(refusal("sku,name\nA,b\n".encode("utf-16-le")))


def test_an_unknown_format_is_refused() -> None:
    assert refusal(b"sku\nA\n", file_format="xml").field == "format"


# --- JSON --------------------------------------------------------------------------------


def test_json_list_of_objects_through_the_same_aliases() -> None:
    data = [
        {"Item Code": "A-1", "Title": "Bolt", "Qty": 5, "Color": "red", "size": 3},
        {"Item Code": "A-2", "Title": "Nut", "Qty": "1,500", "Min": 2.0},
        {"Item Code": "", "Title": "No code"},
        {},
        None,
        {"Item Code": "A-3", "Qty": -1, "Max": 2.5, "Title": True},
        "oops",
        {"Item Code": 1234, "Qty": None, "Color": ""},
    ]
    table = read(json.dumps(data))
    assert table.format == "json"
    assert table.delimiter is None
    assert table.columns == {
        "Item Code": "sku",
        "Title": "name",
        "Qty": "quantity",
        "Color": "attr:Color",
        "size": "attr:size",
        "Min": "min_stock",
        "Max": "max_stock",
    }
    rows = {row.row: row for row in table.rows}
    assert sorted(rows) == [2, 3, 4, 7, 8, 9]
    assert rows[2].fields == {"sku": "A-1", "name": "Bolt", "quantity": 5}
    assert rows[2].attributes == {"Color": "red", "size": 3}
    assert rows[3].fields == {"sku": "A-2", "name": "Nut", "quantity": 1500, "min_stock": 2}
    assert rows[4].problems == ["sku: is empty"]
    assert rows[7].problems == [
        "quantity: -1 is negative",
        "maximum: 2.5 is a fraction; quantities are whole numbers",
        "name: must be text, got True",
    ]
    assert rows[8].problems == ["item: must be an object, got 'oops'"]
    assert rows[9].fields == {"sku": "1234"}
    assert rows[9].attributes == {}


def test_json_items_object_and_attributes_merge_exactly() -> None:
    document = {
        "format": "atlas-export",
        "items": [
            {
                "sku": "A",
                "name": "'=not restored",
                "quantity": 0,
                "colour": "loose",
                "attributes": {"colour": "exact", "e": "", "n": None, "deep": {"x": [1.5]}},
            }
        ],
    }
    table = read(json.dumps(document))
    assert table.columns == {
        "sku": "sku",
        "name": "name",
        "quantity": "quantity",
        "colour": "attr:colour",
        "attributes": "attributes",
    }
    row = table.rows[0]
    assert row.fields == {"sku": "A", "name": "'=not restored", "quantity": 0}
    assert row.attributes == {"colour": "exact", "e": "", "n": None, "deep": {"x": [1.5]}}


def test_json_attributes_that_are_not_an_object_stay_a_plain_attribute() -> None:
    row = only_row(json.dumps([{"sku": "A", "attributes": [{"name": "Size", "value": "L"}]}]))
    assert row.attributes == {"attributes": [{"name": "Size", "value": "L"}]}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"sku": "A"}', 'file: must be a JSON list of items or an object with an "items" list'),
        ('{"items": {"sku": "A"}}', "file: must be a JSON list of items"),
        ('"just text"', "file: must be a JSON list of items"),
        ('[{"sku": "A",}]', "file: is not valid JSON: "),
        ('[{"Name": "A"}]', "file: no column maps to sku (columns: 'Name')"),
    ],
)
def test_json_of_the_wrong_shape_is_refused(text: str, message: str) -> None:
    assert str(refusal(text.encode(), name="items.json")).startswith(message)


def test_json_empty_list_reads_as_no_rows() -> None:
    assert read('{"items": []}') == ImportTable([], {}, "json", None)


def test_format_from_name_content_or_option() -> None:
    assert read("[]").format == "json"
    assert read('  \n{"items": []}').format == "json"
    assert read("sku\nA\n", name="stock.csv").format == "csv"
    assert read("[sku]\nA\n", name="weird.csv", mapping={"[sku]": "sku"}).rows[0].sku == "A"
    assert read("[]", name="x.json").format == "json"
    assert read("[]", name="x.txt", file_format="json").format == "json"


# --- the fixtures ------------------------------------------------------------------------


def test_shopify_export() -> None:
    table = fixture("shopify_products.csv")
    assert table.columns["Variant SKU"] == "sku"
    assert table.columns["Title"] == "name"
    assert table.columns["Variant Inventory Qty"] == "quantity"
    assert table.columns["Product Type"] == "category"
    assert table.columns["Body (HTML)"] == "attr:Body (HTML)"
    rows = by_sku(table)
    assert rows["TEE-WHT-S"].fields == {
        "name": "Classic Tee - White \N{EN DASH} S",
        "category": "T-Shirts",
        "sku": "TEE-WHT-S",
        "quantity": 24,
    }
    # The rows after a Handle's first are its variants: they carry only their own cells.
    assert rows["TEE-WHT-L"].fields == {
        "sku": "TEE-WHT-L",
        "quantity": 0,
        "name": "Classic Tee - White \N{EN DASH} L",
        "category": "T-Shirts",
    }
    assert rows["TEE-WHT-L"].attributes["Vendor"] == "Northwind Apparel"
    assert rows["TEE-WHT-L"].attributes["barcode"] == "0840012345695"
    assert rows["TEE-WHT-L"].problems == []
    assert rows["TEE-WHT-S"].attributes["Tags"] == "cotton, summer"
    # Kept as `barcode`, the attribute scan mode looks codes up by.
    assert rows["TEE-WHT-S"].attributes["barcode"] == "0840012345671"
    assert "Variant Barcode" not in rows["TEE-WHT-S"].attributes
    assert rows["MUG-11OZ-BLK"].problems == [
        "quantity: '2.5' is a fraction; quantities are whole numbers"
    ]
    assert rows["TOTE-NAT"].problems == ["quantity: -3 is negative"]
    no_sku = [row.row for row in table.rows if "sku: is empty" in row.problems]
    assert no_sku == [5, 10]


def test_snipeit_export() -> None:
    table = fixture("snipeit_consumables.csv")
    assert table.columns["Item No."] == "sku"
    assert table.columns["Item Name"] == "name"
    assert table.columns["Min Amount"] == "min_stock"
    assert table.columns["Qty"] == "quantity"
    assert table.columns["Model No."] == "attr:Model No."
    row = by_sku(table)["CON-0002"]
    assert row.fields == {
        "name": "Toner Cartridge 58A",
        "category": "Printer Supplies",
        "location": "HQ - Print Room",
        "min_stock": 2,
        "quantity": 4,
        "sku": "CON-0002",
    }
    assert row.attributes["Model No."] == "CF258A"
    assert [row.row for row in table.rows if row.problems] == [5]


def test_partdb_semicolons_bom_decimal_commas_and_category_paths() -> None:
    table = fixture("partdb_parts_semicolon.csv")
    assert table.delimiter == ";"
    assert next(iter(table.columns)) == "Name"  # the BOM is not part of the first header
    rows = by_sku(table)
    assert rows["RES-0603-10K"].fields["quantity"] == 1500
    assert rows["RES-0603-10K"].fields["category"] == "Electronics -> Resistors -> SMD"
    assert rows["RES-0603-10K"].attributes["Price"] == "0,0021"
    assert rows["RES-0603-4K7"].fields["quantity"] == 4000
    assert rows["CAP-0603-100N"].fields["quantity"] == 1250
    assert rows["CAP-EL-470U"].fields["quantity"] == 12
    assert rows["IC-ATMEGA328P"].attributes["Description"] == "8-bit MCU; 32 KB flash"
    assert rows["LED-0603-RED"].problems == ["quantity: not stocked ('N/A')"]
    assert rows["CON-HDR-2X20"].problems == [
        "quantity: '2,5' is a fraction; quantities are whole numbers"
    ]
    assert table.rows[-1].problems == ["sku: is empty"]


def test_tab_separated_export() -> None:
    table = fixture("warehouse_export.tsv")
    assert table.delimiter == "\t"
    assert table.columns["Item Code"] == "sku"
    assert table.columns["Bin"] == "location"
    assert table.columns["Qty On Hand"] == "quantity"
    assert table.columns["Reorder Point"] == "min_stock"
    assert by_sku(table)["HW-1001"].fields["quantity"] == 1250
    assert all(not row.problems for row in table.rows)


def test_odoo_export() -> None:
    table = fixture("odoo_products.csv")
    assert table.columns["Internal Reference"] == "sku"
    assert table.columns["Quantity On Hand"] == "quantity"
    assert table.columns["Product Category"] == "category"
    assert table.columns["Product Type"] == "attr:Product Type"  # Odoo's is not a category
    rows = by_sku(table)
    assert rows["FURN_0001"].fields["quantity"] == 15
    assert rows["FURN_0005"].fields["quantity"] == 1500
    assert rows["FURN_0004"].problems == ["quantity: -2 is negative"]
    assert rows["FURN_0003"].fields["name"] == "Monitor Arm, Dual"


def test_erpnext_export() -> None:
    table = fixture("erpnext_items.csv")
    assert {header: table.columns[header] for header in list(table.columns)[:6]} == {
        "item_code": "sku",
        "item_name": "name",
        "item_group": "category",
        "warehouse": "location",
        "warehouse_reorder_level": "min_stock",
        "qty": "quantity",
    }
    rows = by_sku(table)
    assert rows["RM-STEEL-2MM"].fields["min_stock"] == 50
    assert rows["CONS-WELD-08"].problems == [
        "quantity: '12.5' is a fraction; quantities are whole numbers"
    ]
    assert rows["SRV-LASER"].fields == {
        "sku": "SRV-LASER",
        "name": "Laser Cutting (per hour)",
        "category": "Services",
        "unit": "Hour",  # stock_uom: the unit it is counted in
    }


# --- export ------------------------------------------------------------------------------

T0 = datetime(2026, 11, 1, 8, 30, tzinfo=UTC)


def item(sku: str, name: str = "Thing", **fields: Any) -> dict[str, Any]:
    fields.setdefault("created_at", T0)
    fields.setdefault("updated_at", T0 + timedelta(seconds=1))
    return InventoryItem(sku, name, **fields).to_dict()


def exported(data: dict[str, Any]) -> dict[str, Any]:
    """An item as the item export writes it: its stock lines and barcodes go elsewhere."""
    return {key: value for key, value in data.items() if key not in ("lines", "barcodes")}


def csv_cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_export_csv_header_and_attribute_columns() -> None:
    items = [
        item("A", attributes={"color": "red", "Size": 3, "blank": "", "zeta": "z"}),
        item("B", attributes={"color": "blue", "apple": " padded ", "Zeta": "Z"}),
    ]
    text = export_csv(items)
    assert text.endswith("\r\n")
    header = csv_cells(text)[0]
    assert header[: len(EXPORT_COLUMNS)] == list(EXPORT_COLUMNS) == list(FIELDS)
    assert header[len(EXPORT_COLUMNS) :] == [
        "json:apple",
        "json:blank",
        "attr:color",
        "json:Size",
        "attr:Zeta",
        "attr:zeta",
    ]
    assert csv_cells(text)[2][len(EXPORT_COLUMNS) :] == ['" padded "', "", "blue", "", "Z", ""]


def test_export_json_document() -> None:
    items = [item("A", quantity=3, attributes={"nested": {"k": [1, None]}})]
    text = export_json(items, exported_at="2026-11-29T10:00:00+00:00")
    document = json.loads(text)
    assert document == {
        "format": "atlas-export",
        "version": 1,
        "exported_at": "2026-11-29T10:00:00+00:00",
        "items": [exported(entry) for entry in items],
    }
    assert '\n  "items": [' in text


def test_formula_injection_is_neutralised_and_restored() -> None:
    items = [
        item("F-1", '=HYPERLINK("http://x")', category="+cat", location="-loc"),
        item("@SUM(1)", "@SUM(1)", attributes={"note": "=1+1", "n": -3}),
    ]
    text = export_csv(items)
    for row in csv_cells(text):
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    rows = read_import(text.encode()).rows
    assert rows[0].fields["name"] == '=HYPERLINK("http://x")'
    assert rows[0].fields["category"] == "+cat"
    assert rows[0].fields["location"] == "-loc"
    assert rows[1].sku == "@SUM(1)"
    assert rows[1].attributes == {"n": -3, "note": "=1+1"}


TRICKY_TEXT = [
    "=SUM(A1)",
    "'quoted",
    "''double",
    "'",
    "-dash",
    "+plus",
    "@at",
    "line one\nline two",
    "cr\rinside",
    "crlf\r\ninside",
    'comma, "quote"',
    "semi;colon\ttab",
    "[red]markup[/red]",
    "\x1b[31mescape",
    "ünïcødé ✓ 日本語",
    "emoji 📦",
    "1,500",
    "007",
    "-5",
    "N/A",
    "null",
    '{"a": 1}',
    "a" * 60,
]
TRICKY_VALUES: list[Any] = [
    *TRICKY_TEXT,
    "",
    " padded ",
    "\tlead",
    "nul\x00inside",
    0,
    -7,
    2**62,
    1.5,
    -0.25,
    1e-7,
    True,
    False,
    None,
    [],
    {},
    [1, "two", None, [3.5]],
    {"nested": {"deep": ["=x", {"k": ""}]}},
]


def tricky_items(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    keys = ["color", "Color", "note", "=key", "sku", "with space", "ключ", "dims", "flag"]
    result = []
    for index in range(count):
        text = rng.choice(TRICKY_TEXT)
        sku = rng.choice(["=", "-", "@", "+", "'", ""]) + f"S{index}"
        attributes = {key: rng.choice(TRICKY_VALUES) for key in rng.sample(keys, rng.randint(0, 5))}
        result.append(
            item(
                sku,
                rng.choice(TRICKY_TEXT) if index % 3 else text,
                category=rng.choice(["", *TRICKY_TEXT])[:64],
                location=rng.choice(["", "A1", *TRICKY_TEXT])[:64],
                quantity=rng.choice([0, 1, 999, 10**12]),
                min_stock=rng.choice([0, 5]),
                max_stock=rng.choice([0, 10**12]),
                created_at=T0 + timedelta(microseconds=rng.randint(0, 10**9)),
                attributes=attributes,
            )
        )
    return result


def as_read(row: SourceRow) -> dict[str, Any]:
    """A row in `to_dict` form, the fields export leaves empty filled in."""
    fields = {"category": "", "location": "", **row.fields}
    return {**fields, "attributes": row.attributes}


@pytest.mark.parametrize("seed", range(4))
def test_export_then_import_gives_back_the_same_items(seed: int) -> None:
    items = tricky_items(60, seed)
    for text in (export_csv(items), export_json(items, exported_at="now")):
        table = read_import(text.encode())
        assert [row.problems for row in table.rows] == [[] for _ in items]
        assert [row.row for row in table.rows] == list(range(2, len(items) + 2))
        assert [as_read(row) for row in table.rows] == [exported(entry) for entry in items]


def test_round_trip_of_every_tricky_value_in_one_column() -> None:
    items = [
        item(f"S{index}", attributes={"v": value}) for index, value in enumerate(TRICKY_VALUES)
    ]
    items.append(item("no-value"))
    rows = read_import(export_csv(items).encode()).rows
    assert [row.attributes for row in rows] == [entry["attributes"] for entry in items]


def test_only_the_first_barcode_column_becomes_the_barcode() -> None:
    table = read_import(b"sku,name,EAN,UPC\nA-1,Anvil,4006381333931,036000291452\n")
    assert table.rows[0].attributes == {"barcode": "4006381333931", "UPC": "036000291452"}
    exported = read_import(b"sku,name,EAN,attr:barcode\nA-1,Anvil,111,222\n")
    assert exported.rows[0].attributes == {"EAN": "111", "barcode": "222"}
