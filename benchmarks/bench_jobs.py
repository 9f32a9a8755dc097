"""What `--jobs` buys against a server that answers many requests at once (vLLM-like).

The digest of the first `--articles` AllSides dev articles, with the in-process fake
model (benchmarks/fake_model.py: extractive, canned) answering every call after
`--latency` seconds, as a busy OpenAI-compatible server would, and taking any number
of calls at once, as vLLM's continuous batching does. `--jobs` runs 1, 4, 16, 64.
Wall time falls with jobs while the digest waits on the server; it stops falling where
this process's own work (clustering once, then prompt building, parsing and
validating every sentence, in Python) fills the cores: the CPU share column says how
close that is. A real server's latency grows with its load; this one's does not, so
the figures are a ceiling on what jobs alone gives.

    .venv/bin/python benchmarks/bench_jobs.py [--articles 120] [--latency 1.0]
    .venv/bin/python benchmarks/bench_jobs.py --smoke   # 12 articles, jobs 1 and 4, temp dir

Prints a Markdown table and writes benchmarks/results/jobs.json (`--out`).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_digest import write_inputs  # noqa: E402
from fake_model import fake_client  # noqa: E402

from summarize.digest.build import build_digest  # noqa: E402


def run(inputs: Path, jobs: int, latency: float, cache: Path) -> dict:
    client = fake_client(cache, latency_s=latency, digest={"jobs": jobs})
    try:
        cpu, wall = time.process_time(), time.perf_counter()
        digest = build_digest([str(inputs)], settings=client.settings, client=client, jobs=jobs)
        wall = time.perf_counter() - wall
        cpu = time.process_time() - cpu
    finally:
        client.close()
    stories = len(digest.stories)
    return {
        "jobs": jobs,
        "stories": stories,
        "failed_stories": sum(1 for s in digest.stories if s.error),
        "model_calls": digest.usage.calls,
        "wall_s": round(wall, 1),
        "stories_per_minute": round(60 * stories / wall, 1),
        "cpu_s": round(cpu, 1),
        "cpu_share": round(cpu / wall, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=120)
    ap.add_argument("--latency", type=float, default=1.0, help="seconds per model answer")
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 4, 16, 64])
    ap.add_argument("--out", type=Path, default=None, help="default benchmarks/results/jobs.json")
    ap.add_argument("--smoke", action="store_true", help="12 articles, jobs 1 and 4, temp dir")
    args = ap.parse_args()
    if args.smoke:
        args.articles, args.jobs, args.latency = 12, [1, 4], 0.05
    if args.out is None:
        folder = Path(tempfile.mkdtemp(prefix="bench-jobs-")) if args.smoke else None
        args.out = (folder or ROOT / "benchmarks" / "results") / "jobs.json"

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-jobs-") as tmp:
        inputs = write_inputs(args.articles, Path(tmp))
        for jobs in args.jobs:
            rows.append(run(inputs, jobs, args.latency, Path(tmp) / f"cache-{jobs}"))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    result = {
        "articles": args.articles,
        "latency_s": args.latency,
        "smoke": args.smoke,
        "machine": "2 CPU cores, no GPU",
        "runs": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"{args.articles} articles, every model answer after {args.latency} s\n")
    print("| --jobs | stories | model calls | wall | stories / minute | CPU share |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['jobs']} | {r['stories']} | {r['model_calls']} | {r['wall_s']} s "
            f"| {r['stories_per_minute']} | {r['cpu_share']:.2f} |"
        )
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
