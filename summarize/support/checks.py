"""Rule checks a careful reader applies to a summary sentence against its support.

Each check compares the claim with the supporting spans (what the verdict will
cite) and with the whole sources (debris removed). A fact missing from every
source is an `error`; one present in the sources but not in the cited spans is a
`warning` (the support is probably incomplete). Findings carry human-readable
messages; the scorer turns their counts into features.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from summarize.models import Article, Span

# ---------------------------------------------------------------- text basics

_STOP_TEXT = """
a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from
further had has have having he her here hers herself him himself his how i if in into is it
its itself just me more most my myself no nor not of off on once only or other our ours
ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours yourself yourselves
said says say saying told tells tell according will shall may might must us mr mrs ms s t
don't won't can't isn't wasn't didn't doesn't aren't weren't hasn't haven't hadn't couldn't
wouldn't shouldn't it's he's she's they're we're i'm that's there's who's let's one also new
"""
STOPWORDS = frozenset(_STOP_TEXT.split())

_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def tokens(text: str) -> list[str]:
    """Lowercased word tokens; apostrophes kept inside words ("don't")."""
    return [t.replace("’", "'") for t in _TOKEN.findall(text.lower())]


def stem(word: str) -> str:
    """A crude suffix stripper: only needs to be consistent on both sides."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    for suffix in ("ings", "ing", "ied", "ies", "ed", "es", "s", "ly"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: -len(suffix)]
            break
    if w.endswith("e") and len(w) > 4:  # "close", "closed", "closes" -> "clos"
        w = w[:-1]
    return w


def content_keys(text: str) -> list[str]:
    """Stems of the content words of `text` (stopwords and bare numbers dropped)."""
    return [stem(t) for t in tokens(text) if t not in STOPWORDS and not t.isdigit()]


def _prefixes(keys: Iterable[str]) -> set[str]:
    return {k[:6] for k in keys if len(k) >= 6}


def key_found(key: str, keys: set[str], prefixes: set[str]) -> bool:
    """Exact stem match, a shared 6-letter prefix ("announcement" ~ "announced"),
    or a demonym of a place in the keys ("asian" ~ "asia", "korean" ~ "korea")."""
    if key in keys or (len(key) >= 6 and key[:6] in prefixes):
        return True
    return key.endswith("an") and len(key) > 4 and (key[:-1] in keys or key[:-2] in keys)


def clean_text(article: Article) -> str:
    """The article text with debris blanked out (same length, offsets unchanged)."""
    text = article.text
    for start, end in sorted(article.debris):
        text = text[:start] + " " * (end - start) + text[end:]
    return text


# ---------------------------------------------------------------- quantities

_UNITS = {
    w: i
    for i, w in enumerate(
        [
            "zero",
            "_",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
        ]
    )
}
_UNITS.pop("_")  # "one" is too often a pronoun to count as a number
_TENS = {
    w: 10 * i
    for i, w in enumerate(
        ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
    )
    if w != "_"
}
_ORDINALS = {
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
}
_SCALES = {
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
_NUMWORD = "|".join(sorted([*_UNITS, *_TENS], key=len, reverse=True))
_QUANTITY = re.compile(
    rf"""(?P<cur>[$£€¥]|\b(?:us\$|usd|eur|gbp)\s?)?
    (?P<num>\d+(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+
        |\b(?:{_NUMWORD})(?:[\s-](?:{"|".join(_UNITS)}))?\b)
    (?P<ord>st|nd|rd|th)?
    (?:\s?(?P<scale>hundred|thousand|millions?|billions?|trillion|mn|mln|bn|tn|[kmb])\b)?
    (?:\s?(?P<pct>%|percent\b|per\s?cent\b))?""",
    re.VERBOSE | re.IGNORECASE,
)
_ORDINAL_WORD = re.compile(r"\b(" + "|".join(_ORDINALS) + r")\b", re.IGNORECASE)


def _word_value(text: str) -> float | None:
    total = 0
    for part in re.split(r"[\s-]+", text.lower()):
        if part in _TENS:
            total += _TENS[part]
        elif part in _UNITS:
            total += _UNITS[part]
        else:
            return None
    return float(total)


@dataclass(frozen=True)
class Quantity:
    text: str
    value: float
    kind: str  # number | percent | money | year | ordinal


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
            value *= _SCALES[scale]
        kind = "number"
        if m.group("pct"):
            kind = "percent"
        elif m.group("cur"):
            kind = "money"
        elif m.group("ord"):
            kind = "ordinal"
        elif not scale and re.fullmatch(r"1[89]\d\d|20\d\d", num):
            kind = "year"
        found.append(Quantity(m.group().strip(), value, kind))
    for m in _ORDINAL_WORD.finditer(text):
        found.append(Quantity(m.group(), float(_ORDINALS[m.group().lower()]), "ordinal"))
    return found


def _same_value(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(abs(a), abs(b), 1.0)


# ---------------------------------------------------------------- dates

_MONTHS = {
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
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_DATE_WORD = re.compile(r"\b(" + "|".join([*_MONTHS, *_WEEKDAYS]) + r")\b\.?", re.IGNORECASE)


def dates(text: str) -> list[str]:
    """Month and weekday names, canonical ("Sept." -> "September").

    Abbreviations and "May" count only when written like a date (capitalised,
    or next to a number), since "may", "mar" and "sat" are ordinary words.
    """
    out = []
    for m in _DATE_WORD.finditer(text):
        word = m.group(1)
        low = word.lower()
        if low in _WEEKDAYS:
            out.append(low.capitalize())
            continue
        near_number = bool(
            re.match(r"\.?\s*\d", text[m.end(1) :]) or re.search(r"\d\s*$", text[: m.start()])
        )
        is_full = _MONTHS[low].lower() == low
        if (is_full and low != "may" and (word[0].isupper() or near_number)) or near_number:
            out.append(_MONTHS[low])
        elif word[0].isupper() and low == "may" and m.start() > 0 and not _starts_sentence(text, m):
            out.append("May")
        elif not is_full and word[0].isupper() and m.group().endswith("."):
            out.append(_MONTHS[low])
    return out


def _starts_sentence(text: str, m: re.Match) -> bool:
    return not text[: m.start()].strip() or text[: m.start()].rstrip()[-1] in '.!?"“'


# ---------------------------------------------------------------- entities

_CAP_SEQ = re.compile(
    r"(?<![\w’'])[A-Z][\w’'.&-]*(?:\s+(?:(?:of|the|de|for|and|al|bin|van|von)\s+)?[A-Z][\w’'.&-]*)*"
)


def entities(text: str) -> list[str]:
    """Capitalised names ("Oana Lungescu", "Seoul", "Bank of England").

    A single capitalised word at the start of a sentence is skipped: it is
    usually an ordinary word, and the extrinsic-word check covers it anyway.
    Text with almost no lowercase letters (all-caps headlines) or no capitals
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
        words = re.sub(r"(['’]s|['’.,-])$", "", m.group()).split()
        dropped = 0
        while words and words[0].lower() in STOPWORDS:  # "The Pentagon" -> "Pentagon"
            words, dropped = words[1:], dropped + 1
        if not words or (len(words) == 1 and not dropped and _starts_sentence(text, m)):
            continue
        name = " ".join(words)
        if name.lower() not in _MONTHS and name.lower() not in _WEEKDAYS:
            out.append(name)
    return out


# ---------------------------------------------------------------- quotes

_QUOTE = re.compile(
    r"“([^”]{2,}?)”|\"([^\"]{2,}?)\"|``(.{2,}?)''|‘([^’]{2,}?)’(?!\w)|(?<!\w)'([^']{2,}?)'(?!\w)"
)


def quoted(text: str) -> list[str]:
    """Text between quotation marks, any quote style."""
    return [next(g for g in m.groups() if g) for m in _QUOTE.finditer(text)]


def _token_string(text: str) -> str:
    return " " + " ".join(re.findall(r"\w+", text.lower().replace("’", "'"))) + " "


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
ANTONYMS: dict[str, set[str]] = {}
for _a, _b in _ANTONYMS:
    ANTONYMS.setdefault(stem(_a), set()).add(stem(_b))
    ANTONYMS.setdefault(stem(_b), set()).add(stem(_a))


def negations(text: str) -> list[str]:
    words = tokens(text)
    found = [w for w in words if w in NEGATIONS]
    found += [w for w in words if w.endswith("n't") and w not in found]
    return found


# ---------------------------------------------------------------- sources


@dataclass
class Evidence:
    """Text facts of a body of text, computed once and reused for many claims."""

    text: str
    keys: set[str] = field(init=False)
    prefixes: set[str] = field(init=False)
    values: list[float] = field(init=False)
    dates: set[str] = field(init=False)
    lower: str = field(init=False)
    token_string: str = field(init=False)
    has_negation: bool = field(init=False)
    negated: set[str] = field(init=False)

    def __post_init__(self) -> None:
        self.keys = set(content_keys(self.text)) | {stem(t) for t in tokens(self.text)}
        self.prefixes = _prefixes(self.keys)
        self.values = [q.value for q in quantities(self.text)]
        self.dates = set(dates(self.text)) | {
            _MONTHS[w] for w in tokens(self.text) if w in _MONTHS and len(w) > 3 and w != "may"
        }
        self.dates |= {w.capitalize() for w in tokens(self.text) if w in _WEEKDAYS}
        self.lower = " ".join(self.text.lower().replace("’", "'").split())
        self.token_string = _token_string(self.text)
        self.has_negation = bool(negations(self.text))
        self.negated = negated_keys(self.text)

    def has_value(self, value: float) -> bool:
        return any(_same_value(value, v) for v in self.values)

    def has_name(self, name: str) -> bool:
        return _token_string(name) in self.token_string

    def has_key(self, key: str) -> bool:
        return key_found(key, self.keys, self.prefixes)


def sources_evidence(articles: Sequence[Article]) -> Evidence:
    """Evidence of all articles together, debris excluded."""
    return Evidence("\n".join(clean_text(a) for a in articles))


def spans_evidence(spans: Sequence[Span]) -> Evidence:
    return Evidence("\n".join(s.quote for s in spans))


# ---------------------------------------------------------------- checks


@dataclass
class Finding:
    """One problem with a claim. `error`: not in any source or contradicted;
    `warning`: in the sources but not in the supporting spans."""

    check: str  # number | date | entity | quote | negation | antonym | extrinsic | name
    severity: str  # error | warning
    message: str
    items: list[str] = field(default_factory=list)


def check_numbers(claim: str, support: Evidence, sources: Evidence) -> list[Finding]:
    out = []
    for q in quantities(claim):
        if support.has_value(q.value):
            continue
        what = {"percent": "percentage", "money": "amount", "year": "year"}.get(q.kind, "number")
        if sources.has_value(q.value):
            msg = f"the {what} '{q.text}' is not in the supporting text"
            out.append(Finding("number", "warning", msg, [q.text]))
        else:
            out.append(
                Finding("number", "error", f"the {what} '{q.text}' is in no source", [q.text])
            )
    return out


def check_dates(claim: str, support: Evidence, sources: Evidence) -> list[Finding]:
    out = []
    for d in dates(claim):
        if d in support.dates:
            continue
        others = sorted(support.dates - {d})
        said = f" (it says {', '.join(others)})" if others else ""
        if d in sources.dates:
            msg = f"'{d}' is not in the supporting text{said}"
            out.append(Finding("date", "warning", msg, [d]))
        else:
            out.append(Finding("date", "error", f"'{d}' is in no source{said}", [d]))
    return out


def check_entities(claim: str, support: Evidence, sources: Evidence) -> list[Finding]:
    out = []
    for name in entities(claim):
        if support.has_name(name):
            continue
        if sources.has_name(name):
            msg = f"'{name}' is not in the supporting text"
            out.append(Finding("entity", "warning", msg, [name]))
            continue
        words = [w for w in tokens(name) if w not in STOPWORDS]
        missing = [w for w in words if not sources.has_key(stem(w))]
        if missing or not words:
            out.append(Finding("entity", "error", f"'{name}' is not in any source", [name]))
        else:  # every word is there, but not as this name
            msg = f"'{name}' does not appear as such in any source"
            out.append(Finding("entity", "warning", msg, [name]))
    return out


def check_quotes(claim: str, support: Evidence, sources: Evidence) -> list[Finding]:
    out = []
    for q in quoted(claim):
        ts = _token_string(q)
        if ts.strip() and ts not in support.token_string and ts not in sources.token_string:
            msg = f"the quotation “{q}” does not appear verbatim in any source"
            out.append(Finding("quote", "error", msg, [q]))
    return out


def negated_keys(text: str) -> set[str]:
    """Content-word stems within four words after a negation ("not go into details")."""
    words = tokens(text)
    out: set[str] = set()
    for i, w in enumerate(words):
        if w in NEGATIONS or w.endswith("n't"):
            out |= {stem(t) for t in words[i + 1 : i + 5] if t not in STOPWORDS}
    return out


def check_negation(claim: str, support: Evidence) -> list[Finding]:
    """Polarity: a word negated on one side and asserted on the other is an error;
    a negation with nothing to align it to is a warning."""
    claim_keys = set(content_keys(claim))
    claim_neg = negated_keys(claim)
    flipped = sorted((negated_keys(support.text) & claim_keys) - claim_neg)
    if flipped:
        msg = f"the source negates what the claim asserts (about '{flipped[0]}')"
        return [Finding("negation", "error", msg, flipped)]
    asserted = sorted(k for k in claim_neg if k in support.keys and k not in support.negated)
    neg = negations(claim)
    if neg and asserted and not support.has_negation:
        msg = f"the claim is negated ('{neg[0]}') but the supporting text is not"
        return [Finding("negation", "error", msg, asserted)]
    if neg and not support.has_negation:
        msg = f"the claim is negated ('{neg[0]}') but the supporting text is not"
        return [Finding("negation", "warning", msg, neg)]
    if not neg and support.has_negation:
        found = negations(support.text)
        msg = f"the supporting text is negated ('{found[0]}') but the claim is not"
        return [Finding("negation", "warning", msg, found[:1])]
    return []


def check_antonyms(claim: str, support: Evidence) -> list[Finding]:
    out = []
    for w in tokens(claim):
        k = stem(w)
        if k in ANTONYMS and k not in support.keys:
            opposite = sorted(a for a in ANTONYMS[k] if a in support.keys)
            if opposite:
                msg = f"'{w}' where the supporting text says '{opposite[0]}'"
                out.append(Finding("antonym", "error", msg, [w]))
    return out


def unsupported_words(claim: str, evidence: Evidence) -> list[str]:
    """Content words of the claim (as written) whose stem is not in `evidence`."""
    seen, out = set(), []
    for t in tokens(claim):
        if t in STOPWORDS or t.isdigit():
            continue
        k = stem(t)
        if k not in seen and not evidence.has_key(k):
            seen.add(k)
            out.append(t)
    return out


def check_extrinsic(claim: str, support: Evidence, sources: Evidence) -> list[Finding]:
    out = []
    novel = unsupported_words(claim, sources)
    if novel:
        listed = ", ".join(f"'{w}'" for w in novel[:8])
        out.append(Finding("extrinsic", "error", f"words in no source: {listed}", novel))
    elsewhere = [w for w in unsupported_words(claim, support) if w not in novel]
    if elsewhere:
        listed = ", ".join(f"'{w}'" for w in elsewhere[:8])
        msg = f"words not in the supporting text: {listed}"
        out.append(Finding("extrinsic", "warning", msg, elsewhere))
    return out


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Whole words of the embedding model's vocabulary (about 22,000 common words).

    Lowercased summaries hide names from `entities`; a word that is in no
    source and is not even a common word is almost always an invented name
    or term. Empty when the model package is missing (the check then stays quiet).
    """
    from summarize.model.embed import model_files

    try:
        vocab = json.loads(model_files()[1].read_text(encoding="utf-8"))["model"]["vocab"]
    except (RuntimeError, OSError, KeyError, ValueError):
        return frozenset()
    return frozenset(w for w in vocab if w.isalpha())


def check_unknown_words(claim: str, sources: Evidence) -> list[Finding]:
    """Words in no source that are not common words either: probably invented names.

    In cased text only capitalised words count (an uncommon lowercase word is
    usually a paraphrase: "incursion", "apprehended")."""
    common = common_words()
    if not common:
        return []

    def familiar(w: str) -> bool:  # "pledges" -> "pledge", "stalled" -> "stall"
        return any(f in common for f in (w, stem(w), w[:-1], w[:-2], w[:-3]))

    # in cased text only a capitalised word can be a name ("Aldermoor pledges ...")
    capitalised = {t.lower() for t in _TOKEN.findall(claim) if t[0].isupper()}
    cased = any(c.isupper() for c in claim)
    unknown = [
        w
        for w in unsupported_words(claim, sources)
        if w.isalpha()
        and len(w) > 2
        and w != "unk"
        and (w in capitalised or not cased)
        and not familiar(w)
    ]
    if not unknown:
        return []
    listed = ", ".join(f"'{w}'" for w in unknown[:8])
    return [Finding("name", "error", f"unfamiliar words in no source (names?): {listed}", unknown)]


def run_checks(
    claim: str,
    spans: Sequence[Span],
    articles: Sequence[Article],
    sources: Evidence | None = None,
) -> list[Finding]:
    """All checks of `claim` against its supporting `spans` and the `articles`.

    Pass `sources` (from `sources_evidence(articles)`) to reuse it across claims.
    """
    support = spans_evidence(spans)
    sources = sources or sources_evidence(articles)
    return [
        *check_numbers(claim, support, sources),
        *check_dates(claim, support, sources),
        *check_entities(claim, support, sources),
        *check_quotes(claim, support, sources),
        *check_negation(claim, support),
        *check_antonyms(claim, support),
        *check_extrinsic(claim, support, sources),
        *check_unknown_words(claim, sources),
    ]
