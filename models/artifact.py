"""The persisted model: written atomically, stamped, and refused when incompatible."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import platform
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from nlp.diskcache import gc_paused
from nlp.errors import StagecheckError

# 4: the pipelines as one protocol-5 pickle inside the joblib file;
# 5: beside them the serving model (models/serving.py), which the analyzer loads alone.
FORMAT_VERSION = 5
PIPELINES = ("detector", "grounder", "severity", "paraphraser")
PICKLES = ("serving", "pipelines")
LIBRARIES = ("scikit-learn", "numpy", "scipy", "joblib", "spacy")
ARTIFACT_DIR = Path(__file__).resolve().parent / "artifacts"
DEFAULT_PATH = ARTIFACT_DIR / "stagecheck-model.joblib"


class ModelError(StagecheckError):
    """The model artefact cannot be used."""

    code = "model-error"


class ModelMissingError(ModelError):
    """No artefact at the expected path."""

    code = "model-missing"


class ModelCorruptError(ModelError):
    """The file exists but is not a readable Stagecheck artefact."""

    code = "model-corrupt"


class ModelIncompatibleError(ModelError):
    """The artefact was made by another format, library or lexicon version."""

    code = "model-incompatible"


def model_path() -> Path:
    """Where the model artefact lives: STAGECHECK_MODEL_PATH or models/artifacts/."""
    override = os.environ.get("STAGECHECK_MODEL_PATH")
    return Path(override) if override else DEFAULT_PATH


def library_versions() -> dict[str, str]:
    """The versions that decide whether a pickled pipeline can be trusted.

    Read from the installed packages' metadata: importing scikit-learn to ask it would cost
    a second of every cold start.
    """
    return {"python": platform.python_version(), **{name: version(name) for name in LIBRARIES}}


class LazyPipelines(Mapping[str, Any]):
    """The fitted scikit-learn pipelines, read from the artefact (and scikit-learn imported)
    on first use.

    Analysis never needs them (it reads the serving model); `evaluate --features` does. They
    are read again from the file rather than kept as bytes in every worker (16 MB), and
    refused if the file is no longer the artefact they belong to.
    """

    def __init__(self, path: Path, data_sha256: str, lexicon_digest: str) -> None:
        self._path = path
        self._stamp = (data_sha256, lexicon_digest)
        self._pipelines: dict[str, Any] | None = None

    def _load(self) -> dict[str, Any]:
        if self._pipelines is None:
            data = _read(self._path)
            if (data.get("data_sha256"), data.get("lexicon_digest")) != self._stamp:
                raise ModelIncompatibleError(
                    f"E106 model {self._path} was replaced since this process loaded it; "
                    "restart to use the new model"
                )
            self._pipelines = _unpickle(data, "pipelines", self._path)
        return self._pipelines

    def __getitem__(self, name: str) -> Any:
        return self._load()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(PIPELINES)

    def __len__(self) -> int:
        return len(PIPELINES)


@dataclass
class ModelArtifact:
    """The fitted pipelines, their serving form, and what is needed to trust and describe them.

    `pipelines` maps PIPELINES to the fitted scikit-learn pipelines; `serving` holds their
    numbers as plain arrays (models/serving.ServingModel), which is what analysis reads.
    """

    pipelines: Mapping[str, Any]
    serving: Any
    thresholds: dict[str, float]
    data_sha256: str
    lexicon_digest: str
    seed: int
    metrics: dict[str, Any] = field(default_factory=dict)
    libraries: dict[str, str] = field(default_factory=library_versions)
    format_version: int = FORMAT_VERSION
    trained_records: int = 0
    trained_sentences: int = 0

    @property
    def detector(self) -> Any:
        return self.pipelines["detector"]

    @property
    def grounder(self) -> Any:
        return self.pipelines["grounder"]

    @property
    def severity(self) -> Any:
        return self.pipelines["severity"]

    @property
    def paraphraser(self) -> Any:
        return self.pipelines["paraphraser"]

    @property
    def version(self) -> str:
        """A short id of this exact model: data, lexicon and thresholds."""
        digest = hashlib.sha256(
            f"{self.data_sha256}:{self.lexicon_digest}:{sorted(self.thresholds.items())}".encode()
        )
        return digest.hexdigest()[:12]


def header_path(path: Path) -> Path:
    """The artefact's header beside it: its digest and what decides compatibility."""
    return path.with_name(path.name + ".header.json")


def save_artifact(artifact: ModelArtifact, path: Path = DEFAULT_PATH) -> Path:
    """Write the artefact atomically: a .part file, then a rename; then its header."""
    import joblib

    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    # The stamps stay plain values, so that a mismatch is reported before any scikit-learn
    # object is unpickled. The pipelines travel as one pickle: joblib.load unpickles with
    # Python's pure-Python Unpickler (2 million reads, 0.8 s for this model), pickle.loads
    # with the C one (0.1 s). joblib still writes, compresses and checks the container.
    # The serving model is a pickle of its own, which analysis unpickles without the
    # pipelines (and without importing scikit-learn).
    data = {k: v for k, v in artifact.__dict__.items() if k not in ("pipelines", "serving")}
    data["pipelines"] = pickle.dumps(
        {name: artifact.pipelines[name] for name in PIPELINES}, protocol=5
    )
    data["serving"] = pickle.dumps(artifact.serving, protocol=5)
    # Uncompressed, nothing else would notice a damaged byte: each pickle carries its digest.
    data["digests"] = {name: hashlib.sha256(data[name]).hexdigest() for name in PICKLES}
    # Uncompressed: 29 MB on disk instead of 12.5, read in 0.01 s instead of 0.15 s by every
    # process that starts (issue 7, cold start). The file is built, never committed.
    joblib.dump({"stagecheck_model": data}, part, compress=0)
    header = {
        "sha256": _file_sha256(part),
        "format_version": artifact.format_version,
        "scikit-learn": artifact.libraries.get("scikit-learn"),
        "lexicon_digest": artifact.lexicon_digest,
    }
    header_file = header_path(path)
    header_part = header_file.with_name(header_file.name + ".part")
    header_part.write_text(json.dumps(header, indent=1) + "\n", encoding="utf-8")
    os.replace(part, path)
    os.replace(header_part, header_file)
    return path


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_artifact(path: Path = DEFAULT_PATH, lexicon_digest: str | None = None) -> None:
    """What load_artifact checks, without unpickling when the header vouches for the file.

    The header written by save_artifact holds the file's SHA-256 and the fields that decide
    compatibility. When the file has that digest and the fields fit this release, the
    environment and `lexicon_digest`, the file is the one save_artifact wrote: accepted in
    about 30 ms, without unpickling. Anything else (no header, another digest, a mismatch)
    falls back to load_artifact, whose errors name the file and say what is wrong, and to the
    digest of the pipelines, which load_artifact leaves to their first use.
    """
    if not _header_vouches(path, lexicon_digest):
        load_artifact(path, lexicon_digest)
        _check_digest(_read(path), "pipelines", path)


def _header_vouches(path: Path, lexicon_digest: str | None) -> bool:
    try:
        header = json.loads(header_path(path).read_text(encoding="utf-8"))
        if not isinstance(header, dict) or header.get("sha256") != _file_sha256(path):
            return False
        installed = version("scikit-learn")
    except (OSError, ValueError, PackageNotFoundError):
        return False
    return (
        header.get("format_version") == FORMAT_VERSION
        and header.get("scikit-learn") == installed
        and (lexicon_digest is None or header.get("lexicon_digest") == lexicon_digest)
    )


def _read(path: Path) -> dict[str, Any]:
    """The artefact's stamped fields and pickles, or a ModelError that names the file."""
    if not path.exists():
        raise ModelMissingError(
            f"E101 no model at {path}; build it with `stagecheck train` (make does this)"
        )
    import joblib

    try:
        payload = joblib.load(path)
    except Exception as exc:
        raise ModelCorruptError(f"E102 model file {path} is corrupt or unreadable: {exc}") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("stagecheck_model"), dict):
        raise ModelCorruptError(f"E102 {path} is not a Stagecheck model artefact")
    return dict(payload["stagecheck_model"])


def _check_digest(data: dict[str, Any], name: str, path: Path) -> None:
    blob = data.get(name)
    digests = data.get("digests")
    if (
        not isinstance(blob, bytes)
        or not isinstance(digests, dict)
        or hashlib.sha256(blob).hexdigest() != digests.get(name)
    ):
        raise ModelCorruptError(f"E102 model file {path} is damaged: its {name} fails its digest")


def _unpickle(data: dict[str, Any], name: str, path: Path) -> Any:
    """One of the artefact's pickles, after checking its digest."""
    _check_digest(data, name, path)
    blob = data[name]
    try:
        with gc_paused():
            return pickle.loads(blob)
    except Exception as exc:
        raise ModelCorruptError(
            f"E102 model file {path} holds an unreadable {name}: {exc}"
        ) from exc


def load_artifact(path: Path = DEFAULT_PATH, lexicon_digest: str | None = None) -> ModelArtifact:
    """Load and check an artefact; raise a specific ModelError that names the file."""
    data = _read(path)
    if data.get("format_version") != FORMAT_VERSION:
        raise ModelIncompatibleError(
            f"E103 model {path} has format {data.get('format_version')}, this release reads "
            f"format {FORMAT_VERSION}; rebuild it with `stagecheck train`"
        )
    installed = version("scikit-learn")
    trained = data.get("libraries", {})
    if trained.get("scikit-learn") != installed:
        raise ModelIncompatibleError(
            f"E104 model {path} was trained with scikit-learn {trained.get('scikit-learn')}, "
            f"this environment has {installed}; rebuild it with `stagecheck train`"
        )
    if lexicon_digest is not None and data.get("lexicon_digest") != lexicon_digest:
        raise ModelIncompatibleError(
            f"E105 model {path} was trained with another lexicon release "
            f"({str(data.get('lexicon_digest'))[:12]}, now {lexicon_digest[:12]}); "
            "rebuild it with `stagecheck train`"
        )
    serving = _unpickle(data, "serving", path)
    for name in (*PICKLES, "digests"):
        data.pop(name, None)  # the pipelines are read again by LazyPipelines if ever needed
    pipelines = LazyPipelines(path, str(data.get("data_sha256")), str(data.get("lexicon_digest")))
    try:
        return ModelArtifact(pipelines=pipelines, serving=serving, **data)
    except TypeError as exc:
        raise ModelCorruptError(f"E102 model file {path} lacks fields: {exc}") from exc
