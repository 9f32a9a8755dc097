"""Benchmarks cannot rot: each script's `--smoke` mode runs (a few rows, no model server)
and writes its results where it is told, never over benchmarks/results or rules.json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
BENCH = REPO / "benchmarks"


def _keys(*names: str):
    def check(doc: dict) -> None:
        missing = [n for n in names if n not in doc]
        assert not missing, f"missing keys {missing} in {sorted(doc)}"

    return check


def _validator(doc: dict) -> None:
    _keys("files", "mean", "veto_precision", "calibration", "relation_cases", "speed")(doc)
    assert len(doc["files"]) == 8
    _keys("file", "rows", "baseline", "today", "new", "brier")(doc["files"][0])
    assert {"development", "blind"} == set(doc["relation_cases"])
    assert doc["speed"]["sentences_per_second"] > 0


def _fit_decision(doc: dict) -> None:
    _keys("veto_precision", "hard_vetoes", "models_compared_lodo", "calibration_lodo")(doc)
    assert "instruction_error" in doc["hard_vetoes"]


def _scorers(doc: dict) -> None:
    _keys("accuracy", "speed", "model_mb", "markdown", "smoke")(doc)
    assert doc["smoke"] and doc["accuracy"]
    for row in doc["accuracy"].values():
        _keys("rows", "overlap", "rules", "learned", "cross_encoder_only")(row)
    assert set(doc["speed"]) == {"rules", "learned"}
    for name, speed in doc["speed"].items():
        assert "error" not in speed, (name, speed)
        _keys("sentences_per_s_end_to_end", "sentences_per_s_scorer", "load_s")(speed)


def _cluster(doc: dict) -> None:
    _keys("events", "folds", "features", "embedding", "methods", "smoke", "fitted_on_all")(doc)
    _keys("ours", "baseline_tfidf")(doc["methods"])
    _keys("no embedding", "embed pairs in 0.1-0.9", "embed every pair")(doc["embedding"])
    for row in doc["methods"].values():
        assert set(row["cv"]) == {"2 outlets", "3 outlets", "mixed", "pool", "templated"}
        for cell in row["cv"].values():
            _keys("ari", "b3_precision", "b3_recall", "b3_f1", "samples")(cell)
    assert doc["embedding"]["no embedding"]["embedded_share"] == 0
    assert doc["embedding"]["embed every pair"]["embedded_share"] > 0
    _keys("big_kept")(doc["methods"]["ours"]["cv"]["pool"])


def _join(doc: dict) -> None:
    _keys("runs", "smoke", "machine")(doc)
    (run,) = doc["runs"]
    _keys("state_file_mb", "join_s", "load_s", "continuing_joined", "new_kept_new")(run)
    assert run["stories_in_state"] == 300 and run["today_stories"] == 20


def _continuity(doc: dict) -> None:
    _keys("events", "articles", "per_status", "accuracy", "confusion", "smoke")(doc)
    assert set(doc["per_status"]) == {"new", "update", "unchanged"}
    for row in doc["per_status"].values():
        _keys("precision", "recall", "gold", "predicted")(row)
    assert doc["day1_statuses"] == {"new": doc["stories"]["day1"]}


def _jobs(doc: dict) -> None:
    _keys("articles", "latency_s", "runs", "smoke")(doc)
    assert [r["jobs"] for r in doc["runs"]] == [1, 4]
    for run in doc["runs"]:
        _keys("stories", "failed_stories", "model_calls", "wall_s", "cpu_share")(run)
        assert run["stories"] > 0 and run["failed_stories"] == 0


def _soak(doc: dict) -> None:
    _keys("articles", "fault_rate", "first", "rerun", "smoke")(doc)
    first, rerun = doc["first"], doc["rerun"]
    assert sum(first["faults"].values()) > 0 and first["stories"] > 0
    # the recovered rerun completes every story and asks nothing answered before
    assert rerun["completed"] == rerun["stories"] == first["stories"]
    assert rerun["refetched"] == 0


def _shutdown(doc: dict) -> None:
    _keys("repeats", "runs", "smoke", "load_average")(doc)
    assert [r["stage"] for r in doc["runs"]] == ["reading", "grouping", "mid-story", "writing"]
    assert all(r["right_status"] == r["runs"] == 1 and r["max_s"] > 0 for r in doc["runs"])


def _workers(doc: dict) -> None:
    _keys("articles", "latency_s", "runs", "smoke")(doc)
    assert [r["workers"] for r in doc["runs"]] == [1]
    for run in doc["runs"]:
        _keys("stories", "failed_stories", "wall_s", "stories_per_minute", "worker_cpu_s")(run)
        assert run["stories"] > 0 and run["failed_stories"] == 0


def _memory(doc: dict) -> None:
    _keys("servers", "process", "smoke")(doc)
    assert doc["servers"] == []
    _keys("articles", "stories", "failed_stories", "peak_rss_mb", "trace")(doc["process"])
    assert doc["process"]["finished"] and doc["process"]["stories"] > 0
    assert doc["process"]["failed_stories"] == 0


def _scale(doc: dict) -> None:
    _keys("runs", "smoke", "machine")(doc)
    (run,) = doc["runs"]
    _keys("articles", "stories", "seconds", "grouping_s", "peak_rss_mb", "ari", "validation")(run)
    _keys("embedding_s", "cheap_signals_s", "neighbours_and_pairs_s", "linkage_s")(run["seconds"])
    assert run["articles"] == 100 and run["validation"]["stories"] == 20
    cache = run["cache"]
    assert (
        cache["second"]["embedded"] == 0
        and cache["second"]["cache_hits"] == cache["first"]["embedded"]
    )


def _story(doc: dict) -> None:
    _keys("model", "seeds", "events", "summary", "smoke")(doc)
    assert doc["model"] == "fake-extractive" and len(doc["events"]) == 2
    _keys("kept", "removed", "citation_recall", "seconds", "disagreements")(doc["seeds"])
    assert doc["seeds"]["error"] is None and doc["seeds"]["kept"] > 0
    _keys("stories", "failed", "share_supported_kept", "citation_precision", "model_calls")(
        doc["summary"]
    )
    assert doc["summary"]["failed"] == 0


def _digest(doc: dict) -> None:
    _keys("jobs", "runs", "smoke")(doc)
    (run,) = doc["runs"]
    _keys("articles", "stories", "failed_stories", "wall_s", "model_calls", "prompt_tokens")(run)
    assert run["articles"] == 8 and run["stories"] > 0 and run["failed_stories"] == 0


def _relations(doc: dict) -> None:
    _keys("cases_file", "smoke", "runs", "failed")(doc)
    (run,) = doc["runs"]
    assert run["scorer"] == "calibrated" and len(run["results"]) == 10 and not doc["failed"]


def _fit_rules(doc: dict) -> None:
    _keys("fitted_on", "default", "holdout")(doc)
    _keys("features", "mean", "scale", "coef", "intercept", "threshold")(doc["default"])
    assert len(doc["holdout"]) == 8


# script, the file it writes by default (must stay untouched), check of its smoke output
CASES = {
    "bench_validator.py": (BENCH / "results" / "validator.json", _validator),
    "bench_scorers.py": (BENCH / "results" / "scorers.json", _scorers),
    "bench_cluster.py": (BENCH / "results" / "cluster.json", _cluster),
    "bench_story.py": (BENCH / "results" / "story.json", _story),
    "bench_digest.py": (BENCH / "results" / "digest.json", _digest),
    "bench_continuity.py": (BENCH / "results" / "continuity.json", _continuity),
    "bench_scale.py": (BENCH / "results" / "scale.json", _scale),
    "bench_join.py": (BENCH / "results" / "join.json", _join),
    "bench_jobs.py": (BENCH / "results" / "jobs.json", _jobs),
    "bench_soak.py": (BENCH / "results" / "soak.json", _soak),
    "bench_shutdown.py": (BENCH / "results" / "shutdown.json", _shutdown),
    "bench_workers.py": (BENCH / "results" / "workers.json", _workers),
    "bench_memory.py": (BENCH / "results" / "memory.json", _memory),
    "bench_relations.py": (BENCH / "results" / "relations.json", _relations),
    "fit_rules.py": (REPO / "summarize" / "data" / "rules.json", _fit_rules),
    "fit_decision.py": (REPO / "summarize" / "data" / "decision.json", _fit_decision),
}


def test_every_benchmark_script_has_a_smoke_case():
    scripts = {p.name for p in BENCH.glob("*.py") if p.name.startswith(("bench_", "fit_"))}
    assert set(CASES) <= scripts
    for name in CASES:
        assert "--smoke" in (BENCH / name).read_text(encoding="utf-8")


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(CASES))
def test_benchmark_smoke_runs(script: str, tmp_path: Path) -> None:
    if not (SHARED / "data").is_dir():
        pytest.skip("../shared/data not available")
    default_out, check = CASES[script]
    before = default_out.read_bytes() if default_out.exists() else None
    out = tmp_path / "result.json"
    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run(
        [sys.executable, str(BENCH / script), "--smoke", "--out", str(out)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    check(json.loads(out.read_text(encoding="utf-8")))
    after = default_out.read_bytes() if default_out.exists() else None
    assert after == before, f"--smoke wrote over {default_out}"
