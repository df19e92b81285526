"""Errors as RFC 9457 problem details (application/problem+json), naming the field."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from atlas_tui.domain.errors import FIELD_WORDS
from atlas_tui.text import safe_text

MEDIA_TYPE: Final = "application/problem+json"
# The envelope's error_type -> the HTTP status and the problem's title.
STATUS: Final[dict[str, tuple[int, str]]] = {
    "validation": (422, "Invalid value"),
    "not_found": (404, "Not found"),
    "conflict": (409, "Conflict"),
    "forbidden": (403, "Forbidden"),
    "busy": (503, "Data is busy"),
    "storage": (503, "Storage unavailable"),
    "config": (500, "Server misconfigured"),
    "internal": (500, "Internal error"),
}
_WHY: Final = {
    400: "The request could not be read: its body (not UTF-8, or not parsed as its content "
    "type), or its request line and headers, refused by the HTTP layer (text/plain) when over "
    "its size limit",
    401: "No token, or one that is not valid (unknown, revoked, or its user removed)",
    403: "The token's role may not do this",
    404: "No such item, location, session or token",
    409: "Refused by the data as it is, or an Idempotency-Key whose first request has not finished",
    412: "If-Match: the item changed since it was read",
    413: "The request body is over the limit",
    422: "A value is not valid (`field` names it), or an Idempotency-Key reused for another "
    "request",
    503: "The store is busy or unreachable; retry (Retry-After)",
}


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses: each refers to a shared problem+json
    answer (`components`, see `components()`)."""
    return {status: {"$ref": f"#/components/responses/Problem{status}"} for status in statuses}


def components() -> dict[str, dict[str, Any]]:
    """The shared problem+json answers `documented` refers to, for the schema's components."""
    schema = {"$ref": "#/components/schemas/ProblemDetails"}
    answers: dict[str, dict[str, Any]] = {
        f"Problem{status}": {"description": why, "content": {MEDIA_TYPE: {"schema": schema}}}
        for status, why in _WHY.items()
    }
    # uvicorn answers a request it cannot parse itself, before any route: in plain text.
    answers["Problem400"]["content"]["text/plain"] = {"schema": {"type": "string"}}
    return answers


# Every route behind the token check can answer these.
REFUSALS: Final = documented(400, 401, 403, 404, 409, 413, 422, 503)
_FIELD: Final = re.compile(r"([a-z_][a-z0-9_ -]{0,40}): ")


class Problem(Exception):
    """An HTTP error with a one-line detail; `field` names the value at fault."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.detail, self.field = status, detail, field
        self.title = title or _title(status)
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def from_envelope(envelope: Mapping[str, Any]) -> Problem:
    """The problem of a refused API call: same message as the CLI, field from its start."""
    kind = str(envelope.get("error_type", "internal"))
    status, title = STATUS.get(kind, (500, "Internal error"))
    detail = str(envelope.get("error", "refused"))
    found = _FIELD.match(detail)
    headers = {"Retry-After": "1"} if status == 503 else None
    extra = {"import": envelope["import"]} if "import" in envelope else None
    return Problem(
        status,
        detail,
        title=title,
        field=found.group(1) if found else None,
        headers=headers,
        extra=extra,
    )


def response(problem: Problem, request: Request) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": problem.title,
        "status": problem.status,
        "detail": safe_text(problem.detail),
        "instance": request.url.path,
    }
    if problem.field:
        body["field"] = problem.field
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    body.update(problem.extra)
    return JSONResponse(
        body, status_code=problem.status, headers=problem.headers, media_type=MEDIA_TYPE
    )


def _where(location: Sequence[int | str]) -> str:
    """The field a validation error is about, as the operator knows it."""
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    named = [part for part in parts if not part.isdigit()]
    name = named[-1] if named else "body"
    return FIELD_WORDS.get(name, name)


_PROBLEMS: Final = {
    "missing": "is required",
    "extra_forbidden": "is not a field of this request",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "string_type": "must be text",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "dict_type": "must be an object",
    "list_type": "must be a list",
    "json_invalid": "is not valid JSON",
    "model_attributes_type": "must be an object",
}


def validation_problem(error: RequestValidationError) -> Problem:
    """Pydantic's first complaint, in ATLAS's words: "quantity: must be a whole number, got
    'ten'"."""
    errors = list(error.errors())
    first = errors[0] if errors else {"loc": ("body",), "type": "value_error", "msg": "invalid"}
    field = _where(first.get("loc", ()))
    kind = str(first.get("type", ""))
    problem = _PROBLEMS.get(kind)
    if problem is None:
        problem = str(first.get("msg", "is not valid")).removeprefix("Value error, ")
        problem = problem[:1].lower() + problem[1:]
    if kind not in ("missing", "extra_forbidden", "json_invalid") and "input" in first:
        problem += f", got {_shown(first['input'])}"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return Problem(422, f"{field}: {problem}{more}", title="Invalid value", field=field)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


async def on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return response(exc, request)


async def on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return response(validation_problem(exc), request)


async def on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else _title(exc.status_code)
    headers = dict(exc.headers or {})
    return response(Problem(exc.status_code, detail, headers=headers), request)
