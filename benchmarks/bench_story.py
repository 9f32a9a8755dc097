"""Story pipeline benchmark: multi-outlet events in, validated cited summaries out.

For each event of ../shared/data/clusters/allsides-dev.jsonl (first N, fixed order)
and for the two seed articles, with the configured model (the embedded SmolLM2-135M
when nothing is configured), it reports:

- sentences kept (all supported by construction) and removed, as shares of all written;
- citation recall and precision in the sense of ALCE (Gao et al. 2023), with our own
  validator as the judge instead of an NLI model: recall = the sentence's cited spans
  together support it; a citation is irrelevant when it alone does not support the
  sentence and the other citations still do; precision = relevant / all citations;
- ROUGE-1/2/L F1 of the kept summary against the human `reference`;
- wall time per story and peak memory (this process; the server's own peak separately).

    .venv/bin/python benchmarks/bench_story.py --events 30 --seed-out examples/seed-story.md
    .venv/bin/python benchmarks/bench_story.py --smoke   # fake model, 2 events, temp dir

Needs `pip install rouge-score` (benchmark only; `--smoke` leaves ROUGE out without it).
Writes benchmarks/results/story.json (`--out`). `--smoke` runs the seeds and 2 events
with an in-process fake model (benchmarks/fake_model.py: extractive, canned) and writes
to a temporary folder: it checks that the script and the pipeline run, not quality.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from summarize.model.client import open_client
from summarize.models import Article, Claim, Story
from summarize.render import to_markdown
from summarize.settings import Settings
from summarize.sources.ingest import article_from_text, load_articles
from summarize.story.pipeline import summarize_story
from summarize.support.validator import Validator

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
sys.path.insert(0, str(Path(__file__).resolve().parent))


def rouge(reference: str, text: str) -> dict[str, float]:
    """ROUGE-1/2/L F1 (rouge-score); {} when it is not installed (`--smoke` only: a real
    run checks for it first)."""
    try:
        from rouge_score import rouge_scorer
    except ImportError:
        return {}
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    return {k: round(v.fmeasure, 4) for k, v in scorer.score(reference, text).items()}


def event_articles(event: dict) -> list[Article]:
    return [
        article_from_text(
            a["text"],
            id=f"e{event['event_id']}-{i}",
            title=a.get("title", ""),
            outlet=a.get("outlet", ""),
            url=a.get("url"),
        )
        for i, a in enumerate(event["articles"])
    ]


def _supported(validator: Validator, text: str, quotes: list[tuple[str, str]]) -> bool:
    """Does the text follow from these quotes alone? (each quote a tiny article)"""
    if not quotes:
        return False
    parts = [Article(id=f"{aid}#{i}", text=q) for i, (aid, q) in enumerate(quotes)]
    return validator.check(text, parts).supported


def citation_scores(validator: Validator, claim: Claim) -> tuple[bool, int, int]:
    """(ALCE recall for the sentence, relevant citations, all citations)."""
    quotes = [(s.article_id, s.quote) for s in claim.verdict.spans] if claim.verdict else []
    recall = _supported(validator, claim.text, quotes)
    relevant = 0
    for i, quote in enumerate(quotes):
        rest = quotes[:i] + quotes[i + 1 :]
        alone = _supported(validator, claim.text, [quote])
        irrelevant = not alone and bool(rest) and _supported(validator, claim.text, rest)
        relevant += not irrelevant
    return recall, relevant, len(quotes)


def story_metrics(validator: Validator, story: Story, reference: str | None) -> dict:
    kept, removed = len(story.sentences), len(story.removed)
    recalls, relevant, cites = [], 0, 0
    for claim in story.sentences:
        r, rel, n = citation_scores(validator, claim)
        recalls.append(r)
        relevant += rel
        cites += n
    row = {
        "kept": kept,
        "removed": removed,
        "citation_recall": sum(recalls) / len(recalls) if recalls else None,
        "citations": cites,
        "relevant_citations": relevant,
        "error": story.error,
        "calls": story.usage.calls,
        "tokens": story.usage.prompt_tokens + story.usage.completion_tokens,
    }
    if reference:
        row.update(rouge(reference, " ".join(c.text for c in story.sentences)))
    return row


def summarize_rows(rows: list[dict]) -> dict:
    written = sum(r["kept"] + r["removed"] for r in rows)
    cites = sum(r["citations"] for r in rows)
    recalls = [r["citation_recall"] for r in rows if r["citation_recall"] is not None]
    out = {
        "stories": len(rows),
        "failed": sum(1 for r in rows if r["error"]),
        "sentences_written": written,
        "share_supported_kept": round(sum(r["kept"] for r in rows) / written, 3) if written else 0,
        "share_removed": round(sum(r["removed"] for r in rows) / written, 3) if written else 0,
        "citation_recall": round(statistics.mean(recalls), 3) if recalls else None,
        "citation_precision": round(sum(r["relevant_citations"] for r in rows) / cites, 3)
        if cites
        else None,
        "seconds_per_story": round(statistics.mean(r["seconds"] for r in rows), 1),
        "model_calls": sum(r["calls"] for r in rows),
        "tokens": sum(r["tokens"] for r in rows),
    }
    for k in ("rouge1", "rouge2", "rougeL"):
        vals = [r[k] for r in rows if k in r]
        if vals:
            out[k] = round(statistics.mean(vals), 4)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=30)
    parser.add_argument("--seed-out", type=Path, default=None, help="write the seed story here")
    parser.add_argument("--no-cache", action="store_true")
    parser.add_argument("--out", type=Path, help="default benchmarks/results/story.json")
    parser.add_argument(
        "--smoke", action="store_true", help="fake model, 2 events, temp dir: does it run?"
    )
    args = parser.parse_args()
    if args.smoke:
        folder = Path(tempfile.mkdtemp(prefix="bench-story-"))
        args.events = min(args.events, 2)
        out = args.out or folder / "story.json"
        from fake_model import fake_client

        client_cm = contextlib.closing(fake_client(folder / "cache"))
    else:
        import rouge_score  # noqa: F401  (fail now, not after the first story)

        out = args.out or REPO / "benchmarks/results/story.json"
        client_cm = None

    settings = Settings(use_cache=not args.no_cache) if not args.smoke else None
    validator = Validator()
    events = [
        json.loads(line)
        for line in (SHARED / "data/clusters/allsides-dev.jsonl")
        .read_text()
        .splitlines()[: args.events]
    ]
    with client_cm or open_client(settings) as client:
        settings = client.settings
        results: dict = {"model": settings.model_name, "events": [], "seeds": None}
        results["smoke"] = args.smoke
        seeds, problems = load_articles(sorted((SHARED / "seeds").glob("*.txt")))
        started = time.perf_counter()
        story = summarize_story(seeds, settings=settings, client=client, validator=validator)
        seed_row = story_metrics(validator, story, None)
        seed_row["seconds"] = round(time.perf_counter() - started, 1)
        seed_row["disagreements"] = [d.description for d in story.disagreements]
        results["seeds"] = seed_row
        if args.seed_out:
            args.seed_out.write_text(to_markdown(story), encoding="utf-8")
        for event in events:
            started = time.perf_counter()
            story = summarize_story(
                event_articles(event), settings=settings, client=client, validator=validator
            )
            row = story_metrics(validator, story, event.get("reference"))
            row["seconds"] = round(time.perf_counter() - started, 1)
            row["event_id"] = event["event_id"]
            results["events"].append(row)
            print(json.dumps(row), flush=True)
    results["summary"] = summarize_rows(results["events"]) if results["events"] else {}
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    results["server_peak_rss_mb"] = round(
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps({k: v for k, v in results.items() if k != "events"}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
