"""Fit the `rules` scorer's small monotone logistic model on the factuality dev files.

    .venv/bin/python benchmarks/fit_rules.py [--max-rows 200] [--cache PATH] [--features ...]
    .venv/bin/python benchmarks/fit_rules.py --smoke   # 8 rows a file, into a temp dir

Rows: at most `--max-rows` per file, seeded sample (the same rows the benchmark
uses). Per-sentence features are extracted once and cached as .npz, so refits
cost nothing. The scorer is: hard vetoes (an "error" finding on a number,
date, entity, quotation or negation caps the score low), else a logistic model
over a few features whose weights are constrained to their expected sign
(more coverage or similarity never lowers the score; more novel words never
raises it). Labels are per summary and a summary scores its weakest sentence,
so the fit is done twice: on one-sentence summaries, then with each summary
represented by its lowest-scoring unvetoed sentence. Weights balance datasets
and the two classes within each, so 0.5 is the balanced decision point.
Writes `summarize/data/rules.json`: `default` (all files) and `holdout[name]`
(fitted without that dataset, scaling included: leave-one-dataset-out, used by
the benchmark). `--features` and `--vetoes` try other models on the cache;
`--dry-run` only prints their leave-one-dataset-out accuracy. `--out` writes elsewhere;
`--smoke` fits on 8 rows a file (fresh feature cache) and writes to a temporary folder,
never over the shipped rules.json: it checks that the script runs.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from factuality_data import DATA, MAX_ROWS, balanced_accuracy, dataset_name, load_sample
from scipy.optimize import minimize

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from summarize.models import Article  # noqa: E402
from summarize.support.policy import UNWEIGHED, VETO_CAP  # noqa: E402

# the checks whose error vetoes after the `rules` scorer (it does not weigh findings)
VETOES = sorted(k.removesuffix("_error") for k in UNWEIGHED if k.endswith("_error"))
from summarize.support.scorers.rules import (  # noqa: E402
    FEATURES,
    MODEL_FEATURES,
    NEGATIVE,
    featurize,
)
from summarize.support.validator import Validator  # noqa: E402
from summarize.text.segment import split_sentences  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "summarize" / "data" / "rules.json"


def row_features(validator: Validator, row: dict) -> tuple[np.ndarray, np.ndarray] | None:
    """(features, veto flags) per summary sentence, or None for an unusable row."""
    sources = [s for s in row.get("sources") or [] if s and s.strip()]
    summary = row.get("summary") or ""
    sentences = [summary[a:b] for a, b in split_sentences(summary)]
    if not sources or not sentences:
        return None
    articles = [Article(id=f"doc{i + 1}", text=t) for i, t in enumerate(sources)]
    retriever, evidence = validator.index(articles)
    xs, vs = [], []
    for s in sentences:
        x, _, findings = featurize(s, retriever.candidates(s, k=validator.k), evidence)
        xs.append(x)
        vs.append([any(f.check == c for f in vetoing(findings)) for c in VETO_CHECKS])
    return np.array(xs), np.array(vs, bool)


def extract(max_rows: int, cache: Path, embeddings: bool) -> dict[str, np.ndarray]:
    """Cached per-sentence features: X, vetoes V, and per sentence its row index;
    per row the dataset and label. Without `embeddings` retrieval ranks lexically
    (as the shipped scorer does when its model has no similarity feature) and
    the cos_* features are 0."""
    if cache.exists():
        data = dict(np.load(cache, allow_pickle=False))
        if list(data["features"]) == FEATURES and list(data["vetoes"]) == VETO_CHECKS:
            return data
    validator = Validator()
    validator.scorer.uses_embeddings = embeddings
    X, V, row_of, ds, y = [], [], [], [], []
    for path in sorted(DATA.glob("*.jsonl")):
        t = time.time()
        n_sent = 0
        for row in load_sample(path, max_rows):
            got = row_features(validator, row)
            if got is None:
                continue
            X += list(got[0])
            V += list(got[1])
            row_of += [len(y)] * len(got[0])
            n_sent += len(got[0])
            ds.append(dataset_name(path))
            y.append(int(row["label"]))
        dt = time.time() - t
        print(f"{path.name}: {n_sent} sentences in {dt:.0f}s", file=sys.stderr)
    data = {
        "X": np.array(X),
        "V": np.array(V, bool),
        "row": np.array(row_of),
        "dataset": np.array(ds),
        "y": np.array(y),
        "features": np.array(FEATURES),
        "vetoes": np.array(VETO_CHECKS),
    }
    np.savez(cache, **data)
    return data


def weights(datasets: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each dataset, and each class within it, weighs the same."""
    w = np.zeros(len(y))
    for d in np.unique(datasets):
        for c in (0, 1):
            m = (datasets == d) & (y == c)
            w[m] = 1.0 / max(m.sum(), 1)
    return w * len(y) / w.sum()


def _logistic(X: np.ndarray, y: np.ndarray, w: np.ndarray, signs: np.ndarray, C: float):
    """Weighted L2 logistic regression with sign-constrained weights (intercept free)."""

    def loss(theta):
        z = X @ theta[:-1] + theta[-1]
        p = 1 / (1 + np.exp(-z))
        nll = np.sum(w * (np.logaddexp(0, z) - y * z))
        grad_z = w * (p - y)
        g = np.append(X.T @ grad_z, grad_z.sum())
        g[:-1] += theta[:-1] / C
        return nll + 0.5 * np.sum(theta[:-1] ** 2) / C, g

    bounds = [(0, None) if s > 0 else (None, 0) for s in signs] + [(None, None)]
    res = minimize(loss, np.zeros(X.shape[1] + 1), jac=True, method="L-BFGS-B", bounds=bounds)
    return res.x[:-1], res.x[-1]


# checks whose "error" findings may veto: the policy's, and the candidates `--vetoes` may try
VETO_CHECKS = [*VETOES, "antonym"]


def vetoing(findings):
    """The error findings of the candidate veto checks."""
    return [f for f in findings if f.severity == "error" and f.check in VETO_CHECKS]


def vetoed_sentences(data: dict, vetoes: list[str]) -> np.ndarray:
    return data["V"][:, [VETO_CHECKS.index(v) for v in vetoes]].any(1)


def fit(data: dict, keep: np.ndarray, names: list[str], vetoes: list[str], C: float = 1.0) -> dict:
    """The model fitted on the rows where `keep` is True."""
    cols = [FEATURES.index(n) for n in names]
    signs = np.array([-1 if n in NEGATIVE else 1 for n in names])
    X, row, y, d = data["X"][:, cols], data["row"], data["y"], data["dataset"]
    vetoed = vetoed_sentences(data, vetoes)
    train = ~vetoed & keep[row]  # the held-out dataset does not even set the scaling
    mean, scale = X[train].mean(0), X[train].std(0) + 1e-6
    Z = (X - mean) / scale
    n_rows = len(y)
    # rows decided by a veto are left out: the model never changes their verdict
    row_vetoed = np.zeros(n_rows, bool)
    np.logical_or.at(row_vetoed, row, vetoed)
    sent_count = np.bincount(row, minlength=n_rows)
    usable = keep & ~row_vetoed
    single = usable & (sent_count == 1)
    first = np.searchsorted(row, np.arange(n_rows))  # rows' sentences are contiguous
    idx = np.flatnonzero(single)
    coef, b = _logistic(Z[first[idx]], y[idx], weights(d[idx], y[idx]), signs, C)
    for _ in range(2):  # represent each summary by its weakest sentence, refit
        z = Z @ coef + b
        z[vetoed] = np.inf
        weakest = np.array([first[r] + np.argmin(z[row == r]) for r in range(n_rows)])
        idx = np.flatnonzero(usable)
        coef, b = _logistic(Z[weakest[idx]], y[idx], weights(d[idx], y[idx]), signs, C)
    return {
        "features": names,
        "mean": mean.round(6).tolist(),
        "scale": scale.round(6).tolist(),
        "coef": coef.round(6).tolist(),
        "intercept": round(float(b), 6),
        "threshold": 0.5,
        "vetoes": vetoes,
        "rows": int(keep.sum()),
        "datasets": sorted(set(d[keep].tolist())),
    }


def row_scores(data: dict, model: dict) -> np.ndarray:
    """Summary scores (min over sentences, vetoes applied) under `model`."""
    cols = [FEATURES.index(n) for n in model["features"]]
    X = data["X"][:, cols]
    z = ((X - model["mean"]) / np.array(model["scale"])) @ np.array(model["coef"])
    p = 1 / (1 + np.exp(-(z + model["intercept"])))
    p = np.where(vetoed_sentences(data, model["vetoes"]), np.minimum(p, VETO_CAP), p)
    out = np.ones(len(data["y"]))
    np.minimum.at(out, data["row"], p)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--max-rows", type=int, default=MAX_ROWS)
    ap.add_argument("--cache", type=Path, help="feature cache (.npz); default in the temp dir")
    ap.add_argument("--C", type=float, default=1.0)
    ap.add_argument("--features", nargs="*", default=MODEL_FEATURES)
    ap.add_argument("--vetoes", nargs="*", default=list(VETOES))
    ap.add_argument("--dry-run", action="store_true", help="print, do not write rules.json")
    ap.add_argument("--out", type=Path, help=f"where to write the model (default {OUT})")
    ap.add_argument(
        "--smoke", action="store_true", help="8 rows a file, temp dir, not rules.json: runs?"
    )
    args = ap.parse_args()
    cache_dir = Path(tempfile.gettempdir())
    out_path = args.out or OUT
    if args.smoke:
        args.max_rows = min(args.max_rows, 8)
        cache_dir = Path(tempfile.mkdtemp(prefix="fit-rules-"))
        out_path = args.out or cache_dir / "rules.json"
    embeddings = any(n.startswith("cos_") for n in args.features)
    name = f"rules-features-{args.max_rows}{'-emb' if embeddings else ''}.npz"
    data = extract(args.max_rows, args.cache or cache_dir / name, embeddings)
    d, y = data["dataset"], data["y"]
    names = sorted(set(d.tolist()))
    out = {"fitted_on": f"factuality dev files, <= {args.max_rows} seeded rows each"}
    out["default"] = fit(data, np.ones(len(y), bool), args.features, args.vetoes, args.C)
    out["holdout"] = {n: fit(data, d != n, args.features, args.vetoes, args.C) for n in names}
    bas = []
    for n in names:
        m = d == n
        p = row_scores(data, out["holdout"][n])[m]
        bas.append(balanced_accuracy(y[m], p >= 0.5))
        print(f"{n:12s} leave-one-dataset-out BA {bas[-1]:.3f} ({m.sum()} rows)")
    print(f"mean {np.mean(bas):.3f}; default coef {out['default']['coef']}")
    if not args.dry_run:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(json.dumps(out, indent=1) + "\n")
        print(f"wrote {out_path}")


if __name__ == "__main__":
    main()
