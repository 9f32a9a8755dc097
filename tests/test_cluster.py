"""Story clustering: the invented examples, a slice of AllSides dev, and ranking."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from summarize.digest.cluster import PAIR_MODEL, cluster_articles, entity_keys, rank_clusters
from summarize.models import Article
from summarize.sources.ingest import article_from_text, load_articles

REPO = Path(__file__).resolve().parents[1]
ALLSIDES = REPO.parent / "shared" / "data" / "clusters" / "allsides-dev.jsonl"
ARI_FLOOR = 0.72  # measured 0.806 on the first 40 events (undated) with the shipped model


def test_examples_group_by_event_and_single_source_stays_alone():
    articles, problems = load_articles([REPO / "examples" / "articles"])
    assert not problems
    stories = cluster_articles(articles)
    ids = [sorted(a.id for a in s) for s in stories]
    assert len(stories) == 4
    flood = {"aldwen-courier-flood", "kessary-klaxon-dam-gates", "meridian-20261121-0412"}
    fares = {
        "brennmouth-ledger-fare-vote",
        "brennmouth-sentinel-fare-hike",
        "brennmouth-evening-post-fares",
    }
    battery = {"gridline-vellmoor-sodium-cell", "meridian-20261120-1733"}
    assert sorted(ids[:2]) == sorted([sorted(flood), sorted(fares)])  # 3 outlets each: first
    assert ids[2] == sorted(battery)
    assert ids[3] == ["harbour-herald-museum"]  # the single-source story, alone and last


@pytest.mark.slow
def test_allsides_slice_ari_above_floor():
    if not ALLSIDES.is_file():
        pytest.skip("../shared not available")
    from sklearn.metrics import adjusted_rand_score

    articles, gold = [], []
    for line in ALLSIDES.read_text(encoding="utf-8").splitlines()[:40]:
        event = json.loads(line)
        for k, a in enumerate(event["articles"]):
            articles.append(
                article_from_text(
                    a["text"], id=f"{event['event_id']}-{k}", title=a["title"], outlet=a["outlet"]
                )
            )
            gold.append(event["event_id"])
    stories = cluster_articles(articles)
    label = {a.id: n for n, story in enumerate(stories) for a in story}
    assert sum(len(s) for s in stories) == len(articles)
    assert adjusted_rand_score(gold, [label[a.id] for a in articles]) >= ARI_FLOOR


_RESULTS = (
    "{co} reported a quarterly profit of {p} million kronor on Thursday, up from {q} million "
    "a year earlier, as sales at its {town} plant rose {r} percent. Chief executive {ceo} "
    "said the company would keep its full-year forecast. Shares in {co} rose {s} percent in "
    "early trading in Lothby. Analysts at {bank} had expected a profit of {t} million kronor. "
    "The company said demand for its {product} had held up despite higher energy prices, and "
    "that it would hire {h} workers at {town} next year."
)


def _results_day() -> list[Article]:
    """Two outlets on one company's results, and the wire's report of another company's
    results written on the same template."""
    varnholt = dict(co="Varnholt Mills", p="412", q="377", town="Esker Falls", r="9")
    varnholt |= dict(ceo="Idun Sarrow", s="4", bank="Brennick Capital", t="398")
    quellmark = dict(co="Quellmark Steel", p="268", q="301", town="Ferrow Bay", r="3")
    quellmark |= dict(ceo="Matts Ovelin", s="2", bank="Halden Partners", t="280")
    ledger = (
        "Varnholt Mills beat analysts' forecasts with a profit of 412 million kronor for the "
        "quarter, helped by a 9 percent jump in sales at Esker Falls. Idun Sarrow, its chief "
        "executive, told reporters the full-year outlook was unchanged. The stock gained 4 "
        "percent in Lothby. Brennick Capital analysts had pencilled in 398 million kronor. The "
        "paper board maker plans to take on 120 more staff at the Esker Falls site."
    )
    return [
        article_from_text(
            _RESULTS.format(**varnholt, product="paper board", h="120"),
            id="wire-varnholt",
            title="Varnholt Mills profit rises as Esker Falls sales grow",
            outlet="Nordwire",
        ),
        article_from_text(
            ledger, id="ledger-varnholt", title="Varnholt Mills beats forecasts", outlet="Ledger"
        ),
        article_from_text(
            _RESULTS.format(**quellmark, product="steel coil", h="45"),
            id="wire-quellmark",
            title="Quellmark Steel profit falls as Ferrow Bay sales slow",
            outlet="Nordwire",
        ),
    ]


def test_two_events_on_one_template_are_two_stories() -> None:
    """Results stories read alike; the names tell the events apart (the template model:
    without it, the other company's report joins the story)."""
    articles = _results_day()
    stories = [sorted(a.id for a in s) for s in cluster_articles(articles)]
    assert stories == [["ledger-varnholt", "wire-varnholt"], ["wire-quellmark"]]
    plain = replace(PAIR_MODEL, template=None)
    assert len(cluster_articles(articles, model=plain)) == 1  # what the template model fixes


def _a(id: str, outlet: str, hour: int | None) -> Article:
    when = datetime(2026, 11, 22, hour, tzinfo=UTC) if hour is not None else None
    return Article(id=id, outlet=outlet, text="x", published=when)


def test_rank_by_outlets_then_articles_then_recency():
    two_outlets = [_a("a1", "A", 1), _a("a2", "B", 2)]
    same_outlet_three = [_a("b1", "A", 5), _a("b2", "A", 6), _a("b3", "A", 7)]
    one_recent = [_a("c1", "C", 20)]
    one_old = [_a("d1", "D", 3)]
    undated = [_a("e1", "E", None)]
    merged_wire = [_a("f1", "Wire / Paper", 4)]  # a merged duplicate counts both outlets
    ranked = rank_clusters(
        [one_old, undated, one_recent, same_outlet_three, two_outlets, merged_wire]
    )
    assert [g[0].id for g in ranked] == ["a1", "f1", "b1", "c1", "d1", "e1"]


def test_articles_inside_a_story_are_ordered_deterministically():
    group = [_a("z", "A", 9), _a("y", "B", None), _a("x", "C", 9), _a("w", "D", 1)]
    assert [a.id for a in rank_clusters([group])[0]] == ["w", "x", "z", "y"]


def test_entities_skip_sentence_starters_and_keep_numbers():
    found = entity_keys("The Kessary Water Authority said 1,200 people left on Friday. It rained.")
    assert {"kessary", "water", "authority", "1200"} <= found
    assert not {"the", "it", "friday"} & found


def test_trivial_inputs():
    assert cluster_articles([]) == []
    one = _a("only", "A", 1)
    assert cluster_articles([one]) == [[one]]


# ---------------------------------------------------------------- scale-minded parts


def test_sparse_average_linkage_equals_scipy() -> None:
    import numpy as np
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform
    from sklearn.metrics import adjusted_rand_score

    from summarize.digest.cluster import average_linkage, labels

    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 4))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    sim = np.clip(x @ x.T, 0, 1)
    r, c = np.triu_indices(len(x), 1)
    dist = 1 - sim
    np.fill_diagonal(dist, 0)
    tree = linkage(squareform(dist, checks=False), "average")
    for t in (0.3, 0.5, 0.7):
        ours = labels(average_linkage(len(x), r, c, sim[r, c], 1 - t), len(x))
        assert adjusted_rand_score(fcluster(tree, t, "distance"), ours) == 1.0


def test_a_missing_edge_counts_as_zero_and_nothing_merges_below_the_cut() -> None:
    import numpy as np

    from summarize.digest.cluster import average_linkage

    r, c = np.array([0, 1, 3]), np.array([1, 2, 4])
    # 0-1 and 1-2 are close, 0-2 has no edge: {0, 1} and {2} average (0 + 0.9) / 2
    groups = average_linkage(5, r, c, np.array([0.95, 0.9, 0.2]), 0.45)
    assert sorted(groups) == [[0, 1, 2], [3], [4]]
    groups = average_linkage(5, r, c, np.array([0.95, 0.9, 0.2]), 0.46)
    assert sorted(groups) == [[0, 1], [2], [3], [4]]


def test_backgrounds_leave_out_the_own_core_and_pad_with_the_prior() -> None:
    import numpy as np

    from summarize.digest.cluster import backgrounds

    r, c = np.array([0, 0, 1]), np.array([1, 2, 2])
    values = np.array([[0.9], [0.3], [0.5]])
    cores = np.array([0, 0, 1])  # 0 and 1 are one core: their 0.9 is no background
    bg = backgrounds(3, r, c, values, cores, k=2, prior=(0.1,))
    assert np.allclose(bg[:, 0], [(0.3 + 0.1) / 2, (0.5 + 0.1) / 2, (0.5 + 0.3) / 2])
    skip = np.array([False, False, True])  # 1-2 taken for two events on one template
    bg = backgrounds(3, r, c, values, cores, k=2, prior=(0.1,), skip=skip)
    assert np.allclose(bg[:, 0], [(0.3 + 0.1) / 2, 0.1, (0.3 + 0.1) / 2])


@pytest.mark.slow
def test_neighbour_blocking_matches_scoring_every_pair(monkeypatch) -> None:
    """With few neighbours and small blocks (the 20,000-article path), the stories of
    AllSides events come out as when every pair is scored."""
    if not ALLSIDES.is_file():
        pytest.skip("../shared not available")
    import summarize.digest.cluster as cluster

    articles = []
    for line in ALLSIDES.read_text(encoding="utf-8").splitlines()[:15]:
        event = json.loads(line)
        for k, a in enumerate(event["articles"]):
            articles.append(
                article_from_text(a["text"], id=f"{event['event_id']}-{k}", title=a["title"])
            )
    sig = cluster.signals(articles)
    every = cluster.scored_pairs(sig, neighbours=len(articles))  # every pair scored
    exact = {
        frozenset(articles[i].id for i in g)
        for g in cluster.cluster_graph(every, cluster.THRESHOLD)
    }
    assert exact == {frozenset(a.id for a in s) for s in cluster_articles(articles)}
    monkeypatch.setattr(cluster, "BLOCK", 7)
    sig = cluster.signals(articles)  # embeddings asked for afresh
    r, c = cluster.candidate_pairs(sig, neighbours=12)
    assert len(r) < len(articles) * (len(articles) - 1) // 2  # not every pair
    graph = cluster.Graph(sig.n, r, c, cluster.pair_values(sig, r, c), sig)
    groups = cluster.cluster_graph(graph, cluster.THRESHOLD)
    assert {frozenset(articles[i].id for i in g) for g in groups} == exact


def test_a_cut_of_the_merges_is_the_linkage_at_that_cut() -> None:
    import numpy as np
    from sklearn.metrics import adjusted_rand_score

    from summarize.digest.cluster import average_linkage, cut, labels

    rng = np.random.default_rng(3)
    n = 40
    r, c = np.triu_indices(n, 1)
    keep = rng.random(len(r)) < 0.3
    r, c = r[keep], c[keep]
    sims = rng.random(len(r))
    merges: list = []
    average_linkage(n, r, c, sims, 0.05, merges)
    for min_sim in (0.9, 0.6, 0.3, 0.05):
        direct = labels(average_linkage(n, r, c, sims, min_sim), n)
        assert adjusted_rand_score(direct, cut(n, merges, min_sim)) == 1.0
