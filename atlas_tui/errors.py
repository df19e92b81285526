"""Errors raised by the inventory core; each carries a one-line message for the user."""

from __future__ import annotations


class AtlasError(Exception):
    """Base of every error the core reports to a user instead of a traceback."""

    kind = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ValidationError(AtlasError):
    """A value broke a rule; the message starts with the field's name."""

    kind = "validation"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
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
