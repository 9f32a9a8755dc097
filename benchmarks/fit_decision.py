"""Fit the calibrated support decision and choose the hard vetoes, from measurements.

    .venv/bin/python benchmarks/fit_decision.py [--max-rows 200] [--no-write]

1. Veto precision: for every check kind, on every development file, the share of
   the summaries it fires on that humans labelled unfaithful. A kind at least
   95% precise on every file where it fired, the relation cases included (and
   firing at least 5 times in all), stays a hard veto; so do, by definition,
   planted instructions and a value, name or quotation found in no source at all.
2. The decision: a logistic model (scikit-learn) over every signal of
   `scorers/calibrated.py`. A summary is judged by its weakest sentence: the
   model is first fitted on sentences whose label is known (one-sentence
   summaries, sentences of faithful summaries), then refitted on each summary's
   weakest sentence under that first model. Datasets weigh alike. The threshold
   maximises the mean balanced accuracy over the training datasets.
3. Leave-one-dataset-out: each development file (and the relation cases) is
   judged by a model and threshold fitted without it; the pooled held-out
   probabilities give the calibration (reliability table, Brier score).
   Models compared the same way: logistic regression at two strengths and
   gradient-boosted trees (HistGradientBoostingClassifier).
Writes summarize/data/decision.json (`default`: fitted on everything;
`holdout[NAME]`: without NAME; `hard_vetoes`) and benchmarks/results/decision.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from decision_data import load_all  # noqa: E402
from factuality_data import MAX_ROWS  # noqa: E402

from summarize.eval.evaluate import balanced_accuracy, balanced_accuracy_at  # noqa: E402
from summarize.support.scorers.calibrated import SIGNALS, probability  # noqa: E402

ROOT = HERE.parent
SHIPPED = ROOT / "summarize" / "data" / "decision.json"
RESULTS = HERE / "results" / "decision.json"
RELATIONS = "relations"
FLAGS = [n for n in SIGNALS if n.endswith(("_error", "_warning"))]
# signals whose scale follows a dataset's style (document length, summary length) more than
# support: left out, they made thresholds transfer across datasets (compared in main())
SHIPPED_FEATURES = ["cov_support", "cov_source", "logit", *FLAGS]
MIN_PRECISION, MIN_FIRED = 0.95, 5
# vetoes by definition, whatever the benchmarks' labels: a planted instruction is never
# evidence (security), and a number, date, name or quotation found in NO source has no
# passage a reader could be led to (the benchmarks may count outside knowledge as
# faithful; a summary that links every claim to its source cannot). Their measured
# precision is reported beside the others.
BY_DESIGN = {
    "instruction_error",
    "number_error",
    "date_error",
    "entity_error",
    "name_error",
    "quote_error",
}


# ------------------------------------------------------------------ veto precision


def veto_precision(data: dict[str, list[dict]]) -> dict[str, dict[str, list[int]]]:
    """{kind: {dataset: [rows it fired on, of which unfaithful]}}."""
    table: dict[str, dict[str, list[int]]] = {}
    for name, recs in data.items():
        for rec in recs:
            kinds = {k for s in rec["sentences"] for k in s["kinds"]}
            for k in kinds:
                cell = table.setdefault(k, {}).setdefault(name, [0, 0])
                cell[0] += 1
                cell[1] += rec["label"] == 0
    return table


def hard_vetoes(table: dict[str, dict[str, list[int]]]) -> list[str]:
    """The kinds at least MIN_PRECISION precise on every file where they fired (the
    development files and the relation cases), firing at least MIN_FIRED times in all."""
    hard = set(BY_DESIGN)
    for kind, cells in table.items():
        fired = sum(c[0] for c in cells.values())
        if fired >= MIN_FIRED and all(c[1] / c[0] >= MIN_PRECISION for c in cells.values()):
            hard.add(kind)
    return sorted(hard)


def vetoed(sentence: dict, hard: list[str]) -> bool:
    return any(k in hard for k in sentence["kinds"])


# ------------------------------------------------------------------ the decision


def matrix(sentences: list[dict]) -> np.ndarray:
    return np.array([[s["values"][n] for n in SIGNALS] for s in sentences], dtype=float)


def usable(rec: dict) -> list[dict]:
    return [s for s in rec["sentences"] if s["values"] is not None]


class Fit:
    """A model kind: logistic regression (exported as coefficients) or boosted trees."""

    def __init__(
        self,
        kind: str = "logistic",
        c: float = 1.0,
        features: list[str] | None = None,
        balanced: bool = True,
    ):
        self.kind, self.c = kind, c
        self.features = features or list(SIGNALS)
        self.columns = [SIGNALS.index(n) for n in self.features]
        self.balanced = balanced

    def _new(self):
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.linear_model import LogisticRegression

        if self.kind == "logistic":
            return LogisticRegression(C=self.c, max_iter=2000)
        return HistGradientBoostingClassifier(max_depth=3, max_iter=150, learning_rate=0.05)

    def _fit(self, x: np.ndarray, y: np.ndarray, w: np.ndarray):
        x = x[:, self.columns]
        mean, scale = x.mean(0), x.std(0)
        scale[scale == 0] = 1.0
        model = self._new().fit((x - mean) / scale, y, sample_weight=w)
        return model, mean, scale

    def _prob(self, fitted, x: np.ndarray) -> np.ndarray:
        model, mean, scale = fitted
        return model.predict_proba((x[:, self.columns] - mean) / scale)[:, 1]

    def weights(self, y: np.ndarray) -> np.ndarray:
        """Each dataset weighs 1 in all; with `balanced`, each of its classes 1/2."""
        if not self.balanced or len(set(y)) < 2:
            return np.full(len(y), 1.0 / len(y))
        return np.where(y == 1, 0.5 / max(1, (y == 1).sum()), 0.5 / max(1, (y == 0).sum()))

    def fit(self, train: dict[str, list[dict]]):
        """Two stages: known sentences, then each summary's weakest sentence."""
        xs, ys, ws = [], [], []
        for recs in train.values():
            rows = [(r, usable(r)) for r in recs]
            known = [
                (s, r["label"]) for r, ss in rows for s in ss if r["label"] == 1 or len(ss) == 1
            ]
            if known:
                xs.append(matrix([s for s, _ in known]))
                ys.append(np.array([y for _, y in known]))
                ws.append(self.weights(ys[-1]))
        first = self._fit(np.vstack(xs), np.concatenate(ys), np.concatenate(ws))
        xs, ys, ws = [], [], []
        for recs in train.values():
            picked = [(weakest(first, self, r), r["label"]) for r in recs if usable(r)]
            xs.append(np.array([s for s, _ in picked]))
            ys.append(np.array([y for _, y in picked]))
            ws.append(self.weights(ys[-1]))
        return self._fit(np.vstack(xs), np.concatenate(ys), np.concatenate(ws))

    def export(self, fitted) -> dict:
        model, mean, scale = fitted
        return {
            "features": list(self.features),
            "mean": [round(float(v), 6) for v in mean],
            "scale": [round(float(v), 6) for v in scale],
            "coef": [round(float(v), 6) for v in model.coef_[0]],
            "intercept": round(float(model.intercept_[0]), 6),
        }


def weakest(fitted, fit: Fit, rec: dict) -> np.ndarray:
    x = matrix(usable(rec))
    return x[int(np.argmin(fit._prob(fitted, x)))]


def summary_scores(fitted, fit: Fit, recs: list[dict], hard: list[str]) -> np.ndarray:
    """A summary's probability: its weakest sentence's (0.05 at most when a hard veto fires;
    0 when a sentence found nothing to check)."""
    out = []
    for r in recs:
        ss = r["sentences"]
        if any(s["values"] is None for s in ss):
            out.append(0.0)
            continue
        p = fit._prob(fitted, matrix(ss))
        p = np.where([vetoed(s, hard) for s in ss], np.minimum(p, 0.05), p)
        out.append(float(p.min()))
    return np.array(out)


def best_mean_threshold(scored: dict[str, tuple[np.ndarray, np.ndarray]]) -> float:
    """The cut maximising the mean balanced accuracy over datasets."""
    cuts = np.linspace(0.05, 0.95, 91)
    ba = np.mean([balanced_accuracy_at(y, s, cuts) for y, s in scored.values()], axis=0)
    return float(cuts[int(np.argmax(ba.round(12)))])


def labels(recs: list[dict]) -> np.ndarray:
    return np.array([r["label"] for r in recs])


def lodo(data: dict[str, list[dict]], fit: Fit, hard: list[str]) -> dict[str, dict]:
    """Each dataset judged by a model and threshold fitted without it."""
    out = {}
    for name, recs in data.items():
        train = {n: r for n, r in data.items() if n != name}
        fitted = fit.fit(train)
        t = best_mean_threshold(
            {n: (labels(r), summary_scores(fitted, fit, r, hard)) for n, r in train.items()}
        )
        p = summary_scores(fitted, fit, recs, hard)
        y = labels(recs)
        out[name] = {
            "threshold": t,
            "p": p,
            "y": y,
            "balanced_accuracy": balanced_accuracy(y, p >= t),
            "fitted": fitted,
        }
    return out


# ------------------------------------------------------------------ calibration


def reliability(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict]:
    edges = np.linspace(0, 1, bins + 1)
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        inside = (p >= lo) & ((p < hi) if hi < 1 else (p <= hi))
        if inside.any():
            rows.append(
                {
                    "bin": f"{lo:.1f}-{hi:.1f}",
                    "n": int(inside.sum()),
                    "mean_p": round(float(p[inside].mean()), 3),
                    "observed": round(float(y[inside].mean()), 3),
                }
            )
    return rows


def brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((p - y) ** 2))


# ------------------------------------------------------------------ main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-rows", type=int, default=MAX_ROWS)
    ap.add_argument("--no-write", action="store_true", help="report only; ship nothing")
    ap.add_argument("--out", type=Path, default=RESULTS, help="figures (JSON)")
    ap.add_argument("--smoke", action="store_true", help="6 rows per file, temp cache, no write")
    args = ap.parse_args()
    if args.smoke:
        import decision_data

        args.max_rows, args.no_write = 6, True
        decision_data.CACHE = args.out.parent / "signals"
    data = load_all(args.max_rows, relations=12 if args.smoke else None)
    table = veto_precision(data)
    hard = hard_vetoes(table)
    print("hard vetoes:", hard)
    fits = {
        "shipped: logistic, coverage + entailment + findings": Fit(features=SHIPPED_FEATURES),
        "logistic, every signal": Fit(),
        "logistic, every signal, not class-balanced": Fit(balanced=False),
        "logistic C=0.1, shipped signals": Fit(c=0.1, features=SHIPPED_FEATURES),
        "boosted trees, shipped signals": Fit("trees", features=SHIPPED_FEATURES),
    }
    compared = {}
    for label, candidate in fits.items():
        res = lodo(data, candidate, hard)
        dev = [n for n in res if n != RELATIONS]
        compared[label] = {n: round(res[n]["balanced_accuracy"], 4) for n in res}
        compared[label]["mean (dev files)"] = round(
            float(np.mean([res[n]["balanced_accuracy"] for n in dev])), 4
        )
        print(label, compared[label])
        if label.startswith("shipped"):
            shipped_res, fit = res, candidate
    dev = [n for n in shipped_res if n != RELATIONS]
    y = np.concatenate([shipped_res[n]["y"] for n in dev])
    p = np.concatenate([shipped_res[n]["p"] for n in dev])
    calibration = {
        "brier": round(brier(y, p), 4),
        "brier_constant": round(brier(y, np.full(len(y), y.mean())), 4),
        "reliability": reliability(y, p),
        "per_file_brier": {
            n: round(brier(shipped_res[n]["y"], shipped_res[n]["p"]), 4) for n in dev
        },
    }
    print(json.dumps(calibration, indent=1))
    default = fit.fit(data)
    threshold = best_mean_threshold(
        {n: (labels(r), summary_scores(default, fit, r, hard)) for n, r in data.items()}
    )
    shipped = {
        "fitted_on": (
            "development files (rows whose document the cross-encoder never saw, <= "
            f"{args.max_rows} per file) and the relation cases; datasets weigh alike; "
            "benchmarks/fit_decision.py"
        ),
        "hard_vetoes": hard,
        "default": {**fit.export(default), "threshold": round(threshold, 3)},
        "holdout": {
            n: {**fit.export(r["fitted"]), "threshold": round(r["threshold"], 3)}
            for n, r in shipped_res.items()
        },
    }
    results = {
        "veto_precision": table,
        "hard_vetoes": hard,
        "models_compared_lodo": compared,
        "calibration_lodo": calibration,
        "threshold": threshold,
    }
    # the shipped arithmetic is the fitted model's: check one row
    check = usable(data[dev[0]][0])[0]["values"]
    exported = shipped["default"]
    assert (
        abs(probability(exported, check) - fit._prob(default, matrix([{"values": check}]))[0])
        < 1e-4
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    if not args.no_write:
        SHIPPED.write_text(json.dumps(shipped, indent=1) + "\n")
        print(f"wrote {SHIPPED}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
