"""Benchmark of the full analysis (rules + model) in one process, beside bare tokenisation.

Issue 2 acceptance and issue 7 item 1. Generates N vacancies (bench/generate.py), then in
the same run and process:

- bare `spacy.blank("nl")` tokenisation of the texts through `nlp.pipe` (the baseline, run
  right before and after the full analyses of each round; the headline is the median of the
  rounds' ratios, since the shared machine's speed drifts);
- the full analysis with the model through `Analyzer.analyze_many` in batches of 32, as
  `stagecheck screen` does (the headline), and one text at a time with `Analyzer.analyze`,
  as the API's single route does;
- a per-stage profile in ms per text, by wrapping the analyzer's stages on this instance only
  (nlp/, models/ and service/ are not changed).

The headline is the ratio of full-analysis to bare-tokenisation throughput (target >= 0.25).

    .venv/bin/python bench/analyzer.py                 # 10,000 texts (issue 2)
    .venv/bin/python bench/analyzer.py --n 5000        # issue 7
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any, TypeVar

from benchlib import environment, format_table, median, peak_rss_mb
from generate import DEFAULT_SEED, generate_vacancies

F = TypeVar("F", bound=Callable[..., Any])


class StageClock:
    """Accumulates wall time per stage name across calls of wrapped functions."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()

    def wrap(self, name: str, function: F) -> F:
        """`function`, timed under `name`."""
        seconds, calls = self.seconds, self.calls

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                seconds[name] += time.perf_counter() - started
                calls[name] += 1

        return timed  # type: ignore[return-value]


class TimedMatcher:
    """Stands in for a spaCy matcher on a recognizer: same call and len, timed."""

    def __init__(self, matcher: Any, name: str, clock: StageClock) -> None:
        self._matcher = matcher
        self._call = clock.wrap(name, matcher.__call__)

    def __len__(self) -> int:
        return len(self._matcher)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._call(*args, **kwargs)


# The matchers a LexiconRecognizer holds, by attribute, and how the table names them.
LEXICON_MATCHERS = {
    "_lemma": "PhraseMatcher LEMMA",
    "_lower": "PhraseMatcher LOWER",
    "_tokens": "token Matcher (patterns without anchor)",
    "_anchored": "anchored token patterns (windows around anchor words)",
    "_near_parts": "near-pair PhraseMatcher",
}
LEXICON_ROWS = list(LEXICON_MATCHERS.values())


def bare_tokenise(texts: list[str]) -> float:
    """Seconds to tokenise `texts` with a bare `spacy.blank("nl")` via nlp.pipe."""
    import spacy

    nlp = spacy.blank("nl")
    nlp.max_length = 3_000_000
    for _ in nlp.pipe(texts[:100]):
        pass
    started = time.perf_counter()
    tokens = 0
    for doc in nlp.pipe(texts):
        tokens += len(doc)
    elapsed = time.perf_counter() - started
    assert tokens > 0
    return elapsed


def full_analysis(analyzer: Any, texts: list[str]) -> tuple[float, Counter[str]]:
    """Seconds to analyse every text, and the verdicts."""
    verdicts: Counter[str] = Counter()
    started = time.perf_counter()
    for text in texts:
        verdicts[analyzer.analyze(text, kind="vacancy").verdict.value] += 1
    return time.perf_counter() - started, verdicts


def full_analysis_batched(
    analyzer: Any, texts: list[str], batch: int
) -> tuple[float, Counter[str]]:
    """Seconds to analyse every text through `analyze_many` in batches, as screen does."""
    from nlp.analyzer import AnalysisRequest

    verdicts: Counter[str] = Counter()
    started = time.perf_counter()
    for first in range(0, len(texts), batch):
        requests = [AnalysisRequest(text) for text in texts[first : first + batch]]
        for analysis in analyzer.analyze_many(requests):
            verdicts[analysis.verdict.value] += 1
    return time.perf_counter() - started, verdicts


def staged_profile(analyzer: Any, texts: list[str]) -> tuple[list[list[object]], float]:
    """Per-stage ms per text: the stages of one analysis, each wrapped with a clock.

    Returns the table rows and the summed ms per text of analyze().
    """
    import models.scorer as scorer_module
    import nlp.analyzer as analyzer_module

    clock = StageClock()
    for lang, recognizers in analyzer._recognizers.items():
        for recognizer in recognizers:
            recognizer.analyze = clock.wrap(
                f"recognizers/{type(recognizer).__name__}", recognizer.analyze
            )
            for attribute, label in LEXICON_MATCHERS.items():
                matcher = getattr(recognizer, attribute, None)
                if matcher is not None:
                    timed = TimedMatcher(matcher, f"lexicon/{label}", clock)
                    setattr(recognizer, attribute, timed)
        context = analyzer._context[lang]
        context.apply = clock.wrap("context", context.apply)
    # prepare() calls the `process` it imported (spaCy's doc of a text or of a sentence of
    # another language); time it in that module's namespace.
    analyzer_namespace = vars(analyzer_module)
    original_process = analyzer_namespace["process"]
    analyzer_namespace["process"] = clock.wrap("prepare/spacy", original_process)
    scorer = analyzer.scorer
    # The scorer calls the `sentence_units` it imported; time it in that module's namespace.
    namespace = vars(scorer_module)
    original_units = namespace["sentence_units"]
    if scorer is not None:
        scorer.review = clock.wrap("model", scorer.review)
        scorer.probabilities = clock.wrap("model/probabilities", scorer.probabilities)
        cached = scorer._features  # models/vectorise.CachedFeatures
        cached.transform = clock.wrap("model/features", cached.transform)
        cached._char_counts = clock.wrap("model/features/char counts", cached._char_counts)
        if hasattr(scorer, "text_probabilities"):  # the text-only model, on no-rule sentences
            scorer.text_probabilities = clock.wrap("model/paraphraser", scorer.text_probabilities)
        namespace["sentence_units"] = clock.wrap("model/units", original_units)
    try:
        for text in texts:
            started = time.perf_counter()
            prepared = analyzer.prepare(text, kind="vacancy")
            clock.seconds["prepare"] += time.perf_counter() - started
            started = time.perf_counter()
            analysis = analyzer.analyze_prepared(prepared)
            clock.seconds["analyze_prepared"] += time.perf_counter() - started
            started = time.perf_counter()
            analysis.model_dump_json()
            clock.seconds["serialise"] += time.perf_counter() - started
    finally:
        namespace["sentence_units"] = original_units
        analyzer_namespace["process"] = original_process

    s = clock.seconds
    ms = {name: 1000 * value / len(texts) for name, value in s.items()}
    recognizers = sum(v for k, v in ms.items() if k.startswith("recognizers/"))
    model = ms.get("model", 0.0)
    result = ms["analyze_prepared"] - recognizers - ms["context"] - model
    total = ms["prepare"] + ms["analyze_prepared"]

    rows: list[list[object]] = []

    def row(label: str, value: float, sub: bool = False) -> None:
        rows.append(
            ["  " + label if sub else label, value, "" if sub else f"{100 * value / total:.0f}%"]
        )

    row("pipeline (validate, language, tokenise+lemma+sentences)", ms["prepare"])
    row("spaCy docs (also of other-language sentences)", ms["prepare/spacy"], sub=True)
    row(
        "validation, HTML, language detection and split",
        ms["prepare"] - ms["prepare/spacy"],
        sub=True,
    )
    row("recognizers", recognizers)
    for name in sorted(k for k in ms if k.startswith("recognizers/")):
        row(name.split("/", 1)[1], ms[name], sub=True)
        if name == "recognizers/LexiconRecognizer":
            inside = 0.0
            for label in LEXICON_ROWS:
                if f"lexicon/{label}" in ms:
                    row(f"  {label}", ms[f"lexicon/{label}"], sub=True)
                    inside += ms[f"lexicon/{label}"]
            row("  rest (gate word set, spans, candidates)", ms[name] - inside, sub=True)
    row("context", ms["context"])
    if scorer is not None:
        features = ms["model/features"]
        parts = sum(v for k, v in ms.items() if k.startswith("model/features/"))
        row("model (scorer.review)", model)
        row("sentence units", ms["model/units"], sub=True)
        for name in sorted(k for k in ms if k.startswith("model/features/")):
            row(f"features: {name.rsplit('/', 1)[1]}", ms[name], sub=True)
        row("features: the rest (words, rules, TF-IDF, hstack)", features - parts, sub=True)
        row("predict_proba", ms["model/probabilities"] - features, sub=True)
        paraphraser_ms = ms.get("model/paraphraser", 0.0)
        if "model/paraphraser" in ms:
            row("text-only model (sentences no rule caught)", paraphraser_ms, sub=True)
        row(
            "veto/confirm/add, grounder, narrow",
            model - ms["model/probabilities"] - ms["model/units"] - paraphraser_ms,
            sub=True,
        )
    row("result building (overlaps, findings, verdict)", result)
    rows.append(["total analyze()", total, "100%"])
    rows.append(["serialise (model_dump_json; not in analyze())", ms["serialise"], ""])
    return rows, total


def pipeline_components(texts: list[str]) -> list[list[object]]:
    """ms per text of the Dutch pipeline's tokenizer and each component, in a separate pass."""
    from nlp.pipeline import get_pipeline

    nlp = get_pipeline("nl")
    seconds: dict[str, float] = defaultdict(float)
    for text in texts:
        started = time.perf_counter()
        doc = nlp.make_doc(text)
        seconds["tokenizer"] += time.perf_counter() - started
        for name, component in nlp.pipeline:
            started = time.perf_counter()
            doc = component(doc)
            seconds[name] += time.perf_counter() - started
    return [[name, 1000 * value / len(texts)] for name, value in seconds.items()]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="vacancies to analyse")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--repeats", type=int, default=2, help="baseline timings before and after each round"
    )
    parser.add_argument(
        "--full-repeats",
        type=int,
        default=3,
        help="rounds of full analyses, each with its baseline",
    )
    parser.add_argument(
        "--profile-n", type=int, default=2_000, help="texts for the per-stage profile"
    )
    parser.add_argument(
        "--batch", type=int, default=32, help="texts per analyze_many call (screen uses 32)"
    )
    parser.add_argument("--rules-only", action="store_true", help="without the model")
    args = parser.parse_args(argv)

    texts = generate_vacancies(args.n, args.seed)
    words = sum(len(t.split()) for t in texts)
    print(f"{environment()}")
    print(
        f"{len(texts):,} generated vacancies, {words / len(texts):.0f} words on average "
        f"(seed {args.seed})\n"
    )
    rss_start = peak_rss_mb()

    from models.artifact import ModelError
    from service.runtime import load_analyzer

    started = time.perf_counter()
    try:
        analyzer = load_analyzer(rules_only=args.rules_only)
    except ModelError as exc:
        print(f"bench: cannot load the model: {exc}", file=sys.stderr)
        return 2
    load_seconds = time.perf_counter() - started
    rss_loaded = peak_rss_mb()
    for text in texts[:100]:  # warm-up: lemma caches, first-call allocations
        analyzer.analyze(text, kind="vacancy")

    # The machine is shared and its speed drifts by tens of percent within minutes. So each
    # round times the baseline right before and right after its full analyses, and the
    # headline is the median over rounds of each round's own ratio.
    bare_runs: list[float] = []
    full_runs: list[float] = []
    batched_runs: list[float] = []
    ratios: list[float] = []
    single_ratios: list[float] = []
    verdicts: Counter[str] = Counter()
    for _ in range(max(1, args.full_repeats)):
        before = median([bare_tokenise(texts) for _ in range(max(1, args.repeats))])
        elapsed_batched, batched_verdicts = full_analysis_batched(analyzer, texts, args.batch)
        elapsed_single, verdicts = full_analysis(analyzer, texts)
        after = median([bare_tokenise(texts) for _ in range(max(1, args.repeats))])
        assert verdicts == batched_verdicts, "analyze_many must give the same verdicts"
        bare_runs += [before, after]
        batched_runs.append(elapsed_batched)
        full_runs.append(elapsed_single)
        ratios.append((before + after) / 2 / elapsed_batched)
        single_ratios.append((before + after) / 2 / elapsed_single)
    bare, full, batched = median(bare_runs), median(full_runs), median(batched_runs)
    rss_full = peak_rss_mb()

    label = "full analysis (rules only)" if args.rules_only else "full analysis (rules + model)"
    print(
        format_table(
            ["run", "repeats", "seconds", "texts/s", "words/s", "ms/text"],
            [
                [
                    'bare spacy.blank("nl") nlp.pipe',
                    len(bare_runs),
                    bare,
                    len(texts) / bare,
                    words / bare,
                    1000 * bare / len(texts),
                ],
                [
                    f"{label}, analyze_many x{args.batch} (screen)",
                    len(batched_runs),
                    batched,
                    len(texts) / batched,
                    words / batched,
                    1000 * batched / len(texts),
                ],
                [
                    f"{label}, analyze one by one (API)",
                    len(full_runs),
                    full,
                    len(texts) / full,
                    words / full,
                    1000 * full / len(texts),
                ],
            ],
        )
    )
    ratio = median(ratios)
    verdict_text = ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items()))
    print(
        f"\nheadline: full (batched, as screen) / bare throughput = {ratio:.3f}, the median of "
        f"{len(ratios)} rounds ({min(ratios):.3f}-{max(ratios):.3f}; target >= 0.25: "
        f"{'met' if ratio >= 0.25 else 'NOT met'}); one by one: {median(single_ratios):.3f}"
    )
    print(f"verdicts: {verdict_text} (about 20% of the texts carry a discriminatory phrase)")
    print(
        f"analyzer load: {load_seconds:.2f} s; peak RSS: {rss_start:.0f} MB at start, "
        f"{rss_loaded:.0f} MB after load, {rss_full:.0f} MB after the full run"
    )

    sample = texts[: min(args.profile_n, len(texts))]
    rows, staged_total = staged_profile(analyzer, sample)
    print(
        f"\nper-stage profile, ms per text ({len(sample):,} texts, stages wrapped with timers; "
        f"total {staged_total:.2f} ms against {1000 * full / len(texts):.2f} ms unwrapped)"
    )
    print(format_table(["stage", "ms/text", "share"], rows))
    print(
        f"\nDutch pipeline components, ms per text (separate pass over the same {len(sample):,} texts)"
    )
    print(format_table(["component", "ms/text"], pipeline_components(sample)))
    print(f"\npeak RSS (ru_maxrss) at the end: {peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
