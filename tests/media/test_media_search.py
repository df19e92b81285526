"""Searching: match tiers best first, filters, fuzzy fallback and merged duplicates."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from atlas_tui.media import FUZZY_CUTOFF, find_media, normal_key, search_media

Write = Callable[[str, Any], Path]


@pytest.fixture
def shelf(write: Write) -> Path:
    write(
        "movies.json",
        [
            {"title": "Alien", "year": 1979, "imdb": "tt0078748"},
            {"title": "Aliens", "year": 1986},
            {"title": "Alien³", "year": 1992},
            {"title": "Amélie", "original_title": "Le Fabuleux Destin d'Amélie Poulain",
             "year": 2001},
            {"title": "Crouching Tiger, Hidden Dragon", "original_title": "卧虎藏龙",
             "year": 2000},
            {"title": "Fast & Furious", "year": 2009},
            {"title": "Matrix, The", "year": 1999},
            {"title": "Heat", "year": 1995},
            {"title": "Heat", "year": 1986},
            {"title": "The Predator", "year": 2018},
            {"title": "Se7en", "year": 1995, "aliases": ["Seven"]},
            {"title": "Cowboys & Aliens", "year": 2011},
        ],
    )  # fmt: skip
    write("shows.json", {"shows": [{"title": "Alien Nation", "year": 1989},
                                   {"title": "Heat", "year": 1995}]})  # fmt: skip
    return write("x.json", {}).parent


def ranked(result: Any) -> list[tuple[str, str]]:
    return [(m.item.title, m.match) for m in result.matches]


def test_tiers_exact_then_prefix_then_substring(shelf: Path) -> None:
    result = search_media("alien", shelf)
    assert ranked(result) == [
        ("Alien", "exact"),
        ("Alien³", "prefix"),  # as long as "Aliens": ties go by title
        ("Aliens", "prefix"),
        ("Alien Nation", "prefix"),  # longer, so less of it matched
        ("Cowboys & Aliens", "substring"),
    ]


def test_normalised_match_ignores_case_accents_punctuation_and_articles(shelf: Path) -> None:
    assert ranked(search_media("AMELIE", shelf)) == [("Amélie", "normalized")]
    assert ranked(search_media("the matrix", shelf)) == [("Matrix, The", "normalized")]
    assert ranked(search_media("matrix", shelf)) == [("Matrix, The", "normalized")]
    assert ranked(search_media("fast and furious", shelf)) == [("Fast & Furious", "normalized")]
    assert ranked(search_media("crouching tiger - hidden dragon!", shelf)) == [
        ("Crouching Tiger, Hidden Dragon", "normalized")
    ]
    assert ranked(search_media("a predator", shelf)) == [("The Predator", "normalized")]


def test_exact_match_uses_nfkc_and_casefold(shelf: Path) -> None:
    full_width = "\uff21\uff2c\uff29\uff25\uff2e"  # "ALIEN" in full-width letters
    assert ranked(search_media(full_width, shelf))[0] == ("Alien", "exact")
    assert ranked(search_media("alien3", shelf)) == [("Alien³", "exact")]  # NFKC: ³ is 3


def test_original_title_and_aliases_are_searched(shelf: Path) -> None:
    assert ranked(search_media("卧虎藏龙", shelf)) == [("Crouching Tiger, Hidden Dragon", "exact")]
    assert ranked(search_media("fabuleux destin", shelf)) == [("Amélie", "substring")]
    assert ranked(search_media("seven", shelf)) == [("Se7en", "exact")]


def test_fuzzy_only_when_nothing_else_matched(shelf: Path) -> None:
    typo = search_media("Amelei", shelf)
    assert ranked(typo) == [("Amélie", "fuzzy")]
    assert FUZZY_CUTOFF <= typo.matches[0].score < 100
    # "heat" matches exactly, so near misses such as "Seat"-like titles are never offered.
    assert {m.match for m in search_media("heat", shelf).matches} == {"exact"}


def test_fuzzy_cut_off(shelf: Path) -> None:
    assert FUZZY_CUTOFF >= 80
    assert search_media("Predatr", shelf).items[0].title == "The Predator"
    assert search_media("Pretador Xyz", shelf).matches == ()
    assert search_media("Amelei", shelf, fuzzy_cutoff=95).matches == ()


def test_kind_and_year_filters(shelf: Path) -> None:
    heat = search_media("heat", shelf)
    assert [(i.kind, i.year) for i in heat.items] == [
        ("movie", 1995),
        ("series", 1995),
        ("movie", 1986),
    ]
    assert [i.year for i in search_media("heat", shelf, kind="movie").items] == [1995, 1986]
    assert [i.kind for i in search_media("heat", shelf, year=1995).items] == ["movie", "series"]
    assert [i.title for i in search_media("alien", shelf, kind="series").items] == ["Alien Nation"]
    assert search_media("alien", shelf, year=1900).matches == ()


def test_filters_apply_before_the_fuzzy_fallback(shelf: Path) -> None:
    assert ranked(search_media("Alien Nation", shelf, kind="movie")) == []
    assert ranked(search_media("Alein Nation", shelf, kind="series")) == [("Alien Nation", "fuzzy")]


def test_limit(shelf: Path) -> None:
    assert len(search_media("alien", shelf, limit=2)) == 2
    assert len(search_media("alien", shelf, limit=0)) == 0


def test_bad_arguments_are_value_errors(shelf: Path) -> None:
    with pytest.raises(ValueError, match="kind"):
        search_media("alien", shelf, kind="book")
    with pytest.raises(ValueError, match="limit"):
        search_media("alien", shelf, limit=-1)


def test_blank_query_matches_nothing(shelf: Path) -> None:
    assert search_media("   ", shelf).matches == ()


def test_find_media_returns_the_best_item_or_none(shelf: Path) -> None:
    found = find_media("Alien", shelf)
    assert found is not None
    assert (found.title, found.year) == ("Alien", 1979)
    assert find_media("Completely Unknown Title Zzz", shelf) is None
    series = find_media("heat", shelf, kind="series")
    assert series is not None and series.kind == "series"


def test_normal_key_rules() -> None:
    assert normal_key("The Matrix") == "matrix"
    assert normal_key("Matrix, The") == "matrix"
    assert normal_key("A Beautiful Mind") == "beautiful mind"
    assert normal_key("An Education") == "education"
    assert normal_key("The The") == "the"
    assert normal_key("Amélie & Nino") == "amelie and nino"
    assert normal_key("Léon: The Professional") == "leon the professional"
    assert normal_key("  Spider-Man:   No_Way   Home ") == "spider man no way home"
    assert normal_key("Ørnen") == "ornen"
    assert normal_key("!!!") == ""


# --- duplicates across files -------------------------------------------------------------


def test_same_imdb_id_merges_across_formats(write: Write, root: Path) -> None:
    write("omdb.json", {"Title": "Amelie", "Year": "2001", "Type": "movie",
                        "imdbID": "tt0211915", "Director": "Jean-Pierre Jeunet"})  # fmt: skip
    write("jf/items.json", {"Items": [{"Name": "Amélie", "Type": "Movie", "ProductionYear": 2001,
                             "OriginalTitle": "Le Fabuleux Destin d'Amélie Poulain",
                             "RunTimeTicks": 73200000000,
                             "ProviderIds": {"Imdb": "tt0211915", "Tmdb": "194"}}]})  # fmt: skip
    result = search_media("amelie", root)
    (item,) = result.items
    assert set(item.sources) == {str(root / "omdb.json"), str(root / "jf" / "items.json")}
    assert item.title == "Amélie"  # the richer record names the title
    assert "Amelie" in item.aliases
    assert (item.runtime, item.directors) == (122, ("Jean-Pierre Jeunet",))
    assert dict(item.ids) == {"imdb": "tt0211915", "tmdb": "194"}


def test_same_tvdb_id_merges_series(write: Write, root: Path) -> None:
    write("tvshow.nfo", "<tvshow><title>The Wire</title><season>5</season>"
                        "<uniqueid type='tvdb'>79126</uniqueid></tvshow>")  # fmt: skip
    write("maze.json", {"name": "The Wire", "premiered": "2002-06-02",
                        "network": {"name": "HBO"}, "externals": {"thetvdb": 79126}})  # fmt: skip
    (item,) = search_media("wire", root).items
    assert (item.year, item.seasons, item.network, len(item.sources)) == (2002, 5, "HBO", 2)


def test_same_normalised_title_and_year_merge(write: Write, root: Path) -> None:
    write("a.json", {"title": "The Matrix", "year": 1999})
    write("b.nfo", "<movie><title>Matrix, The</title><year>1999</year></movie>")
    write("c.ndjson", [{"Title": "THE MATRIX", "release_date": "1999-03-31"}])
    (item,) = search_media("matrix", root).items
    assert len(item.sources) == 3


def test_same_title_different_years_stay_apart(write: Write, root: Path) -> None:
    write("a.json", {"title": "Heat", "year": 1995})
    write("b.json", {"title": "Heat", "year": 1986})
    write("c.json", {"title": "Heat"})  # no year: cannot be matched to either
    assert sorted((i.year or 0) for i in search_media("heat", root).items) == [0, 1986, 1995]


def test_movie_and_series_with_one_title_stay_apart(write: Write, root: Path) -> None:
    write("a.json", {"title": "Fargo", "year": 1996, "kind": "movie"})
    write("b.json", {"title": "Fargo", "year": 1996, "kind": "series"})
    assert sorted(i.kind for i in search_media("fargo", root).items) == ["movie", "series"]


def test_same_title_and_year_but_different_imdb_ids_stay_apart(write: Write, root: Path) -> None:
    write("a.json", {"title": "Twins", "year": 1988, "imdb": "tt0096320"})
    write("b.json", {"title": "Twins", "year": 1988, "imdb": "tt9999999"})
    assert len(search_media("twins", root).items) == 2


def test_a_query_of_only_an_article_finds_titles_that_begin_with_it(
    write: Write, root: Path
) -> None:
    write("movies.json", [{"title": "The Matrix", "year": 1999},
                          {"title": "Theory of Flight", "year": 1998},
                          {"title": "Alien", "year": 1979}])  # fmt: skip
    write("tvshow.nfo", "<tvshow><title>The Wire</title><year>2002</year></tvshow>")
    found = search_media("the", root)
    assert sorted(m.item.title for m in found.matches) == ["The Matrix", "The Wire"]
    assert {m.match for m in found.matches} == {"prefix"}
    assert [m.item.title for m in search_media("The ", root).matches] == ["The Wire", "The Matrix"]


def test_a_reading_without_a_year_joins_the_one_year_its_title_is_known_by(
    write: Write, root: Path
) -> None:
    write("The Wire/tvshow.nfo", "<tvshow><title>The Wire</title><season>5</season></tvshow>")
    write("lists/shows.json", {"shows": [{"title": "The Wire", "year": 2002,
                                          "network": "HBO"}]})  # fmt: skip
    (item,) = search_media("wire", root).items
    assert (item.kind, item.year, item.seasons, item.network) == ("series", 2002, 5, "HBO")
    assert len(item.sources) == 2


def test_a_very_short_query_finds_titles_beginning_with_it(write: Write, root: Path) -> None:
    write("movies.json", [{"title": "Heat", "year": 1995}, {"title": "Amélie", "year": 2001},
                          {"title": "The Matrix", "year": 1999}, {"title": "Ma", "year": 2019},
                          {"title": "Cinema Paradiso", "year": 1988}])  # fmt: skip
    found = search_media("ma", root)
    assert [(m.item.title, m.match) for m in found.matches] == [
        ("Ma", "exact"),
        ("The Matrix", "prefix"),  # "the" is not part of the normalised title
    ]
    assert [m.item.title for m in search_media("A", root).matches] == ["Amélie"]
