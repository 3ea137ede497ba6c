"""Mentions: words that name a protected characteristic, as weak candidates for the model.

The lexicon rules catch the phrases people write when they exclude someone; they cannot list
every way an employer explains a rejection ("met je autisme", "with your hearing aid"). A
mention of the characteristic is what such sentences share, and most sentences that mention
one are lawful (clients with autism, a prayer room for everyone). So a mention is proposed
as a weak candidate: context rules may drop it, and the model, which has seen mentions in
discriminatory and in lawful sentences, decides whether it becomes a finding.
"""

from __future__ import annotations

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc
from spacy.util import filter_spans

from nlp.lexicon import JUSTIFICATIONS, ContextPolicy, MentionTerms
from nlp.recognizers.base import Candidate
from nlp.schema import Ground, Kind, Severity

MENTION_SCORE = 0.5
# A mention in a description ("we work with clients with autism"), an inclusive statement,
# under a negation or beside an objective justification is not a finding: every context cue
# may drop it, except a bare "because": a reason given for an exclusion does not make it
# lawful ("... need not apply, because our clients ..."), and the model, which must confirm
# every mention, reads the reason in the sentence anyway.
MENTION_POLICY = ContextPolicy(
    inclusive=True,
    negation=True,
    description=True,
    justification=[name for name in JUSTIFICATIONS if name != "stated_reason"],
)


def mention_rule_id(lang: str, ground: Ground) -> str:
    """The rule id of a mention: `<lang>.mention.<ground>`."""
    return f"{lang}.mention.{ground.value}"


class MentionRecognizer:
    """Every whole-token occurrence of a mention term, as a weak candidate of its ground."""

    name = "mentions"

    def __init__(self, nlp: Language, terms: MentionTerms) -> None:
        self.lang = str(nlp.lang)
        self._matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        self._grounds: dict[int, Ground] = {}
        for ground, words in terms.grounds.items():
            key = mention_rule_id(self.lang, ground)
            self._matcher.add(key, [nlp.make_doc(word) for word in words])
            self._grounds[nlp.vocab.strings[key]] = ground

    def analyze(self, doc: Doc, kind: Kind) -> list[Candidate]:
        """Weak candidates for the mentions in `doc`; the longest where two overlap."""
        candidates = []
        for span in filter_spans(self._matcher(doc, as_spans=True)):
            ground = self._grounds[span.label]
            candidates.append(
                Candidate.matched(
                    start=span.start_char,
                    end=span.end_char,
                    ground=ground,
                    severity=Severity.IMPLICIT,
                    rule_id=mention_rule_id(self.lang, ground),
                    lang=self.lang,
                    score=MENTION_SCORE,
                    policy=MENTION_POLICY,
                    detail=f"mention of {ground.value}: {span.text!r}; "
                    "a finding only if the model confirms it",
                    weak=True,
                )
            )
        return candidates
