"""ASGI middlewares in front of the routes: body size limits, the token check, and
Idempotency-Key replays. Each refusal is a problem+json answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from atlas_tui.domain.errors import AtlasError
from atlas_tui.serve import idempotency
from atlas_tui.serve.observe import Metrics, header
from atlas_tui.serve.problems import Problem, response
from atlas_tui.services.access import Principal
from atlas_tui.storage.requests import RequestLog, Stored

CHANGES: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Paths open to anyone who can reach the port: liveness, readiness, metrics, the schema.
OPEN: Final = ("/healthz", "/readyz", "/metrics", "/openapi.json")


async def refuse(send: Send, scope: Scope, problem: Problem) -> None:
    """Answer with `problem` before any route: the same problem+json as the routes'."""
    await response(problem, Request(scope))(scope, _nothing, send)


async def _nothing() -> Message:
    return {"type": "http.disconnect"}


class BodyLimit:
    """Refuse a body over the limit (413) before reading it whole: by Content-Length, or
    while it streams in. Uploads (import) have a limit of their own."""

    def __init__(self, app: ASGIApp, limit: int, upload_limit: int) -> None:
        self.app, self.limit, self.upload_limit = app, limit, upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = scope["path"].endswith(("/imports", "/restore"))
        limit = self.upload_limit if upload else self.limit
        declared = header(scope, b"content-length")
        too_big = Problem(
            413, f"body: the request body must be at most {limit} bytes", title="Content Too Large"
        )
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await refuse(send, scope, too_big)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > limit:
                await refuse(send, scope, too_big)
                return
            if not message.get("more_body"):
                break
        scope.setdefault("state", {})["body"] = bytes(body)
        await self.app(scope, _replay(bytes(body)), send)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


class TokenCheck:
    """Every path but the open ones needs `Authorization: Bearer <token>` of a live user:
    401 without one (or with a revoked one). The user and role go in the request state."""

    def __init__(self, app: ASGIApp, authenticate: Callable[[str], Principal | None]) -> None:
        self.app, self.authenticate = app, authenticate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN:
            await self.app(scope, receive, send)
            return
        given = header(scope, b"authorization") or ""
        scheme, _, token = given.partition(" ")
        principal = None
        if scheme.lower() == "bearer" and token.strip():
            # A first check costs a scrypt hash: off the event loop.
            try:
                principal = await run_in_threadpool(self.authenticate, token.strip())
            except AtlasError as exc:  # the users' document cannot be read
                await refuse(send, scope, _unavailable(str(exc)))
                return
        if principal is None:
            detail = (
                "token: the token is not valid (unknown, revoked, or its user removed)"
                if given
                else "token: send `Authorization: Bearer <token>` (atlas token create USER)"
            )
            challenge = {"WWW-Authenticate": 'Bearer realm="atlas"'}
            await refuse(send, scope, Problem(401, detail, field="token", headers=challenge))
            return
        state = scope.setdefault("state", {})
        state["principal"], state["user"] = principal, principal.name
        await self.app(scope, receive, send)


def _unavailable(detail: str) -> Problem:
    return Problem(503, detail, title="Storage unavailable", headers={"Retry-After": "1"})


class Idempotency:
    """A change sent with an Idempotency-Key is done once: a retry with the same key and
    body gets the first answer (Idempotent-Replayed: true); with another body, 422; while
    the first still runs, or if it was cut short, 409."""

    def __init__(self, app: ASGIApp, store: RequestLog, metrics: Metrics) -> None:
        self.app, self.store, self.metrics = app, store, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = header(scope, b"idempotency-key") if scope["type"] == "http" else None
        if key is None or scope["method"] not in CHANGES:
            await self.app(scope, receive, send)
            return
        key = key.strip()
        if not key or len(key) > idempotency.KEY_MAX or not key.isprintable():
            detail = f"Idempotency-Key: must be 1 to {idempotency.KEY_MAX} printable characters"
            await refuse(
                send, scope, Problem(422, detail, title="Invalid value", field="Idempotency-Key")
            )
            return
        state = scope["state"]
        user: str = state["principal"].name
        body: bytes = state.get("body", b"")
        query = scope.get("query_string", b"").decode("latin-1")
        mark = idempotency.fingerprint(scope["method"], scope["path"], query, body)
        try:
            stored = await run_in_threadpool(self.store.claim, user, key, mark)
        except AtlasError as exc:
            detail = f"{exc}; nothing was changed" if "nothing" not in str(exc) else str(exc)
            await refuse(send, scope, _unavailable(detail))
            return
        if stored is not None:
            await self._answer_again(stored, mark, scope, send)
            return
        status, headers, chunks = 500, [], bytearray()
        held: list[Message] = []

        async def capture(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status, headers = message["status"], list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.extend(message.get("body", b""))
            held.append(message)

        # An exception escaping here leaves the claim: whether the change was made is not
        # known, so a retry is refused (409) rather than run twice.
        await self.app(scope, receive, capture)
        # The answer is stored before it is sent: a client that retries as soon as it has
        # the answer gets it again (not a 409 for a request still "running").
        if status >= 500:
            answer = bytes(chunks)
            if b"nothing was changed" in answer or b"Data is busy" in answer:
                await run_in_threadpool(self.store.release, user, key)
            # otherwise the claim stays: a retry cannot make the change twice
        else:
            kept = {
                k.decode("latin-1"): v.decode("latin-1")
                for k, v in headers
                if k in (b"content-type", b"etag", b"location")
            }
            await run_in_threadpool(self.store.finish, user, key, status, bytes(chunks), kept)
        for message in held:
            await send(message)

    async def _answer_again(self, stored: Stored, mark: str, scope: Scope, send: Send) -> None:
        if stored.fingerprint != mark:
            reused = (
                "Idempotency-Key: was used with another request (method, path or body); "
                "use a new key for a new request"
            )
            await refuse(
                send,
                scope,
                Problem(422, reused, title="Idempotency-Key reused", field="Idempotency-Key"),
            )
            return
        if stored.status is None:
            running = (
                "Idempotency-Key: the first request with this key has not finished, or was cut "
                "short; look at the history before sending it with a new key"
            )
            await refuse(send, scope, Problem(409, running, field="Idempotency-Key"))
            return
        self.metrics.idempotent_replays.inc()
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in stored.headers.items()]
        headers += [
            (b"content-length", str(len(stored.body)).encode()),
            (b"idempotent-replayed", b"true"),
        ]
        await send({"type": "http.response.start", "status": stored.status, "headers": headers})
        await send({"type": "http.response.body", "body": stored.body})
