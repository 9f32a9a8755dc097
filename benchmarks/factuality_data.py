"""Shared helpers for the validator benchmarks: data location and seeded sampling."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "factuality"
MAX_ROWS = 200  # per file, seeded sample: keeps a full run to minutes on 2 cores
SEED = 0

from summarize.eval.evaluate import balanced_accuracy, best_threshold  # noqa: E402

__all__ = ["DATA", "MAX_ROWS", "SEED", "balanced_accuracy", "best_threshold", "load_sample"]


def dataset_name(path: Path) -> str:
    return path.stem.split("-")[0]


def load_sample(path: Path, max_rows: int = MAX_ROWS, seed: int = SEED) -> list[dict]:
    """At most `max_rows` rows of a JSONL file, sampled with a fixed seed."""
    rows = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
    if len(rows) > max_rows:
        rows = random.Random(seed).sample(rows, max_rows)
    return rows
