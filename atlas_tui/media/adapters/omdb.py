"""OMDb title records (``Title``, ``Year``, ``Type``, ``imdbID``, values that may be "N/A")."""

from __future__ import annotations

from typing import Any

from atlas_tui.media.adapters._common import build_item, ids, kind_from, names, runtime
from atlas_tui.media.models import MOVIE, SERIES, MediaItem, MediaKind
from atlas_tui.media.years import parse_year


def detect(data: dict[str, Any]) -> bool:
    return "Title" in data and (
        "imdbID" in data or "Response" in data or ("Year" in data and "Type" in data)
    )


def parse(data: dict[str, Any], hint: MediaKind | None) -> MediaItem | None:
    if str(data.get("Response", "True")).lower() == "false":
        return None
    kind_word = data.get("Type")
    kind = kind_from(kind_word)
    if kind is None:
        if kind_word not in (None, "", "N/A"):
            return None  # episodes and games are not titles a user searches for here
        kind = SERIES if "totalSeasons" in data else hint or MOVIE
    return build_item(
        kind,
        title=data.get("Title"),
        year=parse_year(data.get("Year")) or parse_year(data.get("Released")),
        directors=names(data.get("Director")),
        seasons=data.get("totalSeasons"),
        genres=names(data.get("Genre")),
        runtime_minutes=runtime(data.get("Runtime")),
        id_pairs=ids([("imdb", data.get("imdbID"))]),
    )
