"""Fact groups: the same fact as reported by several outlets, ranked for a summary.

A combined summary is worth most where it says what the sources corroborate. So the
story is built from *fact groups*: sentences of different articles that state the
same fact (MiniLM cosine and word overlap, the alignment `support/disagree.py` uses),
at most one sentence per article in a group. Groups are ranked by how many outlets
report them, then by salience (how early the sentences come in their articles and
how central they are to the whole story).

Only sentences that state something take part: page debris, captions, alt text,
a repeated headline, datelines and fragments ("Comments (3)") are left out; a lead
excerpt cut off mid-sentence ("... by former President Donald...") and a sentence that
needs its predecessor ("She also said ...", a quotation with no speaker) rank lower.

A value the outlets disagree on (`find_disagreements`) is never stated as settled:
a member sentence carrying such a value is not usable as written, and a group all
of whose members carry one is `disputed`: it goes only to the disagreements section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from summarize.corpus import Corpus
from summarize.models import Article, Disagreement, Sentence
from summarize.support.disagree import ALIGN_COSINE, ALIGN_OVERLAP, MIN_COSINE
from summarize.text.values import extract_values, quoted
from summarize.text.words import content_words, token_spans

MIN_WORDS = 6  # fewer words than this states no fact worth a summary sentence
MAX_WORDS = 80  # a run-on "sentence" (a list, a table row) is no summary sentence either
LEAD_WEIGHT = 0.6  # salience: how much an early position counts ...
CENTRAL_WEIGHT = 0.4  # ... and how much similarity to the rest of the story
TRUNCATED_FACTOR = 0.7  # a lead excerpt cut off mid-sentence ("... by former President...")
DEPENDENT_FACTOR = 0.6  # a sentence that needs its context ("She said...", a bare quote)
REPEAT_OVERLAP = 0.7  # two groups sharing this share of content words say the same thing

_TRUNCATED = re.compile(r"(?:\.\.\.|…)[\"'”’)]*\s*$")
_ANAPHORA = re.compile(
    r"^[\"“'‘]?(?:this|that|these|those|it|its|he|she|they|his|her|their)\b", re.I
)


@dataclass
class FactGroup:
    """Sentences of different articles stating one fact, best member first."""

    members: list[Sentence]
    outlets: list[str]  # outlet labels, one per member, in member order
    salience: float = 0.0
    # values some outlet states differently (keys, as `extract_values` gives them)
    disputed_values: set[str] = field(default_factory=set)
    disagreements: list[Disagreement] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        return [s.id for s in self.members]

    @property
    def n_outlets(self) -> int:
        return len(set(self.outlets))

    @property
    def usable(self) -> list[Sentence]:
        """Members that do not state a disputed value: the ones a summary may use."""
        return [s for s in self.members if not carries_value(s.text, self.disputed_values)]

    @property
    def disputed(self) -> bool:
        """Every member states a value the outlets disagree on: not a settled fact."""
        return bool(self.disagreements) and not self.usable

    def rank_key(self) -> tuple[int, float]:
        return (self.n_outlets, self.salience)


def _words(text: str) -> int:
    return sum(1 for t in token_spans(text) if t.group()[0].isalpha())


def _norm(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def is_fact_sentence(sentence: Sentence, titles: set[str]) -> bool:
    """A sentence that states something: not debris, a headline, a fragment or cut off."""
    text = sentence.text.strip()
    if sentence.debris or not MIN_WORDS <= _words(text) <= MAX_WORDS:
        return False
    if _norm(text) in titles:  # the headline repeated in the body
        return False
    return not text.endswith(":")  # the lead-in to a list that is not there


def candidate_sentences(corpus: Corpus) -> list[Sentence]:
    """The usable sentences of every lettered article that state a fact, in corpus order."""
    titles = {_norm(a.title) for a in corpus.lettered if a.title.strip()}
    return [s for s in corpus.usable if is_fact_sentence(s, titles)]


def carries_value(text: str, keys: set[str]) -> bool:
    """True when `text` states one of the value keys (a disputed day, number, name...)."""
    if not keys:
        return False
    return any(v.key in keys for v in extract_values(text))


def disputed_keys(disagreements: list[Disagreement]) -> set[str]:
    """The value keys of every disagreement: "wednesday", "thursday", "1200", ..."""
    keys: set[str] = set()
    for d in disagreements:
        for value in d.values:
            keys |= {v.key for v in extract_values(value)}
            keys.add(value.strip().lower())
    return keys


def _similarity(texts: list[str]) -> np.ndarray | None:
    try:
        from summarize.model.embed import embed

        vectors = embed(texts)
        return vectors @ vectors.T
    except Exception:  # no embedding model: word overlap alone decides
        return None


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def _aligned(cosine: float | None, overlap: float) -> bool:
    """The rule of support/disagree.py: close in meaning, or sharing words and not far apart."""
    if cosine is None:
        return overlap >= ALIGN_OVERLAP
    return cosine >= ALIGN_COSINE or (overlap >= ALIGN_OVERLAP and cosine >= MIN_COSINE)


def fact_groups(
    sources: Corpus | list[Article], disagreements: list[Disagreement] | None = None
) -> list[FactGroup]:
    """Every candidate sentence in exactly one group, groups ranked best first.

    Pairs of sentences from different articles are joined, most similar first, as
    long as a group keeps at most one sentence per article (single link: a sentence
    joins a group when it aligns with one member and is not far from the others).
    """
    corpus = Corpus.of(sources)
    sentences = candidate_sentences(corpus)
    if not sentences:
        return []
    by_article = {a.id: a for a in corpus.lettered}
    n = len(sentences)
    sims = _similarity([s.text for s in sentences])
    words = [content_words(s.text) for s in sentences]

    def cos(i: int, j: int) -> float | None:
        return None if sims is None else float(sims[i, j])

    def score(i: int, j: int) -> float:
        c = cos(i, j)
        o = _overlap(words[i], words[j])
        return o if c is None else max(c, o)

    pairs = []
    for i in range(n):
        for j in range(i + 1, n):
            if sentences[i].article_id == sentences[j].article_id:
                continue
            if _aligned(cos(i, j), _overlap(words[i], words[j])):
                pairs.append((score(i, j), i, j))
    group_of = list(range(n))  # union-find over sentence indexes
    members: dict[int, list[int]] = {i: [i] for i in range(n)}

    def find(i: int) -> int:
        while group_of[i] != i:
            group_of[i] = group_of[group_of[i]]
            i = group_of[i]
        return i

    for _, i, j in sorted(pairs, reverse=True):
        gi, gj = find(i), find(j)
        if gi == gj:
            continue
        arts_i = {sentences[k].article_id for k in members[gi]}
        arts_j = {sentences[k].article_id for k in members[gj]}
        if arts_i & arts_j:
            continue  # one sentence per article in a group
        cross = [cos(a, b) for a in members[gi] for b in members[gj]]
        if sims is not None and min(c for c in cross if c is not None) < MIN_COSINE:
            continue  # aligned through one member but far from another
        group_of[gj] = gi
        members[gi] += members.pop(gj)

    # salience: early in its article, and central to the story
    position: dict[int, float] = {}
    for article in corpus.lettered:
        idx = [k for k in range(n) if sentences[k].article_id == article.id]
        for rank, k in enumerate(idx):
            position[k] = 1.0 / (1.0 + rank)
    if sims is not None and n > 1:
        central = (sims.sum(axis=1) - 1.0) / (n - 1)
    else:
        central = np.array([np.mean([_overlap(words[i], w) for w in words]) for i in range(n)])

    disagreements = disagreements or []
    keys = disputed_keys(disagreements)
    groups: list[FactGroup] = []
    for idx in members.values():
        salience = {
            k: (LEAD_WEIGHT * position[k] + CENTRAL_WEIGHT * float(central[k]))
            * (DEPENDENT_FACTOR if is_dependent(sentences[k].text) else 1.0)
            * (TRUNCATED_FACTOR if is_truncated(sentences[k].text) else 1.0)
            for k in idx
        }
        idx = sorted(idx, key=lambda k: -salience[k])
        group = FactGroup(
            members=[sentences[k] for k in idx],
            outlets=[by_article[sentences[k].article_id].label for k in idx],
            salience=float(np.mean(list(salience.values()))),
        )
        touching = [
            d
            for d in disagreements
            if _touches(d, group.members)
            or any(carries_value(s.text, disputed_keys([d])) for s in group.members)
        ]
        if touching:
            group.disputed_values = keys
            group.disagreements = touching
        groups.append(group)
    groups.sort(key=lambda g: g.rank_key(), reverse=True)
    return groups


def _touches(d: Disagreement, sentences: list[Sentence]) -> bool:
    return any(
        s.article_id == span.article_id and s.start < span.end and span.start < s.end
        for span in d.spans
        for s in sentences
    )


def unattributed_quote(text: str, sources: list[Sentence]) -> bool:
    """True when `text` repeats a quotation of its sources (six words or more) without
    quotation marks and without saying who said it: an opinion passed off as fact."""
    if quoted(text) or _SPEECH.search(text):
        return False
    mine = content_words(text)
    for s in sources:
        for q in quoted(s.text):
            words = content_words(q)
            if len(q.split()) < 6 or not words:
                continue
            shared = len(words & mine)
            # most of the quotation repeated, or (a headline) made of the quotation's words
            if shared / len(words) >= 0.6 or (len(mine) >= 4 and shared / len(mine) >= 0.8):
                return True
    return False


def repeats(a: str, b: str) -> bool:
    """Word-level: `a` and `b` share most of the shorter one's content words."""
    return _overlap(content_words(a), content_words(b)) >= REPEAT_OVERLAP


def is_anaphoric(text: str) -> bool:
    """Starts with a pronoun ("This was revealed...", "She also said..."): needs its context."""
    return bool(_ANAPHORA.match(text.strip()))


def is_truncated(text: str) -> bool:
    """Cut off mid-sentence: ends in an ellipsis ("... scrapped by former President Donald...")."""
    return bool(_TRUNCATED.search(text))


def is_bare_quote(text: str) -> bool:
    """A quotation with no speaker in the sentence ("“I am a proven winner ...”")."""
    stripped = text.strip()
    return stripped[:1] in "\"“‘'" and not _SPEECH.search(stripped)


def is_dependent(text: str) -> bool:
    """Needs the sentence before it: a pronoun start, or a quotation with no speaker."""
    stripped = text.strip()
    return is_anaphoric(stripped) or is_bare_quote(stripped)


_SPEECH = re.compile(
    r"\b(?:said|says|told|according to|added|stated|wrote|urged|called|warned|argued|"
    r"reiterated|insisted|noted|asked|tweeted|testified|declared)\b",
    re.I,
)


_FIRST_PERSON = re.compile(r"\b(?:I|[Ww]e|us|[Oo]urs?|[Mm]y|me)\b")


def is_first_person(text: str) -> bool:
    """The writer speaks outside any quotation ("We eat microplastics ..."): an opinion."""
    outside = text
    for q in quoted(text):
        outside = outside.replace(q, " ")
    return bool(_FIRST_PERSON.search(outside))
