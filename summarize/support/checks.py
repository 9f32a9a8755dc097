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
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from summarize.models import Article, Span
from summarize.text.values import (
    ANTONYMS,
    NUMBER_WORDS,
    TENS,
    calendar_words,
    dates,
    entities,
    negated_keys,
    negations,
    quantities,
    quoted,
    rejoin_thousands,
    same_value,
    tallies,
)
from summarize.text.words import (
    STOPWORDS,
    content_keys,
    key_found,
    prefixes,
    stem,
    token_spans,
    token_string,
    tokens,
)

# ---------------------------------------------------------------- sources


@dataclass
class Evidence:
    """Text facts of a body of text, computed once and reused for many claims."""

    text: str
    keys: set[str] = field(init=False)
    prefixes: set[str] = field(init=False)
    values: list[float] = field(init=False)
    amounts: list[float] = field(init=False)  # money: "$3", "3 dollars"
    tallies: set[tuple[int, int]] = field(init=False)
    dates: set[str] = field(init=False)
    lower: str = field(init=False)
    token_string: str = field(init=False)
    has_negation: bool = field(init=False)
    negated: set[str] = field(init=False)

    def __post_init__(self) -> None:
        self.keys = set(content_keys(self.text)) | {stem(t) for t in tokens(self.text)}
        self.prefixes = prefixes(self.keys)
        found = quantities(self.text)
        rejoined = rejoin_thousands(self.text)
        if rejoined != self.text:  # "235, 000" is also read as 235,000
            found += quantities(rejoined)
        self.values = [q.value for q in found]
        self.amounts = [
            q.value for q in found if q.kind == "money" or _currency_after(self.text, q)
        ]
        self.tallies = set(tallies(self.text))
        self.dates = set(dates(self.text)) | calendar_words(self.text)
        self.lower = " ".join(self.text.lower().replace("’", "'").split())
        self.token_string = token_string(self.text)
        self.has_negation = bool(negations(self.text))
        self.negated = negated_keys(self.text)

    def has_value(self, value: float, kind: str = "number") -> bool:
        """The value is here; an amount of money only as an amount ("$4" is not the 4 of
        "7-4")."""
        pool = self.amounts if kind == "money" else self.values
        return any(same_value(value, v) for v in pool)

    def has_name(self, name: str) -> bool:
        return token_string(name) in self.token_string

    def has_key(self, key: str) -> bool:
        return key_found(key, self.keys, self.prefixes)


_CURRENCY_WORD = re.compile(
    r"\s*(?:dollars?|euros?|pounds?|yen|yuan|rupees?|francs?|cents?)\b", re.I
)


def _currency_after(text: str, q) -> bool:
    return bool(_CURRENCY_WORD.match(text, q.end)) if q.end else False


def sources_evidence(articles: Sequence[Article]) -> Evidence:
    """Evidence of all articles together, debris excluded. The outlets' own names count
    as known names: "The Brannock Courier put the number at 60" names a source, not an
    invented entity."""
    outlets = sorted({a.outlet for a in articles if a.outlet})
    return Evidence("\n".join([*(a.clean_text() for a in articles), *outlets]))


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
        if support.has_value(q.value, q.kind):
            continue
        what = {"percent": "percentage", "money": "amount", "year": "year"}.get(q.kind, "number")
        if sources.has_value(q.value, q.kind):
            msg = f"the {what} '{q.text}' is not in the supporting text"
            out.append(Finding("number", "warning", msg, [q.text]))
        else:
            out.append(
                Finding("number", "error", f"the {what} '{q.text}' is in no source", [q.text])
            )
    return out


def check_tallies(claim: str, support: Evidence) -> list[Finding]:
    """A vote or score turned round: the claim's "4-9" where its support says "9-4"."""
    out = []
    for a, b in tallies(claim):
        if (a, b) not in support.tallies and (b, a) in support.tallies:
            msg = f"the sources give {b}-{a}, not {a}-{b}"
            out.append(Finding("number", "error", msg, [f"{a}-{b}"]))
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
        ts = token_string(q)
        if ts.strip() and ts not in support.token_string and ts not in sources.token_string:
            msg = f"the quotation “{q}” does not appear verbatim in any source"
            out.append(Finding("quote", "error", msg, [q]))
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


# Words a paraphrase may add without adding a fact, so a support need not contain them:
# number words (the number check compares their values: "seven votes to four" ~ "7-4"),
# light verbs ("get under way", "cast a vote", "went up"), and neutral reporting verbs
# ("warned", "described ... as" for "said"). Who said it, and which way a verb points,
# are the relation checks' job (structure.py), not word overlap's.
_LIGHT_TEXT = """
get gets got getting go goes went gone going take takes took taken taking make makes made
making let lets put puts keep keeps kept remain remains remained continue continues
continued come comes came give gives gave given cast casts
add adds added note notes noted state states stated warn warns warned describe describes
described call calls called argue argues argued explain explains explained report reports
reported
"""
NOT_TO_COVER = STOPWORDS | frozenset(_LIGHT_TEXT.split()) | NUMBER_WORDS.keys() | TENS.keys()


def unsupported_words(claim: str, evidence: Evidence) -> list[str]:
    """Content words of the claim (as written) whose stem is not in `evidence`."""
    seen, out = set(), []
    for t in tokens(claim):
        if t in NOT_TO_COVER or t.isdigit():
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
    capitalised = {m.group().lower() for m in token_spans(claim) if m.group()[0].isupper()}
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
        *check_tallies(claim, support),
        *check_dates(claim, support, sources),
        *check_entities(claim, support, sources),
        *check_quotes(claim, support, sources),
        *check_negation(claim, support),
        *check_antonyms(claim, support),
        *check_extrinsic(claim, support, sources),
        *check_unknown_words(claim, sources),
    ]
