"""Every signal of every summary sentence, for fitting and judging the support decision.

    .venv/bin/python benchmarks/decision_data.py [--max-rows 200] [--files cliff,frank]

For each development file in ../shared/data/factuality (at most --max-rows rows,
seeded, from documents the packaged cross-encoder was never trained on: parts
"calibration" and "report" of training/splits.py) and for the relation cases
(benchmarks/relation_cases), it records per summary sentence:
- the calibrated scorer's signal values (`scorers/calibrated.py`: coverage,
  entailment logit, retrieval scores, each check's 0/1 finding);
- every finding kind that fired, the neutrality and planted-instruction ones
  included (for the veto-precision table);
- the verdict of the previous default (the `rules` scorer fitted without the
  row's dataset, then every veto of the previous policy): "today's verdict".
Rows are cached in training/work/signals/NAME.jsonl by (file, row id, text
hash); a rerun computes only what is missing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "training"))

from factuality_data import DATA, MAX_ROWS, SEED, dataset_name  # noqa: E402
from splits import part  # noqa: E402

from summarize.eval.evaluate import row_articles  # noqa: E402
from summarize.models import Article  # noqa: E402
from summarize.support.checks import run_checks  # noqa: E402
from summarize.support.neutral import neutrality_problem  # noqa: E402
from summarize.support.retrieve import Retrieval  # noqa: E402
from summarize.support.scorers.base import support_spans  # noqa: E402
from summarize.support.scorers.calibrated import signals  # noqa: E402
from summarize.support.structure import instruction_findings, structure_findings  # noqa: E402
from summarize.support.validator import Validator  # noqa: E402
from summarize.text.segment import split_sentences  # noqa: E402

CACHE = ROOT / "training" / "work" / "signals"
# the previous default policy's vetoes (before the calibrated decision), for "today's verdict"
OLD_VETOES = {"number", "date", "entity", "quote", "negation", "name"}
OLD_VETOES |= {"actor", "direction", "speculation", "attachment", "instruction", "neutrality"}


def unseen_sample(path: Path, max_rows: int = MAX_ROWS, seed: int = SEED) -> list[dict]:
    """At most `max_rows` seeded rows whose document the cross-encoder never trained on."""
    rows = []
    for line in path.open(encoding="utf-8"):
        if line.strip():
            row = json.loads(line)
            row["_file"] = dataset_name(path)
            if part(row) != "train" and row.get("sources") and row.get("summary"):
                rows.append(row)
    if len(rows) > max_rows:
        rows = random.Random(seed).sample(rows, max_rows)
    return rows


def relation_rows() -> list[dict]:
    """The relation cases as rows (articles by file name)."""
    from bench_relations import ArticleSets, load_cases

    sets = ArticleSets()
    return [
        {"id": c["id"], "_articles": sets.get(c["articles"]), "summary": c["claim"], **c}
        for c in load_cases()
    ]


def _key(row: dict) -> str:
    text = json.dumps([row.get("id"), row["summary"], row.get("sources")], sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()


def sentence_record(text: str, articles: list[Article], old: Validator) -> dict:
    """The signals of one sentence; `old` is the previous default (its scorer gives
    "today's verdict"), and its index serves retrieval for both."""
    retriever, evidence = old.index(articles)
    candidates = retriever.candidates(text, k=old.k)
    if not candidates:
        return {"text": text, "values": None, "kinds": [], "old": False}
    found = Retrieval(candidates, retriever.articles, evidence, retriever.sentences)
    values, support, findings = signals(text, found)
    spans = support_spans(support, retriever.articles)
    kinds = {f"{f.check}_{f.severity}" for f in findings}
    kinds |= {f"{f.check}_{f.severity}" for f in instruction_findings(spans, articles)}
    if neutrality_problem(text, articles):
        kinds.add("neutrality_error")
    # the previous default: its scorer, then its policy's vetoes on that scorer's spans
    proposal = old.scorer.score(text, found)
    fired = run_checks(text, proposal.spans, articles, evidence)
    fired += structure_findings(text, proposal.spans, articles)
    vetoed = (
        any(
            (f.severity == "error" and f.check in OLD_VETOES)
            or (f.severity == "warning" and f.check in ("number", "date"))
            for f in fired
        )
        or "neutrality_error" in kinds
    )
    return {
        "text": text,
        "values": values,
        "kinds": sorted(kinds),
        "old": bool(proposal.supported and not vetoed),
        "old_score": min(proposal.score, 0.05) if vetoed else proposal.score,
    }


def extract(name: str, rows: list[dict], log=print) -> list[dict]:
    """Records of `rows` (cached in CACHE, which a smoke run points elsewhere)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{name}.jsonl"
    cached = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            cached[rec["key"]] = rec
    holdout = name if name != "relations" else None
    old = Validator("rules", holdout=holdout) if holdout else Validator("rules")
    out, t0 = [], time.perf_counter()
    with path.open("a", encoding="utf-8") as sink:
        for i, row in enumerate(rows):
            key = _key(row)
            if key not in cached:
                articles = row.get("_articles") or row_articles(row)
                summary = row["summary"]
                sentences = [summary[s:e] for s, e in split_sentences(summary)] or [summary]
                rec = {
                    "key": key,
                    "id": row.get("id"),
                    "dataset": name,
                    "label": int(row["label"]),
                    "kind": row.get("kind"),
                    "sentences": [sentence_record(s, articles, old) for s in sentences],
                }
                sink.write(json.dumps(rec) + "\n")
                sink.flush()
                cached[key] = rec
            out.append(cached[key])
            if (i + 1) % 25 == 0:
                log(f"{name}: {i + 1}/{len(rows)} rows, {time.perf_counter() - t0:.0f} s")
    return out


def load_all(
    max_rows: int = MAX_ROWS, files: list[str] | None = None, relations: int | None = None
) -> dict[str, list[dict]]:
    """{dataset: records}, every development file and the relation cases (the first
    `relations` of them, spread over the kinds, when given: smoke runs)."""
    data = {}
    for path in sorted(DATA.glob("*.jsonl")):
        name = dataset_name(path)
        if files and name not in files:
            continue
        data[name] = extract(name, unseen_sample(path, max_rows))
    if not files or "relations" in files:
        rows = relation_rows()
        if relations is not None:
            from bench_relations import smoke_sample

            rows = smoke_sample(rows, relations)
        data["relations"] = extract("relations", rows)
    return data


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-rows", type=int, default=MAX_ROWS)
    ap.add_argument("--files", default="", help="comma-separated dataset names (default: all)")
    args = ap.parse_args()
    files = [f for f in args.files.split(",") if f] or None
    data = load_all(args.max_rows, files)
    for name, recs in data.items():
        print(name, len(recs), "rows", sum(len(r["sentences"]) for r in recs), "sentences")


if __name__ == "__main__":
    main()
