"""Episode-level files (TVmaze schedules, TMDb season and episode details) are not titles:
they lead to, or belong to, their series."""

from __future__ import annotations

import shutil
from pathlib import Path

from atlas_tui.media import load_index, search_media

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
