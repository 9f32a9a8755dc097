"""Continuity across days: precision and recall of `new` / `update` / `unchanged`.

Two digests in a row with one state folder, on the held-out half of the AllSides dev
events (the half `bench_cluster.py` did not tune on; same seed and split):

- a third of those events are *new* on day 2: all their articles come then;
- the others are *day-1 events*: two of their articles on day 1. On day 2 an event
  with a third article brings it (gold `update`); for every other such event the day-2
  feed still lists the two day-1 articles too (so half the updates can be matched by a
  shared article, the other half only by what they say). An event with no third article
  is re-listed as it was (gold `unchanged`: a feed still carrying yesterday's items).

Stories are "summarized" by a fake extractive summarizer (the first sentence of each
article: no model), so the figures measure grouping and matching, not a model. For
each gold event on day 2, its predicted status is that of the day-2 story holding most
of its day-2 articles; precision and recall are per status over events.

    .venv/bin/python benchmarks/bench_continuity.py [--data PATH] [--seed 0]
    .venv/bin/python benchmarks/bench_continuity.py --smoke   # 24 events, temp dir

Prints a Markdown table and writes benchmarks/results/continuity.json (`--out`).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from summarize.digest.build import build_digest  # noqa: E402
from summarize.models import Claim, Story  # noqa: E402
from summarize.settings import DigestSettings  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "clusters" / "allsides-dev.jsonl"
STATUSES = ("new", "update", "unchanged")
DAY1 = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)
DAY2 = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)
JOIN_GRID = (0.56, 0.6, 0.64, 0.68, 0.72, 0.76, 0.8, 0.84, 0.88, 0.92)


def first_sentences(articles, *, settings=None, client=None, **_):
    """The fake summarizer: each article's first line (no model)."""
    lines = [a.clean_text().strip().splitlines()[0] for a in articles]
    return Story(articles=list(articles), sentences=[Claim(text=t[:400]) for t in lines])


def held_out(path: Path, seed: int, limit: int | None, half: str = "held-out") -> list[dict]:
    """One half of the events (fixed seed): `held-out`, scored, or `dev`, where the join
    cut is tuned (`--tune`)."""
    events = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    events = events[:limit]
    ids = sorted({e["event_id"] for e in events})
    random.Random(seed).shuffle(ids)
    chosen = set(ids[len(ids) // 2 :] if half == "held-out" else ids[: len(ids) // 2])
    return [e for e in events if e["event_id"] in chosen]


def row(event: dict, k: int) -> dict:
    a = event["articles"][k]
    return {
        "id": f"{event['event_id']}-{k}",
        "title": a["title"],
        "outlet": a["outlet"],
        "url": a["url"],
        "text": a["text"],
    }


def split_days(events: list[dict], seed: int):
    """(day-1 rows, day-2 rows, gold status per event on day 2)."""
    rng = random.Random(seed + 1)
    order = sorted(events, key=lambda e: e["event_id"])
    rng.shuffle(order)
    new = {e["event_id"] for e in order[: len(order) // 3]}
    day1, day2, gold = [], [], {}
    relist = True
    for e in sorted(events, key=lambda e: e["event_id"]):
        n = len(e["articles"])
        if e["event_id"] in new:
            day2 += [row(e, k) for k in range(n)]
            gold[e["event_id"]] = "new"
            continue
        day1 += [row(e, 0), row(e, 1)]
        if n > 2:
            gold[e["event_id"]] = "update"
            if relist:  # every other update event: yesterday's two are still listed
                day2 += [row(e, 0), row(e, 1)]
            relist = not relist
            day2 += [row(e, k) for k in range(2, n)]
        else:
            gold[e["event_id"]] = "unchanged"
            day2 += [row(e, 0), row(e, 1)]
    return day1, day2, gold


def write(rows: list[dict], path: Path) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def evaluate(digest, gold: dict) -> dict:
    story_of = {a.id: n for n, s in enumerate(digest.stories) for a in s.articles}
    predicted = {}
    for event in gold:
        stories = [n for aid, n in story_of.items() if aid.rsplit("-", 1)[0] == str(event)]
        if stories:
            n = Counter(stories).most_common(1)[0][0]
            predicted[event] = digest.stories[n].status
    confusion = {g: Counter() for g in STATUSES}
    for event, status in gold.items():
        confusion[status][predicted.get(event, "missing")] += 1
    per = {}
    for s in STATUSES:
        tp = confusion[s][s]
        said = sum(confusion[g][s] for g in STATUSES)
        real = sum(confusion[s].values())
        per[s] = {
            "precision": round(tp / said, 4) if said else None,
            "recall": round(tp / real, 4) if real else None,
            "gold": real,
            "predicted": said,
        }
    right = sum(confusion[s][s] for s in STATUSES)
    return {
        "per_status": per,
        "accuracy": round(right / len(gold), 4) if gold else None,
        "confusion": {g: dict(c) for g, c in confusion.items()},
    }


def two_days(split, join_threshold: float):
    """Day 1 then day 2 (`split_days`) on one state folder: (scores, digests, seconds,
    state file bytes)."""
    from summarize.settings import Settings

    settings = Settings()
    settings.digest.join_threshold = join_threshold
    day1, day2, gold = split
    with tempfile.TemporaryDirectory(prefix="bench-continuity-") as tmp:
        tmp = Path(tmp)
        state = tmp / "state"
        times = {}
        digests = {}
        for name, rows, now in (("day1", day1, DAY1), ("day2", day2, DAY2)):
            started = time.perf_counter()
            digests[name] = build_digest(
                [str(write(rows, tmp / f"{name}.jsonl"))],
                summarize=first_sentences,
                settings=settings,
                cache_dir=tmp / "cache",
                state_dir=state,
                now=now,
            )
            times[name] = round(time.perf_counter() - started, 2)
        state_bytes = (state / "stories.json").stat().st_size
    return evaluate(digests["day2"], gold), digests, times, state_bytes


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--out", type=Path, default=None, help="default benchmarks/results/continuity.json"
    )
    ap.add_argument("--smoke", action="store_true", help="24 events, temp dir")
    ap.add_argument(
        "--join-threshold",
        type=float,
        default=DigestSettings().join_threshold,
        help="the join cut scored (default: the shipped digest.join_threshold)",
    )
    ap.add_argument("--tune", action="store_true", help="also score each join cut on the dev half")
    args = ap.parse_args()
    if args.out is None:
        folder = Path(tempfile.mkdtemp(prefix="bench-continuity-")) if args.smoke else None
        args.out = (folder or ROOT / "benchmarks" / "results") / "continuity.json"

    limit = 24 if args.smoke else None
    tuning = {}
    if args.tune:  # the join cut with the best accuracy on the other half of the events
        dev_split = split_days(held_out(args.data, args.seed, limit, half="dev"), args.seed)
        for cut in JOIN_GRID:
            tuning[cut] = two_days(dev_split, cut)[0]["accuracy"]
            print(f"dev half: join cut {cut}: accuracy {tuning[cut]}", file=sys.stderr)
        best = max(tuning.values())  # ties: the strictest cut (the fewest false updates)
        print(f"chosen on the dev half: {min(c for c, a in tuning.items() if a == best)}")
    events = held_out(args.data, args.seed, limit)
    day1, day2, gold = split_days(events, args.seed)
    scored, digests, times, state_bytes = two_days((day1, day2, gold), args.join_threshold)
    result = {
        "data": args.data.name,
        "seed": args.seed,
        "smoke": args.smoke,
        "events": {"held_out": len(events), **Counter(gold.values())},
        "articles": {"day1": len(day1), "day2": len(day2)},
        "stories": {name: len(d.stories) for name, d in digests.items()},
        "seconds": times,
        "state_file_bytes": state_bytes,
        "day1_statuses": dict(Counter(s.status for s in digests["day1"].stories)),
        "join_threshold": args.join_threshold,
        "dev_half_accuracy_by_join_threshold": tuning,
        **scored,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")

    print(
        f"AllSides dev, held-out half ({len(events)} events): day 1 {len(day1)} articles, "
        f"day 2 {len(day2)} articles; gold on day 2: "
        + ", ".join(f"{n} {s}" for s, n in sorted(Counter(gold.values()).items()))
        + "\n"
    )
    print("| status | gold events | predicted | precision | recall |")
    print("|---|---|---|---|---|")
    for s, m in result["per_status"].items():
        p = "-" if m["precision"] is None else f"{m['precision']:.3f}"
        r = "-" if m["recall"] is None else f"{m['recall']:.3f}"
        print(f"| {s} | {m['gold']} | {m['predicted']} | {p} | {r} |")
    print(f"\naccuracy {result['accuracy']}; confusion (gold -> predicted) {result['confusion']}")
    print(f"seconds {times}; state file {state_bytes:,} bytes\nwrote {args.out}")


if __name__ == "__main__":
    main()
