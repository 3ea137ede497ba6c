"""The `stagecheck` command line: analyze, screen, lexicon check, and the model's commands."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from nlp.errors import StagecheckError
from nlp.schema import VERDICT_LABELS_NL, Analysis
from service.startup import paused_until_started

if TYPE_CHECKING:
    from nlp.analyzer import Analyzer

logger = logging.getLogger("stagecheck")

SEVERITY_NL = {"explicit": "expliciet", "implicit": "impliciet", "advisory": "advies"}


class CliError(Exception):
    """A problem the command reports on stderr with a non-zero exit status."""


def _read_input(path: str) -> str:
    raw = sys.stdin.buffer.read() if path == "-" else _read_file(path)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        where = "standard input" if path == "-" else path
        raise CliError(
            f"{where} is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
            "save the text as UTF-8"
        ) from exc


def _read_file(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError as exc:
        raise CliError(f"no such file: {path}") from exc
    except IsADirectoryError as exc:
        raise CliError(f"{path} is a directory, not a text file") from exc
    except PermissionError as exc:
        raise CliError(f"no permission to read {path}") from exc


def build_analyzer(rules_only: bool = False) -> Analyzer:
    """The analyzer with its model (see models/) unless `rules_only`."""
    from service.runtime import load_analyzer

    return load_analyzer(rules_only=rules_only)


def _render(analysis: Analysis, text: str, stream: IO[str], color: bool) -> None:
    """Human-readable output: the verdict, the text with marked phrases, each finding."""
    dutch = analysis.lang == "nl"
    bold = (lambda s: f"\033[1m{s}\033[0m") if color else (lambda s: s)
    mark = (lambda s, n: f"\033[7m{s}\033[0m[{n}]") if color else (lambda s, n: f"[[{s}]]{n}")
    label = VERDICT_LABELS_NL[analysis.verdict] if dutch else analysis.verdict.value
    head = "Oordeel" if dutch else "Verdict"
    risk = "risico" if dutch else "risk"
    stream.write(
        f"{bold(head)}: {label} ({analysis.verdict.value})  {risk} {analysis.risk:.2f}  "
        f"lang {analysis.lang}  model {analysis.model_version}\n\n"
    )
    shown = analysis.text if analysis.text is not None else text
    pieces, cursor = [], 0
    for number, finding in enumerate(analysis.findings, start=1):
        if finding.start < cursor:
            continue
        pieces.append(shown[cursor : finding.start])
        pieces.append(mark(shown[finding.start : finding.end], number))
        cursor = finding.end
    pieces.append(shown[cursor:])
    stream.write("".join(pieces).rstrip() + "\n\n")
    if not analysis.findings:
        stream.write("Geen bevindingen.\n" if dutch else "No findings.\n")
    for number, finding in enumerate(analysis.findings, start=1):
        severity = SEVERITY_NL[finding.severity.value] if dutch else finding.severity.value
        stream.write(
            f"{bold(str(number))}. {finding.ground.value} · {severity} · "
            f'"{finding.quote}" ({finding.start}-{finding.end}, {finding.source})\n'
        )
        stream.write(f"   {'Uitleg' if dutch else 'Why'}: {finding.explanation}\n")
        stream.write(
            f"   {'Wettelijke basis' if dutch else 'Legal basis'}: {finding.legal_basis}\n"
        )
        if finding.suggestion:
            stream.write(f"   {'Suggestie' if dutch else 'Suggestion'}: {finding.suggestion}\n")
    if analysis.trace is not None:
        stream.write("\n" + bold("Beslisspoor" if dutch else "Decision trace") + ":\n")
        for cand in analysis.trace:
            state = "kept" if cand.kept else "dropped"
            stream.write(f'- {cand.rule_id} "{cand.quote}" ({cand.start}-{cand.end}): {state}\n')
            for step in cand.steps:
                stream.write(f"    {step.step}: {step.detail}\n")


@paused_until_started()
def cmd_analyze(args: argparse.Namespace) -> int:
    """stagecheck analyze: one text, from a file or stdin."""
    text = _read_input(args.file)
    content_type = args.content_type
    if content_type == "auto":
        content_type = (
            "text/html" if str(args.file).lower().endswith((".html", ".htm")) else "text/plain"
        )
    analyzer = build_analyzer(rules_only=args.rules_only)
    analysis = analyzer.analyze(
        text,
        kind=args.kind,
        lang=None if args.lang == "auto" else args.lang,
        content_type=content_type,
        id=args.id,
        explain=args.explain,
    )
    if args.json:
        sys.stdout.write(analysis.model_dump_json(indent=2) + "\n")
    else:
        _render(analysis, text, sys.stdout, color=sys.stdout.isatty())
    return 0


@paused_until_started()
def cmd_screen(args: argparse.Namespace) -> int:
    """stagecheck screen: a JSONL or CSV file in, one analysis per line out."""
    from service.batch import screen_file

    failed = screen_file(
        args.input,
        args.output,
        jobs=args.jobs,
        rules_only=args.rules_only,
        progress=None if not args.no_progress else False,
    )
    return 1 if failed else 0


def cmd_lexicon_check(args: argparse.Namespace) -> int:
    """stagecheck lexicon check: every entry's own examples through the analyzer."""
    from nlp.analyzer import Analyzer
    from nlp.lexicon_check import check_examples

    analyzer = Analyzer()
    counts = analyzer.lexicon.pattern_counts()
    entries = {lang: len(analyzer.lexicon.entries(lang)) for lang in counts}
    print(
        f"lexicon {analyzer.lexicon.digest[:12]}: "
        + ", ".join(f"{lang}: {entries[lang]} entries, {n} patterns" for lang, n in counts.items())
    )
    failures = check_examples(analyzer, lang=args.lang, ground=args.ground)
    for failure in failures:
        print(failure)
    print(f"{len(failures)} example(s) failed")
    return 1 if failures else 0


def make_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="stagecheck",
        description="Flags discriminatory wording in internship vacancies and employers' "
        "messages to students.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    sub = parser.add_subparsers(dest="command", required=True)

    analyze = sub.add_parser("analyze", help="analyse one text (a file, or - for stdin)")
    analyze.add_argument("file", nargs="?", default="-", metavar="FILE|-")
    analyze.add_argument("--kind", choices=["vacancy", "rejection"], default="vacancy")
    analyze.add_argument("--lang", choices=["auto", "nl", "en"], default="auto")
    analyze.add_argument(
        "--content-type",
        choices=["auto", "text/plain", "text/html"],
        default="auto",
        help="auto: text/html for .html files",
    )
    analyze.add_argument("--id", default=None, help="an id to echo in the result")
    analyze.add_argument("--json", action="store_true", help="print the analysis object")
    analyze.add_argument("--explain", action="store_true", help="include the decision trace")
    analyze.add_argument("--rules-only", action="store_true", help=argparse.SUPPRESS)
    analyze.set_defaults(func=cmd_analyze)

    screen = sub.add_parser("screen", help="screen a JSONL or CSV file; JSONL out")
    screen.add_argument("input", metavar="INPUT", help=".jsonl or .csv file, or - for stdin")
    screen.add_argument("-o", "--output", default="-", help="output JSONL file (default stdout)")
    screen.add_argument(
        "-j", "--jobs", type=int, default=1, help="worker processes (0 = all cores; default 1)"
    )
    screen.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    screen.add_argument("--rules-only", action="store_true", help=argparse.SUPPRESS)
    screen.set_defaults(func=cmd_screen)

    lexicon = sub.add_parser("lexicon", help="lexicon tools")
    lexicon_sub = lexicon.add_subparsers(dest="lexicon_command", required=True)
    check = lexicon_sub.add_parser("check", help="run every entry's flag/pass examples")
    check.add_argument("--lang", choices=["nl", "en"], default=None)
    check.add_argument("--ground", default=None)
    check.set_defaults(func=cmd_lexicon_check)

    _add_model_commands(sub)
    return parser


def _add_model_commands(sub: Any) -> None:
    """Subcommands that live beside their subject: the model's and the service's."""
    from service.cli_model import add_model_commands
    from service.cli_service import add_service_commands

    add_model_commands(sub)
    add_service_commands(sub)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `stagecheck` console script."""
    parser = make_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        code = int(args.func(args))
    except CliError as exc:
        print(f"stagecheck: error: {exc}", file=sys.stderr)
        return 2
    except StagecheckError as exc:
        print(f"stagecheck: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("stagecheck: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
