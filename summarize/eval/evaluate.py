"""`summarize eval`: run the validator on factuality JSONL rows and score it.

Each row `{"id", "sources": [text], "summary", "label"?}` becomes Articles
"doc1", "doc2", ... and the summary is validated sentence by sentence; the
row's score is the minimum over its sentences (one unsupported sentence makes
the summary unfaithful). Rows without sources or summary are reported and
skipped. With labels, balanced accuracy is computed at the validator's own
threshold and, separately and optimistically, at the best threshold on these
same rows.
"""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from summarize.models import Article
from summarize.support.validator import Validator


def row_articles(row: dict) -> list[Article]:
    """A row's sources as Articles doc1, doc2, ... (empty texts dropped)."""
    sources = row.get("sources") or []
    if isinstance(sources, str):
        sources = [sources]
    return [Article(id=f"doc{i}", text=t) for i, t in enumerate(sources, 1) if t and t.strip()]


def evaluate_rows(
    rows: Iterable[dict],
    scorer: str = "calibrated",
    progress: bool = True,
    validator: Validator | None = None,
    problems: list[str] | None = None,
) -> list[dict]:
    """`{"id", "score", "supported"}` (plus "label" when given) for each usable row.

    Unusable rows are skipped; their ids and why go to `problems` when passed,
    else to stderr.
    """
    from tqdm import tqdm

    validator = validator or Validator(scorer)
    rows = list(rows)
    out = []
    for n, row in enumerate(tqdm(rows, disable=not progress, unit="row", desc="validating")):
        row_id = str(row.get("id", n))
        articles, summary = row_articles(row), row.get("summary")
        why = None if articles else "no sources"
        if why is None:
            try:
                report = validator.validate(articles, summary or "")
            except ValueError as exc:
                why = str(exc)
        if why:
            msg = f"row {row_id}: skipped, {why}"
            problems.append(msg) if problems is not None else print(msg, file=sys.stderr)
            continue
        verdicts = [c.verdict for c in report.claims]
        result = {
            "id": row_id,
            "score": round(min(v.score for v in verdicts), 6),
            "supported": all(v.supported for v in verdicts),
        }
        if "label" in row and row["label"] is not None:
            result["label"] = int(row["label"])
        out.append(result)
    return out


def balanced_accuracy(labels: Sequence[int], predictions: Sequence[bool]) -> float:
    """Mean of the recall on supported (1) and on unsupported (0) rows (the recall of
    the one class present when only one is; NaN without rows)."""
    from sklearn.metrics import balanced_accuracy_score

    y, p = np.asarray(labels, bool), np.asarray(predictions, bool)
    if not len(y):
        return float("nan")
    with warnings.catch_warnings():  # one class only: "y_pred contains classes not in y_true"
        warnings.simplefilter("ignore", UserWarning)
        return float(balanced_accuracy_score(y, p))


def _roc(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cuts, balanced accuracy of `score >= cut`): every distinct score, highest first,
    after +inf (nothing predicted supported). With one class only, its recall."""
    from sklearn.exceptions import UndefinedMetricWarning
    from sklearn.metrics import roc_curve

    with warnings.catch_warnings():  # one class only: the other's rate is NaN, left out
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        fpr, tpr, cuts = roc_curve(labels, scores, drop_intermediate=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return cuts, np.nanmean(np.vstack([tpr, 1.0 - fpr]), axis=0)


def balanced_accuracy_at(
    labels: Sequence[int], scores: Sequence[float], cuts: Sequence[float]
) -> np.ndarray:
    """Balanced accuracy of `score >= cut` for each of `cuts`, in one pass (for threshold
    searches over many cuts; the same figure as `balanced_accuracy`)."""
    y, s = np.asarray(labels, bool), np.asarray(scores, float)
    if not len(s):
        return np.full(len(cuts), np.nan)
    roc_cuts, ba = _roc(y, s)
    # `score >= t` predicts as the lowest ROC cut that is >= t does (cuts descend)
    k = np.searchsorted(-roc_cuts, -np.asarray(cuts, float), side="right") - 1
    return ba[k]


def best_threshold(labels: Sequence[int], scores: Sequence[float]) -> tuple[float, float]:
    """(balanced accuracy, threshold) of the best cut `score >= threshold` on these rows:
    optimistic. Candidate cuts are the scores themselves; ties go to the highest."""
    y, s = np.asarray(labels, bool), np.asarray(scores, float)
    if not len(s):
        return 0.0, 0.5
    cuts, ba = _roc(y, s)
    cuts, ba = cuts[1:], ba[1:]  # +inf is not a score
    i = int(np.argmax(ba.round(12)))  # first maximum: the highest cut among equals
    return max((0.0, 0.5), (float(ba[i]), float(cuts[i])))  # no cut better than none: 0.5


def metrics(results: Sequence[dict]) -> dict:
    """Balanced accuracy at the validator's verdict and at the best threshold."""
    labelled = [r for r in results if "label" in r]
    if not labelled:
        return {"rows": len(results)}
    y = [r["label"] for r in labelled]
    best, threshold = best_threshold(y, [r["score"] for r in labelled])
    return {
        "rows": len(results),
        "labelled": len(labelled),
        "balanced_accuracy": round(balanced_accuracy(y, [r["supported"] for r in labelled]), 4),
        "best_threshold_balanced_accuracy": round(best, 4),
        "best_threshold": round(threshold, 6),
    }


def read_rows(path: str | Path) -> list[dict]:
    """JSONL rows; unreadable lines are reported to stderr and skipped."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    print(f"{path}:{n}: skipped, not JSON ({exc.msg})", file=sys.stderr)
    return rows


def evaluate_file(
    path: str | Path,
    out_path: str | Path | None = None,
    scorer: str = "calibrated",
    progress: bool = True,
    limit: int | None = None,
    validator: Validator | None = None,
) -> dict:
    """Evaluate a JSONL file; write one result per row to `out_path`; return metrics."""
    rows = read_rows(path)[:limit] if limit else read_rows(path)
    problems: list[str] = []
    results = evaluate_rows(rows, scorer, progress, validator, problems)
    for p in problems:
        print(p, file=sys.stderr)
    if out_path:
        Path(out_path).parent.mkdir(parents=True, exist_ok=True)
        with open(out_path, "w", encoding="utf-8") as f:
            for r in results:
                f.write(json.dumps({k: r[k] for k in ("id", "score", "supported")}) + "\n")
    return {**metrics(results), "skipped": len(problems)}
