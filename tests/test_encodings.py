"""Import files that are not UTF-8: detection, the encoding named in the summary, and line
numbers that count CR, LF and CRLF line ends alike (issue 13)."""

# ruff: noqa: RUF001 (the typographic quotes and dashes are the point)

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from support import Result

from atlas_tui.api import AtlasAPI
from atlas_tui.domain.errors import ValidationError
from atlas_tui.factory import make_service
from atlas_tui.formats.decode import decode_file, line_of, text_position
from atlas_tui.formats.reader import read_import
from atlas_tui.services.exchange import import_file
from atlas_tui.services.inventory import InventoryService
from screens.import_dialog import summary

FIXTURES = Path(__file__).parent / "fixtures" / "import"
MAC = FIXTURES / "snipeit_consumables_macroman_cr.csv"
CP1252 = FIXTURES / "snipeit_consumables_cp1252.csv"
LATIN1 = FIXTURES / "snipeit_consumables_latin1.csv"


@pytest.mark.parametrize(
    ("fixture", "encoding", "expected"),
    [
        (
            MAC,
            "mac_roman",
            {
                "MAC-0011": ("Café Filter Pads", "Büro 2 - Küche", "“Fragile” – keep dry"),
                "MAC-0012": ("Überspannungsschutz", "Büro 2 - Schrank", "Résumé: ‘spare’ units"),
            },
        ),
        (
            CP1252,
            "cp1252",
            {
                "WIN-0001": (
                    "Espresso Pods (Café Crème)",
                    "HQ - Kitchen",
                    "“Barista” blend – 60 pods",
                ),
                "WIN-0003": ("Kühlpads (10er)", "Lager Süd", "€ price incl. VAT"),
            },
        ),
        (
            LATIN1,
            "latin-1",
            {
                "LAT-0001": ("Größe ½ Zoll Schrauben", "Lager Süd", "Edelstahl bis 300 °C"),
                "LAT-0002": ("Café Tassen", "Büro 2 - Küche", "© Rosenthal"),
            },
        ),
    ],
)
def test_a_legacy_encoded_export_imports_with_its_text_and_says_how_it_was_read(
    atlas: Callable[..., Result],
    db: Path,
    fixture: Path,
    encoding: str,
    expected: dict[str, tuple[str, str, str]],
) -> None:
    said = f"read as {encoding} (detected)"
    dry = atlas("import", str(fixture), "--dry-run")
    assert dry.code == 0, dry.err
    assert said in dry.out.splitlines()[-1]
    real = atlas("import", str(fixture))
    assert real.code == 0, real.err
    assert real.out.strip().startswith("imported: added ")
    assert real.out.strip().endswith(said)
    service = make_service(db)
    for sku, (name, location, notes) in expected.items():
        item = service.get(sku)
        assert (item.name, item.location, item.attributes["Notes"]) == (name, location, notes)


def test_a_cr_only_file_has_a_row_per_line_and_its_refusals_name_the_row(
    atlas: Callable[..., Result], tmp_path: Path
) -> None:
    table = read_import(MAC.read_bytes(), name=MAC.name)
    assert [row.row for row in table.rows] == list(range(2, 15))
    assert table.rows[-1].sku == "MAC-0013"
    bad = tmp_path / "bad.csv"
    bad.write_bytes("sku,name,qty\rA-1,Café,1\rA-2,Thé,-4\rA-3,Crème,2\r".encode("mac_roman"))
    refused = atlas("import", str(bad), "--dry-run")
    assert refused.code == 1
    assert "  ✗ row 3 A-2: quantity: -4 is negative" in refused.out
    assert refused.out.strip().endswith("read as mac_roman (detected)")


def test_the_wrong_encoding_given_names_the_line_of_the_bad_byte(
    atlas: Callable[..., Result], db: Path
) -> None:
    # The reported file: Mac Roman, CR line ends, the first byte past ASCII on line 12.
    refused = atlas("import", str(MAC), "--encoding", "utf-8")
    assert refused.code == 1
    assert refused.err.startswith("error: file: is not UTF-8 text (byte 0x8e at offset ")
    assert ", line 12)" in refused.err and refused.err.count("\n") == 1


def test_a_given_encoding_still_wins_over_detection(atlas: Callable[..., Result], db: Path) -> None:
    given = atlas("import", str(MAC), "--encoding", "cp1252")
    assert given.code == 0, given.err
    assert given.out.strip().endswith("read as cp1252 (given)")
    assert make_service(db).get("MAC-0011").name == "CafŽ Filter Pads"  # what was asked for


def test_an_ambiguous_file_is_refused_with_the_encodings_that_fit(
    atlas: Callable[..., Result], db: Path, tmp_path: Path
) -> None:
    # 0xB1 is ± in every encoding tried: no reading is clearly text, so nothing is guessed.
    unsure = tmp_path / "unsure.csv"
    unsure.write_bytes(b"sku,name,qty\rT-1,Resistor,5\rT-2,Resistor \xb15%,3\r")
    refused = atlas("import", str(unsure))
    assert refused.code == 1
    assert refused.err.count("\n") == 1
    assert refused.err.startswith(
        "error: file: is not UTF-8 text (byte 0xb1 at offset 41, line 3) and its encoding "
        "cannot be told for sure (it decodes as latin-1, cp1252 or mac_roman); give the one "
        "it was saved in with --encoding"
    )
    assert not db.exists() or not make_service(db).list_items()
    fixed = atlas("import", str(unsure), "--encoding", "latin-1")
    assert fixed.code == 0, fixed.err
    assert make_service(db).get("T-2").name == "Resistor ±5%"


def test_utf8_and_utf16_files_read_as_before_without_a_note(
    atlas: Callable[..., Result], tmp_path: Path
) -> None:
    text = "sku,name,qty\rU-1,Café “Crème”™,1\r"
    for encoding in ("utf-8", "utf-8-sig", "utf-16"):
        path = tmp_path / f"{encoding}.csv"
        path.write_bytes(text.encode(encoding))
        decoded = decode_file(path.read_bytes())
        assert decoded.text == text
        assert decoded.read_as == ("utf-16" if encoding == "utf-16" else "utf-8")
        real = atlas("import", str(path), "--dry-run")
        assert real.code == 0, real.err
        assert real.out.strip().endswith("0 rows refused (of 1 rows)")


def test_the_api_and_json_output_name_the_encoding(
    api: AtlasAPI, atlas: Callable[..., Result], db: Path
) -> None:
    envelope = api.import_file(CP1252, dry_run=True)
    assert envelope["success"] is True
    assert envelope["import"]["read_as"] == "cp1252 (detected)"
    out = json.loads(atlas("--json", "import", str(LATIN1), "--dry-run").out)
    assert out["import"]["read_as"] == "latin-1 (detected)"


def test_lines_are_counted_by_every_line_end() -> None:
    data = b"a\rb\r\nc\nd\r\re"
    assert [line_of(data, data.index(char), "utf-8") for char in b"abcde"] == [1, 2, 3, 4, 6]
    with pytest.raises(ValidationError, match=r"line 4\)"):
        decode_file(b"h\rx\r\ny\n\xff", "utf-8")


@pytest.mark.parametrize(
    ("text", "encoding"),
    [("Отвертка крестовая", "cp1251"), ("Κατσαβίδι", "cp1253"), ("ドライバー", "shift_jis")],
)
def test_another_script_in_a_latin_reading_is_not_guessed(text: str, encoding: str) -> None:
    with pytest.raises(ValidationError, match="cannot be told for sure"):
        decode_file(f"sku,name\rA-1,{text}\r".encode(encoding))


def test_a_json_error_names_the_line_of_a_cr_only_file() -> None:
    text = '[\r{"sku": "A-1"},\r{"sku" "A-2"}]'
    assert text_position(text, text.index('"A-2"')) == (3, 8)
    with pytest.raises(ValidationError, match=r"line 3 column 8$"):
        read_import(text.encode(), name="items.json")


def test_the_app_import_summary_names_a_detected_encoding(service: InventoryService) -> None:
    result = import_file(service, MAC, dry_run=True)
    assert summary(result) == "would add 13, update 0, 0 refused (of 13 rows); " + (
        "read as mac_roman (detected)"
    )
    assert "read as" not in summary(import_file(service, FIXTURES / "snipeit_consumables.csv"))
