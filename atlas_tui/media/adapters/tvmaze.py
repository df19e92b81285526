"""TVmaze shows, with or without ``embed=episodes`` (search results are unwrapped earlier),
and how to tell a TVmaze episode (a schedule entry) from a show."""

from __future__ import annotations

from typing import Any

from atlas_tui.media.adapters._common import (
    build_item,
    episode,
    first_name,
    ids,
    names,
    runtime,
)
from atlas_tui.media.models import SERIES, MediaItem, MediaKind
from atlas_tui.media.years import parse_year

_MARKERS = ("premiered", "webChannel", "_embedded", "externals", "_links")


def detect(data: dict[str, Any]) -> bool:
    return "name" in data and any(key in data for key in _MARKERS) and not is_episode(data)


def is_episode(data: dict[str, Any]) -> bool:
    """A TVmaze episode (``/schedule``, ``/schedule/web``, ``/episodes/1``): numbered within
    a season and aired on a date, where a show has neither."""
    return (
        "season" in data
        and "number" in data
        and any(key in data for key in ("airdate", "airstamp", "airtime"))
    )


def episode_show(data: dict[str, Any]) -> dict[str, Any] | None:
    """The show an episode carries: ``show`` (TV schedule) or ``_embedded.show`` (web)."""
    show = data.get("show")
    if not isinstance(show, dict):
        embedded = data.get("_embedded")
        show = embedded.get("show") if isinstance(embedded, dict) else None
    return show if isinstance(show, dict) else None


def parse(data: dict[str, Any], hint: MediaKind | None) -> MediaItem | None:
    embedded = data.get("_embedded")
    embedded = embedded if isinstance(embedded, dict) else {}
    episodes = [
        episode(e.get("season"), e.get("number"), e.get("name"), e.get("airdate"))
        for e in embedded.get("episodes") or []
        if isinstance(e, dict)
    ]
    externals = data.get("externals")
    id_pairs = [("tvmaze", data.get("id"))]
    if isinstance(externals, dict):
        id_pairs += list(externals.items())
    # A broadcast network is the show's home even when it also streams on a web channel.
    network = first_name(data.get("network")) or first_name(data.get("webChannel"))
    return build_item(
        SERIES,
        title=data.get("name"),
        aliases=names(embedded.get("akas")),
        year=parse_year(data.get("premiered")),
        episode_list=episodes,
        network=network,
        genres=names(data.get("genres")),
        runtime_minutes=runtime(data.get("runtime")) or runtime(data.get("averageRuntime")),
        id_pairs=ids(id_pairs),
    )
