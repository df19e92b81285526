"""The Python API: envelopes, never an exception, shared files seen by every instance."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from atlas_tui.api import AtlasAPI, ATLASDirectAPI, failure


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
    refused(api.adjust_quantity("A", None), "validation", "quantity")  # type: ignore[arg-type]


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


# 14. Every argument a caller can send, of every wrong type, is refused naming it ------------

WRONG_TYPES: list[Any] = [[], {}, object(), 1.5, True, b"x", None]
# How a refusal names an argument when the operator's word differs from the parameter's.
WORDS = {
    "delta": "quantity",
    "min_stock": "minimum",
    "max_stock": "maximum",
    "session_id": "session",
    "report_type": "type",
    "file_format": "format",
    "path": "file",
    "search_dir": "dir",
    "source": "from",
    "target": "to",
}
FLAGS = {"low", "over", "dry_run", "strict", "add", "include_closed", "if_new", "empty", "lines"}
PATHS = {"out", "path", "to", "file", "search_dir"}
# None stands for "the default" here, as the signatures say.
NONE_IS_DEFAULT = {
    ("add_item", name) for name in ("category", "quantity", "location", "min_stock", "max_stock")
} | {("export_items", "file_format")}


def _wrong_calls() -> list[tuple[str, str, Any]]:
    """(method, argument, wrong value) for every public method and argument of the API."""
    cases = []
    for method, function in inspect.getmembers(AtlasAPI, inspect.isfunction):
        if method.startswith("_"):
            continue
        parameters = dict(inspect.signature(function).parameters)
        parameters.pop("self")
        names = [n for n, p in parameters.items() if p.kind is not p.VAR_KEYWORD]
        if method == "update_item":  # its fields come as keywords
            names += ["name", "category", "min_stock", "max_stock", "attributes"]
        for name in names:
            default = parameters[name].default if name in parameters else None
            for value in WRONG_TYPES:
                right = (
                    (value is None and (default is None or (method, name) in NONE_IS_DEFAULT))
                    or (value is True and name in FLAGS)
                    or (value == b"x" and name in PATHS)
                    or (value == {} and name in ("attributes", "barcodes"))
                    or (value == [] and name in ("items", "mapping"))
                )
                if not right:
                    cases.append((method, name, value))
    return cases


@pytest.fixture
def busy_api(api: AtlasAPI, tmp_path: Path) -> tuple[AtlasAPI, dict[str, dict[str, Any]]]:
    """A store with A-1 and an open count session, and for each method arguments that
    would be accepted, so that only the wrong one can be refused."""
    ok(api.add_item("A-1", "Anvil", quantity=5, location="A1"), "item")
    ok(api.create_location("EMPTY"), "location")
    ok(api.count_session_start(), "session")
    (tmp_path / "media").mkdir()
    source = tmp_path / "in.csv"
    source.write_text("sku,name\nN-9,Nut\n")
    backup = ok(api.backup(tmp_path / "backups"), "backup")["path"]
    ok(api.add_user("alice", "operator"), "user")  # (no token: a scrypt hash per case)
    valid = {
        "add_user": {"name": "carol", "role": "viewer"},
        "set_role": {"name": "alice", "role": "viewer"},
        "remove_user": {"name": "alice"},
        "create_token": {"user": "alice"},
        "add_item": {"sku": "NEW-1", "name": "New"},
        "add_items": {"items": [{"sku": "NEW-2", "name": "New"}]},
        "adjust_quantity": {"sku": "A-1", "delta": 1},
        "count_item": {"sku": "A-1", "quantity": 3},
        "move_item": {"sku": "A-1", "location": "B9"},
        "move_items": {"skus": ["A-1"], "location": "B9"},
        "update_item": {"sku": "A-1", "name": "Renamed"},
        "delete_item": {"sku": "A-1"},
        "get_item": {"sku": "A-1"},
        "trend": {"sku": "A-1"},
        "history": {"sku": "A-1"},
        "import_file": {"path": source},
        "restore": {"file": backup},
        "migrate": {"to": tmp_path / "copy.sqlite"},
        "count_session": {"session_id": 1},
        "count_session_apply": {"session_id": 1},
        "count_session_cancel": {"session_id": 1},
        "count_session_record": {"session_id": 1, "code": "A-1"},
        "find_media": {"query": "Heat", "search_dir": tmp_path / "media"},
        "demo": {"items": 3},
        "receive": {"sku": "A-1", "quantity": 2},
        "pick": {"sku": "A-1", "quantity": 1},
        "transfer": {"sku": "A-1", "quantity": 1, "source": "A1", "target": "B9"},
        "stock": {"sku": "A-1"},
        "location": {"location": "A1"},
        "create_location": {"location": "NEW-LOC"},
        "edit_location": {"location": "A1"},
        "rename_location": {"location": "A1", "to": "A2"},
        "retire_location": {"location": "EMPTY"},
    }
    return api, valid


@pytest.mark.parametrize(("method", "argument", "value"), _wrong_calls())
def test_a_wrong_type_is_refused_naming_the_argument(
    busy_api: tuple[AtlasAPI, dict[str, dict[str, Any]]], method: str, argument: str, value: Any
) -> None:
    api, valid = busy_api
    arguments = {**valid.get(method, {}), argument: value}
    envelope = getattr(api, method)(**arguments)
    assert envelope["success"] is False, envelope
    assert envelope["error_type"] == "validation", envelope
    word = WORDS.get(argument, argument)
    assert envelope["error"].startswith(f"{word}:"), envelope["error"]
    assert "\n" not in envelope["error"] and len(envelope["error"]) < 200


def test_the_issue_s_examples_name_the_field(api: AtlasAPI) -> None:
    assert api.list_items(category=[])["error"] == "category: must be text, got []"  # type: ignore[arg-type]
    assert api.trend("A-1", days=[])["error"] == "days: must be a whole number, got []"  # type: ignore[arg-type]
    assert api.trend("A-1", days=10**9)["error"] == "days: must be between 1 and 3660"


@pytest.mark.parametrize("where", [[], 1.5, "a\0b", "mysql://user:secret@db/stock"])
def test_a_wrong_storage_path_is_a_config_error(where: Any) -> None:
    envelope = AtlasAPI(where).list_items()
    assert envelope["success"] is False and envelope["error_type"] == "config", envelope
    assert envelope["error"].startswith("--db: ") and "secret" not in envelope["error"]


def test_sqlite_reporting_a_full_disk_is_a_storage_error_naming_the_file(tmp_path: Path) -> None:
    """The message SQLite gives for SQLITE_FULL, raised by a real database held to a size."""
    import sqlite3

    conn = sqlite3.connect(tmp_path / "full.sqlite")
    conn.execute("PRAGMA max_page_count = 2")
    with pytest.raises(sqlite3.OperationalError) as full:
        conn.executescript("CREATE TABLE a(x); CREATE TABLE b(x); CREATE TABLE c(x);")
    envelope = failure(full.value, tmp_path / "full.sqlite")
    assert envelope == {
        "success": False,
        "error": f"storage: cannot write the data file {tmp_path / 'full.sqlite'}: the disk is "
        "full; the change was not saved",
        "error_type": "storage",
    }


def test_a_user_name_too_long_to_record_is_a_config_error(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATLAS_USER", "u" * 65)
    refused(AtlasAPI(db).list_items(), "config", "ATLAS_USER: must be at most 64 characters")
