"""Candidate source passages for a claim: BM25 (bm25s) + MiniLM embeddings.

The units are the non-debris sentences of all articles, plus windows of two
adjacent sentences (a summary sentence often fuses two). BM25 and content-word
coverage rank every unit cheaply; only a shortlist is embedded (the model is
the slow part on CPU), and embeddings are cached per sentence so a retriever
reused across a summary's sentences embeds each source sentence at most once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import bm25s
import numpy as np

from summarize.corpus import Corpus
from summarize.model.embed import embed
from summarize.models import Article, Sentence
from summarize.support.checks import Evidence
from summarize.text.words import content_keys, key_found, prefixes

W_BM25, W_COVER, W_COS = 0.3, 0.35, 0.35
MAX_COMPLETING = 2  # units added for claim words the best candidates miss


@dataclass
class Candidate:
    """One or two adjacent source sentences, with how well they match the claim."""

    sentences: list[Sentence]
    score: float = 0.0
    bm25: float = 0.0
    coverage: float = 0.0
    cosine: float = 0.0
    keys: set[str] = field(default_factory=set, repr=False)

    @property
    def article_id(self) -> str:
        return self.sentences[0].article_id

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.sentences)


@dataclass
class Retrieval:
    """What a scorer gets for one claim: the retriever's candidates (best first, cited
    ones first, never empty), the articles they come from, and the evidence of all
    sources (debris excluded), computed once per article set."""

    candidates: list[Candidate]
    articles: Sequence[Article]
    sources: Evidence
    # the usable source sentences in article order (premises take a passage's neighbours)
    sentences: Sequence[Sentence] = ()


class Retriever:
    """Index of the usable sentences of a set of articles."""

    def __init__(
        self, sources: Corpus | Sequence[Article], shortlist: int = 4, use_embeddings=True
    ):
        self.corpus = Corpus.of(sources)
        self.articles = self.corpus.articles
        self.shortlist = shortlist
        self.use_embeddings = use_embeddings
        self.sentences: list[Sentence] = self.corpus.usable
        self.by_id = {s.id: s for s in self.sentences}
        # units: index tuples into self.sentences; windows only within one article
        self.units: list[tuple[int, ...]] = [(i,) for i in range(len(self.sentences))]
        for i in range(len(self.sentences) - 1):
            a, b = self.sentences[i], self.sentences[i + 1]
            if a.article_id == b.article_id and _adjacent(a.id, b.id):
                self.units.append((i, i + 1))
        self._sent_keys = [content_keys(s.text) for s in self.sentences]
        self._unit_keys = [set().union(*(self._sent_keys[i] for i in u)) for u in self.units]
        self._unit_prefixes = [prefixes(k) for k in self._unit_keys]
        self._bm25 = None
        if self.sentences:
            self._bm25 = bm25s.BM25()
            corpus = [sum((self._sent_keys[i] for i in u), []) or ["_"] for u in self.units]
            self._bm25.index(corpus, show_progress=False)
        self._emb: dict[int, np.ndarray] = {}

    def _embeddings(self, sentence_indexes: Iterable[int], query: str) -> np.ndarray:
        """Embed the sentences not cached yet together with the query (one model call);
        return the query's vector."""
        todo = sorted({i for i in sentence_indexes if i not in self._emb})
        vectors = embed([query] + [self.sentences[i].text for i in todo])
        self._emb.update(zip(todo, vectors[1:], strict=True))
        return vectors[0]

    def candidates(
        self, claim_text: str, k: int = 8, prefer: Sequence[Sentence] | None = None
    ) -> list[Candidate]:
        """The `k` best units for the claim, best first; units made only of
        `prefer`red (cited) sentences come before all others."""
        if not self.units:
            return []
        keys = content_keys(claim_text) or [w.lower() for w in claim_text.split()]
        key_set = set(keys)
        bm = np.asarray(self._bm25.get_scores(keys), dtype=np.float64)
        bm_norm = bm / bm.max() if bm.max() > 0 else bm
        cover = np.array(
            [
                sum(key_found(x, uk, up) for x in key_set) / max(len(key_set), 1)
                for uk, up in zip(self._unit_keys, self._unit_prefixes, strict=True)
            ]
        )
        lexical = (W_BM25 * bm_norm + W_COVER * cover) / (W_BM25 + W_COVER)
        preferred = {s.id for s in prefer or []}
        is_pref = np.array([all(self.sentences[i].id in preferred for i in u) for u in self.units])
        order = np.lexsort((-lexical, ~is_pref))  # preferred first, then by lexical score
        short = list(order[: max(self.shortlist, k)])
        short += [j for j in np.flatnonzero(is_pref) if j not in short]
        cos = np.zeros(len(self.units))
        if self.use_embeddings:
            q = self._embeddings((i for j in short for i in self.units[j]), claim_text)
            for j in short:
                v = np.sum([self._emb[i] for i in self.units[j]], axis=0)
                cos[j] = float(v @ q / max(np.linalg.norm(v), 1e-12))
            final = W_BM25 * bm_norm + W_COVER * cover + W_COS * cos
        else:
            final = lexical
        short.sort(key=lambda j: (not is_pref[j], -final[j]))
        chosen = short[:k] + self._completing(key_set, short[:k], lexical)
        return [
            Candidate(
                sentences=[self.sentences[i] for i in self.units[j]],
                score=float(final[j]),
                bm25=float(bm[j]),
                coverage=float(cover[j]),
                cosine=float(cos[j]),
                keys=self._unit_keys[j],
            )
            for j in chosen
        ]

    def _completing(self, keys: set[str], chosen: list[int], score: np.ndarray) -> list[int]:
        """Units that hold a claim word the chosen ones miss but a source has ("Tokyo" in
        a sentence that ranks lower than three about "its first office in Asia"): the
        best-scored unit for each such word, at most `MAX_COMPLETING`. Without them a
        claim that fuses two passages could only be judged on one."""

        def has(j: int, key: str) -> bool:
            return key_found(key, self._unit_keys[j], self._unit_prefixes[j])

        missing = {x for x in keys if not any(has(j, x) for j in chosen)}
        extra: list[int] = []
        for key in sorted(missing):
            if len(extra) >= MAX_COMPLETING or any(has(j, key) for j in extra):
                continue
            holders = [j for j in range(len(self.units)) if j not in chosen and has(j, key)]
            if holders:
                extra.append(max(holders, key=lambda j: score[j]))
        return extra


def _adjacent(a: str, b: str) -> bool:
    """True when sentence ids like "A3" and "A4" are consecutive in their article."""
    na, nb = a.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), b.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    return na.isdigit() and nb.isdigit() and int(nb) == int(na) + 1
