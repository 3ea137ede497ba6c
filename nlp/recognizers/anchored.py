"""Token patterns run only around the words they cannot match without.

Running every lexicon token pattern over every whole text was most of the analysis time
(issue 7: 77% of 72 ms per text), even with a gate that skipped patterns whose required
word is absent. Each pattern here is indexed by its anchor: the smallest set of literal
words one of which its required tokens need (the rarest such set), or failing that the
regex of a required token. A pattern runs only when every other required word occurs too,
and every other required regex finds a word (a required "pvv-shirt" or "18+" regex beside
common anchor words like "had" or "geen" called the Matcher eight times a vacancy for
nothing). Its spaCy Matcher then runs only on windows of `reach` tokens either side of the
anchor's occurrences, `reach` being the most tokens a match can span, and only on those
windows that hold every other required word. Every match contains an occurrence of the
anchor and spans at most `reach` tokens, so the windows hold every match the Matcher would
find in the whole doc, in the same order (tests/nlp/test_anchored.py checks this against
the plain Matcher). Patterns that can match an unbounded run of tokens ("*", "+") still run
on the whole doc, but only when their anchor occurs.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from spacy.attrs import LEMMA, LOWER, NORM
from spacy.matcher import Matcher
from spacy.tokens import Doc
from spacy.vocab import Vocab

from nlp.components import memoised

# The attributes whose literal values can anchor a pattern, and the OP values of a token
# that must occur exactly once.
_LITERAL_ATTRS = ("LOWER", "LEMMA", "ORTH", "TEXT", "NORM")
_REQUIRED_OPS = (None, "1")
_RANGE = re.compile(r"^\{(\d*)(,?)(\d*)\}$")


def required_words(pattern: list[dict[str, Any]]) -> list[frozenset[str]]:
    """For each required token (no OP, or OP "1") with literal values, its words, lowercased.

    A match needs, for every set, a token whose lowercase form, lemma or norm is in it.
    """
    required: list[frozenset[str]] = []
    for token in pattern:
        if token.get("OP") not in _REQUIRED_OPS:
            continue
        for attr in _LITERAL_ATTRS:
            value = token.get(attr)
            if isinstance(value, str):
                required.append(frozenset({value.lower()}))
            elif isinstance(value, dict) and set(value) == {"IN"}:
                required.append(frozenset(str(v).lower() for v in value["IN"]))
    return required


def pattern_anchor(
    pattern: list[dict[str, Any]], common: frozenset[str] = frozenset()
) -> frozenset[str] | None:
    """The rarest of the pattern's required word sets; None when it has none.

    Rarity is estimated without frequencies: a set holding a `common` word (the language's
    stop words: "je", "een", "geen") or a punctuation mark occurs in almost every vacancy,
    so any set without one wins; among equals the smallest set wins, then the first.
    """
    best: frozenset[str] | None = None
    best_cost = 0
    for words in required_words(pattern):
        cost = sum(_frequent(word, common) for word in words)
        if best is None or cost < best_cost:
            best, best_cost = words, cost
    return best


def required_regexes(pattern: list[dict[str, Any]]) -> list[str]:
    """The LOWER regexes of the pattern's required tokens, in order.

    The Matcher applies each with re.search to a token's lowercase form, so a match needs,
    for every one, a word of the text that it finds.
    """
    regexes = []
    for token in pattern:
        value = token.get("LOWER")
        if token.get("OP") in _REQUIRED_OPS and isinstance(value, dict) and set(value) == {"REGEX"}:
            regexes.append(str(value["REGEX"]))
    return regexes


def _frequent(word: str, common: frozenset[str]) -> int:
    """The estimated cost of anchoring on `word`: high for stop words and punctuation."""
    return 1_000 if word in common or not any(ch.isalnum() for ch in word) else 1


def pattern_reach(pattern: list[dict[str, Any]]) -> int | None:
    """The most tokens a match of `pattern` can span (or look at); None when unbounded.

    A negated token ("!") consumes nothing but is inspected, so it counts as one.
    """
    reach = 0
    for token in pattern:
        op = token.get("OP")
        if op in (None, "1", "?", "!"):
            reach += 1
            continue
        if op in ("*", "+"):
            return None
        found = _RANGE.match(str(op))
        if found is None:
            return None  # an operator this module does not know: be safe, run everywhere
        low, comma, high = found.groups()
        if comma and not high:
            return None  # {n,}: unbounded
        reach += int(high) if high else int(low)
    return reach


@dataclass(frozen=True)
class _Anchored:
    """One token pattern with its own Matcher, anchor words, other required words, reach."""

    matcher: Matcher
    anchor: frozenset[str]
    others: tuple[frozenset[str], ...]
    reach: int | None
    regex: int | None  # anchors on the words this regex (an index) finds, instead
    regexes: tuple[int, ...]  # the other required regexes: each must find a word too


def _keys(lower: str, lemma: str, norm: str) -> tuple[str, ...]:
    """A token's distinct keys: its lowercase form, then its lemma and norm, lowercased."""
    keys = [lower]
    lemma = lemma.lower()
    if lemma != lower:
        keys.append(lemma)
    norm = norm.lower()
    if norm != lower and norm != lemma:
        keys.append(norm)
    return tuple(keys)


class AnchoredMatcher:
    """A drop-in for one spaCy Matcher holding only anchored patterns, much faster.

    A pattern's anchor is a set of literal words or, failing that, a LOWER regex of one of
    its required tokens. `add` refuses (returns False) a pattern with neither; keep those
    in a plain Matcher. Calling it returns (match_id, start, end) triples like Matcher.__call__:
    patterns in the order they were added, each pattern's matches in the Matcher's order.
    """

    def __init__(self, vocab: Vocab, common: frozenset[str] = frozenset()) -> None:
        """`common`: the language's most frequent words, never chosen as an anchor if avoidable."""
        self._vocab = vocab
        self._common = common
        self._patterns: list[_Anchored] = []
        self._by_word: dict[str, list[int]] = defaultdict(list)
        self._regexes: list[re.Pattern[str]] = []  # every required LOWER regex, once
        self._regex_ids: dict[str, int] = {}
        self._by_regex: dict[int, list[int]] = defaultdict(list)  # regex -> patterns it anchors
        self._regex_memo: dict[str, tuple[int, ...]] = {}  # word -> the regexes that find it
        self._literal: set[str] = set()  # every anchor and other required word
        # (lower, lemma, norm) hashes -> the token's keys that any pattern can use
        self._keys_memo: dict[tuple[int, int, int], tuple[str, ...]] = {}

    def __len__(self) -> int:
        return len(self._patterns)

    def add(self, key: str, pattern: list[dict[str, Any]]) -> bool:
        """Add one pattern under `key`; False (and nothing added) when it has no anchor.

        Raises what Matcher.add raises for an invalid pattern.
        """
        anchor = pattern_anchor(pattern, self._common)
        regexes = [self._regex_id(regex) for regex in required_regexes(pattern)]
        if anchor is None and not regexes:
            return False
        matcher = Matcher(self._vocab)
        matcher.add(key, [pattern])
        others = tuple(dict.fromkeys(w for w in required_words(pattern) if w != anchor))
        # Without literal words the first regex anchors; the rest, like words, only filter.
        regex = regexes.pop(0) if anchor is None else None
        index = len(self._patterns)
        self._patterns.append(
            _Anchored(
                matcher,
                anchor or frozenset(),
                others,
                pattern_reach(pattern),
                regex,
                tuple(dict.fromkeys(regexes)),
            )
        )
        if regex is not None:
            self._by_regex[regex].append(index)
        for word in anchor or ():
            self._by_word[word].append(index)
        self._literal.update(anchor or (), *others)
        self._regex_memo.clear()  # both memos depend on the patterns added so far
        self._keys_memo.clear()
        return True

    def _regex_id(self, regex: str) -> int:
        """The index of `regex` in self._regexes, added when new."""
        if regex not in self._regex_ids:
            self._regex_ids[regex] = len(self._regexes)
            self._regexes.append(re.compile(regex))
        return self._regex_ids[regex]

    def _regex_hits(self, word: str) -> tuple[int, ...]:
        """The required regexes (as indexes) that find `word`."""
        return tuple(i for i, regex in enumerate(self._regexes) if regex.search(word))

    def positions(self, doc: Doc) -> dict[str, list[int]]:
        """The positions of the words of `doc` that any pattern can use, under each key.

        A token's keys are its lowercase form, lemma and norm, lowercased. Only keys that
        are a pattern's literal word, or that one of its required regexes finds, are kept:
        the rest could neither anchor nor complete a match, and most words of a text are
        such.
        """
        strings = doc.vocab.strings

        def usable_keys(ids: tuple[int, int, int]) -> tuple[str, ...]:
            return tuple(
                key
                for key in _keys(strings[ids[0]], strings[ids[1]], strings[ids[2]])
                if key in self._literal or self._regex_hits_of([key])[0]
            )

        # Reading token.lower_, .lemma_ and .norm_ token by token was most of this
        # function's time; the three hashes come as one array, each combination memoised.
        lowers, lemmas, norms = doc.to_array([LOWER, LEMMA, NORM]).T.tolist()
        ids = list(zip(lowers, lemmas, norms, strict=True))
        positions: dict[str, list[int]] = defaultdict(list)
        for i, keys in enumerate(memoised(self._keys_memo, ids, usable_keys)):
            for key in keys:
                positions[key].append(i)
        return positions

    def _regex_hits_of(self, words: list[str]) -> list[tuple[int, ...]]:
        """`_regex_hits` of each word, memoised."""
        return memoised(self._regex_memo, words, self._regex_hits)

    def __call__(self, doc: Doc) -> list[tuple[int, int, int]]:
        """Every match in `doc`."""
        positions = self.positions(doc)
        by_word = self._by_word
        hit: set[int] = set()
        for word in positions:
            indexes = by_word.get(word)
            if indexes is not None:
                hit.update(indexes)
        found_by: dict[int, frozenset[str]] = {}  # regex -> the words it finds here
        if self._regexes:
            words_of: dict[int, list[str]] = defaultdict(list)
            words = list(positions)
            for word, hits in zip(words, self._regex_hits_of(words), strict=True):
                for regex in hits:
                    words_of[regex].append(word)
            found_by = {regex: frozenset(words) for regex, words in words_of.items()}
            for regex in found_by:
                hit.update(self._by_regex.get(regex, ()))
        matches: list[tuple[int, int, int]] = []
        length = len(doc)
        found: dict[frozenset[str], list[int]] = {}  # sorted positions per word set
        present = set(positions)
        for index in sorted(hit):
            pattern = self._patterns[index]
            if any(words.isdisjoint(present) for words in pattern.others):
                continue  # another required word is absent: it cannot match
            if any(regex not in found_by for regex in pattern.regexes):
                continue  # no word for a required regex ("hoofddoek", "pvv-shirt", "18+")
            if pattern.reach is None:
                matches.extend(pattern.matcher(doc))
                continue
            anchor = found_by[pattern.regex] if pattern.regex is not None else pattern.anchor
            required = (*pattern.others, *(found_by[regex] for regex in pattern.regexes))
            occurrences = sorted({i for word in anchor for i in positions.get(word, ())})
            for start, end in _windows(occurrences, pattern.reach, length):
                # A match inside the window holds every required word: most windows lack
                # one, and calling a Matcher on a span costs far more than this check.
                if not all(
                    _any_between(_positions_of(words, positions, found), start, end)
                    for words in required
                ):
                    continue
                for match_id, match_start, match_end in pattern.matcher(doc[start:end]):
                    matches.append((match_id, start + match_start, start + match_end))
        return matches


def _positions_of(
    words: frozenset[str],
    positions: dict[str, list[int]],
    memo: dict[frozenset[str], list[int]],
) -> list[int]:
    """The sorted token positions of any of `words`, memoised for one doc."""
    found = memo.get(words)
    if found is None:
        found = memo[words] = sorted({i for word in words for i in positions.get(word, ())})
    return found


def _any_between(sorted_positions: list[int], start: int, end: int) -> bool:
    """Whether any of `sorted_positions` lies in [start, end)."""
    k = bisect_left(sorted_positions, start)
    return k < len(sorted_positions) and sorted_positions[k] < end


def _windows(occurrences: list[int], reach: int, length: int) -> list[tuple[int, int]]:
    """Disjoint token ranges covering `reach` tokens either side of each occurrence."""
    windows: list[tuple[int, int]] = []
    for i in occurrences:
        start, end = max(0, i - reach + 1), min(length, i + reach)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(windows[-1][1], end))
        else:
            windows.append((start, end))
    return windows
