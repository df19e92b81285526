"""Errors raised by the inventory core; each carries a one-line message for the user."""

from __future__ import annotations

from typing import Final


class AtlasError(Exception):
    """Base of every error the core reports to a user instead of a traceback."""

    kind = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


# The word an operator knows a field by, where the code's name differs: the CLI's --min and
# --max, the dialogs' "Min stock", the adjust dialog's amount of stock.
FIELD_WORDS: Final = {"delta": "quantity", "min_stock": "minimum", "max_stock": "maximum"}


def field_word(field: str) -> str:
    """How a message names `field`: "minimum" for min_stock, the name itself otherwise."""
    return FIELD_WORDS.get(field, field)


class ValidationError(AtlasError):
    """A value broke a rule; the message starts with the field as the operator knows it.

    `field` keeps the code's name (`min_stock`), for programs that place the message;
    the message says "minimum: ...".
    """

    kind = "validation"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field_word(field)}: {problem}")
        self.field = field
        self.problem = problem


class NotFoundError(AtlasError):
    """No item with the given SKU."""

    kind = "not_found"


class ConflictError(AtlasError):
    """The operation clashes with what is stored (duplicate SKU, store full)."""

    kind = "conflict"


class StorageError(AtlasError):
    """The data file cannot be read or written; names the file and the problem."""

    kind = "storage"


class UnreachableError(StorageError):
    """The database server did not answer, or dropped the connection: the store itself was
    not looked at (so `verify` has no finding about it, only this to tell)."""


class BusyError(StorageError):
    """Another process held the data lock for longer than the wait allowed."""

    kind = "busy"


class ConfigError(AtlasError):
    """An environment variable or option holds a value ATLAS cannot use."""

    kind = "config"


class BulkError(AtlasError):
    """Some rows of a bulk operation were refused, so none was applied."""

    kind = "validation"

    def __init__(self, total: int, problems: list[str]) -> None:
        noun = "item" if total == 1 else "items"
        head = f"{len(problems)} of {total} {noun} refused, nothing was added"
        super().__init__(f"{head}: " + "; ".join(problems))
        self.problems = problems
