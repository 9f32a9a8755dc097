"""Story clustering on AllSides dev: ours vs a plain TF-IDF baseline, held-out events.

All articles of the 252 events are mixed; the gold story is `event_id`.
Protocol (the same for every method): events are split in two halves with a fixed
seed; everything ours has (the pair model's coefficients, the background `k`, the
core cut, the threshold) and the baseline's threshold are chosen on the tuning half
by adjusted Rand index, and reported on the held-out half (and, for reference, on all
events). Publication dates are not used: in this file every article of an event
carries the event's exact timestamp, which would give the answer away.

Big-story guard: a model that only learns "stories are small" (this file's events
have 2–3 articles) would split a story that 12 outlets cover. So each half also gets
a *stress* copy: 10 of its events grow to 11–12 articles with remixes of their own
sentences (other sentences, other order, title words dropped). A configuration is
eligible only if it keeps, on the tuning half's stress copy, at least 90% of each
grown story's articles together ("big kept"); the held-out stress figure is reported.

The pair model is fitted here (logistic regression on the tuning half's scored pairs,
with each article's background taken outside its *gold* story) and the package ships
the coefficients this run prints (`summarize/digest/cluster.py`, `PAIR_MODEL`); the
"ours (shipped)" row runs the package's own defaults, to show they are these.

    .venv/bin/python benchmarks/bench_cluster.py [--data PATH] [--seed 0]
    .venv/bin/python benchmarks/bench_cluster.py --smoke   # 24 events, coarse grids, temp dir

Prints a Markdown table and writes benchmarks/results/cluster.json (`--out`; `--smoke`
writes to a temporary folder: it checks that the script runs, its figures mean little).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from summarize.digest import cluster  # noqa: E402
from summarize.settings import DigestSettings  # noqa: E402
from summarize.sources.ingest import article_from_text  # noqa: E402
from summarize.text.segment import split_sentences  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "clusters" / "allsides-dev.jsonl"
THRESHOLDS = [round(t, 2) for t in np.arange(0.30, 0.99, 0.01)]
BASELINE_THRESHOLDS = [round(t, 2) for t in np.arange(0.10, 0.99, 0.01)]
KS = (3, 5, 8)
CORE_DISTANCES = (0.3, 0.4, 0.5)
BIG_KEPT_MIN = 0.9


def load(path: Path, events: int | None = None):
    articles, gold = [], []
    for line in path.read_text(encoding="utf-8").splitlines()[:events]:
        event = json.loads(line)
        for k, a in enumerate(event["articles"]):
            articles.append(
                article_from_text(
                    a["text"],
                    id=f"{event['event_id']}-{k}",
                    title=a.get("title", ""),
                    outlet=a.get("outlet", ""),
                    url=a.get("url"),
                )
            )
            gold.append(event["event_id"])
    return articles, gold


def bcubed(pred, gold) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1 (Bagga & Baldwin), averaged over items."""
    pred, gold = list(pred), list(gold)
    pairs = Counter(zip(pred, gold, strict=True))
    pred_n, gold_n = Counter(pred), Counter(gold)
    p = sum(pairs[(c, g)] / pred_n[c] for c, g in zip(pred, gold, strict=True)) / len(pred)
    r = sum(pairs[(c, g)] / gold_n[g] for c, g in zip(pred, gold, strict=True)) / len(pred)
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


def scores(pred, gold) -> dict:
    p, r, f = bcubed(pred, gold)
    return {
        "ari": round(float(adjusted_rand_score(gold, pred)), 4),
        "b3_precision": round(p, 4),
        "b3_recall": round(r, 4),
        "b3_f1": round(f, 4),
        "clusters": len(set(pred)),
    }


def big_kept(pred, gold, big) -> float:
    """Mean share of each grown story's articles that sit in its largest predicted story."""
    pred, gold = np.asarray(pred), np.asarray(gold)
    shares = []
    for event in big:
        inside = pred[gold == event]
        shares.append(Counter(inside.tolist()).most_common(1)[0][1] / len(inside))
    return round(float(np.mean(shares)), 4) if shares else 1.0


def stress(articles, gold, seed: int, events: int = 10, per: int = 9):
    """`events` stories grown by `per` remixes of their own sentences each."""
    rng = random.Random(seed)
    big = rng.sample(sorted(set(gold)), min(events, len(set(gold))))
    extra, extra_gold = [], []
    for event in big:
        members = [a for a, g in zip(articles, gold, strict=True) if g == event]
        sentences = [a.text[s:e] for a in members for s, e in split_sentences(a.text)]
        for r in range(per):
            k = max(2, int(len(sentences) * rng.uniform(0.5, 0.8)))
            title = members[rng.randrange(len(members))].title.split()
            extra.append(
                article_from_text(
                    " ".join(rng.sample(sentences, min(k, len(sentences)))),
                    id=f"remix-{event}-{r}",
                    title=" ".join(w for w in title if rng.random() > 0.2),
                    outlet=f"Remix {r}",
                )
            )
            extra_gold.append(event)
    return list(articles) + extra, list(gold) + extra_gold, big


def memo_embed():
    """The packaged embedding, memoised by text: the halves and 'all' share articles."""
    from summarize.model.embed import embed

    seen: dict[str, np.ndarray] = {}

    def run(texts: list[str]) -> np.ndarray:
        todo = sorted({t for t in texts if t not in seen})
        if todo:
            for t, v in zip(todo, embed(todo), strict=True):
                seen[t] = v
        return np.stack([seen[t] for t in texts]) if texts else np.zeros((0, 384))

    return run


def fit(graph: cluster.Graph, gold: np.ndarray, k: int, core_distance: float):
    """The pair model for (k, core distance), fitted on `graph`'s pairs: backgrounds
    outside each article's gold story, prior = their median."""
    from sklearn.linear_model import LogisticRegression

    flat = (0.0, 0.0, 0.0)
    bg = cluster.backgrounds(graph.n, graph.r, graph.c, graph.values, gold, k, flat)
    prior = tuple(round(float(x), 3) for x in np.median(bg, axis=0))
    x = cluster.pair_features(graph.values, bg, graph.r, graph.c)
    y = gold[graph.r] == gold[graph.c]
    lr = LogisticRegression(C=1.0, max_iter=5000).fit(x, y)
    return cluster.PairModel(
        coef=tuple(round(float(v), 3) for v in lr.coef_[0]),
        intercept=round(float(lr.intercept_[0]), 3),
        background_k=k,
        core_distance=core_distance,
        prior=prior,
    )


def run_model(graph: cluster.Graph, model: cluster.PairModel, thresholds):
    """Predicted labels per threshold (the cores and probabilities computed once)."""
    p = cluster.probabilities(graph, model)
    return {
        t: cluster.labels(cluster.average_linkage(graph.n, graph.r, graph.c, p, 1.0 - t), graph.n)
        for t in thresholds
    }


def baseline_labels(articles, thresholds) -> dict:
    """Plain TF-IDF (scikit-learn defaults, English stop words) cosine of title + text,
    average linkage (scipy, dense: the baseline is the simple thing)."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform
    from sklearn.feature_extraction.text import TfidfVectorizer

    m = TfidfVectorizer(stop_words="english").fit_transform(
        [f"{a.title}\n{a.text}" for a in articles]
    )
    dist = 1.0 - np.asarray((m @ m.T).todense())
    np.fill_diagonal(dist, 0.0)
    tree = linkage(squareform(np.clip((dist + dist.T) / 2, 0, None), checks=False), "average")
    return {t: fcluster(tree, t, "distance") for t in thresholds}


def single_signal(graph: cluster.Graph, column: int, thresholds) -> dict:
    v = graph.values[:, column]
    return {
        t: cluster.labels(cluster.average_linkage(graph.n, graph.r, graph.c, v, 1.0 - t), graph.n)
        for t in thresholds
    }


def pick(by_threshold: dict, gold, eligible=lambda t: True):
    """(threshold, labels) with the best ARI on `gold` among eligible thresholds."""
    best = None
    for t, pred in by_threshold.items():
        if not eligible(t):
            continue
        a = adjusted_rand_score(gold, pred)
        if best is None or a > best[0]:
            best = (a, t)
    return best[1] if best else None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--out", type=Path, default=None, help="default benchmarks/results/cluster.json"
    )
    ap.add_argument("--smoke", action="store_true", help="24 events, coarse grids, temp dir")
    args = ap.parse_args()
    if args.out is None:
        folder = Path(tempfile.mkdtemp(prefix="bench-cluster-")) if args.smoke else None
        args.out = (folder or ROOT / "benchmarks" / "results") / "cluster.json"
    thresholds = THRESHOLDS[::10] if args.smoke else THRESHOLDS
    base_thresholds = BASELINE_THRESHOLDS[::10] if args.smoke else BASELINE_THRESHOLDS
    ks, cores = (KS[1:2], CORE_DISTANCES[1:2]) if args.smoke else (KS, CORE_DISTANCES)

    articles, gold = load(args.data, 24 if args.smoke else None)
    events = sorted(set(gold))
    random.Random(args.seed).shuffle(events)
    tune_ev, test_ev = set(events[: len(events) // 2]), set(events[len(events) // 2 :])

    def part(chosen):
        keep = [i for i, g in enumerate(gold) if g in chosen]
        return [articles[i] for i in keep], np.array([gold[i] for i in keep])

    sets = {"tune": part(tune_ev), "test": part(test_ev), "all": (articles, np.array(gold))}
    n_big = 3 if args.smoke else 10
    for name, seed in (("tune", 2), ("test", 1)):
        a, g, big = stress(*sets[name], seed=seed, events=n_big)
        sets[f"{name}_stress"] = (a, np.array(g), big)

    embed_fn = memo_embed()
    started = time.perf_counter()
    graphs = {
        name: cluster.scored_pairs(cluster.signals(value[0], embed_fn))
        for name, value in sets.items()
    }
    signals_s = time.perf_counter() - started
    tune_g, stress_g = sets["tune"][1], sets["tune_stress"][1]
    big_tune = sets["tune_stress"][2]

    # ours: every (k, core cut) fitted on the tuning half, threshold by tuning ARI among
    # those that keep the tuning stress copy's big stories together
    candidates = []
    for k in ks:
        for core_distance in cores:
            model = fit(graphs["tune"], tune_g, k, core_distance)
            tune_pred = run_model(graphs["tune"], model, thresholds)
            stress_pred = run_model(graphs["tune_stress"], model, thresholds)

            def eligible(t, stress_pred=stress_pred):
                return big_kept(stress_pred[t], stress_g, big_tune) >= BIG_KEPT_MIN

            t = pick(tune_pred, tune_g, eligible)
            if t is None:
                continue
            ari = adjusted_rand_score(tune_g, tune_pred[t])
            candidates.append((ari, k, core_distance, t, model))
    candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
    _, k, core_distance, threshold, fitted = candidates[0]

    def report(model, t) -> dict:
        row = {}
        for name in ("tune", "test", "all"):
            (pred,) = run_model(graphs[name], model, [t]).values()
            row[name] = scores(pred, sets[name][1])
        for name in ("tune_stress", "test_stress"):
            (pred,) = run_model(graphs[name], model, [t]).values()
            row[name] = {"big_kept": big_kept(pred, sets[name][1], sets[name][2])}
        return row

    rows = {
        "ours": {
            "model": fitted.__dict__,
            "threshold": threshold,
            **report(fitted, threshold),
        }
    }
    shipped = cluster.PAIR_MODEL
    shipped_t = DigestSettings().threshold
    rows["ours (shipped)"] = {"model": shipped.__dict__, "threshold": shipped_t}
    rows["ours (shipped)"].update(report(shipped, shipped_t))

    base = {name: baseline_labels(sets[name][0], base_thresholds) for name in ("tune",)}
    bt = pick(base["tune"], tune_g)
    rows["baseline_tfidf"] = {"threshold": bt}
    for name in ("tune", "test", "all"):
        (pred,) = baseline_labels(sets[name][0], [bt]).values()
        rows["baseline_tfidf"][name] = scores(pred, sets[name][1])
    for name in ("tune_stress", "test_stress"):
        (pred,) = baseline_labels(sets[name][0], [bt]).values()
        rows["baseline_tfidf"][name] = {"big_kept": big_kept(pred, sets[name][1], sets[name][2])}

    # each signal alone, raw, same protocol: what each contributes
    for label, column in (("embedding only", 0), ("entities only", 2)):
        t = pick(single_signal(graphs["tune"], column, base_thresholds), tune_g)
        rows[label] = {"threshold": t}
        for name in ("tune", "test", "all"):
            (pred,) = single_signal(graphs[name], column, [t]).values()
            rows[label][name] = scores(pred, sets[name][1])
    # the pair model without backgrounds (raw signals only), same protocol
    from sklearn.linear_model import LogisticRegression

    g = graphs["tune"]
    lr = LogisticRegression(C=1.0, max_iter=5000).fit(g.values, tune_g[g.r] == tune_g[g.c])
    raw = cluster.PairModel(
        coef=(*(round(float(v), 3) for v in lr.coef_[0]), 0.0, 0.0, 0.0),
        intercept=round(float(lr.intercept_[0]), 3),
    )
    t = pick(run_model(graphs["tune"], raw, thresholds), tune_g)
    rows["pair model, no background"] = {"threshold": t, **report(raw, t)}

    result = {
        "data": str(args.data.name),
        "seed": args.seed,
        "smoke": args.smoke,
        "events": {"tune": len(tune_ev), "test": len(test_ev)},
        "articles": {name: len(sets[name][0]) for name in sets},
        "signals_s": round(signals_s, 2),
        "chosen": {"k": k, "core_distance": core_distance, "threshold": threshold},
        "grid": [
            {"tune_ari": round(a, 4), "k": kk, "core_distance": cd, "threshold": tt}
            for a, kk, cd, tt, _ in candidates
        ],
        "methods": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")

    print(
        f"AllSides dev: {len(events)} events, {len(articles)} articles, seed {args.seed}: "
        f"tuned on {len(tune_ev)} events ({len(sets['tune'][0])} articles), "
        f"held out {len(test_ev)} events ({len(sets['test'][0])} articles)\n"
    )
    print(
        "| method | threshold | held-out ARI | B³ P | B³ R | B³ F1 | clusters (gold) "
        "| big kept (held-out stress) | tuning ARI | all-events ARI |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, row in rows.items():
        s = row["test"]
        kept = row.get("test_stress", {}).get("big_kept")
        print(
            f"| {name} | {row['threshold']:.2f} | {s['ari']:.3f} | {s['b3_precision']:.3f} "
            f"| {s['b3_recall']:.3f} | {s['b3_f1']:.3f} | {s['clusters']} ({len(test_ev)}) "
            f"| {'-' if kept is None else f'{kept:.2f}'} | {row['tune']['ari']:.3f} "
            f"| {row['all']['ari']:.3f} |"
        )
    print(f"\nfitted: {fitted}\nshipped: {shipped} threshold {shipped_t}")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
