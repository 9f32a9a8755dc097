"""evaluate on a handful of factuality rows, plus the metric helpers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from summarize.eval.evaluate import (
    balanced_accuracy,
    balanced_accuracy_at,
    best_threshold,
    evaluate_file,
    evaluate_rows,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "factuality"


def test_balanced_accuracy_and_best_threshold():
    assert balanced_accuracy([1, 1, 0, 0], [True, False, False, False]) == pytest.approx(0.75)
    ba, t = best_threshold([1, 1, 0, 0], [0.9, 0.8, 0.3, 0.85])
    assert ba == pytest.approx(0.75) and t in (0.8, 0.9)


def test_metric_edge_cases_keep_their_meaning():
    # one class only: the recall of that class; no rows: NaN, and the neutral cut 0.5
    assert balanced_accuracy([1, 1], [True, False]) == pytest.approx(0.5)
    assert balanced_accuracy([0, 0, 0], [False, False, True]) == pytest.approx(2 / 3)
    assert np.isnan(balanced_accuracy([], []))
    assert best_threshold([], []) == (0.0, 0.5)
    assert best_threshold([1, 1, 1], [0.2, 0.7, 0.4]) == (1.0, 0.2)
    assert best_threshold([0], [0.4]) == (0.0, 0.5)  # no cut beats predicting nothing
    # ties go to the highest cut
    assert best_threshold([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1]) == (0.75, 0.9)


def test_balanced_accuracy_at_many_cuts_matches_one_at_a_time():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 60)
    scores = rng.random(60).round(2)
    cuts = np.concatenate([[-1.0, 2.0], scores, rng.random(20)])
    expected = [balanced_accuracy(labels, scores >= t) for t in cuts]
    assert balanced_accuracy_at(labels, scores, cuts) == pytest.approx(expected)
    ba, t = best_threshold(labels, scores)
    assert ba == pytest.approx(max(expected)) and balanced_accuracy(
        labels, scores >= t
    ) == pytest.approx(ba)


def test_bad_rows_are_skipped_not_fatal():
    problems: list[str] = []
    rows = [
        {"id": "x", "sources": [], "summary": "Something happened."},
        {"id": "y", "sources": ["The dam burst on Monday, flooding 40 homes."], "summary": " "},
        {
            "id": "z",
            "sources": ["The dam burst on Monday, flooding 40 homes."],
            "summary": "The dam burst on Monday and flooded 40 homes.",
            "label": 1,
        },
        {
            "id": "w",
            "sources": ["The dam burst on Monday, flooding 40 homes."],
            "summary": "The dam burst on Friday and flooded 400 homes in Lyon.",
            "label": 0,
        },
    ]
    out = evaluate_rows(rows, progress=False, problems=problems)
    assert [r["id"] for r in out] == ["z", "w"]
    assert len(problems) == 2 and "x" in problems[0]
    assert out[0]["supported"] and not out[1]["supported"]
    assert out[0]["score"] > out[1]["score"]


def test_evaluate_file_on_factuality_rows(tmp_path):
    path = DATA / "xsumfaith-val.jsonl"
    if not path.exists():
        pytest.skip("factuality data not available (../shared/data/factuality)")
    rows = [json.loads(line) for line in path.open(encoding="utf-8")]
    rows = [r for r in rows if r["label"] == 1][:3] + [r for r in rows if r["label"] == 0][:3]
    src = tmp_path / "rows.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out.jsonl"
    m = evaluate_file(src, out, progress=False)
    written = [json.loads(line) for line in out.read_text().splitlines()]
    assert [w["id"] for w in written] == [r["id"] for r in rows]
    assert all(0.0 <= w["score"] <= 1.0 and isinstance(w["supported"], bool) for w in written)
    assert m["labelled"] == 6 and 0.0 <= m["balanced_accuracy"] <= 1.0
    assert m["best_threshold_balanced_accuracy"] >= m["balanced_accuracy"]
