"""Single requests that wait together are analysed together, each as if alone."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import anyio
import pytest

from nlp.analyzer import AnalysisRequest, Analyzer
from nlp.errors import EmptyTextError
from service.batching import AnalysisBatcher

TEXTS = [
    "Wij zoeken een stagiair van max. 22 jaar voor ons magazijn.",
    "We are looking for a young and dynamic hostess, native Dutch speaker.",
    "Leeftijd, afkomst en geloof spelen bij ons geen rol.",
    "Helaas, we kiezen voor iemand zonder hoofddoek, dat past beter bij onze klanten.",
    "Je werkt mee in de keuken en leert de HACCP-regels.",
]


class Recording:
    """The real analyzer, counting its calls; a text with 'BOOM' makes the analysis fail."""

    def __init__(self, real: Analyzer) -> None:
        self._real = real
        self.calls: list[int] = []

    def analyze(self, text: str, **kwargs: Any) -> Any:
        self.calls.append(1)
        if "BOOM" in text:
            raise RuntimeError("analysis failed")
        return self._real.analyze(text, **kwargs)

    def analyze_many(self, requests: list[AnalysisRequest]) -> Any:
        self.calls.append(len(requests))
        if any("BOOM" in r.text for r in requests):
            raise RuntimeError("analysis failed")
        return self._real.analyze_many(requests)


async def _all(batcher: AnalysisBatcher, texts: list[str]) -> list[Any]:
    return await asyncio.gather(
        *(batcher.analyze(AnalysisRequest(text, id=str(i))) for i, text in enumerate(texts)),
        return_exceptions=True,
    )


def test_waiting_requests_share_one_call_and_get_their_own_analysis(rules: Analyzer) -> None:
    recording = Recording(rules)
    batcher = AnalysisBatcher(recording, anyio.CapacityLimiter(4))  # type: ignore[arg-type]
    results = asyncio.run(_all(batcher, TEXTS))
    alone = [rules.analyze(text, id=str(i)) for i, text in enumerate(TEXTS)]
    assert [r.model_dump() for r in results] == [a.model_dump() for a in alone]
    assert max(recording.calls) > 1 and sum(recording.calls) == len(TEXTS)


def test_batches_are_bounded(rules: Analyzer) -> None:
    recording = Recording(rules)
    batcher = AnalysisBatcher(recording, anyio.CapacityLimiter(4), max_batch=2)  # type: ignore[arg-type]
    results = asyncio.run(_all(batcher, TEXTS))
    assert [r.id for r in results] == [str(i) for i in range(len(TEXTS))]
    assert max(recording.calls) == 2


def test_a_failing_text_fails_only_its_own_request(rules: Analyzer) -> None:
    recording = Recording(rules)
    batcher = AnalysisBatcher(recording, anyio.CapacityLimiter(4))  # type: ignore[arg-type]
    texts = [*TEXTS[:2], "BOOM in deze tekst", "", *TEXTS[2:]]
    results = asyncio.run(_all(batcher, texts))
    assert isinstance(results[2], RuntimeError)
    assert isinstance(results[3], EmptyTextError)  # an input error stays the request's own
    good = [r for i, r in enumerate(results) if i not in (2, 3)]
    assert [r.verdict for r in good] == [rules.analyze(t).verdict for t in [*TEXTS]]


def test_a_lone_request_takes_the_single_path(rules: Analyzer) -> None:
    recording = Recording(rules)
    batcher = AnalysisBatcher(recording, anyio.CapacityLimiter(4))  # type: ignore[arg-type]

    async def one_after_another() -> None:
        for text in TEXTS[:2]:
            await batcher.analyze(AnalysisRequest(text))

    asyncio.run(one_after_another())
    assert recording.calls == [1, 1]


class Blocking(Recording):
    """Holds every analysis until released: a drain is surely running when it is cancelled."""

    def __init__(self, real: Analyzer) -> None:
        super().__init__(real)
        self.entered = threading.Event()
        self.release = threading.Event()

    def analyze(self, text: str, **kwargs: Any) -> Any:
        self.entered.set()
        self.release.wait(30)
        return super().analyze(text, **kwargs)

    def analyze_many(self, requests: list[AnalysisRequest]) -> Any:
        self.entered.set()
        self.release.wait(30)
        return super().analyze_many(requests)


@pytest.mark.parametrize("during", [False, True])  # before the drain starts, or in a batch
def test_requests_waiting_when_the_batcher_is_cancelled_get_an_error(
    rules: Analyzer, during: bool
) -> None:
    blocking = Blocking(rules)

    async def scenario() -> list[Any]:
        batcher = AnalysisBatcher(blocking, anyio.CapacityLimiter(1), max_batch=2)  # type: ignore[arg-type]
        waiting = [asyncio.ensure_future(batcher.analyze(AnalysisRequest(t))) for t in TEXTS]
        await asyncio.sleep(0)
        while during and not blocking.entered.is_set():
            await asyncio.sleep(0.001)
        assert batcher._drainer is not None
        batcher._drainer.cancel()
        blocking.release.set()
        return await asyncio.wait_for(asyncio.gather(*waiting, return_exceptions=True), 30)

    results = asyncio.run(scenario())
    assert all(isinstance(r, RuntimeError) and "interrupted" in str(r) for r in results)
