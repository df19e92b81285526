"""Rank titles against a query: exact, normalised, prefix/substring, then fuzzy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from rapidfuzz import fuzz, process

from atlas_tui.media.models import MediaItem
from atlas_tui.media.normalize import exact_key, normal_key

# rapidfuzz token_sort_ratio of the normalised keys (0-100, word order ignored). 80 lets
# one wrong letter in five through ("Fargo"/"Cargo") and a swapped pair in ten
# ("Inceptoin"); it is only consulted when nothing matched any other way.
FUZZY_CUTOFF = 80.0

MatchKind = Literal["exact", "normalized", "prefix", "substring", "fuzzy"]
_TIERS: tuple[MatchKind, ...] = ("exact", "normalized", "prefix", "substring", "fuzzy")

# A search key: [field rank (0 title, 1 original title, 2 alias), exact key, normal key].
SearchKey = list[Any]


def search_keys(item: MediaItem) -> list[SearchKey]:
    """The keys ``item`` is found by; the title's key comes first."""
    out: list[SearchKey] = []
    seen: set[str] = set()
    names = [(0, item.title), (1, item.original_title), *((2, a) for a in item.aliases)]
    for rank, name in names:
        if name:
            exact = exact_key(name)
            if exact not in seen:
                seen.add(exact)
                out.append([rank, exact, normal_key(name)])
    return out


class Matcher:
    """Lookup tables over groups of search keys; built once, queried many times."""

    def __init__(
        self,
        keys: Sequence[Sequence[SearchKey]],
        kinds: Sequence[str],
        years: Sequence[int | None],
    ) -> None:
        self._kinds = kinds
        self._years = years
        self._exact: dict[str, list[tuple[int, int]]] = {}
        self._normal: dict[str, list[tuple[int, int]]] = {}
        self._titles: list[str] = []
        self.keys: list[str] = []  # distinct normal keys per group, for substring and fuzzy
        self._owners: list[tuple[int, int]] = []
        for group, group_keys in enumerate(keys):
            self._titles.append(group_keys[0][1] if group_keys else "")
            seen: set[str] = set()
            for rank, exact, normal in group_keys:
                self._exact.setdefault(exact, []).append((group, rank))
                if normal and normal not in seen:
                    seen.add(normal)
                    self._normal.setdefault(normal, []).append((group, rank))
                    self.keys.append(normal)
                    self._owners.append((group, rank))

    def match(
        self,
        query: str,
        *,
        kind: str | None = None,
        year: int | None = None,
        cutoff: float = FUZZY_CUTOFF,
    ) -> list[tuple[int, MatchKind, float]]:
        """(group, how it matched, score 0-100) for every matching group, best first."""
        exact, normal = exact_key(query), normal_key(query)
        if not exact:
            return []
        best: dict[int, tuple[Any, ...]] = {}

        def offer(group: int, tier: int, score: float, rank: int, length: int) -> None:
            if kind is not None and self._kinds[group] != kind:
                return
            if year is not None and self._years[group] != year:
                return
            newest_first = -(self._years[group] or 0)
            key = (tier, -score, rank, length, self._titles[group], newest_first, group)
            if group not in best or key < best[group]:
                best[group] = key

        for group, rank in self._exact.get(exact, ()):
            offer(group, 0, 100.0, rank, 0)
        if normal:
            for group, rank in self._normal.get(normal, ()):
                offer(group, 1, 100.0, rank, 0)
            for index, key in enumerate(self.keys):
                if normal in key:
                    group, rank = self._owners[index]
                    tier = 2 if key.startswith(normal) else 3
                    offer(group, tier, round(100 * len(normal) / len(key), 1), rank, len(key))
            if not best:
                found = process.extract(
                    normal,
                    self.keys,
                    scorer=fuzz.token_sort_ratio,
                    score_cutoff=cutoff,
                    limit=None,
                )
                for _choice, score, index in found:
                    group, rank = self._owners[index]
                    offer(group, 4, round(score, 1), rank, len(self.keys[index]))
        ranked = sorted(best.values())
        return [(key[-1], _TIERS[key[0]], -key[1]) for key in ranked]
