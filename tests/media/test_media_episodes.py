"""Episode-level files (TVmaze schedules, TMDb season and episode details) are not titles:
they lead to, or belong to, their series."""

from __future__ import annotations

import shutil
from pathlib import Path

from atlas_tui.media import clear_index_memory, load_index, search_media

FIXTURES = Path(__file__).parent / "fixtures"


def copy(name: str, root: Path, rel: str | None = None) -> Path:
    target = root / (rel or name.split("/")[-1])
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURES / name, target)
    return target


def test_tvmaze_web_schedule_yields_its_shows_not_its_episodes(root: Path) -> None:
    copy("tvmaze/schedule_web.json", root)
    index = load_index(root)
    shows = sorted((i.title, i.kind, i.year, i.network) for i in index.items)
    assert shows == [
        ("Harbour Lights", "series", 2021, "Lanternbox"),  # twice in the schedule, once here
        ("The Quiet Orchard", "series", 2019, "Lanternbox"),
    ]
    assert search_media("episode 5", root).matches == ()


def test_tvmaze_tv_schedule_yields_the_show_with_its_network(root: Path) -> None:
    copy("tvmaze/schedule.json", root)
    (item,) = load_index(root).items
    assert (item.title, item.kind, item.year, item.network) == (
        "Copper Kettle Mysteries",
        "series",
        2016,
        "Northwind TV",
    )
    assert item.id("imdb") == "tt9900001"
    assert search_media("the seventh spoon", root).matches == ()


def test_tmdb_season_and_episode_files_count_in_their_series(root: Path) -> None:
    copy("tmdb/tv.json", root, "Lanternfall/tv.json")
    copy("tmdb/season.json", root, "Lanternfall/Season 2/season.json")
    copy("tmdb/episode.json", root, "Lanternfall/Season 2/episode-07.json")
    index = load_index(root)
    (item,) = index.items
    assert (item.title, item.kind, item.year, item.network) == (
        "Lanternfall",
        "series",
        2018,
        "Meridian One",
    )
    assert item.directors == ("Tomas Ferrante",)
    assert (item.seasons, item.episodes) == (2, 20)  # TMDb's own counts stand
    assert [(e.season, e.number, e.name) for e in item.episode_list] == [
        (2, 1, "Low Water"),
        (2, 2, "The Lock Keeper"),
        (2, 3, "Ashes on the Tide"),
        (2, 7, "Seven Thirty-Seven"),
    ]
    assert len(item.sources) == 3
    assert search_media("season 2", root).matches == ()
    assert search_media("seven thirty-seven", root).matches == ()
    assert search_media("lanternfall", root, kind="movie").matches == ()
    clear_index_memory()  # read back from the cache file: the same one series
    again = load_index(root)
    assert again.stats.files_read == 0
    assert again.items == (item,)


def test_season_files_give_a_series_without_counts_its_seasons_and_episodes(root: Path) -> None:
    (root / "Lanternfall").mkdir()
    (root / "Lanternfall" / "tvshow.nfo").write_text(
        "<tvshow><title>Lanternfall</title><year>2018</year></tvshow>", encoding="utf-8"
    )
    copy("tmdb/season.json", root, "Lanternfall/S02/season.json")
    copy("tmdb/episode.json", root, "Lanternfall/S02/e07/episode.json")
    (item,) = search_media("lanternfall", root).items
    assert (item.title, item.kind, item.year, item.seasons, item.episodes) == (
        "Lanternfall",
        "series",
        2018,
        1,
        4,
    )


def test_a_season_file_finds_its_series_by_the_show_id_anywhere(root: Path) -> None:
    copy("tmdb/tv.json", root, "shows/lanternfall.json")
    copy("tmdb/season.json", root, "downloads/season.json")
    (item,) = load_index(root).items
    assert item.title == "Lanternfall"
    assert len(item.episode_list) == 3


def test_a_season_or_episode_without_its_series_is_not_a_title(root: Path) -> None:
    copy("tmdb/season.json", root)
    copy("tmdb/episode.json", root)
    index = load_index(root)
    assert index.items == ()
    assert search_media("season 2", root).matches == ()
