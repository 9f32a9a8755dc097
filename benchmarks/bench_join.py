"""Grouping across days at scale: a new day's stories join a state of N remembered stories.

The state is built as a digest leaves it: a record per story, with its article keys
and the lead (title and first sentence) of each article. Its stories are synthetic
events made of the AllSides dev events as `bench_scale.py` makes them (replica r > 0:
names swapped for invented ones, figures scaled), two articles each. The new day
brings `--today` stories: half continue a remembered event with its third article (no
shared URL or text: only what they say can match them), half are events not in the
state. The join is `continue_stories` as the digest runs it (content matching with the
records of the last three days: all of them here; today's articles are searched
from, the records are never regrouped), with an empty vector cache in the state folder
(its embedding time is reported apart).

Figures: the state file's size, its save and load time, the join's time (and its
embedding share), peak memory, and how many continuing stories found their record
(`update`) and how many new ones stayed `new`.

    .venv/bin/python benchmarks/bench_join.py [--stories 1000 10000 100000] [--today 200]
    .venv/bin/python benchmarks/bench_join.py --smoke   # 300 stories, temp dir

Each size runs in a fresh process. Writes benchmarks/results/join.json (`--out`).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_scale import child, kept_runs, write_runs  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "clusters" / "allsides-dev.jsonl"
DAY1 = datetime(2026, 12, 4, 20, 0, tzinfo=UTC)
DAY2 = datetime(2026, 12, 5, 20, 0, tzinfo=UTC)


def events_as_stories(n_stories: int, today: int):
    """(remembered stories: lists of 2 articles, today's continuing stories paired with
    the index of their remembered story, today's new stories)."""
    from bench_scale import perturb

    from summarize.digest.cluster import first_sentence
    from summarize.models import Article

    events = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]
    three = [e for e in events if len(e["articles"]) >= 3]

    def article(event, k, replica):
        a = event["articles"][k]
        text = perturb(first_sentence(a["text"]) + " " + a["text"][:400], replica)
        return Article(
            id=f"{event['event_id']}-r{replica}-{k}",
            title=perturb(a["title"], replica),
            outlet=f"{a['outlet']} #{replica}",
            url=f"{a['url']}?replica={replica}",
            text=text,
        )

    remembered, origin = [], []
    replica = 0
    while len(remembered) < n_stories:
        for event in three:
            if len(remembered) >= n_stories:
                break
            remembered.append([article(event, 0, replica), article(event, 1, replica)])
            origin.append((event, replica))
        replica += 1
    half = today // 2
    step = max(1, n_stories // half)
    continuing = []
    for s in range(0, n_stories, step)[:half]:
        event, rep = origin[s]
        continuing.append(([article(event, 2, rep)], s))
    fresh = []
    new_replica = replica + 1000
    for event in three[: today - half]:
        fresh.append([article(event, k, new_replica) for k in range(3)])
    return remembered, continuing, fresh


def one(n_stories: int, today: int) -> dict:
    """The state of `n_stories`, saved and loaded, and `today` stories joined to it."""
    from bench_scale import peak_mb

    from summarize.digest import state as st
    from summarize.digest.vectors import state_cache
    from summarize.model.embed import load
    from summarize.models import Claim, Story
    from summarize.settings import DigestSettings

    cut = DigestSettings().join_threshold  # the digest's join cut

    load()
    remembered, continuing, fresh = events_as_stories(n_stories, today)
    base_mb = peak_mb()
    with tempfile.TemporaryDirectory(prefix="bench-join-") as folder:
        state = st.load_state(folder, DAY1)  # empty: every story is new, nothing is scored
        day1 = [Story(articles=a, sentences=[Claim(text=a[0].title)]) for a in remembered]
        st.continue_stories(state, day1, now=DAY1, threshold=cut)
        ids = [s.story_id for s in day1]
        t = time.perf_counter()
        st.save_state(state, DAY1, keep_days=7)
        save_s = time.perf_counter() - t
        size = state.path.stat().st_size
        t = time.perf_counter()
        loaded = st.load_state(folder, DAY2)
        load_s = time.perf_counter() - t
        print(
            f"{n_stories}: state {size / 2**20:.1f} MB, save {save_s:.1f} s, load {load_s:.1f} s",
            file=sys.stderr,
            flush=True,
        )
        stories = [Story(articles=a, sentences=[Claim(text=a[0].title)]) for a, _ in continuing]
        stories += [Story(articles=a, sentences=[Claim(text=a[0].title)]) for a in fresh]
        cache = state_cache(folder)
        embed_s = 0.0

        def timed(texts):
            nonlocal embed_s
            started = time.perf_counter()
            out = cache(texts)
            embed_s += time.perf_counter() - started
            return out

        t = time.perf_counter()
        st.continue_stories(loaded, stories, now=DAY2, threshold=cut, embed_fn=timed)
        join_s = time.perf_counter() - t
    joined = sum(
        1
        for (story, (_, s)) in zip(stories, continuing, strict=False)
        if story.status == "update" and story.story_id == ids[s]
    )
    stayed_new = sum(1 for story in stories[len(continuing) :] if story.status == "new")
    return {
        "stories_in_state": n_stories,
        "leads_in_state": 2 * n_stories,
        "today_stories": len(stories),
        "today_articles": sum(len(s.articles) for s in stories),
        "state_file_mb": round(size / 2**20, 1),
        "save_s": round(save_s, 2),
        "load_s": round(load_s, 2),
        "join_s": round(join_s, 2),
        "join_embedding_s": round(embed_s, 2),
        "join_s_without_embedding": round(join_s - embed_s, 2),
        "texts_embedded": cache.embedded,
        "continuing_joined": f"{joined}/{len(continuing)}",
        "new_kept_new": f"{stayed_new}/{len(fresh)}",
        "peak_rss_mb_before": base_mb,
        "peak_rss_mb": peak_mb(),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stories", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--today", type=int, default=200, help="stories in the new day")
    ap.add_argument("--out", type=Path, default=None, help="default benchmarks/results/join.json")
    ap.add_argument("--smoke", action="store_true", help="300 stories, temp dir")
    ap.add_argument(
        "--keep", action="store_true", help="keep the other sizes already in --out (merge)"
    )
    ap.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one is not None:
        print(json.dumps(one(args.one, args.today)))
        return
    if args.smoke:
        args.stories, args.today = [300], 20
    if args.out is None:
        folder = Path(tempfile.mkdtemp(prefix="bench-join-")) if args.smoke else None
        args.out = (folder or ROOT / "benchmarks" / "results") / "join.json"
    runs = kept_runs(args.out, "stories_in_state", args.stories) if args.keep else []
    runs += [child(Path(__file__), n, ["--today", str(args.today)]) for n in args.stories]
    runs.sort(key=lambda r: r["stories_in_state"])
    write_runs(args.out, args.smoke, runs)
    print(
        "| stories in state | state file | save | load | join (embedding) | embedded "
        "| continuing joined | new kept new | peak RSS |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        print(
            f"| {r['stories_in_state']:,} | {r['state_file_mb']} MB | {r['save_s']} s "
            f"| {r['load_s']} s | {r['join_s']} s ({r['join_embedding_s']} s) "
            f"| {r['texts_embedded']} | {r['continuing_joined']} | {r['new_kept_new']} "
            f"| {r['peak_rss_mb']:,.0f} MB |"
        )
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
