"""GET /v1/grounds: the taxonomy of grounds, from the same data the lexicons use."""

from __future__ import annotations

from fastapi import APIRouter

from nlp.lexicon import Lexicon
from service.deps import AnalyzerDep, CallerDep
from service.openapi_examples import response_examples
from service.problem import API_KEY_INVALID, API_KEY_MISSING, RATE_LIMITED, problem_responses
from service.schemas import GroundDescription, GroundsResponse, LocalizedText

router = APIRouter(prefix="/v1", tags=["taxonomy"])


def describe_grounds(lexicon: Lexicon) -> GroundsResponse:
    """Every ground with its Dutch and English label, legal basis and description."""
    return GroundsResponse(
        grounds=[
            GroundDescription(
                code=code,
                label=LocalizedText(nl=info.label.nl, en=info.label.en),
                legal_basis=info.legal_basis,
                description=LocalizedText(nl=info.description.nl, en=info.description.en),
            )
            for code, info in lexicon.grounds.items()
        ]
    )


@router.get(
    "/grounds",
    response_model=GroundsResponse,
    summary="The grounds findings can have",
    description="The taxonomy of `nlp/lexicons/grounds.yml`: each ground's code (the "
    "`ground` of a finding), its Dutch and English label, the legal basis findings cite, and "
    "a description in both languages.",
    responses={
        200: {"content": {"application/json": {"examples": response_examples("grounds")}}},
        **problem_responses(API_KEY_MISSING, API_KEY_INVALID, RATE_LIMITED),
    },
)
def grounds(analyzer: AnalyzerDep, _caller: CallerDep) -> GroundsResponse:
    """GET /v1/grounds."""
    return describe_grounds(analyzer.lexicon)
