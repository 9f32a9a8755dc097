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
import functools
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

THROUGHPUT_TEXTS = 300  # leads timed against the plain onnxruntime loop
CACHE_CHECK_MAX = 5000  # articles at most in the run that also checks the vector cache
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


@functools.cache
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


def plain_loop(texts: list[str]) -> np.ndarray:
    """The reference: a plain onnxruntime loop (default session options, one text a
    run, mean pooling), over the same model and tokenizer."""
    import onnxruntime as ort
    from tokenizers import Tokenizer

    from summarize.model.embed import MAX_TOKENS, model_files

    onnx, tok_path = model_files()
    tokenizer = Tokenizer.from_file(str(tok_path))
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    session = ort.InferenceSession(str(onnx), providers=["CPUExecutionProvider"])
    out = []
    for text in texts:
        enc = tokenizer.encode(text)
        ids = np.array([enc.ids], dtype=np.int64)
        mask = np.array([enc.attention_mask], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = session.run(None, feeds)[0]
        v = (hidden * mask[:, :, None]).sum(axis=1) / mask.sum()
        out.append(v[0] / np.linalg.norm(v[0]))
    return np.stack(out)


def throughput(texts: list[str]) -> dict:
    """Articles per second: the package's batched `embed` vs the plain loop, same texts."""
    from summarize.model.embed import embed

    t = time.perf_counter()
    ours = embed(texts)
    ours_s = time.perf_counter() - t
    t = time.perf_counter()
    plain = plain_loop(texts)
    plain_s = time.perf_counter() - t
    return {
        "texts": len(texts),
        "ours_per_s": round(len(texts) / ours_s, 1),
        "plain_onnxruntime_per_s": round(len(texts) / plain_s, 1),
        "max_abs_difference": round(float(np.abs(ours - plain).max()), 4),
    }


def cache_check(articles) -> dict:
    """Group the same articles twice through one vector cache folder (a fresh cache
    object each time, as two digests would): what the second run embeds."""
    from summarize.digest import cluster
    from summarize.digest.vectors import VectorCache

    out = {}
    with tempfile.TemporaryDirectory() as folder:
        for run in ("first", "second"):
            cache = VectorCache(folder)
            t = time.perf_counter()
            grouping = cluster.group_articles(articles, embed_fn=cache)
            cache.save()
            out[run] = {
                "embedded": cache.embedded,
                "cache_hits": cache.hits,
                "grouping_s": round(time.perf_counter() - t, 2),
                "stories": len(grouping.stories),
            }
        out["cache_file_mb"] = round((Path(folder) / "vectors.npz").stat().st_size / 2**20, 2)
    return out


def cpu_s() -> float:
    """CPU seconds this process has used (all its threads): on shared cores, what the
    work cost, where wall time also counts the other jobs' turns."""
    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


def progress(n: int, figures: dict) -> None:
    """Each stage's figures on stderr as they come (a long run that is stopped keeps them)."""
    shown = {k: round(v, 2) if isinstance(v, float) else v for k, v in figures.items()}
    print(f"{n}: {shown} peak {peak_mb()} MB", file=sys.stderr, flush=True)


def one(n: int, validate: int | None, check_cache: bool = False) -> dict:
    """Group (and validate) `n` synthetic articles in this process; the figures."""
    from sklearn.metrics import adjusted_rand_score

    from summarize.digest import cluster
    from summarize.model.embed import embed, load

    t = time.perf_counter()
    articles, gold = synthetic(n)
    progress(n, {"synthetic_s": time.perf_counter() - t})
    load()  # the model's load is not the grouping's cost
    base_mb = peak_mb()
    times = {}
    started, cpu_started = time.perf_counter(), cpu_s()
    t = time.perf_counter()
    sig = cluster.signals(articles, embed_fn=embed)
    times["cheap_signals_s"] = time.perf_counter() - t
    progress(n, times)
    t = time.perf_counter()
    graph = cluster.scored_pairs(sig)
    times["neighbours_and_pairs_s"] = time.perf_counter() - t
    progress(n, times)
    t = time.perf_counter()
    p = cluster.probabilities(graph)
    times["embedding_s"] = sig.embed_s
    times["cores_and_pair_models_s"] = time.perf_counter() - t - sig.embed_s
    progress(n, {**times, "embedded": int(sig.embedded.sum())})
    t = time.perf_counter()
    groups = cluster.average_linkage(graph.n, graph.r, graph.c, p, 1.0 - cluster.THRESHOLD)
    times["linkage_s"] = time.perf_counter() - t
    progress(n, times)
    grouping_s = time.perf_counter() - started
    grouping_cpu_s = cpu_s() - cpu_started
    grouping_mb = peak_mb()
    pred = cluster.labels(groups, len(articles))
    from bench_cluster import bcubed

    p_, r_, f_ = bcubed(pred.tolist(), gold)
    embedded = int(sig.embedded.sum())
    result = {
        "articles": n,
        "stories": len(groups),
        "gold_stories": len(set(gold)),
        "pairs_scored": len(graph.r),
        "pairs_per_article": round(len(graph.r) / n, 1),
        "uncertain_pairs": int(graph.unsure.sum()),
        "articles_embedded": embedded,
        "embedded_share": round(embedded / n, 3),
        "seconds": {k: round(v, 2) for k, v in times.items()},
        "grouping_s": round(grouping_s, 2),
        "grouping_cpu_s": round(grouping_cpu_s, 2),
        "grouping_s_without_embedding": round(grouping_s - sig.embed_s, 2),
        "articles_per_s": round(n / grouping_s, 1),
        "peak_rss_mb_before": base_mb,
        "peak_rss_mb_grouping": grouping_mb,
        "ari": round(float(adjusted_rand_score(gold, pred)), 4),
        "b3_precision": round(p_, 4),
        "b3_recall": round(r_, 4),
        "b3_f1": round(f_, 4),
        "dense_matrix_mb_avoided": round(n * n * 8 / 2**20, 1),
    }
    leads = [sig.leads[i] for i in np.flatnonzero(sig.embedded)][:THROUGHPUT_TEXTS]
    del graph, sig
    if leads:
        result["embedding_throughput"] = throughput(leads)
    if check_cache:
        result["cache"] = cache_check(articles)
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
    result["load_average_1min_at_end"] = round(os.getloadavg()[0], 1)
    return result


def child(script: Path, n: int, extra: list[str]) -> dict:
    """Run `script --one n EXTRA` in a fresh process (its own peak memory); its JSON."""
    cmd = [sys.executable, str(script.resolve()), "--one", str(n), *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"{script.name} {n} failed:\n{proc.stderr[-3000:]}")
    print(f"{script.name} {n}: done", file=sys.stderr, flush=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def kept_runs(out: Path, key: str, sizes: list[int]) -> list[dict]:
    """The runs already in `out` of the sizes (`run[key]`) not run again (`--keep`)."""
    if not out.exists():
        return []
    runs = json.loads(out.read_text(encoding="utf-8"))["runs"]
    return [r for r in runs if r[key] not in sizes]


def write_runs(out: Path, smoke: bool, runs: list[dict]) -> None:
    result = {"smoke": smoke, "machine": "2 CPU cores, shared with other jobs", "runs": runs}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000, 100000])
    ap.add_argument(
        "--validate", type=int, default=None, help="stories validated per size (default all)"
    )
    ap.add_argument("--out", type=Path, default=None, help="default benchmarks/results/scale.json")
    ap.add_argument("--smoke", action="store_true", help="100 articles, 20 validated, temp dir")
    ap.add_argument(
        "--keep", action="store_true", help="keep the other sizes already in --out (merge)"
    )
    ap.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--cache-check", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one is not None:  # the child: one size, its figures as JSON on stdout
        sys.path.insert(0, str(ROOT / "benchmarks"))
        print(json.dumps(one(args.one, args.validate, args.cache_check)))
        return
    if args.smoke:
        args.sizes = [100]
        args.validate = 20 if args.validate is None else args.validate
    if args.out is None:
        folder = Path(tempfile.mkdtemp(prefix="bench-scale-")) if args.smoke else None
        args.out = (folder or ROOT / "benchmarks" / "results") / "scale.json"

    runs = kept_runs(args.out, "articles", args.sizes) if args.keep else []
    for n in args.sizes:
        extra = [] if args.validate is None else ["--validate", str(args.validate)]
        # the cache check groups the articles twice more: on the smallest size, and only
        # where that is small (a lone 100,000 run would double its time for it)
        extra += ["--cache-check"] if n == min(args.sizes) and n <= CACHE_CHECK_MAX else []
        runs.append(child(Path(__file__), n, extra))
    runs.sort(key=lambda r: r["articles"])
    write_runs(args.out, args.smoke, runs)

    print(
        "| articles | stories (gold) | embedded | cheap signals | neighbours + pairs "
        "| cores + models | embedding | linkage | grouping total | peak RSS | ARI | B³ F1 |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        s = r["seconds"]
        print(
            f"| {r['articles']:,} | {r['stories']:,} ({r['gold_stories']:,}) "
            f"| {r['articles_embedded']:,} | {s['cheap_signals_s']:.1f} s "
            f"| {s['neighbours_and_pairs_s']:.1f} s | {s['cores_and_pair_models_s']:.1f} s "
            f"| {s['embedding_s']:.1f} s | {s['linkage_s']:.1f} s | {r['grouping_s']:.0f} s "
            f"| {r['peak_rss_mb']:,.0f} MB | {r['ari']:.3f} | {r['b3_f1']:.3f} |"
        )
        if "embedding_throughput" in r:
            print(f"  embedding: {r['embedding_throughput']}")
        if "cache" in r:
            print(f"  cache: {r['cache']}")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
