"""`stagecheck data check`: the corpus is consistent, labelled and split cleanly."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from pydantic import ValidationError

from models.corpus import CorpusRecord
from models.dataset import corpus_files
from models.splits import near_duplicate_pairs


def check_corpus(
    paths: list[Path] | None = None, require_split: bool = True
) -> tuple[list[str], Counter[str]]:
    """Problems found (one message each) and counts of what was read."""
    problems: list[str] = []
    counts: Counter[str] = Counter()
    records: list[tuple[Path, int, CorpusRecord]] = []
    seen: dict[str, str] = {}
    for path in paths if paths is not None else corpus_files():
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                where = f"{path.name}:{number}"
                try:
                    record = CorpusRecord.model_validate(json.loads(line))
                except json.JSONDecodeError as exc:
                    problems.append(f"{where}: not JSON: {exc.msg}")
                    continue
                except ValidationError as exc:
                    for err in exc.errors():
                        field = ".".join(str(p) for p in err["loc"]) or "record"
                        problems.append(f"{where}: {field}: {err['msg']}")
                    continue
                if record.id in seen:
                    problems.append(
                        f"{where}: duplicate id {record.id!r} (also at {seen[record.id]})"
                    )
                seen[record.id] = where
                if require_split and record.split is None:
                    problems.append(
                        f"{where}: record {record.id!r} has no split; run `stagecheck data split`"
                    )
                records.append((path, number, record))
                counts["records"] += 1
                counts[f"split:{record.split}"] += 1
    texts = [r.text for _, _, r in records]
    for i, j, similarity in near_duplicate_pairs(texts):
        a, b = records[i][2], records[j][2]
        if a.split != b.split:
            problems.append(
                f"near-duplicate texts across splits: {a.id} ({a.split}) and {b.id} ({b.split}), "
                f"similarity {similarity:.2f}"
            )
        counts["near_duplicate_pairs"] += 1
    return problems, counts
