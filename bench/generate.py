"""Deterministic generator of realistic Dutch internship vacancies, for benchmarks only.

The texts are assembled from sector-specific paragraphs, task and requirement lists and
offers; about a fifth carry one discriminatory phrase (an age limit, "jong team", "Nederlands
als moedertaal", "geen hoofddoek", "representatief uiterlijk", ...). They measure speed and
memory. They are never training or evaluation data: the phrasing is repetitive by design and
the labels are not annotated to the guide.

    python bench/generate.py --n 10000 --seed 7 -o /tmp/vacancies.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

DEFAULT_SEED = 20261207
TARGET_WORDS = 250
DISCRIMINATORY_SHARE = 0.2


@dataclass(frozen=True)
class Sector:
    """The wording of one sector: roles, companies, and paragraphs to draw from."""

    roles: tuple[str, ...]
    studies: tuple[str, ...]
    companies: tuple[str, ...]
    intros: tuple[str, ...]
    tasks: tuple[str, ...]
    requirements: tuple[str, ...]


CITIES = (
    "Amsterdam",
    "Rotterdam",
    "Utrecht",
    "Eindhoven",
    "Groningen",
    "Tilburg",
    "Almere",
    "Breda",
    "Nijmegen",
    "Apeldoorn",
    "Zwolle",
    "Leeuwarden",
    "Maastricht",
    "Enschede",
    "Den Bosch",
    "Amersfoort",
    "Haarlem",
    "Arnhem",
    "Delft",
    "Venlo",
)

SECTORS: dict[str, Sector] = {
    "zorg": Sector(
        roles=(
            "stagiair verzorgende IG",
            "stagiair maatschappelijke zorg",
            "BBL-stagiair verpleegkunde",
            "stagiair helpende zorg en welzijn",
        ),
        studies=("Verzorgende IG", "Maatschappelijke Zorg", "Verpleegkunde", "Helpende Z&W"),
        companies=("Zorggroep De Linde", "Thuiszorg Samen", "Woonzorgcentrum Het Anker"),
        intros=(
            "{company} biedt zorg en begeleiding aan ouderen in {city} en omgeving. Met ruim "
            "vierhonderd collega's werken we elke dag aan een fijne oude dag voor onze "
            "bewoners.",
            "Bij {company} staat de cliënt centraal. Onze teams in {city} ondersteunen mensen "
            "thuis, in kleinschalige woongroepen en op de revalidatieafdeling.",
            "Wil je leren hoe je goede zorg verleent in een warme omgeving? {company} in "
            "{city} is een erkend leerbedrijf met ervaren praktijkopleiders.",
        ),
        tasks=(
            "je helpt bewoners bij de persoonlijke verzorging en het aankleden",
            "je observeert en rapporteert in het elektronisch cliëntdossier",
            "je ondersteunt bij de maaltijden en het verstrekken van medicatie",
            "je organiseert samen met collega's activiteiten voor de bewoners",
            "je voert gesprekken met familieleden en mantelzorgers",
            "je denkt mee in het multidisciplinair overleg",
        ),
        requirements=(
            "je volgt de opleiding {study} op niveau {level}",
            "je bent geduldig, betrokken en kunt goed luisteren",
            "je bent bereid om ook in het weekend en in de avond te werken",
            "je kunt zelfstandig werken en weet wanneer je hulp moet vragen",
            "je hebt een VOG of bent bereid die aan te vragen",
        ),
    ),
    "ict": Sector(
        roles=(
            "stagiair software developer",
            "stagiair ICT-support",
            "stagiair netwerkbeheer",
            "stagiair front-end developer",
        ),
        studies=("Software Development", "ICT-support", "Netwerkbeheer", "Applicatieontwikkeling"),
        companies=("Bytewerk B.V.", "NordCode", "Helpdesk Direct", "Cloudhaven"),
        intros=(
            "{company} bouwt webapplicaties voor gemeenten en woningcorporaties. Vanuit ons "
            "kantoor in {city} werken we met een team van twintig ontwikkelaars.",
            "Bij {company} in {city} beheren we de ICT-omgeving van meer dan honderd "
            "mkb-bedrijven. We zijn een erkend leerbedrijf en begeleiden elk jaar stagiairs.",
            "{company} is een groeiend softwarebedrijf in {city} dat apps maakt voor de "
            "logistiek. We werken agile in korte sprints.",
        ),
        tasks=(
            "je bouwt mee aan nieuwe functies in onze webapplicatie",
            "je lost tickets op van klanten, telefonisch en op locatie",
            "je schrijft tests en documentatie voor de code die je oplevert",
            "je installeert laptops, printers en netwerkapparatuur",
            "je neemt deel aan de dagelijkse stand-up en de sprintreview",
            "je helpt bij de migratie van servers naar de cloud",
        ),
        requirements=(
            "je volgt de mbo-opleiding {study} op niveau {level}",
            "je hebt basiskennis van Python, JavaScript of C#",
            "je bent nieuwsgierig en leert graag nieuwe technieken",
            "je kunt een technisch probleem helder uitleggen aan een klant",
            "je hebt ervaring met Windows en Microsoft 365",
        ),
    ),
    "horeca": Sector(
        roles=("stagiair kok", "stagiair gastheer/gastvrouw", "stagiair zelfstandig werkend kok"),
        studies=("Kok", "Gastheer/-vrouw", "Zelfstandig werkend kok"),
        companies=("Brasserie De Waag", "Hotel Zuiderpark", "Restaurant Het Veerhuis"),
        intros=(
            "{company} is een drukke brasserie in het centrum van {city} met een terras aan "
            "het water. Onze keuken werkt met seizoensproducten van lokale boeren.",
            "{company} in {city} is een viersterrenhotel met zestig kamers, een restaurant en "
            "vergaderzalen. Gastvrijheid zit bij ons in alles wat we doen.",
        ),
        tasks=(
            "je bereidt voorgerechten en desserts volgens onze receptuur",
            "je ontvangt gasten en neemt bestellingen op",
            "je zorgt voor de mise-en-place voor de lunch en het diner",
            "je werkt volgens de HACCP-richtlijnen voor hygiëne",
            "je helpt bij het opstellen van de nieuwe menukaart",
        ),
        requirements=(
            "je volgt de opleiding {study} op niveau {level}",
            "je bent gastvrij en houdt van aanpakken",
            "je kunt werken onder tijdsdruk en blijft dan rustig",
            "je bent beschikbaar op vrijdag- en zaterdagavond",
        ),
    ),
    "retail": Sector(
        roles=(
            "stagiair verkoopmedewerker",
            "stagiair retail-assistent",
            "stagiair filiaalmanager",
        ),
        studies=("Verkoopspecialist", "Manager retail", "Retailmedewerker"),
        companies=("Modehuis Kaptein", "Bouwmarkt Vink", "Sportwinkel Actief"),
        intros=(
            "{company} heeft twaalf winkels in het oosten van het land, waarvan de grootste "
            "in {city}. Onze klanten komen voor persoonlijk advies.",
            "Bij {company} in {city} werk je in een winkel met een breed assortiment en veel "
            "vaste klanten. We investeren in de ontwikkeling van onze medewerkers.",
        ),
        tasks=(
            "je adviseert klanten en helpt ze bij het maken van een keuze",
            "je vult de schappen aan en zorgt dat de winkel er verzorgd uitziet",
            "je rekent af aan de kassa en handelt retouren af",
            "je denkt mee over de etalage en acties in de winkel",
            "je helpt bij de maandelijkse voorraadtelling",
        ),
        requirements=(
            "je volgt de opleiding {study} op niveau {level}",
            "je bent klantvriendelijk en communicatief vaardig",
            "je kunt op zaterdag werken",
            "je hebt interesse in mode, sport of techniek",
        ),
    ),
    "logistiek": Sector(
        roles=(
            "stagiair logistiek medewerker",
            "stagiair teamleider logistiek",
            "stagiair planner",
        ),
        studies=("Logistiek medewerker", "Logistiek teamleider", "Supply chain operator"),
        companies=("Transport Van Dijk", "DistriHub", "Koelcentrum Noord"),
        intros=(
            "{company} verzorgt de opslag en distributie van levensmiddelen voor "
            "supermarkten. Ons distributiecentrum in {city} is dag en nacht in bedrijf.",
            "{company} is een familiebedrijf in {city} met zestig vrachtwagens en een eigen "
            "warehouse. We rijden door heel Europa.",
        ),
        tasks=(
            "je ontvangt goederen en controleert de pakbonnen",
            "je verzamelt orders met een handscanner",
            "je plant ritten samen met de afdeling planning",
            "je rijdt op de heftruck of reachtruck na je certificaat",
            "je denkt mee over het verbeteren van de looproutes in het magazijn",
        ),
        requirements=(
            "je volgt de opleiding {study} op niveau {level}",
            "je werkt nauwkeurig en veilig",
            "je bent bereid om in ploegendienst te werken",
            "je hebt een rijbewijs B of haalt het binnenkort",
        ),
    ),
    "techniek": Sector(
        roles=(
            "stagiair elektrotechniek",
            "stagiair werktuigbouwkunde",
            "stagiair monteur installatietechniek",
        ),
        studies=(
            "Eerste monteur elektrotechniek",
            "Werktuigbouwkunde",
            "Monteur installatietechniek",
        ),
        companies=("Installatiebedrijf Bos", "Techniekhuis Oost", "Machinefabriek Ter Horst"),
        intros=(
            "{company} installeert warmtepompen, zonnepanelen en laadpalen bij particulieren "
            "en bedrijven in de regio {city}.",
            "{company} in {city} bouwt machines voor de voedingsmiddelenindustrie. Van "
            "ontwerp tot montage doen we alles zelf.",
        ),
        tasks=(
            "je helpt bij het aanleggen van elektrische installaties",
            "je leest technische tekeningen en schema's",
            "je monteert onderdelen in de werkplaats",
            "je voert storingsonderzoek uit samen met een ervaren monteur",
            "je houdt je aan de veiligheidsregels op de bouwplaats",
        ),
        requirements=(
            "je volgt de opleiding {study} op niveau {level}",
            "je bent technisch onderlegd en handig",
            "je hebt een VCA-diploma of bent bereid dit te halen",
            "je werkt graag buiten en op wisselende locaties",
        ),
    ),
    "kinderopvang": Sector(
        roles=("stagiair pedagogisch medewerker", "stagiair onderwijsassistent"),
        studies=("Pedagogisch medewerker", "Onderwijsassistent"),
        companies=("Kinderopvang Zonnestraal", "BSO De Boomhut", "Basisschool De Regenboog"),
        intros=(
            "{company} heeft zes locaties in {city} voor dagopvang, peuteropvang en "
            "buitenschoolse opvang. Spelen en ontdekken staan bij ons centraal.",
            "{company} is een basisschool in {city} met driehonderd leerlingen. We werken met "
            "kleine groepen en veel aandacht voor elk kind.",
        ),
        tasks=(
            "je begeleidt kinderen tijdens het spelen en de maaltijden",
            "je bereidt activiteiten voor en voert ze uit",
            "je ondersteunt de leerkracht in de klas",
            "je observeert de ontwikkeling van kinderen en bespreekt die met je begeleider",
            "je hebt contact met ouders bij het brengen en halen",
        ),
        requirements=(
            "je volgt de opleiding {study} op niveau {level}",
            "je bent creatief, geduldig en zorgzaam",
            "je hebt een VOG of vraagt die aan",
            "je kunt goed samenwerken in een team",
        ),
    ),
    "kantoor": Sector(
        roles=("stagiair secretarieel medewerker", "stagiair financieel administratief medewerker"),
        studies=("Management assistant", "Financieel administratief medewerker"),
        companies=("Gemeente {city}", "Administratiekantoor Smit", "Woningcorporatie Thuis"),
        intros=(
            "{company} is een dienstverlenende organisatie in {city} met tweehonderd "
            "medewerkers. We helpen inwoners met vragen over wonen, werk en zorg.",
            "{company} verzorgt de boekhouding en salarisadministratie voor ruim "
            "vijfhonderd ondernemers in de regio {city}.",
        ),
        tasks=(
            "je beheert agenda's en plant vergaderingen in",
            "je verwerkt facturen en boekt ze in het boekhoudpakket",
            "je beantwoordt telefoon en e-mail van klanten",
            "je maakt notulen van overleggen",
            "je helpt bij het opstellen van de maandrapportage",
        ),
        requirements=(
            "je volgt de opleiding {study} op niveau {level}",
            "je werkt nauwkeurig en gestructureerd",
            "je kunt goed overweg met Word en Excel",
            "je bent klantgericht en communicatief vaardig",
        ),
    ),
}

OFFERS = (
    "een stagevergoeding van €{allowance} per maand bij een volledige werkweek",
    "een vaste stagebegeleider die tijd voor je maakt",
    "een reiskostenvergoeding voor ov of auto",
    "ruimte om je eigen ideeën uit te werken",
    "de kans op een baan of BBL-plek na je stage",
    "een laptop en alles wat je nodig hebt om je werk te doen",
    "gratis lunch en een goede sfeer",
    "een cursus of training die past bij je opleiding",
    "flexibele werktijden in overleg met je begeleider",
)

EXTRAS = (
    "De stage duurt twintig weken en begint in {month}.",
    "Je werkt {hours} uur per week, verdeeld over vier of vijf dagen.",
    "Je stage is op onze locatie in {city}, goed bereikbaar met het openbaar vervoer.",
    "Tijdens je stage heb je elke week een kort gesprek met je begeleider over je voortgang.",
    "We vinden het belangrijk dat je veel leert en durft vragen te stellen.",
    "Je krijgt een inwerkprogramma waarin je alle afdelingen leert kennen.",
    "Onze collega's helpen je graag op weg in je eerste weken.",
    "Aan het einde van je stage presenteer je een verbetervoorstel aan het team.",
    "Je werkt samen met andere stagiairs en met ervaren vakmensen.",
)

CLOSINGS = (
    "Enthousiast? Stuur je cv en een korte motivatie naar stage@{domain}.nl. Heb je eerst "
    "vragen? Bel {contact} via 0{phone}.",
    "Solliciteer via Stagemarkt of mail naar {contact}, praktijkopleider, via "
    "werkenbij@{domain}.nl. We reageren binnen een week.",
    "Herken je jezelf in deze vacature? Reageer voor {deadline} via onze website. Een "
    "kennismakingsgesprek is onderdeel van de procedure.",
)

INCLUSIVE = (
    "Wij vinden een divers team belangrijk; iedereen is welkom om te reageren.",
    "Leeftijd, afkomst, geloof en geslacht spelen bij ons geen rol.",
    "Wij nodigen nadrukkelijk ook kandidaten met een arbeidsbeperking uit om te solliciteren.",
)

# Phrases that an officer would flag; each fits a requirement list or a closing sentence.
DISCRIMINATORY = (
    "je bent maximaal {age} jaar oud",
    "je bent niet ouder dan {age} jaar",
    "leeftijd tussen 16 en {age} jaar",
    "je past in ons jonge team",
    "we zijn een jong team en zoeken iemand die daarbij past",
    "je hebt Nederlands als moedertaal",
    "je spreekt accentloos Nederlands",
    "het dragen van een hoofddoek is niet toegestaan",
    "geen hoofddoek tijdens het werk",
    "je hebt een representatief uiterlijk",
    "je bent een jonge, frisse stagiair",
    "je bent een stevige kerel die van aanpakken houdt",
    "je bent volledig belastbaar en hebt geen beperkingen",
)

MONTHS = ("februari", "september", "januari", "april", "augustus")
CONTACTS = ("Sanne de Vries", "Mohamed El Amrani", "Joyce Bakker", "Pieter Jansen", "Fatma Yilmaz")


def _fill(template: str, values: dict[str, str]) -> str:
    return template.format(**values)


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def generate_vacancy(rng: random.Random, discriminatory: bool) -> str:
    """One vacancy of about TARGET_WORDS words; with one discriminatory phrase if asked."""
    sector = SECTORS[rng.choice(sorted(SECTORS))]
    city = rng.choice(CITIES)
    role = rng.choice(sector.roles)
    values = {
        "city": city,
        "study": rng.choice(sector.studies),
        "level": str(rng.choice((2, 3, 4))),
        "allowance": str(rng.choice((250, 300, 350, 400, 450, 500))),
        "hours": str(rng.choice((24, 32, 36, 40))),
        "month": rng.choice(MONTHS),
        "contact": rng.choice(CONTACTS),
        "phone": str(rng.randrange(100_000_000, 999_999_999)),
        "deadline": f"{rng.randrange(1, 28)} {rng.choice(MONTHS)}",
        "age": str(rng.choice((21, 23, 25, 27, 30))),
    }
    values["company"] = _fill(rng.choice(sector.companies), values)
    values["domain"] = "".join(ch for ch in values["company"].lower() if ch.isalnum())[:18]

    tasks = rng.sample(sector.tasks, k=min(len(sector.tasks), rng.randrange(4, 6)))
    requirements = [_fill(r, values) for r in sector.requirements]
    rng.shuffle(requirements)
    requirements = requirements[: rng.randrange(3, len(requirements) + 1)]
    offers = [_fill(o, values) for o in rng.sample(OFFERS, k=rng.randrange(3, 6))]
    if discriminatory:
        phrase = _fill(rng.choice(DISCRIMINATORY), values)
        requirements.insert(rng.randrange(len(requirements) + 1), phrase)

    bullet = rng.choice(("- ", "• ", "* "))
    title = f"Stage: {role} (m/v/x) in {city}"
    parts = [
        title,
        _fill(rng.choice(sector.intros), values),
        "Wat ga je doen?\n" + "\n".join(bullet + _capitalise(t) + "." for t in tasks),
        "Wie zoeken we?\n" + "\n".join(bullet + _capitalise(r) + "." for r in requirements),
        "Wat bieden we?\n" + "\n".join(bullet + _capitalise(o) + "." for o in offers),
    ]
    extras = [_fill(e, values) for e in EXTRAS]
    rng.shuffle(extras)
    closing = _fill(rng.choice(CLOSINGS), values)
    if not discriminatory and rng.random() < 0.15:
        closing = rng.choice(INCLUSIVE) + " " + closing
    words = sum(len(p.split()) for p in parts) + len(closing.split())
    target = TARGET_WORDS + rng.randrange(-30, 31)
    extra_lines: list[str] = []
    for extra in extras:
        if words >= target:
            break
        extra_lines.append(extra)
        words += len(extra.split())
    if extra_lines:
        parts.insert(2, " ".join(extra_lines))
    parts.append(closing)
    return "\n\n".join(parts)


def iter_vacancies(n: int, seed: int = DEFAULT_SEED) -> Iterator[str]:
    """`n` vacancies one at a time; the same sequence for the same seed."""
    rng = random.Random(seed)
    for _ in range(n):
        yield generate_vacancy(rng, rng.random() < DISCRIMINATORY_SHARE)


def generate_vacancies(n: int, seed: int = DEFAULT_SEED) -> list[str]:
    """`n` vacancies, the same for the same (n, seed); about a fifth discriminatory."""
    return list(iter_vacancies(n, seed))


def record_id(number: int) -> str:
    """The id of the `number`-th generated vacancy (1-based) in the JSONL output."""
    return f"bench-{number:07d}"


def write_jsonl(texts: Iterable[str], out: TextIO) -> tuple[int, int]:
    """Write texts as JSONL lines {"id", "text", "kind"}; returns (lines, words)."""
    lines = words = 0
    for number, text in enumerate(texts, start=1):
        record = {"id": record_id(number), "text": text, "kind": "vacancy"}
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        lines += 1
        words += len(text.split())
    return lines, words


def main(argv: list[str] | None = None) -> int:
    """CLI: write generated vacancies as JSONL."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="number of vacancies")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    parser.add_argument("-o", "--output", type=Path, default=None, help="JSONL file (stdout)")
    args = parser.parse_args(argv)
    texts = iter_vacancies(args.n, args.seed)
    if args.output is None:
        try:
            lines, words = write_jsonl(texts, sys.stdout)
        except BrokenPipeError:  # `| head`: the reader has all it wants
            return 0
    else:
        with args.output.open("w", encoding="utf-8") as out:
            lines, words = write_jsonl(texts, out)
    print(
        f"{lines} vacancies, {words / max(1, lines):.0f} words on average, "
        f"written to {args.output or 'stdout'}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
