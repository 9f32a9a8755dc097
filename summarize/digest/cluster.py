"""Group articles about the same event into stories, and rank the stories.

The number of stories in a day is not known in advance, so stories are
average-linkage clusters cut at a threshold; what they are cut on is the
probability that two articles report the same event, from a small pair model
over three cheap signals that fail differently:

- embeddings (packaged MiniLM) of title + lead: paraphrase-aware, topic-level;
- TF-IDF cosine (words and word pairs) of the whole text: shared specific wording;
- named-entity overlap (capitalised names and figures, weighted by rarity): the
  same people, places and numbers; what separates two events on one topic.

Each signal is used as it is and against its *background*: the mean of the
article's `k` highest values of that signal to articles outside its own core
story (the tight groups a first, strict pass finds). Twenty articles about a
pandemic are all similar to each other; what marks two of them as one event is
how far their similarity stands above what the article shares with everything
else. Excluding the core keeps a big story (many outlets, near-copies of one
wire report) from raising its own bar and splitting. The pair model's
coefficients, `k`, the core cut and the default threshold were all chosen on
half of the AllSides dev events and reported on the other half
(`benchmarks/bench_cluster.py`).

Scale: nothing is n x n. Each article is compared with its nearest neighbours
by embedding and by TF-IDF (computed block by block), every other pair counts
as similarity 0, and the average linkage runs on that sparse graph. An article
that fits no story stays its own story: nothing is ever merged below the cut.
Debris ranges are left out of every signal: a "Related" headline list must not
pull unrelated stories together.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from summarize.models import Article
from summarize.settings import DigestSettings
from summarize.text.values import MONTHS, WEEKDAYS, names, number_key, quantities
from summarize.text.words import STOPWORDS, tokens

LEAD_WORDS = 100
SIGNALS = ("embedding", "tfidf", "entities")
# distance (1 - mean same-event probability) at which clusters stop merging: the
# default of the `[digest] threshold` setting, which owns it
THRESHOLD = DigestSettings().threshold
NEIGHBOURS = 30  # nearest neighbours per article and signal that are scored at all
BLOCK = 1024  # rows per block of the neighbour search (memory: BLOCK x n floats)
PAIR_CHUNK = 50_000  # pairs per chunk when their signals are computed


@dataclass(frozen=True)
class PairModel:
    """Logistic model of P(same event) for a pair of articles.

    Features, in order: the three signals (embedding, tfidf, entities), then each
    signal minus the mean of the two articles' backgrounds for it. `prior` is the
    background assumed for a missing neighbour (a digest of few articles).
    """

    coef: tuple[float, ...]
    intercept: float
    background_k: int = 5
    core_distance: float = 0.4
    prior: tuple[float, float, float] = (0.5, 0.1, 0.2)

    def probability(self, features: np.ndarray) -> np.ndarray:
        z = features @ np.asarray(self.coef, dtype=np.float64) + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


# Fitted by benchmarks/bench_cluster.py on the tuning half of allsides-dev (seed 0).
PAIR_MODEL = PairModel(
    coef=(4.386, 2.43, -0.165, 8.081, 3.983, 3.009),
    intercept=-4.777,
    background_k=5,
    core_distance=0.3,
    prior=(0.552, 0.075, 0.383),
)


def lead_text(article: Article) -> str:
    """What is embedded: the title and the first `LEAD_WORDS` words of the clean text."""
    words = article.clean_text().split()[:LEAD_WORDS]
    return f"{article.title}. {' '.join(words)}" if article.title else " ".join(words)


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


# ---------------------------------------------------------------- signals


@dataclass
class Signals:
    """Per-article representations, each row L2-normalised where it is a cosine."""

    n: int
    vectors: np.ndarray  # (n, 384) float32 embeddings
    tfidf: object  # scipy CSR (n, vocabulary)
    entity_weights: object  # CSR: idf of each entity key the article has
    entity_present: object  # CSR: 1 for each entity key the article has
    entity_total: np.ndarray  # (n,) sum of an article's entity idf
    embed_s: float = 0.0  # seconds spent embedding (the dominant cost)


def _tfidf_matrix(texts: list[str]):
    """Sublinear TF-IDF of words and word pairs (English stop words out), rows L2-normalised.

    No `max_df`: in a digest of three articles, the event's own words occur in all.
    """
    from scipy.sparse import csr_matrix
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(
        sublinear_tf=True, stop_words="english", ngram_range=(1, 2), dtype=np.float32
    )
    try:
        return vec.fit_transform(texts).tocsr()
    except ValueError:  # every word a stop word
        return csr_matrix((len(texts), 1), dtype=np.float32)


def _entity_matrices(key_sets: list[set[str]]):
    """Smoothed idf weights (never 0, so the event's own names count in a tiny digest)."""
    from scipy.sparse import csr_matrix

    vocab: dict[str, int] = {}
    rows, cols = [], []
    for i, keys in enumerate(key_sets):
        for key in sorted(keys):
            rows.append(i)
            cols.append(vocab.setdefault(key, len(vocab)))
    n = len(key_sets)
    shape = (n, max(1, len(vocab)))
    present = csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=shape, dtype=np.float32
    )
    df = np.asarray(present.sum(axis=0)).ravel()
    idf = (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)
    weights = present.multiply(idf[None, :]).tocsr()
    total = np.asarray(weights.sum(axis=1)).ravel().astype(np.float64)
    return weights, present, total


def signals(articles: list[Article], embed_fn=None) -> Signals:
    """Embeddings, TF-IDF and entity vectors of `articles` (debris left out).

    `embed_fn(texts) -> (n, 384) array` defaults to the packaged MiniLM
    (`summarize.model.embed.embed`); benchmarks pass a memoised one."""
    import time

    if embed_fn is None:
        from summarize.model.embed import embed as embed_fn

    full = [_full(a) for a in articles]
    started = time.perf_counter()
    vectors = np.asarray(embed_fn([lead_text(a) for a in articles]), dtype=np.float32)
    embed_s = time.perf_counter() - started
    weights, present, total = _entity_matrices([entity_keys(t) for t in full])
    return Signals(
        n=len(articles),
        vectors=vectors,
        tfidf=_tfidf_matrix(full),
        entity_weights=weights,
        entity_present=present,
        entity_total=total,
        embed_s=embed_s,
    )


def _top_k(block: np.ndarray, offset: int, k: int) -> np.ndarray:
    """Column indexes of the `k` largest values of each row, the row's own item left out."""
    rows = np.arange(block.shape[0])
    block[rows, offset + rows] = -np.inf
    return np.argpartition(-block, k - 1, axis=1)[:, :k]


def candidate_pairs(sig: Signals, neighbours: int = NEIGHBOURS) -> tuple[np.ndarray, np.ndarray]:
    """Pairs `(i, j)`, `i < j`, worth scoring: each article with its `neighbours` nearest
    by embedding and by TF-IDF (every pair when there are few articles)."""
    n = sig.n
    if n < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if n - 1 <= neighbours:
        r, c = np.triu_indices(n, 1)
        return r.astype(np.int64), c.astype(np.int64)
    found = []
    tfidf_t = sig.tfidf.T.tocsc()
    for start in range(0, n, BLOCK):
        stop = min(n, start + BLOCK)
        rows = np.repeat(np.arange(start, stop), neighbours)
        emb = sig.vectors[start:stop] @ sig.vectors.T
        found.append((rows, _top_k(emb, start, neighbours).ravel()))
        del emb
        words = (sig.tfidf[start:stop] @ tfidf_t).toarray()
        found.append((rows, _top_k(words, start, neighbours).ravel()))
        del words
    r = np.concatenate([f[0] for f in found])
    c = np.concatenate([f[1] for f in found]).astype(np.int64)
    lo, hi = np.minimum(r, c), np.maximum(r, c)
    keys = np.unique(lo * n + hi)
    return keys // n, keys % n


def pair_values(sig: Signals, r: np.ndarray, c: np.ndarray) -> np.ndarray:
    """The three signals (embedding, tfidf, entities) for each pair, shape (m, 3)."""
    out = np.zeros((len(r), 3), dtype=np.float64)
    for s in range(0, len(r), PAIR_CHUNK):
        i, j = r[s : s + PAIR_CHUNK], c[s : s + PAIR_CHUNK]
        out[s : s + len(i), 0] = np.einsum("ij,ij->i", sig.vectors[i], sig.vectors[j])
        out[s : s + len(i), 1] = np.asarray(sig.tfidf[i].multiply(sig.tfidf[j]).sum(axis=1)).ravel()
        shared = np.asarray(
            sig.entity_weights[i].multiply(sig.entity_present[j]).sum(axis=1)
        ).ravel()
        least = np.minimum(sig.entity_total[i], sig.entity_total[j])
        ratio = np.divide(shared, least, out=np.zeros_like(shared), where=least > 0)
        out[s : s + len(i), 2] = ratio
    return np.clip(out, 0.0, 1.0)


def backgrounds(
    n: int,
    r: np.ndarray,
    c: np.ndarray,
    values: np.ndarray,
    groups: np.ndarray,
    k: int,
    prior: tuple[float, ...],
) -> np.ndarray:
    """Per article and signal, the mean of its `k` highest values to articles of another
    group (`groups[i]`: its core story); a missing neighbour counts as `prior`. (n, 3)"""
    src = np.concatenate([r, c])
    dst = np.concatenate([c, r])
    keep = groups[src] != groups[dst]
    src, dst = src[keep], dst[keep]
    out = np.zeros((n, values.shape[1]))
    for s in range(values.shape[1]):
        val = np.concatenate([values[:, s], values[:, s]])[keep]
        order = np.lexsort((-val, src))
        src_sorted, val_sorted = src[order], val[order]
        first = np.searchsorted(src_sorted, src_sorted, side="left")
        rank = np.arange(len(src_sorted)) - first
        top = rank < k
        total = np.bincount(src_sorted[top], weights=val_sorted[top], minlength=n)
        count = np.bincount(src_sorted[top], minlength=n)
        out[:, s] = (total + (k - count) * prior[s]) / k
    return out


def pair_features(values: np.ndarray, bg: np.ndarray, r: np.ndarray, c: np.ndarray):
    """The pair model's features: the signals, then each minus the pair's mean background."""
    return np.hstack([values, values - (bg[r] + bg[c]) / 2.0])


# ---------------------------------------------------------------- linkage


def average_linkage(
    n: int, r: np.ndarray, c: np.ndarray, sims: np.ndarray, min_sim: float
) -> list[list[int]]:
    """Average-linkage (UPGMA) clusters of `n` items from a sparse similarity graph.

    A pair without an edge counts as similarity 0. Two clusters merge while the mean
    similarity over all their pairs is at least `min_sim` (the best pair first), which
    is cutting the dendrogram at distance `1 - min_sim`. Memory and time follow the
    number of edges, not n x n.
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
    values: np.ndarray  # (m, 3) signals per pair
    cores: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def scored_pairs(sig: Signals, neighbours: int = NEIGHBOURS) -> Graph:
    r, c = candidate_pairs(sig, neighbours)
    return Graph(sig.n, r, c, pair_values(sig, r, c))


def core_groups(graph: Graph, core_distance: float) -> np.ndarray:
    """The strict first pass: average linkage on the mean of the raw signals."""
    raw = graph.values.mean(axis=1)
    groups = average_linkage(graph.n, graph.r, graph.c, raw, 1.0 - core_distance)
    return labels(groups, graph.n)


def probabilities(
    graph: Graph, model: PairModel = PAIR_MODEL, cores: np.ndarray | None = None
) -> np.ndarray:
    """P(same event) for every scored pair; `cores` defaults to the strict first pass."""
    if cores is None:
        cores = core_groups(graph, model.core_distance)
    k, prior = model.background_k, model.prior
    bg = backgrounds(graph.n, graph.r, graph.c, graph.values, cores, k, prior)
    return model.probability(pair_features(graph.values, bg, graph.r, graph.c))


def cluster_graph(graph: Graph, threshold: float, model: PairModel = PAIR_MODEL) -> list[list[int]]:
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
    """Stories in rank order, and the embedding of each article's lead (by lead text),
    which the digest's state keeps so tomorrow's run need not embed them again."""

    stories: list[list[Article]]
    vectors: dict[str, np.ndarray] = field(default_factory=dict)


def group_articles(
    articles: list[Article],
    threshold: float | None = None,
    model: PairModel = PAIR_MODEL,
    embed_fn=None,
) -> Grouping:
    """`cluster_articles`, keeping the lead embeddings."""
    if not articles:
        return Grouping([])
    threshold = THRESHOLD if threshold is None else threshold
    sig = signals(articles, embed_fn)
    vectors = {lead_text(a): sig.vectors[i] for i, a in enumerate(articles)}
    if len(articles) == 1:
        return Grouping([list(articles)], vectors)
    groups = cluster_graph(scored_pairs(sig), threshold, model)
    return Grouping(rank_clusters([[articles[i] for i in g] for g in groups]), vectors)


def cluster_articles(
    articles: list[Article], threshold: float | None = None, model: PairModel = PAIR_MODEL
) -> list[list[Article]]:
    """Stories (lists of articles) in rank order; a lone article is its own story."""
    if len(articles) <= 1:
        return [list(articles)] if articles else []
    return group_articles(articles, threshold, model).stories
