"""Bounded input: every documented limit is refused in one line, on every entry, with the
store untouched; a CSV quote left open is refused naming the row where it opened."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from support import Result

from atlas_tui.api import AtlasAPI
from atlas_tui.domain.errors import ValidationError
from atlas_tui.domain.models import (
    ATTRIBUTE_NAME_MAX_LEN,
    ATTRIBUTE_VALUE_MAX,
    ATTRIBUTES_MAX,
    LABEL_MAX_LEN,
    NAME_MAX_LEN,
    REASON_MAX_LEN,
    InventoryItem,
)
from atlas_tui.factory import make_service
from atlas_tui.formats.reader import CELL_MAX, COLUMNS_MAX
from atlas_tui.services.exchange import import_file
from atlas_tui.services.inventory import InventoryService

Atlas = Callable[..., Result]
Unchanged = Callable[[], AbstractContextManager[None]]

UNCLOSED = 'sku,name,quantity\nA1,"Bolt M6,3\nA2,Nut,4\nA3,Washer,5\n'


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="")
    return path


def one_line_error(result: Result) -> str:
    assert result.code == 1, result
    assert result.out == "" and result.err.count("\n") == 1, result
    assert result.err.startswith("error: ") and "internal error" not in result.err
    return result.err


# 10. An unterminated quote -----------------------------------------------------------------


@pytest.fixture
def seeded(atlas: Atlas, db: Path) -> Path:
    """ITEM-001 added by the CLI: no connection of this process stays open on an SQLite
    file (reading its bytes here would drop that connection's locks)."""
    assert atlas("add", "--sku", "ITEM-001", "--name", "Widget", "--qty", "100").code == 0
    return db


@pytest.mark.parametrize("options", [[], ["--strict"], ["--dry-run"]])
def test_an_unclosed_quote_refuses_the_file_naming_its_row(
    seeded: Path, atlas: Atlas, unchanged: Unchanged, tmp_path: Path, options: list[str]
) -> None:
    source = write(tmp_path / "parts.csv", UNCLOSED)
    with unchanged():
        err = one_line_error(atlas("import", str(source), *options))
    assert err == (
        'error: file: row 2 opens a quote (") that is never closed, so the rest of the file '
        "would be one cell; close it and import again\n"
    )
    assert [item.sku for item in make_service(seeded).list_items()] == ["ITEM-001"]


def test_the_api_and_the_dialogs_preview_say_the_same(
    widget: InventoryService, db: Path, unchanged: Unchanged, tmp_path: Path
) -> None:
    source = write(tmp_path / "parts.csv", UNCLOSED)
    with unchanged():
        envelope = AtlasAPI(db).import_file(source)
        assert envelope["success"] is False and envelope["error_type"] == "validation"
        assert envelope["error"].startswith("file: row 2 opens a quote")
        # The import dialog's preview is this dry run of the same reader.
        with pytest.raises(ValidationError, match=r"^file: row 2 opens a quote") as preview:
            import_file(widget, source, dry_run=True)
    assert str(preview.value) == envelope["error"]


@pytest.mark.parametrize(
    ("text", "row"),
    [
        ('sku,"name,quantity\nA1,Bolt,3\n', 1),  # in the header
        ('sku,name\nA1,Bolt\nA2,Nut\nA3,"Washer\n', 4),  # on the last row
        ('sku,name\n\nA1,"two\nlines"\nA2,"open\n', 4),  # after a blank and a multi-line row
        ('sku,name\nA1,x\nA2,"', 3),  # a quote that is the file's last character
    ],
)
def test_the_row_named_is_the_one_a_spreadsheet_shows(
    service: InventoryService, tmp_path: Path, text: str, row: int
) -> None:
    with pytest.raises(ValidationError, match=f"^file: row {row} opens a quote"):
        import_file(service, write(tmp_path / "x.csv", text))


def test_quotes_that_close_still_import(service: InventoryService, tmp_path: Path) -> None:
    text = 'sku,name,note\nA1,"Bolt, M6","say ""hi""\nthere"\nA2,5" nail,\n'
    result = import_file(service, write(tmp_path / "ok.csv", text))
    assert result.counts["added"] == 2
    assert service.get("A1").attributes == {"note": 'say "hi"\nthere'}
    assert service.get("A2").name == '5" nail'


# 11. Limits of a file ------------------------------------------------------------------------


def test_a_cell_past_the_cell_limit_refuses_the_file_naming_its_row(
    widget: InventoryService, unchanged: Unchanged, tmp_path: Path
) -> None:
    text = f"sku,name,note\nA1,Bolt,x\nA2,Nut,{'y' * (CELL_MAX + 1)}\n"
    with (
        unchanged(),
        pytest.raises(ValidationError, match=r"^file: row 3 has a cell longer than") as e,
    ):
        import_file(widget, write(tmp_path / "big.csv", text))
    assert f"{CELL_MAX} characters" in str(e.value)


def _wide_csv(path: Path, columns: int) -> Path:
    header = "sku,name," + ",".join(f"c{n}" for n in range(columns - 2))
    row = "A1,Anvil," + ",".join("x" for _ in range(columns - 2))
    return write(path, f"{header}\n{row}\n")


def test_columns_up_to_the_limit_are_read_one_more_is_refused(
    service: InventoryService, unchanged: Unchanged, tmp_path: Path
) -> None:
    with (
        unchanged(),
        pytest.raises(ValidationError, match=f"^file: row 1 has {COLUMNS_MAX + 1} col"),
    ):
        import_file(service, _wide_csv(tmp_path / "wide.csv", COLUMNS_MAX + 1))
    # At the limit the file is read; the row is then refused by the attributes limit.
    result = import_file(service, _wide_csv(tmp_path / "fits.csv", COLUMNS_MAX))
    [row] = result.of("refuse")
    assert row.reason == f"attributes: an item has at most {ATTRIBUTES_MAX}; this would make 254"


def test_a_million_columns_are_refused_before_they_cost_memory(
    json_db: Path, tmp_path: Path
) -> None:
    """The issue's file became 999,998 attributes (12.6 s, 532 MB peak here); now a
    one-line refusal that never holds more than one record of it."""
    source = _wide_csv(tmp_path / "million.csv", 1_000_000)
    command = [sys.executable, "-m", "atlas_tui", "--db", str(json_db), "import", str(source)]
    with (tmp_path / "out").open("wb") as out, (tmp_path / "err").open("wb") as err:
        child = subprocess.Popen(command, stdout=out, stderr=err)
        # wait4 rather than wait: it also gives this child's own peak memory.
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    assert child.returncode == 1 and (tmp_path / "out").read_bytes() == b""
    assert (tmp_path / "err").read_text() == (
        "error: file: row 1 has 1000000 columns; a file may have at most 256\n"
    )
    peak_mb = usage.ru_maxrss / 1024  # KiB on Linux
    assert peak_mb < 350, f"peak {peak_mb:.0f} MB"
    assert not json_db.exists(), "the store is not even opened"


def test_json_files_are_held_to_the_same_column_limit(
    service: InventoryService, unchanged: Unchanged, tmp_path: Path
) -> None:
    records = [{"sku": "A1", "name": "Anvil"}, {"sku": "A2", "name": "Nut"}]
    records[1].update({f"k{n}": 1 for n in range(COLUMNS_MAX)})
    source = tmp_path / "wide.json"
    source.write_text(json.dumps(records))
    with (
        unchanged(),
        pytest.raises(ValidationError, match=r"^file: row 3 brings the objects to 258 "),
    ):
        import_file(service, source)


def test_a_json_item_with_too_many_attributes_is_refused_on_its_row(
    service: InventoryService, tmp_path: Path
) -> None:
    many = {f"k{n}": n for n in range(ATTRIBUTES_MAX + 1)}
    records = [{"sku": "A1", "name": "Anvil"}, {"sku": "A2", "name": "Nut", "attributes": many}]
    source = tmp_path / "nested.json"
    source.write_text(json.dumps(records))
    result = import_file(service, source)
    assert [row.sku for row in result.of("add")] == ["A1"]
    [row] = result.of("refuse")
    assert (row.row, row.reason) == (3, "attributes: an item has at most 64; this one has 65")


# 11. Limits of an item, on every entry -------------------------------------------------------

LONG_VALUE = "v" * (ATTRIBUTE_VALUE_MAX + 1)
LONG_NAME = "k" * (ATTRIBUTE_NAME_MAX_LEN + 1)


def test_cli_add_and_update_refuse_attributes_past_the_limits(
    seeded: Path, atlas: Atlas, unchanged: Unchanged
) -> None:
    value_refusal = f"attribute 'note': must be at most {ATTRIBUTE_VALUE_MAX} characters, got"
    with unchanged():
        err = one_line_error(
            atlas("add", "--sku", "N-1", "--name", "n", "--attr", f"note={LONG_VALUE}")
        )
        assert value_refusal in err
        err = one_line_error(atlas("update", "--sku", "ITEM-001", "--attr", f"note={LONG_VALUE}"))
        assert value_refusal in err
        err = one_line_error(atlas("update", "--sku", "ITEM-001", "--attr", f"{LONG_NAME}=1"))
        assert (
            "attribute name 'kkk" in err and f"at most {ATTRIBUTE_NAME_MAX_LEN} characters" in err
        )
        many = [arg for n in range(ATTRIBUTES_MAX + 1) for arg in ("--attr", f"k{n}=1")]
        err = one_line_error(atlas("add", "--sku", "N-1", "--name", "n", *many))
        assert "attributes: an item has at most 64; this would make 65" in err
    exact = atlas("add", "--sku", "N-1", "--name", "n", "--attr", f"note={LONG_VALUE[1:]}")
    assert exact.code == 0, exact
    assert len(make_service(seeded).get("N-1").attributes["note"]) == ATTRIBUTE_VALUE_MAX


def test_the_api_refuses_a_fifty_megabyte_attribute(
    widget: InventoryService, db: Path, unchanged: Unchanged
) -> None:
    api = AtlasAPI(db)
    huge = "x" * 50_000_000
    with unchanged():
        for envelope in (
            api.add_item("N-1", "n", attributes={"blob": huge}),
            api.update_item("ITEM-001", attributes={"blob": huge}),
            api.update_item("ITEM-001", attributes={"blob": {"nested": [huge]}}),
            api.add_items([{"sku": "N-2", "name": "n", "attributes": {"blob": huge}}]),
        ):
            assert envelope["success"] is False and envelope["error_type"] == "validation"
            assert "attribute 'blob': must be at most 4096 characters" in envelope["error"]
            assert len(envelope["error"]) < 200


def test_an_import_refuses_the_rows_past_the_item_limits(
    widget: InventoryService, unchanged: Unchanged, tmp_path: Path
) -> None:
    text = f"sku,name,note\nA1,Anvil,short\nITEM-001,Widget,{LONG_VALUE}\nA3,Crate,{LONG_VALUE}\n"
    with unchanged():
        result = import_file(widget, write(tmp_path / "long.csv", text), strict=True)
    refusals = {row.row: row.reason for row in result.of("refuse")}
    expected = f"attribute 'note': must be at most {ATTRIBUTE_VALUE_MAX} characters, got 4097"
    assert refusals == {3: expected, 4: expected}


def test_an_item_stored_before_the_limits_can_still_be_changed_and_trimmed(
    widget: InventoryService,
) -> None:
    """The limits apply to what comes in: an older item past them is neither unreadable
    nor stuck (its stock still moves, and the oversized attribute can be removed)."""
    old = widget.get("ITEM-001").evolve(attributes={"blob": LONG_VALUE})
    with widget.batch():
        widget.repository.put(old)
    assert widget.adjust("ITEM-001", -1).quantity == 99
    assert widget.move("ITEM-001", "B2").location == "B2"
    assert widget.update("ITEM-001", attributes={"color": "red"}).attributes["blob"] == LONG_VALUE
    assert widget.update("ITEM-001", attributes={"blob": None}).attributes == {"color": "red"}


@pytest.mark.parametrize(
    ("field", "limit", "call"),
    [
        ("name", NAME_MAX_LEN, lambda api, text: api.add_item("N-1", text)),
        ("category", LABEL_MAX_LEN, lambda api, text: api.add_item("N-1", "n", category=text)),
        ("location", LABEL_MAX_LEN, lambda api, text: api.move_item("ITEM-001", text)),
        ("reason", REASON_MAX_LEN, lambda api, text: api.adjust_quantity("ITEM-001", 1, text)),
    ],
)
def test_text_fields_past_their_length_are_refused(
    widget: InventoryService,
    db: Path,
    unchanged: Unchanged,
    field: str,
    limit: int,
    call: Callable[[AtlasAPI, str], dict[str, object]],
) -> None:
    with unchanged():
        envelope = call(AtlasAPI(db), "x" * (limit + 1))
    assert envelope["error"] == f"{field}: must be at most {limit} characters, got {limit + 1}"


def test_an_item_at_every_limit_round_trips(service: InventoryService, tmp_path: Path) -> None:
    attributes = {f"{n:0{ATTRIBUTE_NAME_MAX_LEN}d}": "v" * ATTRIBUTE_VALUE_MAX for n in range(64)}
    item = service.add("S" * 64, "n" * NAME_MAX_LEN, "c" * 64, 5, "l" * 64, attributes=attributes)
    assert isinstance(item, InventoryItem) and len(item.attributes) == ATTRIBUTES_MAX
    assert service.get(item.sku).attributes == attributes
