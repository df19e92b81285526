"""Read one metadata file into items, or say why it could not be read."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from operator import attrgetter
from typing import Any

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
    return read_file(path, max_bytes, path)


def read_file(path: str, max_bytes: int | None, source: str) -> FileOutcome:
    """:func:`read_media_file`, with ``source`` as each item's ``sources`` ("": none,
    as the index keeps paths itself)."""
    try:
        raw = _read(path, max_bytes)
    except OSError as exc:
        return FileOutcome(problems=[f"cannot read: {exc.strerror or exc}"], cacheable=False)
    if isinstance(raw, str):
        return FileOutcome(problems=[raw], cacheable=False)
    try:
        # Most files are one JSON document: orjson reads (and checks) the UTF-8 bytes
        # itself, without a decoded copy. Anything else, or any doubt, takes the path
        # that tells NDJSON, XML and undecodable files apart.
        first = raw[:1]
        if first.isspace():
            first = raw.lstrip()[:1]
        if first in _JSON_STARTS:
            try:
                value = orjson.loads(raw)
            except orjson.JSONDecodeError:
                pass
            else:
                return _sourced(FileOutcome(items=parse_document(value)), source)
        try:
            content = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            return FileOutcome(problems=[f"not UTF-8 text (bad byte at offset {exc.start})"])
        return parse_content(content, source)
    except Exception as exc:
        # Files come from many tools; a shape no adapter foresaw must cost one file, not
        # the whole search. The warning names the error so it can be reported.
        return FileOutcome(problems=[f"could not interpret: {type(exc).__name__}: {exc}"])


_JSON_STARTS = (b"{", b"[")
_FIRST_READ = 1 << 16


def _read(path: str, max_bytes: int | None) -> bytes | str:
    """The file's bytes, or why it was not read."""
    # Symlinks are followed, as by the walk; O_NONBLOCK makes opening a FIFO return at once.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return "not a regular file"
        size = info.st_size
        if max_bytes is not None and size > max_bytes:
            return size_warning(size, max_bytes)
        # Reads sized by fstat: a buffered read(max_bytes + 1) would allocate the whole
        # limit (20 MB) for every file. One byte more than expected shows growth at once.
        cap = (1 << 62) if max_bytes is None else max_bytes + 1
        parts = []
        total = 0
        want = min(size + 1, cap)
        while want > 0:
            part = os.read(fd, want)
            parts.append(part)
            total += len(part)
            if len(part) < want:  # a regular file reads short only at its end
                break
            want = min(max(_FIRST_READ, total), cap - total)
        if total > cap - 1:
            return size_warning(total, cap - 1)
        return parts[0] if len(parts) == 1 else b"".join(parts)
    finally:
        os.close(fd)


# Every field but ``sources``, in constructor order: a copy with new sources is built
# from them directly (dataclasses.replace looks the fields up again for every item).
_KEPT: Callable[[MediaItem], tuple[Any, ...]] = attrgetter(
    *(f.name for f in fields(MediaItem) if f.name != "sources")
)
_NEW_ITEM: Callable[..., MediaItem] = MediaItem  # takes those fields, then sources
assert fields(MediaItem)[-1].name == "sources"


def _sourced(outcome: FileOutcome, source: str) -> FileOutcome:
    if source:
        sources = (source,)
        outcome.items = [_NEW_ITEM(*_KEPT(item), sources) for item in outcome.items]
    return outcome


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
    return _sourced(outcome, source)


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
