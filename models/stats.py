"""Counts of the corpus per label, ground, kind and language, for its datasheet."""

from __future__ import annotations

from collections import Counter

from models.corpus import GROUNDS, CorpusRecord


def corpus_stats(records: list[CorpusRecord]) -> str:
    """Markdown tables of the corpus composition."""
    lines = [f"Records: {len(records)}.", ""]
    rows = Counter((r.unit, r.kind, r.lang) for r in records)
    lines += ["| unit | kind | lang | records |", "|---|---|---|---|"]
    lines += [f"| {u} | {k} | {lang} | {n} |" for (u, k, lang), n in sorted(rows.items())]
    lines += ["", "| verdict | records |", "|---|---|"]
    lines += [f"| {v} | {n} |" for v, n in sorted(Counter(r.verdict for r in records).items())]
    lines += ["", "| category | records | English |", "|---|---|---|"]
    categories = Counter(r.category for r in records)
    english = Counter(r.category for r in records if r.lang == "en")
    lines += [f"| {c} | {n} | {english[c]} |" for c, n in sorted(categories.items())]
    lines += [
        "",
        "| ground | records | explicit findings | implicit findings | advisory findings |",
        "|---|---|---|---|---|",
    ]
    for ground in GROUNDS:
        holding = sum(1 for r in records if any(f.ground == ground for f in r.findings))
        severities = Counter(f.severity for r in records for f in r.findings if f.ground == ground)
        lines.append(
            f"| {ground} | {holding} | {severities['explicit']} | {severities['implicit']} | "
            f"{severities['advisory']} |"
        )
    other = Counter(
        "html" if r.content_type == "text/html" else "mixed" if r.mixed else "plain"
        for r in records
    )
    lines += ["", "| form | records |", "|---|---|"]
    lines += [f"| {f} | {n} |" for f, n in sorted(other.items())]
    lines += ["", "| split | records |", "|---|---|"]
    lines += [f"| {s} | {n} |" for s, n in sorted(Counter(str(r.split) for r in records).items())]
    return "\n".join(lines)
