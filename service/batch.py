"""`stagecheck screen`: stream a JSONL or CSV file through the analyzer, in input order."""

from __future__ import annotations

import io
import json
import logging
import multiprocessing
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from itertools import islice
from typing import IO, Any

from tqdm import tqdm

from service.screening import ScreenItem, read_csv, read_jsonl, screen_items, sniff_format

logger = logging.getLogger(__name__)

_WINDOW = 2_000  # items read ahead per round, so memory stays flat for any input size
# Texts analysed together: the model scores their sentences in one pass (issue 7).
_BATCH = 32
_worker_analyzer: Any = None


def _init_worker(rules_only: bool) -> None:
    global _worker_analyzer
    from service.runtime import load_analyzer

    _worker_analyzer = load_analyzer(rules_only=rules_only)


def _screen_in_worker(items: list[ScreenItem]) -> list[tuple[str, bool]]:
    results = screen_items(_worker_analyzer, items)
    return [(json.dumps(result, ensure_ascii=False), "error" in result) for result in results]


def iter_items(stream: IO[bytes], name: str) -> Iterator[ScreenItem]:
    """The items of a JSONL or CSV stream (format from the name or the first byte)."""
    buffered = (
        stream if isinstance(stream, io.BufferedReader) else io.BufferedReader(stream)  # type: ignore[type-var]
    )
    head = buffered.peek(64)[:64]
    if sniff_format(name, head) == "jsonl":
        return read_jsonl(buffered)
    return read_csv(buffered)


def _windows(items: Iterable[ScreenItem], size: int) -> Iterator[list[ScreenItem]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def screen_stream(
    items: Iterable[ScreenItem],
    out: IO[str],
    jobs: int = 1,
    rules_only: bool = False,
    progress: bool | None = None,
) -> tuple[int, int]:
    """Screen `items` into `out` as JSONL; returns (lines written, lines failed)."""
    show = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(total=None, unit=" texts", disable=not show, file=sys.stderr, dynamic_ncols=True)
    written = failed = 0
    jobs = os.cpu_count() or 1 if jobs == 0 else max(1, jobs)
    # Load the analyzer in this process first: a missing or broken model then fails here
    # with its message (a pool would respawn failing workers forever), and forked workers
    # share the loaded lexicons and model (both languages, built before the fork).
    _init_worker(rules_only)
    if jobs > 1:
        _worker_analyzer.warm()
    with ExitStack() as stack:
        if jobs > 1:
            context = multiprocessing.get_context(
                "fork" if sys.platform.startswith("linux") else "spawn"
            )
            pool = stack.enter_context(
                context.Pool(jobs, initializer=_init_worker, initargs=(rules_only,))
            )
        else:
            pool = None
        for window in _windows(items, _WINDOW):
            batches = list(_windows(window, _BATCH))
            if pool is not None:
                results: Iterable[list[tuple[str, bool]]] = pool.imap(_screen_in_worker, batches)
            else:
                results = (_screen_in_worker(batch) for batch in batches)
            lines = (line for batch in results for line in batch)
            for line, is_error in lines:
                failed += is_error
                out.write(line + "\n")
                written += 1
                bar.update(1)
            out.flush()
    bar.close()
    return written, failed


def screen_file(
    input_path: str,
    output_path: str,
    jobs: int = 1,
    rules_only: bool = False,
    progress: bool | None = None,
) -> int:
    """Screen a file (or - for stdin) to JSONL (or - for stdout); returns the failed count."""
    from service.cli import CliError

    with ExitStack() as stack:
        if input_path == "-":
            source: IO[bytes] = sys.stdin.buffer
        else:
            try:
                source = stack.enter_context(open(input_path, "rb"))
            except FileNotFoundError as exc:
                raise CliError(f"no such file: {input_path}") from exc
            except IsADirectoryError as exc:
                raise CliError(f"{input_path} is a directory") from exc
        items = iter_items(source, input_path)
        if output_path == "-":
            out: IO[str] = sys.stdout
        else:
            out = stack.enter_context(open(output_path + ".part", "w", encoding="utf-8"))
        written, failed = screen_stream(
            items, out, jobs=jobs, rules_only=rules_only, progress=progress
        )
    if output_path != "-":
        os.replace(output_path + ".part", output_path)
    logger.info("screened %d lines, %d failed", written, failed)
    if failed:
        print(
            f"stagecheck: {failed} of {written} lines could not be analysed; "
            "see their 'error' field",
            file=sys.stderr,
        )
    return failed
