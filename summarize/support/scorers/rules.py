"""The v1 scorer: a small monotone logistic model over rule and coverage features.

The vetoes (a number, date, name, quotation or negation that fails its check)
are applied after this scorer, as after every scorer, by `support/policy.py`.
The score is a logistic model over `MODEL_FEATURES` with weights
constrained to their expected sign, so it is monotone in each signal. It is
fitted with `benchmarks/fit_rules.py` on the factuality development files
(class- and dataset-balanced, so 0.5 is the balanced decision point).
Leave-one-dataset-out, adding embedding similarity, bigram share or novel-word
counts to the coverage of the claim by its support did not raise accuracy at
the shipped threshold, so the model is coverage alone. Coefficients live in
`summarize/data/rules.json`: `default` is fitted on all files; `holdout[name]`
leaves that dataset out, so benchmarks can report on data the model never saw.

`FEATURES` and `featurize` are also used by the `learned` scorer: keep them stable.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

import numpy as np

from summarize.models import Sentence, Verdict
from summarize.support.checks import (
    Evidence,
    Finding,
    check_antonyms,
    check_dates,
    check_entities,
    check_extrinsic,
    check_negation,
    check_numbers,
    check_quotes,
    check_unknown_words,
)
from summarize.support.retrieve import Candidate, Retrieval
from summarize.support.scorers.base import (
    cover_keys,
    select_support,
    support_spans,
)
from summarize.text.words import tokens

FEATURES = [
    "cos_best",
    "cos_support",
    "cov_support",
    "cov_source",
    "novel_words",
    "bigram_support",
    "trigram_support",
    "number_error",
    "number_warning",
    "date_error",
    "entity_error",
    "entity_warning",
    "negation_error",
    "negation_warning",
    "antonym_error",
    "support_sentences",
    "claim_words",
]


def _ngrams(words: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def _share(part: set, whole: set) -> float:
    return len(part & whole) / len(part) if part else 1.0


def featurize(
    claim: str,
    candidates: Sequence[Candidate],
    sources: Evidence,
) -> tuple[np.ndarray, list[Sentence], list[Finding]]:
    """Feature vector (order of FEATURES), the chosen support, and the findings."""
    support = select_support(claim, candidates)
    ev = spans_evidence_from(support)
    findings = [
        *check_numbers(claim, ev, sources),
        *check_dates(claim, ev, sources),
        *check_entities(claim, ev, sources),
        *check_quotes(claim, ev, sources),
        *check_negation(claim, ev),
        *check_antonyms(claim, ev),
        *check_extrinsic(claim, ev, sources),
        *check_unknown_words(claim, sources),
    ]

    def count(check: str, severity: str) -> float:
        n = sum(len(f.items) or 1 for f in findings if f.check == check and f.severity == severity)
        return float(min(n, 3))

    want = cover_keys(claim)
    cov_support = sum(ev.has_key(k) for k in want) / len(want) if want else 1.0
    cov_source = sum(sources.has_key(k) for k in want) / len(want) if want else 1.0
    novel = next(
        (f.items for f in findings if f.check == "extrinsic" and f.severity == "error"), []
    )
    cw, sw = tokens(claim), tokens(ev.text)
    ids = {s.id for s in support}
    cos_support = max(
        (c.cosine for c in candidates if {s.id for s in c.sentences} <= ids), default=0.0
    )
    x = np.array(
        [
            max((c.cosine for c in candidates), default=0.0),
            cos_support,
            cov_support,
            cov_source,
            math.log1p(len(novel)),
            _share(_ngrams(cw, 2), _ngrams(sw, 2)),
            _share(_ngrams(cw, 3), _ngrams(sw, 3)),
            count("number", "error"),
            count("number", "warning"),
            count("date", "error"),
            count("entity", "error"),
            count("entity", "warning"),
            count("negation", "error"),
            count("negation", "warning"),
            count("antonym", "error"),
            float(len(support)),
            math.log1p(len(want)),
        ]
    )
    return x, support, findings


def spans_evidence_from(sentences: Sequence[Sentence]) -> Evidence:
    return Evidence("\n".join(s.text for s in sentences))


MODEL_FEATURES = ["cov_support"]
# features whose weight may only be <= 0
NEGATIVE = {"novel_words", "negation_warning", "number_warning", "entity_warning"}


@lru_cache(maxsize=1)
def _coefficients() -> dict:
    path = resources.files("summarize") / "data" / "rules.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}


# before the first fit: coverage and similarity by hand
_FALLBACK = {
    "features": MODEL_FEATURES,
    "mean": [0.9],
    "scale": [0.15],
    "coef": [0.4],
    "intercept": 0.0,
    "threshold": 0.5,
}


class RulesScorer:
    """Vetoes, then a sign-constrained logistic model; see the module docstring."""

    name = "rules"

    def __init__(self, holdout: str | None = None, threshold: float | None = None):
        data = _coefficients()
        model = (data.get("holdout") or {}).get(holdout) if holdout else data.get("default")
        if holdout and model is None:
            raise ValueError(f"no coefficients fitted without dataset {holdout!r}")
        model = model or _FALLBACK
        if not set(model["features"]) <= set(FEATURES):
            raise ValueError("summarize/data/rules.json was fitted on other features: refit it")
        self.columns = [FEATURES.index(n) for n in model["features"]]
        self.mean = np.array(model["mean"])
        self.scale = np.array(model["scale"])
        self.coef = np.array(model["coef"])
        self.intercept = float(model["intercept"])
        self.threshold = float(threshold if threshold is not None else model["threshold"])
        # without a similarity feature the embedding model (the slow part) is not needed:
        # the Validator's retrieval then ranks candidates lexically
        self.uses_embeddings = any(n.startswith("cos_") for n in model["features"])

    def probability(self, x: np.ndarray) -> float:
        """The model's probability for a full FEATURES vector (vetoes not applied)."""
        z = float(((x[self.columns] - self.mean) / self.scale) @ self.coef + self.intercept)
        return 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))

    def score(self, claim: str, found: Retrieval) -> Verdict:
        candidates, articles, sources = found.candidates, found.articles, found.sources
        x, support, findings = featurize(claim, candidates, sources)
        p = self.probability(x)
        spans = support_spans(support, articles)
        supported = p >= self.threshold
        if supported:
            reasons = [f"supported by {', '.join(s.id for s in support)} (score {p:.2f})"]
        else:
            reasons = [f.message for f in findings if f.severity == "error"]
            cov = x[FEATURES.index("cov_support")]
            reasons.append(
                f"weak match: {cov:.0%} of the claim's words in the closest sentences "
                f"(score {p:.2f})"
            )
        return Verdict(supported=supported, score=p, spans=spans, reasons=reasons, scorer=self.name)


__all__ = ["FEATURES", "MODEL_FEATURES", "RulesScorer", "featurize"]
