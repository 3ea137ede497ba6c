"""The OpenAPI examples: real requests and the real responses this release gave to them.

`openapi_examples.json` beside this file is generated, never written by hand:

    .venv/bin/python -m service.openapi_examples

starts the app on a scratch data directory with a fresh key and the process's real
analyzer, sends every example request over the ASGI interface, and records what came
back. Run it again after changing lexicons, the model or the API; a test checks that the
stored analyses still match what the analyzer says.
"""

from __future__ import annotations

import json
import sys
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

EXAMPLES_FILE = Path(__file__).with_name("openapi_examples.json")

NL_VACANCY = (
    "Stagiair logistiek (BOL, niveau 2) – Van Dijk Transport\n\n"
    "Wat ga je doen?\n"
    "Je helpt in ons magazijn in Tilburg bij het ontvangen, controleren en verzamelen van "
    "orders. Je werkt met een handscanner en leert heftruck rijden.\n\n"
    "Wat vragen wij?\n"
    "- Je bent tussen de 17 en 21 jaar\n"
    "- Nederlands is je moedertaal\n"
    "- Hoofddoekjes zijn niet toegestaan\n\n"
    "Wat bieden wij?\n"
    "Een stagevergoeding van € 300 per maand. Reageren kan via stage@vandijktransport.nl."
)
EN_VACANCY = (
    "Marketing intern – Brightside Events (BOL, level 4)\n\n"
    "You will help us plan events, write social media posts and update our website. "
    "You will join our young and dynamic team. Applicants must be aged 18-25. "
    "Send your CV to jobs@brightside.example."
)
NL_REJECTION = (
    "Beste Yasmina,\n\n"
    "Bedankt voor je sollicitatie voor de stageplek bij ons kantoor. Je cv ziet er goed uit, "
    "maar wij zoeken toch liever iemand zonder hoofddoek, omdat onze klanten daar vragen "
    "over zouden kunnen hebben.\n\n"
    "Met vriendelijke groet,\nPeter"
)
EN_REJECTION = (
    "Dear Sam,\n\n"
    "Thank you for your application and the pleasant interview. Unfortunately we have "
    "decided to go with someone younger, who fits better in our young team.\n\n"
    "Kind regards,\nLinda"
)
NL_LAWFUL = (
    "Stagiair bediening – Café De Zwaan (BOL, niveau 2)\n\n"
    "Je ontvangt gasten, neemt bestellingen op en helpt achter de bar. Je bent minimaal "
    "18 jaar vanwege het schenken van alcohol. Iedereen is welkom, ongeacht afkomst, "
    "geloof, geslacht of leeftijd."
)
NL_HTML = (
    "<h1>Stage kapsalon Knip</h1><p>Wij zoeken een stagiaire voor onze salon in Almere. "
    "Je bent <b>max. 22 jaar</b> en werkt graag met klanten.</p>"
)

ANALYZE_EXAMPLES: dict[str, tuple[str, dict[str, Any]]] = {
    "nl_vacancy": (
        "Nederlandse vacature",
        {"text": NL_VACANCY, "kind": "vacancy", "id": "vac-0042"},
    ),
    "en_vacancy": ("English vacancy", {"text": EN_VACANCY, "kind": "vacancy", "lang": "en"}),
    "nl_rejection": (
        "Nederlandse afwijzing van een student",
        {"text": NL_REJECTION, "kind": "rejection", "id": "msg-17"},
    ),
    "en_rejection": ("English rejection of a student", {"text": EN_REJECTION, "kind": "rejection"}),
    "nl_lawful": ("Nederlandse vacature zonder bezwaar (akkoord)", {"text": NL_LAWFUL}),
    "nl_html": (
        "Nederlandse vacature als HTML",
        {"text": NL_HTML, "content_type": "text/html", "id": "html-1"},
    ),
    "nl_store": (
        "Bewaren als dossier (store), met bedrijf en referentie",
        {
            "text": NL_REJECTION,
            "kind": "rejection",
            "id": "msg-18",
            "store": True,
            "company": {"kvk": "12345678", "name": "Kantoor Van Houten", "location": "Utrecht"},
            "reference": "https://stages.example.nl/vacature/4711",
        },
    ),
    "nl_explain": (
        "Met beslisspoor (explain)",
        {
            "text": "Wij zoeken een stagiair van max. 22 jaar. Je bent minimaal 18 jaar "
            "vanwege het schenken van alcohol.",
            "explain": True,
        },
    ),
}

BATCH_EXAMPLE: dict[str, Any] = {
    "items": [
        {"id": "vac-1", "text": "Wij zoeken een jonge stagiair, max. 21 jaar."},
        {"id": "vac-2", "text": "We are looking for an intern who is a native English speaker."},
        {"id": "vac-3", "text": "Stagiair receptie gezocht.", "kind": "stage"},
        {"id": "vac-4", "text": "Stagiair receptie gezocht. Je spreekt Nederlands op niveau B1."},
    ]
}


@lru_cache(maxsize=1)
def load_examples() -> dict[str, Any]:
    """The stored examples; empty when the file has not been generated yet."""
    try:
        data = json.loads(EXAMPLES_FILE.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return data if isinstance(data, dict) else {}


def problem_example(slug: str) -> dict[str, Any] | None:
    """The recorded problem object of this type, if any."""
    example = load_examples().get("problems", {}).get(slug)
    return example if isinstance(example, dict) else None


def response_examples(route: str) -> dict[str, dict[str, Any]]:
    """OpenAPI `examples` of a route's 200 response."""
    recorded = load_examples().get("routes", {}).get(route, {})
    return {
        name: {"summary": example["summary"], "value": example["response"]}
        for name, example in recorded.items()
    }


def json_examples(route: str, status: int = 200) -> dict[int | str, dict[str, Any]]:
    """An OpenAPI `responses` entry with the route's recorded examples."""
    return {status: {"content": {"application/json": {"examples": response_examples(route)}}}}


def text_example(route: str) -> str:
    """A recorded plain-text response (the metrics)."""
    return str(load_examples().get("text", {}).get(route, ""))


def request_body(schema: str, route: str) -> dict[str, Any]:
    """`openapi_extra` for a JSON request body the route parses itself."""
    recorded = load_examples().get("routes", {}).get(route, {})
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": f"#/components/schemas/{schema}"},
                    "examples": {
                        name: {"summary": example["summary"], "value": example["request"]}
                        for name, example in recorded.items()
                        if "request" in example
                    },
                }
            },
        }
    }


# -- generation ----------------------------------------------------------------------------


class _FailingAnalyzer:
    """Proxies the real analyzer but fails on analysis: records the real 500 response."""

    def __init__(self, analyzer: Any) -> None:
        self._analyzer = analyzer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._analyzer, name)

    def analyze(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("simulated failure for the OpenAPI example")


def generate(rules_only: bool = False) -> dict[str, Any]:
    """Run every example through the app and record the responses."""
    from fastapi.testclient import TestClient
    from sqlalchemy import text

    from service.app import create_app
    from service.config import Settings
    from service.runtime import load_analyzer
    from service.store.db import make_engine, make_session_factory
    from service.store.keys import create_key
    from service.store.migrate import upgrade
    from service.store.orgs import create_organisation

    routes: dict[str, dict[str, Any]] = {}
    problems: dict[str, Any] = {}
    plain: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(
            data_dir=Path(scratch),
            database_url=None,
            auth="enabled",
            rate_limit_per_minute=600,
            max_text_chars=200_000,
            max_batch_items=500,
            max_body_bytes=10 * 1024 * 1024,
            rules_only=rules_only,
        )
        upgrade(settings.resolved_database_url)
        engine = make_engine(settings.resolved_database_url)
        with make_session_factory(engine)() as session:
            _, plain_secret = create_key(session, "openapi-examples")
            # Used only once the key table is gone: a key the service has never seen.
            _, unseen_secret = create_key(session, "unseen")
            school = create_organisation(session, "ROC Voorbeeld", "school")
            _, secret = create_key(session, "stagebureau", organisation=school, role="officer")
            _, admin_secret = create_key(session, "beheer", organisation=school, role="admin")
        analyzer = load_analyzer(rules_only=rules_only, max_chars=settings.max_text_chars)
        auth = {"Authorization": f"Bearer {secret}"}
        admin = {"Authorization": f"Bearer {admin_secret}"}

        def record_problem(slug: str, response: Any) -> None:
            body = response.json()
            assert body["type"] == f"/problems/{slug}", (slug, body)
            problems[slug] = body

        with TestClient(create_app(settings, analyzer=analyzer)) as client:
            routes["analyze"] = {}
            for name, (summary, request) in ANALYZE_EXAMPLES.items():
                response = client.post("/v1/analyze", json=request, headers=auth)
                assert response.status_code == 200, response.text
                routes["analyze"][name] = {
                    "summary": f"{summary} ({response.json()['verdict']})",
                    "request": request,
                    "response": response.json(),
                }
            record_id = routes["analyze"]["nl_store"]["response"]["record_id"]
            _record_examples(client, routes, record_id, auth, admin)
            response = client.post("/v1/analyze/batch", json=BATCH_EXAMPLE, headers=auth)
            assert response.status_code == 200, response.text
            routes["analyze_batch"] = {
                "nl_en_mixed": {
                    "summary": "Nederlands en Engels, één item met een fout",
                    "request": BATCH_EXAMPLE,
                    "response": response.json(),
                }
            }
            for route, path, summary in (
                ("grounds", "/v1/grounds", "De gronden / the grounds"),
                ("model", "/v1/model", "Het model / the model card"),
                ("health", "/health", "Up"),
                ("ready", "/ready", "Ready"),
                ("problem_type", "/problems/text-too-long", "One problem type"),
            ):
                response = client.get(path, headers=auth)
                assert response.status_code == 200, response.text
                routes[route] = {"default": {"summary": summary, "response": response.json()}}

            def rid(slug: str) -> dict[str, str]:
                return {**auth, "X-Request-ID": f"example-{slug}"}

            record_problem(
                "malformed-json",
                client.post(
                    "/v1/analyze",
                    content=b'{"text": "Stagiair gezocht",}',
                    headers={**rid("malformed-json"), "Content-Type": "application/json"},
                ),
            )
            record_problem(
                "api-key-missing",
                client.get("/v1/grounds", headers={"X-Request-ID": "example-api-key-missing"}),
            )
            record_problem(
                "api-key-invalid",
                client.get(
                    "/v1/grounds",
                    headers={"X-API-Key": "sc_not-a-real-key", "X-Request-ID": "example-invalid"},
                ),
            )
            record_problem(
                "forbidden",
                client.post(
                    "/v1/analyze",
                    json={"text": "Stagiair gezocht.", "store": True},
                    headers={
                        "Authorization": f"Bearer {plain_secret}",
                        "X-Request-ID": "example-forbidden",
                    },
                ),
            )
            record_problem("not-found", client.get("/v1/nothing", headers=rid("not-found")))
            record_problem(
                "method-not-allowed", client.get("/v1/analyze", headers=rid("method-not-allowed"))
            )
            record_problem(
                "body-too-large",
                client.post(
                    "/v1/analyze",
                    content=b" " * (settings.max_body_bytes + 1),
                    headers={**rid("body-too-large"), "Content-Type": "application/json"},
                ),
            )
            record_problem(
                "text-too-long",
                client.post(
                    "/v1/analyze",
                    json={"text": "a" * (settings.max_text_chars + 1)},
                    headers=rid("text-too-long"),
                ),
            )
            record_problem(
                "batch-too-large",
                client.post(
                    "/v1/analyze/batch",
                    json={
                        "items": [{"text": "Stagiair gezocht."}] * (settings.max_batch_items + 1)
                    },
                    headers=rid("batch-too-large"),
                ),
            )
            record_problem(
                "unsupported-media-type",
                client.post(
                    "/v1/analyze",
                    content=b"Stagiair gezocht, max. 21 jaar.",
                    headers={**rid("unsupported-media-type"), "Content-Type": "text/plain"},
                ),
            )
            record_problem(
                "validation-error",
                client.post(
                    "/v1/analyze",
                    json={"text": "Stagiair gezocht.", "kind": "stage"},
                    headers=rid("validation-error"),
                ),
            )
            record_problem(
                "empty-text",
                client.post("/v1/analyze", json={"text": "  \n "}, headers=rid("empty-text")),
            )
            record_problem(
                "binary-text",
                client.post(
                    "/v1/analyze", json={"text": "PK\u0003\u0004\u0000"}, headers=rid("binary-text")
                ),
            )
            metrics_text = client.get("/metrics").text
            plain["metrics"] = "\n".join(
                line
                for line in metrics_text.splitlines()
                if "stagecheck_" in line and ('route="/v1/analyze"' in line or "route=" not in line)
            )
            # Spend the key's bucket (it refills while we go, so up to three times the limit).
            for _ in range(3 * settings.rate_limit_per_minute):
                limited = client.get("/v1/grounds", headers=rid("rate-limited"))
                if limited.status_code == 429:
                    break
            record_problem("rate-limited", limited)
            with engine.begin() as connection:
                connection.execute(text("UPDATE alembic_version SET version_num = 'old'"))
            record_problem("not-ready", client.get("/ready", headers=rid("not-ready")))
            with engine.begin() as connection:
                connection.execute(text("ALTER TABLE api_keys RENAME TO api_keys_gone"))
            record_problem(
                "service-unavailable",
                client.get(
                    "/v1/model",
                    headers={
                        "Authorization": f"Bearer {unseen_secret}",
                        "X-Request-ID": "example-service-unavailable",
                    },
                ),
            )
        engine.dispose()

        broken_url = settings.resolved_database_url.replace("stagecheck.db", "broken.db")
        upgrade(broken_url)
        broken_settings = settings.model_copy(
            update={"auth": "disabled", "database_url": broken_url}
        )
        broken = create_app(broken_settings, analyzer=_FailingAnalyzer(analyzer))  # type: ignore[arg-type]
        with TestClient(broken) as client:
            record_problem(
                "internal-error",
                client.post(
                    "/v1/analyze",
                    json={"text": "Stagiair gezocht."},
                    headers={"X-Request-ID": "example-internal-error"},
                ),
            )
    return {
        "generated_by": "python -m service.openapi_examples",
        "model_version": analyzer.model_version,
        "rules_only": rules_only,
        "routes": routes,
        "problems": problems,
        "text": plain,
    }


def _record_examples(
    client: Any,
    routes: dict[str, dict[str, Any]],
    record_id: str,
    auth: dict[str, str],
    admin: dict[str, str],
) -> None:
    """Record the record, company, statistics and organisation routes on one stored record."""

    def keep(route: str, summary: str, response: Any, request: Any = None) -> None:
        assert response.status_code in (200, 201), response.text
        example: dict[str, Any] = {"summary": summary, "response": response.json()}
        if request is not None:
            example["request"] = request
        routes[route] = {"default": example}

    update = {"status": "company_contacted", "note": "Bedrijf gebeld; het weigert nog."}
    keep(
        "record_update",
        "Status en notitie",
        client.patch(f"/v1/records/{record_id}", json=update, headers=auth),
        update,
    )
    feedback = {
        "findings": [{"index": 0, "assessment": "correct", "comment": "Duidelijk geval."}],
        "missed": [{"quote": "omdat onze klanten", "ground": "religion", "severity": "implicit"}],
    }
    keep(
        "record_feedback",
        "Terugkoppeling op een bevinding en een gemiste zin",
        client.post(f"/v1/records/{record_id}/feedback", json=feedback, headers=auth),
        feedback,
    )
    keep("record", "Een dossier", client.get(f"/v1/records/{record_id}", headers=auth))
    keep(
        "records", "Dossiers met een grond", client.get("/v1/records?ground=religion", headers=auth)
    )
    keep("company", "Eén bedrijf", client.get("/v1/companies/12345678", headers=auth))
    keep("companies", "Zoeken op naam", client.get("/v1/companies?q=houten", headers=auth))
    keep("stats", "Per grond", client.get("/v1/stats?group_by=ground", headers=auth))
    keep("organisation", "Voor een beheerder", client.get("/v1/organisation", headers=admin))
    wanted = {"name": "stagebureau locatie Zuid", "role": "officer", "expires_days": 365}
    made = client.post("/v1/keys", json=wanted, headers=admin)
    keep("key_create", "Een sleutel voor een medewerker", made, wanted)
    # The key of a scratch database means nothing, but a real-looking secret in the docs
    # would be copied: show its shape only.
    shown = routes["key_create"]["default"]["response"]
    shown["key"] = shown["prefix"] + "…"


def main(argv: list[str] | None = None) -> int:
    """Regenerate openapi_examples.json."""
    import argparse
    import logging

    parser = argparse.ArgumentParser(prog="python -m service.openapi_examples")
    parser.add_argument(
        "--rules-only", action="store_true", help="without the model (when none is built yet)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    examples = generate(rules_only=args.rules_only)
    EXAMPLES_FILE.write_text(
        json.dumps(examples, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    print(f"wrote {EXAMPLES_FILE} (model_version {examples['model_version']})", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
