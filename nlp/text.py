"""Text preparation: HTML to plain text, control characters, language detection."""

from __future__ import annotations

import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import yaml

_BLOCK = {
    "address",
    "article",
    "aside",
    "blockquote",
    "dd",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "tr",
    "ul",
    "td",
    "th",
    "title",
    "tbody",
    "thead",
    "tfoot",
    "caption",
    "details",
    "summary",
}
_DROP = {"script", "style", "noscript", "template", "head", "svg", "iframe", "object"}
_BULLET = "• "


class _TextExtractor(HTMLParser):
    """Collects the visible text of an HTML document, one line per block."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._dropping = 0
        self._lists: list[list[int]] = []  # per open list: [ordered, counter]

    def _newline(self) -> None:
        if self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append("\n")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP:
            self._dropping += 1
            return
        if tag == "br":
            self.parts.append("\n")
            return
        if tag in ("ul", "ol"):
            self._lists.append([1 if tag == "ol" else 0, 0])
        if tag in _BLOCK:
            self._newline()
        if tag == "li":
            if self._lists and self._lists[-1][0]:
                self._lists[-1][1] += 1
                self.parts.append(f"{self._lists[-1][1]}. ")
            else:
                self.parts.append(_BULLET)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK:
            self._newline()

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP:
            self._dropping = max(0, self._dropping - 1)
            return
        if tag in ("ul", "ol") and self._lists:
            self._lists.pop()
        if tag in _BLOCK:
            self._newline()

    def handle_data(self, data: str) -> None:
        if self._dropping:
            return
        self.parts.append(re.sub(r"[ \t\r\n\f\v]+", " ", data))


def html_to_text(html: str) -> str:
    """Plain text of an HTML document: blocks and <br> become line breaks, list items
    keep a bullet, entities are decoded, scripts and styles are dropped."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    text = "".join(extractor.parts).replace("\xa0", " ")
    lines = [re.sub(r" {2,}", " ", line).strip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


_LINE_BREAKS_AND_TABS = re.compile("[\n\t\r]+")


def neutralise_controls(text: str) -> str:
    """Replace control and format characters (except tab and line breaks) by spaces.

    The replacement is one character for one, so offsets into the result are offsets
    into the original text.
    """
    if text.isprintable():
        return text
    if _LINE_BREAKS_AND_TABS.sub("", text).isprintable():
        return text  # the usual case: the only unprintable characters are kept ones
    chars = []
    for char in text:
        if char in "\n\t\r" or char.isprintable() or char == " ":
            chars.append(char)
        elif unicodedata.category(char) in ("Cc", "Cs", "Co", "Cn") or char in "\u2028\u2029":
            chars.append(" ")
        else:
            chars.append(char)
    return "".join(chars)


def _function_words() -> tuple[frozenset[str], frozenset[str]]:
    path = Path(__file__).with_name("lexicons") / "function_words.yml"
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    nl, en = frozenset(data["nl"].split()), frozenset(data["en"].split())
    return nl - en, en - nl


_NL_WORDS, _EN_WORDS = _function_words()


_WORDS = re.compile(r"[a-zà-ÿ']+")


def language_scores(text: str) -> tuple[int, int]:
    """Counts of Dutch-only and English-only function words in `text`."""
    words = _WORDS.findall(text.lower())
    return sum(map(_NL_WORDS.__contains__, words)), sum(map(_EN_WORDS.__contains__, words))


# Function words of the other language a sentence needs before it switches language.
_SWITCH_WORDS = 2


def language_of(scores: tuple[int, int], default: str = "nl") -> str:
    """`nl` or `en` by (Dutch, English) function-word counts; `default` on a tie."""
    nl, en = scores
    if en > nl:
        return "en"
    if nl > en:
        return "nl"
    return default


def may_switch(scores: tuple[int, int], document_lang: str) -> bool:
    """Whether any sentence of a text with these counts could switch language: a sentence
    holds no more of the other language's function words than its whole text."""
    nl, en = scores
    return (en if document_lang == "nl" else nl) >= _SWITCH_WORDS


def sentence_language(text: str, document_lang: str) -> str:
    """The language of one sentence of a document, switching only on clear evidence."""
    nl, en = language_scores(text)
    other, same = (en, nl) if document_lang == "nl" else (nl, en)
    if other >= _SWITCH_WORDS and other > 2 * same:
        return "en" if document_lang == "nl" else "nl"
    return document_lang
