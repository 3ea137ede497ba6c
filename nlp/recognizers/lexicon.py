"""The generic recognizer: every lexicon entry as phrases, token patterns or phrase pairs."""

from __future__ import annotations

from collections import defaultdict

from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span

from nlp.errors import LexiconError
from nlp.lexicon import LexiconEntry, NearPattern
from nlp.recognizers.anchored import AnchoredMatcher
from nlp.recognizers.base import BASE_SCORE, Candidate
from nlp.schema import Ground, Kind


class LexiconRecognizer:
    """Matches the entries of one language's lexicon files."""

    name = "lexicon"

    def __init__(self, nlp: Language, entries: list[tuple[Ground, LexiconEntry]]) -> None:
        self.lang = str(nlp.lang)
        self._entries: dict[str, tuple[Ground, LexiconEntry]] = {}
        self._lemma = PhraseMatcher(nlp.vocab, attr="LEMMA")
        self._lower = PhraseMatcher(nlp.vocab, attr="LOWER")
        self._tokens = Matcher(nlp.vocab)  # patterns without a literal anchor word
        # The rest, run around their anchors; stop words make poor anchors.
        self._anchored = AnchoredMatcher(nlp.vocab, frozenset(nlp.Defaults.stop_words))
        self._near_parts = PhraseMatcher(nlp.vocab, attr="LEMMA")
        self._near: dict[str, list[tuple[str, str, NearPattern]]] = defaultdict(list)
        # Every phrase that needs lemmas goes through one nlp.pipe call: one call per entry
        # was most of the start-up time (issue 7). Each doc is processed on its own, so the
        # docs are the same either way.
        phrases = [p for _, entry in entries if entry.match != "lower" for p in entry.phrases]
        phrases += [
            p for _, entry in entries for near in entry.near for p in near.left + near.right
        ]
        unique = list(dict.fromkeys(phrases))
        docs = dict(zip(unique, nlp.pipe(unique), strict=True))
        for ground, entry in entries:
            self._entries[entry.id] = (ground, entry)
            if entry.phrases:
                if entry.match == "lower":
                    self._lower.add(entry.id, [nlp.make_doc(p) for p in entry.phrases])
                else:
                    self._lemma.add(entry.id, [docs[p] for p in entry.phrases])
            if entry.patterns:
                for pattern in entry.patterns:
                    try:
                        if not self._anchored.add(entry.id, pattern):
                            self._tokens.add(entry.id, [pattern])
                    except (ValueError, KeyError) as exc:
                        raise LexiconError(
                            f"E010 entry {entry.id!r}: invalid token pattern: {exc}"
                        ) from exc
            for number, near in enumerate(entry.near):
                left_key = f"{entry.id}#near{number}L"
                right_key = f"{entry.id}#near{number}R"
                self._near_parts.add(left_key, [docs[p] for p in near.left])
                self._near_parts.add(right_key, [docs[p] for p in near.right])
                self._near[entry.id].append((left_key, right_key, near))

    def analyze(self, doc: Doc, kind: Kind) -> list[Candidate]:
        """Candidates for every entry that matches and applies to this kind of text."""
        spans: list[tuple[str, Span, str]] = []
        vocab = doc.vocab
        for matcher, how in (
            (self._lemma, "phrase"),
            (self._lower, "phrase"),
            (self._tokens, "pattern"),
            (self._anchored, "pattern"),
        ):
            if len(matcher) == 0:
                continue
            for match_id, start, end in matcher(doc):
                spans.append((vocab.strings[match_id], doc[start:end], how))
        spans.extend(self._near_matches(doc))
        candidates = []
        for rule_id, span, how in spans:
            ground, entry = self._entries[rule_id]
            if kind.value not in entry.kinds:
                continue
            trimmed = _trim(span)
            if trimmed is None:
                continue
            span = trimmed
            score = entry.score if entry.score is not None else BASE_SCORE[entry.severity]
            candidates.append(
                Candidate.matched(
                    start=span.start_char,
                    end=span.end_char,
                    ground=ground,
                    severity=entry.severity,
                    rule_id=rule_id,
                    lang=self.lang,
                    score=score,
                    policy=entry.context,
                    detail=f"{how} of lexicon entry {rule_id} matched {span.text!r}",
                )
            )
        return candidates

    def _near_matches(self, doc: Doc) -> list[tuple[str, Span, str]]:
        if not self._near or len(self._near_parts) == 0:
            return []
        found: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for match_id, start, end in self._near_parts(doc):
            found[doc.vocab.strings[match_id]].append((start, end))
        results = []
        for rule_id, pairs in self._near.items():
            for left_key, right_key, near in pairs:
                lefts, rights = found.get(left_key), found.get(right_key)
                if not lefts or not rights:
                    continue
                best: dict[int, tuple[int, int]] = {}
                for ls, le in lefts:
                    for rs, re_ in rights:
                        if doc[ls].sent.start != doc[rs].sent.start:
                            continue
                        if le <= rs:
                            gap, start, end = rs - le, ls, re_
                        elif not near.ordered and re_ <= ls:
                            gap, start, end = ls - re_, rs, le
                        else:
                            continue
                        if gap > near.max_gap or _has_break(doc, min(le, re_), max(ls, rs)):
                            continue
                        if start not in best or end - start < best[start][1] - best[start][0]:
                            best[start] = (start, end)
                for start, end in best.values():
                    results.append((rule_id, doc[start:end], "phrase pair"))
        return results


def _has_break(doc: Doc, start: int, end: int) -> bool:
    """Whether a sentence-internal hard break (line break, semicolon) lies between."""
    return any(t.text in (";",) or "\n" in t.text for t in doc[start:end])


def _trim(span: Span) -> Span | None:
    """Drop leading and trailing punctuation and whitespace tokens from a match."""
    start, end = span.start, span.end
    doc = span.doc
    while start < end and (doc[start].is_punct or doc[start].is_space):
        start += 1
    while end > start and (doc[end - 1].is_punct or doc[end - 1].is_space):
        end -= 1
    if start >= end:
        return None
    return doc[start:end]
