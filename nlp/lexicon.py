"""Lexicons as data: YAML files per language and ground, validated at load.

Layout under `nlp/lexicons/`:

- `grounds.yml`: labels, legal basis and default wording per ground;
- `<lang>/<ground>.yml`: the entries of one ground in one language;
- `<lang>/context.yml`: the cues that drop or lower candidates (inclusion, negation,
  descriptions of clients, objective justifications);
- `<lang>/gendered_titles.yml`: job titles in one sex's form, for the title recognizer.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from nlp.diskcache import cached
from nlp.errors import LexiconError
from nlp.schema import Ground, Severity

LEXICON_DIR = Path(__file__).with_name("lexicons")
LANGS = ("nl", "en")
JUSTIFICATIONS = (
    "age_minimum",
    "language_level",
    "safety_rule",
    "preference_policy",
    "religious_institution",
    "task",
    "stated_reason",
)
_SPECIAL_FILES = ("context.yml", "gendered_titles.yml", "lemma_overrides.yml", "mentions.yml")
_ID = re.compile(r"^(nl|en)\.[a-z_]+\.[a-z0-9][a-z0-9-]*$")


class Bilingual(BaseModel):
    """A text in Dutch and English; findings speak the language of the analysed text."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    nl: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        """The text in `lang` (`nl` or `en`)."""
        return self.en if lang == "en" else self.nl


class NearPattern(BaseModel):
    """Two phrase lists that together, within one clause, carry the problem."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    left: list[str] = Field(min_length=1)
    right: list[str] = Field(min_length=1)
    max_gap: int = Field(default=6, ge=0, le=20, description="tokens allowed between them")
    ordered: bool = Field(default=False, description="left must come before right")


class ContextPolicy(BaseModel):
    """Which context cues may drop a candidate of this entry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    inclusive: bool = True
    negation: bool = True
    description: bool = False
    justification: list[str] = Field(default_factory=list)

    @field_validator("justification")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(JUSTIFICATIONS))
        if unknown:
            raise ValueError(f"unknown justification {unknown}; known: {list(JUSTIFICATIONS)}")
        return value


class Examples(BaseModel):
    """Sentences the entry must flag and sentences it must leave alone."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    flag: list[str] = Field(min_length=1)
    pass_: list[str] = Field(default_factory=list, alias="pass")


def _both_kinds() -> list[Literal["vacancy", "rejection"]]:
    return ["vacancy", "rejection"]


class LexiconEntry(BaseModel):
    """One rule: phrases, token patterns or phrase pairs of one ground and severity."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    id: str
    severity: Severity
    phrases: list[str] = Field(default_factory=list)
    match: Literal["lemma", "lower"] = "lemma"
    patterns: list[list[dict[str, Any]]] = Field(default_factory=list)
    near: list[NearPattern] = Field(default_factory=list)
    kinds: list[Literal["vacancy", "rejection"]] = Field(default_factory=_both_kinds)
    score: float | None = Field(default=None, ge=0.0, le=1.0)
    context: ContextPolicy = Field(default_factory=ContextPolicy)
    explanation: Bilingual | None = None
    suggestion: Bilingual | None = None
    legal_basis: str | None = None
    note: str | None = None
    source: str | None = None
    examples: Examples

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("id must look like '<lang>.<ground>.<slug>', e.g. 'nl.age.jong-team'")
        return value

    @model_validator(mode="after")
    def _has_a_pattern(self) -> LexiconEntry:
        if not (self.phrases or self.patterns or self.near):
            raise ValueError("an entry needs at least one of phrases, patterns or near")
        return self

    @property
    def pattern_count(self) -> int:
        """How many distinct patterns the entry contributes (for the breadth figures)."""
        return (
            len(self.phrases)
            + len(self.patterns)
            + sum(len(n.left) + len(n.right) for n in self.near)
        )


class LexiconFile(BaseModel):
    """One `<lang>/<ground>.yml` file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lang: Literal["nl", "en"]
    ground: Ground
    entries: list[LexiconEntry] = Field(min_length=1)


class GroundInfo(BaseModel):
    """Labels, legal basis and default wording of one ground."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    label: Bilingual
    legal_basis: str
    description: Bilingual
    explanation: Bilingual
    suggestion: Bilingual


class ContextCues(BaseModel):
    """The cues of one language that drop or lower candidates in their context."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    inclusive: list[str] = Field(min_length=1)
    negation_before: list[str] = Field(min_length=1)
    negation_after: list[str] = Field(min_length=1)
    negation_window: int = Field(default=3, ge=1, le=8)
    # Phrases whose negator states the exclusion itself ("niet geschikt voor", "can't have"):
    # a negation inside one does not reverse the candidate.
    exclusion: list[str] = Field(default_factory=list)
    description: list[str] = Field(min_length=1)
    description_window: int = Field(default=6, ge=1, le=15)
    clause_breaks: list[str] = Field(min_length=1)
    justification: dict[str, list[str]]

    @field_validator("justification")
    @classmethod
    def _known_sets(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = sorted(set(value) - set(JUSTIFICATIONS))
        if unknown:
            raise ValueError(f"unknown justification set {unknown}; known: {list(JUSTIFICATIONS)}")
        return value


class GenderedTitles(BaseModel):
    """Job titles in one sex's form and the markers that make a title neutral."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    feminine: list[str]
    masculine: list[str]
    neutral_markers: list[str] = Field(min_length=1)
    subject_pronouns: list[str] = Field(min_length=1)
    inclusive_pronouns: list[str] = Field(min_length=1)
    person_nouns: list[str] = Field(min_length=1)


class MentionTerms(BaseModel):
    """Words that name a protected characteristic (autisme, hoofddoek, paspoort), per ground.

    A mention is a weak candidate: it becomes a finding only when the model, reading the
    whole sentence, confirms it. Without a model mentions are never findings.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    grounds: dict[Ground, list[str]]

    @field_validator("grounds")
    @classmethod
    def _one_ground_per_term(cls, value: dict[Ground, list[str]]) -> dict[Ground, list[str]]:
        seen: dict[str, Ground] = {}
        for ground, terms in value.items():
            for term in terms:
                key = " ".join(term.lower().split())
                if not key:
                    raise ValueError(f"an empty term under {ground.value}")
                if key in seen and seen[key] != ground:
                    raise ValueError(
                        f"term {term!r} is under both {seen[key].value} and {ground.value}"
                    )
                seen[key] = ground
        return value


class Lexicon(BaseModel):
    """Everything the recognizers and context rules read, for every language."""

    model_config = ConfigDict(frozen=True)

    grounds: dict[Ground, GroundInfo]
    files: dict[str, list[LexiconFile]]
    context: dict[str, ContextCues]
    titles: dict[str, GenderedTitles]
    mentions: dict[str, MentionTerms]
    digest: str

    def entries(self, lang: str) -> list[tuple[Ground, LexiconEntry]]:
        """Every entry of one language with its ground."""
        return [(f.ground, e) for f in self.files.get(lang, []) for e in f.entries]

    def pattern_counts(self) -> dict[str, int]:
        """Number of patterns per language (phrases, token patterns, phrase pairs)."""
        return {lang: sum(e.pattern_count for _, e in self.entries(lang)) for lang in self.files}


_SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path) -> Any:
    try:
        raw = path.read_bytes()
        # The C parser reads the lexicons several times faster than the pure-Python one
        # (issue 7: cold start); both build the same data with the safe constructor. Even
        # so, building the Python objects took 0.5 s: the result is cached by the bytes.
        text = raw.decode("utf-8")
        return cached("yaml", raw, lambda: yaml.load(text, Loader=_SAFE_LOADER))
    except FileNotFoundError as exc:
        raise LexiconError(f"E001 lexicon file missing: {path}") from exc
    except yaml.YAMLError as exc:
        raise LexiconError(f"E002 lexicon file is not valid YAML: {path}: {exc}") from exc


def _validate(model: type[BaseModel], data: Any, path: Path) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = list(err["loc"])
            where = ".".join(str(p) for p in loc)
            if len(loc) >= 2 and loc[0] == "entries" and isinstance(loc[1], int):
                entries = data.get("entries") if isinstance(data, dict) else None
                if isinstance(entries, list) and loc[1] < len(entries):
                    entry = entries[loc[1]]
                    if isinstance(entry, dict) and "id" in entry:
                        where = f"entry {entry['id']!r}: " + ".".join(str(p) for p in loc[2:])
            problems.append(f"{where}: {err['msg']}")
        raise LexiconError(f"E003 invalid lexicon file {path}: " + "; ".join(problems)) from exc


def load_lexicon(root: Path = LEXICON_DIR) -> Lexicon:
    """Read and validate every lexicon file under `root`; raise LexiconError naming the file."""
    import hashlib

    digest = hashlib.sha256()
    raw_grounds = _read_yaml(root / "grounds.yml")
    if not isinstance(raw_grounds, dict):
        raise LexiconError(f"E003 invalid lexicon file {root / 'grounds.yml'}: expected a mapping")
    grounds: dict[Ground, GroundInfo] = {}
    for code, info in raw_grounds.items():
        try:
            ground = Ground(code)
        except ValueError as exc:
            raise LexiconError(f"E004 unknown ground {code!r} in {root / 'grounds.yml'}") from exc
        grounds[ground] = _validate(GroundInfo, info, root / "grounds.yml")
    missing = sorted(set(Ground) - set(grounds))
    if missing:
        raise LexiconError(f"E004 grounds missing from {root / 'grounds.yml'}: {missing}")
    digest.update((root / "grounds.yml").read_bytes())

    files: dict[str, list[LexiconFile]] = {}
    context: dict[str, ContextCues] = {}
    titles: dict[str, GenderedTitles] = {}
    mentions: dict[str, MentionTerms] = {}
    seen_ids: dict[str, Path] = {}
    for lang in LANGS:
        folder = root / lang
        context_path = folder / "context.yml"
        context[lang] = _validate(ContextCues, _read_yaml(context_path), context_path)
        digest.update(context_path.read_bytes())
        titles_path = folder / "gendered_titles.yml"
        titles[lang] = _validate(GenderedTitles, _read_yaml(titles_path), titles_path)
        digest.update(titles_path.read_bytes())
        mentions_path = folder / "mentions.yml"
        mentions[lang] = _validate(MentionTerms, _read_yaml(mentions_path), mentions_path)
        digest.update(mentions_path.read_bytes())
        files[lang] = []
        for path in sorted(folder.glob("*.yml")):
            if path.name in _SPECIAL_FILES:
                if path.name == "lemma_overrides.yml":
                    digest.update(path.read_bytes())  # lemmas change what phrases match
                continue
            lexicon_file: LexiconFile = _validate(LexiconFile, _read_yaml(path), path)
            if lexicon_file.lang != lang:
                raise LexiconError(f"E005 {path} declares lang {lexicon_file.lang!r}")
            if path.stem != lexicon_file.ground.value:
                raise LexiconError(
                    f"E005 {path} declares ground {lexicon_file.ground.value!r}; "
                    "the file name must be the ground code"
                )
            for entry in lexicon_file.entries:
                prefix = f"{lang}.{lexicon_file.ground.value}."
                if not entry.id.startswith(prefix):
                    raise LexiconError(
                        f"E006 entry {entry.id!r} in {path} must start with {prefix!r}"
                    )
                if entry.id in seen_ids:
                    raise LexiconError(
                        f"E007 duplicate entry id {entry.id!r} in {path} and {seen_ids[entry.id]}"
                    )
                seen_ids[entry.id] = path
            _refuse_duplicate_phrases(lexicon_file, path)
            files[lang].append(lexicon_file)
            digest.update(path.read_bytes())
    return Lexicon(
        grounds=grounds,
        files=files,
        context=context,
        titles=titles,
        mentions=mentions,
        digest=digest.hexdigest(),
    )


def _refuse_duplicate_phrases(lexicon_file: LexiconFile, path: Path) -> None:
    counts = Counter(
        " ".join(p.lower().split()) for entry in lexicon_file.entries for p in entry.phrases
    )
    repeated = sorted(p for p, n in counts.items() if n > 1)
    if repeated:
        raise LexiconError(f"E008 phrases listed more than once in {path}: {repeated}")


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    """The packaged lexicon, loaded once per process."""
    return load_lexicon()
