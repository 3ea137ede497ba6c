"""Gendered job titles and "hij"-only vacancies: lists are data, the checks are code.

A female form ("gastvrouw", "receptioniste", "hostess") without a neutral marker such as
"(m/v/x)" is an implicit gender finding; a "-man" form is advisory, since Dutch often
uses it generically. A vacancy that speaks of the intern only as "hij" gets an advisory.
"""

from __future__ import annotations

import re

from spacy.attrs import LEMMA, LOWER
from spacy.strings import get_string_id
from spacy.tokens import Doc

from nlp.components import memoised
from nlp.lexicon import ContextPolicy, GenderedTitles
from nlp.pipeline import doc_text
from nlp.recognizers.base import BASE_SCORE, Candidate
from nlp.schema import Ground, Kind, Severity

_SELECTING = re.compile(
    r"\b(zoek\w*|gezocht|nodig|wil(?:len)?|liever|aannemen|looking|seeking|need(?:ed)?|want(?:ed)?|hire|hiring|prefer\w*)\b",
    re.IGNORECASE,
)
_TITLE_POLICY = ContextPolicy(inclusive=True, negation=True, description=False, justification=[])


def _marker_regex(markers: list[str]) -> re.Pattern[str]:
    alternatives = sorted((re.escape(m) for m in markers), key=len, reverse=True)
    return re.compile(r"(?<![\w/])(?:" + "|".join(alternatives) + r")(?![\w])", re.IGNORECASE)


class GenderedTitleRecognizer:
    """Finds job titles in one sex's form that are not balanced by a neutral marker."""

    name = "gendered-title"

    def __init__(self, lang: str, titles: GenderedTitles) -> None:
        self.lang = lang
        self._feminine = {t.lower() for t in titles.feminine}
        self._masculine = {t.lower() for t in titles.masculine}
        # Compounds: "beautystagiaire", "tandartsassistente", "hondenkapster".
        long_feminine = sorted(t for t in self._feminine if len(t) >= 7 and " " not in t)
        # Every long title and its plural as one tuple: one str.endswith call per word
        # instead of one per title (issue 7: most of this recognizer's time).
        self._long_feminine_endings = tuple(
            ending for title in long_feminine for ending in (title, title + "s")
        )
        self._neutral = _marker_regex(titles.neutral_markers)
        self._memo: dict[int, str] = {}  # LOWER hash -> _title(word) or ""

    def _title(self, lower: str) -> str | None:
        """'feminine' or 'masculine' for a title, its plural, or a compound ending in one."""
        forms = (lower, lower.removesuffix("s"), lower.removesuffix("en"), lower.removesuffix("es"))
        for form in forms:
            if form in self._feminine:
                return "feminine"
            if form in self._masculine:
                return "masculine"
        if lower.endswith(self._long_feminine_endings):
            return "feminine"
        return None

    def _titles(self, doc: Doc) -> list[str]:
        """`_title` of every token ("" for none), memoised by its lowercase form's hash.

        Reading each Token's text and testing every word was most of this recognizer's time
        on a vacancy without "(m/v/x)" (issue 7); the words of vacancies recur.
        """
        strings = doc.vocab.strings
        return memoised(
            self._memo,
            doc.to_array(LOWER).tolist(),
            lambda lower: self._title(strings[lower]) or "",
        )

    def analyze(self, doc: Doc, kind: Kind) -> list[Candidate]:
        """Candidates for gendered titles in vacancies, and in messages that select."""
        head = doc_text(doc)[:300]
        if self._neutral.search(head):
            return []
        candidates = []
        for i, title in enumerate(self._titles(doc)):
            if not title:
                continue
            token = doc[i]
            nxt = doc[token.i + 1] if token.i + 1 < len(doc) else None
            if nxt is not None and nxt.text.startswith(("(", "/")):
                continue  # "stagiair(e)", "gastvrouw/-heer", "(m/v)"
            prev = doc[token.i - 1] if token.i > 0 else None
            if prev is not None and prev.text.endswith("/"):
                continue
            sent = token.sent
            if self._neutral.search(sent.text):
                continue
            if kind is Kind.REJECTION and not _SELECTING.search(sent.text):
                continue
            severity = Severity.IMPLICIT if title == "feminine" else Severity.ADVISORY
            score = BASE_SCORE[severity]
            candidates.append(
                Candidate.matched(
                    start=token.idx,
                    end=token.idx + len(token.text),
                    ground=Ground.GENDER,
                    severity=severity,
                    rule_id=f"{self.lang}.gender.{'female' if severity is Severity.IMPLICIT else 'male'}-title",
                    lang=self.lang,
                    score=score,
                    policy=_TITLE_POLICY,
                    detail=f"gendered job title {token.text!r} without (m/v/x)",
                )
            )
        return candidates


class PronounRecognizer:
    """Advises when a vacancy refers to the intern only with a male pronoun."""

    name = "male-pronoun"

    def __init__(self, lang: str, titles: GenderedTitles) -> None:
        self.lang = lang
        # Lowercase words as string hashes: tokens are read as one array of LOWER and LEMMA
        # hashes, not as Token objects (three passes over the doc were 0.1 ms a vacancy).
        self._male_ids = {get_string_id(p.lower()) for p in titles.subject_pronouns}
        self._inclusive_ids = {get_string_id(p.lower()) for p in titles.inclusive_pronouns}
        self._person_ids = {get_string_id(p.lower()) for p in titles.person_nouns}

    def analyze(self, doc: Doc, kind: Kind) -> list[Candidate]:
        """One advisory candidate at the first male pronoun of a "hij"-only vacancy."""
        if kind is not Kind.VACANCY or not len(doc):
            return []
        lowers, lemmas = doc.to_array([LOWER, LEMMA]).T.tolist()
        if not self._inclusive_ids.isdisjoint(lowers):
            return []
        if self._person_ids.isdisjoint(lemmas) and self._person_ids.isdisjoint(lowers):
            return []
        index = next((i for i, w in enumerate(lowers) if w in self._male_ids), None)
        if index is None:
            return []
        first = doc[index]
        score = BASE_SCORE[Severity.ADVISORY]
        return [
            Candidate.matched(
                start=first.idx,
                end=first.idx + len(first.text),
                ground=Ground.GENDER,
                severity=Severity.ADVISORY,
                rule_id=f"{self.lang}.gender.male-pronoun-only",
                lang=self.lang,
                score=score,
                policy=ContextPolicy(inclusive=False, negation=False),
                detail="the vacancy refers to the intern only with a male pronoun",
            )
        ]
