"""Trakt movies and shows (the ``{"movie": ...}`` / ``{"show": ...}`` wrappers are unwrapped
earlier and passed in as the kind hint)."""

from __future__ import annotations

from typing import Any

from atlas_tui.media.adapters._common import build_item, ids, names, runtime
from atlas_tui.media.models import MOVIE, SERIES, MediaItem, MediaKind
from atlas_tui.media.years import parse_year

_SHOW_KEYS = ("first_aired", "aired_episodes", "network", "airs")


def detect(data: dict[str, Any]) -> bool:
    found = data.get("ids")
    return isinstance(found, dict) and ("trakt" in found or "slug" in found)


def parse(data: dict[str, Any], hint: MediaKind | None) -> MediaItem | None:
    kind = hint or (SERIES if any(key in data for key in _SHOW_KEYS) else MOVIE)
    found = data.get("ids")
    return build_item(
        kind,
        title=data.get("title"),
        original_title=data.get("original_title"),
        year=parse_year(data.get("year"))
        or parse_year(data.get("released") or data.get("first_aired")),
        episodes=data.get("aired_episodes"),
        network=data.get("network"),
        genres=names(data.get("genres")),
        runtime_minutes=runtime(data.get("runtime")),
        id_pairs=ids(found.items() if isinstance(found, dict) else ()),
    )
