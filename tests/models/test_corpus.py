"""The corpus checks refuse what would corrupt training or evaluation."""

from __future__ import annotations

import json
from pathlib import Path

from models.check import check_corpus
from models.dataset import corpus_files


def _write(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    return path


def _record(rid: str, text: str, split: str = "train", **extra: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": rid,
        "kind": "vacancy",
        "lang": "nl",
        "text": text,
        "verdict": "ok",
        "category": "neutral",
        "findings": [],
        "split": split,
    }
    base.update(extra)
    return base


def test_committed_corpus_passes_data_check() -> None:
    problems, counts = check_corpus(corpus_files())
    assert problems == []
    assert counts["records"] >= 3400


def test_quote_not_in_text_unknown_label_and_contradicting_verdict_fail(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "bad.jsonl",
        [
            _record(
                "a",
                "Max. 22 jaar.",
                verdict="reject",
                category="discriminatory",
                findings=[{"quote": "max 22 jaar", "ground": "age", "severity": "explicit"}],
            ),
            _record(
                "b",
                "Hallo.",
                findings=[{"quote": "Hallo", "ground": "mood", "severity": "explicit"}],
                verdict="reject",
                category="discriminatory",
            ),
            _record(
                "c",
                "Jong team.",
                verdict="ok",
                category="discriminatory",
                findings=[{"quote": "Jong team", "ground": "age", "severity": "implicit"}],
            ),
        ],
    )
    problems, _ = check_corpus([path])
    text = "\n".join(problems)
    assert "bad.jsonl:1" in text and "does not occur in the text" in text
    assert "bad.jsonl:2" in text and "ground" in text
    assert "bad.jsonl:3" in text and "contradicts its findings" in text


def test_near_duplicates_across_splits_and_duplicate_ids_fail(tmp_path: Path) -> None:
    text = (
        "Wij zoeken een gemotiveerde stagiair voor onze bakkerij in Utrecht, vier dagen per week. "
        "Je leert deeg maken, brood bakken en klanten helpen in de winkel. Je krijgt een "
        "stagevergoeding van 300 euro per maand en een vaste begeleider."
    )
    path = _write(
        tmp_path / "dup.jsonl",
        [
            _record("a", text, split="train"),
            _record("b", text.replace("Utrecht", "Zwolle"), split="test"),
            _record(
                "a", "Iets heel anders over de logistiek in de haven van Rotterdam.", split="dev"
            ),
        ],
    )
    problems, _ = check_corpus([path])
    assert any("near-duplicate" in p and "a (train)" in p and "b (test)" in p for p in problems)
    assert any("duplicate id 'a'" in p for p in problems)


def test_held_out_rounds_make_dev_and_test_and_pull_their_near_duplicates_along() -> None:
    from models.corpus import CorpusRecord
    from models.splits import assign_splits

    words = ["bakker", "kapper", "haven", "lasser", "kassa", "zorg", "kantoor", "magazijn"]
    texts = [
        " ".join(words[(i * k) % len(words)] for k in range(1, 8)) + f" {i}" for i in range(40)
    ]
    held_texts = [t.replace(" ", " en ") + " held" for t in texts]
    corpus = [CorpusRecord.model_validate(_record(f"c{i:02}", t)) for i, t in enumerate(texts)]
    held = [CorpusRecord.model_validate(_record(f"ho{i:02}", t)) for i, t in enumerate(held_texts)]
    fresh_texts = [t.replace(" ", " of ") + " fresh" for t in texts[:10]]
    fresh = [
        CorpusRecord.model_validate(_record(f"h2{i:02}", t)) for i, t in enumerate(fresh_texts)
    ]
    text = "Wij zoeken een stagiair voor de receptie van ons hotel in Maastricht, BBL."
    twin = CorpusRecord.model_validate(_record("twin", text.replace("Maastricht", "Venlo")))
    original = CorpusRecord.model_validate(_record("h2-x", text))
    rounds = {r.id: "heldout_" for r in held}
    rounds |= {r.id: "heldout2_" for r in fresh} | {"h2-x": "heldout2_"}
    records = [*corpus, *held, *fresh, twin, original]
    assignment = assign_splits(records, held_out=rounds)
    assert {assignment[r.id] for r in corpus} == {"train"}
    # Round 1's first half was read for the lexicons: it trains; its second half tests.
    assert {assignment[r.id] for r in held} == {"train", "test"}
    assert {assignment[r.id] for r in fresh} == {"dev"}
    assert assignment["twin"] == assignment["h2-x"] == "dev", "a held-out text's twin trained"
    # Adding a round leaves the test split of round 1 as it was.
    alone = assign_splits([*corpus, *held], held_out={r.id: "heldout_" for r in held})
    assert {i for i, s in alone.items() if s == "test"} == {
        i for i, s in assignment.items() if s == "test"
    }
