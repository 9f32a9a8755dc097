"""Fault soak: a digest of many articles while a fifth of the model requests fail.

The fake model (benchmarks/fake_model.py: extractive, canned) runs as a real loopback
HTTP server; `scripts/fault_proxy.py` stands in front of it and fails `--fault-rate` of
the requests at random (seeded): 429 with Retry-After, 500, a hang (the client's
timeout cuts it), a dropped connection, a cut-off JSON body. The digest runs with the
default retry settings (`--max-retries`, 3) and a per-request timeout of `--timeout` s,
answers cached. With fewer retries more stories fail, and after `max_failures` (2)
failed stories in a row the rest are marked failed without asking: the rerun must
complete them all.

Then the server recovers (the proxy restarts on the same address, without faults) and
the same digest runs again: the failed stories complete from the cache plus new calls,
and every request that the first run already had answered must come from the cache.
`refetched` counts the rerun's requests whose body the fake model had answered in the
first run: the target is 0.

    .venv/bin/python benchmarks/bench_soak.py [--articles 300] [--fault-rate 0.2]
    .venv/bin/python benchmarks/bench_soak.py --smoke   # 12 articles, half the requests fail

Prints a Markdown table and writes benchmarks/results/soak.json (`--out`).
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_digest import write_inputs  # noqa: E402
from fake_model import fake_server, fake_settings  # noqa: E402

from summarize.digest.build import build_digest  # noqa: E402

PROXY = ROOT / "scripts" / "fault_proxy.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_proxy(upstream: str, port: int, rate: float, hang_s: float, log: Path):
    cmd = [sys.executable, str(PROXY), "--port", str(port), "--upstream", upstream]
    cmd += ["--fault-rate", str(rate), "--hang-s", str(hang_s), "--seed", "0"]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=log.open("w"), text=True, stdin=subprocess.PIPE
    )
    line = proc.stdout.readline()  # "fault_proxy listening on ...": it is ready
    assert "listening" in line, line
    return proc


def digest_once(inputs: Path, proxy_url: str, cache: Path, args) -> dict:
    settings = fake_settings(cache, base_url=proxy_url, use_cache=True, timeout_s=args.timeout)
    settings = settings.model_copy(update={"max_retries": args.max_retries})
    jobs = args.jobs
    started = time.perf_counter()
    digest = build_digest([str(inputs)], settings=settings, jobs=jobs)
    failed = [s for s in digest.stories if s.error]
    return {
        "stories": len(digest.stories),
        "completed": len(digest.stories) - len(failed),
        "failed": len(failed),
        "failures": sorted({(s.error or "").split(":")[0] for s in failed}),
        "model_calls": digest.usage.calls,
        "cached_calls": digest.usage.cached_calls,
        "wall_s": round(time.perf_counter() - started, 1),
    }


def faults_in(log: Path) -> dict:
    lines = log.read_text(encoding="utf-8").splitlines()
    return dict(Counter(x.split("fault ", 1)[1] for x in lines if "fault_proxy: fault " in x))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=300)
    ap.add_argument("--fault-rate", type=float, default=0.2)
    ap.add_argument("--timeout", type=float, default=5.0, help="seconds per model request")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--max-retries", type=int, default=3, help="retries per call (default 3)")
    ap.add_argument("--out", type=Path, default=None, help="default benchmarks/results/soak.json")
    ap.add_argument("--smoke", action="store_true", help="12 articles, temp dir")
    args = ap.parse_args()
    if args.smoke:  # a few stories, so more faults than a fifth to see some
        args.articles, args.timeout, args.fault_rate = 12, 2.0, 0.5
    if args.out is None:
        folder = Path(tempfile.mkdtemp(prefix="bench-soak-")) if args.smoke else None
        args.out = (folder or ROOT / "benchmarks" / "results") / "soak.json"

    answered: list[str] = []  # the sha256 of every request body the fake model answered
    port = free_port()  # the same address for both runs: the cache key names the server
    proxy_url = f"http://127.0.0.1:{port}/v1"
    with fake_server(answered=answered) as upstream, tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        inputs = write_inputs(args.articles, tmp)
        cache = tmp / "cache"
        proxy = start_proxy(upstream, port, args.fault_rate, 3 * args.timeout, tmp / "f.log")
        try:
            first = digest_once(inputs, proxy_url, cache, args)
        finally:
            proxy.kill()
            proxy.wait()
        first["faults"] = faults_in(tmp / "f.log")
        first["upstream_answers"] = len(answered)
        print(json.dumps(first), file=sys.stderr, flush=True)

        answered_before = set(answered)
        count_before = len(answered)
        proxy = start_proxy(upstream, port, 0.0, 1.0, tmp / "r.log")
        try:
            rerun = digest_once(inputs, proxy_url, cache, args)
        finally:
            proxy.kill()
            proxy.wait()
        asked = answered[count_before:]
        rerun["upstream_answers"] = len(asked)
        rerun["refetched"] = sum(1 for h in asked if h in answered_before)
        print(json.dumps(rerun), file=sys.stderr, flush=True)

    result = {
        "articles": args.articles,
        "fault_rate": args.fault_rate,
        "timeout_s": args.timeout,
        "jobs": args.jobs,
        "max_retries": args.max_retries,
        "smoke": args.smoke,
        "machine": "2 CPU cores, no GPU",
        "first": first,
        "rerun": rerun,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    injected = sum(first["faults"].values())
    print(
        f"{args.articles} articles, {args.fault_rate:.0%} of requests failed at random, "
        f"{args.max_retries} retries per call\n"
    )
    print("| run | stories | completed | failed | model calls | cached | answered | wall |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r in (("with faults", first), ("rerun, server recovered", rerun)):
        print(
            f"| {name} | {r['stories']} | {r['completed']} | {r['failed']} "
            f"| {r['model_calls']} | {r['cached_calls']} | {r['upstream_answers']} "
            f"| {r['wall_s']} s |"
        )
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(first["faults"].items()))
    print(f"\nfaults injected: {injected} ({kinds}); refetched on rerun: {rerun['refetched']}")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
