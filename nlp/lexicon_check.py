"""Runs every lexicon entry's own examples through the analyzer."""

from __future__ import annotations

from nlp.analyzer import Analyzer


def check_examples(
    analyzer: Analyzer, lang: str | None = None, ground: str | None = None
) -> list[str]:
    """One message per example that does not behave as its entry says (rules only)."""
    failures: list[str] = []
    for entry_lang in ("nl", "en"):
        if lang and entry_lang != lang:
            continue
        for entry_ground, entry in analyzer.lexicon.entries(entry_lang):
            if ground and entry_ground.value != ground:
                continue
            kinds = entry.kinds
            for sentence in entry.examples.flag:
                hits = _rule_hits(analyzer, sentence, kinds[0], entry_lang)
                if entry.id not in hits:
                    got = ", ".join(sorted(hits)) or "nothing"
                    failures.append(
                        f"{entry.id}: flag example not flagged by it: {sentence!r} (got: {got})"
                    )
            for sentence in entry.examples.pass_:
                for kind in kinds:
                    hits = _rule_hits(analyzer, sentence, kind, entry_lang)
                    if entry.id in hits:
                        failures.append(f"{entry.id}: pass example flagged: {sentence!r}")
                        break
    return failures


def _rule_hits(analyzer: Analyzer, sentence: str, kind: str, lang: str) -> set[str]:
    prepared = analyzer.prepare(sentence, kind=kind, lang=lang)
    return {c.rule_id for c in analyzer.candidates(prepared) if c.kept}
