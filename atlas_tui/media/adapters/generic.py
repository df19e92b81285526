"""Any other object with a title: keys in any case or spelling style, values loosely typed."""

from __future__ import annotations

from typing import Any

from atlas_tui.media.adapters._common import (
    build_item,
    count,
    episode,
    first_name,
    folded,
    ids,
    kind_from,
    names,
    runtime,
    text,
)
from atlas_tui.media.models import MOVIE, SERIES, Episode, MediaItem, MediaKind
from atlas_tui.media.years import parse_year

_TITLES = ("title", "seriesname", "seriestitle", "showtitle", "showname", "movietitle", "name")
_ORIGINALS = ("originaltitle", "originalname")
_YEARS = ("year", "releaseyear", "productionyear", "startyear")
_DATES = ("releasedate", "released", "premiered", "firstairdate", "firstaired", "airdate", "date")
_SERIES_HINTS = ("numberofseasons", "totalseasons", "seasons", "firstairdate", "network")
_MEDIA_KEYS = frozenset(
    _YEARS + _DATES + _SERIES_HINTS + ("kind", "type", "mediatype", "ids", "imdbid", "genres")
)
_NOT_TITLES = frozenset({"episode", "season", "game", "person", "music", "album", "collection"})
_ID_HOLDERS = ("ids", "externalids", "providerids", "uniqueids")


def detect(data: dict[str, Any]) -> bool:
    keys = folded(data)
    if any(text(keys.get(key)) for key in _TITLES[:-1] + _ORIGINALS):
        return True
    # "name" alone is too common outside media files (package.json, configs) to be enough.
    return text(keys.get("name")) is not None and not _MEDIA_KEYS.isdisjoint(keys)


def parse(data: dict[str, Any], hint: MediaKind | None) -> MediaItem | None:
    f = folded(data)
    kind_word = next((f[k] for k in ("kind", "mediatype", "type", "titletype") if k in f), None)
    if isinstance(kind_word, str) and kind_word.lower() in _NOT_TITLES:
        return None
    kind = kind_from(kind_word) or hint
    if kind is None:
        kind = SERIES if any(key in f for key in _SERIES_HINTS) else MOVIE
    year = next((y for k in _YEARS if (y := parse_year(f.get(k)))), None)
    year = year or next((y for k in _DATES if (y := parse_year(f.get(k)))), None)
    seasons, episodes = f.get("seasons"), f.get("episodes")
    id_pairs = list(data.items())
    for holder in _ID_HOLDERS:
        if isinstance(f.get(holder), dict):
            id_pairs += list(f[holder].items())
    return build_item(
        kind,
        title=next((f[k] for k in _TITLES if text(f.get(k))), None),
        original_title=next((f[k] for k in _ORIGINALS if text(f.get(k))), None),
        aliases=names(
            f.get("aliases") or f.get("akas") or f.get("alternativetitles"), "title", "name"
        ),
        year=year,
        directors=names(
            f.get("directors") or f.get("director") or f.get("createdby") or f.get("creators")
        ),
        seasons=_season_count(f, seasons),
        episodes=_first_count(f, "numberofepisodes", "totalepisodes", "episodecount", "episodes"),
        episode_list=_episodes(episodes, seasons),
        network=first_name(f.get("network") or f.get("networks") or f.get("webchannel")),
        genres=names(f.get("genres") or f.get("genre")),
        runtime_minutes=runtime(f.get("runtime") or f.get("runtimeminutes") or f.get("duration")),
        id_pairs=ids((k, v) for k, v in id_pairs if isinstance(k, str)),
    )


def _first_count(f: dict[str, Any], *keys: str) -> int | None:
    return next((n for k in keys if (n := count(f.get(k))) is not None), None)


def _season_count(f: dict[str, Any], seasons: Any) -> int | None:
    explicit = _first_count(f, "numberofseasons", "totalseasons", "seasoncount")
    if explicit is not None or not isinstance(seasons, list):
        return explicit if explicit is not None else count(seasons)
    return len([s for s in seasons if _season_number(s) != 0]) or None  # 0 = specials


def _season_number(season: Any) -> int | None:
    if isinstance(season, dict):
        f = folded(season)
        return count(f.get("seasonnumber", f.get("number", f.get("season"))))
    return count(season)


def _episodes(episodes: Any, seasons: Any) -> list[Episode]:
    """Episodes listed at the top level or inside each season object."""
    found: list[tuple[Any, dict[str, Any]]] = []
    if isinstance(episodes, list):
        found += [(None, e) for e in episodes if isinstance(e, dict)]
    if isinstance(seasons, list):
        for season in seasons:
            inner = folded(season).get("episodes") if isinstance(season, dict) else None
            if isinstance(inner, list):
                number = _season_number(season)
                found += [(number, e) for e in inner if isinstance(e, dict)]
    out = []
    for season_number, raw in found:
        e = folded(raw)
        out.append(
            episode(
                e.get("season", e.get("seasonnumber", season_number)),
                e.get("number", e.get("episode", e.get("episodenumber"))),
                e.get("name", e.get("title")),
                e.get("airdate", e.get("aired", e.get("firstaired", e.get("date")))),
            )
        )
    return out
