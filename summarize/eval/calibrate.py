"""Fit the `learned` scorer's decision layer on labelled rows: `summarize calibrate`.

The shipped layer was fitted on news-summary benchmarks, and its threshold does
not transfer well from one kind of summary to another. Refitted on about 100
labelled rows of one dataset it did much better on other rows of that dataset
(README, "Scorers compared": mean 73.2 against 57.8). Users with labelled
summaries of their own domain get the same by fitting a layer here and passing
it to the scorer (`--calibration FILE`).

The layer is a logistic regression over the cross-encoder's logit and the rule
features (`learned.RULE_FEATURES`), class-balanced (and group-balanced when rows
name a dataset), so 0.5 is the balanced decision point. A summary is as good as
its weakest sentence: a first layer is fitted on the sentences whose label is
known (all sentences of supported summaries, one-sentence unsupported ones), then
every row is represented by its lowest-scoring sentence under it and the layer is
refitted.
`benchmarks/bench_scorers.py` and `training/calibrate.py` use the same function.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from summarize.errors import CalibrationError
from summarize.eval.evaluate import balanced_accuracy, read_rows, row_articles
from summarize.text.segment import split_sentences

MIN_ROWS_PER_CLASS = 5


def fit_layer(
    rows: Sequence[Sequence[dict]],
    labels: Sequence[int],
    names: Sequence[str],
    groups: Sequence[str] | None = None,
    C: float = 1.0,
) -> dict:
    """A logistic layer over `names` from per-row lists of per-sentence feature dicts.

    Returns the `calibration.json` "default" entry (features, mean, scale, coef,
    intercept, threshold 0.5).
    """
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(labels, int)
    d = np.asarray(groups if groups is not None else ["rows"] * len(y))
    if min(int((y == 0).sum()), int((y == 1).sum())) < MIN_ROWS_PER_CLASS:
        raise CalibrationError(
            f"need at least {MIN_ROWS_PER_CLASS} supported and {MIN_ROWS_PER_CLASS} unsupported "
            f"labelled rows; got {int((y == 1).sum())} and {int((y == 0).sum())}"
        )
    sent_x = [np.array([[s[n] for n in names] for s in r]) for r in rows]

    def fit(X, labels, group):
        """Balanced: every (group, class) cell weighs the same."""
        w = np.zeros(len(labels))
        for g in np.unique(group):
            for c in (0, 1):
                cell = (group == g) & (labels == c)
                w[cell] = 1.0 / max(cell.sum(), 1)
        mean, scale = X.mean(0), X.std(0) + 1e-6
        model = LogisticRegression(C=C, max_iter=5000)
        model.fit((X - mean) / scale, labels, sample_weight=w * len(w) / w.sum())
        return model, mean, scale

    # first layer on sentences whose label is known: every sentence of a supported
    # summary, the sentence of an unsupported one-sentence summary
    known = [(x, 1, d[i]) for i, xs in enumerate(sent_x) if y[i] == 1 for x in xs]
    known += [(xs[0], 0, d[i]) for i, xs in enumerate(sent_x) if y[i] == 0 and len(xs) == 1]
    if sum(1 for _, label, _ in known if label == 0) < MIN_ROWS_PER_CLASS:
        known = [(xs[0], y[i], d[i]) for i, xs in enumerate(sent_x)]  # no better guess
    X1, y1, d1 = (np.array(column) for column in zip(*known, strict=True))
    m, mean, scale = fit(X1, y1, d1)
    # then each summary as its weakest sentence under that layer
    X = np.array([x[np.argmin(m.decision_function((x - mean) / scale))] for x in sent_x])
    m, mean, scale = fit(X, y, d)
    return {
        "features": list(names),
        "mean": mean.round(6).tolist(),
        "scale": scale.round(6).tolist(),
        "coef": m.coef_[0].round(6).tolist(),
        "intercept": round(float(m.intercept_[0]), 6),
        "threshold": 0.5,
        "rows": len(y),
        "datasets": sorted(set(d.tolist())),
    }


def row_features(rows: Sequence[dict], progress: bool = True) -> tuple[list, list, list[str]]:
    """(per-row sentence feature dicts, labels, problems) for labelled rows
    `{"id", "sources": [text], "summary", "label"}`; unusable rows are skipped with why."""
    from tqdm import tqdm

    from summarize.support.scorers.learned import features
    from summarize.support.validator import Validator

    validator = Validator("learned")
    feats, labels, problems = [], [], []
    for n, row in enumerate(tqdm(rows, disable=not progress, unit="row", desc="features")):
        row_id = str(row.get("id", n))
        articles, summary = row_articles(row), row.get("summary") or ""
        sentences = [summary[a:b] for a, b in split_sentences(summary)]
        if row.get("label") not in (0, 1, True, False):
            problems.append(f"row {row_id}: skipped, no label 0 or 1")
            continue
        if not articles or not sentences:
            problems.append(f"row {row_id}: skipped, no {'sources' if sentences else 'summary'}")
            continue
        retriever, sources = validator.index(articles)
        per_sentence = []
        for s in sentences:
            candidates = retriever.candidates(s, k=validator.k)
            per_sentence.append(features(s, candidates, sources)[0])
        feats.append(per_sentence)
        labels.append(int(row["label"]))
    return feats, labels, problems


def calibrate_file(
    path: str | Path, out_path: str | Path, limit: int | None = None, progress: bool = True
) -> dict:
    """Fit a layer on the labelled rows of a JSONL file, write it to `out_path`
    (the format of the shipped `calibration.json`), return what to report."""
    from summarize.support.scorers.learned import RULE_FEATURES, LearnedScorer, vetoed

    t0 = time.time()
    rows = read_rows(path)
    rows = rows[:limit] if limit else rows
    feats, labels, problems = row_features(rows, progress)
    try:
        layer = fit_layer(feats, labels, ["logit", *RULE_FEATURES], C=0.3)
    except CalibrationError as exc:
        raise CalibrationError(path, exc.problem) from None
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    doc = {"fitted_on": f"{Path(path).name}: {len(labels)} labelled rows", "default": layer}
    Path(out_path).write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    scorer = LearnedScorer(calibration=out_path)
    scores = [min(vetoed(s, scorer.probability(s)) for s in row) for row in feats]
    return {
        "rows": len(labels),
        "supported": int(sum(labels)),
        "skipped": len(problems),
        "problems": problems,
        # optimistic: measured on the rows it was fitted on
        "in_sample_balanced_accuracy": round(
            balanced_accuracy(labels, [s >= layer["threshold"] for s in scores]), 4
        ),
        "seconds": round(time.time() - t0, 1),
    }
