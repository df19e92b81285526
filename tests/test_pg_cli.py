"""A PostgreSQL store through the CLI, as users meet it: how it is named, what is never
printed (its password), and the commands that move a whole store between backends."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from pg_support import PgStore, fresh_store, require_postgres
from support import Result, run_atlas

from atlas_tui.dburl import parse_database_url

SECRET = "Pw-s3cr3t"
NO_DATABASE = "the PostgreSQL URL names no database"


@pytest.fixture
def store() -> Iterator[PgStore]:
    with fresh_store() as made:
        yield made


def with_password(url: str, password: str = SECRET) -> str:
    """The URL with a password in its user part (trust auth lets it in all the same)."""
    parts = urllib.parse.urlsplit(url)
    user = parts.username or "postgres"
    host = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}:{password}@{host}"))


def closed_port(url: str) -> str:
    """The URL pointing at a port nothing listens on."""
    parts = urllib.parse.urlsplit(url)
    user = parts.netloc.rpartition("@")[0]
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}@127.0.0.1:1"))


def atlas(db: str | Path | None, *args: str, env: dict[str, str] | None = None) -> Result:
    """The CLI on this store: a data file or a server's URL."""
    return run_atlas(*(("--db", str(db)) if db is not None else ()), *args, env=env)


def one_error(err: str) -> str:
    """The only line on stderr, an error: no traceback, nothing else."""
    lines = err.strip().splitlines()
    assert "Traceback" not in err, err
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    return lines[0]


def listed(db: str | Path) -> list[dict[str, object]]:
    result = atlas(db, "--json", "list")
    assert result.code == 0, result.err
    items = json.loads(result.out)["items"]
    assert isinstance(items, list)
    return items


def skus(db: str | Path) -> list[object]:
    return [item["sku"] for item in listed(db)]


# URL forms and settings -------------------------------------------------------------------------


def test_db_flag_env_postgres_scheme_and_schema_setting(store: PgStore) -> None:
    """--db, ATLAS_STORAGE_PATH, postgres:// and ATLAS_PG_SCHEMA all reach the same schema."""
    added = atlas(store, "add", "--sku", "A-1", "--name", "Anvil")
    assert added.code == 0, added.err
    short = "postgres://" + str(store).partition("://")[2]
    assert skus_env({"ATLAS_STORAGE_PATH": short}) == ["A-1"]
    bare = store.server  # no options: the schema comes from ATLAS_PG_SCHEMA
    env = {"ATLAS_STORAGE_PATH": bare, "ATLAS_PG_SCHEMA": store.schema}
    assert skus_env(env) == ["A-1"]
    # The URL's search_path wins over ATLAS_PG_SCHEMA.
    assert skus_env({"ATLAS_STORAGE_PATH": str(store), "ATLAS_PG_SCHEMA": "elsewhere"}) == ["A-1"]


def skus_env(env: dict[str, str]) -> list[object]:
    result = run_atlas("--json", "list", env=env)
    assert result.code == 0, result.err
    return [item["sku"] for item in json.loads(result.out)["items"]]


def test_two_schemas_of_one_database_are_independent(store: PgStore) -> None:
    with fresh_store() as other:
        assert atlas(store, "add", "--sku", "A", "--name", "a").code == 0
        assert atlas(other, "add", "--sku", "B", "--name", "b").code == 0
        assert atlas(store, "adjust", "--sku", "A", "--delta", "3").code == 0
        assert skus(store) == ["A"]
        assert skus(other) == ["B"]
        refused = atlas(other, "adjust", "--sku", "A", "--delta", "1")
        assert refused.code == 1
        assert "no item 'A'" in one_error(refused.err)


@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        (["--db", "postgresql://u:{pw}@127.0.0.1:5432/test?options=-csearch_path%3DSite-2"],
         {}, "--db: search_path in options: schema 'Site-2'"),
        (["--db", "postgresql://u:{pw}@127.0.0.1:5432/test"],
         {"ATLAS_PG_SCHEMA": "2nd"}, "ATLAS_PG_SCHEMA: schema '2nd'"),
        ([], {"ATLAS_STORAGE_PATH": "postgres://u:{pw}@127.0.0.1:5432/",
              "ATLAS_PG_SCHEMA": "site2"}, f"ATLAS_STORAGE_PATH: {NO_DATABASE}"),
        (["--db", "postgresql://u:{pw}@127.0.0.1:5432"], {}, f"--db: {NO_DATABASE}"),
    ],
    ids=["bad-search-path", "bad-env-schema", "env-no-database", "flag-no-database"],
)  # fmt: skip
def test_bad_schema_or_database_is_one_line_naming_the_setting(
    args: list[str], env: dict[str, str], named: str
) -> None:
    args = [arg.replace("{pw}", SECRET) for arg in args]
    env = {key: value.replace("{pw}", SECRET) for key, value in env.items()}
    for command in (["list"], ["add", "--sku", "A", "--name", "a"], ["config", "show"]):
        result = run_atlas(*args, *command, env=env)
        assert result.code == 1, (command, result)
        assert one_error(result.err).startswith(f"error: {named}"), result.err
        assert SECRET not in result.out + result.err


def test_config_show_names_the_store_with_the_password_masked(store: PgStore) -> None:
    url = with_password(str(store))
    shown = atlas(url, "config", "show")
    assert shown.code == 0, shown.err
    line = next(line for line in shown.out.splitlines() if line.startswith("store"))
    assert "postgres:***@" in line and store.schema in line and "← flag --db" in line
    as_json = run_atlas("--json", "config", "show", env={"ATLAS_STORAGE_PATH": url})
    store_row = json.loads(as_json.out)["config"]["settings"]["store"]
    assert store_row == {"value": str(parse_database_url(url)), "source": "env"}
    assert SECRET not in shown.out + shown.err + as_json.out + as_json.err


# Passwords never printed --------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["url", "query", "PGPASSWORD"])
def test_an_unreachable_server_is_one_line_without_the_password(where: str, tmp_path: Path) -> None:
    server = closed_port(require_postgres())
    env: dict[str, str] = {}
    if where == "url":
        url = with_password(server)
    elif where == "query":
        url = f"{server}?password={SECRET}"
    else:
        url, env = server, {"PGPASSWORD": SECRET}
    file = tmp_path / "stock.sqlite"
    assert atlas(file, "add", "--sku", "A", "--name", "a").code == 0
    commands = [
        ["list"],
        ["--json", "list"],
        ["add", "--sku", "A", "--name", "a"],
        ["--json", "adjust", "--sku", "A", "--delta", "1"],
        ["verify"],  # not a finding about the store ("1 problem, 0 items"): a refusal
        ["history", "--sku", "A"],
        ["backup"],
        ["count-session", "list"],
        ["--json", "restore", str(file), "--yes"],
    ]
    if where != "url":  # the same messages: a few of them are enough
        commands = commands[:2]
    for command in commands:
        result = atlas(url, *command, env=env)
        assert result.code == 1, (command, result)
        assert SECRET not in result.out + result.err, command
        if "--json" in command:
            envelope = json.loads(result.out)
            assert envelope["success"] is False
            assert envelope["error"].startswith("database unreachable (127.0.0.1:1)")
            assert "Traceback" not in result.err
        else:
            assert one_error(result.err).startswith("error: database unreachable (127.0.0.1:1)")
    migrated = atlas(file, "migrate", "--to", url, env=env)
    assert migrated.code == 1
    assert SECRET not in migrated.out + migrated.err
    assert one_error(migrated.err).startswith("error: database unreachable (127.0.0.1:1)")


def test_the_message_names_the_port_libpq_uses() -> None:
    """A port in the URL's query overrides the one after the host, for libpq and messages."""
    parts = urllib.parse.urlsplit(with_password(require_postgres()))
    url = parts._replace(query="port=1").geturl()
    result = atlas(url, "list")
    assert result.code == 1
    assert one_error(result.err).startswith(f"error: database unreachable ({parts.hostname}:1)")
    bad = atlas(parts._replace(query="port=54x").geturl(), "list")
    assert bad.code == 1
    assert one_error(bad.err) == "error: --db: port '54x' in the URL is not a port number"
    assert SECRET not in result.err + bad.err


def test_a_missing_database_or_a_mistyped_password_escape_is_masked() -> None:
    server = require_postgres()
    parts = urllib.parse.urlsplit(server)
    missing = with_password(urllib.parse.urlunsplit(parts._replace(path="/atlas_no_such_db")))
    result = atlas(missing, "list")
    assert result.code == 1
    line = one_error(result.err)
    assert line.startswith(f"error: database unreachable ({parts.hostname}:{parts.port or 5432})")
    assert "atlas_no_such_db" in line and SECRET not in result.out + result.err
    # libpq quotes the part of the URL it cannot decode: here, the password itself.
    typo = with_password(server, "Pw%ZZs3cr3t")
    result = atlas(typo, "--json", "list")
    assert result.code == 1
    assert "s3cr3t" not in result.out + result.err
    assert json.loads(result.out)["error"].startswith("database unreachable")


def test_what_a_working_store_prints_masks_its_password(store: PgStore, tmp_path: Path) -> None:
    url = with_password(str(store))
    file = tmp_path / "stock.json"
    assert atlas(file, "demo", "--items", "5").code == 0
    migrated = atlas(file, "--json", "migrate", "--to", url)
    backed = atlas(url, "--json", "backup", "--to", str(tmp_path / "backups"))
    verified = atlas(url, "--json", "verify")
    plain = atlas(tmp_path / "other.json", "migrate", "--to", url)
    for result in (migrated, backed, verified):
        assert result.code == 0, result.err
        assert json.loads(result.out)["success"] is True
    assert "postgres:***@" in migrated.out
    assert plain.code == 1  # the schema already holds data: named, masked
    assert "postgres:***@" in one_error(plain.err)
    for result in (migrated, backed, verified, plain):
        assert SECRET not in result.out + result.err


# Schema lifecycle --------------------------------------------------------------------------------


def sql_rows(store: PgStore, query: str) -> list[tuple[object, ...]]:
    with psycopg.connect(store.server, autocommit=True) as conn:
        return conn.execute(query.replace("{s}", store.schema).encode()).fetchall()


def test_processes_creating_a_new_schema_at_once_create_it_once(store: PgStore) -> None:
    command = [sys.executable, "-m", "atlas_tui", "--db", str(store), "add", "--name", "n"]
    processes = [
        subprocess.Popen(
            [*command, "--sku", f"S-{n}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for n in range(4)
    ]
    results = [(p.wait(timeout=60), *p.communicate()) for p in processes]
    assert all(code == 0 for code, _, _ in results), results
    assert sorted(skus(store)) == ["S-0", "S-1", "S-2", "S-3"]
    assert sql_rows(store, "SELECT version FROM {s}.schema_version ORDER BY 1") == [(1,), (2,)]


def test_a_store_of_the_first_schema_is_brought_up_to_date(store: PgStore) -> None:
    assert atlas(store, "add", "--sku", "A", "--name", "a").code == 0
    with psycopg.connect(store.server, autocommit=True) as conn:  # as the first ATLAS left it
        conn.execute(f"DROP TABLE {store.schema}.requests".encode())
        conn.execute(f"DELETE FROM {store.schema}.schema_version WHERE version = 2".encode())
    assert atlas(store, "adjust", "--sku", "A", "--delta", "1").code == 0
    assert sql_rows(store, "SELECT version FROM {s}.schema_version ORDER BY 1") == [(1,), (2,)]
    assert sql_rows(store, "SELECT count(*) FROM {s}.requests") == [(0,)]


def test_a_schema_of_a_newer_atlas_is_refused_and_left_untouched(
    store: PgStore, tmp_path: Path
) -> None:
    assert atlas(store, "add", "--sku", "A", "--name", "a").code == 0
    sql_rows(store, "INSERT INTO {s}.schema_version (version) VALUES (99) RETURNING version")
    before = store.read_bytes()
    file = tmp_path / "other.sqlite"
    assert atlas(file, "add", "--sku", "B", "--name", "b").code == 0
    for db, command in [
        (store, ["list"]),
        (store, ["adjust", "--sku", "A", "--delta", "1"]),
        (store, ["verify"]),
        (store, ["restore", str(file), "--yes"]),
        (file, ["migrate", "--to", str(store)]),
    ]:
        result = atlas(db, *command)
        assert result.code == 1, (command, result)
        line = result.out if command == ["verify"] else one_error(result.err)
        assert "written by a newer ATLAS (schema version 99" in line
        assert "upgrade ATLAS" in line
    assert store.read_bytes() == before
    versions = sql_rows(store, "SELECT version FROM {s}.schema_version ORDER BY 1")
    assert versions == [(1,), (2,), (99,)]


def test_a_schema_holding_other_tables_is_refused(store: PgStore, tmp_path: Path) -> None:
    with psycopg.connect(store.server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {store.schema}".encode())
        conn.execute(f"CREATE TABLE {store.schema}.customers (id int)".encode())
        conn.execute(f"INSERT INTO {store.schema}.customers VALUES (7)".encode())
    file = tmp_path / "other.sqlite"
    assert atlas(file, "add", "--sku", "B", "--name", "b").code == 0
    for db, command in [
        (store, ["add", "--sku", "A", "--name", "a"]),
        (store, ["list"]),
        (store, ["restore", str(file), "--yes"]),
        (file, ["migrate", "--to", str(store)]),
    ]:
        result = atlas(db, *command)
        assert result.code == 1, (command, result)
        assert f"schema '{store.schema}' holds tables that are not ATLAS's" in one_error(result.err)
    tables = sql_rows(store, "SELECT tablename FROM pg_tables WHERE schemaname = '{s}'")
    assert tables == [("customers",)]
    assert sql_rows(store, "SELECT id FROM {s}.customers") == [(7,)]


def test_the_movement_history_is_append_only(store: PgStore) -> None:
    assert atlas(store, "add", "--sku", "A", "--name", "a", "--qty", "5").code == 0
    assert atlas(store, "adjust", "--sku", "A", "--delta", "-2").code == 0
    before = store.read_bytes()
    with psycopg.connect(store.server, autocommit=True) as conn:
        for statement in ("UPDATE {s}.movements SET delta = 0", "DELETE FROM {s}.movements"):
            with pytest.raises(psycopg.errors.RestrictViolation, match="append-only"):
                conn.execute(statement.replace("{s}", store.schema).encode())
    assert store.read_bytes() == before
    assert atlas(store, "verify").code == 0


# Whole-store commands across backends -------------------------------------------------------------


@pytest.mark.parametrize(("source", "back"), [("stock.json", "back.sqlite"),
                                              ("stock.sqlite", "back.json")])  # fmt: skip
def test_migrate_to_postgresql_and_back_to_a_file(
    store: PgStore, tmp_path: Path, source: str, back: str
) -> None:
    file, returned = tmp_path / source, tmp_path / back
    assert atlas(file, "demo", "--items", "12").code == 0
    there = atlas(file, "migrate", "--to", str(store))
    assert there.code == 0, there.err
    assert "(postgresql); counts and checksums match" in there.out
    assert atlas(store, "verify").code == 0
    home = atlas(store, "migrate", "--to", str(returned))
    assert home.code == 0, home.err
    assert "counts and checksums match" in home.out
    verified = atlas(returned, "verify")
    assert verified.code == 0 and verified.out.startswith("OK: 12 items"), verified
    assert listed(returned) == listed(file) == listed(store)
    history = [atlas(db, "--json", "history", "--since", "2000-01-01").out
               for db in (file, store, returned)]  # fmt: skip
    assert history[0] == history[1] == history[2]


def test_backup_of_a_server_store_restores_into_a_server_or_a_file(
    store: PgStore, tmp_path: Path
) -> None:
    assert atlas(store, "demo", "--items", "8").code == 0
    backed = atlas(store, "--json", "backup", "--to", str(tmp_path / "kept"))
    snapshot = Path(json.loads(backed.out)["backup"]["path"])
    assert snapshot.suffix == ".sqlite" and snapshot.parent == tmp_path / "kept"
    # Self-contained: the snapshot is a store of its own, checked without the server.
    assert atlas(snapshot, "verify").out.startswith("OK: 8 items")
    assert listed(snapshot) == listed(store)
    into_file = tmp_path / "restored.json"
    restored = atlas(into_file, "restore", str(snapshot), "--yes")
    assert restored.code == 0, restored.err
    assert listed(into_file) == listed(store)
    with fresh_store() as other:
        assert atlas(other, "add", "--sku", "OLD-1", "--name", "old").code == 0
        restored = atlas(other, "restore", str(snapshot), "--yes")
        assert restored.code == 0, restored.err
        assert listed(other) == listed(store)
        assert atlas(other, "verify").code == 0
        kept = Path(restored.out.split("the previous data is kept in ")[1].strip())
        assert kept.parent == other.parent / "backups"
        assert skus(kept) == ["OLD-1"]


def test_count_sessions_live_in_the_database(store: PgStore) -> None:
    added = atlas(store, "add", "--sku", "A", "--name", "a", "--qty", "5", "--location", "A1")
    assert added.code == 0, added.err
    started = atlas(store, "--json", "count-session", "start", "--location", "A1")
    assert started.code == 0, started.err
    session = json.loads(started.out)["session"]["id"]
    counted = atlas(store, "count-session", "count", str(session), "A", "3")
    assert counted.code == 0, counted.err
    shown = atlas(store, "--json", "count-session", "list")
    assert [s["id"] for s in json.loads(shown.out)["sessions"]] == [session]
    applied = atlas(store, "count-session", "apply", str(session))
    assert applied.code == 0, applied.err
    assert [item["quantity"] for item in listed(store)] == [3]
    assert sql_rows(store, "SELECT name FROM {s}.documents") == [("count_sessions",)]
    assert not store.parent.exists() or not any(store.parent.iterdir())
