"""`stagecheck db`, `orgs`, `keys`, `purge` and `data export-feedback`, run in-process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from nlp.analyzer import Analyzer
from service.app import create_app
from service.cli import main
from service.config import get_settings
from tests.service.conftest import settings_for


@pytest.fixture
def data_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """STAGECHECK_DATA_DIR pointing at a fresh folder, with the cached settings reset."""
    for name in ("STAGECHECK_DATABASE_URL", "STAGECHECK_AUTH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STAGECHECK_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield tmp_path / "data"
    get_settings.cache_clear()


def test_db_upgrade_then_status(data_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "status"]) == 1
    assert "behind" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert "0004_batch_jobs" in capsys.readouterr().out
    assert (data_env / "stagecheck.db").exists()
    assert main(["db", "status"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_keys_need_an_upgraded_database(data_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "create", "--name", "x"]) == 2
    assert "stagecheck db upgrade" in capsys.readouterr().err


def test_keys_create_prints_the_key_once_and_stores_its_hash(
    data_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["db", "upgrade"])
    capsys.readouterr()
    assert main(["keys", "create", "--name", "ROC portal", "--expires-days", "30"]) == 0
    out, err = capsys.readouterr()
    secret = out.strip()
    assert secret.startswith("sc_") and "\n" not in secret
    assert "only time" in err and secret not in err
    stored = b"".join(p.read_bytes() for p in data_env.iterdir() if p.is_file())
    assert secret.encode() not in stored

    assert main(["keys", "list"]) == 0
    listing = capsys.readouterr().out
    assert "ROC portal" in listing and "active" in listing
    assert secret not in listing and secret[:11] in listing

    assert main(["keys", "revoke", secret[:11]]) == 0
    capsys.readouterr()
    main(["keys", "list"])
    assert "revoked" in capsys.readouterr().out
    assert main(["keys", "revoke", "sc_nothing"]) == 2


def test_serve_refuses_without_keys_or_with_an_old_database(
    data_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["serve", "--port", "1"]) == 2
    assert "stagecheck db upgrade" in capsys.readouterr().err
    main(["db", "upgrade"])
    capsys.readouterr()
    assert main(["serve", "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert "stagecheck keys create" in err and "STAGECHECK_AUTH=disabled" in err


def test_invalid_settings_name_the_variable(
    data_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGECHECK_AUTH", "sometimes")
    get_settings.cache_clear()
    assert main(["db", "upgrade"]) == 2
    assert "STAGECHECK_AUTH" in capsys.readouterr().err


def _secret(capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    out, err = capsys.readouterr()
    return out.strip(), err


def test_orgs_and_keys_with_roles(data_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["db", "upgrade"])
    assert main(["orgs", "create", "--name", "ROC Midden", "--type", "school"]) == 0
    assert "keys create --org 'ROC Midden'" in capsys.readouterr().err
    assert main(["orgs", "create", "--name", "SBB", "--type", "sbb"]) == 0
    assert main(["orgs", "create", "--name", "roc midden", "--type", "school"]) == 2
    assert "exists already" in capsys.readouterr().err

    assert main(["keys", "create", "--org", "ROC Midden", "--role", "officer"]) == 0
    secret, err = _secret(capsys)
    assert secret.startswith("sc_") and "'ROC Midden' with role officer" in err
    assert secret not in err
    assert main(["keys", "create", "--org", "SBB", "--role", "sbb", "--name", "Jan (SBB)"]) == 0
    capsys.readouterr()
    assert main(["keys", "create", "--name", "old portal"]) == 0
    assert "analysis only" in capsys.readouterr().err

    for argv, message in (
        (["--org", "ROC Midden", "--role", "sbb"], "is a school"),
        (["--org", "ROC Midden"], "--role"),
        (["--role", "admin", "--name", "x"], "--org"),
        ([], "--org NAME --role ROLE"),
        (["--org", "ROC Nergens", "--role", "officer"], "stagecheck orgs list"),
    ):
        assert main(["keys", "create", *argv]) == 2, argv
        assert message in capsys.readouterr().err, argv

    assert main(["orgs", "list"]) == 0
    listing = capsys.readouterr().out
    assert "ROC Midden" in listing and "school" in listing and "sbb" in listing
    assert main(["keys", "list"]) == 0
    keys = capsys.readouterr().out
    assert (
        "officer" in keys and "ROC Midden" in keys and "Jan (SBB)" in keys and "old portal" in keys
    )
    assert main(["keys", "list", "--org", "SBB"]) == 0
    only_sbb = capsys.readouterr().out
    assert "Jan (SBB)" in only_sbb and "ROC Midden" not in only_sbb


def _store_with_feedback(
    data_env: Path, rules: Analyzer, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["orgs", "create", "--name", "ROC Midden", "--type", "school"])
    capsys.readouterr()
    main(["keys", "create", "--org", "ROC Midden", "--role", "officer"])
    secret, _ = _secret(capsys)
    auth = {"Authorization": f"Bearer {secret}"}
    texts = [
        "Hoi Sven, wij zoeken toch iemand van max. 22 jaar en liever zonder hoofddoek.",
        "Beste Fatima, wij zoeken iemand van max. 21 jaar.",
        "Stagiair receptie gezocht. Bel 06-12345678.",
        "Wij zoeken een stagiair van max. 25 jaar.",
    ]
    with TestClient(create_app(settings_for(data_env), analyzer=rules)) as client:
        ids = [
            client.post(
                "/v1/analyze",
                json={"text": t, "kind": "rejection", "store": True},
                headers=auth,
            ).json()["record_id"]
            for t in texts
        ]
        feedback = [
            {
                "findings": [{"index": 0, "assessment": "correct"}],
                "missed": [
                    {
                        "quote": "liever zonder hoofddoek",
                        "ground": "religion",
                        "severity": "explicit",
                    }
                ],
            },
            {"findings": [{"index": 0, "assessment": "incorrect", "comment": "wettelijke grens"}]},
            {
                "missed": [
                    {"quote": "Stagiair receptie", "ground": "gender", "severity": "advisory"}
                ]
            },
        ]
        for record_id, body in zip(ids, feedback, strict=False):
            response = client.post(f"/v1/records/{record_id}/feedback", json=body, headers=auth)
            assert response.status_code == 201, response.text


def test_export_feedback_writes_corpus_records_that_data_check_accepts(
    data_env: Path, rules: Analyzer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    main(["db", "upgrade"])
    _store_with_feedback(data_env, rules, capsys)
    target = tmp_path / "feedback.jsonl"
    assert main(["data", "export-feedback", "-o", str(target)]) == 0
    assert "exported 3 record(s)" in capsys.readouterr().err
    records = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [r["verdict"] for r in records] == ["reject", "ok", "ok"]
    assert [r["category"] for r in records] == ["discriminatory", "neutral", "advisory"]
    first = records[0]
    assert first["id"].startswith("fb-") and first["kind"] == "rejection"
    assert first["text"].startswith("Hoi [NAME],")
    assert sorted((f["quote"], f["ground"]) for f in first["findings"]) == [
        ("liever zonder hoofddoek", "religion"),
        ("max. 22 jaar", "age"),
    ]
    assert "06-12345678" not in target.read_text(encoding="utf-8")
    assert main(["data", "check", "--no-split", str(target)]) == 0
    assert "0 problem(s)" in capsys.readouterr().out

    assert main(["data", "export-feedback", "--org", "ROC Midden"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3
    assert main(["data", "export-feedback", "--since", "2999-01-01"]) == 0
    assert capsys.readouterr().out == ""


def test_purge_deletes_old_records_and_prints_the_count(
    data_env: Path,
    rules: Analyzer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from datetime import timedelta

    from service.store import models

    main(["db", "upgrade"])
    real_now = models.utcnow
    monkeypatch.setattr(models, "utcnow", lambda: real_now() - timedelta(days=800))
    monkeypatch.setattr("service.store.records.utcnow", models.utcnow)
    _store_with_feedback(data_env, rules, capsys)
    monkeypatch.undo()
    assert main(["purge", "--days", "900"]) == 0
    assert capsys.readouterr().out.strip() == "deleted 0 record(s) older than 900 days"
    assert main(["purge"]) == 0
    assert capsys.readouterr().out.strip() == "deleted 4 record(s) older than 730 days"


def _serve_with_keys(data_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["db", "upgrade"])
    main(["keys", "create", "--name", "portal"])
    capsys.readouterr()


def test_serve_stops_on_a_corrupt_or_mismatched_model_naming_the_file(
    data_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    from models.artifact import DEFAULT_PATH, load_artifact, save_artifact
    from nlp.lexicon import default_lexicon

    monkeypatch.delenv("STAGECHECK_RULES_ONLY", raising=False)
    _serve_with_keys(data_env, capsys)
    corrupt = data_env / "corrupt.joblib"
    corrupt.write_bytes(b"\x80\x04 half a pickle")
    monkeypatch.setenv("STAGECHECK_MODEL_PATH", str(corrupt))
    assert main(["serve", "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert str(corrupt) in err and "Traceback" not in err

    real = load_artifact(DEFAULT_PATH, default_lexicon().digest)
    mismatched = save_artifact(
        replace(real, lexicon_digest="0" * 64), data_env / "other-lexicon.joblib"
    )
    monkeypatch.setenv("STAGECHECK_MODEL_PATH", str(mismatched))
    assert main(["serve", "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert str(mismatched) in err and "lexicon" in err


def test_serve_stops_on_a_broken_lexicon_naming_the_file(
    data_env: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    import shutil

    import nlp.lexicon
    from nlp.lexicon import LEXICON_DIR, load_lexicon

    _serve_with_keys(data_env, capsys)
    copy = tmp_path / "lexicons"
    shutil.copytree(LEXICON_DIR, copy)
    broken = copy / "nl" / "age.yml"
    broken.write_text(broken.read_text()[:-40] + "\n  - id: [unclosed\n", encoding="utf-8")
    monkeypatch.setattr(nlp.lexicon, "default_lexicon", lambda: load_lexicon(copy))
    monkeypatch.setenv("STAGECHECK_RULES_ONLY", "true")
    get_settings.cache_clear()
    assert main(["serve", "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert "age.yml" in err and "Traceback" not in err


def test_serve_checks_start_up_without_importing_the_analyzer(
    data_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """serve checks the database, lexicons and model before it imports anything heavy: a
    broken one stops it in a fraction of a second, before spaCy and the model load."""
    import os
    import subprocess
    import sys

    assert main(["db", "upgrade"]) == 0
    code = (
        "import sys\n"
        "from service.cli import make_parser\n"
        "from service.cli_service import preflight\n"
        "from service.config import get_settings\n"
        "make_parser()\n"
        "preflight(get_settings())\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'spacy', 'sklearn', 'fastapi', 'alembic'}))\n"
    )
    env = {**os.environ, "STAGECHECK_DATA_DIR": str(data_env), "STAGECHECK_AUTH": "disabled"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
