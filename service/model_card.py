"""The model card the API serves: what produced the analyses, with the model's real figures.

Figures come from `models/metrics.json` (written by `stagecheck train`) when it describes
the loaded model, else from the loaded artefact's own metadata. Without a loaded model the
card says "rules-only" and shows no figures: nothing here is ever made up.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from nlp.analyzer import Analyzer
from service.schemas import LexiconSummary, ModelCard

logger = logging.getLogger(__name__)


def metrics_path() -> Path:
    """Where `stagecheck train` writes the committed metrics: models/metrics.json."""
    import models

    return Path(models.__file__).resolve().parent / "metrics.json"


def _read_metrics_file(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        logger.warning("cannot read %s: %s", path, exc)
        return None
    return data if isinstance(data, dict) else None


def _from_artifact(scorer: Any) -> dict[str, Any]:
    artifact = getattr(scorer, "artifact", None)
    card: dict[str, Any] = {"model_version": getattr(scorer, "version", None)}
    if artifact is None:
        return card
    for name in (
        "data_sha256",
        "lexicon_digest",
        "thresholds",
        "trained_records",
        "trained_sentences",
        "libraries",
    ):
        if hasattr(artifact, name):
            card[name] = getattr(artifact, name)
    tests = (getattr(artifact, "metrics", None) or {}).get("test")
    if isinstance(tests, dict):
        card["test"] = {
            name: result.get("overall", result)
            for name, result in tests.items()
            if isinstance(result, dict)
        }
    return card


def build_model_card(analyzer: Analyzer, metrics_file: Path | None = None) -> ModelCard:
    """The card of `analyzer`: its model (if any), figures and lexicon release."""
    lexicon = analyzer.lexicon
    summary = LexiconSummary(
        digest=lexicon.digest,
        entries={lang: len(lexicon.entries(lang)) for lang in lexicon.files},
        patterns=lexicon.pattern_counts(),
    )
    scorer = analyzer.scorer
    if scorer is None:
        return ModelCard(
            model_version=analyzer.model_version,
            mode="rules-only",
            model=None,
            lexicon=summary,
            note="No learned model is loaded (STAGECHECK_RULES_ONLY or a rules-only build): "
            "findings come from the lexicons and context rules alone, so there are no model "
            "figures to report.",
        )
    path = metrics_file or metrics_path()
    stored = _read_metrics_file(path)
    if stored is not None and stored.get("model_version") == scorer.version:
        model = {**stored, "source": "models/metrics.json"}
        note = "Figures from models/metrics.json, written by `stagecheck train` for this model."
    else:
        model = {**_from_artifact(scorer), "source": "model artefact"}
        note = "Figures from the loaded model artefact's own metadata" + (
            "; models/metrics.json describes another model version."
            if stored is not None
            else "; models/metrics.json does not exist."
        )
    return ModelCard(
        model_version=analyzer.model_version,
        mode="rules+model",
        model=model,
        lexicon=summary,
        note=note,
    )
