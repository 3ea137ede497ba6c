"""Mentions of a characteristic are weak candidates: findings only where the model agrees."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from nlp.analyzer import Analyzer
from nlp.errors import LexiconError
from nlp.lexicon import LEXICON_DIR, default_lexicon, load_lexicon

REJECTIONS = [
    (
        "nl",
        "Met je autisme lijkt het ons niet verstandig om hier stage te lopen, de groep is te druk.",
    ),
    (
        "nl",
        "We hebben besloten niet met je verder te gaan, met die hoofddoek past het niet bij onze klanten.",
    ),
    (
        "en",
        "Given your ADHD we don't think the workshop floor is the right place for your internship.",
    ),
    ("en", "We can't place you at the front desk while you wear a headscarf, sorry."),
    ("en", "Sorry, but with your headscarf we can't put you on the front desk."),
]
LAWFUL = [
    (
        "nl",
        "In onze groep begeleiden we kinderen met autisme en ADHD, je krijgt daarvoor een training.",
    ),
    ("nl", "Een hoofddoek in de kleuren van het uniform is bij ons geen probleem."),
    ("en", "Our clients include adults with autism; you will learn how to support them."),
    ("en", "Headscarves are welcome: we provide one in the company colours on request."),
]


def _mentions(analysis) -> list[str]:  # type: ignore[no-untyped-def]
    return [f.rule_id for f in analysis.findings if ".mention." in (f.rule_id or "")]


@pytest.mark.parametrize(("lang", "text"), REJECTIONS)
def test_rules_alone_never_turn_a_mention_into_a_finding(
    rules: Analyzer, lang: str, text: str
) -> None:
    analysis = rules.analyze(text, kind="rejection", lang=lang, explain=True)
    assert not _mentions(analysis)
    assert not any(t.kept for t in analysis.trace or [] if ".mention." in t.rule_id)


def test_a_dropped_mention_shows_in_the_trace_with_the_reason(rules: Analyzer) -> None:
    text = "Voor een stagiair met autisme is werken op deze groep volgens ons niet verantwoord."
    analysis = rules.analyze(text, kind="rejection", lang="nl", explain=True)
    (mention,) = [t for t in analysis.trace or [] if ".mention." in t.rule_id]
    assert mention.quote == "autisme" and mention.ground.value == "disability"
    assert not mention.kept and "no model is loaded" in mention.steps[-1].detail


def _mention_outcomes(rules: Analyzer, lang: str, text: str) -> list[str]:
    """The last trace step of each mention in a rejection: why it was kept or dropped."""
    analysis = rules.analyze(text, kind="rejection", lang=lang, explain=True)
    mentions = [t for t in analysis.trace or [] if ".mention." in t.rule_id]
    assert mentions
    return [t.steps[-1].detail for t in mentions]


@pytest.mark.parametrize(
    ("lang", "text", "negated"),
    [
        # The negator states the exclusion: the mention goes on to the model.
        ("nl", "Onze BBL-plek in de bakkerij is niet geschikt voor alleenstaande moeders.", False),
        ("en", "Sorry, but we cannot have a turban behind the counter.", False),
        # The negator reverses: the mention is dropped here, as before.
        ("nl", "Wij hebben geen bezwaar tegen een hoofddoek.", True),
        ("en", "You do not need to tell us about your dyslexia.", True),
    ],
)
def test_a_negation_that_states_the_exclusion_does_not_reverse_it(
    rules: Analyzer, lang: str, text: str, negated: bool
) -> None:
    reasons = _mention_outcomes(rules, lang, text)
    assert all(("negation" in r) == negated for r in reasons), reasons


@pytest.mark.parametrize(
    ("lang", "text", "justified"),
    [
        # A reason given for the exclusion does not make it lawful: the model judges it.
        ("nl", "We kiezen voor een andere kandidaat, omdat je autisme hebt.", False),
        (
            "en",
            "We feel the wedding with your boyfriend would distract you, because June is busy.",
            False,
        ),
        # An objective justification still drops the mention.
        (
            "nl",
            "In de keuken draag je een haarnet over je hoofddoek, dat is de hygiëneregel.",
            True,
        ),
        (
            "en",
            "Because of food safety rules everyone wears a hairnet, also over a headscarf.",
            True,
        ),
    ],
)
def test_a_stated_reason_is_not_a_justification_for_a_mention(
    rules: Analyzer, lang: str, text: str, justified: bool
) -> None:
    reasons = _mention_outcomes(rules, lang, text)
    assert all(("objective justification" in r) == justified for r in reasons), reasons


@pytest.mark.parametrize(("lang", "text"), REJECTIONS)
def test_the_model_confirms_a_mention_in_a_rejection_for_it(
    analyzer: Analyzer, lang: str, text: str
) -> None:
    analysis = analyzer.analyze(text, kind="rejection", lang=lang)
    assert analysis.verdict.value != "ok", analysis.findings
    assert {f.ground.value for f in analysis.findings} & {"disability", "religion"}


@pytest.mark.parametrize(("lang", "text"), LAWFUL)
def test_a_mention_in_a_lawful_sentence_stays_ok(analyzer: Analyzer, lang: str, text: str) -> None:
    analysis = analyzer.analyze(text, kind="vacancy", lang=lang)
    assert analysis.verdict.value == "ok", analysis.findings


def test_a_mention_inside_a_rules_phrase_leaves_the_verdict_to_the_rule(rules: Analyzer) -> None:
    analysis = rules.analyze(
        "Het dragen van een hoofddoek is niet toegestaan.", kind="vacancy", lang="nl", explain=True
    )
    rule = [f for f in analysis.findings if f.ground.value == "religion"]
    assert rule and ".mention." not in (rule[0].rule_id or "")
    assert not [t for t in analysis.trace or [] if ".mention." in t.rule_id]


def test_a_term_under_two_grounds_is_refused_naming_the_file(tmp_path: Path) -> None:
    root = tmp_path / "lexicons"
    shutil.copytree(LEXICON_DIR, root)
    path = root / "nl" / "mentions.yml"
    path.write_text(
        "grounds:\n  religion:\n    - hoofddoek\n  origin:\n    - hoofddoek\n", encoding="utf-8"
    )
    with pytest.raises(LexiconError, match=r"mentions\.yml.*both religion and origin"):
        load_lexicon(root)


def test_every_language_has_mention_terms_for_the_grounds_people_name() -> None:
    for lang in ("nl", "en"):
        grounds = {g.value for g in default_lexicon().mentions[lang].grounds}
        assert {"disability", "religion", "origin", "nationality", "age"} <= grounds, lang


def test_a_confirmed_mention_quotes_the_reason_not_only_the_word(analyzer: Analyzer) -> None:
    text = "Sorry, but with your headscarf we can't put you on the front desk."
    analysis = analyzer.analyze(text, kind="rejection", lang="en", explain=True)
    (finding,) = [f for f in analysis.findings if ".mention." in (f.rule_id or "")]
    assert "headscarf" in finding.quote and len(finding.quote.split()) > 1
    assert finding.quote in text  # within its sentence, verbatim
    (trace,) = [t for t in analysis.trace or [] if t.rule_id == finding.rule_id]
    assert any("quote widened" in step.detail for step in trace.steps)
