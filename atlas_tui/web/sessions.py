"""Browser sessions: a signed cookie names a session this process keeps in memory.

The cookie holds only a random session id and its expiry, signed with HMAC-SHA256 under a
key made when the process starts (a restart logs everyone out). The access token stays in
this process's memory so that each new page or app process checks it again: a revoked token
or a changed role takes effect without waiting for the cookie to expire.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

COOKIE = "atlas_session"
DEFAULT_TTL = 12 * 3600.0


class Visitor(Protocol):
    """Who a token belongs to (services.access.Principal is one): the name movements record
    and the role the visitor's app runs with."""

    @property
    def name(self) -> str: ...

    @property
    def role(self) -> str: ...


@dataclass(slots=True)
class Session:
    """One logged-in browser."""

    sid: str
    principal: Visitor
    token: str = field(repr=False)
    expires: float


class Sessions:
    """The live sessions and the key that signs their cookies."""

    def __init__(self, ttl: float = DEFAULT_TTL, clock: Callable[[], float] = time.time) -> None:
        self.ttl = ttl
        self._clock = clock
        self._key = secrets.token_bytes(32)
        self._live: dict[str, Session] = {}

    def open(self, principal: Visitor, token: str) -> tuple[Session, str]:
        """A new session and the cookie value that names it."""
        self._forget_expired()
        sid = secrets.token_urlsafe(24)
        session = Session(sid, principal, token, self._clock() + self.ttl)
        self._live[sid] = session
        return session, self._sign(sid, int(session.expires))

    def find(self, cookie: str | None) -> Session | None:
        """The live session a cookie names, or None for a missing, forged or expired one."""
        if not cookie or len(cookie) > 200:
            return None
        sid, _, rest = cookie.partition(".")
        expiry, _, _ = rest.partition(".")
        if not expiry.isdigit() or not hmac.compare_digest(cookie, self._sign(sid, int(expiry))):
            return None
        return self.get(sid)

    def get(self, sid: str) -> Session | None:
        """The live session of this id (already authenticated by its cookie), or None."""
        session = self._live.get(sid)
        if session is not None and session.expires <= self._clock():
            del self._live[sid]
            return None
        return session

    def close(self, session: Session) -> None:
        """End a session: its cookie is refused from now on."""
        self._live.pop(session.sid, None)

    def _sign(self, sid: str, expiry: int) -> str:
        body = f"{sid}.{expiry}"
        mac = hmac.new(self._key, body.encode(), hashlib.sha256).digest()
        return f"{body}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"

    def _forget_expired(self) -> None:
        now = self._clock()
        for sid in [sid for sid, s in self._live.items() if s.expires <= now]:
            del self._live[sid]
