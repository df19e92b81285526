"""The Python API: every call returns a {"success": ...} envelope and never raises."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from atlas_tui.config import Settings
from atlas_tui.domain.errors import AtlasError, ValidationError
from atlas_tui.domain.models import clean_flag, clean_int, clean_path, shown

# Import/export, maintenance, the demo and media search are imported by the calls that use
# them, and the service when it is first opened: a script (or `atlas show`) pays only for
# what it calls.
if TYPE_CHECKING:
    from atlas_tui.services.inventory import InventoryService

Envelope = dict[str, Any]
# The most demo items one call adds (demo.MAX_ITEMS: a million on SQLite in under 2 minutes).
DEMO_MAX_ITEMS: Final = 1_000_000


def _sqlite_problem(error: sqlite3.Error, path: object) -> str:
    where = f" {path}" if path is not None else ""
    if "full" in str(error):  # SQLITE_FULL: "database or disk is full"
        return (
            f"storage: cannot write the data file{where}: the disk is full; "
            "the change was not saved"
        )
    return f"storage: the data file{where} cannot be used: {error}"


def failure(error: BaseException, path: object = None) -> Envelope:
    """The envelope of a refused call; error_type tells validation from storage problems.

    `path`, the data file, is named in storage errors that do not name it themselves.
    """
    if isinstance(error, AtlasError):
        return {"success": False, "error": str(error), "error_type": error.kind}
    if isinstance(error, sqlite3.Error):
        return {
            "success": False,
            "error": _sqlite_problem(error, path),
            "error_type": "storage",
        }
    if isinstance(error, OSError):
        where = f" ({error.filename})" if error.filename else ""
        return {
            "success": False,
            "error": f"storage: {error.strerror or error}{where}",
            "error_type": "storage",
        }
    return {
        "success": False,
        "error": f"internal error: {type(error).__name__}: {error}",
        "error_type": "internal",
    }


def _movement_ids(field: str, value: object) -> list[int]:
    """A list of movement ids (whole numbers from 1)."""
    if isinstance(value, str | bytes) or not isinstance(value, Sequence) or not value:
        raise ValidationError(field, f"must be a list of movement ids, got {shown(value)}")
    return [clean_int(field, n, minimum=1) for n in value]


class AtlasAPI:
    """Inventory operations for scripts; `AtlasAPI()` uses ATLAS_STORAGE_PATH or the default."""

    def __init__(
        self,
        storage_path: str | os.PathLike[str] | None = None,
        *,
        settings: Settings | None = None,
    ) -> None:
        """`settings`, when given, are used as they are (the CLI reads them with its flags)."""
        self._storage_path = storage_path
        self._settings: Settings | None = settings
        self._service: InventoryService | None = None

    @classmethod
    def over(cls, service: InventoryService, settings: Settings) -> AtlasAPI:
        """The API on a service already open (a server's, acting for one caller)."""
        api = cls(settings=settings)
        api._service = service
        return api

    @property
    def settings(self) -> Settings:
        """Where the data lives and the limits (read from the environment on first use)."""
        if self._settings is None:
            self._settings = Settings.from_env(storage_path=self._storage_path)
        return self._settings

    @property
    def service(self) -> InventoryService:
        """The service behind the API (opened on first use)."""
        if self._service is None:
            from atlas_tui.factory import make_service

            self._service = make_service(settings=self.settings)
        return self._service

    def _call(self, key: str, operation: Callable[[InventoryService], Any]) -> Envelope:
        try:
            return {"success": True, key: operation(self.service)}
        except Exception as exc:  # the API's promise: no exception escapes
            return self._failure(exc)

    def _failure(self, error: BaseException) -> Envelope:
        settings = self._settings
        return failure(error, None if settings is None else settings.storage_path)

    def add_item(
        self,
        sku: str,
        name: str,
        category: str = "",
        quantity: int = 0,
        location: str = "",
        min_stock: int = 0,
        max_stock: int = 0,
        attributes: Mapping[str, Any] | None = None,
        reason: str | None = None,
        unit: str | None = None,
        barcodes: Mapping[str, int] | None = None,
    ) -> Envelope:
        """Create an item, its stock (if any) at `location`, its home."""
        return self._call(
            "item",
            lambda s: s.add(
                sku,
                name,
                category,
                quantity,
                location,
                min_stock,
                max_stock,
                attributes,
                reason=reason,
                unit=unit,
                barcodes=barcodes,
            ).to_dict(),
        )

    def add_items(self, items: Sequence[Mapping[str, Any]], reason: str | None = None) -> Envelope:
        """Create many items at once: all or none; the error names every refused row."""
        return self._call(
            "items", lambda s: [item.to_dict() for item in s.add_many(items, reason=reason)]
        )

    def get_item(self, sku: str) -> Envelope:
        """One item by SKU (case-insensitive)."""
        return self._call("item", lambda s: s.get(sku).to_dict())

    def list_items(
        self,
        category: str | None = None,
        location: str | None = None,
        search: str | None = None,
        low: bool = False,
        over: bool = False,
    ) -> Envelope:
        """Items ordered by SKU, narrowed by the filters given."""
        return self._call(
            "items",
            lambda s: [
                item.to_dict()
                for item in s.list_items(
                    category=category, location=location, search=search, low=low, over=over
                )
            ],
        )

    def adjust_quantity(
        self,
        sku: str,
        delta: int,
        reason: str | None = None,
        location: str | None = None,
        lot: str | None = None,
    ) -> Envelope:
        """Add (positive) or remove (negative) stock at a location (default: the item's
        home); never below zero."""
        return self._lines_call(lambda s: s.adjust(sku, delta, reason, location=location, lot=lot))

    def receive(
        self,
        sku: str,
        quantity: int,
        location: str | None = None,
        lot: str | None = None,
        expiry: str | None = None,
        reason: str | None = None,
    ) -> Envelope:
        """Receive stock into a location (default: the home), of a lot and expiry if given."""
        return self._lines_call(
            lambda s: s.receive(sku, quantity, reason, location=location, lot=lot, expiry=expiry)
        )

    def pick(
        self,
        sku: str,
        quantity: int,
        location: str | None = None,
        lot: str | None = None,
        reason: str | None = None,
    ) -> Envelope:
        """Take stock for use: from the location given, or earliest expiry first, then the
        home, then the fullest line; "lines" tells which lines it took from."""
        return self._lines_call(lambda s: s.pick(sku, quantity, reason, location=location, lot=lot))

    def transfer(
        self,
        sku: str,
        quantity: int,
        source: str,
        target: str,
        lot: str | None = None,
        reason: str | None = None,
    ) -> Envelope:
        """Move part of an item's stock from one location to another."""
        return self._lines_call(
            lambda s: s.transfer(sku, quantity, source, target, reason, lot=lot)
        )

    def count_item(
        self,
        sku: str,
        quantity: int,
        reason: str | None = None,
        location: str | None = None,
        lot: str | None = None,
    ) -> Envelope:
        """Set a stock line to a counted figure (the item's only line unless a location
        is given)."""
        return self._lines_call(
            lambda s: s.count(sku, quantity, reason, location=location, lot=lot)
        )

    def move_item(self, sku: str, location: str, reason: str | None = None) -> Envelope:
        """Move all of the item's stock, and its home, to another location."""
        return self._lines_call(lambda s: s.move(sku, location, reason))

    def move_items(self, skus: Sequence[str], location: str, reason: str | None = None) -> Envelope:
        """Move several items to one location as one step: all or none, one undo. The
        step: {"summary", "items" (as moved), "skipped" (SKUs already there)}."""
        from atlas_tui.services import bulk

        def run(s: InventoryService) -> dict[str, Any]:
            result = bulk.move(s, skus, location, reason)
            items = [item.to_dict() for item in result.changed]
            return {"summary": result.summary, "items": items, "skipped": result.skipped}

        return self._call("step", run)

    def _lines_call(self, operation: Callable[[InventoryService], Any]) -> Envelope:
        """A stock change: the item, and the lines the change touched as
        [{"location", "lot", "expiry", "before", "after"}]."""

        def run(s: InventoryService) -> dict[str, Any]:
            item = operation(s).to_dict()
            last = s.last_change()
            changed = [] if last is None else last.details.get("lines", [])
            names = ("location", "lot", "expiry", "before", "after")
            return {"item": item, "lines": [dict(zip(names, c, strict=True)) for c in changed]}

        envelope = self._call("result", run)
        if envelope["success"]:
            result = envelope.pop("result")
            envelope.update(result)
        return envelope

    def stock(self, sku: str) -> Envelope:
        """The item's stock lines: location, lot, expiry, quantity."""
        return self._call("lines", lambda s: [line.to_dict() for line in s.stock(sku)])

    def locations(self, empty: bool = False) -> Envelope:
        """Every location with how many items and units it holds (only empty ones with
        `empty`)."""
        return self._call(
            "locations", lambda s: s.places.overview(empty=clean_flag("empty", empty))
        )

    def location(self, location: str) -> Envelope:
        """One location: its name, path, children and the stock lines held there."""
        return self._call("location", lambda s: s.places.show(location))

    def create_location(
        self, location: str, name: str | None = None, parent: str | None = None
    ) -> Envelope:
        """Record a location (empty until stock is put there)."""
        return self._call("location", lambda s: s.places.create(location, name, parent))

    def edit_location(
        self, location: str, name: str | None = None, parent: str | None = None
    ) -> Envelope:
        """Change a location's name or parent."""
        return self._call("location", lambda s: s.places.edit(location, name=name, parent=parent))

    def rename_location(self, location: str, to: str, reason: str | None = None) -> Envelope:
        """Give a location a new code; its stock lines and homes follow."""
        return self._call("location", lambda s: s.places.rename(location, to, reason))

    def retire_location(self, location: str, reason: str | None = None) -> Envelope:
        """Retire a location (refused while it holds stock)."""
        return self._call("location", lambda s: s.places.retire(location, reason))

    def update_item(self, sku: str, reason: str | None = None, **fields: Any) -> Envelope:
        """Change name, category, min_stock, max_stock, unit or barcodes; attributes merge
        (None removes a key)."""
        return self._call("item", lambda s: s.update(sku, reason, **fields).to_dict())

    def delete_item(self, sku: str, reason: str | None = None) -> Envelope:
        """Delete the item; its history is kept."""
        return self._call("item", lambda s: s.delete(sku, reason).to_dict())

    def report(
        self,
        report_type: str = "summary",
        at: str | datetime | None = None,
        days: int | None = None,
    ) -> Envelope:
        """summary, low, over, reorder, locations or expiring (within `days`, default 30);
        with `at`, as the history says things were then."""
        return self._call("report", lambda s: s.report(report_type, at=at, days=days))

    def trend(self, sku: str, days: int = 30) -> Envelope:
        """The item's end-of-day quantities over the last `days` days and its daily usage."""
        return self._call("trend", lambda s: s.trend(sku, days))

    def undo_plan(self) -> Envelope:
        """What `undo` would take back: this user's latest change, "undo": {"summary",
        "movements"}; refused when there is none or another user's later change stands in
        its way."""
        return self._call("undo", lambda s: s.undo_plan().to_dict())

    def undo(self, expect: Sequence[int] | None = None) -> Envelope:
        """Take back this user's latest change (a bulk step whole) with compensating
        movements: "undone" (as `undo_plan` shows it) and "item" (afterwards). With
        `expect`, the movement ids `undo_plan` listed, only if it is still that change."""

        def run(s: InventoryService) -> dict[str, Any]:
            wanted = None if expect is None else _movement_ids("expect", expect)
            plan = s.undo_plan()
            if wanted is not None and sorted(plan.ids) != sorted(wanted):
                raise ValidationError(
                    "undo", f"your latest change is now the {plan.summary}: nothing undone"
                )
            item = s.undo(plan)
            return {"undone": plan.to_dict(), "item": item.to_dict()}

        envelope = self._call("result", run)
        if envelope["success"]:
            envelope.update(envelope.pop("result"))
        return envelope

    def history(self, sku: str | None = None, since: str | datetime | None = None) -> Envelope:
        """Movements newest first: one SKU's ([] if never seen), or all since a moment."""

        def run(s: InventoryService) -> list[dict[str, Any]]:
            if since is not None:
                return [m.to_dict() for m in s.history_since(since, sku)]
            if sku is None:
                raise ValidationError("sku", "give a SKU, or a moment to list everything since")
            return [m.to_dict() for m in s.history(sku)]

        return self._call("history", run)

    def verify(self) -> Envelope:
        """Check the rules and that the history adds up; the report lists problems by SKU."""
        return self._call("report", lambda s: s.verify())

    def backup(self, to: str | os.PathLike[str] | None = None) -> Envelope:
        """Write a consistent snapshot (default: backups/ beside the data file)."""

        from atlas_tui.services import maintenance

        def run(s: InventoryService) -> dict[str, Any]:
            s.allow("admin")
            target = None if to is None else Path(clean_path("to", to))
            path = maintenance.backup(s.repository, target)
            return {"path": str(path), "backend": s.repository.backend}

        return self._call("backup", run)

    def restore(self, file: str | os.PathLike[str]) -> Envelope:
        """Replace all data with a backup's; the current data is backed up first."""
        from atlas_tui.services import maintenance

        def run(s: InventoryService) -> dict[str, Any]:
            s.allow("admin")
            return maintenance.restore(self.settings, s.repository, Path(clean_path("file", file)))

        return self._call("restore", run)

    def migrate(self, to: str | os.PathLike[str]) -> Envelope:
        """Copy items and full history to a new store (any backend) and check the copy."""
        from atlas_tui.services import maintenance

        def run(s: InventoryService) -> dict[str, Any]:
            s.allow("admin")
            return maintenance.migrate(self.settings, s.repository, clean_path("to", to))

        return self._call("migration", run)

    def export_items(
        self,
        file_format: str = "csv",
        out: str | os.PathLike[str] | None = None,
        *,
        lines: bool = False,
    ) -> Envelope:
        """Every item as CSV or JSON (with `lines`, one row per stock line): written to
        `out`, else returned as "data"."""
        from atlas_tui.services import exchange

        def run(s: InventoryService) -> dict[str, Any]:
            by_line = clean_flag("lines", lines)
            if out is not None:
                target = Path(clean_path("out", out))
                return exchange.export_file(s, target, file_format, lines=by_line)
            data = exchange.export_text(s, file_format, lines=by_line)
            return {"format": file_format, "data": data}

        return self._call("export", run)

    def import_file(
        self,
        path: str | os.PathLike[str],
        *,
        dry_run: bool = False,
        strict: bool = False,
        mapping: Sequence[str] = (),
        encoding: str | None = None,
        file_format: str | None = None,
        reason: str | None = None,
    ) -> Envelope:
        """Import a CSV/JSON file; success only when no row was refused.

        The "import" key always holds the outcome of every row, refused or not.
        """
        from atlas_tui.services import exchange

        try:
            result = exchange.import_file(
                self.service,
                Path(clean_path("file", path)),
                dry_run=clean_flag("dry_run", dry_run),
                strict=clean_flag("strict", strict),
                mapping=mapping,
                encoding=encoding,
                file_format=file_format,
                reason=reason,
            )
        except Exception as exc:  # the API's promise: no exception escapes
            return self._failure(exc)
        report = result.to_dict()
        refused = report["refused"]
        if not refused:
            return {"success": True, "import": report}
        rows = ", ".join(str(row.row) for row in result.of("refuse")[:10])
        more = ", …" if refused > 10 else ""
        done = "nothing imported" if not result.applied else "the other rows were imported"
        return {
            "success": False,
            "error": f"import: {refused} of {len(result.rows)} rows refused (rows {rows}{more}); "
            + ("a dry run changes nothing" if dry_run else done),
            "error_type": "validation",
            "import": report,
        }

    def count_session_start(
        self,
        location: str | None = None,
        category: str | None = None,
        reason: str | None = None,
    ) -> Envelope:
        """Open a count session over a location and/or category (else every item)."""
        return self._call(
            "session",
            lambda s: s.stocktake.start(location=location, category=category, reason=reason),
        )

    def count_sessions(self, include_closed: bool = False) -> Envelope:
        """Open count sessions, newest first (all of them with include_closed)."""
        return self._call(
            "sessions",
            lambda s: s.stocktake.sessions(
                include_closed=clean_flag("include_closed", include_closed)
            ),
        )

    def count_session(self, session_id: int | str) -> Envelope:
        """A session's variance: expected, counted and difference per SKU, and uncounted."""
        return self._call("variance", lambda s: s.stocktake.variance(session_id))

    def count_session_record(
        self,
        session_id: int | str,
        code: str,
        quantity: int = 1,
        *,
        add: bool = False,
        location: str | None = None,
        lot: str | None = None,
    ) -> Envelope:
        """Record a counted quantity (or add to it) for a SKU or barcode, on the line at
        `location` of `lot` when the session cannot tell which line is meant."""
        return self._call(
            "count",
            lambda s: s.stocktake.record(
                session_id, code, quantity, add=clean_flag("add", add), location=location, lot=lot
            ),
        )

    def count_session_apply(self, session_id: int | str) -> Envelope:
        """Turn the session's differences into count movements, all or nothing."""
        return self._call("applied", lambda s: s.stocktake.apply(session_id))

    def count_session_cancel(self, session_id: int | str) -> Envelope:
        """Close a session without changing stock."""
        return self._call("session", lambda s: s.stocktake.cancel(session_id))

    def users(self) -> Envelope:
        """Every user, their role and how many live tokens they hold (admin)."""
        return self._call("users", lambda s: s.access.users())

    def add_user(self, name: str, role: str) -> Envelope:
        """Add a user with a role: viewer, operator, manager or admin (admin)."""
        return self._call("user", lambda s: s.access.add_user(name, role))

    def set_role(self, name: str, role: str) -> Envelope:
        """Give a user another role (admin)."""
        return self._call("user", lambda s: s.access.set_role(name, role))

    def remove_user(self, name: str) -> Envelope:
        """Remove a user; their tokens are revoked (admin)."""
        return self._call("user", lambda s: s.access.remove_user(name))

    def create_token(self, user: str, label: str | None = None) -> Envelope:
        """A new access token for `user`: "token" holds it, shown this once (admin)."""
        return self._call("token", lambda s: s.access.create_token(user, label))

    def tokens(self) -> Envelope:
        """Every token's id, user, label and dates; never the token itself (admin)."""
        return self._call("tokens", lambda s: s.access.tokens())

    def revoke_token(self, token: str) -> Envelope:
        """Revoke a token by its id (admin)."""
        return self._call("token", lambda s: s.access.revoke(token))

    def demo(self, items: int = 300, *, seed: int = 7, if_new: bool = False) -> Envelope:
        """Add a realistic demo inventory with history (with if_new, only to an empty store)."""
        from atlas_tui.services.demo import seed_demo

        def run(s: InventoryService) -> dict[str, Any]:
            count = clean_int("items", items, minimum=1, maximum=DEMO_MAX_ITEMS)
            number = clean_int("seed", seed, minimum=None)
            return seed_demo(s, count, seed=number, if_new=clean_flag("if_new", if_new)).to_dict()

        return self._call("demo", run)

    def find_media(
        self,
        query: str,
        search_dir: str | os.PathLike[str] | None = None,
        *,
        kind: str | None = None,
        year: int | None = None,
        limit: int | None = None,
    ) -> Envelope:
        """Movies and series whose title matches, best first, from metadata files in a folder.

        `search_dir` defaults to $ATLAS_MEDIA_DIR. Returns {"success": True, "results": [...],
        "warnings": [...]}, each result an item's fields plus "match" and "score".
        """
        from atlas_tui.media import KINDS, MediaDirError, MediaError, search_media

        try:
            folder = (
                Path(clean_path("dir", search_dir))
                if search_dir is not None
                else self.settings.media_dir
            )
            if folder is None:
                raise ValidationError("dir", "no media folder: give one or set ATLAS_MEDIA_DIR")
            if not isinstance(query, str):
                raise ValidationError("query", f"must be text, got {shown(query)}")
            if year is not None:
                year = clean_int("year", year, minimum=1, maximum=9999)
            if kind is not None and kind not in KINDS:
                raise ValidationError("kind", f"must be movie or series, got {kind!r}")
            if limit is not None and (
                isinstance(limit, bool) or not isinstance(limit, int) or limit < 1
            ):
                raise ValidationError(
                    "limit", f"must be a whole number of 1 or more, got {limit!r}"
                )
            found = search_media(query, folder, kind=kind, year=year, limit=limit)
        except MediaDirError as exc:
            return {"success": False, "error": f"dir: {exc}", "error_type": "not_found"}
        except MediaError as exc:
            return {"success": False, "error": str(exc), "error_type": "validation"}
        except Exception as exc:  # the API's promise: no exception escapes
            return self._failure(exc)
        return {
            "success": True,
            "results": [
                {**match.item.to_dict(), "match": match.match, "score": match.score}
                for match in found.matches
            ],
            "warnings": [warning.to_dict() for warning in found.warnings],
        }


# The seed's name for the same API.
ATLASDirectAPI = AtlasAPI
