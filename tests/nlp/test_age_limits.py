"""Numeric age limits: the comparisons lexicon data cannot express."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlp.analyzer import Analyzer
from nlp.recognizers.age import _lowered
from nlp.recognizers.age import _rules as _age_rules

AGE_TABLE = [
    # text, expected quote, severity (None: no age finding)
    ("Wij zoeken een stagiair van max. 22 jaar.", "max. 22 jaar", "explicit"),
    ("Leeftijd: 16-19 jaar.", "16-19 jaar", "explicit"),
    ("Je bent tussen de 18 en 23 jaar oud.", "tussen de 18 en 23 jaar oud", "explicit"),
    ("Je bent niet ouder dan 25 jr.", "niet ouder dan 25 jr.", "explicit"),
    ("Kandidaten van 25 jaar of jonger kunnen reageren.", "25 jaar of jonger", "explicit"),
    ("Je hebt maximaal 3 jaar werkervaring.", "maximaal 3 jaar werkervaring", "implicit"),
    ("Je bent 18+.", "18+", "implicit"),
    ("Minimaal 21 jaar.", "Minimaal 21 jaar", "explicit"),
    ("Applicants must be aged 18-25.", "aged 18-25", "explicit"),
    ("You are no older than 24 years.", "no older than 24 years", "explicit"),
    ("Max 2 years of experience.", "Max 2 years of experience", "implicit"),
    # lawful or not an age limit at all
    ("Je bent minimaal 18 jaar vanwege het schenken van alcohol.", None, None),
    ("Vanwege nachtdiensten ben je 18 jaar of ouder.", None, None),
    ("We werken met jongeren van 12 tot 23 jaar.", None, None),
    ("In de bso vangen we kinderen van 4 tot 12 jaar op.", None, None),
    ("Onze klanten zijn vaak 65+.", None, None),
    ("Je hebt minimaal 2 jaar ervaring met Excel.", None, None),
    ("Het bedrijf bestaat al 25 jaar.", None, None),
    ("De stage duurt maximaal 1 jaar.", None, None),
    ("You must be 18 or older because you will serve alcohol.", None, None),
    ("Werktijden van 9 tot 17 uur.", None, None),
    ("Leeftijd speelt geen rol: of je nu 17 of 45 bent, je bent welkom.", None, None),
]


@pytest.mark.parametrize(("text", "quote", "severity"), AGE_TABLE)
def test_numeric_age_limits(
    rules: Analyzer, text: str, quote: str | None, severity: str | None
) -> None:
    result = rules.analyze(text)
    age = [f for f in result.findings if f.ground == "age"]
    if quote is None:
        assert age == [], [f.quote for f in age]
        return
    start = text.index(quote)
    overlapping = [f for f in age if f.start < start + len(quote) and start < f.end]
    assert overlapping, [f.quote for f in age]
    assert overlapping[0].severity.value == severity
    numeric = [f for f in age if f.rule_id and "numeric" in f.rule_id]
    assert all(f.quote == quote for f in numeric), [f.quote for f in numeric]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bij ons werken mannen en vrouwen van 16 tot 67 jaar.", []),
        ("Je bent niet ouder dan 25, want je komt in een jong team.", ["niet ouder dan 25"]),
        ("Candidates should be no older than 24.", ["no older than 24"]),
        ("Je bent 18 jaar of ouder, omdat je meeloopt tijdens avonddiensten.", []),
    ],
)
def test_age_limit_edge_cases(rules: Analyzer, text: str, expected: list[str]) -> None:
    numeric = [
        f.quote for f in rules.analyze(text).findings if f.rule_id and "numeric" in f.rule_id
    ]
    assert numeric == expected


def test_legal_age_threshold_with_its_reason_is_lawful(rules: Analyzer) -> None:
    text = "Er geldt een wettelijke leeftijdsgrens van 18 jaar voor het schenken van alcohol."
    assert rules.analyze(text).verdict == "ok"


@pytest.mark.parametrize(
    ("text", "quote"),
    [
        ("Wij zoeken serveersters voor het terras.", "serveersters"),
        ("Beautystagiaire gezocht!", "Beautystagiaire"),
        ("Tandartsassistente gezocht in Delft.", "Tandartsassistente"),
    ],
)
def test_gendered_titles_in_plural_and_compounds(rules: Analyzer, text: str, quote: str) -> None:
    findings = [f for f in rules.analyze(text).findings if f.ground == "gender"]
    assert [f.quote for f in findings] == [quote]
    assert rules.analyze(text.replace(quote, quote + " (m/v/x)")).verdict == "ok"


def test_negation_does_not_reach_across_a_list(rules: Analyzer) -> None:
    result = rules.analyze("Je hebt geen beperking, en bent liefst een jonge knul.")
    assert result.verdict != "ok"


# -- the gates that spare most texts the age regexes (issue 7) --------------------------


def test_case_traps_are_every_character_that_folds_to_ascii() -> None:
    """The literal test lowercases the text; these are the characters where that and
    re.IGNORECASE disagree about ASCII words, so a text holding one runs every rule."""
    import re
    import string

    from nlp.recognizers.age import CASE_TRAPS

    ascii_letter = re.compile("[a-z]", re.IGNORECASE)
    found = {
        char
        for char in map(chr, range(128, 0x110000))
        if ascii_letter.match(char) or any(c in string.printable for c in char.lower())
    }
    assert found == CASE_TRAPS


_RULES = [(lang, rule) for lang in ("nl", "en") for rule in _age_rules(lang)]


@pytest.mark.parametrize(("lang", "rule"), _RULES, ids=[f"{lang}-{r.name}" for lang, r in _RULES])
@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_match_passes_its_rules_gate(lang: str, rule: Any, data: st.DataObject) -> None:
    """A rule's words and gate are necessary: texts that match its regex pass both."""
    text = data.draw(st.from_regex(rule.regex, fullmatch=False))
    if rule.regex.search(text) is None:
        return
    lowered = _lowered(text)
    if lowered is not None:
        assert any(word in lowered for word in rule.needs), text
    if rule.gate is not None:
        assert rule.gate.search(text), text


def _age_texts() -> list[str]:
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    texts = [text for text, _, _ in AGE_TABLE]
    for name in ("vacancies_nl.jsonl", "vacancies_en.jsonl", "sentences_a.jsonl", "mixed.jsonl"):
        with (root / "training_data" / name).open(encoding="utf-8") as stream:
            texts += [json.loads(line)["text"] for line in stream]
    fragments = [
        "max. 22 jaar",
        "MAX 22 JR.",
        "tussen de 18 en 23 jaar oud",
        "Leeftijd: 16–19",
        "niet ouder dan 25",
        "onder de 30",
        "JONGER DAN 25",
        "25 jaar of jonger",
        "18+",
        "18 +ers",
        "aged 18-25",
        "no older than 24 YEARS",
        "under the age of 21",
        "21 or over",
        "max 2 yrs. experience",
        "Leeftijd \u0130 21",  # a case trap: every rule runs
        "\u017fo 18+",
        "\u0661\u0668 jaar",  # Arabic-Indic digits are \\d too
    ]
    texts += [" ".join(fragments[i : i + 3]) for i in range(len(fragments))]
    return texts


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_gated_recognizer_finds_what_every_regex_finds(lang: str) -> None:
    from nlp.pipeline import get_pipeline, process
    from nlp.recognizers.age import AgeLimitRecognizer
    from nlp.schema import Kind

    gated, plain = AgeLimitRecognizer(lang), AgeLimitRecognizer(lang, gated=False)
    found = 0
    for text in _age_texts():
        for doc in (process(lang, text), get_pipeline(lang)(text)):
            expected = plain.analyze(doc, Kind.VACANCY)
            assert gated.analyze(doc, Kind.VACANCY) == expected, text[:80]
            found += len(expected)
    assert found > 50
