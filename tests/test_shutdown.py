"""One shutdown path for SIGINT and SIGTERM, at every stage of a digest: reading,
grouping, mid-story and writing. Each run is a real process (the exit, its status and
what is left on disk are what a scheduler sees); every signal is sent on an event (a
request reached the fake server, the stage's own function was entered), never after a
guessed delay, so the matrix holds on busy cores.

Reading: the digest fetches two pages that never answer. Grouping and writing: a small
wrapper sends the process its own signal from inside the stage (`group_articles`, and
`write_output` once the first file is written). Mid-story: the second story's request
reached the server, which never answers it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fake_server import HANG, FakeServer, chat

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples" / "articles"
EMPTY_DRAFT = '{"headline": "", "sentences": []}'
STOP_WITHIN_S = 5

# Runs the CLI with the signal sent from inside one stage. It prints the moment it sent
# it, so the test measures the time from the signal to the exit.
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

SIGNALS = {"SIGINT": (signal.SIGINT, 130), "SIGTERM": (signal.SIGTERM, 143)}
STAGES = ("reading", "grouping", "mid-story", "writing")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SUMMARIZE_", "OPENAI_"))}
    return {
        **keep,
        "PYTHONPATH": str(REPO),
        "SUMMARIZE_CONFIG": os.devnull,
        "SUMMARIZE_CACHE_DIR": str(tmp_path / "cache"),
        "SUMMARIZE_MODEL": "fake-model",
        "SUMMARIZE_MAX_RETRIES": "1",
        "SUMMARIZE_RETRY_MAX_WAIT_S": "0.01",
    }


def _wait_for(condition, proc: subprocess.Popen, what: str, bound_s: float = 180) -> None:
    """Until `condition()` (an event), the process ends, or a generous bound for 2 busy
    cores passes; the bound only turns a hang into a failure."""
    deadline = time.monotonic() + bound_s
    while not condition() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert condition(), f"{what} never happened (exit status {proc.poll()})"


def _run(stage: str, sig: int, tmp_path: Path, env: dict, server: FakeServer):
    """(exit status, stderr, seconds from the signal to the exit)."""
    out = tmp_path / "out"
    inputs = [str(EXAMPLES)]
    if stage == "reading":
        inputs = [f"{server.base_url}/page/{n}" for n in (1, 2)]
    args = [*inputs, "--out", str(out), "--jobs", "1", "--base-url", server.base_url]
    args += ["--state", str(tmp_path / "state")]
    cmd = [sys.executable, "-c", WRAPPER, stage, str(int(sig)), "digest", *args]
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    try:
        if stage in ("reading", "mid-story"):
            # reading: both pages were asked for; mid-story: the second story asked
            _wait_for(lambda: len(server.requests) >= 2, proc, f"{stage}: two requests")
            sent = time.time()
            proc.send_signal(sig)
        _, raw = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
    ended = time.time()
    stderr = raw.decode("utf-8", "replace")
    if stage in ("grouping", "writing"):
        line = next(x for x in stderr.splitlines() if x.startswith("signal sent at "))
        sent = float(line.removeprefix("signal sent at "))
    return proc.returncode, stderr, ended - sent


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SIGNALS))
@pytest.mark.parametrize("stage", STAGES)
def test_a_signal_at_any_stage_stops_within_seconds_and_loses_nothing(
    tmp_path: Path, env, stage: str, name: str
) -> None:
    sig, code = SIGNALS[name]
    out = tmp_path / "out"
    script = [chat(EMPTY_DRAFT)] if stage == "mid-story" else []
    default = chat(EMPTY_DRAFT) if stage in ("grouping", "writing") else HANG
    with FakeServer(script, default=default) as server:
        status, stderr, stopped_in = _run(stage, sig, tmp_path, env, server)
        asked = len(server.requests)
    assert status == code, stderr
    assert stopped_in < STOP_WITHIN_S, stopped_in
    assert "Traceback" not in stderr and "interrupted" in stderr, stderr
    written = sorted(p.name for p in out.iterdir()) if out.exists() else []
    if stage in ("reading", "grouping"):  # nothing finished: nothing written, no model call
        assert written == []
        assert asked == (2 if stage == "reading" else 0)
        return
    assert written == ["digest.html", "digest.json", "digest.md"]
    digest = json.loads((out / "digest.json").read_text())
    if stage == "mid-story":  # the finished story, marked incomplete
        assert digest["incomplete"] is True and len(digest["stories"]) == 1
        assert any(n.startswith("incomplete: interrupted") for n in digest["notes"])
    else:  # the signal came while writing: the write completes, every file whole
        assert digest["incomplete"] is False and len(digest["stories"]) == 4
        assert (out / "digest.md").read_text().count("\n## ") == 4
        assert (out / "digest.html").read_text().rstrip().endswith("</html>")
