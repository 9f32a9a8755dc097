"""Digest cost at 25, 50 and 100 articles from AllSides dev, with the embedded model.

Each size runs `build_digest` on the articles of the first events of
allsides-dev.jsonl (written as one JSON Lines file), with an empty model cache
so every call is real. Reports wall time, stories, model calls, tokens, peak
memory, and growth from one size to the next. Slow: minutes per size on 2 CPU
cores with SmolLM2-135M.

    .venv/bin/python benchmarks/bench_digest.py [--sizes 25 50 100] [--jobs 2]
    .venv/bin/python benchmarks/bench_digest.py --smoke   # fake model, 8 articles, temp dir

Prints a Markdown table and writes benchmarks/results/digest.json (`--out`). `--smoke`
digests 8 articles with an in-process fake model (benchmarks/fake_model.py: extractive,
canned) and writes to a temporary folder: it checks that the script runs, not the cost.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from summarize.digest.build import build_digest  # noqa: E402
from summarize.settings import Settings  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "clusters" / "allsides-dev.jsonl"


def write_inputs(n: int, folder: Path) -> Path:
    """The first `n` articles (whole events first) as one .jsonl file."""
    rows = []
    for line in DATA.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        for k, a in enumerate(event["articles"]):
            rows.append(
                {
                    "id": f"{event['event_id']}-{k}",
                    "title": a["title"],
                    "outlet": a["outlet"],
                    "url": a["url"],
                    "published": event["date"],
                    "text": a["text"],
                }
            )
        if len(rows) >= n:
            break
    path = folder / f"allsides-{n}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows[:n]), encoding="utf-8")
    return path


def run(n: int, jobs: int, fake: bool = False) -> dict:
    """One digest of `n` articles; `fake`: with the in-process fake model, and without
    tracing Python memory (tracemalloc slows a short run several times over)."""
    with tempfile.TemporaryDirectory(prefix="bench-digest-") as tmp:
        tmp = Path(tmp)
        inputs = write_inputs(n, tmp)
        client = None
        if fake:
            from fake_model import fake_client

            client = fake_client(tmp / "cache")
            settings = client.settings
        else:
            settings = Settings(cache_dir=tmp / "cache")  # empty cache: every call is real
        if not fake:
            tracemalloc.start()
        started = time.perf_counter()
        digest = build_digest(
            [str(inputs)], settings=settings, client=client, jobs=jobs, progress=False
        )
        wall = time.perf_counter() - started
        py_peak = tracemalloc.get_traced_memory()[1] if tracemalloc.is_tracing() else None
        tracemalloc.stop()
        if client is not None:
            client.close()
    return {
        "articles": digest.articles_read,
        "stories": len(digest.stories),
        "failed_stories": sum(1 for s in digest.stories if s.error),
        "wall_s": round(wall, 1),
        "model_calls": digest.usage.calls,
        "prompt_tokens": digest.usage.prompt_tokens,
        "completion_tokens": digest.usage.completion_tokens,
        "python_peak_mb": round(py_peak / 2**20, 1) if py_peak is not None else None,
        "process_max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[25, 50, 100])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None, help="default benchmarks/results/digest.json")
    ap.add_argument(
        "--smoke", action="store_true", help="fake model, 8 articles, temp dir: does it run?"
    )
    args = ap.parse_args()
    if args.smoke:
        args.sizes = [8]
    if args.out is None:
        folder = Path(tempfile.mkdtemp(prefix="bench-digest-")) if args.smoke else None
        args.out = (folder or ROOT / "benchmarks" / "results") / "digest.json"

    rows = []
    for n in args.sizes:
        row = run(n, args.jobs, fake=args.smoke)
        if rows:
            prev = rows[-1]
            row["growth_wall"] = round(row["wall_s"] / max(prev["wall_s"], 1e-9), 2)
            row["growth_articles"] = round(row["articles"] / max(prev["articles"], 1), 2)
        rows.append(row)
        print(json.dumps(row), file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"jobs": args.jobs, "smoke": args.smoke, "runs": rows}, indent=2) + "\n",
        encoding="utf-8",
    )
    print(
        "| articles | stories (failed) | wall s | calls | prompt tok | completion tok "
        "| py peak MB | max RSS MB | wall growth |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['articles']} | {r['stories']} ({r['failed_stories']}) | {r['wall_s']} "
            f"| {r['model_calls']} | {r['prompt_tokens']} | {r['completion_tokens']} "
            f"| {r['python_peak_mb']} | {r['process_max_rss_mb']} "
            f"| {r.get('growth_wall', '-')} |"
        )
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
