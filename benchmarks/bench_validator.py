"""Benchmark the validator: one run, every figure the README's validator tables show.

    .venv/bin/python benchmarks/bench_validator.py [--max-rows 200] [--cascade-rows 0]
    .venv/bin/python benchmarks/bench_validator.py --smoke   # a few rows, temp output

On each development file in ../shared/data/factuality (at most --max-rows seeded
rows whose document the packaged cross-encoder never trained on;
`decision_data.py` computes and caches every signal), leave-one-dataset-out:
- the content-word baseline: the share of the summary's content words found in
  the sources, at the threshold that maximises the mean balanced accuracy of the
  OTHER files;
- today's verdict: the previous default (the `rules` scorer fitted without the
  file's dataset, then every veto of the previous policy);
- the new verdict: the calibrated decision fitted without the file's dataset
  (`summarize/data/decision.json`, `holdout`), with the hard vetoes;
- the new verdict with the cascade (--cascade-rows N > 0: N rows per file; the
  uncertain sentences go to the embedded model's judge; minutes per file);
- the veto-precision table: per check kind and file, the share of the summaries
  it fires on that humans labelled unfaithful;
- calibration of the held-out probabilities: reliability table and Brier score;
- the relation cases: the development set (decision fitted without it) and the
  blind set written after the checks were final (never fitted on);
- sentences per second through `Validator.check` (no cascade), load time, peak
  memory and model size.
Writes benchmarks/results/validator.json (`--out`).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import decision_data  # noqa: E402
from bench_relations import ArticleSets, load_cases, run_scorer, smoke_sample  # noqa: E402
from decision_data import DATA, _key, load_all  # noqa: E402
from decision_data import unseen_sample as sample  # noqa: E402
from factuality_data import MAX_ROWS, SEED  # noqa: E402
from fit_decision import brier, reliability, veto_precision  # noqa: E402

from summarize.eval.evaluate import balanced_accuracy, balanced_accuracy_at, row_articles  # noqa: E402
from summarize.support.policy import VETO_CAP, hard_vetoes, shipped  # noqa: E402
from summarize.support.scorers.calibrated import probability  # noqa: E402
from summarize.support.validator import Validator  # noqa: E402
from summarize.text.words import content_keys, key_found  # noqa: E402

RESULTS = HERE / "results" / "validator.json"
BLIND = HERE / "relation_cases" / "blind"
RELATIONS = "relations"


def baseline_score(row: dict) -> float:
    """Share of the summary's content words found in the sources."""
    keys = content_keys(row["summary"])
    source = set(content_keys(" ".join(row["sources"])))
    prefixes = {k[:6] for k in source if len(k) >= 6}
    return sum(key_found(k, source, prefixes) for k in keys) / len(keys) if keys else 1.0


def new_scores(model: dict, recs: list[dict], hard: frozenset[str]) -> np.ndarray:
    """Each summary's probability under `model`: its weakest sentence's, capped by a hard
    veto; 0 when a sentence had nothing to check."""
    out = []
    for rec in recs:
        ps = []
        for s in rec["sentences"]:
            if s["values"] is None:
                ps.append(0.0)
                continue
            p = probability(model, s["values"])
            ps.append(min(p, VETO_CAP) if hard & set(s["kinds"]) else p)
        out.append(min(ps))
    return np.array(out)


def lodo_cut(scored: dict[str, tuple[np.ndarray, np.ndarray]], name: str) -> float:
    """The cut maximising the mean balanced accuracy over the files other than `name`."""
    others = [v for k, v in scored.items() if k != name]
    cuts = np.unique(np.concatenate([s for _, s in others]))
    ba = np.mean([balanced_accuracy_at(y, s, cuts) for y, s in others], axis=0)
    return float(cuts[int(np.argmax(ba.round(12)))])


def cascade(name: str, recs: list[dict], rows: dict, model: dict, n: int) -> dict:
    """The held-out decision with the embedded model's judge on uncertain sentences,
    on the first `n` rows that have one."""
    from summarize.support.scorers.calibrated import CalibratedScorer
    from summarize.support.scorers.judge import JudgeScorer

    judge = JudgeScorer()
    scorer = CalibratedScorer(model=model, judge=judge)
    validator = Validator(scorer)
    plain = Validator(CalibratedScorer(model=model))

    def in_band(rec: dict) -> bool:
        return any(
            s["values"] and scorer.uncertain(probability(model, s["values"]))
            for s in rec["sentences"]
        )

    picked = [r for r in recs if in_band(r)][:n]
    y, before, after, judged, seconds = [], [], [], 0, 0.0
    try:
        for rec in picked:
            row = rows[rec["key"]]
            articles = row_articles(row)
            t = time.perf_counter()
            report = validator.validate(articles, row["summary"])
            seconds += time.perf_counter() - t
            judged += sum("uncertain" in " ".join(c.verdict.reasons) for c in report.claims)
            y.append(rec["label"])
            after.append(report.all_supported)
            before.append(plain.validate(articles, row["summary"]).all_supported)
    finally:
        judge.close()
    return {
        "rows_in_band": len(picked),
        "sentences_judged": judged,
        "seconds_per_judged_sentence": round(seconds / judged, 2) if judged else None,
        "balanced_accuracy_without_judge": round(balanced_accuracy(y, before), 4) if y else None,
        "balanced_accuracy_with_judge": round(balanced_accuracy(y, after), 4) if y else None,
    }


def speed(rows: list[dict], limit: int = 150) -> dict:
    """Sentences per second through Validator.check (the default, no cascade)."""
    t = time.perf_counter()
    validator = Validator()
    validator.check("The council met on Monday.", row_articles(rows[0]))  # loads every model
    load_s = time.perf_counter() - t
    sentences, elapsed = 0, 0.0
    for row in rows[:limit]:
        t = time.perf_counter()
        report = Validator().validate(row_articles(row), row["summary"])
        elapsed += time.perf_counter() - t
        sentences += len(report.claims)
    return {
        "load_s": round(load_s, 2),
        "sentences": sentences,
        "sentences_per_second": round(sentences / elapsed, 2),
    }


def model_size_mb() -> float:
    import summarize

    root = Path(summarize.__file__).parent / "data"
    return round(sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 1e6, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-rows", type=int, default=MAX_ROWS)
    ap.add_argument("--cascade-rows", type=int, default=0, help="rows per file for the cascade")
    ap.add_argument("--out", type=Path, help=f"results file (default {RESULTS})")
    ap.add_argument("--smoke", action="store_true", help="6 rows per file into a temp dir")
    args = ap.parse_args()
    if args.smoke:
        args.max_rows = 6
    out = args.out or (
        Path(tempfile.mkdtemp(prefix="bench-validator-")) / "validator.json"
        if args.smoke
        else RESULTS
    )
    load_start = os.getloadavg()[0]
    if args.smoke:  # the signal cache of a smoke run stays out of training/work
        decision_data.CACHE = out.parent / "signals"
    data = load_all(args.max_rows, relations=12 if args.smoke else None)
    hard = hard_vetoes()
    decision = shipped()
    rows = {}
    for path in sorted(DATA.glob("*.jsonl")):
        rows.update({_key(r): r for r in sample(path, args.max_rows)})
    dev = [n for n in data if n != RELATIONS]
    base = {
        n: (
            np.array([r["label"] for r in data[n]]),
            np.array([baseline_score(rows[r["key"]]) for r in data[n]]),
        )
        for n in dev
    }
    files, pooled_y, pooled_p = [], [], []
    for name in dev:
        recs = data[name]
        y = base[name][0]
        model = decision["holdout"][name]
        p = new_scores(model, recs, hard)
        old = np.array([all(s["old"] for s in r["sentences"]) for r in recs])
        cut = lodo_cut(base, name)
        entry = {
            "file": name,
            "rows": len(recs),
            "supported_share": round(float(y.mean()), 3),
            "baseline": round(balanced_accuracy(y, base[name][1] >= cut), 4),
            "today": round(balanced_accuracy(y, old), 4),
            "new": round(balanced_accuracy(y, p >= model["threshold"]), 4),
            "new_threshold": model["threshold"],
            "brier": round(brier(y, p), 4),
        }
        if args.cascade_rows:
            entry["cascade"] = cascade(name, recs, rows, model, args.cascade_rows)
            print(f"{name}: cascade {entry['cascade']}", file=sys.stderr)
        files.append(entry)
        pooled_y.append(y)
        pooled_p.append(p)
    y, p = np.concatenate(pooled_y), np.concatenate(pooled_p)
    sets = ArticleSets()
    few = (lambda cases: smoke_sample(cases, 10)) if args.smoke else (lambda cases: cases)
    relations = {
        "development": run_scorer("calibrated", few(load_cases()), sets, holdout=RELATIONS)[
            "summary"
        ],
        "blind": run_scorer(
            "calibrated", few(load_cases(BLIND / "cases.jsonl")), ArticleSets(BLIND / "articles")
        )["summary"],
    }
    for summary in relations.values():
        summary.pop("per_kind", None)
    speed_rows = [rows[r["key"]] for n in dev for r in data[n][: 2 if args.smoke else 20]]
    figures = {
        "date": time.strftime("%Y-%m-%d"),
        "load_average_start_end": [round(load_start, 2), round(os.getloadavg()[0], 2)],
        "sample": f"<= {args.max_rows} rows per file (documents the cross-encoder never saw), "
        f"random.Random({SEED})",
        "hard_vetoes": sorted(hard),
        "files": files,
        "mean": {
            k: round(float(np.mean([f[k] for f in files])), 4) for k in ("baseline", "today", "new")
        },
        "veto_precision": veto_precision(data),
        "calibration": {
            "brier": round(brier(y, p), 4),
            "brier_of_a_constant": round(brier(y, np.full(len(y), y.mean())), 4),
            "reliability": reliability(y, p),
        },
        "relation_cases": relations,
        "speed": speed(speed_rows),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "package_data_mb": model_size_mb(),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=1) + "\n")
    print("| file | rows | baseline | today's verdict | new verdict | Brier |")
    print("|---|---|---|---|---|---|")
    for f in files:
        print(
            f"| {f['file']} | {f['rows']} | {100 * f['baseline']:.1f} | {100 * f['today']:.1f} | "
            f"{100 * f['new']:.1f} | {f['brier']:.3f} |"
        )
    m = figures["mean"]
    print(
        f"| mean | | {100 * m['baseline']:.1f} | {100 * m['today']:.1f} | {100 * m['new']:.1f} | |"
    )
    print(json.dumps({k: figures[k] for k in ("calibration", "relation_cases", "speed")}, indent=1))
    print(f"peak RSS {figures['peak_rss_mb']} MB; package data {figures['package_data_mb']} MB")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
