"""The `stagecheck` command end to end, in a subprocess, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

STAGECHECK = [sys.executable, "-m", "service.cli"]
ROOT = Path(__file__).resolve().parents[2]


def run(args: list[str], stdin: bytes | str = b"") -> subprocess.CompletedProcess[bytes]:
    data = stdin.encode() if isinstance(stdin, str) else stdin
    return subprocess.run(
        [*STAGECHECK, *args], input=data, capture_output=True, cwd=ROOT, timeout=120
    )


def test_analyze_json_rejects_age_limit_and_headscarf_ban() -> None:
    text = "Wij zoeken een jonge stagiair, max. 21 jaar. Hoofddoekjes zijn niet toegestaan.\n"
    result = run(["analyze", "--json", "-"], text)
    assert result.returncode == 0, result.stderr
    analysis = json.loads(result.stdout)
    assert analysis["verdict"] == "reject"
    grounds = {f["ground"] for f in analysis["findings"]}
    assert {"age", "religion"} <= grounds
    for finding in analysis["findings"]:
        assert text[finding["start"] : finding["end"]] == finding["quote"]
    quotes = " | ".join(f["quote"] for f in analysis["findings"])
    assert "max. 21 jaar" in quotes and "Hoofddoekjes" in quotes


@pytest.mark.parametrize(
    "text",
    [
        "Leeftijd, afkomst en geloof spelen bij ons geen rol.",
        "Age, origin and religion play no role for us.",
    ],
)
def test_analyze_json_inclusive_statement_is_ok(text: str) -> None:
    result = run(["analyze", "--json", "-"], text)
    assert result.returncode == 0, result.stderr
    analysis = json.loads(result.stdout)
    assert analysis["verdict"] == "ok"
    assert analysis["findings"] == []


def test_analyze_english_counterpart_rejects() -> None:
    text = "We are looking for a young intern, max. 21 years old. Headscarves are not allowed."
    analysis = json.loads(run(["analyze", "--json", "-"], text).stdout)
    assert analysis["verdict"] == "reject"
    assert {"age", "religion"} <= {f["ground"] for f in analysis["findings"]}


def test_analyze_human_output_marks_phrases_and_explains(tmp_path: Path) -> None:
    path = tmp_path / "vacature.txt"
    path.write_text("Stage gastvrouw, max 23 jaar.", encoding="utf-8")
    result = run(["analyze", str(path)])
    out = result.stdout.decode()
    assert result.returncode == 0
    assert "afkeuren" in out and "[[max 23 jaar]]" in out and "WGBL art. 3" in out


def test_analyze_explain_shows_dropped_candidates() -> None:
    text = "Je bent minimaal 18 jaar vanwege het schenken van alcohol."
    result = run(["analyze", "--explain", "-"], text)
    out = result.stdout.decode()
    assert "akkoord" in out
    assert "dropped" in out and "justification" in out


def test_analyze_html_returns_extracted_text_and_offsets_into_it(tmp_path: Path) -> None:
    path = tmp_path / "vacature.html"
    path.write_text("<h1>Stage</h1><ul><li>Max. 22 jaar</li><li>VCA</li></ul>", encoding="utf-8")
    analysis = json.loads(run(["analyze", "--json", str(path)]).stdout)
    assert analysis["text"] == "Stage\n• Max. 22 jaar\n• VCA"
    finding = analysis["findings"][0]
    assert analysis["text"][finding["start"] : finding["end"]] == finding["quote"] == "Max. 22 jaar"


@pytest.mark.parametrize(
    ("stdin", "args", "message"),
    [
        (b"   \n\t ", ["analyze", "-"], "text is empty"),
        (b"", ["analyze", "-"], "text is empty"),
        (b"abc\x00def", ["analyze", "-"], "NUL bytes"),
        (b"Stage \xff\xfe kok", ["analyze", "-"], "not valid UTF-8"),
        (("woord " * 400_000).encode(), ["analyze", "-"], "limit is 200,000 characters"),
        (b"tekst", ["analyze", "--kind", "brief", "-"], "invalid choice"),
        (b"", ["analyze", "/nonexistent/file.txt"], "no such file"),
    ],
    ids=["whitespace", "empty", "nul-bytes", "invalid-utf8", "2mb-text", "unknown-kind", "no-file"],
)
def test_bad_input_gets_a_clear_message_and_no_traceback(
    stdin: bytes, args: list[str], message: str
) -> None:
    result = run(args, stdin)
    assert result.returncode != 0
    err = result.stderr.decode()
    assert message in err
    assert "Traceback" not in err


def test_screen_jsonl_in_order_with_error_lines(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    lines = [
        json.dumps({"id": "a", "text": "Max. 25 jaar."}),
        "{not json",
        json.dumps({"id": "c", "text": "De plek is al vergeven.", "kind": "rejection"}),
        json.dumps({"id": "d", "text": ""}),
        json.dumps({"id": "e", "text": "hoi", "kind": "brief"}),
    ]
    source.write_bytes(("\n".join(lines) + "\n").encode() + b'{"id": "f", "text": "caf\xe9"}\n')
    out = tmp_path / "out.jsonl"
    result = run(["screen", str(source), "-o", str(out)])
    assert result.returncode == 1
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r.get("id") for r in rows] == ["a", None, "c", "d", "e", None]
    assert rows[0]["verdict"] == "reject"
    assert rows[2]["verdict"] == "ok" and rows[2]["kind"] == "rejection"
    assert "not valid JSON" in rows[1]["error"]
    assert "empty" in rows[3]["error"]
    assert "unknown kind" in rows[4]["error"]
    assert "UTF-8" in rows[5]["error"]
    assert "4 of 6 lines" in result.stderr.decode()


def test_screen_csv_from_stdin_to_stdout() -> None:
    csv_text = 'id,text,kind\n1,"Wij zoeken een receptioniste, max 23 jr.",vacancy\n2,Je kwam twee keer niet opdagen.,rejection\n'
    result = run(["screen", "-"], csv_text)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [r["id"] for r in rows] == ["1", "2"]
    assert rows[0]["verdict"] == "reject" and rows[1]["verdict"] == "ok"


def test_screen_csv_without_text_column_is_refused() -> None:
    result = run(["screen", "-"], "id,tekst\n1,hallo\n")
    assert result.returncode == 2
    assert "no 'text' column" in result.stderr.decode()


def test_screen_with_several_workers_and_no_model_stops_with_the_reason(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "STAGECHECK_MODEL_PATH": str(tmp_path / "missing.joblib")}
    result = subprocess.run(
        [*STAGECHECK, "screen", "-j", "2", "-"],
        input=b'{"id": 1, "text": "Max 25 jaar."}\n',
        capture_output=True,
        cwd=ROOT,
        timeout=120,
        env=env,
    )
    assert result.returncode == 2
    assert "E101 no model" in result.stderr.decode()
