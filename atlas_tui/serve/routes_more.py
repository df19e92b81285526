"""Movements, undo, locations, count sessions, reports, import/export, media, users."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from atlas_tui.api import AtlasAPI
from atlas_tui.serve import models
from atlas_tui.serve.context import caller, decode_cursor, encode_cursor, unwrap
from atlas_tui.serve.problems import REFUSALS, Problem

router = APIRouter(prefix="/api/v1", responses=REFUSALS)
Text = Annotated[str | None, Query(max_length=1000)]


@router.get("/me", response_model=models.Me, tags=["access"], summary="Who the token acts as")
def me(request: Request) -> dict[str, str]:
    principal = request.state.principal
    return {"user": principal.name, "role": principal.role.value}


@router.get("/movements", response_model=models.MovementPage, tags=["history"], summary="History")
def movements(
    request: Request,
    sku: Text = None,
    since: Annotated[
        str | None, Query(max_length=100, description="ISO date or time: only changes since")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> dict[str, Any]:
    """Changes newest first: of one item, or everyone's (since a moment when given)."""
    api = caller(request)
    before = None
    if cursor is not None:
        text = decode_cursor(cursor)
        if not text.isdigit():
            raise Problem(422, "cursor: is not a cursor this server gave", field="cursor")
        before = int(text)
    if sku is None and since is None:
        found = _latest(api, before, limit + 1)
    else:
        found = unwrap(api.history(sku, since), "history", "read", request)
        if before is not None:
            found = [m for m in found if m["id"] is not None and m["id"] < before]
    page = found[:limit]
    more = len(found) > limit and page[-1]["id"] is not None
    return {"movements": page, "next_cursor": encode_cursor(str(page[-1]["id"])) if more else None}


def _latest(api: AtlasAPI, before: int | None, wanted: int) -> list[dict[str, Any]]:
    """Everyone's newest `wanted` movements older than id `before`, read from the end of
    the history (which is quick however long it is), reading further back only as needed."""
    reach = wanted
    while True:
        read = api.service.latest_movements(reach)
        found = [m for m in read if before is None or (m.id is not None and m.id < before)]
        if len(found) >= wanted or len(read) < reach:
            return [m.to_dict() for m in found[:wanted]]
        reach *= 4


@router.get("/undo", response_model=models.Document, tags=["history"], summary="What undo would do")
def undo_plan(request: Request) -> Any:
    """Your latest change, with the movement ids to pass as `expect`."""
    return unwrap(caller(request).undo_plan(), "undo", "read", request)


@router.post("/undo", response_model=models.Document, tags=["history"], summary="Undo")
def undo(request: Request, body: models.Undo) -> Any:
    """Take back your latest change (a bulk step whole) with compensating movements."""
    envelope = caller(request).undo(body.expect)
    result = unwrap(envelope, "", "undo", request)
    return {"undone": result["undone"], "item": result["item"]}


# Locations ------------------------------------------------------------------------------------


@router.get("/locations", response_model=list[models.Document], tags=["locations"])
def locations(request: Request, empty: bool = False) -> Any:
    """Every location with how many items and units it holds."""
    return unwrap(caller(request).locations(empty), "locations", "read", request)


@router.post("/locations", status_code=201, response_model=models.Document, tags=["locations"])
def create_location(request: Request, body: models.NewLocation) -> Any:
    """Record a location. Needs manager."""
    envelope = caller(request).create_location(body.code, body.name, body.parent)
    return unwrap(envelope, "location", "location", request)


@router.get("/locations/{code}", response_model=models.Document, tags=["locations"])
def location(request: Request, code: str) -> Any:
    """Its name, path, children and the stock lines held there."""
    return unwrap(caller(request).location(code), "location", "read", request)


@router.patch("/locations/{code}", response_model=models.Document, tags=["locations"])
def edit_location(request: Request, code: str, body: models.LocationEdit) -> Any:
    envelope = caller(request).edit_location(code, body.name, body.parent)
    return unwrap(envelope, "location", "location", request)


@router.post("/locations/{code}/rename", response_model=models.Document, tags=["locations"])
def rename_location(request: Request, code: str, body: models.Rename) -> Any:
    """A new code; its stock lines and homes follow. Needs manager."""
    envelope = caller(request).rename_location(code, body.to, body.reason)
    return unwrap(envelope, "location", "location", request)


@router.post("/locations/{code}/retire", response_model=models.Document, tags=["locations"])
def retire_location(request: Request, code: str, body: models.Reason) -> Any:
    """Refused while it holds stock. Needs manager."""
    envelope = caller(request).retire_location(code, body.reason)
    return unwrap(envelope, "location", "location", request)


# Count sessions -------------------------------------------------------------------------------


@router.get("/count-sessions", response_model=list[models.Document], tags=["stocktake"])
def sessions(request: Request, include_closed: bool = False) -> Any:
    return unwrap(caller(request).count_sessions(include_closed), "sessions", "read", request)


@router.post("/count-sessions", status_code=201, response_model=models.Document, tags=["stocktake"])
def start_session(request: Request, body: models.NewSession) -> Any:
    """Over a location and/or category (else every item). Needs operator."""
    envelope = caller(request).count_session_start(body.location, body.category, body.reason)
    return unwrap(envelope, "session", "count", request)


@router.get("/count-sessions/{session}", response_model=models.Document, tags=["stocktake"])
def variance(request: Request, session: str) -> Any:
    """Expected, counted and difference per SKU, and what is not counted yet."""
    return unwrap(caller(request).count_session(session), "variance", "read", request)


@router.post("/count-sessions/{session}/counts", response_model=models.Document, tags=["stocktake"])
def record_count(request: Request, session: str, body: models.SessionCount) -> Any:
    envelope = caller(request).count_session_record(
        session, body.code, body.quantity, add=body.add, location=body.location, lot=body.lot
    )
    return unwrap(envelope, "count", "count", request)


@router.post("/count-sessions/{session}/apply", response_model=models.Document, tags=["stocktake"])
def apply_session(request: Request, session: str) -> Any:
    """Turn the differences into count movements, all or nothing. Needs manager."""
    return unwrap(caller(request).count_session_apply(session), "applied", "apply", request)


@router.post("/count-sessions/{session}/cancel", response_model=models.Document, tags=["stocktake"])
def cancel_session(request: Request, session: str) -> Any:
    return unwrap(caller(request).count_session_cancel(session), "session", "count", request)


# Reports --------------------------------------------------------------------------------------

ReportType = Literal["summary", "low", "over", "reorder", "locations", "expiring"]


@router.get("/reports/{report_type}", response_model=models.Document, tags=["reports"])
def report(
    request: Request,
    report_type: ReportType,
    at: Annotated[str | None, Query(max_length=100, description="As things were then")] = None,
    days: Annotated[int | None, Query(ge=1, le=3660, description="expiring only")] = None,
) -> Any:
    return unwrap(caller(request).report(report_type, at, days), "report", "read", request)


@router.get("/verify", response_model=models.Document, tags=["reports"])
def verify(request: Request) -> Any:
    """The rules checked and the history added up; problems by SKU."""
    return unwrap(caller(request).verify(), "report", "read", request)


# Import and export ----------------------------------------------------------------------------


@router.post(
    "/imports",
    response_model=models.Document,
    tags=["exchange"],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/json": {"schema": {}},
            },
        }
    },
)
def import_items(
    request: Request,
    dry_run: Annotated[bool, Query(description="Say what would happen; change nothing")] = True,
    strict: Annotated[bool, Query(description="All or nothing")] = False,
    file_format: Annotated[Literal["csv", "json"] | None, Query(alias="format")] = None,
    reason: Text = None,
) -> Any:
    """Upload a CSV or JSON file as the body. A dry run is the default: send `dry_run=false`
    to import. Needs manager."""
    body: bytes = request.state.body
    kind = file_format
    if kind is None:
        kind = "json" if "json" in request.headers.get("content-type", "") else "csv"
    api = caller(request)
    with tempfile.TemporaryDirectory(prefix="atlas-upload-") as folder:
        upload = Path(folder) / f"upload.{kind}"
        upload.write_bytes(body)
        envelope = api.import_file(
            upload, dry_run=dry_run, strict=strict, file_format=kind, reason=reason
        )
    return unwrap(envelope, "import", "import", request)


@router.get(
    "/export",
    tags=["exchange"],
    response_class=Response,
    responses={
        200: {
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/json": {"schema": {}},
            }
        }
    },
)
def export(
    request: Request,
    file_format: Annotated[Literal["csv", "json"], Query(alias="format")] = "csv",
    lines: Annotated[bool, Query(description="One row per stock line")] = False,
) -> Response:
    """Every item, as a file to download."""
    data = unwrap(
        caller(request).export_items(file_format, lines=lines), "export", "export", request
    )
    media = "text/csv; charset=utf-8" if file_format == "csv" else "application/json"
    name = f"atlas-items.{file_format}"
    return Response(
        data["data"],
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# Media ----------------------------------------------------------------------------------------


@router.get("/media", response_model=models.Document, tags=["media"])
def media(
    request: Request,
    query: Annotated[str, Query(max_length=1000, description="The title to look for")],
    kind: Literal["movie", "series"] | None = None,
    year: Annotated[int | None, Query(ge=1, le=9999)] = None,
    limit: Annotated[int | None, Query(ge=1, le=1000)] = 20,
) -> Any:
    """Movies and series whose title matches, best first, from the server's media folder."""
    envelope = caller(request).find_media(query, kind=kind, year=year, limit=limit)
    result = unwrap(envelope, "", "media", request)
    return {"results": result["results"], "warnings": result["warnings"]}


# Admin ----------------------------------------------------------------------------------------


@router.post("/backup", response_model=models.Document, tags=["admin"])
def backup(request: Request) -> Any:
    """A consistent snapshot in the store's backups folder. Needs admin."""
    return unwrap(caller(request).backup(), "backup", "backup", request)


@router.get("/users", response_model=list[models.Document], tags=["admin"])
def users(request: Request) -> Any:
    return unwrap(caller(request).users(), "users", "read", request)


@router.get("/tokens", response_model=list[models.Document], tags=["admin"])
def tokens(request: Request) -> Any:
    return unwrap(caller(request).tokens(), "tokens", "read", request)


@router.post("/tokens/{token_id}/revoke", response_model=models.Document, tags=["admin"])
def revoke(request: Request, token_id: str) -> Any:
    return unwrap(caller(request).revoke_token(token_id), "token", "admin", request)
