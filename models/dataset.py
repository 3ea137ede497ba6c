"""From corpus records to the units the model learns from: sentences with labels."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from models.corpus import CorpusError, CorpusRecord, iter_records

TRAINING_DIR = Path(__file__).resolve().parent.parent / "training_data"


def training_dir() -> Path:
    """The corpus folder: training_data/, or STAGECHECK_TRAINING_DIR when set (tests)."""
    override = os.environ.get("STAGECHECK_TRAINING_DIR")
    return Path(override) if override else TRAINING_DIR


def corpus_files(root: Path | None = None) -> list[Path]:
    """The JSONL files of the corpus, in a stable order."""
    return sorted((root or training_dir()).glob("*.jsonl"))


def load_corpus(paths: Iterable[Path] | None = None) -> list[CorpusRecord]:
    """Every record of the given files (default: the whole corpus)."""
    records: list[CorpusRecord] = []
    for path in paths if paths is not None else corpus_files():
        records.extend(record for _, record in iter_records(path))
    if not records:
        raise CorpusError("the corpus is empty: no records in training_data/*.jsonl")
    return records


def iter_jsonl_records(path: Path) -> Iterator[CorpusRecord]:
    """Records of any JSONL file in the corpus format."""
    for _, record in iter_records(path):
        yield record


@dataclass
class GoldSpan:
    """A gold finding located in the analysed text."""

    start: int
    end: int
    ground: str
    severity: str


@dataclass
class LocatedRecord:
    """A record with its analysed text and the character spans of its gold findings."""

    record: CorpusRecord
    text: str
    gold: list[GoldSpan] = field(default_factory=list)


def locate(record: CorpusRecord, analysed: str) -> LocatedRecord:
    """Find each gold quote in the analysed text (HTML records: the extracted text)."""
    located = LocatedRecord(record, analysed)
    cursor: dict[str, int] = {}
    for finding in record.findings:
        start = analysed.find(finding.quote, cursor.get(finding.quote, 0))
        if start < 0:
            start = analysed.lower().find(finding.quote.lower())
        if start < 0:
            continue
        cursor[finding.quote] = start + 1
        located.gold.append(
            GoldSpan(start, start + len(finding.quote), finding.ground, finding.severity)
        )
    return located


def write_jsonl(path: Path, rows: Iterable[dict[str, object]]) -> None:
    """Write rows atomically: to a .part file first, then rename."""
    part = path.with_suffix(path.suffix + ".part")
    with part.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    part.replace(path)
