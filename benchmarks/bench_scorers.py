"""Benchmark the support scorers on every factuality dev file; writes results/scorers.json.

    .venv/bin/python benchmarks/bench_scorers.py [--speed-sentences 60]
    .venv/bin/python benchmarks/bench_scorers.py --smoke   # a few rows, temp dir

Rows and splits (training/splits.py): each file is split by a hash of the
source document into train (50%), calibration (20%) and report (30%) parts;
SummEdits is never trained or calibrated on, all its rows are reported.
To fit two shared CPU cores, at most 200 report rows and 150 calibration rows
per dataset are used (the first by sha1 of the row id; see MAX_ROWS). The
learned scorer's cross-encoder saw only train-part documents. Every figure is
balanced accuracy on the *report* part, with thresholds (and the learned
scorer's calibration layer) chosen on the calibration parts of the *other*
datasets (leave-one-dataset-out), so no reported row, and no row of the
reported dataset, chose anything:

- `overlap`: the trivial baseline, share of the claim's content words found
  anywhere in the source; threshold chosen on the other datasets' calibration rows.
- `rules`: the v1 scorer with its leave-one-dataset-out coefficients
  (summarize/data/rules.json `holdout[name]`), threshold 0.5.
- `learned`: the shipped cross-encoder + a calibration layer refitted without
  the reported dataset, threshold 0.5 (balanced point).
- `learned (same-dataset calibration)`: calibration layer and threshold fitted on
  the calibration part of the reported dataset itself (disjoint rows and
  documents): what a user tuning for one domain gets. SummEdits has none.
- `rule features (same-dataset calibration)`: the same layer without the
  cross-encoder's logit: what the cross-encoder adds once both are calibrated.

A summary's score is the minimum over its sentences. Speed, load time and
peak memory are measured in a fresh subprocess per scorer: `Validator.check`
on real summaries (indexing the articles included) and `scorer.score` alone.

`--smoke` takes 3 datasets (SMOKE_DATASETS), 10 calibration and 4 report rows of each
and 3 speed sentences, and writes results and feature cache to a temporary folder (never
over benchmarks/results/scorers.json): it checks that the script runs, not accuracy.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "training"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from splits import HELD_OUT, rows_by_part  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "scorers.json"
CACHE = ROOT / "training" / "work" / "features.pkl"

# Published balanced accuracies (%), per dataset of ours: none found in a form that could be
# checked here (the SummaC, QAFactEval and AlignScore papers report per-dataset figures on the
# SummaC *test* cuts, or ROC AUC); left empty rather than quoted from memory.
PUBLISHED: dict[str, dict[str, tuple[float, str]]] = {}
PUBLISHED_SOURCES: dict[str, str] = {}
# Published *averages* over other benchmarks: context only, different data and splits.
PUBLISHED_AVERAGES = [
    (
        "SummaC-Conv",
        "SummaC benchmark (CoGenSumm, XSumFaith, Polytope, FactCC, SummEval, FRANK; "
        "test cuts), mean balanced accuracy",
        74.4,
        "Laban et al., SummaC, TACL 2022 (arXiv:2111.09525), abstract",
    ),
    ("MiniCheck-FT5 (770M)", "LLM-AggreFact, mean balanced accuracy", 74.7, "MINICHECK"),
    ("MiniCheck-RoBERTa-L (355M)", "LLM-AggreFact, mean balanced accuracy", 72.7, "MINICHECK"),
    ("MiniCheck-DeBERTa-L (435M)", "LLM-AggreFact, mean balanced accuracy", 72.6, "MINICHECK"),
    ("AlignScore (355M)", "LLM-AggreFact, mean balanced accuracy", 70.4, "MINICHECK"),
    ("SummaC-ZS", "LLM-AggreFact, mean balanced accuracy", 67.9, "MINICHECK"),
    ("QAFactEval", "LLM-AggreFact, mean balanced accuracy", 66.5, "MINICHECK"),
    ("SummaC-Conv", "LLM-AggreFact, mean balanced accuracy", 62.1, "MINICHECK"),
]
MINICHECK = (
    "Tang, Laban & Durrett, MiniCheck, EMNLP 2024 (arXiv:2404.10774), LLM-AggreFact results "
    "table; transcribed second-hand (a public survey note citing the paper), not checked "
    "against the PDF here"
)


# ------------------------------------------------------------------ metrics


def balanced_accuracy(labels, predictions) -> float:
    y, p = np.asarray(labels, bool), np.asarray(predictions, bool)
    recalls = [np.mean(p[y]) if y.any() else np.nan, np.mean(~p[~y]) if (~y).any() else np.nan]
    return float(np.nanmean(recalls))


def best_threshold(groups: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """The threshold maximising the mean balanced accuracy over (labels, scores) groups."""
    cuts = np.unique(np.concatenate([s for _, s in groups]))
    if len(cuts) > 400:
        cuts = np.quantile(cuts, np.linspace(0, 1, 401))
    best = (-1.0, 0.5)
    for t in cuts:
        ba = np.mean([balanced_accuracy(y, s >= t) for y, s in groups])
        best = max(best, (ba, float(t)))
    return best[1]


# ------------------------------------------------------------------ features


def extract(rows: list[dict], log=print) -> list[dict]:
    """Per row: label, dataset and per summary sentence the rules features and chunk texts."""
    from summarize.models import Article
    from summarize.support.scorers.learned import chunk_text, premise_chunks
    from summarize.support.scorers.rules import featurize
    from summarize.support.validator import Validator
    from summarize.text.segment import split_sentences

    validator = Validator("rules")
    out = []
    t0 = time.time()
    for n, row in enumerate(rows):
        srcs = [s for s in row.get("sources") or [] if s and s.strip()]
        summary = row.get("summary") or ""
        sents = [summary[a:b] for a, b in split_sentences(summary)]
        if not srcs or not sents:
            continue
        arts = [Article(id=f"doc{i + 1}", text=t) for i, t in enumerate(srcs)]
        retriever, evidence = validator.index(arts)
        items = []
        for s in sents:
            cands = retriever.candidates(s, k=validator.k)
            x, _, _ = featurize(s, cands, evidence)
            items.append(
                {"x": x, "chunks": [chunk_text(c) for c in premise_chunks(cands)], "text": s}
            )
        out.append(
            {"id": row["id"], "dataset": row["_file"], "label": int(row["label"]), "sents": items}
        )
        if (n + 1) % 100 == 0:
            log(f"  {n + 1}/{len(rows)} rows, {time.time() - t0:.0f}s")
    return out


# at most this many rows per dataset and part (seeded by id hash): 2 shared CPU cores
MAX_ROWS = {"calibration": 150, "report": 200}
SMOKE_DATASETS = {"cliff", "frank", "summeval"}  # both classes common in each


def _cap(rows: list[dict], n: int) -> list[dict]:
    key = lambda r: hashlib.sha1(str(r["id"]).encode()).hexdigest()  # noqa: E731
    return sorted(rows, key=key)[:n]


def load_features(
    parts=("calibration", "report"), cache: Path = CACHE, datasets: set[str] | None = None
) -> dict[str, list[dict]]:
    """Features of the (capped) rows of each part (of `datasets`, default all); cached per
    dataset, so a run can resume."""
    data = pickle.loads(cache.read_bytes()) if cache.exists() else {}
    for p in parts:
        for ds, rows in sorted(rows_by_part(p).items()):
            if (p, ds) in data or not rows or (datasets and ds not in datasets):
                continue
            rows = _cap(rows, MAX_ROWS[p])
            print(f"extracting features of {len(rows)} {p} rows of {ds}", flush=True)
            data[(p, ds)] = extract(rows, log=lambda m: print(m, flush=True))
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_bytes(pickle.dumps(data))
    return {p: [r for (q, _), rs in sorted(data.items()) if q == p for r in rs] for p in parts}


def add_logits(data: dict[str, list[dict]]) -> None:
    """The shipped cross-encoder's max-over-chunks logit for every sentence (in place)."""
    from summarize.support.scorers.learned import cross_logits

    for rows in data.values():
        for r in rows:
            for s in r["sents"]:
                z = cross_logits(s["text"], s["chunks"]) if s["chunks"] else np.array([-10.0])
                s["logit"] = float(np.max(z))


# ------------------------------------------------------------------ scorers on cached features


def feature_dict(s: dict) -> dict:
    from summarize.support.scorers.rules import FEATURES

    f = dict(zip(FEATURES, (float(v) for v in s["x"]), strict=True))
    f["logit"] = s.get("logit", -10.0)
    return f


def rules_model(holdout: str | None):
    from summarize.support.scorers.rules import RulesScorer

    try:
        sc = RulesScorer(holdout=holdout)
        how = f"holdout[{holdout}]" if holdout else "default"
    except ValueError:
        sc = RulesScorer()
        how = "default (no holdout fit for this dataset)"
    return sc, how


def summary_scores(rows: list[dict], sentence_score) -> np.ndarray:
    return np.array([min(sentence_score(s) for s in r["sents"]) for r in rows])


def by_dataset(rows: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(r["dataset"], []).append(r)
    return out


def fit_calibration(rows: list[dict], names: list[str], C: float = 1.0) -> dict:
    """The learned scorer's logistic layer (`summarize.eval.calibrate.fit_layer`), class- and
    dataset-balanced, a summary represented by its lowest-scoring sentence."""
    from summarize.eval.calibrate import fit_layer

    return fit_layer(
        [[feature_dict(s) for s in r["sents"]] for r in rows],
        [r["label"] for r in rows],
        names,
        groups=[r["dataset"] for r in rows],
        C=C,
    )


def calibrated(model: dict):
    mean, scale, coef = np.array(model["mean"]), np.array(model["scale"]), np.array(model["coef"])

    from summarize.support.scorers.learned import vetoed

    def score(s: dict) -> float:
        f = feature_dict(s)
        z = ((np.array([f[n] for n in model["features"]]) - mean) / scale) @ coef + model[
            "intercept"
        ]
        return vetoed(f, float(1 / (1 + np.exp(-z))))

    return score


# ------------------------------------------------------------------ accuracy


def accuracy_table(data: dict[str, list[dict]]) -> dict:
    from summarize.errors import CalibrationError
    from summarize.support.scorers.learned import RULE_FEATURES
    from summarize.support.scorers.rules import FEATURES

    cal, rep = by_dataset(data["calibration"]), by_dataset(data["report"])
    names = ["logit", *RULE_FEATURES]
    cov = FEATURES.index("cov_source")
    out = {}
    for ds in sorted(rep):
        rows = rep[ds]
        y = np.array([r["label"] for r in rows])
        others = [r for d, rs in cal.items() if d != ds for r in rs]
        res = {"rows": len(rows), "supported": int(y.sum())}
        # overlap baseline
        groups = [
            (np.array([r["label"] for r in rs]), summary_scores(rs, lambda s: s["x"][cov]))
            for d, rs in cal.items()
            if d != ds
        ]
        t = best_threshold(groups)
        res["overlap"] = balanced_accuracy(y, summary_scores(rows, lambda s: s["x"][cov]) >= t)
        # rules, leave-one-dataset-out coefficients
        sc, how = rules_model(ds)
        res["rules"] = balanced_accuracy(
            y, summary_scores(rows, lambda s, sc=sc: sc.probability(s["x"])) >= sc.threshold
        )
        res["rules_fit"] = how
        # learned: calibration layer without this dataset
        model = fit_calibration(others, names)
        pred = summary_scores(rows, calibrated(model)) >= 0.5
        res["learned"] = balanced_accuracy(y, pred)
        # the product's promise: of the summaries marked supported, the share really supported
        res["learned_precision_supported"] = float(y[pred].mean()) if pred.any() else float("nan")
        rpred = summary_scores(rows, lambda s, sc=sc: sc.probability(s["x"])) >= sc.threshold
        res["rules_precision_supported"] = float(y[rpred].mean()) if rpred.any() else float("nan")
        res["base_rate_supported"] = float(y.mean())
        # ranking quality, free of any threshold (summary = min over sentences)
        if len(set(y.tolist())) == 2:
            from sklearn.metrics import roc_auc_score

            res["auc_rules"] = float(
                roc_auc_score(y, summary_scores(rows, lambda s, sc=sc: sc.probability(s["x"])))
            )
            res["auc_cross_encoder"] = float(
                roc_auc_score(y, summary_scores(rows, lambda s: s["logit"]))
            )
        # cross-encoder alone, threshold from other datasets' calibration rows
        groups = [
            (np.array([r["label"] for r in rs]), summary_scores(rs, lambda s: s["logit"]))
            for d, rs in cal.items()
            if d != ds
        ]
        t = best_threshold(groups)
        res["cross_encoder_only"] = balanced_accuracy(
            y, summary_scores(rows, lambda s: s["logit"]) >= t
        )
        # same-dataset calibration (disjoint documents)
        if ds in cal and ds not in HELD_OUT and len({r["label"] for r in cal[ds]}) == 2:
            try:
                own = fit_calibration(cal[ds], names, C=0.3)
                res["learned_same_dataset_calibration"] = balanced_accuracy(
                    y, summary_scores(rows, calibrated(own)) >= 0.5
                )
                # the same layer without the cross-encoder: what the rule features alone reach
                own = fit_calibration(cal[ds], list(RULE_FEATURES), C=0.3)
                res["rules_same_dataset_calibration"] = balanced_accuracy(
                    y, summary_scores(rows, calibrated(own)) >= 0.5
                )
            except CalibrationError as exc:  # too few rows of a class (a --smoke run)
                res["same_dataset_calibration_skipped"] = str(exc)
        out[ds] = res
        print(
            ds,
            {k: (round(v, 3) if isinstance(v, float) else v) for k, v in res.items()},
            flush=True,
        )
    return out


# ------------------------------------------------------------------ speed


SPEED_CODE = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r}); sys.path.insert(0, {root!r} + "/training")
from splits import rows_by_part
from summarize.models import Article
from summarize.text.segment import split_sentences
rows = [r for rs in rows_by_part("report").values() for r in rs]
import random; random.Random(0).shuffle(rows)
t = time.perf_counter()
from summarize.support.retrieve import Retrieval
from summarize.support.validator import Validator
from summarize.model import embed
v = Validator({scorer!r}); embed.load()
if {scorer!r} == "learned":
    from summarize.support.scorers import learned; learned.load()
load_s = time.perf_counter() - t
work = []
for r in rows:
    s = r["summary"]
    work += [(r["sources"], s[a:b]) for a, b in split_sentences(s)]
    if len(work) >= {n}: break
work = work[:{n}]
# warm-up
arts = [Article(id="doc1", text=work[0][0][0])]; v.check(work[0][1], arts)
t = time.perf_counter()
for src, sent in work:
    v.check(sent, [Article(id=f"doc{{i+1}}", text=x) for i, x in enumerate(src)])
e2e = len(work) / (time.perf_counter() - t)
# scorer alone, candidates precomputed
prep = []
for src, sent in work:
    arts = [Article(id=f"doc{{i+1}}", text=x) for i, x in enumerate(src)]
    ret, ev = v.index(arts)
    prep.append((sent, ret.candidates(sent, k=v.k), arts, ev))
t = time.perf_counter()
for sent, c, arts, ev in prep:
    v.scorer.score(sent, Retrieval(c, arts, ev))
alone = len(prep) / (time.perf_counter() - t)
import os
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"load_s": load_s, "loadavg_1min": os.getloadavg()[0],
    "sentences_per_s_end_to_end": e2e, "sentences_per_s_scorer": alone, "peak_rss_mb": rss,
    "sentences": len(work)}}))
"""


def speed(scorer: str, n: int) -> dict:
    code = SPEED_CODE.format(root=str(ROOT), scorer=scorer, n=n)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        return {"error": out.stderr[-500:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ report


def markdown(acc: dict, speeds: dict, size_mb: float) -> str:
    cols = [
        "overlap",
        "rules",
        "cross_encoder_only",
        "learned",
        "rules_same_dataset_calibration",
        "learned_same_dataset_calibration",
    ]
    head = [
        "dataset (report rows, supported)",
        "overlap baseline",
        "rules",
        "cross-encoder alone",
        "**learned**",
        "rule features, same-dataset calibration",
        "learned, same-dataset calibration",
        "target",
    ]
    targets = {
        "xsumfaith": 70,
        "frank": 83,
        "polytope": 65,
        "cliff": 72,
        "summedits": 75,
        "qags": 80,
    }
    pub_names = sorted({m for v in PUBLISHED.values() for m in v})
    lines = [
        "| " + " | ".join(head + [f"{m} (published, different split)" for m in pub_names]) + " |",
        "|" + "---|" * (len(head) + len(pub_names)),
    ]
    for ds, r in acc.items():
        cells = [f"{ds} ({r['rows']}, {r['supported']})"]
        cells += [f"{100 * r[c]:.1f}" if c in r else "–" for c in cols]
        cells[4] = f"**{cells[4]}**"
        cells.append(str(targets.get(ds, "–")))
        for m in pub_names:
            v = PUBLISHED.get(ds, {}).get(m)
            cells.append(f"{v[0]:.1f} [{v[1]}]" if v else "–")
        lines.append("| " + " | ".join(cells) + " |")
    mean = {c: np.mean([r[c] for r in acc.values() if c in r]) for c in cols}
    lines.append(
        "| mean (same-dataset columns: 7 datasets, no SummEdits) | "
        + " | ".join(f"{100 * mean[c]:.1f}" for c in cols)
        + " | |"
        + " |" * len(pub_names)
    )
    lines += [
        "",
        "ROC AUC (ranking, no threshold; summary = min over sentences):",
        "",
        "| dataset | rules | cross-encoder alone |",
        "|---|---|---|",
    ]
    for ds, r in acc.items():
        if "auc_rules" in r:
            lines.append(f"| {ds} | {r['auc_rules']:.3f} | {r['auc_cross_encoder']:.3f} |")
    lines += [
        "",
        'Precision of "supported" (share of summaries marked supported that are supported; '
        "threshold as above):",
        "",
        "| dataset | base rate | rules | learned |",
        "|---|---|---|---|",
    ]
    for ds, r in acc.items():
        lines.append(
            f"| {ds} | {100 * r['base_rate_supported']:.1f} "
            f"| {100 * r['rules_precision_supported']:.1f} "
            f"| {100 * r['learned_precision_supported']:.1f} |"
        )
    lines.append("")
    lines.append(
        "| scorer | sentences/s (Validator.check, indexing included) | sentences/s (scorer alone) "
        "| load s | peak RSS MB | model MB |"
    )
    lines.append("|---|---|---|---|---|---|")
    for name, s in speeds.items():
        if "error" in s:
            lines.append(f"| {name} | error | | | | |")
            continue
        lines.append(
            f"| {name} | {s['sentences_per_s_end_to_end']:.1f} | {s['sentences_per_s_scorer']:.1f} "
            f"| {s['load_s']:.1f} | {s['peak_rss_mb']:.0f} "
            f"| {size_mb if name == 'learned' else 0:.1f} |"
        )
    lines += [
        "",
        "Published figures (different data and splits: context, not a like-for-like comparison):",
        "",
        "| checker | benchmark | balanced accuracy | source |",
        "|---|---|---|---|",
    ]
    for name, bench, value, src in PUBLISHED_AVERAGES:
        lines.append(
            f"| {name} | {bench} | {value:.1f} (published, different split) "
            f"| {MINICHECK if src == 'MINICHECK' else src} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--speed-sentences", type=int, default=60)
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument(
        "--speed-only",
        action="store_true",
        help="re-measure speed, keep the accuracy figures of the last run",
    )
    ap.add_argument("--out", type=Path, help=f"results file (default {RESULTS})")
    ap.add_argument("--smoke", action="store_true", help="a few rows, temp dir: does it run?")
    args = ap.parse_args()
    from summarize.support.scorers.learned import model_dir

    results, cache = args.out or RESULTS, CACHE
    if args.smoke:
        if args.speed_only:
            ap.error("--smoke measures everything on a few rows; drop --speed-only")
        folder = Path(tempfile.mkdtemp(prefix="bench-scorers-"))
        results, cache = args.out or folder / "scorers.json", folder / "features.pkl"
        MAX_ROWS.update(calibration=10, report=4)
        args.speed_sentences = min(args.speed_sentences, 3)
    datasets = SMOKE_DATASETS if args.smoke else None

    if args.speed_only:
        prev = json.loads(results.read_text())
        acc = prev["accuracy"]
        speeds = {s: speed(s, args.speed_sentences) for s in ("rules", "learned")}
        size = (model_dir() / "model.onnx").stat().st_size / 1e6
        table = markdown(acc, speeds, size)
        print(table)
        prev.update({"speed": speeds, "markdown": table, "model_mb": round(size, 1)})
        results.write_text(json.dumps(prev, indent=1) + "\n")
        return

    data = load_features(cache=cache, datasets=datasets)
    add_logits(data)
    acc = accuracy_table(data)
    speeds = (
        {} if args.no_speed else {s: speed(s, args.speed_sentences) for s in ("rules", "learned")}
    )
    size = (model_dir() / "model.onnx").stat().st_size / 1e6
    table = markdown(acc, speeds, size)
    print(table)
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(
        json.dumps(
            {
                "metric": "balanced accuracy on the report part (see training/splits.py); "
                "summary = min over sentences",
                "smoke": args.smoke,
                "accuracy": acc,
                "speed": speeds,
                "model_mb": round(size, 1),
                "published_averages": [
                    {
                        "checker": n,
                        "benchmark": b,
                        "balanced_accuracy": v,
                        "source": MINICHECK if s == "MINICHECK" else s,
                        "note": "published, different split",
                    }
                    for n, b, v, s in PUBLISHED_AVERAGES
                ],
                "markdown": table,
            },
            indent=1,
        )
        + "\n"
    )
    print(f"wrote {results}")


if __name__ == "__main__":
    main()
