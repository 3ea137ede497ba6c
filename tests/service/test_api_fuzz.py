"""API fuzzing: schemathesis generates requests from the service's own OpenAPI document.

Valid and invalid requests to every operation, with an officer's key: no answer may be a
5xx, every answer must match the documented status codes, content types and schemas, and
every error must be problem+json. The number of examples per operation is bounded
(STAGECHECK_FUZZ_EXAMPLES, default 8; .ci/run raises it) so the suite stays fast.

Two checks are left out. `negative_data_rejection` calls `{"store": 0}` accepted "invalid
data", because pydantic reads 0 as false: harmless leniency, not worth strict mode (which
would also refuse enum values given as strings). `positive_data_acceptance` calls a
documented 422 for `to` before `from` a rejected valid request: JSON Schema cannot state a
rule across two query parameters. Both still must not give a 5xx or an undocumented answer.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import negative_data_rejection, positive_data_acceptance
from schemathesis.specs.openapi.schemas import OpenApiSchema

from nlp.analyzer import Analyzer
from service.app import create_app
from service.config import DATABASE_FILE
from tests.service.conftest import OrgKeys, add_org_keys, settings_for

EXAMPLES = int(os.environ.get("STAGECHECK_FUZZ_EXAMPLES", "8"))


@pytest.fixture(scope="module")
def fuzz_setup(
    tmp_path_factory: pytest.TempPathFactory, migrated_database: Path, rules: Analyzer
) -> Iterator[tuple[Any, OrgKeys]]:
    """One app on a migrated database with two schools, their keys, and no rate limit."""
    import shutil

    folder = tmp_path_factory.mktemp("fuzz")
    shutil.copy(migrated_database, folder / DATABASE_FILE)
    keys = add_org_keys(f"sqlite:///{folder / DATABASE_FILE}")
    app = create_app(settings_for(folder, rate_limit_per_minute=0), analyzer=rules)
    yield app, keys


@pytest.fixture(scope="module")
def api_schema(fuzz_setup: tuple[Any, OrgKeys]) -> OpenApiSchema:
    """The app's own OpenAPI document, loaded over ASGI (the lifespan runs)."""
    app, _ = fuzz_setup
    return schemathesis.openapi.from_asgi("/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_breaks_the_api(case: Any, fuzz_setup: tuple[Any, OrgKeys]) -> None:
    _, keys = fuzz_setup
    response = case.call_and_validate(
        headers=keys.headers(keys.officer_a),
        excluded_checks=[negative_data_rejection, positive_data_acceptance],
    )
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == ["application/problem+json"]
