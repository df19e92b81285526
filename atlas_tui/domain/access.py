"""Roles and what each may do: the one table every entry point (API, CLI, app) obeys."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from atlas_tui.domain.errors import AtlasError, ValidationError


class Role(StrEnum):
    """Each role may do everything the ones before it may."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    MANAGER = "manager"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return ROLES.index(self)

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


ROLES: Final[tuple[Role, ...]] = tuple(Role)

# Each action, the least role that may take it, and how a refusal names it.
ACTIONS: Final[dict[str, tuple[Role, str]]] = {
    "read": (Role.VIEWER, "read the inventory"),
    "stock": (Role.OPERATOR, "change stock"),
    "count": (Role.OPERATOR, "count stock"),
    "items": (Role.MANAGER, "edit items"),
    "locations": (Role.MANAGER, "edit locations"),
    "import": (Role.MANAGER, "import items"),
    "apply": (Role.MANAGER, "apply count sessions"),
    "admin": (Role.ADMIN, "manage users, tokens, backups and restores"),
    "webhooks": (Role.ADMIN, "run or test webhooks"),
}

# The action a movement of each kind needs: a safety net under the entry points' own checks.
KIND_ACTIONS: Final[dict[str, str]] = {
    "add": "items",
    "update": "items",
    "delete": "items",
    "adjust": "stock",
    "count": "stock",
    "move": "stock",
    "receive": "stock",
    "pick": "stock",
    "transfer": "stock",
}


class ForbiddenError(AtlasError):
    """The acting user's role does not allow the operation."""

    kind = "forbidden"


def parse_role(value: object, field: str = "role") -> Role:
    """A role by name (any case); ValidationError lists the roles."""
    text = value.strip().lower() if isinstance(value, str) else None
    if text in {role.value for role in ROLES}:
        return Role(text)
    names = ", ".join(role.value for role in ROLES)
    raise ValidationError(field, f"must be one of {names}, got {value!r}")


def _article(role: Role) -> str:
    return "an" if role.value[0] in "aeiou" else "a"


def check(user: str, role: Role, action: str) -> None:
    """Raise ForbiddenError unless `role` may take `action`."""
    needed, words = ACTIONS[action]
    if not role.at_least(needed):
        raise ForbiddenError(
            f"permission: {user} is {_article(role)} {role.value} and may not {words} "
            f"(needs {needed.value})"
        )
