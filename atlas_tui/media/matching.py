"""Rank titles against a query: exact, normalised, prefix/substring, then fuzzy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from rapidfuzz import fuzz, process

from atlas_tui.media.models import MediaItem
from atlas_tui.media.normalize import exact_key, normal_key

# rapidfuzz fuzz.ratio (Indel similarity, 0-100) of the normalised keys. 80 lets
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
    """Lookup tables over groups (merged titles); built once, queried many times.

    The tables are plain lists and dicts so that the index cache can store them as they
    are; ``(group, rank)`` pairs are kept flat (``[g0, r0, g1, r1, ...]``) to keep that
    cache small and quick to load.
    """

    def __init__(self, state: dict[str, Any]) -> None:
        self.exact: dict[str, list[int]] = state["exact"]
        self.normal: dict[str, list[int]] = state["normal"]
        self.keys: list[str] = state["keys"]
        self.owners: list[int] = state["owners"]
        self.kinds: list[str] = state["kinds"]
        self.years: list[int | None] = state["years"]
        self.titles: list[str] = state["titles"]

    @classmethod
    def build(
        cls,
        keys: Sequence[Sequence[SearchKey]],
        kinds: list[str],
        years: list[int | None],
    ) -> Matcher:
        """Tables for groups whose search keys, kinds and years are given in order."""
        exact: dict[str, list[int]] = {}
        normal: dict[str, list[int]] = {}
        normals: list[str] = []
        owners: list[int] = []
        titles: list[str] = []
        for group, group_keys in enumerate(keys):
            titles.append(group_keys[0][1] if group_keys else "")
            seen: set[str] = set()
            for rank, exact_text, normal_text in group_keys:
                exact.setdefault(exact_text, []).extend((group, rank))
                if normal_text and normal_text not in seen:
                    seen.add(normal_text)
                    normal.setdefault(normal_text, []).extend((group, rank))
                    normals.append(normal_text)
                    owners.extend((group, rank))
        return cls(
            {
                "exact": exact,
                "normal": normal,
                "keys": normals,
                "owners": owners,
                "kinds": kinds,
                "years": years,
                "titles": titles,
            }
        )

    def state(self) -> dict[str, Any]:
        """The tables as plain data, for the cache."""
        return {
            "exact": self.exact,
            "normal": self.normal,
            "keys": self.keys,
            "owners": self.owners,
            "kinds": self.kinds,
            "years": self.years,
            "titles": self.titles,
        }

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
        kinds, years = self.kinds, self.years

        def offer(group: int, tier: int, score: float, rank: int, length: int) -> None:
            if (kind is not None and kinds[group] != kind) or (
                year is not None and years[group] != year
            ):
                return
            newest_first = -(years[group] or 0)
            key = (tier, -score, rank, length, self.titles[group], newest_first, group)
            if group not in best or key < best[group]:
                best[group] = key

        pairs = self.exact.get(exact, [])
        for i in range(0, len(pairs), 2):
            offer(pairs[i], 0, 100.0, pairs[i + 1], 0)
        if normal:
            pairs = self.normal.get(normal, [])
            for i in range(0, len(pairs), 2):
                offer(pairs[i], 1, 100.0, pairs[i + 1], 0)
            owners = self.owners
            for index, key in enumerate(self.keys):
                if normal in key:
                    tier = 2 if key.startswith(normal) else 3
                    score = round(100 * len(normal) / len(key), 1)
                    offer(owners[2 * index], tier, score, owners[2 * index + 1], len(key))
            if not best:
                found = process.extract(
                    normal, self.keys, scorer=fuzz.ratio, score_cutoff=cutoff, limit=None
                )
                for _choice, score, index in found:
                    group, rank = owners[2 * index], owners[2 * index + 1]
                    offer(group, 4, round(score, 1), rank, len(self.keys[index]))
        ranked = sorted(best.values())
        return [(key[-1], _TIERS[key[0]], -key[1]) for key in ranked]
