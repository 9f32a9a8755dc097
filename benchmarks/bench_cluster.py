"""Story clustering on AllSides dev: ours vs a plain TF-IDF baseline.

All articles of the 252 events are mixed; the gold story is `event_id`.
Protocol (the same for both methods): events are split in two halves with a
fixed seed; weights and threshold are chosen on the tuning half by B-cubed F1
and reported on the held-out half (and, for reference, on all events).

    .venv/bin/python benchmarks/bench_cluster.py [--data PATH] [--seed 0]
    .venv/bin/python benchmarks/bench_cluster.py --smoke   # 16 events, coarse grids, temp dir

Prints a Markdown table and writes benchmarks/results/cluster.json (`--out`; `--smoke`
writes to a temporary folder: it checks that the script runs, its figures mean little).
"""

from __future__ import annotations

import argparse
import itertools
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
from summarize.sources.ingest import article_from_text  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "clusters" / "allsides-dev.jsonl"
THRESHOLDS = [round(t, 2) for t in np.arange(0.10, 0.99, 0.01)]
STEP = 0.1


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
                    published=event.get("date"),
                )
            )
            gold.append(event["event_id"])
    return articles, gold


def bcubed(pred: list[int], gold: list[int]) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1 (Bagga & Baldwin), averaged over items."""
    pairs = Counter(zip(pred, gold, strict=True))
    pred_n, gold_n = Counter(pred), Counter(gold)
    p = sum(pairs[(c, g)] / pred_n[c] for c, g in zip(pred, gold, strict=True)) / len(pred)
    r = sum(pairs[(c, g)] / gold_n[g] for c, g in zip(pred, gold, strict=True)) / len(pred)
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


def labels(groups: list[list[int]], n: int) -> list[int]:
    out = [0] * n
    for label, group in enumerate(groups):
        for i in group:
            out[i] = label
    return out


def score(sim: np.ndarray, threshold: float, gold: list[int], tree=None) -> dict:
    tree = cluster.average_linkage(sim) if tree is None else tree
    pred = labels(cluster.cut(tree, threshold), len(gold))
    p, r, f = bcubed(pred, gold)
    return {
        "ari": adjusted_rand_score(gold, pred),
        "b3_precision": p,
        "b3_recall": r,
        "b3_f1": f,
        "clusters": len(set(pred)),
    }


def baseline_similarity(articles) -> np.ndarray:
    """Plain TF-IDF (scikit-learn defaults, English stop words) cosine of title + text."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    m = TfidfVectorizer(stop_words="english").fit_transform(
        [f"{a.title}\n{a.text}" for a in articles]
    )
    return np.asarray((m @ m.T).todense())


def weight_grid(step: float = STEP):
    steps = int(round(1 / step))
    for e, t in itertools.product(range(steps + 1), repeat=2):
        if e + t <= steps:
            yield (e * step, t * step, round(1 - (e + t) * step, 2))


def best(
    sims_by_weights: dict, gold: list[int], thresholds: list[float] = THRESHOLDS
) -> tuple[tuple, float, dict]:
    """(weights, threshold, scores) maximising B-cubed F1 (ties: higher ARI)."""
    found = None
    for weights, sim in sims_by_weights.items():
        tree = cluster.average_linkage(sim)
        for t in thresholds:
            s = score(sim, t, gold, tree)
            cand = ((s["b3_f1"], s["ari"]), weights, t, s)
            if found is None or cand[0] > found[0]:
                found = cand
    return found[1], found[2], found[3]


def subset(articles, gold, events):
    keep = [i for i, g in enumerate(gold) if g in events]
    return [articles[i] for i in keep], [gold[i] for i in keep]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--out", type=Path, default=None, help="default benchmarks/results/cluster.json"
    )
    ap.add_argument(
        "--smoke", action="store_true", help="16 events, coarse grids, temp dir: does it run?"
    )
    args = ap.parse_args()
    if args.out is None:
        folder = Path(tempfile.mkdtemp(prefix="bench-cluster-")) if args.smoke else None
        args.out = (folder or ROOT / "benchmarks" / "results") / "cluster.json"
    thresholds = THRESHOLDS[::10] if args.smoke else THRESHOLDS
    grid = list(weight_grid(0.5 if args.smoke else STEP))

    articles, gold = load(args.data, 16 if args.smoke else None)
    events = sorted(set(gold))
    random.Random(args.seed).shuffle(events)
    tune_ev, test_ev = set(events[: len(events) // 2]), set(events[len(events) // 2 :])
    tune_a, tune_g = subset(articles, gold, tune_ev)
    test_a, test_g = subset(articles, gold, test_ev)

    t0 = time.perf_counter()
    tune_parts = cluster.signals(tune_a)
    test_parts = cluster.signals(test_a)
    all_parts = cluster.signals(articles)
    signal_s = time.perf_counter() - t0

    ours_w, ours_t, ours_tune = best(
        {w: cluster.combine(tune_parts, w) for w in grid}, tune_g, thresholds
    )
    base_w, base_t, base_tune = best({"tfidf": baseline_similarity(tune_a)}, tune_g, thresholds)

    rows = {
        "ours": {
            "weights": list(ours_w),
            "threshold": ours_t,
            "tune": ours_tune,
            "test": score(cluster.combine(test_parts, ours_w), ours_t, test_g),
            "all": score(cluster.combine(all_parts, ours_w), ours_t, gold),
        },
        "baseline_tfidf": {
            "threshold": base_t,
            "tune": base_tune,
            "test": score(baseline_similarity(test_a), base_t, test_g),
            "all": score(baseline_similarity(articles), base_t, gold),
        },
    }
    # Each signal alone, same protocol: shows what each contributes.
    for name, w in (("embedding only", (1, 0, 0)), ("entities only", (0, 0, 1))):
        _, t, tune = best({w: cluster.combine(tune_parts, w)}, tune_g, thresholds)
        rows[name] = {
            "threshold": t,
            "tune": tune,
            "test": score(cluster.combine(test_parts, w), t, test_g),
            "all": score(cluster.combine(all_parts, w), t, gold),
        }
    result = {
        "data": str(args.data.name),
        "seed": args.seed,
        "smoke": args.smoke,
        "events": {"tune": len(tune_ev), "test": len(test_ev)},
        "articles": {"tune": len(tune_a), "test": len(test_a), "all": len(articles)},
        "signals_s": round(signal_s, 2),
        "methods": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")

    print(
        f"AllSides dev: {len(events)} events, {len(articles)} articles, seed {args.seed}: "
        f"tuned on {len(tune_ev)} events ({len(tune_a)} articles), "
        f"held out {len(test_ev)} events ({len(test_a)} articles)\n"
    )
    print(
        "| method | weights (emb, tfidf, ent) | threshold | held-out ARI | B³ P | B³ R "
        "| B³ F1 | clusters (gold) | all-events ARI | all-events B³ F1 |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    n_test = len(test_ev)
    for name, row in rows.items():
        s, a = row["test"], row["all"]
        w = ", ".join(f"{x:g}" for x in row["weights"]) if "weights" in row else "-"
        print(
            f"| {name} | {w} | {row['threshold']:.2f} | {s['ari']:.3f} | {s['b3_precision']:.3f} "
            f"| {s['b3_recall']:.3f} | {s['b3_f1']:.3f} | {s['clusters']} ({n_test}) "
            f"| {a['ari']:.3f} | {a['b3_f1']:.3f} |"
        )
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
