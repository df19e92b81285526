"""What admins (and, for bulk adds, managers) do over HTTP: users, tokens, bulk adds,
restore, migrate and demo data."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from atlas_tui.serve import models
from atlas_tui.serve.context import allowed, caller, unwrap
from atlas_tui.serve.problems import REFUSALS, Problem

router = APIRouter(prefix="/api/v1", responses=REFUSALS)
_STRICT = ConfigDict(extra="forbid")


class NewUser(BaseModel):
    model_config = _STRICT
    name: str = Field(max_length=64)
    role: str = Field(max_length=20, description="viewer, operator, manager or admin")


class RoleChange(BaseModel):
    model_config = _STRICT
    role: str = Field(max_length=20, description="viewer, operator, manager or admin")


class NewToken(BaseModel):
    model_config = _STRICT
    user: str = Field(max_length=64)
    label: str | None = Field(default=None, max_length=100)


class Batch(BaseModel):
    model_config = _STRICT
    items: list[dict[str, Any]] = Field(max_length=100_000)
    reason: str | None = Field(default=None, max_length=10_000)


class Migration(BaseModel):
    model_config = _STRICT
    to: str = Field(
        max_length=4096,
        description="A new data file on the server (.json, .sqlite) or a postgresql:// URL",
    )


@router.post("/items/batch", status_code=201, response_model=list[models.Item], tags=["items"])
def add_items(request: Request, body: Batch) -> Any:
    """Several items at once: all or none; the error names every refused row. Needs manager."""
    return unwrap(caller(request).add_items(body.items, body.reason), "items", "add", request)


@router.post("/users", status_code=201, response_model=models.Document, tags=["admin"])
def add_user(request: Request, body: NewUser) -> Any:
    return unwrap(caller(request).add_user(body.name, body.role), "user", "admin", request)


@router.patch("/users/{name}", response_model=models.Document, tags=["admin"])
def set_role(request: Request, name: str, body: RoleChange) -> Any:
    return unwrap(caller(request).set_role(name, body.role), "user", "admin", request)


@router.delete("/users/{name}", response_model=models.Document, tags=["admin"])
def remove_user(request: Request, name: str) -> Any:
    """The user's tokens are revoked with them."""
    return unwrap(caller(request).remove_user(name), "user", "admin", request)


@router.post("/tokens", status_code=201, response_model=models.Document, tags=["admin"])
def create_token(request: Request, body: NewToken) -> Any:
    """`token` in the answer is shown this once; only its hash is kept."""
    return unwrap(caller(request).create_token(body.user, body.label), "token", "admin", request)


@router.post(
    "/restore",
    response_model=models.Document,
    tags=["admin"],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        }
    },
)
def restore(request: Request) -> Any:
    """Replace all data with an uploaded backup (`atlas backup`'s file); the current data is
    backed up first. Needs admin."""
    body: bytes = request.state.body
    api = caller(request)
    allowed(api, "admin", request)  # before the upload is written anywhere
    if body.startswith(b"SQLite format 3\0"):
        suffix = ".sqlite"
    elif body.lstrip()[:1] == b"{":
        suffix = ".json"
    else:
        raise Problem(
            422, "body: is not a backup made by `atlas backup` (SQLite or JSON)", field="body"
        )
    with tempfile.TemporaryDirectory(prefix="atlas-restore-") as folder:
        upload = Path(folder) / f"backup{suffix}"
        upload.write_bytes(body)
        envelope = api.restore(upload)
    said = str(envelope.get("error", ""))
    if not envelope["success"] and f"data file {upload}" in said:
        # The upload is at fault, not the store: a 422 naming the body, not a 503 to retry.
        # (The advice after "; " is about the file, which is gone with the upload.)
        why = said.split(f"data file {upload}", 1)[1].lstrip(":").strip().split("; ")[0]
        why = why if why.startswith("is ") else f"is not a usable backup: {why}"
        raise Problem(422, f"body: {why}", title="Invalid value", field="body")
    return unwrap(envelope, "restore", "restore", request)


@router.post("/migrate", response_model=models.Document, tags=["admin"])
def migrate(request: Request, body: Migration) -> Any:
    """Copy items and full history to a new store and check the copy. Needs admin."""
    return unwrap(caller(request).migrate(body.to), "migration", "migrate", request)


@router.post("/demo", response_model=models.Document, tags=["admin"])
def demo(
    request: Request,
    items: Annotated[int, Query(ge=1, le=10_000)] = 300,
    seed: Annotated[int, Query(ge=0, le=2**31)] = 7,
    if_new: Annotated[bool, Query(description="Only into an empty store")] = True,
) -> Any:
    """A realistic demo inventory with history. Needs manager."""
    envelope = caller(request).demo(items, seed=seed, if_new=if_new)
    return unwrap(envelope, "demo", "demo", request)
