"""MediaItem is immutable plain data; results serialise to JSON."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from atlas_tui.media import Episode, MediaItem, merge_items, search_media

Write = Callable[[str, Any], Path]


def test_media_item_is_frozen_and_hashable() -> None:
    item = MediaItem(kind="movie", title="Alien", year=1979, directors=("Ridley Scott",))
    with pytest.raises(dataclasses.FrozenInstanceError):
        item.title = "Aliens"  # type: ignore[misc]
    assert hash(item) == hash(MediaItem(kind="movie", title="Alien", year=1979,
                                        directors=("Ridley Scott",)))  # fmt: skip
    assert all(
        not isinstance(getattr(item, f.name), (list, dict)) for f in dataclasses.fields(item)
    )


def test_round_trip_through_to_dict() -> None:
    item = MediaItem(
        kind="series",
        title="Girls",
        year=2012,
        seasons=1,
        episodes=1,
        episode_list=(Episode(1, 1, "Pilot", "2012-04-15"),),
        network="HBO",
        ids=(("imdb", "tt1723816"),),
        sources=("/x/girls.json",),
    )
    data = item.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["ids"] == {"imdb": "tt1723816"}
    assert MediaItem.from_dict(data) == item
    assert item.id("imdb") == "tt1723816" and item.id("tmdb") is None


def test_merge_keeps_every_source_and_unites_lists() -> None:
    a = MediaItem("movie", "Alien", year=1979, genres=("Horror",), sources=("a.json",))
    b = MediaItem(
        "movie",
        "ALIEN",
        year=1979,
        runtime=117,
        directors=("Ridley Scott",),
        genres=("Horror", "Sci-Fi"),
        ids=(("imdb", "tt0078748"),),
        sources=("b.json",),
    )
    merged = merge_items([a, b])
    assert merged.sources == ("a.json", "b.json")
    assert (merged.title, merged.runtime, merged.genres) == ("ALIEN", 117, ("Horror", "Sci-Fi"))
    assert merged.aliases == ()  # "Alien" differs from "ALIEN" only in case


def test_search_result_to_dict(write: Write, root: Path) -> None:
    write("a.json", {"title": "Alien", "year": 1979})
    write("bad.json", "{")
    data = search_media("alien", root).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["query"] == "alien"
    assert [(m["match"], m["score"], m["item"]["title"]) for m in data["matches"]] == [
        ("exact", 100.0, "Alien")
    ]
    assert data["warnings"][0]["path"] == str(root / "bad.json")
    assert data["stats"]["files_found"] == 2
