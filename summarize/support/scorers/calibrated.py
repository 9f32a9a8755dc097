"""The default scorer: one learned, calibrated decision over every signal.

Every signal the validator has is computed (`SIGNALS`): coverage of the claim by its
support and by all sources, n-gram overlap, novel words, the packaged
cross-encoder's entailment logit over the retrieved passages, the retrieval's own
scores, and each check's finding (number, date, name, quotation, negation, antonym,
speaker, and the relation checks of `structure.py`: actor, direction, speculation,
attachment) as a 0/1 input. A logistic model over them is fitted with scikit-learn
(`benchmarks/fit_decision.py`) on the human-labelled development files, each dataset
weighted alike; the shipped one uses the signals whose scale does not follow a
dataset's style (coverage, the entailment logit and the findings: its `features`).
Its coefficients ship in `summarize/data/decision.json`; at run time it is numpy
arithmetic.

A cascade (`judge=`, `[support] cascade = true`): a sentence whose probability is
within `band` of the threshold goes to the configured model's judge (the
`llm-judge` scorer, one call for that sentence, the top retrieved passages
shown). The judge must quote its evidence, and only a quote found in the sources
counts; its answer decides the uncertain sentence.

Its output is a probability, and its reasons follow it: a supported verdict
names its support and no failed check; an unsupported one names the checks that
weighed against it. Only the checks that proved right at least 95% of the times
they fired, on every development file, and those that are vetoes by definition (a
value, name or quotation in no source; a planted instruction) stay hard vetoes
(`policy.py` applies them after every scorer); the others are inputs here, weighed
against the rest.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from summarize.models import Sentence, Verdict
from summarize.support.checks import Finding, run_checks
from summarize.support.policy import shipped
from summarize.support.retrieve import Candidate, Retrieval
from summarize.support.scorers.base import support_spans
from summarize.support.scorers.rules import FEATURES, featurize
from summarize.support.speakers import speaker_findings
from summarize.support.structure import structure_findings

# continuous signals: coverage and overlap (rules.FEATURES), entailment, retrieval
CONTINUOUS = [
    "cov_support",
    "cov_source",
    "novel_words",
    "bigram_support",
    "trigram_support",
    "support_sentences",
    "claim_words",
    "logit",
    "top_coverage",
    "top_bm25",
]
# 0/1 signals: a check's finding of that severity (`error`: contradicted or in no
# source; `warning`: in the sources but not in the chosen support)
FLAGS = [
    *(
        f"{c}_error"
        for c in (
            "number",
            "date",
            "entity",
            "quote",
            "negation",
            "name",
            "antonym",
            "extrinsic",
            "actor",
            "speaker",
            "direction",
            "speculation",
            "attachment",
        )
    ),
    *(f"{c}_warning" for c in ("number", "date", "entity", "negation", "extrinsic")),
]
SIGNALS = [*CONTINUOUS, *FLAGS]


def findings_of(claim: str, support: Sequence[Sentence], found: Retrieval) -> list[Finding]:
    """Every rule and relation finding of `claim` against its `support`."""
    spans = support_spans(support, found.articles)
    findings = run_checks(claim, spans, found.articles, found.sources)
    findings += speaker_findings(claim, spans, found.articles)
    return findings + structure_findings(claim, spans, found.articles)


def signals(claim: str, found: Retrieval) -> tuple[dict[str, float], list[Sentence], list[Finding]]:
    """(signal values by name, the chosen support, every finding) for one claim."""
    from summarize.support.scorers.learned import chunk_text, cross_logits, premises

    candidates: Sequence[Candidate] = found.candidates
    x, support, _ = featurize(claim, candidates, found.sources)
    values = dict(zip(FEATURES, (float(v) for v in x), strict=True))
    chunks = premises(candidates, found.sentences)
    logits = cross_logits(claim, [chunk_text(c) for c in chunks])
    values["logit"] = float(logits.max()) if len(logits) else -10.0
    values["top_coverage"] = max((c.coverage for c in candidates), default=0.0)
    values["top_bm25"] = math.log1p(max((c.bm25 for c in candidates), default=0.0))
    findings = findings_of(claim, support, found)
    fired = {f"{f.check}_{f.severity}" for f in findings}
    values.update({name: float(name in fired) for name in FLAGS})
    return {name: values[name] for name in SIGNALS}, support, findings


def probability(model: dict, values: dict[str, float]) -> float:
    """The model's probability that the claim is supported."""
    x = np.array([values.get(n, 0.0) for n in model["features"]])
    z = float(((x - np.array(model["mean"])) / np.array(model["scale"])) @ np.array(model["coef"]))
    z += float(model["intercept"])
    return 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))


class CalibratedScorer:
    """A logistic decision over every signal; see the module docstring.

    `holdout` picks the model fitted without that dataset (benchmarks report on data
    the model never saw); `model` passes a fitted model dict directly (fitting).
    """

    name = "calibrated"
    uses_embeddings = False  # the cross-encoder reads the passages: lexical retrieval suffices

    def __init__(
        self,
        threshold: float | None = None,
        holdout: str | None = None,
        model: dict | None = None,
        judge=None,
        band: float = 0.15,
    ):
        data = shipped()
        if model is None:
            model = (data.get("holdout") or {}).get(holdout) if holdout else data.get("default")
        if not model:
            what = f"without dataset {holdout!r}" if holdout else "yet"
            raise ValueError(f"no decision fitted {what}: run benchmarks/fit_decision.py")
        self.model = model
        self.threshold = float(threshold if threshold is not None else model["threshold"])
        self.judge, self.band = judge, band

    def uncertain(self, p: float) -> bool:
        """Within the band where the cascade asks the model's judge."""
        return abs(p - self.threshold) < self.band

    def score(self, claim: str, found: Retrieval) -> Verdict:
        values, support, findings = signals(claim, found)
        p = probability(self.model, values)
        if self.judge is not None and self.uncertain(p):
            return self._judged(claim, found, p)
        spans = support_spans(support, found.articles)
        ids = ", ".join(s.id for s in support) or "nothing"
        if p >= self.threshold:
            reasons = [f"supported by {ids} (probability {p:.2f})"]
            return Verdict(supported=True, score=p, spans=spans, reasons=reasons, scorer=self.name)
        against = [f.message for f in findings if _weighs_against(self.model, f)]
        reasons = [
            *dict.fromkeys(against),
            f"probability {p:.2f} below {self.threshold:.2f}: "
            f"{values['cov_support']:.0%} of its words in the closest sentences ({ids})",
        ]
        return Verdict(supported=False, score=p, spans=spans, reasons=reasons, scorer=self.name)

    def _judged(self, claim: str, found: Retrieval, p: float) -> Verdict:
        """The judge's verdict on an uncertain sentence, with the model's probability."""
        verdict = self.judge.score(claim, found)
        if verdict.supported:
            reasons = [f"probability {p:.2f}, uncertain; the model judge found it supported"]
            reasons += [r for r in verdict.reasons if not r.startswith(("but ", "the "))]
        else:
            reasons = [*verdict.reasons, f"probability {p:.2f}, uncertain; the judge declined"]
        return verdict.model_copy(update={"score": p, "reasons": reasons, "scorer": self.name})


def _weighs_against(model: dict, finding: Finding) -> bool:
    """A finding the model counts against support (a negative weight on its flag)."""
    name = f"{finding.check}_{finding.severity}"
    if name not in model["features"]:
        return finding.severity == "error" and finding.check != "extrinsic"
    return model["coef"][model["features"].index(name)] < 0


__all__ = ["SIGNALS", "CalibratedScorer", "probability", "signals"]
