"""Story work on a Dask cluster (`digest.cluster`): a local cluster of 2 worker processes
writes the same digest as one process against the fake model served on loopback, and a
worker killed mid-story loses nothing. The cluster and the one-process digest are made
once for the module (starting workers costs seconds on a small machine)."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest

from summarize.digest.build import build_digest
from summarize.errors import ConfigError
from summarize.model.cache import valid_entry

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from fake_model import fake_server, fake_settings  # noqa: E402

INPUTS = [str(REPO / "examples" / "articles")]
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
TIMINGS = {"elapsed_s", "latency_s"}


def _without_timings(value):
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if k not in TIMINGS}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


def _json(digest) -> dict:
    return _without_timings(json.loads(digest.model_dump_json()))


def _owner(port: int) -> int | None:
    """The pid of this process's descendant whose TCP connection has local `port`."""
    for child in psutil.Process().children(recursive=True):
        try:
            if any(c.laddr and c.laddr.port == port for c in child.net_connections("tcp")):
                return child.pid
        except psutil.Error:
            continue
    return None


class Server:
    """The fake model on loopback; `hook(peer)` sees each request first (False: drop it)."""

    def __init__(self):
        self.hook = None
        self.peers: list[int | None] = []  # the pid that sent each request

    def __call__(self, peer: tuple[str, int]) -> bool:
        self.peers.append(_owner(peer[1]))
        return self.hook(peer) if self.hook else True


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """(fake model URL, its request log, scheduler address, the one-process digest)."""
    from summarize.digest.engine import local_cluster

    tmp = tmp_path_factory.mktemp("cluster")
    server = Server()
    with fake_server(on_request=server) as url, local_cluster(2) as cluster:
        settings = fake_settings(tmp / "one", base_url=url, use_cache=True)
        one = build_digest(INPUTS, settings=settings, now=NOW)
        server.peers.clear()
        yield url, server, cluster.scheduler_address, one, tmp


def _on_cluster(setup, name: str):
    url, _, address, _, tmp = setup
    settings = fake_settings(tmp / name, base_url=url, use_cache=True, digest={"cluster": address})
    return build_digest(INPUTS, settings=settings, now=NOW), tmp / name


@pytest.mark.slow
def test_two_workers_write_the_same_digest_as_one_process(setup):
    _, server, _, one, _ = setup
    assert len(one.stories) >= 3 and not any(s.error for s in one.stories)
    two, _ = _on_cluster(setup, "two")
    assert _json(two) == _json(one)
    # the stories were summarized by both worker processes, not by this one
    senders = set(server.peers)
    assert os.getpid() not in senders and None not in senders
    assert len(senders) == 2


@pytest.mark.slow
def test_a_worker_killed_mid_story_loses_nothing(setup):
    _, server, _, one, _ = setup
    killed: list[int] = []
    lock = threading.Lock()

    def kill_once(peer: tuple[str, int]) -> bool:
        """At the second request: kill the worker waiting for this answer."""
        with lock:
            if killed or len(server.peers) < 2:
                return True
            pid = server.peers[-1]
            assert pid is not None and pid != os.getpid()
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
            return False  # that story gets no answer: its worker is gone

    server.peers.clear()
    server.hook = kill_once
    try:
        digest, cache = _on_cluster(setup, "killed")
    finally:
        server.hook = None
    assert killed and not psutil.pid_exists(killed[0])
    assert _json(digest) == _json(one)  # every story, none failed, the same answers
    entries = list((cache / "responses").rglob("*.json"))
    assert len(entries) == digest.usage.calls
    for path in entries:
        assert not path.name.startswith(".tmp-")
        assert valid_entry(json.loads(path.read_text(encoding="utf-8")))


@pytest.mark.slow
def test_the_breaker_stops_asking_on_the_cluster(setup):
    """The server fails the first request; the others wait (on an event the test sets
    once the digest has returned). With `max_failures` 1 the first failure trips the
    breaker: the stories not finished are marked, never asked again, and the digest does
    not wait for the requests in flight."""
    url, server, address, one, tmp = setup
    release = threading.Event()
    failed: list[int] = []
    lock = threading.Lock()

    def fail_first_hold_the_rest(peer: tuple[str, int]) -> bool:
        with lock:
            first = not failed
            failed.append(1)
        if not first:
            release.wait(120)
        return False  # no answer: a dropped connection, a server failure

    server.peers.clear()
    server.hook = fail_first_hold_the_rest
    settings = fake_settings(
        tmp / "breaker", base_url=url, digest={"cluster": address, "max_failures": 1}
    )
    try:
        digest = build_digest(INPUTS, settings=settings, now=NOW)
    finally:
        release.set()
        server.hook = None
    asking = [s for s in digest.stories if len(s.outlets) > 1]  # one source asks nothing
    assert len(asking) == 3 and all(s.error for s in asking)
    tripped = [s for s in asking if s.error.startswith("not summarized: the model server failed")]
    assert len(tripped) >= 1 and len(asking) - len(tripped) == 1  # the one that failed
    assert len(server.peers) <= 2  # one request a worker: the rest were never asked
    assert any("not summarized" in note for note in digest.notes)


@pytest.mark.slow
def test_ctrl_c_keeps_the_finished_stories_and_cancels_the_rest(setup):
    from functools import partial

    from summarize.digest.build import StoryRun
    from summarize.digest.engine import summarize_on_cluster
    from summarize.story.pipeline import summarize_story

    url, _, address, one, tmp = setup
    clusters = [story.articles for story in one.stories]
    run = StoryRun(stories=[None] * len(clusters))
    done: list[int] = []

    def on_done() -> None:  # Ctrl-C as the first story comes back
        done.append(1)
        raise KeyboardInterrupt

    settings = fake_settings(tmp / "ctrl-c", base_url=url, digest={"cluster": address})
    summary = partial(summarize_story, check_events=False)
    summarize_on_cluster(run, clusters, summary, settings=settings, on_done=on_done)
    kept = [s for s in run.stories if s is not None]
    assert run.interrupted and len(done) == 1 and len(kept) == 1 and not kept[0].error
    left = len(clusters) - 1
    assert run.notes == [
        f"incomplete: interrupted with {left} of {len(clusters)} stories not summarized; "
        "run it again to finish (answers already given come from the cache)"
    ]


def _write_entries(directory: str, writer: int, count: int) -> None:
    from summarize.model.cache import CACHE_VERSION, ResponseCache

    cache = ResponseCache(directory)
    for n in range(count):
        text = f"writer {writer} entry {n} " + "x" * 20_000  # large: a torn write would show
        entry = {"v": CACHE_VERSION, "content": text, "finish_reason": "stop", "mode": "text"}
        cache.put("ab" + "0" * 62, entry)


@pytest.mark.slow
def test_cache_entries_stay_whole_when_processes_write_one_key_at_once(tmp_path):
    """Workers of a cluster may answer the same request at once: every read sees a whole
    entry (written to a temp file, then renamed), never a torn one."""
    import multiprocessing

    from summarize.model.cache import ResponseCache

    context = multiprocessing.get_context("spawn")
    writers = [
        context.Process(target=_write_entries, args=(str(tmp_path), w, 150)) for w in range(3)
    ]
    for process in writers:
        process.start()
    cache, seen = ResponseCache(tmp_path), 0
    while any(p.is_alive() for p in writers):
        entry = cache.get("ab" + "0" * 62)
        if entry is None:  # absent before the first write; a torn file also reads as None
            assert seen == 0
        else:
            assert valid_entry(entry) and len(entry["content"]) > 20_000
            seen += 1
    for process in writers:
        process.join()
        assert process.exitcode == 0
    assert seen > 0 and valid_entry(cache.get("ab" + "0" * 62))
    assert [p.name for p in cache.root.rglob("*")] == ["ab", "ab" + "0" * 62 + ".json"]


def test_a_bad_local_cluster_size_is_a_config_error():
    from summarize.digest.engine import connect

    for address in ("local:0", "local:two"):
        with pytest.raises(ConfigError, match="local:N"), connect(address):
            pass


@pytest.fixture
def no_dask(monkeypatch):
    """As if Dask's distributed were not installed."""
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "distributed" else real(name, *a),
    )


def test_without_dask_the_cluster_option_says_how_to_install_it(tmp_path, no_dask):
    settings = fake_settings(tmp_path, digest={"cluster": "local:2"})
    with pytest.raises(ConfigError, match=r"summarize\[cluster\]"):
        build_digest(INPUTS, settings=settings, now=NOW)


def test_cli_cluster_without_dask_is_one_error_line(tmp_path, no_dask):
    from typer.testing import CliRunner

    from summarize.cli import app

    args = ["digest", *INPUTS, "--out", str(tmp_path / "out"), "--no-state"]
    result = CliRunner().invoke(app, [*args, "--cluster", "local:2"])
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and lines[0].startswith("error:") and "summarize[cluster]" in lines[0]
    assert not (tmp_path / "out").exists()


def test_the_default_digest_never_imports_dask(tmp_path):
    code = (
        "import sys; from summarize.digest.build import build_digest; "
        "from summarize.cli import app; "
        "print(any(m.split('.')[0] in ('dask', 'distributed') for m in sys.modules))"
    )
    import subprocess

    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert out.stdout.strip() == "False"
