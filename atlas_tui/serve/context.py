"""What every route needs: the caller's API, and turning envelopes into answers."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from atlas_tui.api import AtlasAPI, Envelope, failure
from atlas_tui.config import Settings
from atlas_tui.domain.errors import AtlasError
from atlas_tui.serve.observe import Metrics
from atlas_tui.serve.problems import Problem, from_envelope
from atlas_tui.services.access import Principal
from atlas_tui.services.inventory import InventoryService


@dataclass
class Options:
    """How the server was started (flags of `atlas serve`)."""

    host: str = "127.0.0.1"
    port: int = 8000
    cors_origins: tuple[str, ...] = ()
    body_limit: int = 1024 * 1024
    upload_limit: int = 20 * 1024 * 1024
    log_format: str = "text"
    web_port: int | None = None
    """Serve the app to browsers on this port too (`--web`)."""
    public_url: str | None = None


@dataclass
class Server:
    """One server's open store and its parts, shared by every request."""

    settings: Settings
    service: InventoryService
    metrics: Metrics

    def api_for(self, principal: Principal) -> AtlasAPI:
        """The Python API acting as `principal`: its changes carry their name, and their
        role is checked by the service."""
        acting = self.service.acting_as(principal.name, principal.role)
        return AtlasAPI.over(acting, self.settings)


def server_of(request: Request) -> Server:
    found: Server = request.app.state.atlas
    return found


def caller(request: Request) -> AtlasAPI:
    """The request's API (TokenCheck has put its principal in the state)."""
    principal: Principal = request.state.principal
    return server_of(request).api_for(principal)


def unwrap(envelope: Envelope, key: str, operation: str, request: Request) -> Any:
    """The envelope's payload, or its refusal raised as a problem; counted by operation."""
    metrics = server_of(request).metrics
    if envelope["success"]:
        metrics.operations.labels(operation, "ok").inc()
        return envelope[key] if key else envelope
    problem = from_envelope(envelope)
    metrics.operations.labels(operation, "refused" if problem.status < 500 else "failed").inc()
    raise problem


def allowed(api: AtlasAPI, action: str, request: Request) -> None:
    """Refuse (403) unless the caller's role may take `action`."""
    try:
        api.service.allow(action)
    except AtlasError as exc:
        unwrap(failure(exc), "", action, request)


def etag(item: Mapping[str, Any]) -> str:
    """A strong validator of an item as stored: any change makes another."""
    digest = hashlib.sha256(json.dumps(item, sort_keys=True).encode()).hexdigest()
    return f'"{digest[:32]}"'


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True)
        return raw.decode()
    except (ValueError, UnicodeError):
        raise Problem(
            422, "cursor: is not a cursor this server gave; start without one", field="cursor"
        ) from None
