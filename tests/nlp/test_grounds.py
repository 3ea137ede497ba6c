"""Per ground, per language: what must be flagged, with which severity; and per
hard-negative category of the annotation guide: what must be left alone."""

from __future__ import annotations

import pytest

from nlp.analyzer import Analyzer

# (kind, text, ground, severity, a word the quote must contain)
FLAGGED = [
    # age
    (
        "vacancy",
        "Wij zoeken een jonge, enthousiaste stagiair (max. 22 jaar).",
        "age",
        "explicit",
        "22",
    ),
    (
        "vacancy",
        "Wij zijn een jong team en zoeken iemand die daarbij past.",
        "age",
        "implicit",
        "jong",
    ),
    ("rejection", "Sorry, je bent eigenlijk te oud voor ons team.", "age", "explicit", "oud"),
    (
        "vacancy",
        "We are a young and dynamic team looking for an intern.",
        "age",
        "implicit",
        "young",
    ),
    ("vacancy", "Applicants must be between 18 and 23 years old.", "age", "explicit", "23"),
    # gender
    ("rejection", "Voor dit werk zoeken we eigenlijk een jongen.", "gender", "explicit", "jongen"),
    (
        "vacancy",
        "Gastvrouw gezocht voor ons restaurant in Breda.",
        "gender",
        "implicit",
        "Gastvrouw",
    ),
    (
        "rejection",
        "Ben je van plan om binnenkort zwanger te worden?",
        "gender",
        "explicit",
        "zwanger",
    ),
    ("vacancy", "We are looking for a strong guy for the warehouse.", "gender", "explicit", "guy"),
    # origin
    ("vacancy", "Je bent een native speaker Nederlands.", "origin", "implicit", "native"),
    ("vacancy", "Je spreekt accentloos Nederlands.", "origin", "implicit", "accentloos"),
    (
        "rejection",
        "Je past qua achtergrond niet zo goed bij ons team.",
        "origin",
        "implicit",
        "achtergrond",
    ),
    ("vacancy", "Only native English speakers need apply.", "origin", "implicit", "native"),
    # nationality
    (
        "vacancy",
        "Je hebt de Nederlandse nationaliteit.",
        "nationality",
        "explicit",
        "nationaliteit",
    ),
    ("vacancy", "EU passport holders only.", "nationality", "explicit", "passport"),
    # religion
    (
        "vacancy",
        "Hoofddoekjes zijn in onze winkel niet toegestaan.",
        "religion",
        "explicit",
        "Hoofddoek",
    ),
    (
        "rejection",
        "Onze klanten zitten niet te wachten op iemand met een hoofddoek.",
        "religion",
        "explicit",
        "hoofddoek",
    ),
    (
        "vacancy",
        "No headscarves or other religious symbols at work.",
        "religion",
        "explicit",
        "headscar",
    ),
    # disability
    ("vacancy", "Je bent kerngezond en hebt geen beperkingen.", "disability", "explicit", "gezond"),
    ("vacancy", "Je bent volledig belastbaar.", "disability", "implicit", "belastbaar"),
    # A known miss in session 3 (the veto at 0.66 dropped it at 0.64); found since explicit
    # rule hits have their own veto threshold.
    ("vacancy", "You are in excellent health.", "disability", "explicit", "health"),
    (
        "vacancy",
        "You must be in excellent health for this job.",
        "disability",
        "explicit",
        "health",
    ),
    # sexual orientation
    (
        "rejection",
        "We nemen liever geen homo's aan in het magazijn.",
        "sexual_orientation",
        "explicit",
        "homo",
    ),
    # marital status
    (
        "vacancy",
        "Je hebt geen kinderen of andere gezinsverplichtingen.",
        "marital_status",
        "explicit",
        "kinderen",
    ),
    (
        "vacancy",
        "No family commitments, as the hours are long.",
        "marital_status",
        "explicit",
        "family",
    ),
    # political
    ("vacancy", "Leden van de PVV hoeven niet te solliciteren.", "political", "explicit", "PVV"),
    # appearance
    ("vacancy", "Je hebt een representatief uiterlijk.", "appearance", "implicit", "uiterlijk"),
    ("vacancy", "You are slim and attractive.", "appearance", "implicit", "attractive"),
    # unspecified
    (
        "rejection",
        "We hebben besloten iemand anders te kiezen die beter in het team past.",
        "unspecified",
        "implicit",
        "past",
    ),
    ("rejection", "Onze klanten willen dat liever niet.", "unspecified", "implicit", "klanten"),
]


@pytest.mark.parametrize(("kind", "text", "ground", "severity", "word"), FLAGGED)
def test_ground_is_flagged(
    analyzer: Analyzer, kind: str, text: str, ground: str, severity: str, word: str
) -> None:
    result = analyzer.analyze(text, kind=kind)
    hits = [f for f in result.findings if f.ground == ground]
    assert hits, f"no {ground} finding; got {[(f.ground.value, f.quote) for f in result.findings]}"
    assert any(word.lower() in f.quote.lower() for f in hits), [f.quote for f in hits]
    worst = "explicit" if any(f.severity == "explicit" for f in hits) else "implicit"
    assert worst == severity
    assert result.verdict == ("reject" if severity == "explicit" else "review") or (
        result.verdict == "reject"
    )


# (kind, category, text): the guide's hard negatives must come out "ok"
LEFT_ALONE = [
    (
        "vacancy",
        "inclusive_statement",
        "Leeftijd, afkomst, geloof of geaardheid spelen bij ons geen rol.",
    ),
    ("vacancy", "inclusive_statement", "Wij verwelkomen iedereen, ongeacht achtergrond."),
    ("vacancy", "inclusive_statement", "We encourage applicants of all ages and backgrounds."),
    ("vacancy", "job_requirement", "Je spreekt en schrijft Nederlands op B1-niveau."),
    ("vacancy", "job_requirement", "Je hebt een goede beheersing van het Engels."),
    ("vacancy", "job_requirement", "Je bent minimaal 18 jaar vanwege het schenken van alcohol."),
    ("vacancy", "job_requirement", "Vanwege nachtdiensten ben je 18 jaar of ouder."),
    ("vacancy", "job_requirement", "Je kunt dozen tot 20 kg tillen en je staat de hele dag."),
    (
        "vacancy",
        "job_requirement",
        "Haarnetje en veiligheidsschoenen zijn verplicht voor iedereen.",
    ),
    ("vacancy", "job_requirement", "Je hebt VCA, rijbewijs B en een VOG."),
    (
        "vacancy",
        "job_requirement",
        "Je hebt een geldige verblijfsvergunning die stage lopen toestaat.",
    ),
    (
        "vacancy",
        "preference_policy",
        "Bij gelijke geschiktheid gaat de voorkeur uit naar een vrouw.",
    ),
    ("rejection", "neutral_rejection", "De stageplaats is helaas al vergeven."),
    ("rejection", "neutral_rejection", "We zoeken iemand met meer ervaring in Excel."),
    ("rejection", "neutral_rejection", "Je motivatie was te summier."),
    ("rejection", "neutral_rejection", "Je kwam twee keer niet opdagen."),
    ("vacancy", "description", "We werken veel met oudere cliënten."),
    ("vacancy", "description", "Onze klanten komen uit de hele wereld."),
    ("vacancy", "description", "We werken met jongeren van 12 tot 23 jaar."),
    ("vacancy", "description", "Ons team bestaat uit jonge en ervaren collega's."),
    ("vacancy", "negation_quote", "Wij vragen géén foto of geboortedatum."),
    ("vacancy", "negation_quote", "Wij hebben geen hoofddoekverbod."),
    ("vacancy", "negation_quote", "We do not ask for a photo or your date of birth."),
    ("vacancy", "neutral", "Als stagiair junior medewerker administratie verwerk je facturen."),
]


@pytest.mark.parametrize(("kind", "category", "text"), LEFT_ALONE)
def test_hard_negative_is_left_alone(
    analyzer: Analyzer, kind: str, category: str, text: str
) -> None:
    result = analyzer.analyze(text, kind=kind)
    assert result.verdict == "ok", [(f.ground.value, f.quote, f.source) for f in result.findings]


def test_preference_for_a_man_is_not_a_lawful_policy(analyzer: Analyzer) -> None:
    result = analyzer.analyze("Bij gelijke geschiktheid gaat de voorkeur uit naar een man.")
    assert result.verdict != "ok"
