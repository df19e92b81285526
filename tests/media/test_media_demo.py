"""The demo folder that ships in the package covers every format and searches well."""

from __future__ import annotations

from pathlib import Path

from atlas_tui.media import DEMO_DIR, find_media, load_index, search_media


def test_demo_folder_reads_cleanly() -> None:
    index = load_index(DEMO_DIR)
    assert index.warnings == ()
    assert len(index) >= 12
    assert {item.kind for item in index.items} == {"movie", "series"}
    # The demo keeps one folder per format: demo/<format>/... .
    formats = {Path(s).relative_to(DEMO_DIR).parts[0] for i in index.items for s in i.sources}
    assert formats >= {"tmdb", "omdb", "tvmaze", "trakt", "jellyfin", "kodi", "generic"}


def test_demo_searches() -> None:
    amelie = find_media("amelie", DEMO_DIR)
    assert amelie is not None
    assert (amelie.title, amelie.year, len(amelie.sources)) == ("Amélie", 2001, 2)
    matrix = find_media("Matrix", DEMO_DIR)
    assert matrix is not None and matrix.directors == ("Lana Wachowski", "Lilly Wachowski")
    assert [i.title for i in search_media("1917", DEMO_DIR).items] == ["1917"]
    wire = find_media("the wire", DEMO_DIR, kind="series")
    assert wire is not None and (wire.seasons, wire.network) == (5, "HBO")
    assert find_media("Alien", DEMO_DIR) is None  # its .nfo holds only a URL
