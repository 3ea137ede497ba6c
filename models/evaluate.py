"""Evaluation: flagged-vs-ok quality, verdicts, finding recall, false positives per
hard-negative category, split by kind and language, for rules, model and both."""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm

from models.corpus import HARD_NEGATIVE_CATEGORIES, CorpusRecord
from models.dataset import locate
from nlp.analyzer import Analyzer
from nlp.schema import Analysis


@dataclass
class Outcome:
    """One record's gold labels beside the analyzer's answer."""

    record: CorpusRecord
    analysis: Analysis
    gold_found: int = 0
    gold_total: int = 0
    missed: list[str] = field(default_factory=list)


def analyse_records(
    analyzer: Analyzer, records: Iterable[CorpusRecord], desc: str = ""
) -> list[Outcome]:
    """Run the analyzer over records and match its findings against the gold ones."""
    outcomes = []
    records = list(records)
    for record in tqdm(
        records,
        desc=desc or "evaluate",
        unit=" texts",
        leave=False,
        disable=len(records) < 200 or not sys.stderr.isatty(),
    ):
        analysis = analyzer.analyze(record.text, kind=record.kind, content_type=record.content_type)
        text = analysis.text if analysis.text is not None else record.text
        located = locate(record, text)
        outcome = Outcome(record, analysis)
        for gold in located.gold:
            if gold.severity == "advisory":
                continue
            outcome.gold_total += 1
            hit = any(
                f.ground.value == gold.ground and f.start < gold.end and gold.start < f.end
                for f in analysis.findings
            )
            if hit:
                outcome.gold_found += 1
            else:
                outcome.missed.append(f"{gold.ground}:{text[gold.start : gold.end]}")
        outcomes.append(outcome)
    return outcomes


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def summarise(outcomes: list[Outcome]) -> dict[str, Any]:
    """The headline figures of a set of outcomes."""
    tp = fp = fn = tn = 0
    verdict_hits = 0
    found = total = 0
    for o in outcomes:
        gold = o.record.verdict != "ok"
        pred = o.analysis.verdict.value != "ok"
        tp += gold and pred
        fp += (not gold) and pred
        fn += gold and not pred
        tn += (not gold) and not pred
        verdict_hits += o.record.verdict == o.analysis.verdict.value
        found += o.gold_found
        total += o.gold_total
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    f1 = round(2 * precision * recall / (precision + recall), 4) if precision and recall else 0.0
    return {
        "n": len(outcomes),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "fp_rate_clean": _ratio(fp, fp + tn),
        "verdict_accuracy": _ratio(verdict_hits, len(outcomes)),
        "finding_recall": _ratio(found, total),
    }


def evaluate(outcomes: list[Outcome]) -> dict[str, Any]:
    """Overall figures, per kind, per language, and false positives per category."""
    result: dict[str, Any] = {"overall": summarise(outcomes)}
    for key in ("kind", "lang", "unit"):
        groups: dict[str, list[Outcome]] = defaultdict(list)
        for o in outcomes:
            groups[str(getattr(o.record, key))].append(o)
        result[f"by_{key}"] = {name: summarise(group) for name, group in sorted(groups.items())}
    categories: dict[str, dict[str, Any]] = {}
    for category in (*HARD_NEGATIVE_CATEGORIES, "neutral"):
        clean = [o for o in outcomes if o.record.category == category]
        flagged = sum(1 for o in clean if o.analysis.verdict.value != "ok")
        categories[category] = {"n": len(clean), "fp_rate": _ratio(flagged, len(clean))}
    result["fp_by_category"] = categories
    return result


def render_overall(results: dict[str, dict[str, Any]]) -> str:
    """One Markdown table of the variants' overall figures."""
    lines = [
        "| variant | n | precision | recall | F1 | FP rate (clean) | verdict acc. | finding recall |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, result in results.items():
        o = result["overall"]
        lines.append(
            f"| {name} | {o['n']} | {_fmt(o['precision'])} | {_fmt(o['recall'])} | "
            f"{_fmt(o['f1'])} | {_fmt(o['fp_rate_clean'])} | {_fmt(o['verdict_accuracy'])} | "
            f"{_fmt(o['finding_recall'])} |"
        )
    return "\n".join(lines)


def render_tables(results: dict[str, dict[str, Any]]) -> str:
    """Markdown tables of the variants' evaluations (rules, model, both)."""
    lines = render_overall(results).split("\n")
    main = results.get("rules + model") or next(iter(results.values()))
    for key, title in (("by_kind", "kind"), ("by_lang", "language"), ("by_unit", "unit")):
        lines += [
            "",
            f"| {title} | n | precision | recall | F1 | FP rate (clean) | verdict acc. | finding recall |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for group, o in main[key].items():
            lines.append(
                f"| {group} | {o['n']} | {_fmt(o['precision'])} | {_fmt(o['recall'])} | "
                f"{_fmt(o['f1'])} | {_fmt(o['fp_rate_clean'])} | {_fmt(o['verdict_accuracy'])} | "
                f"{_fmt(o['finding_recall'])} |"
            )
    lines += [
        "",
        "| clean category | n | " + " | ".join(f"FP rate ({n})" for n in results) + " |",
        "|---|---|" + "---|" * len(results),
    ]
    for category in main["fp_by_category"]:
        n = main["fp_by_category"][category]["n"]
        rates = " | ".join(_fmt(r["fp_by_category"][category]["fp_rate"]) for r in results.values())
        lines.append(f"| {category} | {n} | {rates} |")
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"
