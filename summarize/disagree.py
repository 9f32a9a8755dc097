"""Different values for the same fact across sources (day, date, number, name, place).

A neutral summary must show where outlets disagree instead of silently picking
one version. Sentences of different articles that state the same fact are
aligned by similarity (MiniLM embeddings when available, word overlap always);
an aligned pair whose values of one kind are disjoint (Wednesday vs Thursday)
is a disagreement. Conservative on purpose: a differently worded quote of the
same statement has no differing values, so it is never reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .models import Article, Disagreement, Sentence
from .segment import segment

# Two sentences "state the same fact" when their MiniLM cosine is high, or when they share
# enough content words and are not semantically far apart. MiniLM alone misses short
# anaphoric sentences ("This was revealed by Nikkei Asia on Wednesday."), overlap alone
# over-matches, so both are used; thresholds were set on the seed articles.
ALIGN_COSINE = 0.7
ALIGN_OVERLAP = 0.34  # content words shared / words of the shorter sentence
MIN_COSINE = 0.5
NAME_ALIGN = 0.8  # names differ innocently in paraphrases, so demand closer sentences

_WEEKDAY = re.compile(r"\b(mon|tues|wednes|thurs|fri|satur|sun)day\b", re.I)
_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
    "|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_DATE = re.compile(
    rf"\b(?:(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS})\.?(?:,?\s+\d{{4}})?"
    rf"|(?:{_MONTHS})\.?\s+\d{{4}}"
    r"|\d{4}-\d{2}-\d{2})\b",
    re.I,
)
_BARE_MONTH = re.compile(  # "in March"; not "May", which is mostly the verb
    r"\b(?:January|February|March|April|June|July|August|September|October|November|December)\b"
)
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
_SCALE = r"(?:\s*(?:thousand|million|billion|trillion|percent|per cent|%|bn|m|k))?"
_NUMBER = re.compile(
    rf"(?<![\w.])[$€£]?\d+(?:[,.]\d+)*{_SCALE}(?![\w])"
    rf"|\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen|hundred){_SCALE}\b",
    re.I,
)
_ENTITY = re.compile(r"\b[A-Z][\w’'-]*(?:\s+(?:of|the|de|al|for)?\s*[A-Z][\w’'-]*)+")
_PLACE = re.compile(r"\b(?:in|at|near)\s+([A-Z][a-z]+(?:\s+[A-Z][a-z]+)*)")
_NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        re.findall(r"\w+", "zero one two three four five six seven eight nine ten eleven twelve")
    )
}
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    re.findall(
        r"\w+",
        """a an the of to in on at for and or but by with from as is was were be been are it its
        that this these those he she they we you i his her their our said says say will would
        has have had not no also than then there which who what when where after before over
        into about up out more most such like""",
    )
)


@dataclass
class _Value:
    kind: str
    value: str  # as written
    key: str  # normalised for comparison
    start: int  # offset in the sentence


def _key(text: str) -> str:
    return re.sub(r"[\s,’']+", " ", text.lower().replace("’", "'")).strip()


def extract_values(text: str) -> list[_Value]:
    """Values a reader would check: weekdays, dates, numbers/amounts, multi-word names/places."""
    found: list[_Value] = []
    taken: list[tuple[int, int]] = []

    def add(kind: str, m: re.Match, key: str | None = None) -> None:
        if any(s < m.end() and m.start() < e for s, e in taken):
            return
        taken.append((m.start(), m.end()))
        found.append(_Value(kind, m.group(), key or _key(m.group()), m.start()))

    for m in _WEEKDAY.finditer(text):
        add("day", m)
    for m in _DATE.finditer(text):
        add("date", m)
    for m in _YEAR.finditer(text):
        add("date", m)
    for m in _BARE_MONTH.finditer(text):
        add("date", m)
    for m in _NUMBER.finditer(text):
        key = _key(m.group()).lstrip("$€£").replace(",", "")
        first, _, rest = key.partition(" ")
        add("number", m, (_NUMBER_WORDS.get(first, first) + rest).replace(" ", ""))
    for m in _PLACE.finditer(text):
        if not (_WEEKDAY.search(m.group(1)) or _DATE.search(m.group(1))):
            add("place", _Group(m))
    for m in _ENTITY.finditer(text):
        if m.start() == 0 or _WEEKDAY.search(m.group()) or _DATE.search(m.group()):
            continue  # a sentence-initial capital is not evidence of a name
        add("name", m)
    return found


class _Group:
    """Group 1 of a match, looking like a match (the place without its preposition)."""

    def __init__(self, m: re.Match):
        self._m = m

    def start(self) -> int:
        return self._m.start(1)

    def end(self) -> int:
        return self._m.end(1)

    def group(self) -> str:
        return self._m.group(1)


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1}


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def _similarities(texts_a: list[str], texts_b: list[str]):
    """Cosine matrix from the packaged MiniLM, or None when it cannot load."""
    try:
        from .embed import embed

        return embed(texts_a) @ embed(texts_b).T
    except Exception:  # no model installed: word overlap alone decides
        return None


def _context(sentences: list[Sentence], i: int) -> str:
    """The sentence with its predecessor: "This was revealed on Wednesday" needs what "this" is."""
    return sentences[i].text if i == 0 else f"{sentences[i - 1].text} {sentences[i].text}"


def _label(article: Article) -> str:
    return article.outlet or article.id


def _phrase(text: str, value: _Value, words: int = 6) -> str:
    """A few words before the value and the value itself: enough to say what it is about."""
    before = text[: value.start].split()[-words:]
    return " ".join([*before, value.value]).strip(" ,;:“”\"'")


def find_disagreements(articles: list[Article]) -> list[Disagreement]:
    """Disagreements between every pair of articles, most similar sentence pair per value pair."""
    sentences = [[s for s in segment(a) if not s.debris and s.text.strip()] for a in articles]
    best: dict[tuple, tuple[float, Disagreement]] = {}
    for i in range(len(articles)):
        for j in range(i + 1, len(articles)):
            for score, sa, sb, kind, va, vb in _aligned_conflicts(sentences[i], sentences[j]):
                a, b = articles[i], articles[j]
                key = (kind, a.id, b.id, frozenset(v.key for v in va), frozenset(v.key for v in vb))
                if key in best and best[key][0] >= score:
                    continue
                vals_a = ", ".join(v.value for v in va)
                vals_b = ", ".join(v.value for v in vb)
                desc = (
                    f"{_label(a)} says “{_phrase(sa.text, va[0])}”; "
                    f"{_label(b)} says “{_phrase(sb.text, vb[0])}”"
                )
                best[key] = (
                    score,
                    Disagreement(
                        kind=kind,
                        description=desc,
                        values=[vals_a, vals_b],
                        spans=[a.span(sa.start, sa.end), b.span(sb.start, sb.end)],
                    ),
                )
    return [d for _, d in sorted(best.values(), key=lambda x: -x[0])]


def _aligned_conflicts(sa: list[Sentence], sb: list[Sentence]):
    if not sa or not sb:
        return
    texts_a = [s.text for s in sa] + [_context(sa, i) for i in range(len(sa))]
    texts_b = [s.text for s in sb] + [_context(sb, i) for i in range(len(sb))]
    cos = _similarities(texts_a, texts_b)
    na, nb = len(sa), len(sb)
    values_a = [extract_values(s.text) for s in sa]
    values_b = [extract_values(s.text) for s in sb]
    words_a = [_words(t) for t in texts_a]
    words_b = [_words(t) for t in texts_b]
    for x in range(na):
        for y in range(nb):
            if not values_a[x] or not values_b[y]:
                continue
            pairs = [(x, y), (x + na, y), (x, y + nb), (x + na, y + nb)]
            overlap = max(_overlap(words_a[p], words_b[q]) for p, q in pairs)
            cosine = max(float(cos[p, q]) for p, q in pairs) if cos is not None else None
            if cosine is None:
                score, aligned = overlap, overlap >= ALIGN_OVERLAP
            else:
                score = max(cosine, overlap)
                aligned = cosine >= ALIGN_COSINE or (
                    overlap >= ALIGN_OVERLAP and cosine >= MIN_COSINE
                )
            if not aligned:
                continue
            for kind in ("day", "date", "number", "place", "name"):
                va = [v for v in values_a[x] if v.kind == kind]
                vb = [v for v in values_b[y] if v.kind == kind]
                if not va or not vb or {v.key for v in va} & {v.key for v in vb}:
                    continue
                if kind in ("name", "place"):
                    # a name only conflicts when neither side's name occurs in the other
                    # article's sentences at all, and the sentences are close paraphrases
                    if score < NAME_ALIGN:
                        continue
                    text_a = " ".join(s.text for s in sa).lower()
                    text_b = " ".join(s.text for s in sb).lower()
                    va = [v for v in va if v.value.lower() not in text_b]
                    vb = [v for v in vb if v.value.lower() not in text_a]
                    if not va or not vb:
                        continue
                yield score, sa[x], sb[y], kind, va, vb
