"""Grouping (and validating) at scale: 1,000, 5,000 and 20,000 articles.

Synthetic days made of the AllSides dev events: replica 0 of an event is the event
itself; replica r > 0 is a *different* event on the same topic: every capitalised
word of its articles (names, places, organisations) is swapped for an invented one
(the same swap throughout the replica), every figure is scaled, and ids, URLs and
outlets get the replica's number. So a 20,000-article day holds about 6,800 events,
many on the same topics, with shared topic words but distinct names and figures.
The gold story is (event, replica).

Each size runs in a fresh process, which reports its own time per phase and its
peak resident memory (`resource.getrusage`, ru_maxrss). Phases: embedding (the
packaged MiniLM on title + lead), the other signals (TF-IDF, entities), the
neighbour search and pair scoring, and the clustering (two passes of sparse
average linkage). Then, on up to `--validate` stories (all of them by default), a
fixed one-sentence summary per story (the first sentence of its first article, which
the sources support) is checked with the `rules` validator, as `summarize digest`
checks every sentence a model writes.

    .venv/bin/python benchmarks/bench_scale.py [--sizes 1000 5000 20000] [--validate N]
    .venv/bin/python benchmarks/bench_scale.py --smoke   # 100 articles, 20 validated, temp dir

Prints a Markdown table and writes benchmarks/results/scale.json (`--out`). The
20,000 run takes about half an hour on 2 CPU cores, most of it embedding.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATA = ROOT.parent / "shared" / "data" / "clusters" / "allsides-dev.jsonl"
_CAPS = re.compile(r"\b[A-Z][a-z]+\b")
_NUMBER = re.compile(r"\b\d[\d,]*(?:\.\d+)?\b")
_SYLLABLES = [
    "ka",
    "lo",
    "ven",
    "dri",
    "mar",
    "tus",
    "bel",
    "qui",
    "ran",
    "sol",
    "fen",
    "dor",
    "lis",
    "gar",
    "mun",
    "tez",
]


def _invented(word: str, replica: int) -> str:
    rng = random.Random(f"{word}/{replica}")
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.choice((2, 3)))).capitalize()


def perturb(text: str, replica: int) -> str:
    """Names swapped for invented ones, figures scaled: another event, same topic."""
    if replica == 0:
        return text
    factor = 1 + replica * 0.37

    def number(m: re.Match) -> str:
        raw = m.group().replace(",", "")
        try:
            value = float(raw) * factor
        except ValueError:
            return m.group()
        return f"{value:,.0f}" if "." not in raw else f"{value:,.1f}"

    text = _CAPS.sub(lambda m: _invented(m.group(), replica), text)
    return _NUMBER.sub(number, text)


def synthetic(n: int):
    """`n` articles (whole events, replicas in turn) and their gold labels."""
    from summarize.sources.ingest import article_from_text

    events = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]
    articles, gold = [], []
    replica = 0
    while len(articles) < n:
        for event in events:
            for k, a in enumerate(event["articles"]):
                if len(articles) >= n:
                    break
                articles.append(
                    article_from_text(
                        perturb(a["text"], replica),
                        id=f"{event['event_id']}-r{replica}-{k}",
                        title=perturb(a["title"], replica),
                        outlet=f"{a['outlet']} #{replica}" if replica else a["outlet"],
                        url=f"{a['url']}?replica={replica}",
                    )
                )
                gold.append(f"{event['event_id']}-r{replica}")
        replica += 1
    return articles, gold


def peak_mb() -> float:
    """This process's peak resident memory so far (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def one(n: int, validate: int | None) -> dict:
    """Group (and validate) `n` synthetic articles in this process; the figures."""
    from sklearn.metrics import adjusted_rand_score

    from summarize.digest import cluster
    from summarize.model.embed import embed, load

    articles, gold = synthetic(n)
    load()  # the model's load is not the grouping's cost
    base_mb = peak_mb()
    times = {}
    started = time.perf_counter()
    t = time.perf_counter()
    sig = cluster.signals(articles, embed_fn=embed)
    times["embedding_s"] = sig.embed_s
    times["tfidf_entities_s"] = time.perf_counter() - t - sig.embed_s
    t = time.perf_counter()
    graph = cluster.scored_pairs(sig)
    times["neighbours_and_pairs_s"] = time.perf_counter() - t
    t = time.perf_counter()
    groups = cluster.cluster_graph(graph, cluster.THRESHOLD)
    times["linkage_s"] = time.perf_counter() - t
    grouping_s = time.perf_counter() - started
    grouping_mb = peak_mb()
    pred = cluster.labels(groups, len(articles))
    from bench_cluster import bcubed

    p, r, f = bcubed(pred.tolist(), gold)
    result = {
        "articles": n,
        "stories": len(groups),
        "gold_stories": len(set(gold)),
        "pairs_scored": len(graph.r),
        "pairs_per_article": round(len(graph.r) / n, 1),
        "seconds": {k: round(v, 2) for k, v in times.items()},
        "grouping_s": round(grouping_s, 2),
        "grouping_s_without_embedding": round(grouping_s - sig.embed_s, 2),
        "peak_rss_mb_before": base_mb,
        "peak_rss_mb_grouping": grouping_mb,
        "ari": round(float(adjusted_rand_score(gold, pred)), 4),
        "b3_precision": round(p, 4),
        "b3_recall": round(r, 4),
        "b3_f1": round(f, 4),
        "dense_matrix_mb_avoided": round(n * n * 8 / 2**20, 1),
    }
    del graph, sig
    if validate != 0:
        from summarize.support.validator import Validator
        from summarize.text.segment import split_sentences

        validator = Validator("rules")
        chosen = groups if validate is None else groups[:validate]
        t = time.perf_counter()
        supported = 0
        for g in chosen:
            story = [articles[i] for i in g]
            text = story[0].clean_text()
            start, end = next(iter(split_sentences(text)), (0, len(text)))
            report = validator.validate(story, text[start:end].strip() or story[0].title)
            supported += int(report.all_supported)
        took = time.perf_counter() - t
        result["validation"] = {
            "stories": len(chosen),
            "seconds": round(took, 2),
            "stories_per_s": round(len(chosen) / took, 1) if took else None,
            "supported": supported,
            "peak_rss_mb": peak_mb(),
        }
    result["peak_rss_mb"] = peak_mb()
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
    ap.add_argument(
        "--validate", type=int, default=None, help="stories validated per size (default all)"
    )
    ap.add_argument("--out", type=Path, default=None, help="default benchmarks/results/scale.json")
    ap.add_argument("--smoke", action="store_true", help="100 articles, 20 validated, temp dir")
    ap.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one is not None:  # the child: one size, its figures as JSON on stdout
        sys.path.insert(0, str(ROOT / "benchmarks"))
        print(json.dumps(one(args.one, args.validate)))
        return
    if args.smoke:
        args.sizes = [100]
        args.validate = 20 if args.validate is None else args.validate
    if args.out is None:
        folder = Path(tempfile.mkdtemp(prefix="bench-scale-")) if args.smoke else None
        args.out = (folder or ROOT / "benchmarks" / "results") / "scale.json"

    runs = []
    for n in args.sizes:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--one", str(n)]
        if args.validate is not None:
            cmd += ["--validate", str(args.validate)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            sys.exit(f"size {n} failed:\n{proc.stderr[-3000:]}")
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(f"{n} articles: {runs[-1]['grouping_s']} s", file=sys.stderr, flush=True)
    result = {"smoke": args.smoke, "machine": "2 CPU cores, no GPU", "runs": runs}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")

    print(
        "| articles | stories (gold) | pairs scored / article | embedding | other signals "
        "| neighbours + pairs | linkage | grouping total | peak RSS | ARI | B³ F1 "
        "| validation (stories/s) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        s = r["seconds"]
        v = r.get("validation")
        val = f"{v['seconds']:.0f} s ({v['stories_per_s']})" if v else "-"
        print(
            f"| {r['articles']:,} | {r['stories']:,} ({r['gold_stories']:,}) "
            f"| {r['pairs_per_article']} | {s['embedding_s']:.0f} s "
            f"| {s['tfidf_entities_s']:.1f} s | {s['neighbours_and_pairs_s']:.1f} s "
            f"| {s['linkage_s']:.1f} s | {r['grouping_s']:.0f} s | {r['peak_rss_mb']:,.0f} MB "
            f"| {r['ari']:.3f} | {r['b3_f1']:.3f} | {val} |"
        )
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
