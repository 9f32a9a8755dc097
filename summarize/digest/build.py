"""The daily digest: collect → date window → cluster → summarize each story → `Digest`.

Date window rules (`select_window`):
- `date="2026-11-22"`: articles published on that UTC day.
- `since="24h"` (also `90m`, `2d`, `1w`): published at or after `now - since`,
  with no upper bound (an article dated a little ahead is a zone slip, not news
  to drop).
- A naive timestamp (a page giving a date without a zone) is read as UTC.
- An article without a date is kept, and counted as "undated" in the run
  summary (and in `Digest.problems`): a missing date is no evidence of age,
  and dropping it would silently lose news from outlets that omit dates.

Stories are summarized concurrently, at most `jobs` at once, by threads that
share one model client (the openai client is thread-safe; answers are cached
on disk per request). The articles of a story are always in the same order
(`cluster.order_articles`), so requests are deterministic and a rerun after an
interrupt replays finished stories from the model response cache. Stories are
ranked by breadth of coverage (`rank_stories`: outlets, then sides of the
outlets file, then articles, then recency).

Continuity (`state_dir`, `digest/state.py`): after the stories are summarized,
each is matched with the stories written before and gets its `status`; the
state is saved even when Ctrl-C cut the run short (for the finished stories). A story
whose summarization fails keeps its `error`; the digest still completes.

Limits (`settings.story.time_budget_s`, `settings.digest.time_budget_s`,
`settings.digest.max_failures`): every model call of a story ends by the story's
budget and by the digest's; stories not started when the digest's budget is
spent, or after the server failed `max_failures` stories in a row (circuit
breaker), are marked failed with the reason at once, without asking the server.

Ctrl-C: the first one cancels the client (no new calls, no retry waits), drops
the stories not started, abandons those in flight (the worker threads are
daemons, so nothing waits for them) and raises `DigestInterrupted`, whose
`.digest` holds the stories finished before it (`incomplete=True`).
"""

from __future__ import annotations

import contextlib
import queue
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import date as date_type
from functools import partial
from pathlib import Path

from summarize.digest.cluster import group_articles, latest, order_articles
from summarize.digest.coverage import (
    Outlets,
    breadth,
    coverage,
    labelled,
    load_outlets,
    side_spread,
)
from summarize.digest.state import state_lock, story_id_for
from summarize.digest.vectors import VectorCache, state_cache
from summarize.errors import InputError, ModelError
from summarize.models import Article, Digest, Story, Usage
from summarize.sources.feeds import collect_articles
from summarize.story.pipeline import summarize_story

_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(value: str) -> timedelta:
    """'90m', '24h', '2d', '1w' -> timedelta; InputError with the accepted forms."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*", value.lower())
    if not m or float(m.group(1)) <= 0:
        raise InputError(f"--since {value!r}: expected a duration like 90m, 24h, 2d or 1w")
    return timedelta(**{_UNITS[m.group(2)]: float(m.group(1))})


def parse_day(value: str | date_type) -> date_type:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date_type):
        return value
    try:
        return date_type.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"--date {value!r}: expected a day like 2026-11-22") from None


def as_utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


@dataclass
class Window:
    """The window's bounds (UTC, end exclusive) and what it did."""

    start: datetime | None = None
    end: datetime | None = None
    label: str | None = None
    undated: int = 0
    outside: int = 0
    articles: list[Article] = field(default_factory=list)

    def keeps(self, published: datetime | None) -> bool:
        if published is None:
            return True
        when = as_utc(published)
        return (self.start is None or when >= self.start) and (self.end is None or when < self.end)


def make_window(
    date: str | date_type | None = None, since: str | None = None, now: datetime | None = None
) -> Window:
    """The window for `--date` or `--since` (not both); no bounds when neither is given."""
    if date is not None and since is not None:
        raise InputError("give --date or --since, not both")
    if date is not None:
        day = parse_day(date)
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return Window(start=start, end=start + timedelta(days=1), label=day.isoformat())
    if since is not None:
        now = as_utc(now or datetime.now(UTC))
        return Window(start=now - parse_since(since), label=f"since {since.strip()}")
    return Window()


def select_window(
    articles: list[Article],
    date: str | date_type | None = None,
    since: str | None = None,
    now: datetime | None = None,
) -> Window:
    """The articles inside the window (`.articles`), with undated/outside counts."""
    window = make_window(date, since, now)
    for article in articles:
        if article.published is None:
            window.undated += 1
        if window.keeps(article.published):
            window.articles.append(article)
        else:
            window.outside += 1
    return window


class DigestInterrupted(KeyboardInterrupt):
    """Ctrl-C during `build_digest`: `.digest` holds the stories finished before it,
    marked `incomplete`. A KeyboardInterrupt, so a caller that ignores it still stops."""

    def __init__(self, digest: Digest):
        super().__init__("interrupted")
        self.digest = digest


# After the digest's deadline, how long to wait for stories in flight (their model calls
# end at the deadline; this bounds the validation work left) before giving up on them.
IN_FLIGHT_GRACE_S = 30.0


def _failed_story(articles: list[Article], exc: BaseException) -> Story:
    return Story(articles=articles, error=f"summarization failed: {type(exc).__name__}: {exc}")


def _sum_usage(stories: list[Story]) -> Usage:
    total = Usage()
    for s in stories:
        for name in Usage.model_fields:
            setattr(total, name, getattr(total, name) + getattr(s.usage, name))
    return total


def _progress(enabled: bool):
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=not enabled,
    )


def _summarize_cluster(articles: list[Article], *, settings=None, client=None, sides=None) -> Story:
    """One digest story: the articles are one event by the digest's own grouping;
    `sides`: the values each side label takes over the whole digest."""
    return summarize_story(
        articles, settings=settings, client=client, check_events=False, sides=sides
    )


def build_digest(
    inputs: list[str],
    *,
    date: str | date_type | None = None,
    since: str | None = None,
    settings=None,
    jobs: int | None = None,
    progress: bool = False,
    threshold: float | None = None,
    summarize: Callable[..., Story] | None = None,
    client=None,
    cache_dir: str | Path | None = None,
    now: datetime | None = None,
    state_dir: str | Path | None = None,
    outlets: str | Path | Outlets | None = None,
) -> Digest:
    """A digest of the articles in `inputs` inside the date window, stories in rank order.

    Ctrl-C raises `DigestInterrupted` carrying the digest of the stories finished
    before it (`incomplete=True`).

    `summarize(articles, settings=, client=)` makes one Story; with the default one,
    a model client is opened from `settings` (the embedded model when none
    is configured) unless `client` is given. `jobs` and the clustering `threshold`
    default to `settings.digest` (ConfigError when out of its range). Raises InputError
    only for a bad `date`/`since`; bad inputs become `Digest.problems`.
    `articles_read` counts every article read, in the date window or not.

    Silent unless `progress=True` (the CLI's): then progress bars and a closing
    summary line go to stderr.

    Coverage: `outlets` (default `settings.digest.outlets_file`) labels the outlets
    (`digest.coverage`); each story gets its `coverage`, and stories are ranked by
    breadth of coverage, then articles, then recency. Continuity: with `state_dir`,
    stories are matched with those written before (`digest.state`): each gets a
    `status` and the state is saved; without it, `status` stays None.
    """
    summarize = summarize or _summarize_cluster
    started = time.perf_counter()
    window = make_window(date, since, now)  # bad --date/--since fails before any work
    if settings is None:
        from summarize.settings import Settings

        settings = Settings()
    cache_dir = Path(cache_dir) if cache_dir is not None else Path(settings.cache_dir)
    options = settings.digest.updated(jobs=jobs, threshold=threshold)  # ConfigError if out of range
    jobs, threshold = options.jobs, options.threshold
    if options.cluster:  # a missing engine fails now, not after reading and grouping
        from summarize.digest.engine import check_installed

        check_installed()
    if outlets is None:
        outlets = settings.digest.outlets_file
    labels = (
        outlets
        if isinstance(outlets, Outlets)
        else load_outlets(outlets, settings.digest.sides)  # ConfigError
    )
    sides = list(settings.digest.sides)
    generated = as_utc(now or datetime.now(UTC)).replace(microsecond=0)

    # one digest at a time on a state folder: held from reading to the saved state
    held = (
        state_lock(state_dir, settings.digest.state_lock_wait_s)
        if state_dir is not None
        else contextlib.nullcontext()
    )
    with held, _progress(progress) as bars:
        tasks: dict[str, int] = {}

        def hook(name: str, completed: int | None = None) -> None:
            if name not in tasks:
                tasks[name] = bars.add_task(name, total=None)
            if completed is None:
                bars.advance(tasks[name])
            else:
                bars.update(tasks[name], completed=completed)

        articles, problems = collect_articles(
            list(inputs),
            settings=settings,
            cache_dir=cache_dir,
            keep_date=window.keeps,
            progress=hook,
        )
        articles = [labelled(a, labels) for a in articles]
        window = select_window(articles, date, since, now)
        notes = []
        if window.undated:
            notes.append(f"{window.undated} undated article(s) (no publication date): kept")
        if window.label and not window.articles:
            notes.append(f"no articles {window.label}")
        elif window.outside:
            kept = f"{len(window.articles)} of {len(articles)} articles"
            notes.append(f"{kept} in the date window ({window.label})")

        working = bool(window.articles)  # no bar (and no statistics) before an input error
        clustering = bars.add_task("clustering", total=len(window.articles), visible=working)
        vector_cache = state_cache(state_dir) if state_dir is not None else None
        grouping = group_articles(window.articles, threshold=threshold, embed_fn=vector_cache)
        spread = side_spread(window.articles, labels, sides)
        clusters = rank_stories(
            grouping.stories, lambda g: breadth(coverage(g, labels, spread), sides)
        )
        covered = [coverage(g, labels, spread) for g in clusters]
        if summarize is _summarize_cluster:  # each story knows which sides it lacks
            summarize = partial(summarize, sides={k: sorted(v) for k, v in spread.items()})
        bars.update(clustering, completed=len(window.articles))

        summarizing = bars.add_task("summarizing stories", total=len(clusters), visible=working)
        if client is None and settings.uses_embedded_model:
            jobs = 1  # one local server on the machine's cores: parallel requests only queue
        run = _summarize_all(
            clusters,
            summarize,
            settings=settings,
            client=client,
            jobs=jobs,
            on_done=lambda: bars.advance(summarizing),
        )
        stories = []
        for cov, story in zip(covered, run.stories, strict=True):
            if story is not None:
                story.coverage = cov
                stories.append(story)
        notes += run.notes
        if state_dir is not None:
            notes += _continue(
                state_dir,
                stories,
                generated,
                options.join_threshold,
                grouping.vectors,
                options.state_days,
                vector_cache,
            )
        else:
            for story in stories:
                story.story_id = story_id_for(story.articles)

    digest = Digest(
        date=window.label,
        stories=stories,
        problems=problems,
        notes=notes,
        articles_read=len(articles),
        usage=_sum_usage(stories),
        elapsed_s=round(time.perf_counter() - started, 3),
        incomplete=run.interrupted,
        generated=generated,
    )
    if progress and working:
        from rich.console import Console

        failed = sum(1 for s in stories if s.error)
        supported = sum(len(s.sentences) for s in stories)
        removed = sum(len(s.removed) for s in stories)
        tokens = digest.usage.prompt_tokens + digest.usage.completion_tokens
        Console(stderr=True).print(
            f"{len(articles)} articles read, {len(window.articles)} in the window "
            f"({window.undated} undated, {window.outside} outside), {len(stories)} stories"
            + (f", {failed} failed" if failed else "")
            + f", {supported} sentences supported, {removed} removed"
            + f", {digest.usage.calls} model calls ({digest.usage.cached_calls} cached)"
            + f", {tokens} tokens, {len(problems)} input problems, {digest.elapsed_s:.1f} s",
            highlight=False,
        )
    if run.interrupted:
        raise DigestInterrupted(digest)
    return digest


def rank_stories(
    clusters: list[list[Article]], breadth_of: Callable[[list[Article]], tuple[int, int]]
) -> list[list[Article]]:
    """Broadest coverage first (`breadth_of`: distinct outlets, distinct side values), then
    most articles, then most recent; articles inside a story oldest first."""

    def key(group: list[Article]):
        outlets, sides = breadth_of(group)
        return (-outlets, -sides, -len(group), -latest(group), min(a.id for a in group))

    return [order_articles(g) for g in sorted(clusters, key=key)]


def _continue(
    state_dir: str | Path,
    stories: list[Story],
    now: datetime,
    threshold: float,
    vectors: dict,
    keep_days: int,
    vector_cache: VectorCache,
) -> list[str]:
    """Statuses from the state in `state_dir`, which is then saved; the notes to add."""
    from summarize.digest.state import continue_stories, load_state, save_state

    state = load_state(state_dir, now)
    first = not state.records
    continue_stories(
        state, stories, now=now, threshold=threshold, vectors=vectors, embed_fn=vector_cache
    )
    save_state(state, now, keep_days)
    vector_cache.save(keep_days=keep_days)
    if first:
        return [*state.notes, f"no earlier digest remembered in {state.folder}: every story is new"]
    counts = {s: sum(1 for story in stories if story.status == s) for s in _STATUSES}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    return state.notes + ([f"since the last digest: {summary}"] if summary else [])


_STATUSES = ("new", "update", "unchanged")


@dataclass
class StoryRun:
    """What summarizing the clusters gave: a Story per cluster (None: not finished
    before an interrupt), notes for the digest, and whether Ctrl-C stopped it."""

    stories: list[Story | None]
    notes: list[str] = field(default_factory=list)
    interrupted: bool = False

    def interrupt(self) -> None:
        """Ctrl-C (or SIGTERM): the stories not finished stay None, the digest says so."""
        left = sum(1 for s in self.stories if s is None)
        self.interrupted = True
        self.notes.append(
            f"incomplete: interrupted with {left} of {len(self.stories)} stories "
            "not summarized; run it again to finish (answers already given come from the cache)"
        )


def _summarize_all(
    clusters: list[list[Article]],
    summarize: Callable[..., Story],
    *,
    settings,
    client,
    jobs: int,
    on_done: Callable[[], None],
) -> StoryRun:
    """One Story per cluster, in cluster order; at most `jobs` summarized at once, within
    the digest's time budget, stopped by the circuit breaker or by Ctrl-C."""
    run = StoryRun(stories=[None] * len(clusters))
    if not clusters:
        return run
    if settings.digest.cluster:  # one Dask task per story, on the cluster (digest/engine.py)
        from summarize.digest.engine import summarize_on_cluster

        summarize_on_cluster(run, clusters, summarize, settings=settings, on_done=on_done)
        return run
    with contextlib.ExitStack() as stack:
        if client is None and getattr(summarize, "func", summarize) is _summarize_cluster:
            from summarize.model.client import open_client

            try:
                client = stack.enter_context(open_client(settings))
            except KeyboardInterrupt:
                run.interrupted = True
                return run
            except Exception as exc:  # no model at all: every story says so, the digest stands
                for _ in clusters:
                    on_done()
                run.stories = [_failed_story(group, exc) for group in clusters]
                return run
        _run_pool(
            run, clusters, summarize, settings=settings, client=client, jobs=jobs, on_done=on_done
        )
    return run


def _run_pool(
    run: StoryRun,
    clusters: list[list[Article]],
    summarize: Callable[..., Story],
    *,
    settings,
    client,
    jobs: int,
    on_done: Callable[[], None],
) -> None:
    """Fill `run.stories` with daemon worker threads; see the module docstring."""
    from summarize.model.client import time_budget

    budget_s = settings.digest.time_budget_s
    deadline = time.monotonic() + budget_s
    max_failures = settings.digest.max_failures
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for i in range(len(clusters)):
        todo.put(i)
    done: queue.SimpleQueue[tuple[int, Story, bool]] = queue.SimpleQueue()
    stop = threading.Event()  # breaker, budget or Ctrl-C: start no new story
    cancelled = threading.Event()  # Ctrl-C: what finishes after it is not kept
    lock = threading.Lock()
    streak: list[str] = []  # errors of the stories the server failed in a row
    breaker: list[str] = []  # the breaker's reason, once it trips

    def count(story: Story, server_failed: bool) -> None:
        """The circuit breaker, decided by the worker before it takes another story."""
        with lock:
            if not server_failed:
                streak.clear()
                return
            streak.append(story.error or "")
            if len(streak) >= max_failures and not breaker:
                breaker.append(
                    f"not summarized: the model server failed {len(streak)} stories in a row "
                    f"(last: {streak[-1]})"
                )
                stop.set()

    def worker() -> None:
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            with time_budget(budget_s, "digest", deadline=deadline) as budget:
                try:
                    story = summarize(clusters[i], settings=settings, client=client)
                    server_failed = bool(story.error) and bool(budget.failures)
                except Exception as exc:  # one failed story must not sink the digest
                    story = _failed_story(clusters[i], exc)
                    server_failed = isinstance(exc, ModelError) or bool(budget.failures)
            late = cancelled.is_set()
            if not late:
                count(story, server_failed)
            done.put((i, story, late))

    workers = [
        threading.Thread(target=worker, name=f"digest-story-{n}", daemon=True)
        for n in range(max(1, min(jobs, len(clusters))))
    ]
    for thread in workers:
        thread.start()
    try:
        while any(t.is_alive() for t in workers) or not done.empty():
            try:
                i, story, _ = done.get(timeout=0.1)
            except queue.Empty:
                if time.monotonic() > deadline + IN_FLIGHT_GRACE_S:
                    break  # abandon what is still in flight: marked failed below
                continue
            run.stories[i] = story
            on_done()
    except KeyboardInterrupt:
        cancelled.set()
        stop.set()
        if hasattr(client, "cancel"):
            client.cancel()
        while not done.empty():  # stories finished before Ctrl-C are kept
            i, story, late = done.get_nowait()
            if not late:
                run.stories[i] = story
        run.interrupt()
        return
    missing = [i for i, s in enumerate(run.stories) if s is None]
    if not missing:
        return
    spent = f"not summarized: the digest's time budget of {budget_s:g} s was spent"
    reason = breaker[0] if breaker else spent
    for i in missing:
        run.stories[i] = Story(articles=clusters[i], error=reason)
        on_done()
    run.notes.append(f"{len(missing)} stories {reason}")
