"""The API's request and response shapes (they make the OpenAPI schema)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# Requests refuse fields they do not know: a typo is told, not ignored.
_STRICT = ConfigDict(extra="forbid")
_TEXT = Field(default=None, max_length=10_000)


class StockLine(BaseModel):
    location: str
    quantity: int
    lot: str | None = None
    expiry: str | None = None


class Item(BaseModel):
    sku: str
    name: str
    category: str
    quantity: int
    location: str
    min_stock: int
    max_stock: int
    created_at: str
    updated_at: str
    attributes: dict[str, Any]
    unit: str
    barcodes: dict[str, int]
    lines: list[StockLine]


class ItemPage(BaseModel):
    items: list[Item]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end"
    )


class LineChange(BaseModel):
    location: str
    lot: str
    expiry: str
    before: int
    after: int


class StockResult(BaseModel):
    """A stock change: the item afterwards and the lines it touched."""

    item: Item
    lines: list[LineChange]


class Movement(BaseModel):
    id: int | None
    sku: str
    kind: str
    delta: int
    quantity_before: int
    quantity_after: int
    reason: str
    user: str
    timestamp: str
    details: dict[str, Any]


class MovementPage(BaseModel):
    movements: list[Movement]
    next_cursor: str | None


class NewItem(BaseModel):
    model_config = _STRICT
    sku: str = Field(max_length=10_000)
    name: str = Field(max_length=10_000)
    category: str = Field(default="", max_length=10_000)
    quantity: int = 0
    location: str = Field(default="", max_length=10_000)
    min_stock: int = 0
    max_stock: int = 0
    attributes: dict[str, Any] | None = None
    unit: str | None = _TEXT
    barcodes: dict[str, int] | None = None
    reason: str | None = _TEXT


class ItemEdit(BaseModel):
    """Only the fields given change; attributes merge (null removes a key)."""

    model_config = _STRICT
    name: str | None = _TEXT
    category: str | None = _TEXT
    min_stock: int | None = None
    max_stock: int | None = None
    attributes: dict[str, Any] | None = None
    unit: str | None = _TEXT
    barcodes: dict[str, int] | None = None
    reason: str | None = _TEXT


class Reason(BaseModel):
    model_config = _STRICT
    reason: str | None = _TEXT


class Adjust(BaseModel):
    model_config = _STRICT
    delta: int = Field(description="Units to add (positive) or remove (negative)")
    location: str | None = _TEXT
    lot: str | None = _TEXT
    reason: str | None = _TEXT


class Receive(BaseModel):
    model_config = _STRICT
    quantity: int
    location: str | None = _TEXT
    lot: str | None = _TEXT
    expiry: str | None = Field(default=None, max_length=100, description="YYYY-MM-DD")
    reason: str | None = _TEXT


class Pick(BaseModel):
    model_config = _STRICT
    quantity: int
    location: str | None = _TEXT
    lot: str | None = _TEXT
    reason: str | None = _TEXT


class Transfer(BaseModel):
    model_config = _STRICT
    quantity: int
    source: str = Field(max_length=10_000, description="The location it leaves")
    target: str = Field(max_length=10_000, description="The location it goes to")
    lot: str | None = _TEXT
    reason: str | None = _TEXT


class Count(BaseModel):
    model_config = _STRICT
    quantity: int = Field(description="The counted figure")
    location: str | None = _TEXT
    lot: str | None = _TEXT
    reason: str | None = _TEXT


class Move(BaseModel):
    model_config = _STRICT
    location: str = Field(max_length=10_000)
    reason: str | None = _TEXT


class MoveMany(BaseModel):
    model_config = _STRICT
    skus: list[str] = Field(max_length=10_000)
    location: str = Field(max_length=10_000)
    reason: str | None = _TEXT


class Undo(BaseModel):
    model_config = _STRICT
    expect: list[int] | None = Field(
        default=None, description="The movement ids GET /undo listed: undo only that change"
    )


class NewLocation(BaseModel):
    model_config = _STRICT
    code: str = Field(max_length=10_000)
    name: str | None = _TEXT
    parent: str | None = _TEXT


class LocationEdit(BaseModel):
    model_config = _STRICT
    name: str | None = _TEXT
    parent: str | None = _TEXT


class Rename(BaseModel):
    model_config = _STRICT
    to: str = Field(max_length=10_000)
    reason: str | None = _TEXT


class NewSession(BaseModel):
    model_config = _STRICT
    location: str | None = _TEXT
    category: str | None = _TEXT
    reason: str | None = _TEXT


class SessionCount(BaseModel):
    model_config = _STRICT
    code: str = Field(max_length=10_000, description="SKU or barcode")
    quantity: int = 1
    add: bool = Field(default=False, description="Add to the count instead of setting it")
    location: str | None = _TEXT
    lot: str | None = _TEXT


class Me(BaseModel):
    user: str
    role: str


class Health(BaseModel):
    status: str


class Ready(BaseModel):
    status: str
    backend: str
    detail: str | None = None


class ProblemDetails(BaseModel):
    """An error (RFC 9457, application/problem+json); `field` names the value at fault."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    field: str | None = None
    request_id: str | None = None


class Document(BaseModel):
    """A JSON object whose shape the operation's description gives."""

    model_config = ConfigDict(extra="allow")
