"""Values a reader checks in news text, one implementation each for the package.

Numbers and quantities (one number-word table), month and weekday names (one
calendar table), capitalised names (one finder), quotations, negations and
antonyms, and `extract_values`, the typed values (day, date, number, place,
name) that two outlets can disagree on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from summarize.text.words import STOPWORDS, stem, tokens

# ---------------------------------------------------------------- numbers

# Each word stands at the place of its value; "_" holds a place. "one" is left out:
# it is too often a pronoun to count as a number.
_UNITS_TEXT = """zero _ two three four five six seven eight nine ten eleven twelve thirteen
fourteen fifteen sixteen seventeen eighteen nineteen"""
_TENS_TEXT = "_ _ twenty thirty forty fifty sixty seventy eighty ninety"
_ORDINALS_TEXT = "_ _ _ third fourth fifth sixth seventh eighth ninth tenth"
NUMBER_WORDS = {w: i for i, w in enumerate(_UNITS_TEXT.split()) if w != "_"}
TENS = {w: 10 * i for i, w in enumerate(_TENS_TEXT.split()) if w != "_"}
ORDINALS = {w: i for i, w in enumerate(_ORDINALS_TEXT.split()) if w != "_"}
SCALES = {
    "hundred": 1e2,
    "thousand": 1e3,
    "k": 1e3,
    "million": 1e6,
    "millions": 1e6,
    "m": 1e6,
    "mn": 1e6,
    "mln": 1e6,
    "billion": 1e9,
    "billions": 1e9,
    "bn": 1e9,
    "b": 1e9,
    "trillion": 1e12,
    "tn": 1e12,
}
_YEAR = r"1[89]\d\d|20\d\d"
_NUMWORD = "|".join(sorted([*NUMBER_WORDS, *TENS], key=len, reverse=True))
_QUANTITY = re.compile(
    rf"""(?P<cur>[$£€¥]|\b(?:us\$|usd|eur|gbp)\s?)?
    (?P<num>\d+(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+
        |\b(?:{_NUMWORD})(?:[\s-](?:{"|".join(NUMBER_WORDS)}))?\b)
    (?P<ord>st|nd|rd|th)?
    (?:\s?(?P<scale>hundred|thousand|millions?|billions?|trillion|mn|mln|bn|tn|[kmb])\b)?
    (?:\s?(?P<pct>%|percent\b|per\s?cent\b))?""",
    re.VERBOSE | re.IGNORECASE,
)
_ORDINAL_WORD = re.compile(r"\b(" + "|".join(ORDINALS) + r")\b", re.IGNORECASE)


def _word_value(text: str) -> float | None:
    total = 0
    for part in re.split(r"[\s-]+", text.lower()):
        if part in TENS:
            total += TENS[part]
        elif part in NUMBER_WORDS:
            total += NUMBER_WORDS[part]
        else:
            return None
    return float(total)


@dataclass(frozen=True)
class Quantity:
    text: str
    value: float
    kind: str  # number | percent | money | year | ordinal
    start: int = 0  # offsets of `text` in the text it was found in
    end: int = 0


# "235, 000" and "102. 5 kg": a separator followed by a space, as tokenized corpora write it
_SPLIT_THOUSANDS = re.compile(r"(?<![\d.,])(\d{1,3}), (\d{3})(?![\d,])")
_SPLIT_DECIMAL = re.compile(r"(?<![\d.,])(\d{1,3})\. (\d{1,2})(?![\d.,])")


def rejoin_thousands(text: str) -> str:
    """`text` with "235, 000" written "235,000" and "102. 5" written "102.5" (a reading of
    the text, for sources only: "Of the 12, 300 were..." reads both ways, so a claim is
    never held to one)."""
    return _SPLIT_DECIMAL.sub(r"\1.\2", _SPLIT_THOUSANDS.sub(r"\1,\2", text))


def quantities(text: str) -> list[Quantity]:
    """Numbers, percentages, money amounts and years, normalised to a value.

    "1,200" and "1200", "two" and "2", "$5m" and "5 million" get the same value.
    """
    found: list[Quantity] = []
    for m in _QUANTITY.finditer(text):
        num = m.group("num")
        if num[0].isdigit() or num[0] == ".":
            value = float(num.replace(",", ""))
        else:
            value = _word_value(num)
            if value is None:
                continue
        scale = (m.group("scale") or "").lower()
        if scale:
            value *= SCALES[scale]
        kind = "number"
        if m.group("pct"):
            kind = "percent"
        elif m.group("cur"):
            kind = "money"
        elif m.group("ord"):
            kind = "ordinal"
        elif not scale and re.fullmatch(_YEAR, num):
            kind = "year"
        written = m.group().strip()
        found.append(Quantity(written, value, kind, m.start(), m.start() + len(written)))
    for m in _ORDINAL_WORD.finditer(text):
        value = float(ORDINALS[m.group().lower()])
        found.append(Quantity(m.group(), value, "ordinal", m.start(), m.end()))
    return found


def same_value(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(abs(a), abs(b), 1.0)


# ---------------------------------------------------------------- dates

MONTHS = {
    "january": "January",
    "jan": "January",
    "february": "February",
    "feb": "February",
    "march": "March",
    "mar": "March",
    "april": "April",
    "apr": "April",
    "may": "May",
    "june": "June",
    "jun": "June",
    "july": "July",
    "jul": "July",
    "august": "August",
    "aug": "August",
    "september": "September",
    "sep": "September",
    "sept": "September",
    "october": "October",
    "oct": "October",
    "november": "November",
    "nov": "November",
    "december": "December",
    "dec": "December",
}
MONTH_NAMES = list(dict.fromkeys(MONTHS.values()))  # January ... December
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_DATE_WORD = re.compile(r"\b(" + "|".join([*MONTHS, *WEEKDAYS]) + r")\b\.?", re.IGNORECASE)


def dates(text: str) -> list[str]:
    """Month and weekday names, canonical ("Sept." -> "September").

    Abbreviations and "May" count only when written like a date (capitalised,
    or next to a number), since "may", "mar" and "sat" are ordinary words.
    """
    out = []
    for m in _DATE_WORD.finditer(text):
        word = m.group(1)
        low = word.lower()
        if low in WEEKDAYS:
            out.append(low.capitalize())
            continue
        near_number = bool(_NUMBER_AFTER.match(text, m.end(1))) or _last_char(text, m).isdigit()
        is_full = MONTHS[low].lower() == low
        if (is_full and low != "may" and (word[0].isupper() or near_number)) or near_number:
            out.append(MONTHS[low])
        elif word[0].isupper() and low == "may" and m.start() > 0 and not _starts_sentence(text, m):
            out.append("May")
        elif not is_full and word[0].isupper() and m.group().endswith("."):
            out.append(MONTHS[low])
    return out


def calendar_words(text: str) -> set[str]:
    """Every full month (but "may") and weekday name in `text`, however written."""
    words = tokens(text)
    found = {MONTHS[w] for w in words if w in MONTHS and len(w) > 3 and w != "may"}
    return found | {w.capitalize() for w in words if w in WEEKDAYS}


_NUMBER_AFTER = re.compile(r"\.?\s*\d")


def _last_char(text: str, m: re.Match) -> str:
    """The last character before the match that is not whitespace ("" when none)."""
    i = m.start() - 1
    while i >= 0 and text[i].isspace():
        i -= 1
    return text[i] if i >= 0 else ""


def _starts_sentence(text: str, m: re.Match) -> bool:
    last = _last_char(text, m)
    return not last or last in '.!?"“'


# ---------------------------------------------------------------- names

_CAP_SEQ = re.compile(
    r"(?<![\w’'])[A-Z][\w’'.&-]*(?:\s+(?:(?:of|the|de|for|and|al|bin|van|von)\s+)?[A-Z][\w’'.&-]*)*"
)


@dataclass(frozen=True)
class Name:
    text: str  # words joined by single spaces, leading stopwords ("The") left out
    start: int  # offsets of the name in the text (`text[start:end]` as written)
    end: int
    lead: int  # where the capitalised run began, leading stopwords included


def names(text: str) -> list[Name]:
    """Capitalised names ("Oana Lungescu", "Seoul", "Bank of England"), with offsets.

    A single capitalised word at the start of a sentence is skipped: it is
    usually an ordinary word. Month and weekday names are not names. Text
    with almost no lowercase letters (all-caps headlines) or no capitals
    (lowercased corpora) yields nothing.
    """
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return []
    upper = sum(c.isupper() for c in letters) / len(letters)
    if upper > 0.6 or upper == 0:
        return []
    out = []
    for m in _CAP_SEQ.finditer(text):
        trimmed = re.sub(r"(['’]s|['’.,-])$", "", m.group())
        words = list(re.finditer(r"\S+", trimmed))
        dropped = 0
        while dropped < len(words) and words[dropped].group().lower() in STOPWORDS:
            dropped += 1  # "The Pentagon" -> "Pentagon"
        kept = [w.group() for w in words[dropped:]]
        if not kept or (len(kept) == 1 and not dropped and _starts_sentence(text, m)):
            continue
        name = " ".join(kept)
        if name.lower() not in MONTHS and name.lower() not in WEEKDAYS:
            start = m.start() + words[dropped].start()
            out.append(Name(name, start, m.start() + len(trimmed), m.start()))
    return out


def entities(text: str) -> list[str]:
    """The capitalised names of `text` (see `names`)."""
    return [n.text for n in names(text)]


# ---------------------------------------------------------------- quotes

_QUOTE = re.compile(
    r"“([^”]{2,}?)”|\"([^\"]{2,}?)\"|``(.{2,}?)''|‘([^’]{2,}?)’(?!\w)"
    # a single quote opens a quotation, not a split contraction ("we 're", "golfer 's")
    r"|(?<!\w)'(?!(?:re|s|ll|ve|d|m|t)\b)([^']{2,}?)'(?!\w)"
)


def quoted(text: str) -> list[str]:
    """Text between quotation marks, any quote style."""
    return [next(g for g in m.groups() if g) for m in _QUOTE.finditer(text)]


def quote_spans(text: str) -> list[tuple[int, int]]:
    """`[start, end)` of each quotation of `text`, quotation marks included."""
    return [m.span() for m in _QUOTE.finditer(text)]


# ---------------------------------------------------------------- polarity

_NEGATION_TEXT = """
not no never none nobody nothing neither nor without cannot n't deny denies denied denying
refuse refuses refused refusing reject rejects rejected fail fails failed unable lack lacks
lacked
"""
NEGATIONS = frozenset(_NEGATION_TEXT.split())
_ANTONYMS = [
    ("increase", "decrease"),
    ("rise", "fall"),
    ("rose", "fell"),
    ("win", "lose"),
    ("won", "lost"),
    ("accept", "reject"),
    ("allow", "ban"),
    ("support", "oppose"),
    ("approve", "reject"),
    ("higher", "lower"),
    ("more", "less"),
    ("before", "after"),
    ("guilty", "innocent"),
    ("alive", "dead"),
    ("open", "close"),
    ("start", "end"),
    ("first", "last"),
    ("male", "female"),
    ("up", "down"),
    ("gain", "loss"),
    ("largest", "smallest"),
    ("biggest", "smallest"),
    ("best", "worst"),
    ("arrested", "released"),
    ("confirm", "deny"),
]
ANTONYMS: dict[str, set[str]] = {}  # stem -> stems of its opposites
for _a, _b in _ANTONYMS:
    ANTONYMS.setdefault(stem(_a), set()).add(stem(_b))
    ANTONYMS.setdefault(stem(_b), set()).add(stem(_a))


def negations(text: str) -> list[str]:
    words = tokens(text)
    found = [w for w in words if w in NEGATIONS]
    found += [w for w in words if w.endswith("n't") and w not in found]
    return found


def negated_keys(text: str) -> set[str]:
    """Content-word stems within four words after a negation ("not go into details")."""
    words = tokens(text)
    out: set[str] = set()
    for i, w in enumerate(words):
        if w in NEGATIONS or w.endswith("n't"):
            out |= {stem(t) for t in words[i + 1 : i + 5] if t not in STOPWORDS}
    return out


# ---------------------------------------------------------------- typed values

_MONTH_ALT = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY = re.compile(rf"\b(?:{'|'.join(WEEKDAYS)})\b", re.I)
_DATE = re.compile(
    rf"\b(?:(?:{_MONTH_ALT})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTH_ALT})\.?(?:,?\s+\d{{4}})?"
    rf"|(?:{_MONTH_ALT})\.?\s+\d{{4}}"
    r"|\d{4}-\d{2}-\d{2})\b",
    re.I,
)
# "in March"; not "May", which is mostly the verb
_BARE_MONTH = re.compile(rf"\b(?:{'|'.join(n for n in MONTH_NAMES if n != 'May')})\b")
_YEAR_WORD = re.compile(rf"\b({_YEAR})\b")
_TALLY = re.compile(r"(?<![\w.,-])\d{1,3}-\d{1,3}(?![\w.,-]?\d)")  # a vote or score: "9-4"
_PLACE_BEFORE = re.compile(r"\b(?:in|at|near)\s+$")


def tallies(text: str) -> list[tuple[int, int]]:
    """Votes and scores written as "9-4", in the order written."""
    return [tuple(int(x) for x in m.group().split("-")) for m in _TALLY.finditer(text)]


_ELLIPSIS = re.compile(r"(?:\.{2,}|…)?$")
_MEASURES_TEXT = """
    metre metres meter meters m km kilometre kilometres kilometer kilometers mile miles
    centimetre centimetres cm millimetre millimetres mm foot feet inch inches kg kilogram
    kilograms tonne tonnes ton tons gram grams litre litres liter liters degree degrees
    second seconds minute minutes hour hours day days week weeks month months year years
    cycle cycles cent cents dollar dollars euro euros pound pounds percent mph kmh gw mw kw
    gwh mwh kwh"""
_MEASURES = frozenset(_MEASURES_TEXT.split())
_CLOCK = re.compile(r"\s*(?:a\.m\.|p\.m\.|am\b|pm\b|o'clock)", re.I)


@dataclass
class Value:
    kind: str  # day | date | number | place | name
    value: str  # as written
    key: str  # normalised for comparison
    start: int  # offset in the text
    cls: str = ""  # what a value of this kind may be compared with (unit, scale, ...)
    anchors: set[str] = field(default_factory=set)  # content words next to it
    context: set[str] = field(default_factory=set)  # content words around it
    heads: set[str] = field(default_factory=set)  # the nearest content word either side


def _key(text: str) -> str:
    return re.sub(r"[\s,’']+", " ", text.lower().replace("’", "'")).strip()


def number_key(value: float) -> str:
    """A value as a short, exact string: 1200.0 -> "1200", 3.4 -> "3.4"."""
    return f"{value:.15g}"


def _standalone(text: str, start: int, end: int) -> bool:
    """Not part of a word or a longer figure ("A380", "5km", "v2.1", "net-zero")."""
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    if before == "-" and text[start].isalpha():
        return False
    return not (before.isalnum() or before in "_.") and not (after.isalnum() or after == "_")


def extract_values(text: str) -> list[Value]:
    """Values a reader would check: weekdays, dates, numbers/amounts, multi-word names/places."""
    found: list[Value] = []
    taken: list[tuple[int, int]] = []

    def add(kind: str, start: int, end: int, key: str | None = None, cls: str = "") -> None:
        if any(s < end and start < e for s, e in taken):
            return
        taken.append((start, end))
        written = text[start:end]
        found.append(Value(kind, written, key or _key(written), start, cls))

    for m in _WEEKDAY.finditer(text):
        add("day", m.start(), m.end())
    for m in _DATE.finditer(text):
        add("date", m.start(), m.end(), cls="full" if re.search(r"\d", m.group()) else "month")
    for m in _YEAR_WORD.finditer(text):
        add("date", m.start(), m.end(), cls="year")
    for m in _BARE_MONTH.finditer(text):
        add("date", m.start(), m.end(), cls="month")
    for m in _TALLY.finditer(text):
        add("number", m.start(), m.end(), m.group(), cls="tally")
    for q in quantities(text):
        if q.kind != "ordinal" and _standalone(text, q.start, q.end):
            cls = number_class(text, q.start, q.end, money=q.kind == "money")
            add("number", q.start, q.end, number_key(q.value), cls=cls)
    for n in names(text):
        end = n.end - len(_ELLIPSIS.search(text, n.start, n.end).group())
        written = text[n.start : end]
        if _WEEKDAY.search(written) or _DATE.search(written):
            continue
        if _PLACE_BEFORE.search(text, 0, n.lead) and any(c.islower() for c in written):
            add("place", n.start, end)
        elif n.lead > 0 and len(n.text.split()) > 1:  # a sentence-initial capital is no name
            add("name", n.start, end)
    return found


def value_keys(text: str) -> set[tuple[str, str]]:
    """(kind, key) of each value of `text`: two texts with the same set state the same values."""
    return {(v.kind, v.key) for v in extract_values(text)}


def number_class(text: str, start: int, end: int, money: bool = False) -> str:
    """Currency, scale and unit of a number: only numbers of one class are compared."""
    written = text[start:end].lower()
    currency = "$" if money else ""
    scale = next(
        (s for s in ("thousand", "million", "billion", "trillion", "bn") if s in written), ""
    )
    if "%" in written or "percent" in written or "per cent" in written:
        return f"{currency}%"
    after = text[end:]
    label = re.search(r"(?<=\S)\s+([A-Z][a-z]*\.?)\s*$", text[:start])
    if label and not currency and label.group(1) not in ("About", "Some", "Nearly", "Over"):
        return f"label:{label.group(1).lower()}"  # "Route 9", "Apollo 11": part of a name
    if _CLOCK.match(after):
        return "clock"
    rate = re.match(r"\s+(?:a|an|per|each|every)\s+(year|month|week|day|hour)\b", after, re.I)
    if rate:  # "$11 million a year" is a rate, not an amount like "$18 million shortfall"
        return f"{currency}{scale}:/{rate.group(1).lower()}"
    unit = ""
    nxt = re.match(r"[\s-]*([A-Za-z]+)", after)
    if nxt and nxt.group(1).lower() in _MEASURES:
        unit = nxt.group(1).lower().rstrip("s")
        if unit in ("cent", "dollar", "euro", "pound"):
            currency, unit = "$", unit
    return f"{currency}{scale}:{unit}"
