"""Stories per minute with 1, 2 and 4 Dask workers (`--cluster`) against a 1-second server.

The digest of the first `--articles` AllSides dev articles (as benchmarks/bench_jobs.py
makes it), its stories summarized on a local Dask cluster of N worker processes (one
thread each), every model call answered after `--latency` seconds by the fake model
served over loopback HTTP (benchmarks/fake_model.py: extractive, canned; any number of
calls at once). Each cluster is started and warmed up first (every worker summarizes
one small story, so imports and model loads are not counted), then the digest is timed.
Worker CPU is read from the worker processes (psutil): it is the per-story cost that
sizes a cluster (README, "Story work on a cluster").

    .venv/bin/python benchmarks/bench_workers.py [--articles 120] [--workers 1 2 4]
    .venv/bin/python benchmarks/bench_workers.py --workers 0 --jobs 16   # in-process baseline
    .venv/bin/python benchmarks/bench_workers.py --smoke   # 12 articles, 1 worker, temp dir

Prints a Markdown table and writes benchmarks/results/workers.json (`--out`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_digest import write_inputs  # noqa: E402
from fake_model import fake_server, fake_settings  # noqa: E402

from summarize.digest.build import build_digest  # noqa: E402
from summarize.digest.engine import local_cluster  # noqa: E402


def _warm_articles(inputs: Path):
    from summarize.sources.ingest import article_from_text

    rows = [json.loads(line) for line in inputs.read_text(encoding="utf-8").splitlines()[:2]]
    return [article_from_text(r["text"], id=r["id"], title=r["title"]) for r in rows]


def in_process(inputs: Path, jobs: int, url: str, folder: Path) -> dict:
    """The baseline: the same digest in this process, `jobs` threads (`workers` 0)."""
    settings = fake_settings(folder / f"cache-jobs-{jobs}", base_url=url, digest={"jobs": jobs})
    build_digest(_warm_inputs(inputs, folder), settings=settings)  # imports and model loads
    own, wall = time.process_time(), time.perf_counter()
    digest = build_digest([str(inputs)], settings=settings)
    wall, own = time.perf_counter() - wall, time.process_time() - own
    stories = len(digest.stories)
    return {
        "workers": 0,
        "jobs": jobs,
        "stories": stories,
        "failed_stories": sum(1 for s in digest.stories if s.error),
        "model_calls": digest.usage.calls,
        "wall_s": round(wall, 1),
        "stories_per_minute": round(60 * stories / wall, 1),
        "worker_cpu_s": 0.0,
        "digest_process_cpu_s": round(own, 1),
        "digest_process_cpu_s_per_story": round(own / max(1, stories), 2),
    }


def _warm_inputs(inputs: Path, folder: Path) -> list[str]:
    path = folder / "warm.jsonl"
    path.write_text("".join(inputs.read_text(encoding="utf-8").splitlines(True)[:2]))
    return [str(path)]


def run(inputs: Path, workers: int, url: str, folder: Path) -> dict:
    import distributed
    import psutil

    from summarize.story.pipeline import summarize_story

    started = time.perf_counter()
    with local_cluster(workers) as cluster, distributed.Client(cluster) as dask:
        warm = fake_settings(folder / "warm", base_url=url)
        dask.run(summarize_story, _warm_articles(inputs), settings=warm, check_events=False)
        start_s = time.perf_counter() - started
        procs = [psutil.Process(pid) for pid in dask.run(os.getpid).values()]
        cpu0 = [sum(p.cpu_times()[:2]) for p in procs]
        settings = fake_settings(
            folder / f"cache-{workers}", base_url=url, digest={"cluster": cluster.scheduler_address}
        )
        own, wall = time.process_time(), time.perf_counter()
        digest = build_digest([str(inputs)], settings=settings)
        wall = time.perf_counter() - wall
        own = time.process_time() - own
        worker_cpu = sum(sum(p.cpu_times()[:2]) - c for p, c in zip(procs, cpu0, strict=True))
    stories = len(digest.stories)
    return {
        "workers": workers,
        "stories": stories,
        "failed_stories": sum(1 for s in digest.stories if s.error),
        "model_calls": digest.usage.calls,
        "cluster_start_s": round(start_s, 1),
        "wall_s": round(wall, 1),
        "stories_per_minute": round(60 * stories / wall, 1),
        "worker_cpu_s": round(worker_cpu, 1),
        "worker_cpu_s_per_story": round(worker_cpu / max(1, stories), 2),
        "digest_process_cpu_s": round(own, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=120)
    ap.add_argument("--latency", type=float, default=1.0, help="seconds per model answer")
    ap.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2, 4], help="0: in this process (--jobs)"
    )
    ap.add_argument("--jobs", type=int, default=16, help="threads of the in-process baseline")
    ap.add_argument(
        "--out", type=Path, default=None, help="default benchmarks/results/workers.json"
    )
    ap.add_argument("--smoke", action="store_true", help="12 articles, 1 worker, temp dir")
    args = ap.parse_args()
    if args.smoke:
        args.articles, args.workers, args.latency = 12, [1], 0.05
    if args.out is None:
        folder = Path(tempfile.mkdtemp(prefix="bench-workers-")) if args.smoke else None
        args.out = (folder or ROOT / "benchmarks" / "results") / "workers.json"

    rows = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-workers-") as tmp,
        fake_server(args.latency) as url,
    ):
        inputs = write_inputs(args.articles, Path(tmp))
        for workers in args.workers:
            if workers == 0:
                rows.append(in_process(inputs, args.jobs, url, Path(tmp)))
            else:
                rows.append(run(inputs, workers, url, Path(tmp)))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    result = {
        "articles": args.articles,
        "latency_s": args.latency,
        "smoke": args.smoke,
        "machine": "2 CPU cores, shared with other jobs, no GPU",
        "runs": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"{args.articles} articles, every model answer after {args.latency} s\n")
    print("| workers | stories | model calls | wall | stories / minute | story CPU per story |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        who = r["workers"] or f"none (--jobs {r['jobs']})"
        cpu = r.get("worker_cpu_s_per_story", r.get("digest_process_cpu_s_per_story"))
        print(
            f"| {who} | {r['stories']} | {r['model_calls']} | {r['wall_s']} s "
            f"| {r['stories_per_minute']} | {cpu} s |"
        )
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
