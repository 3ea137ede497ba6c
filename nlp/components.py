"""Custom spaCy components, registered by name."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Protocol, TypeVar, cast

import numpy
import yaml
from spacy.attrs import IS_PUNCT, IS_SPACE, LEMMA, LOWER, ORTH, SENT_START
from spacy.language import Language
from spacy.lookups import load_lookups
from spacy.pipeline import Sentencizer
from spacy.strings import get_string_id
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc
from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex, registry

from nlp.diskcache import cached

_POS_ORDER = ("noun", "adj", "verb")
MEMO_SIZE = 200_000  # entries of a per-word memo; refilled cheaply when emptied

K = TypeVar("K")
V = TypeVar("V")


def memoised(memo: dict[K, V], keys: list[K], compute: Callable[[K], V]) -> list[V]:
    """`compute(key)` for every key, each distinct key computed once and kept in `memo`.

    The memo is emptied when it outgrows MEMO_SIZE. Looking the keys up through `map` keeps
    the usual case (every word of a text seen before) out of a Python loop (issue 7).
    `compute` must not return None.
    """
    if len(memo) > MEMO_SIZE:
        memo.clear()
    found = list(map(memo.get, keys))
    if None in found:
        for i, key in enumerate(keys):
            if found[i] is None:
                value = memo.get(key)
                if value is None:
                    value = memo[key] = compute(key)
                found[i] = value
    return cast(list[V], found)


def _lemma_function(lang: str) -> Callable[[str], str]:
    """A context-free lemmatizer over spacy-lookups-data's tables, without POS tags.

    spaCy's lookup table lists inflected forms only ("vrouwen" is missing, "jong" too),
    and the rule mode needs POS tags, which a blank pipeline lacks. The exception lists
    are noisy across parts of speech (verb "jongen" makes "jong" a verb form), so the
    order is: the lookup table; noun exceptions; a word that is itself a known lemma
    stays; adjective, then verb exceptions; suffix rules that must land on a known lemma
    of that part of speech. `lexicons/<lang>/lemma_overrides.yml` fixes what remains.
    """
    tables = cached(
        "lemma-tables-hashed",
        f"{lang}:{_lookups_version()}".encode(),
        lambda: _hashed(_lemma_tables(lang)),
    )
    return lemmatizer(tables, _overrides(lang))


def lemmatizer(tables: LemmaTables, overrides: dict[str, str]) -> Callable[[str], str]:
    """The lemma of a lowercase word, from `tables` (see `_lemma_function`).

    Not memoised here: the pipeline component memoises the lemma of each word's hash.
    """
    lookup, known, per_pos = tables

    def lemma(lower: str) -> str:
        if lower in overrides:
            return overrides[lower]
        found = lookup.get(get_string_id(lower))
        if found:
            return found
        noun = per_pos["noun"][0].get(lower)
        if noun:
            return noun
        if lower in known:
            return lower  # already a lemma: the lookup table has no entries for base forms
        for pos in ("adj", "verb"):
            form = per_pos[pos][0].get(lower)
            if form:
                return form
        for pos in _POS_ORDER:
            _, suffix_rules, pos_known = per_pos[pos]
            for old, new in suffix_rules:
                if old and lower.endswith(old):
                    candidate = lower[: len(lower) - len(old)] + new
                    if candidate in pos_known:
                        return candidate
        return lower

    return lemma


class LemmaTable(Protocol):
    """The lookup table: a lowercase lemma by the hash of an inflected form."""

    def get(self, key: int, /) -> str | None: ...


class WordSet(Protocol):
    """Known lemmas."""

    def __contains__(self, word: object, /) -> bool: ...


# The lookup table, the known lemmas, and per part of speech: the first form of each
# exception, the suffix rules, and the known lemmas of that part of speech.
LemmaTables = tuple[
    LemmaTable,
    WordSet,
    Mapping[str, tuple[dict[str, str], list[tuple[str, str]], WordSet]],
]
# The same as spacy-lookups-data gives them: Python dicts and sets.
_PlainTables = tuple[
    dict[int, str],
    set[str],
    dict[str, tuple[dict[str, str], list[tuple[str, str]], set[str]]],
]


def _lemma_tables(lang: str) -> _PlainTables:
    """spacy-lookups-data's lemma tables for `lang`, as Python dicts and sets.

    About 1 s for Dutch, mostly reading the tables: `_lemma_function` caches them on disk
    (nlp/diskcache.py) in the form `_hashed` gives them, keyed by the installed
    spacy-lookups-data.
    """
    tables = load_lookups(lang, ["lemma_lookup", "lemma_rules", "lemma_exc", "lemma_index"])
    lookup_table = tables.get_table("lemma_lookup")
    rules = tables.get_table("lemma_rules")
    exceptions = tables.get_table("lemma_exc")
    index = tables.get_table("lemma_index")
    # The table's keys are string hashes (spaCy's Table hashes on the way in and out).
    lookup = {int(k): str(v).lower() for k, v in lookup_table.items() if isinstance(v, str) and v}
    known: set[str] = {str(v) for v in lookup_table.values() if isinstance(v, str)}
    per_pos: dict[str, tuple[dict[str, str], list[tuple[str, str]], set[str]]] = {}
    for pos in _POS_ORDER:
        words = {str(w) for w in (index.get(pos) or [])}
        known.update(words)
        first_forms = {
            str(word): str(forms[0]).lower()
            for word, forms in (exceptions.get(pos, {}) or {}).items()
            if forms
        }
        per_pos[pos] = (
            first_forms,
            [(str(a), str(b)) for a, b in (rules.get(pos, []) or [])],
            words,
        )
    return lookup, known, per_pos


def _hashed(tables: _PlainTables) -> LemmaTables:
    """`tables` with the lookup table and the sets of known lemmas as arrays of hashes."""
    lookup, known, per_pos = tables
    hashed_pos = {
        pos: (first_forms, rules, HashedWords(words))
        for pos, (first_forms, rules, words) in per_pos.items()
    }
    return HashedLookup(lookup), HashedWords(known), hashed_pos


class HashedWords:
    """A set of words kept as the sorted array of their spaCy string hashes.

    The Dutch lemma tables held 400,000 Python strings in sets and a dict: 60 MB a process,
    and 0.2 s of every start to unpickle (issue 7). As arrays they are a few MB, and
    unpickle in milliseconds. Two words with the same 64-bit hash would be taken for each
    other; among these few hundred thousand words the chance is about one in 10^9.
    """

    def __init__(self, words: set[str]) -> None:
        hashes = numpy.fromiter(map(get_string_id, words), dtype=numpy.uint64, count=len(words))
        self._hashes = numpy.unique(hashes)

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and _position(self._hashes, get_string_id(word)) >= 0

    def __len__(self) -> int:
        return len(self._hashes)


class HashedLookup:
    """A lemma by the hash of a word: sorted hashes, and the lemmas in one string."""

    def __init__(self, lemmas: dict[int, str]) -> None:
        keys = sorted(lemmas)
        values = [lemmas[key] for key in keys]
        self._keys = numpy.array(keys, dtype=numpy.uint64)
        self._text = "".join(values)
        self._ends = numpy.cumsum([len(value) for value in values], dtype=numpy.int64)

    def get(self, key: int, /) -> str | None:
        """The lemma stored for `key`, or None."""
        i = _position(self._keys, key)
        if i < 0:
            return None
        start = int(self._ends[i - 1]) if i else 0
        return self._text[start : int(self._ends[i])]

    def __len__(self) -> int:
        return len(self._keys)


def _position(hashes: numpy.ndarray, key: int) -> int:
    """Where `key` is in the sorted array `hashes`, or -1."""
    value = numpy.uint64(key)
    i = int(numpy.searchsorted(hashes, value))
    return i if i < len(hashes) and hashes[i] == value else -1


def _lookups_version() -> str:
    try:
        return version("spacy-lookups-data")
    except PackageNotFoundError:
        return "unknown"


def _overrides(lang: str) -> dict[str, str]:
    path = Path(__file__).with_name("lexicons") / lang / "lemma_overrides.yml"
    if not path.exists():
        return {}
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    return {str(k).lower(): str(v).lower() for k, v in data.items()}


@registry.tokenizers("stagecheck.Tokenizer.v1")
def create_stagecheck_tokenizer() -> Callable[[Language], Tokenizer]:
    """spaCy's tokenizer for the language, less its special cases that are whitespace only.

    Those cases (" ", "\\n", "\\t", "\\xa0") give the token spaCy makes anyway. But after
    any special case the tokenizer stops caching for the rest of the text (spaCy issue
    #13950), so from the first line break on it split every word again from scratch: 0.6 of
    the 0.7 ms it took per generated vacancy. The tokens are the same; only the NORM of a
    no-break space is now the character itself rather than two spaces.
    The rest is spaCy's own `create_tokenizer` (spacy/language.py).
    """

    def tokenizer_factory(nlp: Language) -> Tokenizer:
        defaults = nlp.Defaults
        rules = {
            text: cases for text, cases in defaults.tokenizer_exceptions.items() if text.strip()
        }
        prefixes, suffixes, infixes = defaults.prefixes, defaults.suffixes, defaults.infixes
        return Tokenizer(
            nlp.vocab,
            rules=rules,
            prefix_search=compile_prefix_regex(prefixes).search if prefixes else None,
            suffix_search=compile_suffix_regex(suffixes).search if suffixes else None,
            infix_finditer=compile_infix_regex(infixes).finditer if infixes else None,
            token_match=defaults.token_match,
            url_match=defaults.url_match,
        )

    return tokenizer_factory


@Language.factory("stagecheck_lemmatizer")
def create_stagecheck_lemmatizer(nlp: Language, name: str) -> Callable[[Doc], Doc]:
    """Set a lowercase lemma on every token from spacy-lookups-data's tables."""
    lemma = _lemma_function(str(nlp.lang))
    strings = nlp.vocab.strings
    lemma_ids: dict[int, int] = {}  # LOWER hash -> LEMMA hash, the strings in the store

    def lemma_id(lower: int) -> int:
        return strings.add(lemma(strings[lower]))

    def lemmatize(doc: Doc) -> Doc:
        # Hashes in, hashes out through one array: setting token.lemma_ token by token
        # was most of this component's time (issue 7).
        found = memoised(lemma_ids, doc.to_array(LOWER).tolist(), lemma_id)
        lemmas = numpy.asarray(found, dtype=numpy.uint64).reshape(-1, 1)
        doc.from_array([LEMMA], lemmas)  # type: ignore[arg-type]  # spaCy's stub: Ints2d
        return doc

    return lemmatize


@Language.component("stagecheck_line_breaks")
def split_at_line_breaks(doc: Doc) -> Doc:
    """Start a sentence after every line break: titles, bullets and list items are units.

    The sentencizer splits on punctuation only, so a heading without a full stop ran into
    the paragraph below it, and the context rules and the model saw one long "sentence".
    """
    # Whitespace tokens found through one array, and the starts set through one array:
    # reading every token, then setting each start on its Token, was most of the time.
    if len(doc) < 2:
        return doc
    array = doc.to_array([IS_SPACE, ORTH, SENT_START])
    strings = doc.vocab.strings
    starts = array[:, 2].copy()
    changed = False
    for i in numpy.flatnonzero(array[:-1, 0]).tolist():
        if "\n" in strings[int(array[i, 1])]:
            starts[i + 1] = 1
            changed = True
    if changed:
        doc.from_array([SENT_START], starts.reshape(-1, 1))  # type: ignore[arg-type]
    return doc


@Language.factory("stagecheck_sentencizer")
def create_stagecheck_sentencizer(nlp: Language, name: str) -> Callable[[Doc], Doc]:
    """spaCy's rule-based Sentencizer with its default punctuation, through arrays.

    The same rule as `Sentencizer.predict` (a sentence starts at the first token that is
    neither punctuation nor a sentence-final character after one), but the tokens are read
    as one array of hashes instead of Token objects: the sentencizer was a tenth of the
    pipeline's time (issue 7). Placed first after the tokenizer, where no token has a
    sentence start yet, so setting all of them is what the Sentencizer does.
    """
    strings = nlp.vocab.strings
    finals = {strings.add(char) for char in Sentencizer.default_punct_chars}

    def sentencize(doc: Doc) -> Doc:
        if not len(doc):
            return doc
        orths, puncts = doc.to_array([ORTH, IS_PUNCT]).T.tolist()
        starts = [-1] * len(orths)
        starts[0] = 1
        seen_final = False
        for i, orth in enumerate(orths):
            is_final = orth in finals
            if seen_final and not puncts[i] and not is_final:
                starts[i] = 1
                seen_final = False
            elif is_final:
                seen_final = True
        values = numpy.asarray(starts, dtype=numpy.int64).reshape(-1, 1)
        doc.from_array([SENT_START], values.astype(numpy.uint64))  # type: ignore[arg-type]
        return doc

    return sentencize
