"""Numeric age limits, which need a comparison that lexicon data cannot express.

"max. 21 jaar", "tussen de 18 en 23", "25 jaar of jonger" exclude by age (explicit);
a maximum number of years of experience excludes in effect (implicit); a minimum age is
lawful with its reason ("18+ vanwege alcohol") and dropped by the context rules then.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from spacy.tokens import Doc

from nlp.lexicon import ContextPolicy
from nlp.pipeline import doc_text
from nlp.recognizers.base import BASE_SCORE, Candidate
from nlp.schema import Ground, Kind, Severity

N = r"(?P<n>\d{1,2})"
M = r"(?P<m>\d{1,2})"
DASH = r"\s*(?:-|–|—|tot(?:\s+en\s+met)?|t/m|t\.m\.|en|to|and)\s*"

_NL_YR = r"(?:jaar|jr\.?|jarigen?|jarige)(?:\s+oud)?"
_EN_YR = r"(?:years?|yrs?\.?|y/o|y\.o\.)(?:\s+old)?"


@dataclass(frozen=True)
class _AgeRule:
    name: str
    regex: re.Pattern[str]
    kind: str  # "max", "min", "range", "experience", "cmp" (below N: max if N > 18 else min)
    # Lowercase ASCII literals one of which every match contains, case-insensitively: a
    # text without any of them cannot match, and the rule's regex is not run on it.
    needs: tuple[str, ...]
    # A regex (same flags) that every match contains a match of, or None: R's part from
    # the last digit of its number onwards, or its words before the number, without
    # lookarounds; far cheaper to search for than R, and tried only when `needs` passes.
    gate: re.Pattern[str] | None


# Literals every year word contains: "jaar", "jarige(n)", "jr"; "years", "yrs", "y/o", "y.o.".
_NL_YR_NEEDS = ("ja", "jr")
_EN_YR_NEEDS = ("year", "yr", "y/o", "y.o.")


def _rules(lang: str) -> list[_AgeRule]:
    yr = _NL_YR if lang == "nl" else _EN_YR
    flags = re.IGNORECASE
    if lang == "nl":
        specs = [
            (
                "max-ervaring",
                rf"\b(?:max(?:imaal|imum)?\.?|hooguit|niet\s+meer\s+dan|ten\s+hoogste)\s*{N}\s*(?:jaar|jr\.?)\s+(?:aan\s+)?(?:relevante\s+)?(?:werk)?ervaring",
                "experience",
                ("ervaring",),
                r"\d\s*(?:jaar|jr\.?)\s+(?:aan\s+)?(?:relevante\s+)?(?:werk)?ervaring",
            ),
            (
                "range",
                rf"\b(?:tussen\s+(?:de\s+)?)?{N}{DASH}{M}\s*{yr}",
                "range",
                _NL_YR_NEEDS,
                rf"\d{DASH}\d{{1,2}}\s*(?:ja|jr)",
            ),
            (
                "range-leeftijd",
                rf"\b(?:leeftijd(?:sgrens)?|je\s+bent|ben\s+je|bent\s+u|leeftijdscategorie|leeftijd\s+tussen)\s*[:=]?\s*(?:tussen\s+(?:de\s+)?)?{N}{DASH}{M}\b",
                "range",
                ("leeftijd", "ben"),
                rf"\d{DASH}\d",
            ),
            (
                "max",
                rf"\b(?:max(?:imaal|imum)?\.?|hooguit|ten\s+hoogste|tot(?:\s+en\s+met)?|t/m|niet\s+ouder\s+dan|uiterlijk|maximale\s+leeftijd(?:\s+van)?|leeftijd\s*(?:max(?:imaal)?\.?|tot)?\s*[:=]?)\s*{N}\s*-?\s*{yr}",
                "max",
                _NL_YR_NEEDS,
                r"\d\s*-?\s*(?:ja|jr)",
            ),
            (
                "max-leeftijd",
                rf"\b(?:maximale\s+leeftijd|leeftijd\s+max(?:imaal)?\.?|max(?:imale)?\.?\s+leeftijd)\s*(?:is|van|:)?\s*{N}\b",
                "max",
                ("leeftijd",),
                None,
            ),
            (
                "leeftijdsgrens",
                rf"\b(?:wettelijke\s+)?(?:leeftijdsgrens|minimumleeftijd)\s*(?:is|van|:)?\s*{N}\b",
                "cmp",
                ("leeftijd",),
                None,
            ),
            (
                "of-jonger",
                rf"\b{N}\s*(?:{yr})?\s*(?:of|en)\s+jonger\b",
                "max",
                ("jonger",),
                rf"\d\s*(?:{yr})?\s*(?:of|en)\s+jonger",
            ),
            (
                "niet-ouder-dan",
                rf"\b(?:niet\s+ouder\s+dan|hooguit|ten\s+hoogste)\s*{N}\b(?!\s*(?:uur|dagen|weken|maanden|minuten|kg|km|euro|%))",
                "max",
                ("ouder", "hooguit", "hoogste"),
                None,
            ),
            (
                "jonger-dan",
                rf"\b(?:jonger\s+dan|onder\s+de|beneden\s+de)\s*{N}\s*(?:{yr})?",
                "cmp",
                ("jonger", "onder", "beneden"),
                r"(?:dan|de)\s*\d",
            ),
            (
                "min",
                rf"\b(?:min(?:imaal|imum)?\.?|vanaf|ten\s+minste|tenminste|minstens|ouder\s+dan|boven\s+de|minimumleeftijd(?:\s+van)?|minimale\s+leeftijd(?:\s+van)?)\s*{N}\s*-?\s*(?:{yr}|\+)",
                "min",
                (*_NL_YR_NEEDS, "+"),
                r"\d\s*-?\s*(?:ja|jr|\+)",
            ),
            (
                "of-ouder",
                rf"\b{N}\s*(?:{yr})?\s*(?:of|en)\s+ouder\b",
                "min",
                ("ouder",),
                rf"\d\s*(?:{yr})?\s*(?:of|en)\s+ouder",
            ),
            (
                "plus",
                rf"(?<![\d.,])\b{N}\s?\+(?!\d)(?:\s*(?:ers?|'ers))?",
                "min",
                ("+",),
                r"\d\s?\+",
            ),
        ]
    else:
        specs = [
            (
                "max-experience",
                rf"\b(?:max(?:imum)?\.?|up\s+to|no\s+more\s+than|not\s+more\s+than|at\s+most)\s*(?:of\s+)?{N}\s*(?:years?|yrs?\.?)\s+(?:of\s+)?(?:relevant\s+|work\s+|professional\s+)?experience",
                "experience",
                ("experience",),
                r"\d\s*(?:years?|yrs?\.?)\s+(?:of\s+)?(?:relevant\s+|work\s+|professional\s+)?experience",
            ),
            (
                "range",
                rf"\b(?:aged\s+|between\s+(?:the\s+ages\s+of\s+)?)?{N}{DASH}{M}\s*{yr}",
                "range",
                _EN_YR_NEEDS,
                rf"\d{DASH}\d{{1,2}}\s*y",
            ),
            (
                "range-aged",
                rf"\b(?:aged|ages|age\s+range|age(?:\s+between)?|between\s+the\s+ages\s+of)\s*[:=]?\s*(?:between\s+)?{N}{DASH}{M}\b",
                "range",
                ("age",),
                rf"\d{DASH}\d",
            ),
            (
                "max",
                rf"\b(?:max(?:imum)?\.?|up\s+to|no\s+older\s+than|not\s+older\s+than|at\s+most|max(?:imum)?\s+age(?:\s+of)?|age\s*(?:limit)?\s*[:=]?\s*max(?:imum)?\.?)\s*{N}\s*-?\s*{yr}",
                "max",
                _EN_YR_NEEDS,
                r"\d\s*-?\s*y",
            ),
            (
                "max-age",
                rf"\b(?:max(?:imum)?\.?\s+age|age\s+limit|upper\s+age\s+limit)\s*(?:is|of|:)?\s*{N}\b",
                "max",
                ("age",),
                r"(?:max(?:imum)?\.?\s+age|age\s+limit|upper\s+age\s+limit)\s*(?:is|of|:)?\s*\d",
            ),
            (
                "or-younger",
                rf"\b{N}\s*(?:{yr})?\s*or\s+younger\b",
                "max",
                ("younger",),
                rf"\d\s*(?:{yr})?\s*or\s+younger",
            ),
            (
                "no-older-than",
                rf"\b(?:no|not)\s+older\s+than\s*{N}\b",
                "max",
                ("older",),
                r"(?:no|not)\s+older\s+than\s*\d",
            ),
            (
                "under",
                rf"\b(?:under|below|younger\s+than|less\s+than)\s*(?:the\s+age\s+of\s+)?{N}(?:\s*{yr})?\b",
                "cmp",
                ("under", "below", "younger", "less"),
                r"(?:under|below|younger\s+than|less\s+than)\s*(?:the\s+age\s+of\s+)?\d",
            ),
            (
                "min",
                rf"\b(?:min(?:imum)?\.?(?:\s+age)?(?:\s+of)?|at\s+least|over|older\s+than|from)\s*(?:the\s+age\s+of\s+)?{N}\s*-?\s*(?:{yr}|\+)",
                "min",
                (*_EN_YR_NEEDS, "+"),
                r"\d\s*-?\s*(?:y|\+)",
            ),
            (
                "or-older",
                rf"\b{N}\s*(?:{yr})?\s*(?:or|and)\s+(?:older|over|above)\b",
                "min",
                ("older", "over", "above"),
                rf"\d\s*(?:{yr})?\s*(?:or|and)\s+(?:older|over|above)",
            ),
            (
                "plus",
                rf"(?<![\d.,])\b{N}\s?\+(?!\d)(?:\s*(?:ers?|'ers))?",
                "min",
                ("+",),
                r"\d\s?\+",
            ),
        ]
    return [
        _AgeRule(
            name, re.compile(rx, flags), kind, needs, re.compile(gate, flags) if gate else None
        )
        for name, rx, kind, needs, gate in specs
    ]


_DIGIT = re.compile(r"\d")
# The characters outside ASCII that re.IGNORECASE matches with an ASCII letter, or whose
# lowercase form holds an ASCII character (tests/nlp/test_age_limits.py checks the list).
CASE_TRAPS = frozenset("\u0130\u0131\u017f\u212a")  # İ ı ſ K (Kelvin sign)
_CASE_TRAP = re.compile("[" + "".join(sorted(CASE_TRAPS)) + "]")


def _lowered(text: str) -> str | None:
    """`text.lower()`, in which lowercase ASCII words occur where re.IGNORECASE finds them.

    Without the CASE_TRAPS, an ASCII word matches case-insensitively exactly where it
    occurs in `text.lower()`. None: the text holds a trap character.
    """
    if not text.isascii() and _CASE_TRAP.search(text):
        return None
    return text.lower()


_MAX_POLICY = ContextPolicy(inclusive=True, negation=False, description=True, justification=[])
# A minimum age is lawful with its reason: a known one (alcohol, night shifts) or any
# stated one ("omdat je met de boa's meeloopt").
_MIN_POLICY = ContextPolicy(
    inclusive=True, negation=False, description=True, justification=["age_minimum", "stated_reason"]
)
_EXPERIENCE_POLICY = ContextPolicy(
    inclusive=True, negation=True, description=False, justification=[]
)

_YOUNGEST_STUDENT = 15  # below this a number is a client's age or a duration, not a limit
_OLDEST_PLAUSIBLE = 70
_WHOLE_WORKING_LIFE = 60


class AgeLimitRecognizer:
    """Finds numeric age limits and maximum years of experience."""

    name = "age-limit"

    def __init__(self, lang: str, gated: bool = True) -> None:
        """`gated=False` runs every rule's regex on every text: the reference of the tests."""
        self.lang = lang
        self._gated = gated
        self._rules = _rules(lang)
        self._literals = sorted({word for rule in self._rules for word in rule.needs})

    def analyze(self, doc: Doc, kind: Kind) -> list[Candidate]:
        """Candidates for every numeric age limit in the text."""
        text = doc_text(doc)
        taken: list[tuple[int, int]] = []
        candidates: list[Candidate] = []
        if self._gated and not _DIGIT.search(text):
            return candidates  # every rule needs a number
        # Running each rule's regex over the whole text was most of this recognizer's time
        # (issue 7). A rule runs only when the text holds one of the words it needs and a
        # match of its gate; substring tests and one gate search cost a fraction of it.
        lowered = _lowered(text) if self._gated else None
        present = None if lowered is None else {w for w in self._literals if w in lowered}
        gates: dict[re.Pattern[str], bool] = {}
        for rule in self._rules:
            if present is not None and present.isdisjoint(rule.needs):
                continue  # the regex cannot match: it needs one of these words
            if self._gated and rule.gate is not None:
                if rule.gate not in gates:
                    gates[rule.gate] = rule.gate.search(text) is not None
                if not gates[rule.gate]:
                    continue  # nor without a match of its gate
            for match in rule.regex.finditer(text):
                start, end = match.span()
                while end > start and text[end - 1] in " \t\n":
                    end -= 1
                if any(s < end and start < e for s, e in taken):
                    continue
                # A matched span is taken even when judged lawful, so that "van 4 tot 12
                # jaar" is not read again as "tot 12 jaar".
                taken.append((start, end))
                candidate = self._judge(rule, match, start, end)
                if candidate is not None:
                    candidates.append(candidate)
        return candidates

    def _judge(
        self, rule: _AgeRule, match: re.Match[str], start: int, end: int
    ) -> Candidate | None:
        groups = match.groupdict()
        low = int(groups["n"])
        high = int(groups["m"]) if groups.get("m") else None
        if rule.kind == "experience":
            if low > 10:
                return None
            return self._candidate(
                rule,
                start,
                end,
                Severity.IMPLICIT,
                _EXPERIENCE_POLICY,
                f"maximum of {low} years of experience",
            )
        if rule.kind == "range":
            if high is None or high <= low or high > _OLDEST_PLAUSIBLE:
                return None
            if low < _YOUNGEST_STUDENT:
                return None  # "kinderen van 4 tot 12 jaar": the clients, not the intern
            if low <= 18 and high >= _WHOLE_WORKING_LIFE:
                return None  # "van 16 tot 67 jaar": everyone of working age, no limit
            return self._candidate(
                rule, start, end, Severity.EXPLICIT, _MAX_POLICY, f"age range {low}-{high}"
            )
        if low < _YOUNGEST_STUDENT or low > _OLDEST_PLAUSIBLE:
            return None
        kind = rule.kind
        if kind == "cmp":
            kind = "max" if low > 18 else "min"
        if kind == "max":
            return self._candidate(
                rule, start, end, Severity.EXPLICIT, _MAX_POLICY, f"maximum age {low}"
            )
        # A minimum age: above 18 it excludes young students outright; up to 18 it is
        # lawful with a reason (alcohol, night shifts) and otherwise worth a question.
        severity = Severity.EXPLICIT if low > 18 else Severity.IMPLICIT
        if low <= 16:
            return None
        return self._candidate(rule, start, end, severity, _MIN_POLICY, f"minimum age {low}")

    def _candidate(
        self,
        rule: _AgeRule,
        start: int,
        end: int,
        severity: Severity,
        policy: ContextPolicy,
        what: str,
    ) -> Candidate:
        score = BASE_SCORE[severity]
        return Candidate.matched(
            start=start,
            end=end,
            ground=Ground.AGE,
            severity=severity,
            rule_id=f"{self.lang}.age.numeric-{rule.name}",
            lang=self.lang,
            score=score,
            policy=policy,
            detail=f"age-limit rule {rule.name!r}: {what}",
        )
