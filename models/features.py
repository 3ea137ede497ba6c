"""Sentence units and their features: the text and what the rules saw in it."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from nlp.analyzer import PreparedText
from nlp.recognizers.base import Candidate

_DIGITS = re.compile(r"\d")
# The word vectorizer's token pattern (models/pipeline.py), shared with the quote narrowing.
WORD_TOKENS = r"(?u)\b\w[\w'-]*\b"


@dataclass
class SentenceUnit:
    """One sentence to score, with the rule candidates and context cues inside it."""

    start: int
    end: int
    text: str
    rules: str
    candidates: list[Candidate]


def normalise(text: str) -> str:
    """Lowercase with digits folded to 0, so that "max 23" and "max 25" look alike."""
    return _DIGITS.sub("0", text.lower())


def sentence_units(prepared: PreparedText, candidates: list[Candidate]) -> list[SentenceUnit]:
    """The sentences of a prepared text with rule and cue features as a token string."""
    units: list[SentenceUnit] = []
    sentences = prepared.sentences()
    base = f"KIND={prepared.kind.value} LANG={prepared.lang}"
    # Each candidate and cue finds its sentence by bisection (sentences are sorted and
    # disjoint); testing each against every sentence cost their product (issue 7).
    starts = [start for start, _ in sentences]
    inside_of: list[list[Candidate]] = [[] for _ in sentences]
    for candidate in candidates:
        k = _sentence_of(candidate.start, starts, sentences)
        if k is not None:
            inside_of[k].append(candidate)
    cues_of: list[list[str]] = [[] for _ in sentences]
    for cue_start, _cue_end, kind in prepared.cues:
        k = _sentence_of(cue_start, starts, sentences)
        if k is not None and kind != "break":
            cues_of[k].append(f"CUE={kind}")
    for (start, end), inside, cue_tokens in zip(sentences, inside_of, cues_of, strict=True):
        tokens = [base]
        for candidate in inside:
            state = "kept" if candidate.kept else "dropped"
            tokens.append(f"RULE={candidate.rule_id}")
            if candidate.weak:
                # A mention says what the sentence is about, not that it excludes anyone:
                # its own tokens, so the model weighs it apart from the rules' verdicts.
                tokens.append(f"MENTION={candidate.ground.value}_{state}")
                continue
            tokens.append(f"GROUND={candidate.ground.value}_{candidate.severity.value}_{state}")
            tokens.append(f"STATE={candidate.severity.value}_{state}")
            for step in candidate.steps:
                if step.step == "context" and step.detail.startswith("dropped"):
                    reason = step.detail.split(":", 1)[1].split()[0]
                    tokens.append(f"DROP={reason}")
        if not any(not c.weak for c in inside):
            tokens.append("RULE=none")
        tokens.extend(cue_tokens)
        units.append(
            SentenceUnit(start, end, prepared.analysed[start:end], " ".join(tokens), inside)
        )
    return units


def _sentence_of(offset: int, starts: list[int], sentences: list[tuple[int, int]]) -> int | None:
    """The index of the sentence holding character `offset`, or None (between sentences)."""
    k = bisect_right(starts, offset) - 1
    if k >= 0 and offset < sentences[k][1]:
        return k
    return None


def select_text(rows: list[dict[str, str]]) -> list[str]:
    """The normalised sentence text of each row (a FunctionTransformer step)."""
    return [normalise(row["text"]) for row in rows]


def select_rules(rows: list[dict[str, str]]) -> list[str]:
    """The rule-feature string of each row (a FunctionTransformer step)."""
    return [row["rules"] for row in rows]


def split_tokens(text: str) -> list[str]:
    """Whitespace tokenizer for the rule-feature strings (picklable, unlike a lambda)."""
    return text.split()
