"""HTML extraction, control characters and language detection."""

from __future__ import annotations

import pytest

from nlp.text import html_to_text, language_of, language_scores, neutralise_controls


def test_html_blocks_breaks_bullets_entities_and_scripts() -> None:
    html = (
        "<html><head><style>p{color:red}</style></head><body>"
        "<h2>Stage&nbsp;kok</h2><p>Wij zoeken&hellip; een kok &amp; afwasser.<br>Start: maart</p>"
        "<ul><li>VCA</li><li>Rijbewijs B</li></ul><ol><li>eerst</li><li>dan</li></ol>"
        "<script>alert('x')</script></body></html>"
    )
    assert html_to_text(html) == (
        "Stage kok\nWij zoeken… een kok & afwasser.\nStart: maart\n• VCA\n• Rijbewijs B\n1. eerst\n2. dan"
    )


def test_neutralise_controls_keeps_length_and_line_breaks() -> None:
    text = "a\x07b\u200bc\nd\te\x1b"
    out = neutralise_controls(text)
    assert len(out) == len(text)
    assert out[1] == " " and "\n" in out and "\t" in out


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Wij zoeken een enthousiaste stagiair voor onze keuken.", "nl"),
        ("We are looking for an enthusiastic intern for our kitchen.", "en"),
        ("Unfortunately the position has been filled.", "en"),
        ("Helaas is de plek al vergeven.", "nl"),
    ],
)
def test_language_of_function_words(text: str, lang: str) -> None:
    assert language_of(language_scores(text)) == lang
