"""The Python API: envelopes, never an exception, shared files seen by every instance."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from atlas_tui.api import AtlasAPI, ATLASDirectAPI


def ok(envelope: dict[str, Any], key: str) -> Any:
    assert envelope["success"] is True, envelope
    return envelope[key]


def refused(envelope: dict[str, Any], error_type: str, fragment: str) -> str:
    assert envelope["success"] is False, envelope
    assert envelope["error_type"] == error_type
    assert fragment in envelope["error"]
    return str(envelope["error"])


def test_every_call_and_its_envelope(api: AtlasAPI) -> None:
    item = ok(
        api.add_item("ITEM-001", "Widget", "Electronics", 100, "A1", 10, 500, {"color": "red"}),
        "item",
    )
    assert item["sku"] == "ITEM-001" and item["attributes"] == {"color": "red"}
    assert ok(api.get_item("item-001"), "item")["quantity"] == 100
    assert ok(api.adjust_quantity("ITEM-001", -5, reason="picked"), "item")["quantity"] == 95
    assert ok(api.count_item("ITEM-001", 42), "item")["quantity"] == 42
    assert ok(api.move_item("ITEM-001", "B7"), "item")["location"] == "B7"
    updated = ok(
        api.update_item("ITEM-001", name="Widget 2", max_stock=50, attributes={"color": None}),
        "item",
    )
    assert (updated["name"], updated["max_stock"], updated["attributes"]) == ("Widget 2", 50, {})
    assert [i["sku"] for i in ok(api.list_items(category="electronics"), "items")] == ["ITEM-001"]
    assert ok(api.list_items(over=True), "items") == []
    assert ok(api.report(), "report")["total_quantity"] == 42
    assert ok(api.report("low"), "report") == {"low_stock": []}
    history = ok(api.history("ITEM-001"), "history")
    assert [h["kind"] for h in history] == ["update", "move", "count", "adjust", "add"]
    assert history[3]["reason"] == "picked" and history[3]["delta"] == -5
    assert ok(api.delete_item("ITEM-001"), "item")["sku"] == "ITEM-001"
    assert ok(api.history("ITEM-001"), "history")[0]["kind"] == "delete"
    assert ok(api.history("NEVER"), "history") == []


def test_validation_and_storage_errors_are_told_apart(api: AtlasAPI, db: Path) -> None:
    refused(
        api.add_item("A", "a", quantity="ten"), "validation", "quantity: must be a whole number"
    )
    refused(api.adjust_quantity("NOPE", 1), "not_found", "NOPE")
    db.parent.mkdir(parents=True, exist_ok=True)
    db.write_text("{oops")
    refused(api.list_items(), "storage", str(db))


def test_no_exception_escapes_even_for_nonsense(api: AtlasAPI) -> None:
    refused(api.add_item(None, None), "validation", "sku")  # type: ignore[arg-type]
    refused(api.add_item("A", "a", attributes="nope"), "validation", "attributes")  # type: ignore[arg-type]
    refused(api.add_items("not a list"), "validation", "items")  # type: ignore[arg-type]
    refused(api.add_items([42]), "validation", "row 1: item")  # type: ignore[list-item]
    refused(api.update_item("A", colour="red"), "validation", "colour")
    refused(api.report(None), "validation", "type")  # type: ignore[arg-type]
    refused(api.adjust_quantity("A", None), "validation", "delta")  # type: ignore[arg-type]


def test_bad_configuration_is_an_envelope(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATLAS_MAX_ITEMS", "many")
    refused(AtlasAPI().list_items(), "config", "ATLAS_MAX_ITEMS")


def test_storage_path_from_the_environment(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATLAS_STORAGE_PATH", str(db))
    ok(AtlasAPI().add_item("ENV-1", "from env"), "item")
    assert ok(AtlasAPI(db).get_item("env-1"), "item")["name"] == "from env"
    assert ATLASDirectAPI is AtlasAPI


def test_add_items_is_all_or_nothing(api: AtlasAPI, db: Path) -> None:
    ok(api.add_item("HAVE", "already here"), "item")
    before = db.read_bytes()
    message = refused(
        api.add_items(
            [
                {"sku": "N-1", "name": "new"},
                {"sku": "have", "name": "dup"},
                {"sku": "N-2", "name": ""},
                {"sku": "N-3", "name": "x", "quantity": -2},
            ]
        ),
        "validation",
        "3 of 4 items refused",
    )
    assert "row 2: sku: 'have' already exists" in message
    assert "row 3: name: is required" in message
    assert "row 4: quantity: must be 0 or more" in message
    assert db.read_bytes() == before
    added = ok(
        api.add_items([{"sku": f"B-{n}", "name": "bulk", "quantity": n} for n in range(3)]), "items"
    )
    assert [a["sku"] for a in added] == ["B-0", "B-1", "B-2"]
    assert all(len(ok(api.history(f"B-{n}"), "history")) == 1 for n in range(3))


def test_instances_in_two_processes_see_each_others_changes(api: AtlasAPI, db: Path) -> None:
    ok(api.add_item("S", "shared", quantity=1), "item")
    other = (
        "from atlas_tui.api import AtlasAPI\n"
        f"api = AtlasAPI({str(db)!r})\n"
        "assert api.get_item('s')['item']['quantity'] == 1\n"
        "assert api.adjust_quantity('S', 9)['success']\n"
    )
    subprocess.run([sys.executable, "-c", other], check=True, timeout=60)
    assert ok(api.get_item("S"), "item")["quantity"] == 10
