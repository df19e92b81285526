"""Users, their roles and their access tokens, kept in the store's access document.

A token is shown once, when made: `atlas_<id>_<secret>`. Only a salted scrypt hash of the
secret is kept; the id finds the record, so checking a token costs one hash.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol

from atlas_tui.domain.access import Role, parse_role
from atlas_tui.domain.errors import ConflictError, NotFoundError, ValidationError
from atlas_tui.domain.models import format_timestamp, shown
from atlas_tui.storage.base import SessionStore

# scrypt at n=2**14, r=8: about 16 MB and tens of milliseconds a check; verified tokens are
# remembered (by a fast hash) so a busy client pays it once, not per request.
_SCRYPT: Final = {"n": 2**14, "r": 8, "p": 1, "dklen": 32, "maxmem": 64 * 1024 * 1024}
_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_TOKEN: Final = re.compile(r"atlas_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
LABEL_MAX: Final = 100


class Keeper(Protocol):
    """What the access book needs of the inventory service."""

    user: str

    def allow(self, action: str) -> None: ...
    def now(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as."""

    name: str
    role: Role
    token: str = ""
    """The token's id (never its secret)."""


def clean_name(value: object, field: str = "user") -> str:
    if not isinstance(value, str) or not _NAME.fullmatch(value.strip()):
        raise ValidationError(
            field,
            "must be 1-64 letters, digits or . _ @ - (starting with a letter or digit), "
            f"got {shown(value)}",
        )
    return value.strip()


def _hash(secret: str, salt: bytes) -> str:
    return hashlib.scrypt(secret.encode(), salt=salt, **_SCRYPT).hex()


class _Verified:
    """Tokens verified in this process: sha256 of the token -> its id. `checking` holds a
    lock per token being hashed, so a burst of first requests with one token (50 clients
    starting at once) pays one scrypt, not fifty."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.known: dict[bytes, str] = {}
        self.checking: dict[bytes, threading.Lock] = {}


_VERIFIED = _Verified()


class AccessBook:
    """Users and tokens of one store; changes need the admin role."""

    def __init__(self, keeper: Keeper, store: SessionStore) -> None:
        self._keeper = keeper
        self._store = store
        self._seen: tuple[Hashable, dict[str, Any]] | None = None

    def _read(self) -> dict[str, Any]:
        """The document, read again only when its version moved (a server asks per request)."""
        version = self._store.version()
        seen = self._seen
        if seen is not None and version is not None and seen[0] == version:
            return seen[1]
        data = self._store.read()
        self._seen = (version, data)
        return data

    def version(self) -> Hashable:
        return self._store.version()

    def _change(self, edit: Callable[[dict[str, Any]], Any]) -> Any:
        self._keeper.allow("admin")

        def run(data: dict[str, Any]) -> Any:
            data.setdefault("users", {})
            data.setdefault("tokens", {})
            return edit(data)

        return self._store.change(run)

    def users(self) -> list[dict[str, Any]]:
        """Every user with their role and how many live tokens they hold."""
        self._keeper.allow("admin")
        data = self._store.read()
        tokens = data.get("tokens", {})
        return [
            {
                "name": name,
                "role": user["role"],
                "created_at": user["created_at"],
                "tokens": sum(
                    1 for t in tokens.values() if t["user"] == name and not t.get("revoked_at")
                ),
            }
            for name, user in sorted(data.get("users", {}).items())
        ]

    def add_user(self, name: object, role: object) -> dict[str, Any]:
        who, grade = clean_name(name, "name"), parse_role(role)
        now = format_timestamp(self._keeper.now())

        def add(data: dict[str, Any]) -> dict[str, Any]:
            if who in data["users"]:
                raise ConflictError(f"user: {who} already exists")
            data["users"][who] = {"role": grade.value, "created_at": now}
            return {"name": who, "role": grade.value, "created_at": now, "tokens": 0}

        result: dict[str, Any] = self._change(add)
        return result

    def set_role(self, name: object, role: object) -> dict[str, Any]:
        who, grade = clean_name(name, "name"), parse_role(role)

        def change(data: dict[str, Any]) -> dict[str, Any]:
            user = data["users"].get(who)
            if user is None:
                raise NotFoundError(f"user: no user {who!r}")
            user["role"] = grade.value
            return {"name": who, "role": grade.value, "created_at": user["created_at"]}

        result: dict[str, Any] = self._change(change)
        return result

    def remove_user(self, name: object) -> dict[str, Any]:
        """Remove the user and revoke every token of theirs."""
        who = clean_name(name, "name")
        now = format_timestamp(self._keeper.now())

        def remove(data: dict[str, Any]) -> dict[str, Any]:
            user = data["users"].pop(who, None)
            if user is None:
                raise NotFoundError(f"user: no user {who!r}")
            revoked = 0
            for token in data["tokens"].values():
                if token["user"] == who and not token.get("revoked_at"):
                    token["revoked_at"], revoked = now, revoked + 1
            return {"name": who, "role": user["role"], "revoked": revoked}

        result: dict[str, Any] = self._change(remove)
        return result

    def create_token(self, user: object, label: object = None) -> dict[str, Any]:
        """A new token for `user`: {"token" (shown this once), "id", "user", ...}."""
        who = clean_name(user)
        note = "" if label is None else label
        if not isinstance(note, str) or len(note) > LABEL_MAX:
            raise ValidationError("label", f"must be text of at most {LABEL_MAX} characters")
        token_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        salt = secrets.token_bytes(16)
        digest = _hash(secret, salt)
        now = format_timestamp(self._keeper.now())

        def add(data: dict[str, Any]) -> dict[str, Any]:
            if who not in data["users"]:
                raise NotFoundError(f"user: no user {who!r}; add one with `atlas user add`")
            data["tokens"][token_id] = {
                "user": who,
                "label": note,
                "salt": salt.hex(),
                "hash": digest,
                "created_at": now,
                "revoked_at": None,
            }
            return {"id": token_id, "user": who, "label": note, "created_at": now}

        info: dict[str, Any] = self._change(add)
        return {"token": f"atlas_{token_id}_{secret}", **info}

    def tokens(self) -> list[dict[str, Any]]:
        """Every token (never its secret or hash), newest first."""
        self._keeper.allow("admin")
        found = [
            {key: token.get(key) for key in ("user", "label", "created_at", "revoked_at")}
            | {"id": token_id}
            for token_id, token in self._store.read().get("tokens", {}).items()
        ]
        return sorted(found, key=lambda t: (t["created_at"], t["id"]), reverse=True)

    def revoke(self, token: object) -> dict[str, Any]:
        """Revoke a token by its id (or the whole token text)."""
        if not isinstance(token, str) or not token.strip():
            raise ValidationError("token", f"must be a token's id, got {shown(token)}")
        text = token.strip()
        found = _TOKEN.fullmatch(text)
        token_id = found.group(1) if found else text
        now = format_timestamp(self._keeper.now())

        def revoke(data: dict[str, Any]) -> dict[str, Any]:
            record = data["tokens"].get(token_id)
            if record is None:
                raise NotFoundError(f"token: no token {token_id!r}; `atlas token list` shows them")
            if not record.get("revoked_at"):
                record["revoked_at"] = now
            return {"id": token_id, "user": record["user"], "revoked_at": record["revoked_at"]}

        result: dict[str, Any] = self._change(revoke)
        return result

    def authenticate(self, token: str) -> Principal | None:
        """The user a token acts as; None for an unknown, revoked or malformed token, or
        one whose user is gone."""
        found = _TOKEN.fullmatch(token)
        if not found:
            return None
        token_id, secret = found.groups()
        data = self._read()
        record = data.get("tokens", {}).get(token_id)
        if record is None or record.get("revoked_at"):
            return None
        user = data.get("users", {}).get(record["user"])
        if user is None:
            return None
        fast = hashlib.sha256(token.encode()).digest()
        with _VERIFIED.lock:
            known = _VERIFIED.known.get(fast) == token_id
            checking = _VERIFIED.checking.setdefault(fast, threading.Lock())
        if not known:
            with checking:  # the first of a burst hashes; the others find it known
                with _VERIFIED.lock:
                    known = _VERIFIED.known.get(fast) == token_id
                if not known:
                    expected = _hash(secret, bytes.fromhex(record["salt"]))
                    if not hmac.compare_digest(expected, record["hash"]):
                        return None
                    with _VERIFIED.lock:
                        if len(_VERIFIED.known) > 10_000:
                            _VERIFIED.known.clear()
                            _VERIFIED.checking.clear()
                        _VERIFIED.known[fast] = token_id
        return Principal(record["user"], Role(user["role"]), token_id)
