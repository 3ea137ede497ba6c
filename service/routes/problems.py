"""GET /problems/{slug}: what each problem `type` the API returns means."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from service.openapi_examples import response_examples
from service.problem import NOT_FOUND, PROBLEM_TYPES, ProblemError, problem_responses

router = APIRouter(prefix="/problems", tags=["problems"])


class ProblemDescription(BaseModel):
    """One problem type: the `type` URI, its status, title and meaning."""

    type: str
    status: int
    title: str
    description: str


def _describe(slug: str) -> ProblemDescription:
    problem = PROBLEM_TYPES[slug]
    return ProblemDescription(
        type=problem.uri,
        status=problem.status,
        title=problem.title,
        description=problem.description,
    )


@router.get(
    "",
    response_model=list[ProblemDescription],
    summary="Every problem type",
    description="The errors the API can return, each with its stable `type`. No key needed.",
)
def list_problems() -> list[ProblemDescription]:
    """GET /problems."""
    return [_describe(slug) for slug in PROBLEM_TYPES]


@router.get(
    "/{slug}",
    response_model=ProblemDescription,
    summary="One problem type",
    description="The meaning of the problem whose `type` is `/problems/{slug}`. No key needed.",
    responses={
        200: {"content": {"application/json": {"examples": response_examples("problem_type")}}},
        **problem_responses(NOT_FOUND),
    },
)
def describe_problem(slug: str) -> ProblemDescription:
    """GET /problems/{slug}."""
    if slug not in PROBLEM_TYPES:
        raise ProblemError(NOT_FOUND, f"no problem type {slug!r}; GET /problems lists them")
    return _describe(slug)
