"""Property tests: the analyzer keeps its contract for any Unicode text.

Hypothesis draws texts from every Unicode category (control and format characters,
combining marks, emoji, right-to-left scripts, lone surrogates) mixed with Dutch and English
phrases that the rules flag, so that findings actually occur. Examples and deadlines are
bounded to keep the suite fast; the derandomised profile makes a CI failure reproducible.
"""

from __future__ import annotations

import html
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlp.analyzer import Analyzer
from nlp.errors import BinaryTextError, EmptyTextError, TextTooLongError
from nlp.schema import Analysis

PHRASES = [
    "Wij zoeken een jonge stagiair, max. 21 jaar.",
    "Hoofddoekjes zijn niet toegestaan.",
    "Alleen Nederlandse studenten.",
    "Je bent tussen de 17 en 21 jaar.",
    "Wij zoeken een verkoopster voor onze winkel.",
    "Helaas, we zoeken iemand zonder migratieachtergrond.",
    "We are looking for a young and dynamic intern.",
    "Native English speakers only.",
    "Leeftijd, afkomst en geloof spelen bij ons geen rol.",
    "Stagiair (m/v/x) gezocht voor de logistiek.",
    "مرحبا بكم في فريقنا",  # right-to-left
    "שלום לכולם",
    "\u202eRTL override\u202c",
    "e\u0301e\u0301 cafe\u0301 n\u0303",  # combining marks
    "👩🏽‍💻 stage 🚀 bij ons 🇳🇱",
    "ligatuur ﬁ en ｆｕｌｌｗｉｄｔｈ",
]

# Any code point but NUL (refused by design, tested below), surrogates included.
any_char = st.characters(codec=None, exclude_characters="\x00")
fragments = st.one_of(
    st.sampled_from(PHRASES),
    st.text(any_char, min_size=1, max_size=40),
    st.sampled_from([" ", "\n", "\n\n", "\t", "\r\n", "\u00a0", "\u200b", "\ufeff", "\x7f"]),
    st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzé"), min_size=300, max_size=3_000),
)
texts = st.lists(fragments, min_size=1, max_size=12).map("".join).filter(lambda t: t.strip())

PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,  # the first texts build spaCy caches; the time bound is below
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=True,
)


def assert_valid(analysis: Analysis, text: str) -> None:
    """The contract's invariants for one analysis of `text`."""
    assert analysis.verdict in ("ok", "review", "reject")
    assert 0.0 <= analysis.risk <= 1.0
    assert analysis.lang in ("nl", "en")
    previous_end = -1
    for finding in analysis.findings:
        assert 0 <= finding.start < finding.end <= len(text)
        assert text[finding.start : finding.end] == finding.quote
        assert finding.quote.strip() == finding.quote
        assert 0.0 <= finding.score <= 1.0
        assert finding.start >= previous_end  # sorted and not overlapping
        previous_end = finding.end
    Analysis.model_validate_json(analysis.model_dump_json())


@PROPERTY_SETTINGS
@given(
    text=texts,
    lang=st.sampled_from([None, "nl", "en"]),
    kind=st.sampled_from(["vacancy", "rejection"]),
)
def test_any_text_gets_a_valid_deterministic_analysis(
    rules: Analyzer, text: str, lang: str | None, kind: str
) -> None:
    started = time.perf_counter()
    first = rules.analyze(text, kind=kind, lang=lang)
    assert time.perf_counter() - started < 10
    assert_valid(first, text)
    assert rules.analyze(text, kind=kind, lang=lang) == first


@settings(PROPERTY_SETTINGS, max_examples=15)
@given(text=texts)
def test_the_full_analyzer_too(analyzer: Analyzer, text: str) -> None:
    first = analyzer.analyze(text)
    assert_valid(first, text)
    assert analyzer.analyze(text) == first


def as_html(text: str) -> str:
    """`text` as an HTML document: one escaped paragraph per line."""
    return (
        "<html><body>"
        + "".join(f"<p>{html.escape(line)}</p>" for line in text.split("\n"))
        + "</body></html>"
    )


@PROPERTY_SETTINGS
@given(text=texts)
def test_html_and_plain_text_of_the_same_content_agree(rules: Analyzer, text: str) -> None:
    as_page = rules.analyze(as_html(text), content_type="text/html", lang="nl")
    assert as_page.text is not None
    assert_valid(as_page, as_page.text)
    as_plain = rules.analyze(as_page.text, lang="nl")
    assert as_plain.findings == as_page.findings
    assert as_plain.verdict == as_page.verdict


@pytest.mark.parametrize("phrase", PHRASES[:10])
def test_tidy_text_has_the_same_findings_as_its_html(rules: Analyzer, phrase: str) -> None:
    text = f"Vacature\n{phrase}\nSolliciteer via de website."
    as_page = rules.analyze(as_html(text), content_type="text/html")
    assert as_page.text == text
    assert as_page.findings == rules.analyze(text).findings


def test_the_longest_text_allowed_and_a_very_long_word(rules: Analyzer) -> None:
    unit = "Wij zoeken een jonge stagiair 👩🏽‍💻 max. 21 jaar. مرحبا e\u0301 \u202e \x07\n"
    text = (unit * (200_000 // len(unit) + 1))[:200_000]
    started = time.perf_counter()
    analysis = rules.analyze(text)
    assert time.perf_counter() - started < 60
    assert_valid(analysis, text)
    assert analysis.verdict == "reject" and len(analysis.findings) > 1000
    word = "a" * 199_000 + " max. 21 jaar"
    assert_valid(rules.analyze(word), word)
    with pytest.raises(TextTooLongError):
        rules.analyze(text + "x")


@pytest.mark.parametrize("text", ["", " \n\t ", "\u00a0\u2003"])
def test_empty_texts_are_refused(rules: Analyzer, text: str) -> None:
    with pytest.raises(EmptyTextError):
        rules.analyze(text)


def test_nul_bytes_are_refused(rules: Analyzer) -> None:
    with pytest.raises(BinaryTextError):
        rules.analyze("Stagiair\x00 gezocht")
