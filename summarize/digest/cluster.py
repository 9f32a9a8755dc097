"""Group articles about the same event into stories, and rank the stories.

The number of stories in a day is not known in advance, so stories are
average-linkage clusters cut at a threshold; what they are cut on is the
probability that two articles report the same event, from a small pair model
over cheap signals that fail differently:

- TF-IDF cosine (words and word pairs) of the whole text: shared specific wording;
- named-entity overlap (capitalised names, places and figures, weighted by rarity):
  the same people, places and numbers; what separates two events on one topic;
- days apart (publication dates): two events on one topic weeks apart;
- title overlap (TF-IDF of stemmed title words: the event's main verb and its object)
  is computed too, but cross-validation did not keep it (its coefficients are 0);
- embeddings (packaged MiniLM) of the title and first sentence: paraphrase-aware,
  and the only costly signal, so it is computed last and only where it decides;
- lead names: how much of each article's title-and-first-sentence names the other
  article has. Not a term of the pair models (cross-validation did not keep it), but
  of the *template model*: two articles that read alike and share no names are two
  events written on one template (results, earnings, weather), so the pair's
  probability is multiplied by 1 - P(template).

The signals are used as they are and against their *background*: the mean of the
article's `k` highest values of that signal to articles outside its own core
story (the tight groups a first, strict pass finds). Twenty articles about a
pandemic are all similar to each other; what marks two of them as one event is
how far their similarity stands above what the article shares with everything
else. Excluding the core keeps a big story from raising its own bar and splitting.

Two pair models: the *cheap* one (no embedding) scores every pair; the pairs it
leaves uncertain (a probability inside `Pairing.band`) are scored again by the
*full* one, with the embedding of the articles in those pairs only. Every
coefficient, `k`, the core cut, the band and the default threshold were chosen by
cross-validation by event on the AllSides dev events (`benchmarks/bench_cluster.py`);
the template model on twins of those events (the same articles with other names and
figures), judged on twins made by another rewrite.

Scale: nothing is n x n. Each article is compared with its nearest neighbours by
TF-IDF and by entities (sparse products block by block, the commonest terms left out
of the search), every other pair counts as similarity 0, and the average linkage
runs on that sparse graph. An article that fits no story stays its own story:
nothing is ever merged below the cut. Debris ranges are left out of every signal.
"""

from __future__ import annotations

import heapq
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from summarize.models import Article
from summarize.settings import DigestSettings
from summarize.text.values import MONTHS, WEEKDAYS, names, number_key, quantities
from summarize.text.words import STOPWORDS, content_words, stem, tokens

LEAD_WORDS = 40  # words of the first sentence embedded (with the title) at most
# the pair signals, in the order of `Graph.values`; the first three are also used
# against their background
SIGNALS = ("embedding", "tfidf", "entities", "title", "days", "lead names")
RELATIVE = 3
DAYS_CAP = 7.0  # days apart beyond which two articles are as far as can be
# distance (1 - mean same-event probability) at which clusters stop merging: the
# default of the `[digest] threshold` setting, which owns it
THRESHOLD = DigestSettings().threshold
NEIGHBOURS = 30  # nearest neighbours per article and signal that are scored at all
BLOCK = 1024  # rows per block of the neighbour search
SEARCH_MAX_DF = 500  # terms in more articles than this are left out of the search
PAIR_CHUNK = 50_000  # pairs per chunk when their signals are computed
TEMPLATE = (1, 2, 5)  # the template model's signals: tfidf, entities, lead names
TEMPLATE_PAIR = 0.5  # P(template) above which a pair is left out of the backgrounds


@dataclass(frozen=True)
class PairModel:
    """Logistic model of P(same event) for a pair of articles, over `pair_features`:
    the six signals, then embedding, tfidf and entities minus the pair's background.
    A missing signal (an embedding not computed) is 0."""

    coef: tuple[float, ...]
    intercept: float

    def probability(self, features: np.ndarray) -> np.ndarray:
        z = features @ np.asarray(self.coef, dtype=np.float64) + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


@dataclass(frozen=True)
class Pairing:
    """The cheap model for every pair, the full one (with embeddings) for the pairs
    whose cheap probability falls inside `band` (None: no embedding at all).

    `background_k`: neighbours averaged into a background; `core_distance`: the strict
    first pass's cut; `prior`: the background assumed for a missing neighbour."""

    cheap: PairModel
    full: PairModel | None
    band: tuple[float, float] = (0.1, 0.9)
    background_k: int = 5
    core_distance: float = 0.4
    prior: tuple[float, float, float] = (0.5, 0.1, 0.2)
    template: PairModel | None = None


# Fitted by benchmarks/bench_cluster.py on all allsides-dev events (the cross-validated
# choices of features, k, core cut, band and threshold).
PAIR_MODEL = Pairing(
    cheap=PairModel(
        coef=(0.0, 12.339, 3.761, 0.0, -6.745, 0.0, 0.0, 10.582, 0.444), intercept=-2.972
    ),
    full=PairModel(
        coef=(2.577, 1.914, -0.897, 0.0, -2.794, 0.0, 5.172, 2.828, 0.727), intercept=-0.805
    ),
    band=(0.1, 0.9),
    background_k=3,
    core_distance=0.3,
    prior=(0.529, 0.079, 0.393),
    template=PairModel(coef=(14.657, -5.884, -5.602), intercept=-3.936),
)


_SENTENCE_END = re.compile(r"""(?<=[.!?])["'”’)]?\s+(?=["'“‘(]?[A-Z0-9])|\n\s*\n""")
_ABBREVIATION = re.compile(
    r"(?:\b[A-Z]|\b(?:Mr|Mrs|Ms|Dr|St|Jr|Sr|Sen|Rep|Gov|Gen|Lt|Col|No|Vs|vs))\.$"
)


def first_sentence(text: str) -> str:
    """The first sentence of `text` (a stop, then a capital; "Mr." and "U.S." are not
    ends), at most `LEAD_WORDS` words. A regular expression, not the full segmenter:
    it runs on every article of a digest and every remembered lead."""
    head = text.strip()[: LEAD_WORDS * 25]
    for end in _SENTENCE_END.finditer(head):
        before = head[: end.start()].rstrip("\"'”’)")
        if not _ABBREVIATION.search(before):
            head = head[: end.start()]
            break
    return " ".join(head.split()[:LEAD_WORDS])


def lead_text(article: Article) -> str:
    """What is embedded: the title and the first sentence of the clean text."""
    first = first_sentence(article.clean_text())
    return f"{article.title}. {first}" if article.title else first


def _full(article: Article) -> str:
    return f"{article.title}\n{article.clean_text()}"


def entity_keys(text: str) -> set[str]:
    """The words of its names and its figures, lower-cased: "kessary", "authority", "1200".

    Stopwords and calendar words are left out; a whole number below ten says little
    ("5"), "1,200" and "2021" say more.
    """
    words = (w for n in names(text) for w in tokens(n.text))
    found = {w for w in words if w not in STOPWORDS and w not in MONTHS and w not in WEEKDAYS}
    for q in quantities(text):
        if q.kind != "ordinal" and not (q.value.is_integer() and abs(q.value) < 10):
            found.add(number_key(q.value))
    return found


def title_words(title: str) -> list[str]:
    """The stems of a title's content words: "Senate indicts..." -> ["senat", "indict"]."""
    return sorted({stem(w) for w in content_words(title)})


def _days(article: Article) -> float:
    when = _when(article)
    return when.timestamp() / 86400.0 if when is not None else np.nan


# ---------------------------------------------------------------- signals


@dataclass
class Signals:
    """Per-article representations, each row L2-normalised where it is a cosine.

    Embeddings are filled on demand (`embed`): `embedded[i]` says whether row i is."""

    n: int
    leads: list[str]  # what is embedded
    tfidf: object  # scipy CSR (n, vocabulary)
    entity_weights: object  # CSR: idf of each entity key the article has
    entity_present: object  # CSR: 1 for each entity key the article has
    entity_total: np.ndarray  # (n,) sum of an article's entity idf
    lead_weights: object  # CSR: idf of each entity key of the title and first sentence
    lead_total: np.ndarray  # (n,) sum of an article's lead entity idf
    titles: object  # CSR: TF-IDF of the title's stems
    days: np.ndarray  # (n,) publication time in days (NaN: undated)
    vectors: np.ndarray  # (n, 384) float32 embeddings (zeros where not embedded)
    embedded: np.ndarray  # (n,) bool
    embed_fn: object = None
    embed_s: float = 0.0  # seconds spent embedding (the dominant cost)

    def embed(self, rows: np.ndarray) -> None:
        """Embed the leads of `rows` not embedded yet (in one batch)."""
        todo = [int(i) for i in rows if not self.embedded[i]]
        if not todo:
            return
        if self.embed_fn is None:
            from summarize.model.embed import embed as embed_fn

            self.embed_fn = embed_fn
        started = time.perf_counter()
        found = np.asarray(self.embed_fn([self.leads[i] for i in todo]), dtype=np.float32)
        self.embed_s += time.perf_counter() - started
        if self.vectors.shape[1] != found.shape[1]:
            self.vectors = np.zeros((self.n, found.shape[1]), dtype=np.float32)
        self.vectors[todo] = found
        self.embedded[todo] = True


def _tfidf_matrix(texts, **options):
    """Sublinear TF-IDF, rows L2-normalised (an empty vocabulary: one zero column).

    No `max_df`: in a digest of three articles, the event's own words occur in all.
    """
    from scipy.sparse import csr_matrix
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(sublinear_tf=True, dtype=np.float32, **options)
    try:
        return vec.fit_transform(texts).tocsr()
    except ValueError:  # every word a stop word
        return csr_matrix((len(texts), 1), dtype=np.float32)


def _entity_matrices(key_sets: list[set[str]], lead_sets: list[set[str]]):
    """Smoothed idf weights (never 0, so the event's own names count in a tiny digest)
    of each article's keys, 1 for each key it has, the sum of its weights, and the
    weights of the keys of its lead only (`lead_sets[i]` is a subset of `key_sets[i]`)."""
    from scipy.sparse import csr_matrix

    vocab: dict[str, int] = {}
    n = len(key_sets)

    def matrix(sets: list[set[str]]):
        rows, cols = [], []
        for i, keys in enumerate(sets):
            for key in sorted(keys):
                rows.append(i)
                cols.append(vocab.setdefault(key, len(vocab)))
        return rows, cols

    rows, cols = matrix(key_sets)
    shape = (n, max(1, len(vocab)))
    present = csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=shape, dtype=np.float32
    )
    df = np.asarray(present.sum(axis=0)).ravel()
    idf = (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)
    weights = present.multiply(idf[None, :]).tocsr()
    total = np.asarray(weights.sum(axis=1)).ravel().astype(np.float64)
    rows, cols = matrix(lead_sets)
    lead = csr_matrix((idf[cols], (rows, cols)), shape=shape, dtype=np.float32)
    return weights, present, total, lead


def signals(articles: list[Article], embed_fn=None, embed_all: bool = False) -> Signals:
    """The cheap signals of `articles` (debris left out); embeddings come on demand
    (`Signals.embed`), or now for every article with `embed_all`.

    `embed_fn(texts) -> (n, 384) array` defaults to the packaged MiniLM
    (`summarize.model.embed.embed`); a digest with a state folder passes its vector
    cache (`digest.vectors`), benchmarks a memoised one."""
    full = [_full(a) for a in articles]
    keys = [entity_keys(t) for t in full]
    leads = [lead_text(a) for a in articles]
    lead_keys = [entity_keys(t) & k for t, k in zip(leads, keys, strict=True)]
    weights, present, total, lead_weights = _entity_matrices(keys, lead_keys)
    sig = Signals(
        n=len(articles),
        leads=leads,
        tfidf=_tfidf_matrix(full, stop_words="english", ngram_range=(1, 2)),
        entity_weights=weights,
        entity_present=present,
        entity_total=total,
        lead_weights=lead_weights,
        lead_total=np.asarray(lead_weights.sum(axis=1)).ravel().astype(np.float64),
        titles=_tfidf_matrix([a.title or "" for a in articles], analyzer=title_words),
        days=np.array([_days(a) for a in articles], dtype=np.float64),
        vectors=np.zeros((len(articles), 384), dtype=np.float32),
        embedded=np.zeros(len(articles), dtype=bool),
        embed_fn=embed_fn,
    )
    if embed_all:
        sig.embed(np.arange(sig.n))
    return sig


def _sparse_top_k(block, offset: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of the `k` largest stored values of each row of a sparse `block`
    (rows `offset`...), the row's own item left out."""
    block = block.tocsr()
    rows, cols = [], []
    for i in range(block.shape[0]):
        a, b = block.indptr[i], block.indptr[i + 1]
        found, values = block.indices[a:b], block.data[a:b]
        keep = (found != offset + i) & (values > 0)
        found, values = found[keep], values[keep]
        if len(found) > k:
            found = found[np.argpartition(-values, k - 1)[:k]]
        rows.append(np.full(len(found), offset + i, dtype=np.int64))
        cols.append(found.astype(np.int64))
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(rows), np.concatenate(cols)


def _searchable(matrix, max_df: int):
    """`matrix` without its columns stored in more than `max_df` rows."""
    df = np.bincount(matrix.indices, minlength=matrix.shape[1])
    return matrix[:, np.flatnonzero(df <= max_df)].tocsr()


def candidate_pairs(
    sig: Signals, neighbours: int = NEIGHBOURS, queries: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs `(i, j)`, `i < j`, worth scoring: each article with its `neighbours` nearest
    by TF-IDF and by entities (every pair when there are few articles). With `queries`,
    only the first `queries` articles are searched from (the others are only found)."""
    n = sig.n
    q = n if queries is None else queries
    if n < 2 or q == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if n - 1 <= neighbours:
        r, c = np.triu_indices(n, 1)
        keep = r < q
        return r[keep].astype(np.int64), c[keep].astype(np.int64)
    found = []
    max_df = max(SEARCH_MAX_DF, neighbours * 4)  # a fixed cap: the search stays linear
    for left, right in (
        (sig.tfidf, sig.tfidf),
        (sig.entity_weights, sig.entity_present),
    ):
        left, right_t = _searchable(left, max_df), _searchable(right, max_df).T.tocsr()
        for start in range(0, q, BLOCK):
            stop = min(q, start + BLOCK)
            found.append(_sparse_top_k(left[start:stop] @ right_t, start, neighbours))
    r = np.concatenate([f[0] for f in found]).astype(np.int64)
    c = np.concatenate([f[1] for f in found]).astype(np.int64)
    lo, hi = np.minimum(r, c), np.maximum(r, c)
    keys = np.unique(lo * n + hi)
    return keys // n, keys % n


def _rowdot(matrix, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    return np.asarray(matrix[i].multiply(matrix[j]).sum(axis=1)).ravel()


def pair_values(sig: Signals, r: np.ndarray, c: np.ndarray) -> np.ndarray:
    """The signals (`SIGNALS`) of each pair, shape (m, 6), in [0, 1]; the embedding is
    NaN where either article is not embedded."""
    out = np.zeros((len(r), len(SIGNALS)), dtype=np.float64)
    for s in range(0, len(r), PAIR_CHUNK):
        i, j = r[s : s + PAIR_CHUNK], c[s : s + PAIR_CHUNK]
        rows = slice(s, s + len(i))
        out[rows, 1] = _rowdot(sig.tfidf, i, j)
        shared = np.asarray(
            sig.entity_weights[i].multiply(sig.entity_present[j]).sum(axis=1)
        ).ravel()
        least = np.minimum(sig.entity_total[i], sig.entity_total[j])
        out[rows, 2] = np.divide(shared, least, out=np.zeros_like(shared), where=least > 0)
        out[rows, 3] = _rowdot(sig.titles, i, j)
        gap = np.abs(sig.days[i] - sig.days[j])
        out[rows, 4] = np.nan_to_num(gap, nan=0.0) / DAYS_CAP
        out[rows, 5] = _lead_names(sig, i, j, out[rows, 2])
    out = np.clip(out, 0.0, 1.0)
    out[:, 0] = embedding_values(sig, r, c)
    return out


def _lead_names(sig: Signals, i: np.ndarray, j: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """How much of each article's lead names (title and first sentence: who and where
    the event is) the other article has anywhere, the mean of the two ways; a way
    whose lead has no names is left out, and `fallback` (the entity overlap) stands
    for a pair where neither lead has one. Two articles on one template (results,
    earnings) share wording but not these names."""
    total = np.zeros((len(i), 2))
    found = np.zeros((len(i), 2))
    for k, (a, b) in enumerate(((i, j), (j, i))):
        found[:, k] = np.asarray(
            sig.lead_weights[a].multiply(sig.entity_present[b]).sum(axis=1)
        ).ravel()
        total[:, k] = sig.lead_total[a]
    has = total > 0
    share = np.divide(found, total, out=np.zeros_like(found), where=has)
    ways = has.sum(axis=1)
    return np.where(ways > 0, share.sum(axis=1) / np.maximum(ways, 1), fallback)


def embedding_values(sig: Signals, r: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Embedding cosine of each pair, NaN where either article is not embedded."""
    out = np.full(len(r), np.nan)
    both = np.flatnonzero(sig.embedded[r] & sig.embedded[c])
    for s in range(0, len(both), PAIR_CHUNK):
        k = both[s : s + PAIR_CHUNK]
        dots = np.einsum("ij,ij->i", sig.vectors[r[k]], sig.vectors[c[k]])
        out[k] = np.clip(dots, 0.0, 1.0)
    return out


def backgrounds(
    n: int,
    r: np.ndarray,
    c: np.ndarray,
    values: np.ndarray,
    groups: np.ndarray,
    k: int,
    prior: tuple[float, ...],
    skip: np.ndarray | None = None,
) -> np.ndarray:
    """Per article and signal, the mean of its `k` highest values to articles of another
    group (`groups[i]`: its core story), pairs where `skip` is true left out; a missing
    neighbour (or a NaN value) counts as `prior`. (n, signals)"""
    src_all = np.concatenate([r, c])
    dst_all = np.concatenate([c, r])
    other = groups[src_all] != groups[dst_all]
    if skip is not None:
        other &= ~np.concatenate([skip, skip])
    out = np.zeros((n, values.shape[1]))
    for s in range(values.shape[1]):
        val = np.concatenate([values[:, s], values[:, s]])
        keep = other & ~np.isnan(val)
        src, val = src_all[keep], val[keep]
        order = np.lexsort((-val, src))
        src_sorted, val_sorted = src[order], val[order]
        first = np.searchsorted(src_sorted, src_sorted, side="left")
        top = (np.arange(len(src_sorted)) - first) < k
        total = np.bincount(src_sorted[top], weights=val_sorted[top], minlength=n)
        count = np.bincount(src_sorted[top], minlength=n)
        out[:, s] = (total + (k - count) * prior[s]) / k
    return out


def pair_features(values: np.ndarray, bg: np.ndarray, r: np.ndarray, c: np.ndarray):
    """The pair model's features: the signals (`SIGNALS`), then the first `RELATIVE`
    minus the pair's mean background; a missing (NaN) embedding is 0."""
    rel = values[:, :RELATIVE] - (bg[r] + bg[c]) / 2.0
    return np.nan_to_num(np.hstack([values, rel]), nan=0.0)


# ---------------------------------------------------------------- linkage


def average_linkage(
    n: int,
    r: np.ndarray,
    c: np.ndarray,
    sims: np.ndarray,
    min_sim: float,
    merges: list | None = None,
) -> list[list[int]]:
    """Average-linkage (UPGMA) clusters of `n` items from a sparse similarity graph.

    A pair without an edge counts as similarity 0. Two clusters merge while the mean
    similarity over all their pairs is at least `min_sim` (the best pair first), which
    is cutting the dendrogram at distance `1 - min_sim`. Memory and time follow the
    number of edges, not n x n. `merges`, if given, gets each merge as (item, item,
    similarity), best first: a cut at any higher `min_sim` is a prefix (`cut`).
    """
    size = [1] * n
    members: list[list[int] | None] = [[i] for i in range(n)]
    nbr: list[dict[int, float]] = [{} for _ in range(n)]
    for i, j, s in zip(r.tolist(), c.tolist(), sims.tolist(), strict=True):
        if i != j and s > 0:
            nbr[i][j] = nbr[i].get(j, 0.0) + s
            nbr[j][i] = nbr[j].get(i, 0.0) + s
    heap = [
        (-s / (size[i] * size[j]), i, j)
        for i in range(n)
        for j, s in nbr[i].items()
        if i < j and s >= min_sim
    ]
    heapq.heapify(heap)
    while heap:
        neg, a, b = heapq.heappop(heap)
        if members[a] is None or members[b] is None:
            continue
        current = nbr[a].get(b, 0.0) / (size[a] * size[b])
        if current != -neg:
            continue  # stale: the pair's average changed since it was pushed
        if current < min_sim:
            break
        if merges is not None:
            merges.append((a, b, current))
        if len(nbr[a]) < len(nbr[b]):
            a, b = b, a  # fold the smaller neighbourhood into the larger
        for other, s in nbr[b].items():
            if other == a:
                continue
            nbr[a][other] = nbr[a].get(other, 0.0) + s
            theirs = nbr[other]
            theirs[a] = theirs.get(a, 0.0) + s
            del theirs[b]
        nbr[a].pop(b, None)
        nbr[b] = {}
        size[a] += size[b]
        members[a].extend(members[b])
        members[b] = None
        for other, s in nbr[a].items():
            avg = s / (size[a] * size[other])
            if avg >= min_sim:
                heapq.heappush(heap, (-avg, min(a, other), max(a, other)))
    return [sorted(m) for m in members if m is not None]


def cut(n: int, merges: list, min_sim: float) -> np.ndarray:
    """A label per item: the clusters of `average_linkage`'s merges down to `min_sim`."""
    from scipy.cluster.hierarchy import DisjointSet

    sets = DisjointSet(range(n))
    for a, b, sim in merges:
        if sim < min_sim:
            break
        sets.merge(a, b)
    root = {}
    return np.array([root.setdefault(sets[i], len(root)) for i in range(n)], dtype=np.int64)


def labels(groups: list[list[int]], n: int) -> np.ndarray:
    """A label per item (its group's number) from lists of item indexes."""
    out = np.zeros(n, dtype=np.int64)
    for label, group in enumerate(groups):
        out[group] = label
    return out


@dataclass
class Graph:
    """The scored pairs of one set of articles: what every later step works on."""

    n: int
    r: np.ndarray
    c: np.ndarray
    values: np.ndarray  # (m, 6) signals per pair (`SIGNALS`; embedding NaN if not computed)
    sig: Signals | None = None  # where missing embeddings come from
    unsure: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))


def scored_pairs(sig: Signals, neighbours: int = NEIGHBOURS, queries: int | None = None) -> Graph:
    r, c = candidate_pairs(sig, neighbours, queries)
    return Graph(sig.n, r, c, pair_values(sig, r, c), sig)


def core_groups(graph: Graph, core_distance: float) -> np.ndarray:
    """The strict first pass: average linkage on the mean of TF-IDF and entities."""
    raw = graph.values[:, 1:3].mean(axis=1)
    groups = average_linkage(graph.n, graph.r, graph.c, raw, 1.0 - core_distance)
    return labels(groups, graph.n)


def model_probability(
    graph: Graph,
    model: PairModel,
    cores: np.ndarray,
    pairing: Pairing = PAIR_MODEL,
    skip: np.ndarray | None = None,
) -> np.ndarray:
    """P(same event) by `model` for every pair of `graph`, backgrounds outside `cores`
    and without the `skip` pairs (default: `template_pairs`)."""
    if skip is None:
        skip = template_pairs(graph.values, pairing)
    rel = graph.values[:, :RELATIVE]
    bg = backgrounds(
        graph.n,
        graph.r,
        graph.c,
        rel,
        cores,
        pairing.background_k,
        pairing.prior,
        skip,
    )
    return model.probability(pair_features(graph.values, bg, graph.r, graph.c))


def unsure_pairs(p: np.ndarray, band: tuple[float, float]) -> np.ndarray:
    """Which pairs the cheap model leaves uncertain (inside `band`)."""
    return (p > band[0]) & (p < band[1])


def probabilities(
    graph: Graph, model: Pairing = PAIR_MODEL, cores: np.ndarray | None = None
) -> np.ndarray:
    """P(same event) for every scored pair: the cheap model's, and for the pairs it
    leaves uncertain the full model's, after embedding the articles of those pairs
    (only those). `cores` defaults to the strict first pass."""
    if cores is None:
        cores = core_groups(graph, model.core_distance)
    template = template_probability(graph.values, model)  # no embedding in its signals
    skip = template > TEMPLATE_PAIR
    p = model_probability(graph, model.cheap, cores, model, skip)
    unsure = np.zeros(len(p), dtype=bool)
    if model.full is not None and graph.sig is not None:
        unsure = unsure_pairs(p, model.band)
        if unsure.any():
            sig = graph.sig
            sig.embed(np.unique(np.concatenate([graph.r[unsure], graph.c[unsure]])))
            graph.values[:, 0] = embedding_values(sig, graph.r, graph.c)
            p[unsure] = model_probability(graph, model.full, cores, model, skip)[unsure]
    graph.unsure = unsure
    return p * (1.0 - template)


def template_pairs(values: np.ndarray, model: Pairing = PAIR_MODEL) -> np.ndarray:
    """The pairs the template model takes for two events on one template: left out of
    the backgrounds (reading like twenty other results stories does not make an article
    less like the other report of its own result)."""
    return template_probability(values, model) > TEMPLATE_PAIR


def template_probability(values: np.ndarray, model: Pairing = PAIR_MODEL) -> np.ndarray:
    """P(two events on one template | the pair reads alike): the same wording with other
    names, as results, earnings or weather stories are written (0 without the model)."""
    if model.template is None:
        return np.zeros(len(values))
    return model.template.probability(values[:, TEMPLATE])


def cluster_graph(graph: Graph, threshold: float, model: Pairing = PAIR_MODEL) -> list[list[int]]:
    """Clusters (lists of article indexes) of a scored graph cut at distance `threshold`."""
    if graph.n == 0:
        return []
    p = probabilities(graph, model)
    return average_linkage(graph.n, graph.r, graph.c, p, 1.0 - threshold)


# ---------------------------------------------------------------- ranking


def _when(article: Article) -> datetime | None:
    p = article.published
    if p is None:
        return None
    return p if p.tzinfo else p.replace(tzinfo=UTC)


def _outlets(article: Article) -> list[str]:
    from summarize.sources.feeds import outlets_of

    return outlets_of(article) or [article.id]


def order_articles(group: list[Article]) -> list[Article]:
    """Oldest first (ties by id; undated last): the same inputs always give the same
    prompt, so the model response cache stays valid."""
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(group, key=lambda a: (_when(a) is None, _when(a) or oldest, a.id))


def latest(group: list[Article]) -> float:
    """The newest publication time of a group as a timestamp (undated: far past)."""
    oldest = datetime.min.replace(tzinfo=UTC)
    return max((_when(a) or oldest for a in group), default=oldest).timestamp()


def rank_clusters(clusters: list[list[Article]]) -> list[list[Article]]:
    """Most distinct outlets first, then most articles, then most recent.

    Inside a story, articles go oldest first (ties by id), so the same inputs
    always give the same prompt, and the model response cache stays valid.
    """

    def key(group: list[Article]):
        outlets = {o for a in group for o in _outlets(a)}
        return (-len(outlets), -len(group), -latest(group), min(a.id for a in group))

    return sorted((order_articles(g) for g in clusters), key=key)


@dataclass
class Grouping:
    """Stories in rank order, and the embedding of each embedded article's lead (by lead
    text): the continuity matching reuses them."""

    stories: list[list[Article]]
    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    embedded: int = 0  # articles whose lead was embedded (a cache hit counts)
    embed_s: float = 0.0


def group_articles(
    articles: list[Article],
    threshold: float | None = None,
    model: Pairing = PAIR_MODEL,
    embed_fn=None,
) -> Grouping:
    """`cluster_articles`, keeping the lead embeddings that were computed.

    `embed_fn` (default: the packaged MiniLM) is called once at most, with the leads
    of the articles in an uncertain pair; a digest with a state folder passes its
    vector cache (`digest.vectors.VectorCache`)."""
    if not articles:
        return Grouping([])
    threshold = THRESHOLD if threshold is None else threshold
    if len(articles) == 1:
        return Grouping([list(articles)])
    sig = signals(articles, embed_fn)
    groups = cluster_graph(scored_pairs(sig), threshold, model)
    vectors = {sig.leads[i]: sig.vectors[i] for i in np.flatnonzero(sig.embedded)}
    stories = rank_clusters([[articles[i] for i in g] for g in groups])
    return Grouping(stories, vectors, int(sig.embedded.sum()), sig.embed_s)


def cluster_articles(
    articles: list[Article], threshold: float | None = None, model: Pairing = PAIR_MODEL
) -> list[list[Article]]:
    """Stories (lists of articles) in rank order; a lone article is its own story."""
    if len(articles) <= 1:
        return [list(articles)] if articles else []
    return group_articles(articles, threshold, model).stories
