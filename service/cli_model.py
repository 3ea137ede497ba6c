"""CLI commands of the model and the corpus: train, evaluate, data check, data split."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def cmd_train(args: argparse.Namespace) -> int:
    """stagecheck train: fit, tune on dev, evaluate on test, write artefact and card."""
    import time

    from models.train import train

    started = time.perf_counter()
    artifact = train(output=Path(args.output), write_card=not args.no_card)
    overall = artifact.metrics["test"]["rules + model"]["overall"]
    print(
        f"model {artifact.version} written to {args.output} in {time.perf_counter() - started:.1f} s"
    )
    print(
        f"test split: F1 {overall['f1']:.3f}, FP rate (clean) {overall['fp_rate_clean']:.3f}, "
        f"finding recall {overall['finding_recall']:.3f}"
    )
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """stagecheck evaluate: the full table for a JSONL file (default: the test split)."""
    from models.artifact import DEFAULT_PATH, load_artifact
    from models.dataset import iter_jsonl_records, load_corpus
    from models.evaluate import analyse_records, evaluate, render_tables
    from models.scorer import ModelScorer
    from models.train import top_features
    from nlp.analyzer import Analyzer
    from nlp.lexicon import default_lexicon

    lexicon = default_lexicon()
    artifact = load_artifact(Path(args.model) if args.model else DEFAULT_PATH, lexicon.digest)
    if args.features:
        positive, negative = top_features(artifact, args.top)
        print("most positive features:")
        for name, weight in positive:
            print(f"  {weight:+.3f}  {name}")
        print("most negative features:")
        for name, weight in negative:
            print(f"  {weight:+.3f}  {name}")
        return 0
    if args.data:
        records = list(iter_jsonl_records(Path(args.data)))
    else:
        records = [r for r in load_corpus() if r.split == args.split]
    variants = {
        "rules only": Analyzer(lexicon),
        "model only": Analyzer(lexicon, scorer=ModelScorer(artifact, mode="model_only")),
        "rules + model": Analyzer(lexicon, scorer=ModelScorer(artifact)),
    }
    results = {}
    outcomes_main = []
    for name, analyzer in variants.items():
        outcomes = analyse_records(analyzer, records, desc=name)
        results[name] = evaluate(outcomes)
        if name == "rules + model":
            outcomes_main = outcomes
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        source = args.data or f"{args.split} split"
        print(f"{len(records)} records from {source}; model {artifact.version}\n")
        print(render_tables(results))
    if args.errors:
        print("\nerrors of rules + model:", file=sys.stderr)
        for o in outcomes_main:
            gold, pred = o.record.verdict, o.analysis.verdict.value
            if (gold == "ok") != (pred == "ok") or o.missed:
                quotes = [f.quote for f in o.analysis.findings]
                print(
                    f"{o.record.id}\tgold={gold}\tpred={pred}\tmissed={o.missed}\tfound={quotes}",
                    file=sys.stderr,
                )
    return 0


def cmd_data_check(args: argparse.Namespace) -> int:
    """stagecheck data check: labels, quotes, verdicts, ids and splits of the corpus."""
    from models.check import check_corpus
    from models.dataset import corpus_files

    paths = [Path(p) for p in args.files] if args.files else corpus_files()
    problems, counts = check_corpus(paths, require_split=not args.no_split)
    for problem in problems:
        print(problem)
    splits = ", ".join(
        f"{k.split(':')[1]} {v}" for k, v in sorted(counts.items()) if k.startswith("split:")
    )
    print(
        f"{counts['records']} records in {len(paths)} files ({splits}); "
        f"{counts['near_duplicate_pairs']} near-duplicate pairs; {len(problems)} problem(s)"
    )
    return 1 if problems else 0


def cmd_data_split(args: argparse.Namespace) -> int:
    """stagecheck data split: held-out rounds make dev and test (by id, stratified); the rest train."""
    from collections import Counter

    from models.corpus import iter_records
    from models.dataset import corpus_files, write_jsonl
    from models.splits import assign_splits, heldout_round

    paths = corpus_files()
    per_file = {path: [record for _, record in iter_records(path)] for path in paths}
    records = [r for rs in per_file.values() for r in rs]
    held_out = {
        r.id: held_round
        for path, rs in per_file.items()
        if (held_round := heldout_round(path.name)) is not None
        for r in rs
    }
    assignment = assign_splits(records, held_out)
    for path, file_records in per_file.items():
        write_jsonl(
            path,
            (
                r.model_copy(update={"split": assignment[r.id]}).model_dump(exclude_none=True)
                for r in file_records
            ),
        )
    print(dict(Counter(assignment.values())))
    return 0


def cmd_data_stats(args: argparse.Namespace) -> int:
    """stagecheck data stats: the corpus composition as Markdown tables."""
    from models.dataset import load_corpus
    from models.stats import corpus_stats

    print(corpus_stats(load_corpus()))
    return 0


def add_model_commands(sub: Any) -> None:
    """Register the model's subcommands on the `stagecheck` parser."""
    from models.artifact import DEFAULT_PATH

    train = sub.add_parser("train", help="train the model from training_data/")
    train.add_argument("-o", "--output", default=str(DEFAULT_PATH))
    train.add_argument("--no-card", action="store_true", help="do not rewrite MODEL_CARD.md")
    train.set_defaults(func=cmd_train)

    evaluate = sub.add_parser("evaluate", help="evaluate rules, model and both")
    evaluate.add_argument("--data", default=None, help="a JSONL file in the corpus format")
    evaluate.add_argument("--split", default="test", choices=["train", "dev", "test"])
    evaluate.add_argument("--model", default=None, help="model artefact path")
    evaluate.add_argument("--features", action="store_true", help="print the top features")
    evaluate.add_argument("--top", type=int, default=30)
    evaluate.add_argument("--json", action="store_true")
    evaluate.add_argument("--errors", action="store_true", help="list errors on stderr")
    evaluate.set_defaults(func=cmd_evaluate)

    data = sub.add_parser("data", help="corpus tools")
    data_sub = data.add_subparsers(dest="data_command", required=True)
    check = data_sub.add_parser("check", help="check the corpus")
    check.add_argument("files", nargs="*")
    check.add_argument("--no-split", action="store_true", help="do not require a split")
    check.set_defaults(func=cmd_data_check)
    split = data_sub.add_parser("split", help="assign splits")
    split.set_defaults(func=cmd_data_split)
    stats = data_sub.add_parser("stats", help="corpus counts as Markdown")
    stats.set_defaults(func=cmd_data_stats)
    from service.cli_service import add_export_feedback

    add_export_feedback(data_sub)
