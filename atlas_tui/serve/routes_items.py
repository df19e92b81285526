"""Items, their stock lines and the stock changes: /api/v1/items..."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Header, Query, Request, Response

from atlas_tui.api import AtlasAPI, Envelope, failure
from atlas_tui.serve import models
from atlas_tui.serve.context import caller, decode_cursor, encode_cursor, etag, unwrap
from atlas_tui.serve.problems import REFUSALS, Problem, documented

router = APIRouter(prefix="/api/v1", tags=["items"], responses={**REFUSALS, **documented(412)})
IfMatch = Annotated[
    str | None,
    Header(
        description="The item's ETag as you read it: the change is refused (412) if the "
        "item changed since"
    ),
]
Sku = Annotated[str, "The item's SKU (any case)"]


class _Refused(Exception):
    def __init__(self, envelope: Envelope) -> None:
        self.envelope = envelope


def _matches(if_match: str, tag: str) -> bool:
    given = [part.strip().removeprefix("W/") for part in if_match.split(",")]
    return "*" in given or tag in given


def guarded(
    request: Request, sku: str, if_match: str | None, run: Callable[[AtlasAPI], Envelope]
) -> Envelope:
    """Run a change of one item; with If-Match, only if the item is still as the caller
    read it (checked in the same transaction as the change)."""
    api = caller(request)
    if if_match is None:
        return run(api)
    service = api.service
    try:
        with service.batch():
            current = service.get(sku)
            if not _matches(if_match, etag(current.to_dict())):
                raise Problem(
                    412,
                    f"If-Match: {current.sku} changed since you read it; read it again and retry",
                    title="Precondition Failed",
                    field="If-Match",
                    headers={"ETag": etag(current.to_dict())},
                )
            envelope = run(api)
            if not envelope["success"]:
                raise _Refused(envelope)  # leaves the transaction: nothing is kept
        return envelope
    except _Refused as refused:
        return refused.envelope
    except Problem:
        raise
    except Exception as exc:
        return failure(exc)


def _item_answer(item: dict[str, Any], response: Response) -> dict[str, Any]:
    response.headers["ETag"] = etag(item)
    return item


@router.get("/items", response_model=models.ItemPage, summary="List items (paged)")
def list_items(
    request: Request,
    category: Annotated[str | None, Query(max_length=1000)] = None,
    location: Annotated[str | None, Query(max_length=1000)] = None,
    search: Annotated[str | None, Query(max_length=1000, description="In SKU or name")] = None,
    low: Annotated[bool, Query(description="At or below their minimum")] = False,
    over: Annotated[bool, Query(description="Above their maximum")] = False,
    expiring: Annotated[
        int | None, Query(ge=0, le=3660, description="With a lot expiring within N days")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> dict[str, Any]:
    """Items in SKU order, narrowed by every filter given; `next_cursor` fetches the next page."""
    api = caller(request)
    found = unwrap(
        api.list_items(category=category, location=location, search=search, low=low, over=over),
        "items",
        "list",
        request,
    )
    if expiring is not None:
        report = unwrap(api.report("expiring", days=expiring), "report", "list", request)
        wanted = {row["sku"].casefold() for row in report["expiring"]}
        found = [item for item in found if item["sku"].casefold() in wanted]
    found.sort(key=lambda item: item["sku"].strip().casefold())
    if cursor is not None:
        after = decode_cursor(cursor)
        found = [item for item in found if item["sku"].strip().casefold() > after]
    page = found[:limit]
    more = len(found) > limit
    return {
        "items": page,
        "next_cursor": encode_cursor(page[-1]["sku"].strip().casefold()) if more else None,
    }


@router.post("/items", status_code=201, response_model=models.Item, summary="Add an item")
def add_item(request: Request, body: models.NewItem, response: Response) -> dict[str, Any]:
    """Needs the manager role."""
    api = caller(request)
    fields = body.model_dump()
    item = unwrap(api.add_item(**fields), "item", "add", request)
    # Percent-encoded: a header is Latin-1, and a SKU may be any text (a raw one beyond
    # Latin-1 made a 500 after the item was added).
    response.headers["Location"] = f"/api/v1/items/{quote(item['sku'], safe='')}"
    return _item_answer(item, response)


@router.get(
    "/items/{sku}",
    response_model=models.Item,
    responses={304: {"description": "Not modified (If-None-Match)"}},
    summary="One item",
)
def get_item(
    request: Request,
    sku: str,
    response: Response,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Any:
    item = unwrap(caller(request).get_item(sku), "item", "read", request)
    tag = etag(item)
    if if_none_match is not None and _matches(if_none_match, tag):
        return Response(status_code=304, headers={"ETag": tag})
    return _item_answer(item, response)


@router.patch("/items/{sku}", response_model=models.Item, summary="Edit an item")
def edit_item(
    request: Request, sku: str, body: models.ItemEdit, response: Response, if_match: IfMatch = None
) -> dict[str, Any]:
    """Only the fields given change; attributes merge (null removes a key). Needs manager."""
    fields = body.model_dump(exclude_unset=True)
    reason = fields.pop("reason", None)
    envelope = guarded(request, sku, if_match, lambda api: api.update_item(sku, reason, **fields))
    return _item_answer(unwrap(envelope, "item", "update", request), response)


@router.delete("/items/{sku}", response_model=models.Item, summary="Delete an item")
def delete_item(
    request: Request,
    sku: str,
    response: Response,
    if_match: IfMatch = None,
    reason: Annotated[str | None, Query(max_length=1000)] = None,
) -> dict[str, Any]:
    """The item as it was; its history is kept. Needs manager."""
    envelope = guarded(request, sku, if_match, lambda api: api.delete_item(sku, reason))
    return unwrap(envelope, "item", "delete", request)  # type: ignore[no-any-return]


@router.get("/items/{sku}/stock", response_model=list[models.StockLine], summary="Stock lines")
def stock(request: Request, sku: str) -> Any:
    return unwrap(caller(request).stock(sku), "lines", "read", request)


@router.get("/items/{sku}/trend", response_model=models.Document, summary="Quantity trend")
def trend(request: Request, sku: str, days: Annotated[int, Query(ge=1, le=3660)] = 30) -> Any:
    """End-of-day quantities over the last `days` days and the daily usage."""
    return unwrap(caller(request).trend(sku, days), "trend", "read", request)


def _stock_change(
    request: Request,
    response: Response,
    sku: str,
    if_match: str | None,
    operation: str,
    run: Callable[[AtlasAPI], Envelope],
) -> dict[str, Any]:
    envelope = guarded(request, sku, if_match, run)
    result = unwrap(envelope, "", operation, request)
    response.headers["ETag"] = etag(result["item"])
    return {"item": result["item"], "lines": result["lines"]}


@router.post("/items/{sku}/adjust", response_model=models.StockResult, summary="Adjust stock")
def adjust(
    request: Request, sku: str, body: models.Adjust, response: Response, if_match: IfMatch = None
) -> dict[str, Any]:
    """Add (positive) or remove (negative) stock; never below zero. Needs operator."""
    return _stock_change(
        request,
        response,
        sku,
        if_match,
        "adjust",
        lambda api: api.adjust_quantity(sku, body.delta, body.reason, body.location, body.lot),
    )


@router.post("/items/{sku}/receive", response_model=models.StockResult, summary="Receive stock")
def receive(
    request: Request, sku: str, body: models.Receive, response: Response, if_match: IfMatch = None
) -> dict[str, Any]:
    """Into a location (default: the home), of a lot and expiry if given. Needs operator."""
    return _stock_change(
        request,
        response,
        sku,
        if_match,
        "receive",
        lambda api: api.receive(
            sku, body.quantity, body.location, body.lot, body.expiry, body.reason
        ),
    )


@router.post("/items/{sku}/pick", response_model=models.StockResult, summary="Pick stock")
def pick(
    request: Request, sku: str, body: models.Pick, response: Response, if_match: IfMatch = None
) -> dict[str, Any]:
    """From the location given, else earliest expiry first. Needs operator."""
    return _stock_change(
        request,
        response,
        sku,
        if_match,
        "pick",
        lambda api: api.pick(sku, body.quantity, body.location, body.lot, body.reason),
    )


@router.post("/items/{sku}/transfer", response_model=models.StockResult, summary="Transfer stock")
def transfer(
    request: Request, sku: str, body: models.Transfer, response: Response, if_match: IfMatch = None
) -> dict[str, Any]:
    """Part of the stock from one location to another. Needs operator."""
    return _stock_change(
        request,
        response,
        sku,
        if_match,
        "transfer",
        lambda api: api.transfer(
            sku, body.quantity, body.source, body.target, body.lot, body.reason
        ),
    )


@router.post("/items/{sku}/count", response_model=models.StockResult, summary="Count stock")
def count(
    request: Request, sku: str, body: models.Count, response: Response, if_match: IfMatch = None
) -> dict[str, Any]:
    """Set a stock line to the counted figure. Needs operator."""
    return _stock_change(
        request,
        response,
        sku,
        if_match,
        "count",
        lambda api: api.count_item(sku, body.quantity, body.reason, body.location, body.lot),
    )


@router.post("/items/{sku}/move", response_model=models.StockResult, summary="Move an item")
def move(
    request: Request, sku: str, body: models.Move, response: Response, if_match: IfMatch = None
) -> dict[str, Any]:
    """All of its stock, and its home, to another location. Needs operator."""
    return _stock_change(
        request,
        response,
        sku,
        if_match,
        "move",
        lambda api: api.move_item(sku, body.location, body.reason),
    )


@router.post("/moves", response_model=models.Document, summary="Move several items")
def move_many(request: Request, body: models.MoveMany) -> Any:
    """Several items to one location as one step: all or none, one undo. Needs operator."""
    envelope = caller(request).move_items(body.skus, body.location, body.reason)
    return unwrap(envelope, "step", "move", request)
