"""A digest run as a real process and signalled at one stage, on an event (never after a
guessed delay). Shared by the test of every stage (tests/test_shutdown.py) and the
stop-time benchmark (benchmarks/bench_shutdown.py).

Reading: the digest fetches two pages that never answer; the signal goes once both were
asked for. Grouping and writing: a small wrapper sends the process its own signal from
inside the stage (`group_articles`, and `write_output` once the first file is written).
Mid-story: the first story was answered and the second story's request reached the
server, which never answers it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.fake_server import HANG, FakeServer, chat

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples" / "articles"
EMPTY_DRAFT = '{"headline": "", "sentences": []}'
STAGES = ("reading", "grouping", "mid-story", "writing")
SIGNALS = {"SIGINT": (signal.SIGINT, 130), "SIGTERM": (signal.SIGTERM, 143)}
REQUEST_TIMEOUT_S = 120  # a hung request's own limit: stopping must not wait for it

# The CLI, with the signal sent from inside one stage; it prints the moment it sent it.
WRAPPER = """
import os, sys, time
import summarize.digest.build as build
import summarize.render as render
from summarize.cli import app

stage, sig = sys.argv[1], int(sys.argv[2])

def send():
    print(f"signal sent at {time.time()}", file=sys.stderr, flush=True)
    os.kill(os.getpid(), sig)

if stage == "grouping":
    group = build.group_articles
    def grouping(*args, **kwargs):
        send()
        return group(*args, **kwargs)
    build.group_articles = grouping
elif stage == "writing":
    write, written = render.write_output, []
    def writing(*args, **kwargs):
        result = write(*args, **kwargs)
        written.append(args)
        if len(written) == 1:
            send()
        return result
    render.write_output = writing
sys.argv = ["summarize", *sys.argv[3:]]
app()
"""


@dataclass
class Stopped:
    status: int | None
    stderr: str
    stopped_in_s: float  # from the signal to the exit
    requests: int  # requests the fake server received


def environment(tmp_path: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SUMMARIZE_", "OPENAI_"))}
    return {
        **keep,
        "PYTHONPATH": str(REPO),
        "SUMMARIZE_CONFIG": os.devnull,
        "SUMMARIZE_CACHE_DIR": str(tmp_path / "cache"),
        "SUMMARIZE_MODEL": "fake-model",
        "SUMMARIZE_MAX_RETRIES": "1",
        "SUMMARIZE_RETRY_MAX_WAIT_S": "0.01",
        "SUMMARIZE_TIMEOUT_S": str(REQUEST_TIMEOUT_S),
    }


def _wait_for(condition, proc: subprocess.Popen, what: str, bound_s: float = 300) -> None:
    """Until `condition()` (an event), the process ends, or a generous bound for busy
    cores passes; the bound only turns a hang into a failure."""
    deadline = time.monotonic() + bound_s
    while not condition() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert condition(), f"{what} never happened (exit status {proc.poll()})"


def stop_at(stage: str, sig: int, tmp_path: Path) -> Stopped:
    """A digest of the example articles (or, for reading, of two pages) into
    `tmp_path/out`, sent `sig` at `stage`."""
    script = [chat(EMPTY_DRAFT)] if stage == "mid-story" else []
    default = chat(EMPTY_DRAFT) if stage in ("grouping", "writing") else HANG
    with FakeServer(script, default=default) as server:
        inputs = [str(EXAMPLES)]
        if stage == "reading":
            inputs = [f"{server.base_url}/page/{n}" for n in (1, 2)]
        args = [*inputs, "--out", str(tmp_path / "out"), "--jobs", "1"]
        args += ["--base-url", server.base_url, "--state", str(tmp_path / "state")]
        cmd = [sys.executable, "-c", WRAPPER, stage, str(int(sig)), "digest", *args]
        proc = subprocess.Popen(
            cmd, env=environment(tmp_path), stderr=subprocess.PIPE, stdout=subprocess.DEVNULL
        )
        sent = 0.0
        try:
            if stage in ("reading", "mid-story"):
                # reading: both pages were asked for; mid-story: the second story asked
                _wait_for(lambda: len(server.requests) >= 2, proc, f"{stage}: two requests")
                sent = time.time()
                proc.send_signal(sig)
            _, raw = proc.communicate(timeout=300)
        finally:
            if proc.poll() is None:
                proc.kill()
        ended = time.time()
        requests = len(server.requests)
    stderr = raw.decode("utf-8", "replace")
    if stage in ("grouping", "writing"):
        line = next((x for x in stderr.splitlines() if x.startswith("signal sent at ")), None)
        assert line, stderr
        sent = float(line.removeprefix("signal sent at "))
    return Stopped(proc.returncode, stderr, ended - sent, requests)
