"""Story work on a Dask cluster (`digest.cluster`, `summarize digest --cluster ADDRESS`).

Only this module imports Dask, and only when a cluster is asked for: the default digest
runs in one process with no engine installed (`pip install 'summarize[cluster]'` adds
it). `ADDRESS` is a running scheduler (`tcp://host:8786`, started with `dask scheduler`
and `dask worker tcp://host:8786` on each machine) or `local:N`, N worker processes on
this machine, started for the digest and stopped after it.

One task per story: the story's articles, the settings and the summarize function go to
a worker; the worker opens its own model client from the settings (once per worker
process, kept for its next stories: the embedded model means one server per worker)
and sends back the `Story`. At most `IN_FLIGHT_PER_THREAD` stories per worker thread are
submitted at a time, so the scheduler never holds a whole day's text.

A worker that dies mid-story loses nothing: the scheduler gives its stories to another
worker (up to Dask's `distributed.scheduler.allowed-failures`, 3 by default; a story that
kills more workers than that is marked failed). Nothing is written by halves: the answer
cache is written atomically (a temp file, then a rename, safe across processes) and
the continuity state is written once, by the digest's own process, after the stories.

Budgets, the circuit breaker and Ctrl-C behave as with `--jobs`: a story that starts
after the digest's deadline is not summarized; after `max_failures` stories in a row
failed by the server, or at Ctrl-C, the stories not yet finished are cancelled (those
finished are kept).
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import importlib.util
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from summarize.errors import ConfigError, ModelError
from summarize.models import Article, Story

IN_FLIGHT_PER_THREAD = 4
INSTALL_HINT = "pip install 'summarize[cluster]'"

# ---- on the worker ---------------------------------------------------------------------

_CLIENTS: dict[str, Any] = {}
_OPENED = contextlib.ExitStack()
_LOCK = threading.Lock()


def _worker_client(settings):
    """This worker process's model client for `settings`, opened once and kept."""
    secret = settings.api_key.get_secret_value() if settings.api_key else ""
    key = hashlib.sha256((settings.model_dump_json() + secret).encode()).hexdigest()
    with _LOCK:
        if key not in _CLIENTS:
            from summarize.model.client import open_client

            if not _CLIENTS:
                atexit.register(_OPENED.close)
            _CLIENTS[key] = _OPENED.enter_context(open_client(settings))
        return _CLIENTS[key]


def story_task(
    summarize: Callable[..., Story], articles: list[Article], settings, deadline: float
) -> tuple[Story, bool]:
    """Runs on a worker: (the story, whether the server failed it). `deadline`: the
    digest's, in `time.time()` seconds (clocks of one cluster agree closely enough)."""
    from summarize.model.client import time_budget

    left = deadline - time.time()
    if left <= 0:
        return Story(articles=articles, error=_spent(settings)), False
    with time_budget(
        settings.digest.time_budget_s, "digest", deadline=time.monotonic() + left
    ) as budget:
        try:
            story = summarize(articles, settings=settings, client=_worker_client(settings))
            return story, bool(story.error) and bool(budget.failures)
        except Exception as exc:  # one failed story must not sink the digest
            failed = isinstance(exc, ModelError) or bool(budget.failures)
            return _failed(articles, exc), failed


def _failed(articles: list[Article], exc: BaseException) -> Story:
    return Story(articles=articles, error=f"summarization failed: {type(exc).__name__}: {exc}")


def _spent(settings) -> str:
    budget = settings.digest.time_budget_s
    return f"not summarized: the digest's time budget of {budget:g} s was spent"


# ---- in the digest's process -----------------------------------------------------------


def check_installed() -> None:
    """ConfigError naming the fix when Dask's distributed is not installed."""
    if importlib.util.find_spec("distributed") is None:
        raise ConfigError(f"--cluster needs Dask's distributed: {INSTALL_HINT}")


def local_cluster(workers: int):
    """A Dask LocalCluster of `workers` processes of one thread each, on loopback, with
    no dashboard (a context manager; `.scheduler_address` to connect to it)."""
    import distributed

    return distributed.LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )


@contextlib.contextmanager
def connect(address: str) -> Iterator[Any]:
    """A Dask client for `address` (`tcp://host:port`, or `local:N` to start N worker
    processes here for the block); ConfigError naming the fix when Dask is missing."""
    check_installed()
    import distributed

    if address.startswith("local:"):
        try:
            workers = int(address.removeprefix("local:"))
        except ValueError:
            workers = 0
        if workers < 1:
            raise ConfigError(f"--cluster {address!r}: expected local:N with N >= 1")
        with local_cluster(workers) as cluster, distributed.Client(cluster) as client:
            yield client
        return
    try:
        client = distributed.Client(address, timeout=30)
    except OSError as exc:
        raise ConfigError(f"--cluster {address!r}: no scheduler answers ({exc})") from None
    with client:
        yield client


def summarize_on_cluster(
    run,
    clusters: list[list[Article]],
    summarize: Callable[..., Story],
    *,
    settings,
    on_done: Callable[[], None],
) -> None:
    """Fill `run.stories` (and `run.notes`, `run.interrupted`) as the thread pool does,
    one Dask task per story on `settings.digest.cluster`."""
    from distributed import as_completed

    deadline = time.time() + settings.digest.time_budget_s
    with connect(settings.digest.cluster) as dask:
        threads = max(1, sum(dask.nthreads().values()))
        todo = iter(range(len(clusters)))
        index: dict[Any, int] = {}

        def submit(count: int) -> list:
            futures = []
            for i in todo:
                future = dask.submit(
                    story_task, summarize, clusters[i], settings, deadline, pure=False
                )
                index[future] = i
                futures.append(future)
                if len(futures) >= count:
                    break
            return futures

        pending = as_completed(submit(IN_FLIGHT_PER_THREAD * threads))
        streak: list[str] = []
        reason = ""
        try:
            for future in pending:
                i = index.pop(future)
                try:
                    story, server_failed = future.result()
                except Exception as exc:  # the story killed its workers, or did not unpickle
                    story, server_failed = _failed(clusters[i], exc), False
                run.stories[i] = story
                on_done()
                streak = [*streak, story.error or ""] if server_failed else []
                if len(streak) >= settings.digest.max_failures:
                    reason = (
                        f"not summarized: the model server failed {len(streak)} stories "
                        f"in a row (last: {streak[-1]})"
                    )
                    break
                pending.update(submit(1))
        except KeyboardInterrupt:
            dask.cancel(list(index))
            run.interrupt()
            return
        dask.cancel(list(index))
    missing = [i for i, s in enumerate(run.stories) if s is None]
    for i in missing:
        run.stories[i] = Story(articles=clusters[i], error=reason)
        on_done()
    spent = [s for s in run.stories if s is not None and s.error == _spent(settings)]
    if missing:
        run.notes.append(f"{len(missing)} stories {reason}")
    elif spent:
        run.notes.append(f"{len(spent)} stories {_spent(settings)}")
