"""Decide which items read from different files are the same title, and merge them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from atlas_tui.media.adapters._common import dedupe
from atlas_tui.media.models import Episode, MediaItem

MERGE_IDS = ("imdb", "tmdb", "tvdb")


def merge_ids(item: MediaItem) -> dict[str, str]:
    """The ids that identify a title across files, compared without case."""
    return {key: value.casefold() for key, value in item.ids if key in MERGE_IDS}


def group_records(
    kinds: Sequence[str],
    years: Sequence[int | None],
    ids: Sequence[dict[str, str]],
    titles: Sequence[str],
) -> list[list[int]]:
    """Indexes of records (given as parallel lists of kind, year, :func:`merge_ids` and
    normalised title) grouped into titles, in order of each group's first record.

    Same kind plus the same imdb, tmdb or tvdb id is one title; so is same kind, same
    normalised title and the same known year, unless the two sides carry different ids
    for the same site (two films that share a name and a year are still two films). A
    record with no year joins the one year its title and kind are known by; when they are
    known by two years it stays apart, since it could be either.
    """
    parent = list(range(len(kinds)))
    group_ids: dict[int, dict[str, str]] = {}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(a: int, b: int, check: bool) -> None:
        ra, rb = find(a), find(b)
        if ra == rb:
            return
        ids_a, ids_b = group_ids.get(ra, {}), group_ids.get(rb, {})
        if check and any(ids_a[k] != v for k, v in ids_b.items() if k in ids_a):
            return
        low, high = min(ra, rb), max(ra, rb)
        parent[high] = low
        group_ids[low] = {**ids_b, **ids_a} if low == ra else {**ids_a, **ids_b}
        group_ids.pop(high, None)

    first: dict[tuple[Any, ...], int] = {}
    for i, known in enumerate(ids):
        if known:
            group_ids[i] = known
            for source, value in known.items():
                other = first.setdefault((kinds[i], source, value), i)
                if other != i:
                    union(other, i, check=False)
    known_years: dict[tuple[str, str], set[int]] = {}
    for i, title in enumerate(titles):
        year = years[i]
        if year is not None and title:
            known_years.setdefault((kinds[i], title), set()).add(year)
            other = first.setdefault((kinds[i], title, year), i)
            if other != i:
                union(other, i, check=True)
    # A reading without a year (an .nfo that leaves it out) is the same title as the
    # readings with one only when they all agree on it: with two years it could be either.
    for i, title in enumerate(titles):
        if years[i] is None and title:
            seen = known_years.get((kinds[i], title), set())
            if len(seen) <= 1:
                key = (kinds[i], title, next(iter(seen), None))
                other = first.setdefault(key, i)
                if other != i:
                    union(other, i, check=True)
    groups: dict[int, list[int]] = {}
    for i, root in enumerate(parent):
        if parent[root] != root:  # most records are their own group, or one step away
            root = find(i)
        groups.setdefault(root, []).append(i)
    return list(groups.values())


def merge_items(items: Sequence[MediaItem]) -> MediaItem:
    """One item from several readings of the same title.

    The reading with the most facts wins each single-valued field (earlier files break
    ties), so a bare ``{"title": "Matrix, The"}`` does not rename TMDb's "The Matrix".
    Lists are united, episodes too (season files add theirs to the series); counts take
    the highest, counting the united episode list (a show only grows); other titles seen
    become aliases; ``sources`` lists every file, in the order given.
    """
    if len(items) == 1:
        return items[0]
    sources = tuple(dict.fromkeys(s for i in items for s in i.sources))
    # A season or episode file has no title of its own: it never names the series.
    items = sorted(items, key=lambda i: (bool(i.title), _richness(i)), reverse=True)
    episode_list = _episodes(items)
    regular = [e for e in episode_list if e.season != 0]
    listed_seasons = len({e.season for e in regular if e.season}) or None
    head = items[0]
    original = next((i.original_title for i in items if i.original_title), None)
    known = {head.title.casefold(), (original or "").casefold()}
    names = [n for i in items for n in (i.title, i.original_title or "", *i.aliases) if n]
    ids: dict[str, str] = {}
    for item in items:
        for key, value in item.ids:
            ids.setdefault(key, value)
    return MediaItem(
        kind=head.kind,
        title=head.title,
        original_title=original,
        aliases=tuple(n for n in dedupe(names) if n.casefold() not in known),
        year=next((i.year for i in items if i.year is not None), None),
        directors=dedupe(n for i in items for n in i.directors),
        seasons=_most([*(i.seasons for i in items), listed_seasons]),
        episodes=_most([*(i.episodes for i in items), len(regular) or None]),
        episode_list=episode_list,
        network=next((i.network for i in items if i.network), None),
        genres=dedupe(n for i in items for n in i.genres),
        runtime=next((i.runtime for i in items if i.runtime), None),
        ids=tuple(sorted(ids.items())),
        sources=sources,
    )


def _richness(item: MediaItem) -> int:
    """How many facts a reading holds; ``sorted`` is stable, so ties keep file order."""
    return sum(1 for key, value in item.to_dict().items() if value and key != "sources")


def _most(counts: list[int | None]) -> int | None:
    return max((c for c in counts if c is not None), default=None)


def _episodes(items: Sequence[MediaItem]) -> tuple[Episode, ...]:
    """Every reading's episodes, each (season, number) once, in season and number order;
    a single reading's list is kept exactly as read."""
    lists = [i.episode_list for i in items if i.episode_list]
    if len(lists) <= 1:
        return lists[0] if lists else ()
    found: dict[Any, Episode] = {}
    for episodes in lists:
        for e in episodes:
            key = (e.season, e.number) if e.season is not None and e.number is not None else e
            found.setdefault(key, e)
    return tuple(sorted(found.values(), key=lambda e: (e.season or 0, e.number or 0)))
