"""The model artefact: refused with a specific message when it cannot be trusted, and
the one `make` built from a fresh clone matches the committed model card."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import joblib
import pytest

from models.artifact import (
    DEFAULT_PATH,
    ModelCorruptError,
    ModelIncompatibleError,
    ModelMissingError,
    load_artifact,
    save_artifact,
)
from models.train import METRICS_PATH, data_sha256
from nlp.lexicon import default_lexicon


@pytest.fixture(scope="module")
def artifact():  # type: ignore[no-untyped-def]
    return load_artifact(DEFAULT_PATH, default_lexicon().digest)


def test_missing_model_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nothing.joblib"
    with pytest.raises(ModelMissingError, match=str(path)):
        load_artifact(path)


def test_corrupt_model_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.joblib"
    path.write_bytes(b"this is not a pickle")
    with pytest.raises(ModelCorruptError, match=r"broken\.joblib"):
        load_artifact(path)
    joblib.dump({"something": "else"}, path)
    with pytest.raises(ModelCorruptError, match="not a Stagecheck model"):
        load_artifact(path)


def test_incompatible_versions_and_lexicon_are_refused(tmp_path: Path, artifact) -> None:  # type: ignore[no-untyped-def]
    old_format = save_artifact(replace(artifact, format_version=0), tmp_path / "old.joblib")
    with pytest.raises(ModelIncompatibleError, match="format 0"):
        load_artifact(old_format)
    other_sklearn = save_artifact(
        replace(artifact, libraries={**artifact.libraries, "scikit-learn": "0.24.2"}),
        tmp_path / "sk.joblib",
    )
    with pytest.raises(ModelIncompatibleError, match=r"scikit-learn 0\.24\.2"):
        load_artifact(other_sklearn)
    with pytest.raises(ModelIncompatibleError, match="another lexicon"):
        load_artifact(DEFAULT_PATH, lexicon_digest="0" * 64)


def test_atomic_save_leaves_no_part_file(tmp_path: Path, artifact) -> None:  # type: ignore[no-untyped-def]
    path = save_artifact(artifact, tmp_path / "m.joblib")
    assert path.exists() and not list(tmp_path.glob("*.part"))


def test_built_model_matches_the_committed_card(artifact) -> None:  # type: ignore[no-untyped-def]
    committed = json.loads(METRICS_PATH.read_text())
    assert artifact.data_sha256 == data_sha256() == committed["data_sha256"], (
        "training_data/ changed since the model card was written: run `stagecheck train`"
    )
    assert artifact.lexicon_digest == committed["lexicon_digest"]
    assert artifact.thresholds == committed["thresholds"]
    built = {name: r["overall"] for name, r in artifact.metrics["test"].items()}
    assert built == committed["test"], "training is not deterministic, or the card is stale"


def test_combined_analyzer_meets_the_quality_floor_on_test_split(artifact) -> None:  # type: ignore[no-untyped-def]
    # The test split is held out: written by authors who never saw the lexicons, the corpus
    # or the model. Floors sit just under what the committed model reaches there, so a change
    # that costs quality fails here; issue 3's targets (F1 0.92, finding recall 0.85) are
    # above them and tracked in the model card.
    test = {name: r["overall"] for name, r in artifact.metrics["test"].items()}
    both, rules = test["rules + model"], test["rules only"]
    assert both["f1"] >= 0.88
    assert both["fp_rate_clean"] <= 0.05
    assert both["finding_recall"] >= 0.74
    # What the learned half is for: at least 0.04 F1 over the rules alone, or half their
    # false alarms, and never fewer of the gold findings.
    assert both["f1"] >= rules["f1"] + 0.04 or both["fp_rate_clean"] <= rules["fp_rate_clean"] / 2
    assert both["finding_recall"] >= rules["finding_recall"]


def test_header_check_vouches_without_loading_and_defers_otherwise(
    tmp_path: Path,
    artifact,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`serve`'s start-up check: the header vouches for an untouched file; a changed file,
    a missing header or any mismatch goes through load_artifact and its errors."""
    import models.artifact as module
    from models.artifact import check_artifact, header_path

    digest = default_lexicon().digest
    path = save_artifact(artifact, tmp_path / "model.joblib")
    assert json.loads(header_path(path).read_text())["lexicon_digest"] == digest
    loads: list[Path] = []
    real_load = module.load_artifact

    def counting_load(path: Path, lexicon_digest: str | None = None):  # type: ignore[no-untyped-def]
        loads.append(path)
        return real_load(path, lexicon_digest)

    monkeypatch.setattr(module, "load_artifact", counting_load)
    check_artifact(path, digest)
    assert loads == []  # vouched for by its header
    with pytest.raises(ModelIncompatibleError, match="another lexicon"):
        check_artifact(path, "0" * 64)
    assert loads == [path]

    old_format = save_artifact(replace(artifact, format_version=0), tmp_path / "old.joblib")
    with pytest.raises(ModelIncompatibleError, match="format 0"):
        check_artifact(old_format, digest)

    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte: the digest no longer matches
    path.write_bytes(bytes(data))
    with pytest.raises(ModelCorruptError, match=r"model\.joblib"):
        check_artifact(path, digest)

    bare = tmp_path / "bare.joblib"
    bare.write_bytes(b"\x80\x04 half a pickle")  # no header at all
    with pytest.raises(ModelCorruptError, match=r"bare\.joblib"):
        check_artifact(bare, digest)


def test_pipelines_are_read_on_demand_and_only_from_the_same_model(
    tmp_path: Path,
    artifact,  # type: ignore[no-untyped-def]
) -> None:
    path = save_artifact(artifact, tmp_path / "m.joblib")
    loaded = load_artifact(path)
    assert loaded.detector.named_steps["clf"].classes_.tolist() == [0, 1]
    reloaded = load_artifact(path)
    save_artifact(replace(artifact, data_sha256="0" * 64), path)  # retrained meanwhile
    with pytest.raises(ModelIncompatibleError, match=r"E106 .* replaced since"):
        reloaded.grounder  # noqa: B018
