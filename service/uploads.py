"""Uploaded batch files: CSV, XLSX or JSONL of vacancies or messages, read into items.

The officers' Batch page accepts a file with columns (or keys) `id`, `text` and optionally
`kind`. Problems with the file as a whole (wrong format, too large, too many rows, a missing
column) raise `UploadError` with a Dutch message for the page; a row that cannot be
analysed (an empty text, an unknown kind, a text that is too long) becomes an item with an
`error`, so the results keep every row in input order and never skip one silently.

Nothing here logs or stores the texts: they live in memory until the batch job has
analysed them.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from service.errors import ServiceError

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_UPLOAD_ROWS = 1000
# An XLSX is a zip file: refuse one that unpacks to far more than any honest sheet of
# MAX_UPLOAD_ROWS vacancies (a "zip bomb").
MAX_XLSX_UNPACKED_BYTES = 100 * 1024 * 1024

FORMATS = ("csv", "xlsx", "jsonl")
# Column names are matched case-insensitively; the Dutch names are accepted too.
COLUMN_ALIASES = {
    "id": "id",
    "text": "text",
    "tekst": "text",
    "kind": "kind",
    "soort": "kind",
}
KIND_ALIASES = {
    "": "vacancy",
    "vacancy": "vacancy",
    "vacature": "vacancy",
    "rejection": "rejection",
    "afwijzing": "rejection",
    "bericht": "rejection",
}


class UploadError(ServiceError):
    """The uploaded file as a whole cannot be used; the message is Dutch, for the page."""

    code = "upload"


@dataclass(frozen=True)
class UploadItem:
    """One row of an upload: its row number (1 = first data row), id, kind and text.

    `error` says, in Dutch, why the row cannot be analysed; `text` is then empty.
    """

    row: int
    id: str | None
    kind: str
    text: str
    error: str | None = None


def upload_format(filename: str, head: bytes) -> str:
    """`csv`, `xlsx` or `jsonl`, from the file name or else from the first bytes."""
    name = filename.lower().strip()
    if name.endswith(".xls"):
        raise UploadError(
            "Oude Excel-bestanden (.xls) worden niet ondersteund. Sla het bestand in Excel op "
            "als Excel-werkmap (.xlsx) of als CSV (UTF-8)."
        )
    if name.endswith(".xlsx"):
        return "xlsx"
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if name.endswith((".csv", ".txt")):
        return "csv"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.lstrip()[:1] == b"{":
        return "jsonl"
    if name and "." in name:
        raise UploadError(
            "Dit bestandstype wordt niet ondersteund. Upload een CSV-, XLSX- of JSONL-bestand "
            "met de kolommen id, text en eventueel kind."
        )
    return "csv"


def parse_upload(
    data: bytes,
    filename: str,
    max_rows: int = MAX_UPLOAD_ROWS,
    max_text_chars: int = 200_000,
) -> list[UploadItem]:
    """The items of an uploaded file, in input order; raise UploadError for a bad file."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(
            f"Het bestand is groter dan {MAX_UPLOAD_BYTES // (1024 * 1024)} MB. Splits het in "
            "kleinere bestanden."
        )
    if not data.strip():
        raise UploadError("Het bestand is leeg.")
    fmt = upload_format(filename, data[:8])
    if fmt == "xlsx":
        rows = _xlsx_rows(data)
    elif fmt == "jsonl":
        rows = _jsonl_rows(data)
    else:
        rows = _csv_rows(data)
    items: list[UploadItem] = []
    for row in rows:
        if len(items) >= max_rows:
            raise UploadError(
                f"Het bestand heeft meer dan {max_rows} rijen. Splits het in bestanden van "
                f"hoogstens {max_rows} rijen."
            )
        items.append(_checked(row, max_text_chars))
    if not items:
        raise UploadError("Het bestand bevat geen rijen met teksten (alleen een kopregel?).")
    return items


@dataclass(frozen=True)
class _Row:
    row: int
    id: str | None
    kind: str | None
    text: str | None
    error: str | None = None


def _checked(row: _Row, max_text_chars: int) -> UploadItem:
    """An item from a row: the row's own error, or one for an empty text or unknown kind."""
    if row.error is not None:
        return UploadItem(row.row, row.id, "vacancy", "", row.error)
    kind = KIND_ALIASES.get((row.kind or "").strip().lower())
    text = row.text or ""
    error = None
    if kind is None:
        error = f"onbekende soort {row.kind!r}; gebruik vacancy of rejection"
    elif not text.strip():
        error = "de tekst is leeg"
    elif len(text) > max_text_chars:
        error = f"de tekst is {len(text):,} tekens lang; de grens is {max_text_chars:,}".replace(
            ",", "."
        )
    elif "\x00" in text:
        error = "de tekst bevat NUL-tekens (is het een binair bestand?)"
    if error is not None:
        return UploadItem(row.row, row.id, kind or "vacancy", "", error)
    return UploadItem(row.row, row.id, kind or "vacancy", text)


def _cell(value: Any) -> str | None:
    """A cell or JSON value as text; numbers as written (1 not 1.0)."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip() if not isinstance(value, str) else value


def _columns(header: Iterable[Any]) -> dict[str, int]:
    """Where the known columns are; raise UploadError when id or text is missing."""
    found: dict[str, int] = {}
    names = []
    for position, raw in enumerate(header):
        name = (_cell(raw) or "").strip().lstrip("\ufeff").lower()
        names.append(name)
        canonical = COLUMN_ALIASES.get(name)
        if canonical is not None and canonical not in found:
            found[canonical] = position
    missing = [column for column in ("id", "text") if column not in found]
    if missing:
        listed = ", ".join(n for n in names if n) or "geen"
        raise UploadError(
            f"De kolom {' en '.join(repr(m) for m in missing)} ontbreekt in de kopregel "
            f"(gevonden: {listed}). Verwacht: id, text en eventueel kind."
        )
    return found


def _rows_of_table(table: Iterator[list[Any]]) -> Iterator[_Row]:
    header = next(table, None)
    if header is None:
        return
    columns = _columns(header)
    for number, values in enumerate(table, start=1):
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue  # an empty line, common at the end of spreadsheets

        def get(column: str, values: list[Any] = values) -> str | None:
            position = columns.get(column)
            if position is None or position >= len(values):
                return None
            return _cell(values[position])

        yield _Row(number, get("id"), get("kind"), get("text"))


def _csv_rows(data: bytes) -> Iterator[_Row]:
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UploadError(
            f"Het CSV-bestand is niet in UTF-8 opgeslagen (regel {line}). Kies in Excel "
            "'Opslaan als' > 'CSV UTF-8 (door komma's gescheiden)'."
        ) from None
    first_line = content.split("\n", 1)[0]
    # Dutch Excel writes semicolons; take the separator the header uses most.
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
    try:
        yield from _rows_of_table(iter(reader))
    except csv.Error as exc:
        raise UploadError(
            f"Het CSV-bestand kan niet worden gelezen (regel {reader.line_num}): {exc}."
        ) from None


def _xlsx_rows(data: bytes) -> Iterator[_Row]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > MAX_XLSX_UNPACKED_BYTES:
            raise UploadError("Het Excel-bestand is uitgepakt te groot om te verwerken.")
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except UploadError:
        raise
    except Exception:  # openpyxl raises many kinds of errors for a file that is not XLSX
        raise UploadError(
            "Het bestand is geen geldig Excel-bestand (.xlsx). Sla het opnieuw op als "
            "Excel-werkmap of als CSV (UTF-8)."
        ) from None
    try:
        sheet = workbook.worksheets[0]
        rows = (list(values) for values in sheet.iter_rows(values_only=True))
        yield from _rows_of_table(rows)
    finally:
        workbook.close()


def _jsonl_rows(data: bytes) -> Iterator[_Row]:
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad_line = data[: exc.start].count(b"\n") + 1
        raise UploadError(
            f"Het JSONL-bestand is niet in UTF-8 opgeslagen (regel {bad_line})."
        ) from None
    number = 0
    for line_number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        number += 1
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield _Row(
                number, None, None, None, f"regel {line_number} is geen geldige JSON ({exc.msg})"
            )
            continue
        if not isinstance(value, dict):
            yield _Row(number, None, None, None, f"regel {line_number} is geen JSON-object")
            continue
        item_id = _cell(value.get("id"))
        text = value.get("text", value.get("tekst"))
        kind = value.get("kind", value.get("soort"))
        if text is None:
            yield _Row(number, item_id, None, None, f"regel {line_number} heeft geen 'text'")
            continue
        if not isinstance(text, str):
            yield _Row(number, item_id, None, None, f"regel {line_number}: 'text' is geen tekst")
            continue
        yield _Row(number, item_id, None if kind is None else str(kind), text)
