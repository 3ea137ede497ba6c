"""Records for the page tests, kept the way the API keeps them (redacted, per school)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from nlp.analyzer import Analyzer
from service.config import DATABASE_FILE
from service.recordkeeping import new_record
from service.schemas import AnalyzeRequest
from service.store.db import make_engine, make_session_factory
from service.store.records import Actor, add_records

ALFA, BETA, SBB = 1, 2, 3  # organisation ids in the seeded database (tests/web/conftest.py)

LETTER = (
    "Beste Fatima,\n\nWij zoeken toch iemand van max. 22 jaar, en liever zonder hoofddoek. "
    "Bel 06-12345678.\n\nMet vriendelijke groet,\nRichard Smeets"
)
BAKERY = {"kvk": "12345678", "name": "Bakkerij Jansen", "location": "Utrecht"}
GARAGE = {"kvk": "87654321", "name": "Garage Beta"}


def keep(
    data_dir: Path,
    analyzer: Analyzer,
    organisation_id: int,
    text: str,
    kind: str = "vacancy",
    company: dict[str, str] | None = None,
    at: datetime | None = None,
) -> str:
    """Analyse `text` and keep it as a record of `organisation_id`; returns its id."""
    item = AnalyzeRequest.model_validate(
        {"text": text, "kind": kind, "store": True, "company": company}
    )
    analysis = analyzer.analyze(item.text, kind=item.kind)
    engine = make_engine(f"sqlite:///{data_dir / DATABASE_FILE}")
    try:
        with make_session_factory(engine)() as session:
            [record_id] = add_records(
                session,
                [new_record(item, analysis, organisation_id)],
                Actor(key_id=None, label="test"),
                now=at,
            )
    finally:
        engine.dispose()
    return record_id


def seed_records(data_dir: Path, analyzer: Analyzer) -> dict[str, str]:
    """Two records of ROC Alfa and one of ROC Beta; returns their ids by name."""
    return {
        "alfa_letter": keep(data_dir, analyzer, ALFA, LETTER, "rejection", BAKERY),
        "alfa_vacancy": keep(
            data_dir, analyzer, ALFA, "Wij zoeken een enthousiaste kok.", company=BAKERY
        ),
        "beta": keep(
            data_dir, analyzer, BETA, "Hoofddoekjes zijn niet toegestaan.", company=GARAGE
        ),
    }
