"""How an analysis is shown: the text with highlighted findings, the rewrite, the trace.

The HTML built here escapes every piece of text it takes from the analysis (markupsafe);
only the tags it adds are markup.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from markupsafe import Markup, escape

STEP_LABELS = {
    "match": "Herkend",
    "context": "Context",
    "model": "Model",
    "result": "Uitkomst",
}


@dataclass(frozen=True)
class ShownFinding:
    """A finding as the page shows it: its number (1-based), fields and its trace."""

    number: int
    index: int
    ground: str
    severity: str
    start: int
    end: int
    quote: str
    score: float
    source: str
    explanation: str
    legal_basis: str
    suggestion: str | None
    rule_id: str | None
    trace: list[dict[str, Any]] = field(default_factory=list)


def shown_findings(analysis: dict[str, Any]) -> list[ShownFinding]:
    """The analysis's findings, numbered in text order, each with its own trace steps."""
    trace = analysis.get("trace") or []
    out = []
    for index, finding in enumerate(analysis.get("findings", [])):
        steps: list[dict[str, Any]] = []
        for candidate in trace:
            same_span = (
                candidate["start"] == finding["start"] and candidate["end"] == finding["end"]
            )
            same_rule = finding.get("rule_id") is None or candidate["rule_id"] == finding["rule_id"]
            if same_span and same_rule and candidate.get("kept"):
                steps = candidate["steps"]
                break
        out.append(
            ShownFinding(
                number=index + 1,
                index=index,
                ground=finding["ground"],
                severity=finding["severity"],
                start=finding["start"],
                end=finding["end"],
                quote=finding["quote"],
                score=finding["score"],
                source=finding["source"],
                explanation=finding["explanation"],
                legal_basis=finding["legal_basis"],
                suggestion=finding.get("suggestion"),
                rule_id=finding.get("rule_id"),
                trace=steps,
            )
        )
    return out


def dropped_candidates(analysis: dict[str, Any]) -> list[dict[str, Any]]:
    """Candidates the rules found but context or model let go, with the deciding step."""
    dropped = []
    for candidate in analysis.get("trace") or []:
        if candidate.get("kept"):
            continue
        reason = next(
            (s for s in reversed(candidate["steps"]) if s["step"] in ("context", "model")),
            candidate["steps"][-1] if candidate["steps"] else None,
        )
        dropped.append({**candidate, "reason": reason})
    return dropped


def icon(ground: str) -> Markup:
    """The ground's icon from the page's sprite (decorative: the label is always beside it)."""
    return Markup(
        '<svg class="icon" aria-hidden="true" focusable="false"><use href="#icon-{}"></use></svg>'
    ).format(ground)


def highlighted(text: str, findings: Sequence[ShownFinding], labels: dict[str, str]) -> Markup:
    """The text with each finding in a <mark> of its ground's colour, icon and number.

    Findings may nest (a finding of another ground inside a longer one): the text is cut
    at every boundary and each piece takes the innermost finding that covers it. A
    screen reader hears "bevinding 2, leeftijd" after each finding's text.
    """
    bounds = sorted({0, len(text), *(f.start for f in findings), *(f.end for f in findings)})
    parts: list[Markup] = []
    for left, right in pairwise(bounds):
        piece = text[left:right]
        covering = [f for f in findings if f.start <= left and f.end >= right]
        if not covering:
            parts.append(escape(piece))
            continue
        inner = min(covering, key=lambda f: (f.end - f.start, f.number))
        starting = [f for f in covering if f.start == left]
        ending = [f for f in covering if f.end == right]
        head = Markup("").join(icon(f.ground) for f in starting)
        tail = Markup("").join(
            Markup(
                '<sup><a href="#bevinding-{n}" aria-hidden="true" tabindex="-1">{n}</a></sup>'
                '<span class="visually-hidden"> (bevinding {n}: {label})</span>'
            ).format(n=f.number, label=labels.get(f.ground, f.ground))
            for f in ending
        )
        parts.append(
            Markup('<mark class="hl g-{g}" data-finding="{n}">{head}{text}{tail}</mark>').format(
                g=inner.ground, n=inner.number, head=head, text=piece, tail=tail
            )
        )
    return Markup("").join(parts)


# -- the rewrite -------------------------------------------------------------------------

_QUOTED = re.compile(r"[\"“„”]([^\"“”„]{1,120})[\"”“]")
_REMOVE = re.compile(
    r"^(laat\b.*\bweg\b|schrap\b|verwijder\b|remove\b|leave\b.*\bout\b|drop\b|omit\b)",
    re.IGNORECASE,
)
_USE = re.compile(r"^(gebruik|use)\b", re.IGNORECASE)


@dataclass(frozen=True)
class RewritePiece:
    """A piece of the rewritten text: kept, replaced, removed, or left to the officer."""

    action: str  # keep, replace, remove, todo
    original: str
    new: str = ""
    suggestion: str | None = None
    number: int | None = None
    ground: str | None = None


def _replacement(suggestion: str) -> str | None:
    """A short wording the suggestion offers to use instead, if it offers one."""
    if not _USE.match(suggestion.strip()):
        return None
    found = _QUOTED.search(suggestion)
    if found is None:
        return None
    wording = found.group(1).strip()
    return wording if len(wording.split()) <= 6 else None


def _word_to_drop(suggestion: str, original: str) -> str | None:
    """For `Laat "jong" weg ...`: the word of the phrase to drop ("jonge" in "jonge stagiair")."""
    match = re.match(r"^(laat|leave)\s+[\"“„]([^\"“”„]{1,40})[\"”“]", suggestion.strip(), re.I)
    if match is None:
        return None
    stem = match.group(2).strip().lower()
    words = re.findall(r"\w+", original)
    for candidate in words:
        lowered = candidate.lower()
        if lowered == stem or (lowered.startswith(stem) and len(lowered) - len(stem) <= 2):
            return candidate if len(words) > 1 else None
    return None


def _without_word(original: str, word: str) -> str:
    """The phrase without `word` (and a comma or "en" that joined it to the next word)."""
    out = re.sub(rf"\b{re.escape(word)}\b(\s*,|\s+en\b)?\s*", "", original, count=1)
    return _matching_case(original, out.strip())


def _matching_case(original: str, new: str) -> str:
    if original[:1].isupper() and new[:1].islower():
        return new[:1].upper() + new[1:]
    return new


def rewrite(text: str, findings: Sequence[ShownFinding]) -> list[RewritePiece]:
    """The text with the suggestions applied where they can be: a suggested wording
    replaces the phrase ("Gebruik "starter" ..."), "Laat ... weg" removes it, and every
    other finding stays, marked, for the officer to rewrite.

    Nested findings follow the outer one.
    """
    pieces: list[RewritePiece] = []
    cursor = 0
    for finding in sorted(findings, key=lambda f: (f.start, -f.end)):
        if finding.start < cursor:
            continue  # inside a finding already handled
        pieces.append(RewritePiece("keep", text[cursor : finding.start]))
        original = text[finding.start : finding.end]
        suggestion = finding.suggestion or ""
        wording = _replacement(suggestion)

        word = _word_to_drop(suggestion, original)
        if wording is not None:
            action, new = "replace", _matching_case(original, wording)
        elif word is not None:
            action, new = "replace", _without_word(original, word)
        elif _REMOVE.match(suggestion.strip()):
            action, new = "remove", ""
        else:
            action, new = "todo", original
        pieces.append(
            RewritePiece(
                action,
                original,
                new,
                suggestion=finding.suggestion,
                number=finding.number,
                ground=finding.ground,
            )
        )
        cursor = finding.end
    pieces.append(RewritePiece("keep", text[cursor:]))
    return [p for p in pieces if p.original or p.new]


def _tidy(text: str) -> str:
    """Spaces and punctuation left over where phrases were removed."""
    text = re.sub(r",[ \t]*,[ \t]*", " ", text)  # an aside between commas that was removed
    text = re.sub(r"[ \t]{2,}", " ", text)
    text = re.sub(r"[ \t]+([,.;:!?)])", r"\1", text)
    text = re.sub(r"\([ \t]*\)", "", text)
    text = re.sub(r",\s*([,.;:!?])", r"\1", text)
    text = re.sub(r"(^|[.!?]\s+|\n)[,;:]\s*", r"\1", text)
    text = re.sub(r"(?m)^[ \t]+", "", text)
    return text


def rewritten_text(pieces: Sequence[RewritePiece]) -> str:
    """The rewrite as plain text to send back: phrases still to rewrite are numbered, with
    the advice for each under the text."""
    out = []
    notes: list[str] = []
    for piece in pieces:
        if piece.action == "keep":
            out.append(piece.original)
        elif piece.action == "replace":
            out.append(piece.new)
        elif piece.action == "todo":
            notes.append(
                f"[{len(notes) + 1}] “{piece.original}”: {piece.suggestion or 'aanpassen'}"
            )
            out.append(f"{piece.original} [{len(notes)}]")
    text = _tidy("".join(out)).strip()
    if notes:
        text += "\n\nNog aan te passen:\n" + "\n".join(notes)
    return text


def rewrite_markup(pieces: Sequence[RewritePiece]) -> Markup:
    """The rewrite for the page: removed text struck through, new text underlined."""
    parts: list[Markup] = []
    for piece in pieces:
        if piece.action == "keep":
            parts.append(escape(piece.original))
        elif piece.action == "replace":
            parts.append(
                Markup(
                    '<del><span class="visually-hidden">weg: </span>{old}</del>'
                    '<ins><span class="visually-hidden">nieuw: </span>{new}</ins>'
                ).format(old=piece.original, new=piece.new)
            )
        elif piece.action == "remove":
            parts.append(
                Markup('<del><span class="visually-hidden">weg: </span>{old}</del>').format(
                    old=piece.original
                )
            )
        else:
            parts.append(
                Markup(
                    '<span class="todo">{old}<sup><a href="#bevinding-{n}">{n}</a></sup>'
                    '<span class="visually-hidden"> (nog aanpassen)</span></span>'
                ).format(old=piece.original, n=piece.number)
            )
    return Markup("").join(parts)
