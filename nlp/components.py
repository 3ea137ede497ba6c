"""Custom spaCy components, registered by name."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from spacy.language import Language
from spacy.lookups import load_lookups
from spacy.tokens import Doc

_POS_ORDER = ("noun", "adj", "verb")


def _lemma_function(lang: str) -> Callable[[str], str]:
    """A context-free lemmatizer: lookup table first, then the rule tables without POS.

    spaCy's lookup table misses common Dutch plurals and inflections ("vrouwen", "jonge",
    "kinderen"); the rule mode needs POS tags, which a blank pipeline lacks. We try the
    exception list and suffix rules for noun, then adjective, then verb, and accept a
    candidate only when it is a known lemma of that part of speech.
    """
    tables = load_lookups(lang, ["lemma_lookup", "lemma_rules", "lemma_exc", "lemma_index"])
    lookup = tables.get_table("lemma_lookup")
    rules = tables.get_table("lemma_rules")
    exceptions = tables.get_table("lemma_exc")
    index = tables.get_table("lemma_index")
    per_pos = []
    for pos in _POS_ORDER:
        per_pos.append(
            (
                exceptions.get(pos, {}) or {},
                [tuple(rule) for rule in (rules.get(pos, []) or [])],
                set(index.get(pos, []) or []),
            )
        )

    @lru_cache(maxsize=200_000)
    def lemma(lower: str) -> str:
        found = lookup.get(lower)
        if isinstance(found, str) and found:
            return found.lower()
        for exc, suffix_rules, known in per_pos:
            forms = exc.get(lower)
            if forms:
                return str(forms[0]).lower()
            for old, new in suffix_rules:
                if old and lower.endswith(old):
                    candidate = lower[: len(lower) - len(old)] + new
                    if candidate in known:
                        return candidate
        return lower

    return lemma


@Language.factory("stagecheck_lemmatizer")
def create_stagecheck_lemmatizer(nlp: Language, name: str) -> Callable[[Doc], Doc]:
    """Set a lowercase lemma on every token from spacy-lookups-data's tables."""
    lemma = _lemma_function(str(nlp.lang))

    def lemmatize(doc: Doc) -> Doc:
        for token in doc:
            token.lemma_ = lemma(token.lower_)
        return doc

    return lemmatize
