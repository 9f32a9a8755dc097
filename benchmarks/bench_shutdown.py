"""How fast a digest stops: seconds from SIGINT or SIGTERM to the exit, at each stage.

Each run is a real `summarize digest` process signalled on an event at one stage
(reading, grouping, mid-story, writing; see tests/shutdown_support.py), against the
loopback fake server. The figure includes writing the finished stories and the
interpreter's exit. The target is 5 s; on busy cores it grows with the share of a core
the process gets, so the machine's load average is recorded beside it.

    .venv/bin/python benchmarks/bench_shutdown.py [--repeats 5]
    .venv/bin/python benchmarks/bench_shutdown.py --smoke   # SIGTERM only, once per stage

Prints a Markdown table and writes benchmarks/results/shutdown.json (`--out`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.shutdown_support import SIGNALS, STAGES, stop_at  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", type=Path, default=None, help="default results/shutdown.json")
    ap.add_argument("--smoke", action="store_true", help="SIGTERM only, once per stage")
    args = ap.parse_args()
    names = list(SIGNALS)
    if args.smoke:
        args.repeats, names = 1, ["SIGTERM"]
    if args.out is None:
        folder = Path(tempfile.mkdtemp(prefix="bench-shutdown-")) if args.smoke else None
        args.out = (folder or ROOT / "benchmarks" / "results") / "shutdown.json"

    rows = []
    load_before = os.getloadavg()[0]
    for stage in STAGES:
        for name in names:
            sig, code = SIGNALS[name]
            times, right = [], 0
            for _ in range(args.repeats):
                with tempfile.TemporaryDirectory(prefix="bench-shutdown-") as tmp:
                    run = stop_at(stage, sig, Path(tmp))
                times.append(run.stopped_in_s)
                right += run.status == code
            rows.append(
                {
                    "stage": stage,
                    "signal": name,
                    "runs": args.repeats,
                    "right_status": right,
                    "median_s": round(statistics.median(times), 2),
                    "max_s": round(max(times), 2),
                }
            )
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    result = {
        "repeats": args.repeats,
        "smoke": args.smoke,
        "machine": "2 CPU cores, no GPU",
        "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        "runs": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"load average before / after: {result['load_average']}\n")
    print("| stage | signal | exit status right | median | max |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['stage']} | {r['signal']} | {r['right_status']}/{r['runs']} "
            f"| {r['median_s']} s | {r['max_s']} s |"
        )
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
