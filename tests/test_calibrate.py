"""`summarize calibrate`: a decision layer fitted on the user's labelled rows, used by
`--scorer learned --calibration FILE`."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from typer.testing import CliRunner

from summarize.cli import app
from summarize.eval.calibrate import CalibrationError, fit_layer
from summarize.support.scorers import get_scorer

SOURCE = (
    "The Springfield city council voted 7-2 on Tuesday to approve a $4.5 million plan for "
    "protected bike lanes on Main Street. Mayor Ellen Park said construction would begin in "
    "March and finish before the end of the year. Councillor Tom Reyes, who voted against the "
    "plan, argued that the money should go to road repairs instead. The lanes will connect the "
    "university campus with the central train station."
)
FAITHFUL = [
    "The council approved a $4.5 million bike lane plan.",
    "The vote was 7-2.",
    "The council voted on Tuesday.",
    "Ellen Park said construction would begin in March.",
    "Tom Reyes voted against the plan.",
    "Reyes argued the money should go to road repairs.",
    "The lanes will connect the campus with the train station.",
    "The bike lanes will be on Main Street.",
    "Construction should finish before the end of the year.",
    "The plan is for protected bike lanes.",
]
UNFAITHFUL = [
    "The council rejected the bike lane plan.",
    "The vote was 9-0.",
    "The council voted on Friday.",
    "Ellen Park said construction would begin in October.",
    "Tom Reyes did not vote against the plan.",
    "Reyes argued the money should go to schools.",
    "The lanes will connect the airport with the harbour.",
    "The bike lanes will be on Oak Avenue.",
    "Construction will take five years.",
    "The plan is for a new parking garage.",
]


def _rows(path, faithful=FAITHFUL, unfaithful=UNFAITHFUL):
    rows = [
        {"id": f"f{i}", "sources": [SOURCE], "summary": s, "label": 1}
        for i, s in enumerate(faithful)
    ]
    rows += [
        {"id": f"u{i}", "sources": [SOURCE], "summary": s, "label": 0}
        for i, s in enumerate(unfaithful)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _has(output: str, text: str) -> bool:
    """`text` in the output, ignoring where the terminal wrapped lines (and long paths)."""
    return "".join(text.split()) in "".join(output.split())


def _metric(output: str, name: str) -> float:
    # progress bars (stderr) can run into the first printed line: search, not split
    found = re.search(rf"\b{name}: ([0-9.]+)", output)
    assert found, (name, output)
    return float(found.group(1))


@pytest.mark.slow
def test_calibrate_writes_a_layer_the_learned_scorer_uses(tmp_path):
    rows, layer = _rows(tmp_path / "rows.jsonl"), tmp_path / "calibration.json"
    result = CliRunner().invoke(app, ["calibrate", str(rows), "--out", str(layer)])
    assert result.exit_code == 0, result.output
    assert _metric(result.output, "rows") == 20
    assert _metric(result.output, "in_sample_balanced_accuracy") >= 0.8
    doc = json.loads(layer.read_text())
    assert doc["default"]["features"][0] == "logit"
    assert len(doc["default"]["coef"]) == len(doc["default"]["features"])

    scorer = get_scorer("learned", calibration=layer)
    assert scorer.calib["coef"] == doc["default"]["coef"]
    assert scorer.calib != get_scorer("learned").calib  # not the shipped layer

    preds = tmp_path / "pred.jsonl"
    args = ["eval", str(rows), "--out", str(preds), "--scorer", "learned"]
    result = CliRunner().invoke(app, [*args, "--calibration", str(layer)])
    assert result.exit_code == 0, result.output
    assert _metric(result.output, "balanced_accuracy") >= 0.8


def test_one_class_only_is_refused_naming_the_file(tmp_path):
    rows = _rows(tmp_path / "only-good.jsonl", unfaithful=[])
    result = CliRunner().invoke(app, ["calibrate", str(rows), "--out", str(tmp_path / "c.json")])
    assert result.exit_code == 2
    assert _has(result.output, "only-good.jsonl") and _has(result.output, "unsupported")
    assert not (tmp_path / "c.json").exists()


def test_unlabelled_rows_are_skipped_and_reported(tmp_path):
    rows = _rows(tmp_path / "rows.jsonl")
    with rows.open("a", encoding="utf-8") as f:
        f.write(json.dumps({"id": "nolabel", "sources": [SOURCE], "summary": "The vote was 7-2."}))
        f.write("\n")
    result = CliRunner().invoke(app, ["calibrate", str(rows), "--out", str(tmp_path / "c.json")])
    assert result.exit_code == 0, result.output
    assert _has(result.output, "row nolabel: skipped, no label 0 or 1")
    assert _metric(result.output, "skipped") == 1


def test_bad_calibration_files_and_options_exit_2(tmp_path, monkeypatch):
    rows = _rows(tmp_path / "rows.jsonl")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps({"default": {"features": ["shoe_size"], "coef": [1.0]}}))
    base = ["eval", str(rows), "--out", str(tmp_path / "p.jsonl")]
    for path, why in ((broken, "not a calibration file"), (foreign, "do not match")):
        result = CliRunner().invoke(app, [*base, "--scorer", "learned", "--calibration", str(path)])
        assert result.exit_code == 2, result.output
        assert _has(result.output, path.name) and _has(result.output, why)
    result = CliRunner().invoke(app, [*base, "--calibration", str(broken)])  # rules scorer
    assert result.exit_code == 2 and _has(result.output, "--scorer learned")


def test_fit_layer_learns_the_direction_of_a_separating_feature():
    rng = np.random.default_rng(0)
    labels = [1] * 20 + [0] * 20
    rows = [
        [{"logit": float(rng.normal(2 if y else -2)), "noise": float(rng.normal())}] for y in labels
    ]
    layer = fit_layer(rows, labels, ["logit", "noise"])
    assert layer["coef"][0] > 1.0 > abs(layer["coef"][1])
    # a summary counts as its weakest sentence: one bad sentence sinks a good one
    # (the one-sentence rows say which way the feature points; the two-sentence
    # unsupported rows are then judged by their bad sentence, not their good one)
    mixed = [[{"logit": 3.0, "noise": 0.0}, {"logit": -3.0, "noise": 0.0}]] * 20
    layer = fit_layer(rows + mixed, labels + [0] * 20, ["logit", "noise"])
    assert layer["coef"][0] > 1.0
    with pytest.raises(CalibrationError, match="at least 5"):
        fit_layer(rows[:20] + rows[20:23], [1] * 20 + [0] * 3, ["logit", "noise"])
