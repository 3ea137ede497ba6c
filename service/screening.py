"""Batch screening: JSONL or CSV in, one analysis per line out, streaming and in order."""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from nlp.analyzer import AnalysisRequest, Analyzer
from nlp.errors import StagecheckError

logger = logging.getLogger(__name__)


@dataclass
class ScreenItem:
    """One input line: its number, id and fields, or the reason it cannot be read."""

    line: int
    id: str | None
    fields: dict[str, Any] | None
    error: str | None = None


class ScreenInputError(StagecheckError):
    """The input as a whole cannot be screened (for example a CSV without a text column)."""

    code = "screen-input"


def _decode(raw: bytes, line: int) -> tuple[str | None, str | None]:
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return (
            None,
            f"line {line} is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})",
        )


def read_jsonl(stream: IO[bytes]) -> Iterator[ScreenItem]:
    """Items of a JSONL stream; a line that cannot be read becomes an item with an error."""
    for number, raw in enumerate(stream, start=1):
        text, error = _decode(raw, number)
        if error is not None or text is None:
            yield ScreenItem(number, None, None, error)
            continue
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            yield ScreenItem(
                number,
                None,
                None,
                f"line {number} is not valid JSON: {exc.msg} (column {exc.colno})",
            )
            continue
        if not isinstance(record, dict):
            yield ScreenItem(number, None, None, f"line {number} is not a JSON object")
            continue
        item_id = record.get("id")
        item_id = None if item_id is None else str(item_id)
        if "text" not in record:
            yield ScreenItem(number, item_id, None, f"line {number} has no 'text' field")
            continue
        if not isinstance(record["text"], str):
            yield ScreenItem(number, item_id, None, f"line {number}: 'text' must be a string")
            continue
        yield ScreenItem(number, item_id, record)


def read_csv(stream: IO[bytes]) -> Iterator[ScreenItem]:
    """Items of a CSV stream with columns id,text[,kind]; bad rows become error items."""
    wrapper = io.TextIOWrapper(stream, encoding="utf-8", errors="surrogateescape", newline="")
    reader = csv.DictReader(wrapper)
    fields = [f.strip().lower() for f in (reader.fieldnames or [])]
    if "text" not in fields:
        raise ScreenInputError(
            f"the CSV has no 'text' column (columns found: {', '.join(fields) or 'none'}); "
            "expected id,text[,kind]"
        )
    reader.fieldnames = fields
    for row in reader:
        number = reader.line_num
        item_id = row.get("id")
        text = row.get("text")
        if any(isinstance(v, str) and _has_surrogates(v) for v in row.values()):
            yield ScreenItem(number, item_id, None, f"line {number} is not valid UTF-8")
            continue
        if None in row:
            yield ScreenItem(
                number, item_id, None, f"line {number} has more fields than the header"
            )
            continue
        if text is None:
            yield ScreenItem(number, item_id, None, f"line {number} has no text field")
            continue
        yield ScreenItem(
            number, item_id, {k: v for k, v in row.items() if v not in (None, "")} | {"text": text}
        )


def _has_surrogates(value: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in value)


def sniff_format(name: str, head: bytes) -> str:
    """`jsonl` or `csv`, from the file name or, for a stream, its first character."""
    lowered = name.lower()
    if lowered.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if lowered.endswith(".csv"):
        return "csv"
    return "jsonl" if head.lstrip()[:1] == b"{" else "csv"


def screen_item(analyzer: Analyzer, item: ScreenItem) -> dict[str, Any]:
    """The output line for one item: the analysis, or {"id", "line", "error"}."""
    if item.error is not None or item.fields is None:
        return {"id": item.id, "line": item.line, "error": item.error}
    fields = item.fields
    try:
        analysis = analyzer.analyze(
            fields["text"],
            kind=fields.get("kind") or "vacancy",
            lang=fields.get("lang") or None,
            content_type=fields.get("content_type") or "text/plain",
            id=item.id,
        )
    except StagecheckError as exc:
        return {"id": item.id, "line": item.line, "error": str(exc)}
    return analysis.model_dump(mode="json")


def screen_items(analyzer: Analyzer, items: list[ScreenItem]) -> list[dict[str, Any]]:
    """`screen_item` for each of `items`, with the model scoring all their texts at once."""
    results: list[dict[str, Any] | None] = [None] * len(items)
    requests: list[AnalysisRequest] = []
    positions: list[int] = []
    for position, item in enumerate(items):
        if item.error is not None or item.fields is None:
            results[position] = {"id": item.id, "line": item.line, "error": item.error}
            continue
        fields = item.fields
        requests.append(
            AnalysisRequest(
                text=fields["text"],
                kind=fields.get("kind") or "vacancy",
                lang=fields.get("lang") or None,
                content_type=fields.get("content_type") or "text/plain",
                id=item.id,
            )
        )
        positions.append(position)
    try:
        outcomes = analyzer.analyze_many(requests)
    except StagecheckError:
        # Not an error of one text's input: let each item find its own error.
        return [screen_item(analyzer, item) for item in items]
    for position, outcome in zip(positions, outcomes, strict=True):
        item = items[position]
        if isinstance(outcome, StagecheckError):
            results[position] = {"id": item.id, "line": item.line, "error": str(outcome)}
        else:
            results[position] = outcome.model_dump(mode="json")
    return [result for result in results if result is not None]
