"""Read one metadata file into items, or say why it could not be read."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field, replace

import orjson

from atlas_tui.media.adapters import NfoError, is_url_only, parse_document, parse_nfo
from atlas_tui.media.config import MAX_FILE_ENV
from atlas_tui.media.models import MediaItem

EXTENSIONS = (".json", ".ndjson", ".nfo")


@dataclass(slots=True)
class FileOutcome:
    """What one file gave: items, problems (messages without the path) and whether the
    outcome depends only on the file's bytes (and so may be cached by size and mtime)."""

    items: list[MediaItem] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    cacheable: bool = True


def size_warning(size: int, limit: int) -> str:
    """The warning for a file skipped for its size."""
    mb = 1024 * 1024
    return (
        f"skipped: {size / mb:.1f} MB is over the {limit / mb:g} MB limit"
        f" (raise it with {MAX_FILE_ENV} or max_file_mb)"
    )


def read_media_file(path: str, max_bytes: int | None = None) -> FileOutcome:
    """Parse ``path`` by the shape of its content: XML, JSON, or NDJSON.

    Only a regular file is read, and only if it holds at most ``max_bytes``: what the
    walk saw may have been replaced since (by a FIFO, which would block a read forever).
    """
    try:
        raw = _read(path, max_bytes)
    except OSError as exc:
        return FileOutcome(problems=[f"cannot read: {exc.strerror or exc}"], cacheable=False)
    if isinstance(raw, str):
        return FileOutcome(problems=[raw], cacheable=False)
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return FileOutcome(problems=[f"not UTF-8 text (bad byte at offset {exc.start})"])
    try:
        return parse_content(content, path)
    except Exception as exc:
        # Files come from many tools; a shape no adapter foresaw must cost one file, not
        # the whole search. The warning names the error so it can be reported.
        return FileOutcome(problems=[f"could not interpret: {type(exc).__name__}: {exc}"])


def _read(path: str, max_bytes: int | None) -> bytes | str:
    """The file's bytes, or why it was not read."""
    # Symlinks are followed, as by the walk; O_NONBLOCK makes opening a FIFO return at once.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with open(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return "not a regular file"
        if max_bytes is None:
            return handle.read()
        if info.st_size > max_bytes:
            return size_warning(info.st_size, max_bytes)
        raw = handle.read(max_bytes + 1)  # it may have grown since
        return size_warning(len(raw), max_bytes) if len(raw) > max_bytes else raw


def parse_content(content: str, source: str = "") -> FileOutcome:
    """Items in decoded file text; ``source`` becomes each item's ``sources``."""
    start = content.lstrip()[:1]
    if start == "<":
        try:
            outcome = FileOutcome(items=parse_nfo(content))
        except NfoError as exc:
            return FileOutcome(problems=[str(exc)])
    elif start in ("{", "["):
        outcome = _parse_json(content)
    elif not start:
        return FileOutcome(problems=["empty file"])
    elif is_url_only(content):
        return FileOutcome()  # Kodi lets an .nfo hold only a scraper URL: nothing to read
    else:
        return FileOutcome(problems=["neither JSON nor XML"])
    if source:
        outcome.items = [replace(item, sources=(source,)) for item in outcome.items]
    return outcome


def _parse_json(content: str) -> FileOutcome:
    try:
        return FileOutcome(items=parse_document(orjson.loads(content)))
    except orjson.JSONDecodeError as exc:
        whole_error = str(exc)
    return _parse_ndjson(content, whole_error)


def _parse_ndjson(content: str, whole_error: str) -> FileOutcome:
    """One JSON value per line; bad lines are counted, good ones kept."""
    lines = [(n, line) for n, line in enumerate(content.splitlines(), 1) if line.strip()]
    values = []
    bad: list[int] = []
    for number, line in lines:
        try:
            values.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            bad.append(number)
    # Most lines of a broken pretty-printed document fail on their own ("{", "\"a\": 1,"):
    # then the document's own error is the useful one, not one error per line.
    if len(values) <= len(bad):
        return FileOutcome(problems=[f"invalid JSON: {whole_error}"])
    items = [item for value in values for item in parse_document(value)]
    problems = []
    if bad:
        problems.append(f"skipped {len(bad)} invalid NDJSON line(s), first at line {bad[0]}")
    return FileOutcome(items=items, problems=problems)
