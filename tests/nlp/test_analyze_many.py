"""Analysing many texts at once gives each text the analysis it gets alone."""

from __future__ import annotations

from nlp.analyzer import AnalysisRequest, Analyzer
from nlp.errors import EmptyTextError, UnknownOptionError

REQUESTS = [
    AnalysisRequest(
        "Wij zoeken een jonge stagiair, max. 21 jaar. Hoofddoekjes zijn niet toegestaan."
    ),
    AnalysisRequest("   "),
    AnalysisRequest("Leeftijd, afkomst en geloof spelen bij ons geen rol.", id="clean"),
    AnalysisRequest("We are looking for a young hostess, native Dutch speaker.", lang="en"),
    AnalysisRequest("Je past helaas niet in ons team vanwege je achtergrond.", kind="rejection"),
    AnalysisRequest("tekst", kind="brief"),
    AnalysisRequest("<p>Alleen <b>Nederlandse</b> jongens.</p>", content_type="text/html"),
    AnalysisRequest("Stagiair gezocht. Je bent tussen 17 en 21.", explain=True),
]


def test_same_as_one_by_one(analyzer: Analyzer) -> None:
    results = analyzer.analyze_many(REQUESTS)
    assert len(results) == len(REQUESTS)
    assert isinstance(results[1], EmptyTextError)
    assert isinstance(results[5], UnknownOptionError)
    for request, result in zip(REQUESTS, results, strict=True):
        if isinstance(result, Exception):
            continue
        alone = analyzer.analyze(
            request.text,
            kind=request.kind,
            lang=request.lang,
            content_type=request.content_type,
            id=request.id,
            explain=request.explain,
        )
        assert result.model_dump() == alone.model_dump()


def test_rules_only_and_empty(rules: Analyzer) -> None:
    assert rules.analyze_many([]) == []
    [result] = rules.analyze_many([REQUESTS[0]])
    assert not isinstance(result, Exception)
    assert result.model_dump() == rules.analyze(REQUESTS[0].text).model_dump()
