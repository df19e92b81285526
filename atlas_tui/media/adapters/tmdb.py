"""TMDb movie details and TV details (also the entries of TMDb search results), and TMDb
season and episode details, which are parts of a series rather than titles."""

from __future__ import annotations

from typing import Any

from atlas_tui.media.adapters._common import (
    build_item,
    count,
    episode,
    first_name,
    ids,
    names,
    runtime,
)
from atlas_tui.media.models import MOVIE, SERIES, Episode, MediaItem, MediaKind
from atlas_tui.media.years import parse_year

_TV_KEYS = ("first_air_date", "original_name", "number_of_seasons", "number_of_episodes")


def detect(data: dict[str, Any]) -> bool:
    # TMDb always sends its numeric id; without it, these common key names are generic.
    if not isinstance(data.get("id"), int):
        return False
    if "title" in data and ("release_date" in data or "original_title" in data):
        return True
    return "name" in data and any(key in data for key in _TV_KEYS)


def parse(data: dict[str, Any], hint: MediaKind | None) -> MediaItem | None:
    is_tv = data.get("media_type") == "tv" or any(key in data for key in _TV_KEYS)
    id_pairs = [("tmdb", data.get("id")), ("imdb", data.get("imdb_id"))]
    external = data.get("external_ids")
    if isinstance(external, dict):
        id_pairs += [(key.removesuffix("_id"), value) for key, value in external.items()]
    alternatives = data.get("alternative_titles")
    aliases: list[str] = []
    if isinstance(alternatives, dict):
        aliases = names(alternatives.get("titles") or alternatives.get("results"), "title")
    genres = names(data.get("genres"))
    if not is_tv:
        credits = data.get("credits")
        crew = credits.get("crew") if isinstance(credits, dict) else None
        directors = names(
            [c for c in crew or [] if isinstance(c, dict) and c.get("job") == "Director"]
        )
        return build_item(
            MOVIE,
            title=data.get("title"),
            original_title=data.get("original_title"),
            aliases=aliases,
            year=parse_year(data.get("release_date")),
            directors=directors,
            genres=genres,
            runtime_minutes=runtime(data.get("runtime")),
            id_pairs=ids(id_pairs),
        )
    seasons = [s for s in data.get("seasons") or [] if isinstance(s, dict)]
    regular = [s for s in seasons if count(s.get("season_number")) != 0]
    season_count = count(data.get("number_of_seasons"))
    episode_count = count(data.get("number_of_episodes"))
    if season_count is None and regular:
        season_count = len(regular)
    if episode_count is None and regular:
        episode_count = sum(count(s.get("episode_count")) or 0 for s in regular) or None
    run_times = data.get("episode_run_time")
    return build_item(
        SERIES,
        title=data.get("name"),
        original_title=data.get("original_name"),
        aliases=aliases,
        year=parse_year(data.get("first_air_date")),
        directors=names(data.get("created_by")),
        seasons=season_count,
        episodes=episode_count,
        episode_list=_episodes(seasons),
        network=first_name(data.get("networks")),
        genres=genres,
        runtime_minutes=runtime(
            run_times[0] if isinstance(run_times, list) and run_times else None
        ),
        id_pairs=ids(id_pairs),
    )


def _episodes(seasons: list[dict[str, Any]]) -> list[Episode]:
    """Episodes embedded in season details (``append_to_response`` output), if any."""
    return [
        episode(e.get("season_number"), e.get("episode_number"), e.get("name"), e.get("air_date"))
        for season in seasons
        for e in season.get("episodes") or []
        if isinstance(e, dict)
    ]


def is_part(data: dict[str, Any]) -> bool:
    """TMDb season details (``season_number`` with ``episodes``) or episode details
    (``episode_number`` with ``season_number`` and ``crew``/``still_path``/``guest_stars``)."""
    if not isinstance(data.get("season_number"), int) or "number_of_seasons" in data:
        return False
    if isinstance(data.get("episodes"), list) and "first_air_date" not in data:
        return True
    return isinstance(data.get("episode_number"), int) and any(
        key in data for key in ("crew", "still_path", "guest_stars")
    )


def parse_part(data: dict[str, Any]) -> MediaItem:
    """A season or episode as a title-less series holding its episodes: it is never found
    on its own, only merged into its series (by the show's TMDb id, or by folder)."""
    if isinstance(data.get("episode_number"), int):
        found = [data]
    else:
        found = [e for e in data.get("episodes") or [] if isinstance(e, dict)]
    show = next(
        (e.get("show_id") for e in [data, *found] if isinstance(e.get("show_id"), int)), None
    )
    episodes = tuple(
        episode(e.get("season_number"), e.get("episode_number"), e.get("name"), e.get("air_date"))
        for e in found
    )
    regular = [e for e in episodes if e.season != 0]
    return MediaItem(
        kind=SERIES,
        title="",
        seasons=len({e.season for e in regular}) or None,
        episodes=len(regular) or None,
        episode_list=episodes,
        ids=ids([("tmdb", show)]),
    )
