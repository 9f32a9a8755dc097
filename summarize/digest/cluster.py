"""Group articles about the same event into stories, and rank the stories.

The number of stories in a day is not known in advance, so this is
average-linkage agglomerative clustering cut at a distance threshold, over a
combined similarity of three cheap signals that fail differently:

- embeddings (packaged MiniLM) of title + lead: paraphrase-aware, topic-level;
- TF-IDF cosine of the whole text: shared specific wording;
- named-entity overlap (capitalised words and numbers): same people, places,
  figures; what separates two events on the same topic.

Weights and the default threshold were chosen on half of the AllSides dev
events and checked on the other half (`benchmarks/bench_cluster.py`).
Debris ranges are left out of every signal: a "Related" headline list must not
pull unrelated stories together.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from summarize.models import Article
from summarize.settings import DigestSettings
from summarize.text.values import MONTHS, WEEKDAYS, names, number_key, quantities
from summarize.text.words import STOPWORDS, tokens

# Chosen by benchmarks/bench_cluster.py on the tuning half of allsides-dev.
WEIGHTS = (0.5, 0.4, 0.1)  # embedding, tf-idf, entities
# distance (1 - similarity) at which clusters stop merging: the default of the
# `[digest] threshold` setting, which owns it
THRESHOLD = DigestSettings().threshold
LEAD_WORDS = 100


def _lead(article: Article) -> str:
    words = article.clean_text().split()[:LEAD_WORDS]
    return f"{article.title}. {' '.join(words)}" if article.title else " ".join(words)


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


def _cosine_rows(m) -> np.ndarray:
    sim = m @ m.T
    return np.asarray(sim.todense() if hasattr(sim, "todense") else sim, dtype=np.float64)


def tfidf_similarity(texts: list[str]) -> np.ndarray:
    """Cosine of sublinear TF-IDF vectors of words and word pairs (English stop words out).

    No `max_df`: in a digest of three articles, the event's own words occur in all.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    if len(texts) < 2:
        return np.ones((len(texts), len(texts)))
    vec = TfidfVectorizer(sublinear_tf=True, stop_words="english", ngram_range=(1, 2))
    try:
        m = vec.fit_transform(texts)
    except ValueError:  # every word a stop word
        return np.eye(len(texts))
    return _cosine_rows(m)


def entity_similarity(texts: list[str]) -> np.ndarray:
    """Jaccard overlap of the entity sets."""
    sets = [entity_keys(t) for t in texts]
    n = len(sets)
    sim = np.eye(n)
    for i in range(n):
        for j in range(i + 1, n):
            union = len(sets[i] | sets[j])
            sim[i, j] = sim[j, i] = len(sets[i] & sets[j]) / union if union else 0.0
    return sim


def signals(articles: list[Article]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three similarity matrices (embedding, TF-IDF, entity), each n x n."""
    from summarize.model.embed import embed

    leads = [_lead(a) for a in articles]
    full = [f"{a.title}\n{a.clean_text()}" for a in articles]
    vectors = embed(leads).astype(np.float64)
    return vectors @ vectors.T, tfidf_similarity(full), entity_similarity(full)


def combine(parts, weights=WEIGHTS) -> np.ndarray:
    total = sum(w * p for w, p in zip(weights, parts, strict=True)) / sum(weights)
    return np.clip(total, 0.0, 1.0)


def average_linkage(sim: np.ndarray) -> np.ndarray:
    """The scipy linkage matrix of average-linkage clustering on `1 - sim`."""
    from scipy.cluster.hierarchy import linkage
    from scipy.spatial.distance import squareform

    dist = 1.0 - sim
    np.fill_diagonal(dist, 0.0)
    dist = np.clip((dist + dist.T) / 2, 0.0, None)
    return linkage(squareform(dist, checks=False), "average")


def cut(tree: np.ndarray, threshold: float) -> list[list[int]]:
    """Clusters (lists of indexes) of a linkage matrix cut at distance `threshold`."""
    from scipy.cluster.hierarchy import fcluster

    labels = fcluster(tree, threshold, "distance")
    groups: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(int(label), []).append(i)
    return list(groups.values())


def cluster_similarity(sim: np.ndarray, threshold: float) -> list[list[int]]:
    """Average-linkage clusters of a similarity matrix cut at distance `threshold`."""
    if len(sim) <= 1:
        return [[0]] if len(sim) else []
    return cut(average_linkage(sim), threshold)


def _when(article: Article) -> datetime | None:
    p = article.published
    if p is None:
        return None
    return p if p.tzinfo else p.replace(tzinfo=UTC)


def _outlets(article: Article) -> list[str]:
    from summarize.sources.feeds import outlets_of

    return outlets_of(article) or [article.id]


def rank_clusters(clusters: list[list[Article]]) -> list[list[Article]]:
    """Most distinct outlets first, then most articles, then most recent.

    Inside a story, articles go oldest first (ties by id), so the same inputs
    always give the same prompt, and the model response cache stays valid.
    """
    oldest = datetime.min.replace(tzinfo=UTC)

    def inner(a: Article):
        return (_when(a) is None, _when(a) or oldest, a.id)

    def key(group: list[Article]):
        outlets = {o for a in group for o in _outlets(a)}
        latest = max((_when(a) or oldest for a in group), default=oldest)
        return (-len(outlets), -len(group), -latest.timestamp(), min(a.id for a in group))

    return sorted((sorted(g, key=inner) for g in clusters), key=key)


def cluster_articles(
    articles: list[Article], threshold: float | None = None, weights=WEIGHTS
) -> list[list[Article]]:
    """Stories (lists of articles) in rank order; a lone article is its own story."""
    if not articles:
        return []
    threshold = THRESHOLD if threshold is None else threshold
    sim = combine(signals(articles), weights) if len(articles) > 1 else np.ones((1, 1))
    groups = cluster_similarity(sim, threshold)
    return rank_clusters([[articles[i] for i in g] for g in groups])
