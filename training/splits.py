"""Deterministic split of the factuality dev files into train / calibration / report parts.

The part of a row is decided by a hash of its source document text, so all the
summaries of one document (XSumFaith and FRANK have several per document) fall
in the same part: a document the model was trained with never appears in a
reported figure. SummEdits is never trained on (it has only 4 documents): all
its rows are "report", and its threshold comes from the other files.

    sha1(document)[:8] as int % 10:  0-4 train, 5-6 calibration, 7-9 report
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "factuality"
HELD_OUT = {"summedits"}  # never trained or calibrated on


def dataset_name(path: Path) -> str:
    return path.stem.split("-")[0]


def part(row: dict) -> str:
    if row.get("dataset", "").lower().startswith("summedits") or row.get("_file") in HELD_OUT:
        return "report"
    doc = "\n".join(row.get("sources") or [])
    bucket = int(hashlib.sha1(doc.encode("utf-8")).hexdigest()[:8], 16) % 10
    return "train" if bucket < 5 else "calibration" if bucket < 7 else "report"


def load_rows(path: Path) -> list[dict]:
    rows = []
    for line in path.open(encoding="utf-8"):
        if line.strip():
            row = json.loads(line)
            row["_file"] = dataset_name(path)
            rows.append(row)
    return rows


def rows_by_part(which: str, data: Path = DATA) -> dict[str, list[dict]]:
    """{dataset: rows of that part}, every dev file."""
    out = {}
    for path in sorted(data.glob("*.jsonl")):
        out[dataset_name(path)] = [r for r in load_rows(path) if part(r) == which]
    return out
