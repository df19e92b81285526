"""Turn parsed metadata documents into :class:`MediaItem` records, by the shape of the data.

Each format lives in its own module exposing ``detect(obj) -> bool`` and
``parse(obj, hint) -> MediaItem | None``; the first module whose ``detect`` accepts an
object parses it. Lists and wrapper objects (``{"movies": [...]}``, ``{"Items": [...]}``,
``{"show": {...}}``, ``[{"score": 1, "show": {...}}]``) are unwrapped first. A TVmaze
episode (a schedule entry) gives the show in its ``show`` or ``_embedded.show``, or nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from atlas_tui.media.adapters import generic, jellyfin, omdb, tmdb, trakt, tvmaze
from atlas_tui.media.adapters._common import fold
from atlas_tui.media.adapters.nfo import NfoError, is_url_only, parse_nfo
from atlas_tui.media.models import MOVIE, SERIES, MediaItem, MediaKind

Detect = Callable[[dict[str, Any]], bool]
Parse = Callable[[dict[str, Any], MediaKind | None], MediaItem | None]

# Most specific first: generic accepts anything with a title, so it must come last.
ADAPTERS: tuple[tuple[str, Detect, Parse], ...] = (
    ("tmdb", tmdb.detect, tmdb.parse),
    ("omdb", omdb.detect, omdb.parse),
    ("trakt", trakt.detect, trakt.parse),
    ("tvmaze", tvmaze.detect, tvmaze.parse),
    ("jellyfin", jellyfin.detect, jellyfin.parse),
    ("generic", generic.detect, generic.parse),
)

_LIST_WRAPPERS: dict[str, MediaKind | None] = {
    "movies": MOVIE,
    "films": MOVIE,
    "shows": SERIES,
    "series": SERIES,
    "tvshows": SERIES,
    "tv": SERIES,
    "items": None,
    "results": None,
    "data": None,
    "parts": MOVIE,
    "entries": None,
}
_ONE_WRAPPERS: dict[str, MediaKind] = {"movie": MOVIE, "show": SERIES, "tvshow": SERIES}
_MAX_DEPTH = 6


def parse_document(data: Any, hint: MediaKind | None = None) -> list[MediaItem]:
    """Every movie and series in a decoded JSON value; unknown shapes give []."""
    return _walk(data, hint, 0)


def _walk(data: Any, hint: MediaKind | None, depth: int) -> list[MediaItem]:
    if depth > _MAX_DEPTH:
        return []
    if isinstance(data, list):
        return [item for entry in data for item in _walk(entry, hint, depth + 1)]
    if not isinstance(data, dict):
        return []
    if tmdb.is_part(data):
        return [tmdb.parse_part(data)]
    if tvmaze.is_episode(data):
        # A schedule entry: the show it belongs to is the title; the episode is not one.
        show = tvmaze.episode_show(data)
        return _walk(show, SERIES, depth + 1) if show is not None else []
    unwrapped = _unwrap(data, hint, depth)
    if unwrapped is not None:
        return unwrapped
    for _name, detect, parse in ADAPTERS:
        if detect(data):
            item = parse(data, hint)
            return [item] if item is not None else []
    return []


def _unwrap(data: dict[str, Any], hint: MediaKind | None, depth: int) -> list[MediaItem] | None:
    """Items inside a wrapper object, or None when ``data`` is not a wrapper."""
    found: list[MediaItem] | None = None
    for key, value in data.items():
        if not isinstance(key, str):
            continue
        name = fold(key)
        if name in _LIST_WRAPPERS and isinstance(value, list) and _holds_objects(value):
            found = (found or []) + _walk(value, _LIST_WRAPPERS[name] or hint, depth + 1)
        elif name in _ONE_WRAPPERS and isinstance(value, dict):
            found = (found or []) + _walk(value, _ONE_WRAPPERS[name], depth + 1)
    return found


def _holds_objects(values: list[Any]) -> bool:
    return any(isinstance(value, dict) for value in values)


__all__ = ["ADAPTERS", "NfoError", "is_url_only", "parse_document", "parse_nfo"]
