"""Jellyfin/Emby items (``Name``, ``ProductionYear``, ``People``, ``ProviderIds`` ...)."""

from __future__ import annotations

from typing import Any

from atlas_tui.media.adapters._common import (
    build_item,
    first_name,
    ids,
    names,
    ticks_to_minutes,
)
from atlas_tui.media.models import MOVIE, SERIES, MediaItem, MediaKind
from atlas_tui.media.years import parse_year

_MARKERS = ("ProductionYear", "ProviderIds", "People", "Studios", "PremiereDate", "RunTimeTicks")
_TYPES: dict[str, MediaKind] = {"Movie": MOVIE, "Series": SERIES}


def detect(data: dict[str, Any]) -> bool:
    if "Name" not in data:
        return False
    return any(key in data for key in _MARKERS) or ("Type" in data and "Id" in data)


def parse(data: dict[str, Any], hint: MediaKind | None) -> MediaItem | None:
    item_type = data.get("Type")
    if item_type is not None:
        kind = _TYPES.get(str(item_type))
        if kind is None:
            return None  # episodes, seasons, box sets, music ...
    else:
        kind = hint or MOVIE
    people = [p for p in data.get("People") or [] if isinstance(p, dict)]
    provider_ids = data.get("ProviderIds")
    genres = names(data.get("Genres")) or names(data.get("GenreItems"))
    return build_item(
        kind,
        title=data.get("Name"),
        original_title=data.get("OriginalTitle"),
        year=parse_year(data.get("ProductionYear")) or parse_year(data.get("PremiereDate")),
        directors=names([p for p in people if p.get("Type") == "Director"]),
        network=first_name(data.get("Studios")),
        genres=genres,
        runtime_minutes=ticks_to_minutes(data.get("RunTimeTicks")),
        id_pairs=ids(provider_ids.items() if isinstance(provider_ids, dict) else ()),
    )
