"""Benchmark the validator on every factuality file in ../shared/data/factuality.

    .venv/bin/python benchmarks/bench_validator.py [--max-rows 200] [--scorer rules]
    .venv/bin/python benchmarks/bench_validator.py --smoke   # a few rows, seconds, temp dir

For each file (at most --max-rows rows, seeded sample, the same rows
fit_rules.py saw) it reports, in one run:
- balanced accuracy of the validator's own verdict (the `rules` scorer uses the
  coefficients fitted WITHOUT that file's dataset: leave-one-dataset-out);
- balanced accuracy at the best threshold on the row score (optimistic: the
  threshold is chosen on the very rows it is scored on);
- the trivial baseline: share of the summary's content words found in the
  source, at a threshold chosen on the OTHER files (the one maximising their
  mean balanced accuracy: leave-one-dataset-out, the validator's protocol),
  and, optimistically, at its best threshold on the file itself;
- throughput: summary sentences validated per second (model load excluded,
  indexing of the sources included) and peak memory (maxrss).
Prints a Markdown table and writes benchmarks/results/validator.json (`--out`;
`--smoke`: 3 files, 6 rows each, written to a temporary folder: checks the script runs).
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
from factuality_data import DATA, MAX_ROWS, SEED, dataset_name, load_sample

from summarize.eval.evaluate import (
    balanced_accuracy,
    balanced_accuracy_at,
    best_threshold,
    row_articles,
)
from summarize.model import embed
from summarize.support.validator import Validator
from summarize.text.words import content_keys, key_found

RESULTS = Path(__file__).resolve().parent / "results" / "validator.json"


def baseline_score(row: dict) -> float:
    """Share of the summary's content words found in the sources."""
    keys = content_keys(row["summary"])
    source = set(content_keys(" ".join(row["sources"])))
    prefixes = {k[:6] for k in source if len(k) >= 6}
    return sum(key_found(k, source, prefixes) for k in keys) / len(keys) if keys else 1.0


def bench_file(path: Path, max_rows: int, scorer: str) -> dict:
    name = dataset_name(path)
    options = {"holdout": name} if scorer == "rules" else {}
    validator = Validator(scorer, **options)
    rows = [r for r in load_sample(path, max_rows) if r.get("sources") and r.get("summary")]
    labels, scores, verdicts, base = [], [], [], []
    sentences, elapsed = 0, 0.0
    for row in rows:
        t = time.perf_counter()
        report = validator.validate(row_articles(row), row["summary"])
        elapsed += time.perf_counter() - t
        sentences += len(report.claims)
        labels.append(int(row["label"]))
        scores.append(min(c.verdict.score for c in report.claims))
        verdicts.append(all(c.verdict.supported for c in report.claims))
        base.append(baseline_score(row))
    best, threshold = best_threshold(labels, scores)
    base_best, base_threshold = best_threshold(labels, base)
    return {
        "_labels": labels,
        "_baseline": base,
        "file": path.name,
        "rows": len(rows),
        "supported_share": round(float(np.mean(labels)), 3),
        "validator_balanced_accuracy": round(balanced_accuracy(labels, verdicts), 4),
        "best_threshold_balanced_accuracy": round(best, 4),
        "best_threshold": round(threshold, 4),
        "baseline_best_threshold_balanced_accuracy": round(base_best, 4),
        "baseline_best_threshold": round(base_threshold, 4),
        "summary_sentences": sentences,
        "seconds": round(elapsed, 2),
        "sentences_per_second": round(sentences / elapsed, 2) if elapsed else None,
    }


def lodo_threshold(others: list[dict]) -> float:
    """The baseline threshold maximising the mean balanced accuracy over `others`."""
    cuts = np.unique(np.concatenate([r["_baseline"] for r in others]))
    mean_ba = np.mean(
        [balanced_accuracy_at(r["_labels"], r["_baseline"], cuts) for r in others], axis=0
    )
    return cuts[int(np.argmax(mean_ba.round(12)))]  # ties: the lowest cut


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--max-rows", type=int, default=MAX_ROWS)
    ap.add_argument("--scorer", default="rules")
    ap.add_argument("--files", nargs="*", help="file names (default: all)")
    ap.add_argument("--out", type=Path, help=f"results file (default {RESULTS})")
    ap.add_argument(
        "--smoke", action="store_true", help="3 files x 6 rows into a temp dir: does it run?"
    )
    args = ap.parse_args()
    paths = sorted(DATA.glob("*.jsonl"))
    if args.smoke:
        args.max_rows = min(args.max_rows, 6)
        paths = paths[:3] if not args.files else paths
        out = args.out or Path(tempfile.mkdtemp(prefix="bench-validator-")) / "validator.json"
    else:
        out = args.out or RESULTS
    if args.files:
        paths = [p for p in paths if p.name in args.files or p.stem in args.files]
    if not paths:
        sys.exit(f"no factuality files under {DATA}")
    load_start = os.getloadavg()[0]
    t = time.perf_counter()
    embed.load()
    load_s = time.perf_counter() - t
    results = []
    for path in paths:
        results.append(bench_file(path, args.max_rows, args.scorer))
        print(f"{path.name}: done", file=sys.stderr)
    for r in results:
        t = lodo_threshold([o for o in results if o is not r])
        r["baseline_lodo_threshold"] = round(float(t), 4)
        ba = balanced_accuracy(r["_labels"], np.array(r["_baseline"]) >= t)
        r["baseline_balanced_accuracy"] = round(ba, 4)
    for r in results:
        del r["_labels"], r["_baseline"]
    total_sent = sum(r["summary_sentences"] for r in results)
    total_s = sum(r["seconds"] for r in results)
    summary = {
        "scorer": args.scorer,
        "fit": (
            "leave-one-dataset-out: each file is scored by coefficients (validator) and a "
            "threshold (baseline) chosen without that file's dataset"
        ),
        "load_average_start_end": [round(load_start, 2), round(os.getloadavg()[0], 2)],
        "sample": f"<= {args.max_rows} rows per file, random.Random({SEED})",
        "model_load_s": round(load_s, 2),
        "sentences_per_second": round(total_sent / total_s, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "mean_validator_balanced_accuracy": round(
            float(np.mean([r["validator_balanced_accuracy"] for r in results])), 4
        ),
        "mean_baseline_balanced_accuracy": round(
            float(np.mean([r["baseline_balanced_accuracy"] for r in results])), 4
        ),
        "mean_best_threshold_balanced_accuracy": round(
            float(np.mean([r["best_threshold_balanced_accuracy"] for r in results])), 4
        ),
        "mean_baseline_best_threshold_balanced_accuracy": round(
            float(np.mean([r["baseline_best_threshold_balanced_accuracy"] for r in results])), 4
        ),
        "files": results,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=1) + "\n")
    print(
        "| file | rows | validator BA (LODO) | best-thr. BA (optimistic) | baseline BA (LODO) "
        "| baseline best-thr. (optimistic) | sent/s |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['file']} | {r['rows']} | {r['validator_balanced_accuracy']:.3f} | "
            f"{r['best_threshold_balanced_accuracy']:.3f} | "
            f"{r['baseline_balanced_accuracy']:.3f} | "
            f"{r['baseline_best_threshold_balanced_accuracy']:.3f} | {r['sentences_per_second']} |"
        )
    print(
        f"\nmean validator BA {summary['mean_validator_balanced_accuracy']:.3f}, "
        f"baseline {summary['mean_baseline_balanced_accuracy']:.3f} (both leave-one-dataset-out); "
        f"{summary['sentences_per_second']} sentences/s; peak RSS {summary['peak_rss_mb']} MB; "
        f"model load {summary['model_load_s']} s; "
        f"1-min load average at start/end {summary['load_average_start_end']}"
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
