"""Prometheus metrics: requests by route and status, latency, verdicts and findings by ground.

With one worker the metrics live in this process. With `stagecheck serve --workers N`
(N > 1) the command sets PROMETHEUS_MULTIPROC_DIR before the workers start, every worker
writes its samples there, and GET /metrics adds them up across workers
(prometheus-client's multiprocess mode). Process metrics (memory, CPU) are left out in
that mode, as prometheus-client does.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client import multiprocess as prometheus_multiprocess

from nlp.schema import Analysis
from service.metrics_files import MULTIPROC_ENV

# The `_created` series double the exposition and no dashboard here reads them.
disable_created_metrics()

REQUESTS = Counter(
    "stagecheck_http_requests",
    "HTTP requests by method, route template and status.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "stagecheck_http_request_duration_seconds",
    "Time from request to the end of the response, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
ANALYSES = Counter(
    "stagecheck_analyses",
    "Texts analysed through the API, by kind, language and verdict.",
    ["kind", "lang", "verdict"],
)
FINDINGS = Counter(
    "stagecheck_findings",
    "Findings returned by the API, by ground and severity.",
    ["ground", "severity"],
)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count one request and its latency."""
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


def observe_analysis(analysis: Analysis) -> None:
    """Count one analysis: its verdict and each finding's ground."""
    ANALYSES.labels(analysis.kind.value, analysis.lang, analysis.verdict.value).inc()
    for finding in analysis.findings:
        FINDINGS.labels(finding.ground.value, finding.severity.value).inc()


def render() -> tuple[bytes, str]:
    """The exposition text and its content type, across workers in multiprocess mode."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
