"""Sentence units and their features: the text and what the rules saw in it."""

from __future__ import annotations

import re
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
    for start, end in sentences:
        inside = [c for c in candidates if start <= c.start < end]
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
        for cue_start, _cue_end, kind in prepared.cues:
            if start <= cue_start < end and kind != "break":
                tokens.append(f"CUE={kind}")
        units.append(
            SentenceUnit(start, end, prepared.analysed[start:end], " ".join(tokens), inside)
        )
    return units


def select_text(rows: list[dict[str, str]]) -> list[str]:
    """The normalised sentence text of each row (a FunctionTransformer step)."""
    return [normalise(row["text"]) for row in rows]


def select_rules(rows: list[dict[str, str]]) -> list[str]:
    """The rule-feature string of each row (a FunctionTransformer step)."""
    return [row["rules"] for row in rows]


def split_tokens(text: str) -> list[str]:
    """Whitespace tokenizer for the rule-feature strings (picklable, unlike a lambda)."""
    return text.split()
