"""The lexicon as data: every entry's own examples, and a broken file stops start-up."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from nlp.analyzer import Analyzer
from nlp.errors import LexiconError
from nlp.lexicon import LEXICON_DIR, default_lexicon, load_lexicon
from nlp.lexicon_check import _rule_hits

ENTRIES = [(lang, entry) for lang in ("nl", "en") for _, entry in default_lexicon().entries(lang)]


@pytest.mark.parametrize(("lang", "entry"), ENTRIES, ids=[e.id for _, e in ENTRIES])
def test_entry_examples(rules: Analyzer, lang: str, entry) -> None:  # type: ignore[no-untyped-def]
    for sentence in entry.examples.flag:
        assert entry.id in _rule_hits(rules, sentence, entry.kinds[0], lang), sentence
    for sentence in entry.examples.pass_:
        for kind in entry.kinds:
            assert entry.id not in _rule_hits(rules, sentence, kind, lang), sentence


def test_breadth_of_the_lexicons() -> None:
    counts = default_lexicon().pattern_counts()
    assert counts["nl"] >= 400
    assert counts["en"] >= 150
    grounds = {lang: {g.value for g, _ in default_lexicon().entries(lang)} for lang in ("nl", "en")}
    assert len(grounds["nl"]) == 11 and len(grounds["en"]) == 11


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "lexicons"
    shutil.copytree(LEXICON_DIR, target)
    return target


def test_invalid_entry_names_file_and_entry(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    path = root / "nl" / "age.yml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("severity: implicit", "severity: sometimes", 1), encoding="utf-8")
    with pytest.raises(LexiconError) as info:
        load_lexicon(root)
    message = str(info.value)
    assert "age.yml" in message and "entry 'nl.age." in message and "severity" in message


def test_broken_yaml_is_refused_naming_the_file(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    (root / "en" / "religion.yml").write_text("lang: en\nground: [religion\n", encoding="utf-8")
    with pytest.raises(LexiconError, match=r"religion\.yml"):
        load_lexicon(root)


def test_entry_id_of_another_ground_is_refused(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    path = root / "nl" / "gender.yml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("id: nl.gender.", "id: nl.age.", 1), encoding="utf-8")
    with pytest.raises(LexiconError, match="E006"):
        load_lexicon(root)


def test_missing_grounds_file_is_refused(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    (root / "grounds.yml").unlink()
    with pytest.raises(LexiconError, match=r"grounds\.yml"):
        load_lexicon(root)
