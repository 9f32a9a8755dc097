"""Memory over a long day: the embedded model server's and the digest process's peaks.

Server: llama.cpp keeps the state of every prompt it has seen in its prompt cache
(`cache_ram_mib`, 8192 MiB by default), so a server that reads one article after another
grows all day. For each `--cache-mib` bound this starts the embedded server
(`local_cache_ram_mib`), sends it `--documents` distinct AllSides events one after the
other (an event's articles in one chat request, a few tokens of answer, as a story's
draft reads its sources), and reads the server's resident memory after each
(`/proc/PID/status`: VmRSS, and VmHWM, the peak). Process: the digest of `--articles`
synthetic AllSides articles (as benchmarks/bench_scale.py makes them) against the
in-process fake model, with this process's peak resident memory (`ru_maxrss`).

    .venv/bin/python benchmarks/bench_memory.py [--cache-mib 8192 64] [--documents 30]
    .venv/bin/python benchmarks/bench_memory.py --smoke   # no server, 12 articles, temp dir

Prints a Markdown table and writes benchmarks/results/memory.json (`--out`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_scale import DATA, peak_mb, synthetic  # noqa: E402

from summarize.settings import Settings  # noqa: E402

SAMPLE_S = 15.0


def _proc_mb(pid: int) -> tuple[float, float]:
    """(resident, peak resident) MB of a process, from /proc (Linux)."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return round(fields["VmRSS"], 1), round(fields["VmHWM"], 1)


def documents(n: int) -> list[str]:
    """The articles of each of the first `n` events, one text per event (as a story's
    prompt holds them all)."""
    texts = []
    for line in DATA.read_text(encoding="utf-8").splitlines()[:n]:
        texts.append("\n\n".join(a["text"] for a in json.loads(line)["articles"]))
    return texts


def server_probe(cache_mib: int, texts: list[str], model: str | None) -> dict:
    """The embedded server's memory as it reads `texts` one after the other."""
    import httpx

    from summarize.model.local import local_server

    values = {"config_file": "/dev/null", "local_cache_ram_mib": cache_mib, "local_threads": 1}
    if model:
        values["local_model"] = model
    settings = Settings(**values)
    rows = []
    with local_server(settings) as url, httpx.Client(timeout=600) as http:
        start = _proc_mb(url.pid)
        started = time.perf_counter()
        for n, text in enumerate(texts, start=1):
            response = http.post(
                f"{url}/chat/completions",
                headers={"Authorization": f"Bearer {url.api_key}"},
                json={
                    "model": settings.model_name,
                    "messages": [
                        {"role": "system", "content": "Summarize the article in one sentence."},
                        {"role": "user", "content": text},
                    ],
                    "max_tokens": 4,
                    "temperature": 0,
                },
            )
            response.raise_for_status()
            prompt_tokens = response.json()["usage"]["prompt_tokens"]
            rss, hwm = _proc_mb(url.pid)
            rows.append({"documents": n, "prompt_tokens": prompt_tokens, "rss_mb": rss})
            print(json.dumps({"cache_mib": cache_mib, **rows[-1]}), file=sys.stderr, flush=True)
        rss, hwm = _proc_mb(url.pid)
    return {
        "cache_mib": cache_mib,
        "model": settings.model_name,
        "documents": len(texts),
        "prompt_tokens": sum(r["prompt_tokens"] for r in rows),
        "seconds": round(time.perf_counter() - started, 1),
        "rss_mb_start": start[0],
        "rss_mb_end": rss,
        "peak_rss_mb": hwm,
        "growth_mb_per_document": round((rss - start[0]) / max(1, len(texts)), 2),
        "trace": rows,
    }


def digest_probe(articles: int, folder: Path, report) -> dict:
    """This process's peak memory over a digest of synthetic articles (fake model);
    `report(trace)` every `SAMPLE_S` seconds with the model calls made and memory so far."""
    from fake_model import fake_client

    from summarize.digest.build import build_digest

    items, _ = synthetic(articles)
    path = folder / "day.jsonl"
    rows = [
        {"id": a.id, "title": a.title, "outlet": a.outlet, "url": a.url, "text": a.text}
        for a in items
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    client = fake_client(folder / "cache", digest={"jobs": 2})
    before = peak_mb()
    started = time.perf_counter()
    trace: list[dict] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(SAMPLE_S):
            rss, _ = _proc_mb(os.getpid())
            row = {"s": round(time.perf_counter() - started), "model_calls": len(client.calls)}
            trace.append({**row, "rss_mb": rss, "peak_rss_mb": peak_mb()})
            report(trace)

    threading.Thread(target=sample, daemon=True).start()
    try:
        digest = build_digest([str(path)], settings=client.settings, client=client)
    finally:
        done.set()
        client.close()
    return {
        "articles": articles,
        "stories": len(digest.stories),
        "failed_stories": sum(1 for s in digest.stories if s.error),
        "model_calls": digest.usage.calls,
        "wall_s": round(time.perf_counter() - started, 1),
        "peak_rss_mb_before": before,
        "peak_rss_mb": peak_mb(),
        "trace": trace,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache-mib", type=int, nargs="*", default=[8192, 64])
    ap.add_argument("--documents", type=int, default=30, help="events sent to each server")
    ap.add_argument("--model", default=None, help="embedded model (default: the default one)")
    ap.add_argument("--articles", type=int, default=1150, help="articles of the digest")
    ap.add_argument("--skip-digest", action="store_true")
    ap.add_argument("--out", type=Path, default=None, help="default benchmarks/results/memory.json")
    ap.add_argument("--smoke", action="store_true", help="no server, 12 articles, temp dir")
    args = ap.parse_args()
    if args.smoke:
        args.cache_mib, args.articles, args.skip_digest = [], 12, False
    if args.out is None:
        folder = Path(tempfile.mkdtemp(prefix="bench-memory-")) if args.smoke else None
        args.out = (folder or ROOT / "benchmarks" / "results") / "memory.json"

    texts = documents(args.documents) if args.cache_mib else []
    servers = [server_probe(mib, texts, args.model) for mib in args.cache_mib]
    result = {
        "smoke": args.smoke,
        "machine": "2 CPU cores, shared with other jobs, no GPU",
        "servers": servers,
        "process": None,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)

    def write(trace: list[dict] | None = None) -> None:
        """The results so far (`process.trace` only, marked unfinished, while it runs)."""
        if trace is not None:
            result["process"] = {"finished": False, "articles": args.articles, "trace": trace}
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")

    write()
    if not args.skip_digest:
        with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
            result["process"] = {"finished": True, **digest_probe(args.articles, Path(tmp), write)}
    write()
    process = result["process"]
    if servers:
        print("| cache bound | documents | prompt tokens | RSS start | RSS end | peak | per doc |")
        print("|---|---|---|---|---|---|---|")
        for s in servers:
            print(
                f"| {s['cache_mib']} MiB | {s['documents']} | {s['prompt_tokens']} "
                f"| {s['rss_mb_start']} MB | {s['rss_mb_end']} MB | {s['peak_rss_mb']} MB "
                f"| {s['growth_mb_per_document']} MB |"
            )
    if process:
        print(
            f"\ndigest of {process['articles']} articles: {process['stories']} stories, "
            f"peak {process['peak_rss_mb']} MB (before the digest {process['peak_rss_mb_before']})"
        )
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
