"""The benchmark scripts of issue 7 run to the end and print their figures.

Nothing else runs them, so a change to the code they time (a renamed method, a moved
function) broke `bench/analyzer.py` after its headline once, unnoticed. Each runs here on
a few texts for a second or so; the figures themselves are not judged.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def run_bench(script: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        capture_output=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    output = result.stdout.decode()
    assert result.returncode == 0, f"{output}\n{result.stderr.decode()}"
    return output


def test_analyzer_prints_headline_and_every_stage() -> None:
    output = run_bench(
        "analyzer.py", "--n", "40", "--repeats", "1", "--full-repeats", "1", "--profile-n", "20"
    )
    assert re.search(r"headline: full \(batched, as screen\) / bare throughput = \d\.\d+", output)
    for stage in ("spaCy docs", "recognizers", "context", "model (scorer.review)", "total"):
        assert stage in output
    assert "stagecheck_lemmatizer" in output


def test_screen_screens_every_text_in_order() -> None:
    output = run_bench("screen.py", "--n", "40", "--jobs", "1")
    assert "40 lines, 0 errors, in order: True" in output


def test_api_answers_under_load_beside_its_baseline() -> None:
    output = run_bench(
        "api.py", "--duration", "1", "--concurrency", "2", "--workers", "1",
        "--baseline-seconds", "0.3",
    )  # fmt: skip
    row = re.search(r"^\s+1\s+2 POST /v1/analyze\s+(\d[\d,]*)\s+0\s", output, re.MULTILINE)
    assert row is not None, output  # requests answered, none failed
    assert "baseline in-process" in output


def test_coldstart_times_cli_and_service() -> None:
    output = run_bench("coldstart.py", "--repeats", "1", "--service-workers", "1")
    assert "stagecheck analyze --json -" in output
    assert re.search(r"stagecheck serve --workers 1: spawn to first POST /v1/analyze 200", output)
    assert "total in process" in output
