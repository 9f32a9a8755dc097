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
(`cluster.rank_clusters`), so requests are deterministic and a rerun after an
interrupt replays finished stories from the model response cache. A story
whose summarization fails keeps its `error`; the digest still completes.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import date as date_type
from pathlib import Path

from summarize.digest.cluster import cluster_articles
from summarize.models import Article, Digest, Story, Usage
from summarize.sources.feeds import collect_articles
from summarize.story.pipeline import summarize_story

_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(value: str) -> timedelta:
    """'90m', '24h', '2d', '1w' -> timedelta; ValueError with the accepted forms."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*", value.lower())
    if not m or float(m.group(1)) <= 0:
        raise ValueError(f"--since {value!r}: expected a duration like 90m, 24h, 2d or 1w")
    return timedelta(**{_UNITS[m.group(2)]: float(m.group(1))})


def parse_day(value: str | date_type) -> date_type:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date_type):
        return value
    try:
        return date_type.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"--date {value!r}: expected a day like 2026-11-22") from None


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
        raise ValueError("give --date or --since, not both")
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


def build_digest(
    inputs: list[str],
    *,
    date: str | date_type | None = None,
    since: str | None = None,
    settings=None,
    jobs: int = 2,
    progress: bool = True,
    threshold: float | None = None,
    summarize: Callable[..., Story] = summarize_story,
    client=None,
    cache_dir: str | Path | None = None,
    now: datetime | None = None,
) -> Digest:
    """A digest of the articles in `inputs` inside the date window, stories in rank order.

    `summarize(articles, settings=, client=)` makes one Story; with the default
    one, a model client is opened from `settings` (the embedded model when none
    is configured) unless `client` is given. Raises ValueError only for a bad
    `date`/`since`; bad inputs become `Digest.problems`.
    """
    started = time.perf_counter()
    window = make_window(date, since, now)  # bad --date/--since fails before any work
    if settings is None:
        from summarize.settings import Settings

        settings = Settings()
    cache_dir = Path(cache_dir) if cache_dir is not None else Path(settings.cache_dir)

    with _progress(progress) as bars:
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
        window = select_window(articles, date, since, now)
        notes = []
        if window.undated:
            notes.append(f"{window.undated} undated article(s) (no publication date): kept")
        if window.label and not window.articles:
            notes.append(f"no articles {window.label}")

        clustering = bars.add_task("clustering", total=len(window.articles))
        clusters = cluster_articles(window.articles, threshold=threshold)
        bars.update(clustering, completed=len(window.articles))

        summarizing = bars.add_task("summarizing stories", total=len(clusters))
        if client is None and settings.uses_embedded_model:
            jobs = 1  # one local server on the machine's cores: parallel requests only queue
        stories = _summarize_all(
            clusters,
            summarize,
            settings=settings,
            client=client,
            jobs=jobs,
            on_done=lambda: bars.advance(summarizing),
        )

    digest = Digest(
        date=window.label,
        stories=stories,
        problems=problems,
        notes=notes,
        articles_read=len(window.articles),
        usage=_sum_usage(stories),
        elapsed_s=round(time.perf_counter() - started, 3),
    )
    if progress:
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
    return digest


def _summarize_all(
    clusters: list[list[Article]],
    summarize: Callable[..., Story],
    *,
    settings,
    client,
    jobs: int,
    on_done: Callable[[], None],
) -> list[Story]:
    """One Story per cluster, in cluster order; at most `jobs` summarized at once."""
    if not clusters:
        return []
    with contextlib.ExitStack() as stack:
        if client is None and summarize is summarize_story:
            from summarize.model.client import open_client

            try:
                client = stack.enter_context(open_client(settings))
            except Exception as exc:  # no model at all: every story says so, the digest stands
                for _ in clusters:
                    on_done()
                return [_failed_story(group, exc) for group in clusters]

        def one(group: list[Article]) -> Story:
            try:
                return summarize(group, settings=settings, client=client)
            except Exception as exc:  # one failed story must not sink the digest
                return _failed_story(group, exc)

        stories: list[Story | None] = [None] * len(clusters)
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {pool.submit(one, group): i for i, group in enumerate(clusters)}
            for future in as_completed(futures):
                stories[futures[future]] = future.result()
                on_done()
    return [s for s in stories if s is not None]
