"""Every supported file format is recognised by its shape and read into the same facts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from atlas_tui.media import MediaItem, load_index

Write = Callable[[str, Any], Path]


def only_item(root: Path) -> MediaItem:
    index = load_index(root)
    assert not index.warnings, index.warnings
    (item,) = index.items
    return item


def titles(root: Path) -> list[str]:
    return sorted(item.title for item in load_index(root).items)


def test_tmdb_movie(root: Path, write: Write) -> None:
    write(
        "tmdb/603.json",
        {
            "id": 603,
            "imdb_id": "tt0133093",
            "title": "The Matrix",
            "original_title": "The Matrix",
            "release_date": "1999-03-31",
            "runtime": 136,
            "genres": [{"id": 28, "name": "Action"}, {"id": 878, "name": "Science Fiction"}],
            "credits": {
                "cast": [{"name": "Keanu Reeves", "character": "Neo"}],
                "crew": [
                    {"name": "Lana Wachowski", "job": "Director"},
                    {"name": "Lilly Wachowski", "job": "Director"},
                    {"name": "Joel Silver", "job": "Producer"},
                ],
            },
        },
    )
    item = only_item(root)
    assert (item.kind, item.title, item.year, item.runtime) == ("movie", "The Matrix", 1999, 136)
    assert item.directors == ("Lana Wachowski", "Lilly Wachowski")
    assert item.genres == ("Action", "Science Fiction")
    assert dict(item.ids) == {"imdb": "tt0133093", "tmdb": "603"}
    assert item.sources == (str(root / "tmdb" / "603.json"),)


def test_tmdb_tv_counts_and_network(root: Path, write: Write) -> None:
    write(
        "tv.json",
        {
            "id": 1396,
            "name": "Breaking Bad",
            "original_name": "Breaking Bad",
            "first_air_date": "2008-01-20",
            "number_of_seasons": 5,
            "number_of_episodes": 62,
            "networks": [{"id": 174, "name": "AMC"}],
            "created_by": [{"name": "Vince Gilligan"}],
            "external_ids": {"imdb_id": "tt0903747", "tvdb_id": 81189},
            "seasons": [{"season_number": 0, "episode_count": 9}],
        },
    )
    item = only_item(root)
    assert (item.kind, item.year, item.seasons, item.episodes) == ("series", 2008, 5, 62)
    assert item.network == "AMC"
    assert item.directors == ("Vince Gilligan",)
    assert dict(item.ids) == {"imdb": "tt0903747", "tmdb": "1396", "tvdb": "81189"}


def test_tmdb_tv_counts_seasons_without_specials_when_no_count(root: Path, write: Write) -> None:
    seasons = [{"season_number": n, "episode_count": c} for n, c in [(0, 4), (1, 8), (2, 9)]]
    write(
        "tv.json", {"id": 70523, "name": "Dark", "first_air_date": "2017-12-01", "seasons": seasons}
    )
    item = only_item(root)
    assert (item.seasons, item.episodes) == (2, 17)


def test_omdb_movie_with_na_values(root: Path, write: Write) -> None:
    write(
        "omdb.json",
        {
            "Title": "Inception",
            "Year": "2010",
            "Runtime": "148 min",
            "Genre": "Action, Adventure, Sci-Fi",
            "Director": "N/A",
            "Type": "movie",
            "imdbID": "tt1375666",
            "Response": "True",
        },
    )
    item = only_item(root)
    assert (item.title, item.year, item.runtime, item.directors) == ("Inception", 2010, 148, ())
    assert item.genres == ("Action", "Adventure", "Sci-Fi")
    assert item.id("imdb") == "tt1375666"


@pytest.mark.parametrize(("year_text", "year"), [("2017\u2013", 2017), ("2007\u20132019", 2007)])
def test_omdb_series_year_ranges(root: Path, write: Write, year_text: str, year: int) -> None:
    write(
        "omdb.json",
        {
            "Title": "The Office",
            "Year": year_text,
            "Director": "Greg Daniels, Ricky Gervais",
            "Type": "series",
            "totalSeasons": "9",
            "Runtime": "N/A",
            "imdbID": "tt0386676",
        },
    )
    item = only_item(root)
    assert (item.kind, item.year, item.seasons, item.runtime) == ("series", year, 9, None)
    assert item.directors == ("Greg Daniels", "Ricky Gervais")


def test_omdb_episodes_and_error_responses_are_not_titles(root: Path, write: Write) -> None:
    write("ep.json", {"Title": "Pilot", "Year": "2005", "Type": "episode", "imdbID": "tt1"})
    write("err.json", {"Response": "False", "Error": "Movie not found!", "Title": "x"})
    index = load_index(root)
    assert len(index) == 0
    assert not index.warnings


TVMAZE_EPISODES = [
    {"season": 0, "number": None, "name": "Behind the Scenes", "airdate": "2016-07-01"},
    {"season": 1, "number": 1, "name": "Chapter One", "airdate": "2016-07-15"},
    {"season": 1, "number": 2, "name": "Chapter Two", "airdate": "2016-07-15"},
    {"season": 2, "number": 1, "name": "MADMAX", "airdate": "2017-10-27"},
]


def test_tvmaze_show_with_null_network_uses_web_channel(root: Path, write: Write) -> None:
    write(
        "tvmaze.json",
        {
            "id": 2993,
            "name": "Stranger Things",
            "premiered": "2016-07-15",
            "network": None,
            "webChannel": {"id": 1, "name": "Netflix"},
            "externals": {"tvrage": 48493, "thetvdb": 305288, "imdb": "tt4574334"},
            "_embedded": {"episodes": TVMAZE_EPISODES},
        },
    )
    item = only_item(root)
    assert (item.kind, item.year, item.network) == ("series", 2016, "Netflix")
    assert (item.seasons, item.episodes) == (2, 3)  # specials (season 0) not counted
    assert item.episode_list[1].to_dict() == {
        "season": 1,
        "number": 1,
        "name": "Chapter One",
        "air_date": "2016-07-15",
    }
    assert dict(item.ids) == {
        "imdb": "tt4574334",
        "tvdb": "305288",
        "tvmaze": "2993",
        "tvrage": "48493",
    }


def test_tvmaze_show_with_both_network_and_web_channel(root: Path, write: Write) -> None:
    write(
        "show.json",
        {
            "name": "Sherlock",
            "premiered": "2010-07-25",
            "network": {"name": "BBC One"},
            "webChannel": {"name": "BBC iPlayer"},
        },
    )
    assert only_item(root).network == "BBC One"


def test_tvmaze_null_premiered_and_null_networks(root: Path, write: Write) -> None:
    write("show.json", {"name": "Untitled Pilot", "premiered": None, "network": None,
                        "webChannel": None})  # fmt: skip
    item = only_item(root)
    assert (item.kind, item.year, item.network) == ("series", None, None)


def test_tvmaze_search_results(root: Path, write: Write) -> None:
    write(
        "search.json",
        [
            {"score": 0.9, "show": {"name": "Girls", "premiered": "2012-04-15"}},
            {"score": 0.5, "show": {"name": "Gossip Girl", "premiered": "2007-09-19"}},
        ],
    )
    assert titles(root) == ["Girls", "Gossip Girl"]


def test_trakt_wrappers(root: Path, write: Write) -> None:
    write(
        "trakt.json",
        [
            {"type": "movie", "movie": {"title": "Parasite", "year": 2019,
                                        "ids": {"trakt": 1, "slug": "parasite-2019"}}},
            {"type": "show", "show": {"title": "Dark", "year": 2017, "network": "Netflix",
                                      "ids": {"trakt": 2, "tvdb": 334824, "imdb": "tt5753856"}}},
        ],
    )  # fmt: skip
    by_title = {item.title: item for item in load_index(root).items}
    assert (by_title["Parasite"].kind, by_title["Parasite"].year) == ("movie", 2019)
    dark = by_title["Dark"]
    assert (dark.kind, dark.year, dark.network) == ("series", 2017, "Netflix")
    assert dict(dark.ids) == {"imdb": "tt5753856", "trakt": "2", "tvdb": "334824"}


def test_trakt_single_wrapped_show(root: Path, write: Write) -> None:
    write("one.json", {"show": {"title": "Severance", "year": 2022, "ids": {"trakt": 3}}})
    item = only_item(root)
    assert (item.kind, item.title) == ("series", "Severance")


def test_jellyfin_items_list(root: Path, write: Write) -> None:
    write(
        "jellyfin.json",
        {
            "Items": [
                {
                    "Name": "Amélie",
                    "OriginalTitle": "Le Fabuleux Destin d'Amélie Poulain",
                    "Type": "Movie",
                    "ProductionYear": 2001,
                    "RunTimeTicks": 73200000000,
                    "People": [
                        {"Name": "Jean-Pierre Jeunet", "Type": "Director"},
                        {"Name": "Audrey Tautou", "Type": "Actor"},
                    ],
                    "ProviderIds": {"Imdb": "tt0211915", "Tmdb": "194"},
                },
                {
                    "Name": "Fleabag",
                    "Type": "Series",
                    "PremiereDate": "2016-07-21T00:00:00.0000000Z",
                    "Studios": [{"Name": "BBC Three"}, {"Name": "Two Brothers Pictures"}],
                },
                {"Name": "Pilot", "Type": "Episode", "ProductionYear": 2016},
            ],
            "TotalRecordCount": 3,
        },
    )
    by_title = {item.title: item for item in load_index(root).items}
    assert sorted(by_title) == ["Amélie", "Fleabag"]
    amelie = by_title["Amélie"]
    assert amelie.original_title == "Le Fabuleux Destin d'Amélie Poulain"
    assert (amelie.year, amelie.runtime, amelie.directors) == (2001, 122, ("Jean-Pierre Jeunet",))
    assert dict(amelie.ids) == {"imdb": "tt0211915", "tmdb": "194"}
    assert (by_title["Fleabag"].year, by_title["Fleabag"].network) == (2016, "BBC Three")


def test_jellyfin_single_item(root: Path, write: Write) -> None:
    write("item.json", {"Name": "Heat", "Type": "Movie", "ProductionYear": 1995, "Id": "a1"})
    assert only_item(root).year == 1995


MOVIE_NFO = """<?xml version="1.0" encoding="UTF-8" standalone="yes" ?>
<movie>
    <title>Heat</title>
    <originaltitle>Heat</originaltitle>
    <year>1995</year>
    <runtime>170</runtime>
    <genre>Crime / Drama</genre>
    <director>Michael Mann,</director>
    <studio>Warner Bros.</studio>
    <uniqueid type="imdb" default="true">tt0113277</uniqueid>
    <uniqueid type="tmdb">949</uniqueid>
    <actor><name>Al Pacino</name><role>Vincent Hanna</role></actor>
</movie>
"""


def test_nfo_movie(root: Path, write: Write) -> None:
    write("Heat (1995)/movie.nfo", MOVIE_NFO)
    item = only_item(root)
    assert (item.kind, item.title, item.year, item.runtime) == ("movie", "Heat", 1995, 170)
    assert item.directors == ("Michael Mann",)
    assert item.genres == ("Crime", "Drama")
    assert item.network is None  # a studio is a network only for series
    assert dict(item.ids) == {"imdb": "tt0113277", "tmdb": "949"}


def test_nfo_tvshow_with_trailing_url(root: Path, write: Write) -> None:
    write(
        "The Wire/tvshow.nfo",
        "<tvshow><title>The Wire</title><premiered>2002-06-02</premiered>"
        "<season>5</season><episode>60</episode><studio>HBO</studio>"
        '<uniqueid type="tvdb">79126</uniqueid></tvshow>\nhttps://thetvdb.com/series/the-wire\n',
    )
    item = only_item(root)
    assert (item.kind, item.year, item.seasons, item.episodes) == ("series", 2002, 5, 60)
    assert (item.network, item.id("tvdb")) == ("HBO", "79126")


def test_nfo_year_from_premiered_and_unknown_counts(root: Path, write: Write) -> None:
    write(
        "show/tvshow.nfo",
        "<tvshow><title>Severance</title><premiered>2022-02-18</premiered>"
        "<season>-1</season><episode>-1</episode><director>Ben Stiller, Aoife McArdle,"
        "</director></tvshow>",
    )
    item = only_item(root)
    assert (item.year, item.seasons, item.episodes) == (2022, None, None)
    assert item.directors == ("Ben Stiller", "Aoife McArdle")


def test_nfo_that_is_only_a_url_is_skipped_quietly(root: Path, write: Write) -> None:
    write("Alien/movie.nfo", "https://www.themoviedb.org/movie/348\n")
    index = load_index(root)
    assert (len(index), index.warnings) == (0, ())


def test_nfo_with_entity_declarations_is_refused(root: Path, write: Write) -> None:
    bomb = (
        '<?xml version="1.0"?>\n<!DOCTYPE movie [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n<movie><title>&b;</title></movie>'
    )
    path = write("bomb/movie.nfo", bomb)
    write("ok/movie.nfo", MOVIE_NFO)
    index = load_index(root)
    assert [item.title for item in index.items] == ["Heat"]
    assert [(w.path, "DOCTYPE" in w.message) for w in index.warnings] == [(str(path), True)]


def test_episode_nfo_is_not_a_title(root: Path, write: Write) -> None:
    write("s01e01.nfo", "<episodedetails><title>Pilot</title></episodedetails>")
    index = load_index(root)
    assert (len(index), index.warnings) == (0, ())


def test_generic_array_with_any_key_case_and_number_title(root: Path, write: Write) -> None:
    write(
        "list.json",
        [
            {"Title": 1917, "YEAR": "2019", "Director": "Sam Mendes"},
            {"TITLE": "Twin Peaks", "Type": "TV Series", "FirstAired": "8-Apr-90"},
            {"title": "Casablanca", "release_date": "1/1/1943", "genre": "Drama, Romance"},
            {"title": "Heat", "year": "1995-12-15T00:00:00Z", "kind": "movie"},
        ],
    )
    by_title = {item.title: item for item in load_index(root).items}
    assert (by_title["1917"].year, by_title["1917"].directors) == (2019, ("Sam Mendes",))
    assert (by_title["Twin Peaks"].kind, by_title["Twin Peaks"].year) == ("series", 1990)
    assert by_title["Casablanca"].year == 1943
    assert by_title["Casablanca"].genres == ("Drama", "Romance")
    assert by_title["Heat"].year == 1995


def test_generic_wrappers_set_the_kind(root: Path, write: Write) -> None:
    write(
        "export.json",
        {
            "movies": [{"title": "Alien", "year": 1979}],
            "shows": [{"title": "Firefly", "year": 2002, "episodes": 14}],
        },
    )
    by_title = {item.title: item for item in load_index(root).items}
    assert by_title["Alien"].kind == "movie"
    assert (by_title["Firefly"].kind, by_title["Firefly"].episodes) == ("series", 14)


def test_generic_episode_list_gives_counts(root: Path, write: Write) -> None:
    episodes = [
        {"season": 0, "episode": 1, "title": "Special"},
        {"season": 1, "episode": 1, "title": "One", "aired": "2002-09-20"},
        {"season": 1, "episode": 2, "title": "Two"},
    ]
    write("firefly.json", {"name": "Firefly", "type": "series", "episodes": episodes})
    item = only_item(root)
    assert (item.seasons, item.episodes, len(item.episode_list)) == (1, 2, 3)
    assert item.episode_list[1].air_date == "2002-09-20"


def test_ndjson_one_item_per_line(root: Path, write: Write) -> None:
    write(
        "export.ndjson",
        [{"title": "Alien", "year": 1979}, {"Title": "Aliens", "Year": 1986}, {"name": "x"}],
    )
    assert titles(root) == ["Alien", "Aliens"]


def test_title_falls_back_to_original_title(root: Path, write: Write) -> None:
    write("film.json", {"original_title": "Le Samouraï", "year": 1967})
    item = only_item(root)
    assert (item.title, item.original_title) == ("Le Samouraï", "Le Samouraï")


def test_titles_are_kept_exactly_as_read(root: Path, write: Write) -> None:
    odd = "[b]Ôdd[/b] <i>Title</i> \u200b✓ 🎬"
    write("odd.json", {"title": odd, "year": 2020})
    assert only_item(root).title == odd


def test_json_that_is_not_media_is_ignored(root: Path, write: Write) -> None:
    write("package.json", {"name": "left-pad", "version": "1.3.0"})
    write("numbers.json", [1, 2, 3])
    index = load_index(root)
    assert (len(index), index.warnings) == (0, ())


def test_to_dict_is_plain_json(root: Path, write: Write) -> None:
    write("show.json", {"name": "Girls", "premiered": "2012-04-15", "network": {"name": "HBO"},
                        "_embedded": {"episodes": TVMAZE_EPISODES[1:2]}})  # fmt: skip
    data = only_item(root).to_dict()
    assert list(data) == [
        "kind",
        "title",
        "original_title",
        "aliases",
        "year",
        "directors",
        "seasons",
        "episodes",
        "episode_list",
        "network",
        "genres",
        "runtime",
        "ids",
        "sources",
    ]
    assert data["episode_list"] == [
        {"season": 1, "number": 1, "name": "Chapter One", "air_date": "2016-07-15"}
    ]
    assert (data["network"], data["seasons"], data["episodes"]) == ("HBO", 1, 1)
    assert MediaItem.from_dict(data).to_dict() == data
