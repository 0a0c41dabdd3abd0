"""Our own small grammar of German weather-report sentences, with glosses in sign order.

Used by the `small` SynthSign size, which must work from the repository alone. Like Phoenix14T,
the German side is lowercased and tokenised (punctuation split off) and the gloss side is
uppercase ASCII (umlauts spelled out) in sign order: time first, then place, then the topic,
adjectives after their noun, no articles or auxiliaries. So the two sides differ in word order
and length, as in the real corpus. All words and templates here were written for this project.
"""

from __future__ import annotations

import random

from sign2gpt.synth.sources import Sentence

Phrase = tuple[str, str]  # (German words, glosses)

REGIONS: tuple[Phrase, ...] = (
    ("im norden", "NORD"), ("im süden", "SUED"), ("im osten", "OST"), ("im westen", "WEST"),
    ("im nordwesten", "NORDWEST"), ("im nordosten", "NORDOST"), ("im südwesten", "SUEDWEST"),
    ("im südosten", "SUEDOST"), ("in der mitte", "MITTE"), ("an der küste", "KUESTE"),
    ("an den alpen", "ALPEN"), ("in den bergen", "BERG"), ("an der nordsee", "NORDSEE"),
    ("an der ostsee", "OSTSEE"), ("in bayern", "BAYERN"), ("in sachsen", "SACHSEN"),
    ("in hessen", "HESSEN"), ("in thüringen", "THUERINGEN"), ("in brandenburg", "BRANDENBURG"),
    ("in niedersachsen", "NIEDERSACHSEN"), ("am rhein", "RHEIN"), ("im flachland", "FLACHLAND"),
    ("im bergland", "BERGLAND"), ("in berlin", "BERLIN"), ("in hamburg", "HAMBURG"),
    ("im schwarzwald", "SCHWARZWALD"), ("in der eifel", "EIFEL"), ("im harz", "HARZ"),
    ("an der donau", "DONAU"), ("im allgäu", "ALLGAEU"),
)
WEEKDAYS: tuple[Phrase, ...] = (
    ("montag", "MONTAG"), ("dienstag", "DIENSTAG"), ("mittwoch", "MITTWOCH"),
    ("donnerstag", "DONNERSTAG"), ("freitag", "FREITAG"), ("samstag", "SAMSTAG"),
    ("sonntag", "SONNTAG"),
)
TIMES: tuple[Phrase, ...] = (
    ("heute", "HEUTE"), ("morgen", "MORGEN"), ("übermorgen", "UEBERMORGEN"),
    ("heute nacht", "HEUTE NACHT"), ("in der nacht", "NACHT"), ("am abend", "ABEND"),
    ("am vormittag", "VORMITTAG"), ("am nachmittag", "NACHMITTAG"),
    ("am wochenende", "WOCHENENDE"), ("morgen früh", "MORGEN FRUEH"),
    ("später", "SPAETER"), ("zum wochenende hin", "WOCHENENDE"),
    *((f"am {de}", gloss) for de, gloss in WEEKDAYS),
)
MONTHS: tuple[Phrase, ...] = tuple((m, m.upper().replace("Ä", "AE")) for m in (
    "januar", "februar", "märz", "april", "mai", "juni", "juli", "august", "september",
    "oktober", "november", "dezember"))
_UNITS = ("null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun",
          "zehn", "elf", "zwölf", "dreizehn", "vierzehn", "fünfzehn", "sechzehn", "siebzehn",
          "achtzehn", "neunzehn", "zwanzig")


def _number_word(n: int) -> str:
    if n <= 20:
        return _UNITS[n]
    if n == 30:
        return "dreißig"
    unit = "ein" if n % 10 == 1 else _UNITS[n % 10]
    return f"{unit}und{'zwanzig' if n < 30 else 'dreißig'}"


def _gloss_of(word: str) -> str:
    return word.upper().replace("Ä", "AE").replace("Ö", "OE").replace("Ü", "UE").replace("ß", "SS")


def _ordinal(n: int) -> str:
    """Dative ordinal as in "am zwölften mai"."""
    irregular = {1: "ersten", 3: "dritten", 7: "siebten", 8: "achten"}
    if n in irregular:
        return irregular[n]
    return _number_word(n) + ("ten" if n < 20 else "sten")


# Weather you can "have" ("gibt es ..."): (German noun, gloss, gender/number for the adjective).
PHENOMENA: tuple[tuple[str, str, str], ...] = (
    ("regen", "REGEN", "m"), ("schnee", "SCHNEE", "m"), ("gewitter", "GEWITTER", "pl"),
    ("schauer", "SCHAUER", "pl"), ("nebel", "NEBEL", "m"), ("sonnenschein", "SONNE", "m"),
    ("wolken", "WOLKE", "pl"), ("frost", "FROST", "m"), ("glätte", "GLATT", "f"),
    ("sturmböen", "STURM BOEE", "pl"), ("hagel", "HAGEL", "m"),
    ("schneeregen", "SCHNEE REGEN", "m"), ("nieselregen", "NIESEL", "m"),
    ("dauerregen", "DAUER REGEN", "m"),
    ("schneeschauer", "SCHNEE SCHAUER", "pl"), ("bodenfrost", "BODEN FROST", "m"),
)
# Intensity adjectives (stem, gloss): the ending follows the noun (strong declension, accusative);
# "viel" stays uninflected before a singular noun.
INTENSITIES: tuple[Phrase, ...] = (
    ("kräftig", "STARK"), ("leicht", "LEICHT"), ("heftig", "HEFTIG"), ("vereinzelt", "VEREINZELT"),
    ("örtlich stark", "ORT STARK"), ("teilweise kräftig", "TEILWEISE STARK"), ("viel", "VIEL"),
)
_ENDING = {"m": "en", "f": "e", "pl": "e"}
STATES: tuple[Phrase, ...] = (
    ("freundlich", "FREUNDLICH"), ("sonnig", "SONNIG"), ("wechselhaft", "WECHSELHAFT"),
    ("trocken", "TROCKEN"), ("kalt", "KALT"), ("warm", "WARM"), ("mild", "MILD"), ("heiß", "HEISS"),
    ("kühl", "KUEHL"), ("windig", "WIND"), ("neblig", "NEBEL"), ("frostig", "FROST"),
    ("schwül", "SCHWUEL"), ("regnerisch", "REGEN"), ("bewölkt", "BEWOELKT"), ("heiter", "HEITER"),
    ("stürmisch", "STURM"), ("nass", "NASS"), ("frisch", "FRISCH"), ("grau", "GRAU"),
    ("sehr kalt", "SEHR KALT"), ("recht warm", "WARM"), ("ziemlich trüb", "TRUEB"),
)
WINDS: tuple[Phrase, ...] = (
    ("schwacher", "SCHWACH"), ("mäßiger", "MAESSIG"), ("frischer", "FRISCH"),
    ("starker", "STARK"), ("stürmischer", "STURM"), ("böiger", "BOEE"),
)
DIRECTIONS: tuple[Phrase, ...] = (
    ("nord", "NORD"), ("süd", "SUED"), ("ost", "OST"), ("west", "WEST"), ("nordwest", "NORDWEST"),
    ("südwest", "SUEDWEST"), ("nordost", "NORDOST"), ("südost", "SUEDOST"),
)
PLACES: tuple[Phrase, ...] = (
    ("skandinavien", "SKANDINAVIEN"), ("russland", "RUSSLAND"), ("frankreich", "FRANKREICH"),
    ("den britischen inseln", "ENGLAND"), ("dem atlantik", "ATLANTIK"),
    ("der nordsee", "NORDSEE"), ("polen", "POLEN"), ("spanien", "SPANIEN"),
    ("italien", "ITALIEN"), ("island", "ISLAND"), ("dem mittelmeer", "MITTELMEER"),
)
AIR: tuple[Phrase, ...] = (
    ("kalte luft", "LUFT KALT"), ("warme luft", "LUFT WARM"), ("feuchte luft", "LUFT FEUCHT"),
    ("milde luft", "LUFT MILD"), ("trockene luft", "LUFT TROCKEN"), ("regen", "REGEN"),
    ("sonnenschein", "SONNE"), ("schnee", "SCHNEE"), ("gewitter", "GEWITTER"),
    ("wolken", "WOLKE"), ("sturm", "STURM"),
)
GREETINGS: tuple[Phrase, ...] = (
    ("guten abend liebe zuschauer", "ABEND LIEB ZUSCHAUER"),
    ("liebe zuschauer guten abend", "LIEB ZUSCHAUER ABEND"),
    ("hallo und guten abend", "HALLO ABEND"),
)
CLOSINGS: tuple[Phrase, ...] = (
    ("ich wünsche ihnen noch einen schönen abend", "IX SCHOEN ABEND"),
    ("einen schönen abend noch und tschüss", "SCHOEN ABEND TSCHUESS"),
    ("machen sie es gut", "GUT"),
    ("bis morgen und tschüss", "MORGEN TSCHUESS"),
    ("kommen sie gut durch die nacht", "NACHT GUT"),
)


def _pick(rng: random.Random, phrases: tuple) -> tuple:
    return phrases[rng.randrange(len(phrases))]


def _have_weather(rng: random.Random) -> Phrase:
    time, region = _pick(rng, TIMES), _pick(rng, REGIONS)
    noun, gloss, gender = _pick(rng, PHENOMENA)
    if rng.random() < 0.5:
        return f"{time[0]} gibt es {region[0]} {noun}", f"{time[1]} {region[1]} {gloss}"
    adj, adj_gloss = _pick(rng, INTENSITIES)
    if adj != "viel":
        adj += _ENDING[gender]
    elif gender == "pl":
        adj = "viele"
    return (f"{time[0]} gibt es {region[0]} {adj} {noun}",
            f"{time[1]} {region[1]} {gloss} {adj_gloss}")


def _state(rng: random.Random) -> Phrase:
    time, region, state = _pick(rng, TIMES), _pick(rng, REGIONS), _pick(rng, STATES)
    verb = rng.choice(("wird es", "bleibt es", "ist es"))
    gloss_verb = " BLEIBEN" if verb == "bleibt es" else ""
    return (f"{time[0]} {verb} {region[0]} {state[0]}",
            f"{time[1]} {region[1]} {state[1]}{gloss_verb}")


def _contrast(rng: random.Random) -> Phrase:
    (r1, g1), (r2, g2) = rng.sample(REGIONS, 2)
    (s1, h1), (s2, h2) = rng.sample(STATES, 2)
    return f"{r1} ist es {s1} , {r2} dagegen {s2}", f"{g1} {h1} ABER {g2} {h2}"


def _temperature(rng: random.Random) -> Phrase:
    time, region = _pick(rng, TIMES), _pick(rng, REGIONS)
    low = rng.randrange(-10, 25)
    high = low + rng.randrange(2, 9)
    if rng.random() < 0.5:
        value = abs(low)
        minus = ("minus ", "MINUS ") if low < 0 else ("", "")
        return (f"{time[0]} liegen die temperaturen {region[0]} bei {minus[0]}"
                f"{_number_word(value)} grad",
                f"{time[1]} {region[1]} TEMPERATUR {minus[1]}{_gloss_of(_number_word(value))} GRAD")
    low, high = max(low, 0), min(max(high, low + 2), 30)
    return (f"die höchstwerte liegen {time[0]} zwischen {_number_word(low)} und "
            f"{_number_word(high)} grad",
            f"{time[1]} TEMPERATUR {_gloss_of(_number_word(low))} BIS "
            f"{_gloss_of(_number_word(high))} GRAD MAXIMAL")


def _wind(rng: random.Random) -> Phrase:
    time, region = _pick(rng, TIMES), _pick(rng, REGIONS)
    (strength, gloss), (direction, dgloss) = _pick(rng, WINDS), _pick(rng, DIRECTIONS)
    return (f"{time[0]} weht {region[0]} ein {strength} wind aus {direction}",
            f"{time[1]} {region[1]} WIND {dgloss} {gloss}")


def _pressure(rng: random.Random) -> Phrase:
    system = rng.choice((("ein hoch", "HOCH"), ("ein tief", "TIEF")))
    (place, pgloss), (air, agloss) = _pick(rng, PLACES), _pick(rng, AIR)
    return (f"{system[0]} über {place} bringt uns {air}",
            f"{pgloss} {system[1]} KOMMEN {agloss}")


def _date(rng: random.Random) -> Phrase:
    (day, dgloss), (month, mgloss) = _pick(rng, WEEKDAYS), _pick(rng, MONTHS)
    n = rng.randrange(1, 31)
    return (f"und nun die wettervorhersage für {day} den {_ordinal(n)} {month}",
            f"JETZT WETTER WIE-AUSSEHEN {dgloss} {_gloss_of(_number_word(n))} {mgloss}")


_TEMPLATES = (
    (_have_weather, 5), (_state, 4), (_temperature, 3), (_wind, 2), (_contrast, 2),
    (_pressure, 2), (_date, 1), (lambda rng: _pick(rng, GREETINGS), 1),
    (lambda rng: _pick(rng, CLOSINGS), 1),
)


def generate_sentences(count: int, seed: int) -> list[Sentence]:
    """`count` weather-report sentences; the same seed always gives the same list.

    Args:
        count: how many sentences.
        seed: random seed.
    """
    rng = random.Random(seed)
    makers = [maker for maker, _ in _TEMPLATES]
    weights = [weight for _, weight in _TEMPLATES]
    sentences = []
    for _ in range(count):
        german, glosses = rng.choices(makers, weights)[0](rng)
        if rng.random() < 0.15:  # now and then two clauses, as in real reports
            more_german, more_glosses = _state(rng)
            german, glosses = f"{german} und {more_german}", f"{glosses} {more_glosses}"
        sentences.append(Sentence(tuple(glosses.split()), f"{german} ."))
    return sentences


def gloss_vocabulary() -> list[str]:
    """Every gloss the grammar can produce (so recipes do not depend on which were drawn)."""
    words = set()
    tables = (REGIONS, WEEKDAYS, TIMES, MONTHS, INTENSITIES, STATES, WINDS, DIRECTIONS, PLACES,
              AIR, GREETINGS, CLOSINGS)
    for table in tables:
        for _, glosses in table:
            words.update(glosses.split())
    words.update(g for _, glosses, _ in PHENOMENA for g in glosses.split())
    words.update(_gloss_of(_number_word(n)) for n in range(31))
    words.update(["ABER", "BLEIBEN", "TEMPERATUR", "MINUS", "GRAD", "BIS", "MAXIMAL", "WIND",
                  "HOCH", "TIEF", "KOMMEN", "JETZT", "WETTER", "WIE-AUSSEHEN"])
    return sorted(words)
