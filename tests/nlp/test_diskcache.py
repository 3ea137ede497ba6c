"""The start-up cache returns what building returns, and never a stale or broken entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlp.diskcache import CACHE_ENV, cached


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_second_call_reads_the_entry(folder: Path) -> None:
    builds: list[int] = []

    def build() -> dict[str, list[int]]:
        builds.append(1)
        return {"jong": [1, 2]}

    assert cached("t", b"key", build) == {"jong": [1, 2]}
    assert cached("t", b"key", build) == {"jong": [1, 2]}
    assert len(builds) == 1
    assert len(list(folder.glob("t-*.pickle"))) == 1


def test_changed_input_builds_again(folder: Path) -> None:
    assert cached("t", b"lexicon v1", lambda: "one") == "one"
    assert cached("t", b"lexicon v2", lambda: "two") == "two"
    assert cached("t", b"lexicon v1", lambda: "never built") == "one"


def test_corrupt_entry_is_rebuilt_and_replaced(folder: Path) -> None:
    cached("t", b"key", lambda: [1, 2, 3])
    (entry,) = folder.glob("t-*.pickle")
    entry.write_bytes(b"\x80\x05 torn")
    assert cached("t", b"key", lambda: [1, 2, 3]) == [1, 2, 3]
    assert cached("t", b"key", lambda: "never built") == [1, 2, 3]
    assert not list(folder.glob("*.part"))


def test_unwritable_folder_still_builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(CACHE_ENV, str(blocker / "cache"))
    assert cached("t", b"key", lambda: 42) == 42


def test_off_switch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, "off")
    monkeypatch.chdir(tmp_path)
    builds: list[int] = []
    for _ in range(2):
        cached("t", b"key", lambda: builds.append(1))
    assert len(builds) == 2


def test_lexicon_and_lemmas_from_the_cache_equal_a_fresh_build(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nlp.components import _lemma_function
    from nlp.lexicon import load_lexicon

    words = ["vrouwen", "jonge", "hoofddoekjes", "gelovige", "women", "younger", "xqzv"]
    monkeypatch.setenv(CACHE_ENV, "off")
    fresh, fresh_lemma = load_lexicon(), _lemma_function("nl")
    monkeypatch.setenv(CACHE_ENV, str(folder))
    load_lexicon(), _lemma_function("nl")  # writes the entries
    assert list(folder.glob("yaml-*.pickle")) and list(folder.glob("lemma-tables-*.pickle"))
    cached_lexicon, cached_lemma = load_lexicon(), _lemma_function("nl")  # reads them
    assert cached_lexicon == fresh
    assert [cached_lemma(w) for w in words] == [fresh_lemma(w) for w in words]
