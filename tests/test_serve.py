"""`atlas serve` as its clients meet it: a real server process, real HTTP, the real CLI."""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from serve_support import Served, serving
from support import run_atlas

from atlas_tui.api import AtlasAPI

ROOT = Path(__file__).resolve().parents[1]
PROBLEM = "application/problem+json"


def seed(store: Path) -> None:
    for sku, qty, where in (("BOLT-1", 40, "A1"), ("NUT-2", 5, "A1"), ("GEAR-3", 0, "B2")):
        done = run_atlas(
            "add", "--sku", sku, "--name", sku.title(), "--qty", str(qty), "--location", where,
            "--min", "10", db=store,
        )  # fmt: skip
        assert done.code == 0, done.err


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One server for the module's tests (each test uses items of its own where it
    changes stock)."""
    store = tmp_path_factory.mktemp("serve") / "atlas.json"
    seed(store)
    with serving(store) as server:
        yield server


def history(store: Path, sku: str) -> list[dict[str, Any]]:
    done = run_atlas("history", "--sku", sku, "--json", db=store)
    assert done.code == 0, done.err
    moves: list[dict[str, Any]] = json.loads(done.out)["history"]
    return moves


def show(store: Path, sku: str) -> dict[str, Any]:
    done = run_atlas("show", "--sku", sku, "--json", db=store)
    assert done.code == 0, done.err
    item: dict[str, Any] = json.loads(done.out)["item"]
    return item


def is_problem(response: httpx.Response, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"] and "\n" not in body["detail"]
    if field is not None:
        assert body["field"] == field, body
    return body


# Every operation the schema lists that needs a token, with a request it would accept.
def _operations() -> list[tuple[str, str]]:
    schema = json.loads((ROOT / "openapi.json").read_text())
    found = []
    for path, methods in schema["paths"].items():
        for method in methods:
            if path.startswith("/api/"):
                found.append((method.upper(), path))
    return found


CHANGES = {
    ("POST", "/api/v1/items"): {"json": {"sku": "NEW-9", "name": "New"}},
    ("PATCH", "/api/v1/items/{sku}"): {"json": {"name": "Renamed"}},
    ("DELETE", "/api/v1/items/{sku}"): {},
    ("POST", "/api/v1/items/{sku}/adjust"): {"json": {"delta": 1}},
    ("POST", "/api/v1/items/{sku}/receive"): {"json": {"quantity": 1}},
    ("POST", "/api/v1/items/{sku}/pick"): {"json": {"quantity": 1}},
    ("POST", "/api/v1/items/{sku}/transfer"): {
        "json": {"quantity": 1, "source": "A1", "target": "B2"}
    },
    ("POST", "/api/v1/items/{sku}/count"): {"json": {"quantity": 3}},
    ("POST", "/api/v1/items/{sku}/move"): {"json": {"location": "B2"}},
    ("POST", "/api/v1/moves"): {"json": {"skus": ["BOLT-1"], "location": "B2"}},
    ("POST", "/api/v1/undo"): {"json": {}},
    ("POST", "/api/v1/locations"): {"json": {"code": "Z9"}},
    ("PATCH", "/api/v1/locations/{code}"): {"json": {"name": "Shelf"}},
    ("POST", "/api/v1/locations/{code}/rename"): {"json": {"to": "A9"}},
    ("POST", "/api/v1/locations/{code}/retire"): {"json": {}},
    ("POST", "/api/v1/count-sessions"): {"json": {}},
    ("POST", "/api/v1/count-sessions/{session}/counts"): {"json": {"code": "BOLT-1"}},
    ("POST", "/api/v1/count-sessions/{session}/apply"): {},
    ("POST", "/api/v1/count-sessions/{session}/cancel"): {},
    ("POST", "/api/v1/imports"): {"content": b"sku,name\nIMP-1,Imported\n"},
    ("POST", "/api/v1/backup"): {},
    ("POST", "/api/v1/tokens/{token_id}/revoke"): {},
    ("POST", "/api/v1/items/batch"): {"json": {"items": [{"sku": "BATCH-1", "name": "B"}]}},
    ("POST", "/api/v1/users"): {"json": {"name": "zed", "role": "viewer"}},
    ("PATCH", "/api/v1/users/{name}"): {"json": {"role": "admin"}},
    ("DELETE", "/api/v1/users/{name}"): {},
    ("POST", "/api/v1/tokens"): {"json": {"user": "viewer"}},
    ("POST", "/api/v1/restore"): {"content": b"not a backup"},
    ("POST", "/api/v1/migrate"): {"json": {"to": "/nonexistent/copy.sqlite"}},
    ("POST", "/api/v1/demo"): {},
}
# The least role each change needs.
NEEDS = {
    ("POST", "/api/v1/items"): "manager",
    ("PATCH", "/api/v1/items/{sku}"): "manager",
    ("DELETE", "/api/v1/items/{sku}"): "manager",
    ("POST", "/api/v1/locations"): "manager",
    ("PATCH", "/api/v1/locations/{code}"): "manager",
    ("POST", "/api/v1/locations/{code}/rename"): "manager",
    ("POST", "/api/v1/locations/{code}/retire"): "manager",
    ("POST", "/api/v1/count-sessions/{session}/apply"): "manager",
    ("POST", "/api/v1/imports"): "manager",
    ("POST", "/api/v1/backup"): "admin",
    ("POST", "/api/v1/tokens/{token_id}/revoke"): "admin",
    ("POST", "/api/v1/items/batch"): "manager",
    ("POST", "/api/v1/users"): "admin",
    ("PATCH", "/api/v1/users/{name}"): "admin",
    ("DELETE", "/api/v1/users/{name}"): "admin",
    ("POST", "/api/v1/tokens"): "admin",
    ("POST", "/api/v1/restore"): "admin",
    ("POST", "/api/v1/migrate"): "admin",
    ("POST", "/api/v1/demo"): "manager",
}
ADMIN_READS = {"/api/v1/users", "/api/v1/tokens"}


def _url(path: str) -> str:
    return (
        path.replace("{sku}", "BOLT-1")
        .replace("{code}", "A1")
        .replace("{session}", "1")
        .replace("{token_id}", "0123456789ab")
        .replace("{report_type}", "summary")
        .replace("{name}", "viewer")
    )


def test_the_schema_is_the_committed_one() -> None:
    done = run_atlas("serve", "--print-openapi")
    assert done.code == 0, done.err
    assert json.loads(done.out) == json.loads((ROOT / "openapi.json").read_text()), (
        "openapi.json is stale: atlas serve --print-openapi > openapi.json"
    )
    assert set(CHANGES) == {op for op in _operations() if op[0] != "GET"}


@pytest.mark.parametrize(("method", "path"), _operations())
def test_every_endpoint_refuses_without_a_valid_token(
    served: Served, method: str, path: str
) -> None:
    request = CHANGES.get((method, path), {})
    with served.client(None) as anonymous:
        response = anonymous.request(method, _url(path), **request)
        body = is_problem(response, 401, "token")
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert "Authorization: Bearer" in body["detail"]
    with served.client(None, Authorization="Bearer atlas_0123456789ab_" + "x" * 43) as forged:
        is_problem(forged.request(method, _url(path), **request), 401, "token")
    with served.client(None, Authorization="Basic dmlld2VyOnZpZXdlcg==") as basic:
        is_problem(basic.request(method, _url(path), **request), 401, "token")


def export(served: Served) -> Any:
    """Every item, movement and count session as stored."""
    api = AtlasAPI(served.store)
    try:
        items = api.list_items()["items"]
        moves = api.history(since="2000-01-01")["history"]
        return items, moves, api.count_sessions(include_closed=True)["sessions"]
    finally:
        api.service.repository.close()


@pytest.mark.parametrize(("method", "path"), sorted(CHANGES))
def test_a_role_too_weak_is_refused_and_changes_nothing(
    served: Served, method: str, path: str
) -> None:
    needed = NEEDS.get((method, path), "operator")
    weaker = ("viewer", "operator", "manager", "admin")
    weaker = weaker[: weaker.index(needed)]
    before = export(served)
    for role in weaker:
        with served.client(role) as client:
            response = client.request(method, _url(path), **CHANGES[(method, path)])
            body = is_problem(response, 403)
            assert body["detail"].startswith(f"permission: {role} is a"), body
            assert f"needs {needed}" in body["detail"]
    assert export(served) == before


@pytest.mark.parametrize("path", sorted(ADMIN_READS))
def test_only_admins_read_users_and_tokens(served: Served, path: str) -> None:
    with served.client("manager") as manager:
        is_problem(manager.get(path), 403)
    with served.client("admin") as admin:
        listed = admin.get(path).json()
        assert {entry.get("name", entry.get("user")) for entry in listed} >= {"viewer", "admin"}
        assert "hash" not in json.dumps(listed) and "salt" not in json.dumps(listed)


def test_a_revoked_token_stops_working_at_once(served: Served) -> None:
    made = run_atlas("token", "create", "operator", db=served.store)
    token = made.out.strip()
    client = httpx.Client(base_url=served.url, headers={"Authorization": f"Bearer {token}"})
    with client:
        assert client.get("/api/v1/me").json() == {"user": "operator", "role": "operator"}
        token_id = token.split("_")[1]
        done = run_atlas("token", "revoke", token_id, db=served.store)
        assert done.code == 0, done.err
        is_problem(client.get("/api/v1/me"), 401, "token")
    assert token not in served.log_text()


def test_changes_are_recorded_under_the_token_s_user(served: Served) -> None:
    with served.client("operator") as client:
        response = client.post(
            "/api/v1/items/NUT-2/receive", json={"quantity": 7, "reason": "po 7"}
        )
        assert response.status_code == 200, response.text
        assert response.json()["item"]["quantity"] == 12
    latest = history(served.store, "NUT-2")[0]
    assert (latest["user"], latest["kind"], latest["delta"], latest["reason"]) == (
        "operator",
        "receive",
        7,
        "po 7",
    )


def test_bad_values_are_named_with_the_cli_s_words(served: Served) -> None:
    with served.client("operator") as client:
        body = is_problem(client.post("/api/v1/items/GEAR-3/adjust", json={"delta": -5}), 422)
        cli = run_atlas("adjust", "--sku", "GEAR-3", "--delta", "-5", db=served.store)
        assert cli.code == 1 and cli.err.strip() == f"error: {body['detail']}"
        assert body["field"] == "quantity"
        typed = is_problem(client.post("/api/v1/items/GEAR-3/adjust", json={"delta": "ten"}), 422)
        assert typed["detail"] == "quantity: must be a whole number, got 'ten'"
        extra = client.post("/api/v1/items/GEAR-3/adjust", json={"delta": 1, "qty": 2})
        assert is_problem(extra, 422, "qty")["detail"] == "qty: is not a field of this request"
        broken = client.post(
            "/api/v1/items/GEAR-3/adjust",
            content=b'{"delta": 1',
            headers={"Content-Type": "application/json"},
        )
        is_problem(broken, 422)
        missing = is_problem(client.get("/api/v1/items/NOPE-0"), 404, "sku")
        assert missing["detail"] == "sku: no item 'NOPE-0'"
    assert show(served.store, "GEAR-3")["quantity"] == 0


def test_a_retry_with_the_same_key_is_answered_not_applied(served: Served) -> None:
    key = {"Idempotency-Key": "scanner-7-0001"}
    with served.client("operator", **key) as client:
        first = client.post("/api/v1/items/BOLT-1/adjust", json={"delta": 2, "reason": "k1"})
        again = client.post("/api/v1/items/BOLT-1/adjust", json={"delta": 2, "reason": "k1"})
        assert first.status_code == again.status_code == 200
        assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
        assert again.headers["etag"] == first.headers["etag"]
        other = client.post("/api/v1/items/BOLT-1/adjust", json={"delta": 3, "reason": "k1"})
        is_problem(other, 422, "Idempotency-Key")
    with served.client("manager", **key) as someone_else:  # keys are each user's own
        theirs = someone_else.post("/api/v1/items/BOLT-1/adjust", json={"delta": 2, "reason": "k1"})
        assert theirs.status_code == 200 and "idempotent-replayed" not in theirs.headers
    assert [m["user"] for m in history(served.store, "BOLT-1") if m["reason"] == "k1"] == [
        "manager",
        "operator",
    ]


def test_a_burst_of_retries_changes_stock_once(served: Served) -> None:
    """A scanner on flaky Wi-Fi sends the same request many times at once."""
    answers: list[httpx.Response] = []

    def send() -> None:
        with served.client("operator", **{"Idempotency-Key": "burst-1"}) as client:
            answers.append(client.post("/api/v1/items/NUT-2/pick", json={"quantity": 1}))

    before = show(served.store, "NUT-2")["quantity"]
    threads = [threading.Thread(target=send) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {response.status_code for response in answers} <= {200, 409}
    assert any(response.status_code == 200 for response in answers)
    assert show(served.store, "NUT-2")["quantity"] == before - 1
    with served.client("operator", **{"Idempotency-Key": "burst-1"}) as client:
        late = client.post("/api/v1/items/NUT-2/pick", json={"quantity": 1})
        assert late.status_code == 200 and late.headers["idempotent-replayed"] == "true"


def test_a_refusal_is_answered_again_and_changes_nothing(served: Served) -> None:
    """A refusal is a first answer like any other: its retry gets the same answer back,
    marked as replayed, and still changes nothing."""
    before = show(served.store, "BOLT-1")["quantity"]
    with served.client("viewer", **{"Idempotency-Key": "v-1"}) as viewer:
        first = viewer.post("/api/v1/items/BOLT-1/adjust", json={"delta": 1})
        is_problem(first, 403)
        again = viewer.post("/api/v1/items/BOLT-1/adjust", json={"delta": 1})
        assert is_problem(again, 403) == first.json()
        assert again.headers["idempotent-replayed"] == "true"
    assert show(served.store, "BOLT-1")["quantity"] == before


def test_a_stale_if_match_is_refused(served: Served) -> None:
    with served.client("manager") as client:
        read = client.get("/api/v1/items/GEAR-3")
        tag = read.headers["etag"]
        assert client.get("/api/v1/items/GEAR-3", headers={"If-None-Match": tag}).status_code == 304
        edited = client.patch(
            "/api/v1/items/GEAR-3", json={"name": "Gear wheel"}, headers={"If-Match": tag}
        )
        assert edited.status_code == 200 and edited.headers["etag"] != tag
        stale = client.patch(
            "/api/v1/items/GEAR-3", json={"name": "Lost edit"}, headers={"If-Match": tag}
        )
        body = is_problem(stale, 412, "If-Match")
        assert "changed since you read it" in body["detail"]
        assert stale.headers["etag"] == edited.headers["etag"]
        stale_stock = client.post(
            "/api/v1/items/GEAR-3/receive", json={"quantity": 4}, headers={"If-Match": tag}
        )
        is_problem(stale_stock, 412, "If-Match")
    assert show(served.store, "GEAR-3")["name"] == "Gear wheel"
    assert show(served.store, "GEAR-3")["quantity"] == 0


def test_oversize_bodies_are_refused(served: Served) -> None:
    big = {"sku": "BIG-1", "name": "x" * (2 * 1024 * 1024)}
    with served.client("manager") as client:
        is_problem(client.post("/api/v1/items", json=big), 413)

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            yield b'{"sku": "BIG-2", "name": "'
            for _ in range(40):
                yield b"y" * 65536
            yield b'"}'

        streamed = client.post(
            "/api/v1/items", content=chunks(), headers={"Content-Type": "application/json"}
        )
        is_problem(streamed, 413)
    assert run_atlas("show", "--sku", "BIG-1", db=served.store).code == 1


def test_pages_cover_every_item_once(tmp_path: Path) -> None:
    store = tmp_path / "atlas.sqlite"
    rows = "sku,name,category,quantity,min_stock\n" + "".join(
        f"P-{n:03d},Part {n},{'bolts' if n % 2 else 'nuts'},{n},{5 if n < 8 else 0}\n"
        for n in range(25)
    )
    (tmp_path / "in.csv").write_text(rows)
    assert run_atlas("import", str(tmp_path / "in.csv"), db=store).code == 0
    with serving(store) as server, server.client("viewer") as client:
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 10}
            if cursor:
                params["cursor"] = cursor
            page = client.get("/api/v1/items", params=params).json()
            seen += [item["sku"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [f"P-{n:03d}" for n in range(25)]
        nuts = client.get("/api/v1/items", params={"category": "nuts", "low": True}).json()
        assert [item["sku"] for item in nuts["items"]] == ["P-000", "P-002", "P-004"]
        is_problem(client.get("/api/v1/items", params={"cursor": "%%%"}), 422, "cursor")
        is_problem(client.get("/api/v1/items", params={"limit": 0}), 422, "limit")
        moves = client.get("/api/v1/movements", params={"limit": 10}).json()
        older = client.get("/api/v1/movements", params={"cursor": moves["next_cursor"]}).json()
        ids = [m["id"] for m in moves["movements"] + older["movements"]]
        assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids) == 25


def test_import_is_a_dry_run_until_asked(served: Served) -> None:
    upload = b"sku,name,quantity\nIMP-1,Imported one,4\nIMP-2,Imported two,x\n"
    csv = {"Content-Type": "text/csv"}
    with served.client("manager") as client:
        dry = client.post("/api/v1/imports", content=upload, headers=csv)
        body = is_problem(dry, 422)
        assert body["import"]["refused"] == 1 and "a dry run changes nothing" in body["detail"]
        assert run_atlas("show", "--sku", "IMP-1", db=served.store).code == 1
        good = client.post(
            "/api/v1/imports", content=upload.splitlines(True)[0] + upload.splitlines(True)[1],
            headers=csv, params={"dry_run": False},
        )  # fmt: skip
        assert good.status_code == 200, good.text
    assert show(served.store, "IMP-1")["quantity"] == 4
    with served.client("viewer") as client:
        exported = client.get("/api/v1/export", params={"format": "csv"})
        assert exported.headers["content-type"].startswith("text/csv")
        assert "attachment" in exported.headers["content-disposition"]
        assert "IMP-1,Imported one" in exported.text


def test_a_count_session_over_http(served: Served) -> None:
    with served.client("operator") as operator, served.client("manager") as manager:
        session = operator.post("/api/v1/count-sessions", json={"location": "B2"}).json()
        number = session["id"]
        counted = operator.post(
            f"/api/v1/count-sessions/{number}/counts", json={"code": "GEAR-3", "quantity": 6}
        )
        assert counted.status_code == 200, counted.text
        is_problem(operator.post(f"/api/v1/count-sessions/{number}/apply"), 403)
        applied = manager.post(f"/api/v1/count-sessions/{number}/apply")
        assert applied.status_code == 200, applied.text
    assert show(served.store, "GEAR-3")["quantity"] == 6
    assert history(served.store, "GEAR-3")[0]["user"] == "manager"


def test_health_readiness_and_metrics(served: Served) -> None:
    with served.client(None) as anyone:
        assert anyone.get("/healthz").json() == {"status": "ok"}
        assert anyone.get("/readyz").json() == {"status": "ready", "backend": "tinydb"}
        text = anyone.get("/metrics").text
    for name in (
        "atlas_http_requests_total",
        "atlas_http_request_duration_seconds_bucket",
        "atlas_operations_total",
        "atlas_lock_wait_seconds_count",
        "atlas_webhook_deliveries",
        "atlas_items ",
    ):
        assert name in text, name
    assert re.search(
        r'atlas_http_requests_total\{method="GET",route="/healthz",status="200"\}', text
    )
    assert "BOLT-1" not in text  # routes are labelled by template, never by SKU


def test_json_logs_carry_request_ids_and_no_secrets(tmp_path: Path) -> None:
    store = tmp_path / "atlas.json"
    seed(store)
    with serving(store, "--log-format", "json") as server:
        with server.client("operator", **{"X-Request-ID": "scan-42"}) as client:
            key = {"Idempotency-Key": "log-1"}
            answer = client.post("/api/v1/items/NUT-2/adjust", json={"delta": 1}, headers=key)
            assert answer.headers["x-request-id"] == "scan-42"
            again = client.post(
                "/api/v1/items/NUT-2/adjust",
                json={"delta": 1},
                headers={**key, "X-Request-ID": "scan-43"},
            )
            assert again.headers["x-request-id"] == "scan-43"
            assert again.headers["idempotent-replayed"] == "true"
        hostile = {"X-Request-ID": "\x1b]0;pwned\x07", "Authorization": "Bearer \x1b[31mred"}
        with server.client(None, **hostile) as client:
            refused = client.get("/api/v1/me")
            assert refused.status_code == 401
            assert re.fullmatch(r"[0-9a-f]{32}", refused.headers["x-request-id"])
    lines = [json.loads(line) for line in server.log if line.startswith("{")]
    requests = [line for line in lines if line["message"] == "request"]
    mine = [line for line in requests if line["request_id"] == "scan-42"]
    assert mine and mine[0]["user"] == "operator" and mine[0]["status"] == 200
    assert mine[0]["route"] == "/api/v1/items/{sku}/adjust"
    replayed = [line for line in requests if line["request_id"] == "scan-43"]
    assert replayed[0]["route"] == "/api/v1/items/{sku}/adjust"
    text = server.log_text()
    for token in server.tokens.values():
        assert token not in text and token.split("_")[2] not in text
    assert "\x1b" not in text and "pwned" not in text


def test_cors_is_closed_unless_an_origin_is_given(tmp_path: Path) -> None:
    store = tmp_path / "atlas.json"
    preflight = {
        "Origin": "https://shop.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
    }
    with serving(store) as closed, httpx.Client(base_url=closed.url) as client:
        answer = client.options("/api/v1/items", headers=preflight)
        assert "access-control-allow-origin" not in answer.headers
        assert closed.url.startswith("http://127.0.0.1:")
    with (
        serving(store, "--cors-origin", "https://shop.example", users=False) as opened,
        httpx.Client(base_url=opened.url) as client,
    ):
        answer = client.options("/api/v1/items", headers=preflight)
        assert answer.headers["access-control-allow-origin"] == "https://shop.example"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_api_on_the_other_backends(tmp_path: Path, backend: str) -> None:
    from pg_support import fresh_store

    with contextlib.ExitStack() as stack:
        store: Path = (
            stack.enter_context(fresh_store())  # type: ignore[assignment]
            if backend == "postgresql"
            else tmp_path / "atlas.sqlite"
        )
        server = stack.enter_context(serving(store))
        manager = stack.enter_context(server.client("manager"))
        made = manager.post("/api/v1/items", json={"sku": "PG-1", "name": "Pump", "quantity": 3})
        assert made.status_code == 201 and made.headers["location"] == "/api/v1/items/PG-1"
        retry = {"Idempotency-Key": f"{backend}-1"}
        for _ in range(2):
            answer = manager.post("/api/v1/items/pg-1/adjust", json={"delta": 4}, headers=retry)
            assert answer.status_code == 200 and answer.json()["item"]["quantity"] == 7
        stale = manager.patch(
            "/api/v1/items/PG-1", json={"name": "x"}, headers={"If-Match": made.headers["etag"]}
        )
        is_problem(stale, 412, "If-Match")
        assert manager.get("/readyz").json()["backend"] == backend
        moves = manager.get("/api/v1/movements", params={"sku": "PG-1"}).json()["movements"]
        assert [(m["kind"], m["delta"], m["user"]) for m in moves] == [
            ("adjust", 4, "manager"),
            ("add", 3, "manager"),
        ]


def test_an_admin_manages_users_and_restores_a_backup(tmp_path: Path) -> None:
    store = tmp_path / "atlas.json"
    seed(store)
    with serving(store) as server, server.client("admin") as admin:
        made = admin.post("/api/v1/users", json={"name": "scan-3", "role": "operator"})
        assert made.status_code == 201, made.text
        token = admin.post("/api/v1/tokens", json={"user": "scan-3", "label": "aisle 3"}).json()
        assert token["token"].startswith("atlas_") and token["user"] == "scan-3"
        saved = admin.post("/api/v1/backup").json()["path"]
        scanner = httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {token['token']}"}
        )
        with scanner:
            assert (
                scanner.post("/api/v1/items/BOLT-1/pick", json={"quantity": 40}).status_code == 200
            )
            assert admin.patch("/api/v1/users/scan-3", json={"role": "viewer"}).status_code == 200
            is_problem(scanner.post("/api/v1/items/NUT-2/pick", json={"quantity": 1}), 403)
            assert admin.delete("/api/v1/users/scan-3").json()["revoked"] == 1
            is_problem(scanner.get("/api/v1/me"), 401)
        bad = is_problem(admin.post("/api/v1/restore", content=b"not a backup"), 422, "body")
        assert bad["detail"] == "body: is not a backup made by `atlas backup` (SQLite or JSON)"
        restored = admin.post("/api/v1/restore", content=Path(saved).read_bytes())
        assert restored.status_code == 200, restored.text
        assert admin.get("/api/v1/items/BOLT-1").json()["quantity"] == 40
        assert token["token"] not in server.log_text()


def test_the_server_delivers_webhooks_without_holding_up_changes(
    tmp_path: Path, config_file: Path
) -> None:
    """A receiver that hangs on its first event: the API's changes go on, and the events
    come, signed, once it answers; the metrics count the deliveries."""
    from test_webhooks import SECRET, Receiver, wait_until

    from atlas_tui.services.webhooks import verify

    receiver = Receiver(hold=True)
    config_file.write_text(
        f'[[webhooks]]\non = ["movement", "low_stock"]\nurl = "{receiver.url}"\n'
        f'secret = "{SECRET}"\nbackoff = 0.05\n'
    )
    store = tmp_path / "atlas.json"
    seed(store)
    try:
        with serving(store) as server, server.client("operator") as client:
            first = client.post("/api/v1/items/BOLT-1/pick", json={"quantity": 29})  # 11 left
            assert first.status_code == 200
            assert receiver.held.wait(60)  # the first event is stuck at the receiver
            for _ in range(3):  # meanwhile the API answers every change
                picked = client.post("/api/v1/items/BOLT-1/pick", json={"quantity": 1})
                assert picked.status_code == 200
            receiver.hold = False
            receiver.release.set()
            wait_until(lambda: len(receiver.events()) >= 5, "4 movements and 1 low_stock")
            metrics = client.get("/metrics").text
            assert 'atlas_webhook_deliveries_total{event="movement",outcome="ok"}' in metrics
            log = server.log_text()
        kinds = sorted(event["type"] for event in receiver.events())
        assert kinds == ["low_stock", "movement", "movement", "movement", "movement"]
        for headers, body in receiver.requests:
            assert verify(SECRET, headers["X-Atlas-Signature"], body)
        assert SECRET not in log
    finally:
        receiver.close()
