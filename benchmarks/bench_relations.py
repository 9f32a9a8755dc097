"""Run the validator on the labelled relation cases in benchmarks/relation_cases/.

    .venv/bin/python benchmarks/bench_relations.py [--scorer rules] [--scorer learned ...]
        [--smoke] [--limit N] [--kind KIND] [--out FILE] [--show-errors]

Each case is one claim checked against the invented articles it names (see
relation_cases/README.md): label 1 the articles support it, 0 they do not (a
swapped actor or speaker, a reversed direction, a plan stated as settled, a
dropped negation, a moved place or partner, an embedded instruction, a wrong
number or date). For every scorer named it reports:
- accuracy over all cases and balanced accuracy;
- errors passed as supported: the share of label-0 cases judged supported
  (the failure that matters most for this product);
- faithful rejected: the share of label-1 cases judged unsupported;
- accuracy per kind (for label-0 kinds this is the share caught).
Scorer-agnostic: any name `Validator(scorer=NAME)` accepts works; a scorer
that cannot be built (say `nli` without a model) is reported and skipped.
`--out FILE` writes the figures and every verdict as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
CASES_DIR = HERE / "relation_cases"
CASES = CASES_DIR / "cases.jsonl"
ARTICLES = CASES_DIR / "articles"

from summarize import load_articles  # noqa: E402

try:  # the package is being restructured: accept the old location too
    from summarize.support.validator import Validator  # noqa: E402
except ImportError:  # pragma: no cover
    from summarize.validator import Validator  # type: ignore[no-redef]  # noqa: E402

ERROR_KINDS = (
    "actor_swap",
    "attribution_swap",
    "direction",
    "speculation",
    "negation_dropped",
    "place_partner",
    "instruction",
    "number/date",
)
SUPPORTED_KINDS = ("faithful", "fused", "attributed")


def load_cases(path: Path = CASES) -> list[dict]:
    """The cases, checked for shape: id, articles, claim, label 0/1, known kind."""
    cases = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        case = json.loads(line)
        missing = {"id", "articles", "claim", "label", "kind"} - case.keys()
        if missing:
            raise ValueError(f"{path}:{n}: missing {sorted(missing)}")
        if case["label"] not in (0, 1):
            raise ValueError(f"{path}:{n}: label must be 0 or 1")
        if case["kind"] not in ERROR_KINDS + SUPPORTED_KINDS:
            raise ValueError(f"{path}:{n}: unknown kind {case['kind']!r}")
        if (case["label"] == 1) != (case["kind"] in SUPPORTED_KINDS):
            raise ValueError(f"{path}:{n}: kind {case['kind']!r} with label {case['label']}")
        cases.append(case)
    return cases


def smoke_sample(cases: list[dict], n: int = 10) -> list[dict]:
    """n cases spread over the kinds (first of each kind, then the next, ...)."""
    by_kind: dict[str, list[dict]] = defaultdict(list)
    for c in cases:
        by_kind[c["kind"]].append(c)
    picked: list[dict] = []
    depth = 0
    while len(picked) < min(n, len(cases)):
        for kind in by_kind:
            if depth < len(by_kind[kind]) and len(picked) < n:
                picked.append(by_kind[kind][depth])
        depth += 1
    return picked


class ArticleSets:
    """Loads each article file once; gives the Article list of a case."""

    def __init__(self, folder: Path = ARTICLES):
        self.folder = folder
        self._cache: dict[str, object] = {}

    def get(self, names: list[str]) -> list:
        out = []
        for name in names:
            if name not in self._cache:
                articles, problems = load_articles([str(self.folder / name)])
                if problems or len(articles) != 1:
                    raise RuntimeError(f"{name}: could not load ({problems})")
                self._cache[name] = articles[0]
            out.append(self._cache[name])
        return out


def summarise(results: list[dict]) -> dict:
    """Accuracy, balanced accuracy, false-supported and false-rejected rates, per kind."""
    pos = [r for r in results if r["label"] == 1]
    neg = [r for r in results if r["label"] == 0]
    right = [r for r in results if r["supported"] == bool(r["label"])]
    per_kind: dict[str, dict] = {}
    for kind in SUPPORTED_KINDS + ERROR_KINDS:
        rows = [r for r in results if r["kind"] == kind]
        if rows:
            ok = sum(r["supported"] == bool(r["label"]) for r in rows)
            per_kind[kind] = {"n": len(rows), "correct": ok, "accuracy": ok / len(rows)}
    recall_pos = sum(r["supported"] for r in pos) / len(pos) if pos else None
    recall_neg = sum(not r["supported"] for r in neg) / len(neg) if neg else None
    balanced = (
        (recall_pos + recall_neg) / 2 if recall_pos is not None and recall_neg is not None else None
    )
    return {
        "cases": len(results),
        "supported_cases": len(pos),
        "unsupported_cases": len(neg),
        "accuracy": len(right) / len(results) if results else None,
        "balanced_accuracy": balanced,
        "errors_passed_as_supported": sum(r["supported"] for r in neg),
        "false_supported_rate": 1 - recall_neg if recall_neg is not None else None,
        "faithful_rejected": sum(not r["supported"] for r in pos),
        "false_rejected_rate": 1 - recall_pos if recall_pos is not None else None,
        "per_kind": per_kind,
    }


def run_scorer(name: str, cases: list[dict], sets: ArticleSets, **options) -> dict:
    t0 = time.perf_counter()
    validator = Validator(scorer=name, **options)
    load_s = time.perf_counter() - t0
    results = []
    t0 = time.perf_counter()
    for case in cases:
        verdict = validator.check(case["claim"], sets.get(case["articles"]))
        results.append(
            {
                "id": case["id"],
                "kind": case["kind"],
                "label": case["label"],
                "claim": case["claim"],
                "supported": bool(verdict.supported),
                "score": round(float(verdict.score), 4),
                "reasons": list(verdict.reasons)[:5],
            }
        )
    summary = summarise(results)
    summary["load_s"] = round(load_s, 2)
    summary["check_s"] = round(time.perf_counter() - t0, 2)
    return {"scorer": name, "summary": summary, "results": results}


def pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


def print_report(run: dict, show_errors: bool = False) -> None:
    s = run["summary"]
    print(
        f"\n## scorer: {run['scorer']}  ({s['cases']} cases, load {s['load_s']} s, "
        f"checks {s['check_s']} s)"
    )
    print(f"accuracy {pct(s['accuracy'])}  balanced accuracy {pct(s['balanced_accuracy'])}")
    print(
        f"errors passed as supported: {s['errors_passed_as_supported']}/{s['unsupported_cases']}"
        f" ({pct(s['false_supported_rate'])}%)   faithful rejected: "
        f"{s['faithful_rejected']}/{s['supported_cases']} ({pct(s['false_rejected_rate'])}%)"
    )
    print("\n| kind | label | n | correct | accuracy |\n|---|---|---|---|---|")
    for kind, k in s["per_kind"].items():
        label = 1 if kind in SUPPORTED_KINDS else 0
        print(f"| {kind} | {label} | {k['n']} | {k['correct']} | {pct(k['accuracy'])} |")
    if show_errors:
        print("\nwrong verdicts:")
        for r in run["results"]:
            if r["supported"] != bool(r["label"]):
                why = "; ".join(r["reasons"][:2])
                print(f"  {r['id']} [{r['kind']}] score {r['score']:.2f}: {r['claim']}  -- {why}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--scorer", action="append", help="scorer name (repeatable); default calibrated"
    )
    ap.add_argument("--cases", type=Path, default=CASES)
    ap.add_argument("--articles", type=Path, default=ARTICLES)
    ap.add_argument("--smoke", action="store_true", help="10 cases spread over the kinds")
    ap.add_argument("--limit", type=int, default=None, help="first N cases")
    ap.add_argument("--kind", action="append", help="only these kinds (repeatable)")
    ap.add_argument("--out", type=Path, default=None, help="write figures and verdicts as JSON")
    ap.add_argument("--show-errors", action="store_true", help="list the wrong verdicts")
    args = ap.parse_args(argv)

    cases = load_cases(args.cases)
    if args.kind:
        cases = [c for c in cases if c["kind"] in args.kind]
    if args.smoke:
        cases = smoke_sample(cases, 10)
    elif args.limit:
        cases = cases[: args.limit]
    sets = ArticleSets(args.articles)
    runs, failed = [], {}
    for name in args.scorer or ["calibrated"]:
        try:
            run = run_scorer(name, cases, sets)
        except Exception as exc:  # a scorer that needs a model it lacks: report, go on
            failed[name] = f"{type(exc).__name__}: {exc}"
            print(f"\n## scorer: {name}: could not run ({failed[name]})", file=sys.stderr)
            continue
        print_report(run, args.show_errors)
        runs.append(run)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "cases_file": str(
                args.cases.relative_to(ROOT) if args.cases.is_relative_to(ROOT) else args.cases
            ),
            "smoke": args.smoke,
            "runs": runs,
            "failed": failed,
        }
        args.out.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n")
        print(f"\nwrote {args.out}")
    return 0 if runs else 1


if __name__ == "__main__":
    sys.exit(main())
