"""GET /metrics: Prometheus exposition (see service.metrics for the multi-worker mode)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from service import metrics as service_metrics
from service.openapi_examples import text_example

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    description="Requests by route and status (`stagecheck_http_requests_total`), latency "
    "(`stagecheck_http_request_duration_seconds`), verdicts (`stagecheck_analyses_total`) "
    "and findings by ground (`stagecheck_findings_total`), summed over all workers. No key "
    "needed: expose this port only to your monitoring.",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"example": text_example("metrics")}}}},
)
def prometheus_metrics() -> Response:
    """GET /metrics."""
    body, content_type = service_metrics.render()
    return Response(content=body, media_type=content_type)
