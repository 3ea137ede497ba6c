"""GET /v1/model: the model card of the analyzer this worker runs."""

from __future__ import annotations

from fastapi import APIRouter

from service.deps import CallerDep, StateDep
from service.openapi_examples import response_examples
from service.problem import API_KEY_INVALID, API_KEY_MISSING, RATE_LIMITED, problem_responses
from service.schemas import ModelCard

router = APIRouter(prefix="/v1", tags=["model"])


@router.get(
    "/model",
    response_model=ModelCard,
    summary="The model card",
    description="What produces the analyses: the `model_version` stamped on each of them, "
    "whether a learned model is loaded, its version, training-data hash and test figures "
    "(from models/metrics.json), and the lexicon release. Without a loaded model, `mode` is "
    "`rules-only` and `model` is null.",
    responses={
        200: {"content": {"application/json": {"examples": response_examples("model")}}},
        **problem_responses(API_KEY_MISSING, API_KEY_INVALID, RATE_LIMITED),
    },
)
def model_card(state: StateDep, _caller: CallerDep) -> ModelCard:
    """GET /v1/model."""
    return state.model_card
