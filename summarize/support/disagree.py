"""Different values for the same fact across sources (day, date, number, name, place).

A neutral summary must show where outlets disagree instead of silently picking
one version, and a reader must be able to trust that list, so it is built to
report few, real conflicts:

1. Only fact sentences take part: debris is skipped, and so are fragments too short
   to state a fact ("Comments (3)", a bare label).
2. Every value is a *slot*: its kind (day, date, number, place, name), its class
   (for numbers the currency, scale, unit or vote tally: "$84" is never compared with
   "$18 million", "4.6 metres" never with "1,500 people") and its *anchors*, the
   content words around it ("evacuated", "residents", "gates", "shortfall").
3. For each value of one article, the best counterpart in the other article is the
   value of the same kind and class, in an aligned sentence (MiniLM cosine and word
   overlap, as before), sharing at least one anchor; the most similar wins. When that
   counterpart has the same value the outlets agree; when it differs, that is a
   disagreement. So "voted 9-4" is matched with the other outlet's "voted 9-4", not
   with its "defeated 5-8" about another motion.
4. At most `MAX_REPORTED` disagreements per story, most confident first.

Conservative on purpose: a differently worded quote of the same statement has no
differing values, so it is never reported.
"""

from __future__ import annotations

import re

from summarize.corpus import Corpus
from summarize.models import Article, Disagreement, Sentence
from summarize.text.values import WEEKDAYS, Value, extract_values
from summarize.text.words import STOPWORDS, content_words, stem, token_spans

# Two sentences "state the same fact" when their MiniLM cosine is high, or when they share
# enough content words and are not semantically far apart. MiniLM alone misses short
# anaphoric sentences ("This was revealed by Nikkei Asia on Wednesday."), overlap alone
# over-matches, so both are used; thresholds were set on the seed articles.
ALIGN_COSINE = 0.7
ALIGN_OVERLAP = 0.34  # content words shared / words of the shorter sentence
MIN_COSINE = 0.5
NAME_ALIGN = 0.8  # names differ innocently in paraphrases, so demand closer sentences
PLACE_ANCHORS = 2  # ... or, for a place, this many shared anchors ("tested", "university")
MIN_FACT_WORDS = 4  # a "sentence" of fewer words ("Comments (3)") states no fact
NEAR_WINDOW = 3  # words either side of a value that say what it is about ("1,200 residents")
WIDE_WINDOW = 5  # ... and around it: enough to place a place ("tested at ... in Greyhithe")
MAX_REPORTED = 6  # per story: a long list of conflicts is more likely noise than news

# words that never tell which fact a value belongs to: times of day, hedges, fillers
_NOT_ANCHOR = STOPWORDS | frozenset(
    re.findall(
        r"\w+",
        """morning afternoon evening night midnight noon early late last next this week weekend
        day days year years month months some all any only just around roughly nearly almost
        least per whopping new told according could can may might should""",
    )
)
# different words for the same anchor: "1,200 residents" and "1,500 people" count the same
_SAME_ANCHOR = {
    **dict.fromkeys(
        [
            "residents",
            "people",
            "persons",
            "locals",
            "evacuees",
            "inhabitants",
            "citizens",
            "villagers",
        ],
        "people",
    ),
    **dict.fromkeys(["reported", "revealed", "announced", "disclosed"], "reported"),
    **dict.fromkeys(["flee", "fled"], "evacuated"),
}


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def _anchor_key(word: str) -> str:
    """Its stem, cut to five letters: "opened" ~ "open", "evacuated" ~ "evacuation"."""
    word = word.lower().replace("’", "'").removesuffix("'s").strip("'-")
    return stem(_SAME_ANCHOR.get(word, word))[:5]


def _anchor_values(text: str, values: list[Value]) -> None:
    """Give each value the content words within `ANCHOR_WINDOW` words of it."""
    # numbers, days and dates are what is compared, never what a value is about
    spans = [
        (v.start, v.start + len(v.value)) for v in values if v.kind in ("day", "date", "number")
    ]
    tokens = [
        t
        for t in _words_of(text)
        if not any(s < t.end() and t.start() < e for s, e in spans)
        and t.group().lower() not in _NOT_ANCHOR
        and len(t.group()) > 2
        and t.group().lower() not in WEEKDAYS
    ]
    for v in values:
        end = v.start + len(v.value)
        before = [_anchor_key(t.group()) for t in tokens if t.end() <= v.start]
        after = [_anchor_key(t.group()) for t in tokens if t.start() >= end]
        v.anchors = {*before[-NEAR_WINDOW:], *after[:NEAR_WINDOW]}
        v.context = {*before[-WIDE_WINDOW:], *after[:WIDE_WINDOW]}
        v.heads = {*before[-1:], *after[:1]}  # "1,200 residents", "voted 9-4"
        # the nearest content word before and after it, and the preposition right before it
        v.sides = (before[-1:], after[:1], _preposition(text, v.start))
        v.rate = bool(_RATE.match(text[end:]))


# "55.8 births per 1,000 women", "3 a day", "70 percent": a rate or share, not a count
_RATE = re.compile(r"^\s*(?:[\w-]+\s+){0,2}(?:per|a|an|each|every)\b|^\s*(?:%|percent|per ?cent)")

_PREPOSITIONS = frozenset(
    ["by", "from", "in", "since", "until", "till", "to", "before", "after", "of", "on", "at", "for"]
)


def _preposition(text: str, start: int) -> str:
    """The preposition written right before a value ("by 2030", "from 2005"), or ""."""
    words = re.findall(r"[A-Za-z]+", text[max(0, start - 12) : start])
    word = words[-1].lower() if words else ""
    return word if word in _PREPOSITIONS and text[:start].rstrip().lower().endswith(word) else ""


def _same_slot(v: Value, w: Value) -> bool:
    """The words next to two values must not say they are about different things.

    "by 2030" is not "from 2005 levels", "the 2022 midterm" not "in 2024"; for counts,
    "collected 1,626,042 signatures" is not "exceeds the 1,495,709 signatures".
    """
    vb, va, vp = getattr(v, "sides", ([], [], ""))
    wb, wa, wp = getattr(w, "sides", ([], [], ""))
    if (vp and wp and vp != wp) or (v.cls == "year" and vp != wp):
        return False
    if v.kind != "number":
        return True
    if va and wa and va != wa and v.cls != "tally":
        return False  # like with like: "four fire stations" is not "45 firefighters"
    if getattr(v, "rate", False) != getattr(w, "rate", False):
        return False  # a rate ("55.8 births per 1,000 women") is not a count
    return not (vb and wb and vb != wb and va and wa and va != wa)


def _similarities(texts_a: list[str], texts_b: list[str]):
    """Cosine matrix from the packaged MiniLM, or None when it cannot load."""
    try:
        from summarize.model.embed import embed

        return embed(texts_a) @ embed(texts_b).T
    except Exception:  # no model installed: word overlap alone decides
        return None


def _context(sentences: list[Sentence], i: int) -> str:
    """The sentence with its predecessor: "This was revealed on Wednesday" needs what "this" is."""
    return sentences[i].text if i == 0 else f"{sentences[i - 1].text} {sentences[i].text}"


def _phrase(text: str, value: Value, before: int = 6, after: int = 3) -> str:
    """A few words around the value: enough to say what it is about."""
    head = text[: value.start].split()[-before:]
    rest = text[value.start + len(value.value) :]
    tail = " ".join(rest.split()[:after])
    if rest[:1].isspace():
        tail = " " + tail
    return (" ".join(head) + " " + value.value + tail).strip(" ,;:.“”\"'")


def _words_of(text: str) -> list[re.Match]:
    """Its words (tokens that start with a letter), with offsets."""
    return [t for t in token_spans(text) if t.group()[0].isalpha()]


def _is_fact(sentence: Sentence) -> bool:
    return not sentence.debris and len(_words_of(sentence.text)) >= MIN_FACT_WORDS


def find_disagreements(
    sources: Corpus | list[Article], max_reported: int = MAX_REPORTED
) -> list[Disagreement]:
    """Disagreements between every pair of articles, most confident first, at most `max_reported`.

    One entry per conflicting pair of values (kind, value here, value there); when
    several article pairs or sentence pairs show it, the most confident is kept.
    """
    corpus = Corpus.of(sources)
    articles = corpus.lettered
    sentences = [[s for s in corpus.sentences_of(a) if _is_fact(s)] for a in articles]
    best: dict[tuple, tuple[float, Disagreement]] = {}
    for i in range(len(articles)):
        for j in range(i + 1, len(articles)):
            a, b = articles[i], articles[j]
            for score, sa, sb, va, vb in _aligned_conflicts(sentences[i], sentences[j]):
                key = (va.kind, frozenset({va.key, vb.key}))
                if key in best and best[key][0] >= score:
                    continue
                desc = (
                    f"{a.label} says “{_phrase(sa.text, va)}”; "
                    f"{b.label} says “{_phrase(sb.text, vb)}”"
                )
                best[key] = (
                    score,
                    Disagreement(
                        kind=va.kind,
                        description=desc,
                        values=[va.value, vb.value],
                        spans=[a.span(sa.start, sa.end), b.span(sb.start, sb.end)],
                    ),
                )
    ranked = [d for _, d in sorted(best.values(), key=lambda x: -x[0])]
    return [_every_outlet(d, corpus, sentences) for d in ranked[:max_reported]]


def _every_outlet(d: Disagreement, corpus: Corpus, sentences: list[list[Sentence]]) -> Disagreement:
    """The disagreement with every outlet on each side: another article that states one
    of the two values (the same key, in a sentence that shares a content word with that
    side's sentence) joins that side, its passage added to `spans`."""
    sides: list[list[str]] = [[], []]
    spans = list(d.spans)
    by_id = {a.id: a for a in corpus.lettered}
    for i, span in enumerate(d.spans):
        sides[i].append(by_id[span.article_id].label)
    keys = [{v.key for v in extract_values(value)} or {value.lower()} for value in d.values]
    words = [content_words(span.quote) for span in d.spans]
    for article, facts in zip(corpus.lettered, sentences, strict=True):
        if article.id in {s.article_id for s in d.spans}:
            continue
        for sentence in facts:
            mine = {v.key for v in extract_values(sentence.text) if v.kind == d.kind}
            side = next(
                (
                    i
                    for i in (0, 1)
                    if mine & keys[i]
                    and not mine & keys[1 - i]
                    and _overlap(content_words(sentence.text), words[i]) >= ALIGN_OVERLAP
                ),
                None,
            )
            if side is not None:
                if article.label not in sides[side]:
                    sides[side].append(article.label)
                spans.append(article.span(sentence.start, sentence.end))
                break
    if len(spans) == len(d.spans):
        return d
    said = "; ".join(
        f"{_names(names)} {'say' if len(names) > 1 else 'says'} {value}"
        for names, value in zip(sides, d.values, strict=True)
    )
    return d.model_copy(update={"description": f"{d.description} ({said})", "spans": spans})


def _names(labels: list[str]) -> str:
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def _in_compound(text: str, v: Value) -> bool:
    """A number glued to a word or range by a hyphen ("G-7", "June 11-13"): not a count."""
    before = text[: v.start].rstrip()
    return before.endswith("-") and v.cls != "tally"


def _sentence_values(sentences: list[Sentence]) -> list[list[Value]]:
    out = []
    for s in sentences:
        values = extract_values(s.text)
        _anchor_values(s.text, values)
        out.append(values)
    return out


def _aligned_conflicts(sa: list[Sentence], sb: list[Sentence]):
    """(score, sentence a, sentence b, value a, value b) for each value whose best
    counterpart in the other article (same slot, most similar sentence) differs."""
    if not sa or not sb:
        return
    texts_a = [s.text for s in sa] + [_context(sa, i) for i in range(len(sa))]
    texts_b = [s.text for s in sb] + [_context(sb, i) for i in range(len(sb))]
    cos = _similarities(texts_a, texts_b)
    na, nb = len(sa), len(sb)
    values_a = _sentence_values(sa)
    values_b = _sentence_values(sb)
    words_a = [content_words(t) for t in texts_a]
    words_b = [content_words(t) for t in texts_b]
    text_a = " ".join(s.text for s in sa).lower()
    text_b = " ".join(s.text for s in sb).lower()
    places_a = {v.key for vs in values_a for v in vs if v.kind == "place"}
    places_b = {v.key for vs in values_b for v in vs if v.kind == "place"}
    numbers_a = {v.key for vs in values_a for v in vs if v.kind == "number"}
    numbers_b = {v.key for vs in values_b for v in vs if v.kind == "number"}

    sims: dict[tuple[int, int], float] = {}
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
            if aligned:
                sims[x, y] = score

    def counterpart(v: Value, x: int, flip: bool):
        """The best value of the same slot in the other article: (score, y, value)."""
        best = None
        for (p, q), score in sims.items():
            mine, other = (q, p) if flip else (p, q)
            if mine != x:
                continue
            for w in (values_a if flip else values_b)[other]:
                if w.kind != v.kind or w.cls != v.cls:
                    continue
                near, wide = v.anchors & w.anchors, v.context & w.context
                if w.key == v.key and wide:
                    return None  # the other article states the same value for this slot
                if v.kind in ("name", "place"):
                    # names differ innocently in paraphrases: demand close sentences
                    same = (near and score >= NAME_ALIGN) or (
                        v.kind == "place" and len(wide) >= PLACE_ANCHORS
                    )
                elif v.kind == "number":
                    # "voted 9-4" is not "defeated 5-8": the word next to it must match too
                    same = bool(near and v.heads & w.heads) and _same_slot(v, w)
                else:
                    same = bool(near) and _same_slot(v, w)
                if not same:
                    continue
                confidence = score + 0.05 * len(wide)
                if best is None or confidence > best[0]:
                    best = (confidence, other, w)
        return best

    found: dict[tuple, tuple] = {}
    for flip, mine_values in ((False, values_a), (True, values_b)):
        mine_sentences = sb if flip else sa
        for x, values in enumerate(mine_values):
            for v in values:
                # names differ innocently across outlets ("the United States", "President
                # Biden" near the same anchors): too many false conflicts to report
                if v.kind not in ("day", "date", "number", "place"):
                    continue
                if v.kind == "number" and _in_compound(mine_sentences[x].text, v):
                    continue
                match = counterpart(v, x, flip)
                if match is None:
                    continue
                confidence, y, w = match
                va, vb, xa, yb = (w, v, y, x) if flip else (v, w, x, y)
                # a name only conflicts when neither occurs in the other article at all
                if va.kind == "name" and (va.value.lower() in text_b or vb.value.lower() in text_a):
                    continue
                if va.kind == "place" and (va.key in places_b or vb.key in places_a):
                    continue  # the other article also puts something there
                if va.kind == "number" and (va.key in numbers_b or vb.key in numbers_a):
                    continue  # each article states the other's number too: two quantities
                key = (va.kind, va.key, vb.key)
                if key not in found or found[key][0] < confidence:
                    found[key] = (confidence, sa[xa], sb[yb], va, vb)
    yield from found.values()
