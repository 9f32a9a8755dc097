"""Fit the learned scorer's calibration layer on the calibration part of the dev files.

    .venv/bin/python training/calibrate.py

Runs in the project venv after train_scorer.py has written model.onnx. For every
row of the calibration part (training/splits.py: documents never trained on,
never reported) each summary sentence gets the cross-encoder's max-over-chunks
logit and the rule features; a logistic layer over [logit, rule features] is
fitted class- and dataset-balanced (so 0.5 is the balanced decision point), a
summary being represented by its lowest-scoring sentence (summary = min).
Writes summarize/data/learned/calibration.json.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

import bench_scorers as bench  # noqa: E402

from summarize.support.scorers.learned import RULE_FEATURES, model_dir  # noqa: E402


def main() -> None:
    t0 = time.time()
    data = bench.load_features(("calibration",))
    cal = {"calibration": data["calibration"]}
    bench.add_logits(cal)
    rows = cal["calibration"]
    names = ["logit", *RULE_FEATURES]
    model = bench.fit_calibration(rows, names)
    out = {
        "fitted_on": "calibration part (sha1(document) % 10 in 5-6) of the factuality dev files "
        "except SummEdits; class- and dataset-balanced; summary = min over sentences",
        "default": model,
    }
    # in-sample balanced accuracy, for the log only (reported figures come from bench_scorers.py)
    score = bench.calibrated(model)
    for ds, rs in sorted(bench.by_dataset(rows).items()):
        y = [r["label"] for r in rs]
        ba = bench.balanced_accuracy(y, bench.summary_scores(rs, score) >= 0.5)
        print(f"{ds:10s} calibration rows {len(rs):4d}  in-sample balanced accuracy {ba:.3f}")
    path = model_dir() / "calibration.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(
        "coefficients:",
        dict(zip(names, model["coef"], strict=True)),
        "intercept",
        model["intercept"],
    )
    print(f"wrote {path} in {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
