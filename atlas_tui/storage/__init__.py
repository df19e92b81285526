"""Storage behind the service: the repository interface and its backends."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from atlas_tui.config import Settings
from atlas_tui.dburl import DatabaseURL
from atlas_tui.domain.errors import ConfigError
from atlas_tui.storage.base import InventoryRepository, SessionStore

# Each backend is imported when a store of its kind is opened: `atlas show` on a SQLite
# store does not pay for TinyDB and its journal, nor the other way round.
if TYPE_CHECKING:
    from atlas_tui.storage.backups import BackupPolicy
    from atlas_tui.storage.sqlite_repo import SQLiteRepository
    from atlas_tui.storage.tinydb_repo import TinyDBRepository

__all__ = [
    "InventoryRepository",
    "SQLiteRepository",
    "TinyDBRepository",
    "open_document",
    "open_repository",
    "open_sessions",
    "store_name",
]


def __getattr__(name: str) -> Any:
    if name == "SQLiteRepository":
        from atlas_tui.storage.sqlite_repo import SQLiteRepository

        return SQLiteRepository
    if name == "TinyDBRepository":
        from atlas_tui.storage.tinydb_repo import TinyDBRepository

        return TinyDBRepository
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open_repository(
    settings: Settings, path: Path | DatabaseURL | None = None
) -> InventoryRepository:
    """The repository for the configured store (or `path`): a server store by its URL,
    a data file's backend by its name."""
    path = path or settings.store
    backups = None
    if settings.auto_backup:
        from atlas_tui.storage.backups import BackupPolicy, default_backup_dir

        anchor = path.anchor if isinstance(path, DatabaseURL) else path
        backups = BackupPolicy(default_backup_dir(anchor), settings.backups_kept)
    if isinstance(path, DatabaseURL):
        return _postgres(settings, path, backups)
    if settings.backend_for(path) == "sqlite":
        from atlas_tui.storage.sqlite_repo import SQLiteRepository

        return SQLiteRepository(path, lock_timeout=settings.lock_timeout, backups=backups)
    from atlas_tui.storage.tinydb_repo import TinyDBRepository

    return TinyDBRepository(path, lock_timeout=settings.lock_timeout, backups=backups)


def _postgres(
    settings: Settings, url: DatabaseURL, backups: BackupPolicy | None
) -> InventoryRepository:
    try:
        from atlas_tui.storage.pg import PostgresRepository
    except ImportError as exc:
        raise ConfigError(
            f"a PostgreSQL store needs the postgres extra: pip install 'atlas-tui[postgres]' "
            f"({exc.name or exc} is missing)"
        ) from None
    return PostgresRepository(url, lock_timeout=settings.lock_timeout, backups=backups)


def open_sessions(repository: InventoryRepository, lock_timeout: float) -> SessionStore:
    """Where the store's count sessions are kept: in the database for a server store, else
    in a file beside the data file."""
    if repository.backend == "postgresql":
        from atlas_tui.storage.pg.documents import SessionDocument
        from atlas_tui.storage.pg.repo import PostgresRepository

        assert isinstance(repository, PostgresRepository)
        return SessionDocument(repository)
    from atlas_tui.storage.sessions import SessionFile, sessions_path

    return SessionFile(sessions_path(repository.path), lock_timeout=lock_timeout)


def open_document(
    repository: InventoryRepository,
    name: str,
    lock_timeout: float,
    *,
    what: str,
    key: str,
) -> SessionStore:
    """A small document of the store's besides items and history (users and tokens): in
    the database for a server store, else in `<data file>.<name>.json` beside it. It is
    `{key: {}}` until first changed."""

    def empty() -> dict[str, Any]:
        return {key: {}}

    if repository.backend == "postgresql":
        from atlas_tui.storage.pg.documents import SessionDocument
        from atlas_tui.storage.pg.repo import PostgresRepository

        assert isinstance(repository, PostgresRepository)
        return SessionDocument(repository, name, what=what, empty=empty, key=key)
    from atlas_tui.storage.sessions import SessionFile

    path = repository.path.with_name(f"{repository.path.name}.{name}.json")
    return SessionFile(path, lock_timeout=lock_timeout, what=what, empty=empty, key=key)


def store_name(repository: InventoryRepository) -> str:
    """The store as messages and results name it: the data file, or a server store's URL
    with its password masked."""
    url = getattr(repository, "url", None)
    return str(url) if isinstance(url, DatabaseURL) else str(repository.path)
