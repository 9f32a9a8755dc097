"""The one place that decides whether a sentence is supported.

A scorer *proposes*: a score, the spans it rests on, its reasons, and whether the
score clears its threshold. This policy *disposes*, the same way after every scorer
and on every path (`summarize validate`, a story, a headline, a repair):

- a claim with no content words states nothing to check: unsupported;
- a hard veto overrules any score. The hard vetoes are the check kinds that proved
  right at least 95% of the times they fired, on every human-labelled development
  file and on the relation cases (`benchmarks/fit_decision.py` measures them and
  writes the list into `summarize/data/decision.json`), plus those by definition: a
  span inside an instruction planted for a model (`text/instructions.py`) is never
  evidence for what it instructs, and a number, date, name or quotation found in no
  source has no passage to link to. The other findings are inputs of the default
  scorer's learned decision (`scorers/calibrated.py`), weighed, not caps. After a
  scorer that does not weigh them itself (every scorer not in `WEIGHING`: `rules`,
  `learned`, `nli`, `llm-judge`) they still veto (`UNWEIGHED`): a judge's "yes" does
  not make a number found in no source right;
- loaded wording used without attribution (`neutral.py`) is a neutrality finding,
  not a support one: the verdict carries it in `loaded`, and a story does not say
  such a sentence in its own voice (`Verdict.publishable`).

A veto caps the score at `VETO_CAP`; its reason replaces the scorer's case for support.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import lru_cache
from importlib import resources

from summarize.models import Article, Verdict
from summarize.support.checks import Evidence, Finding, run_checks
from summarize.support.neutral import neutrality_problem
from summarize.support.speakers import speaker_findings
from summarize.support.structure import instruction_findings, structure_findings

VETO_CAP = 0.05
# error kinds that veto after a scorer that does not weigh the findings itself
# (and a number or date of the sources missing from the claim's own spans: "Wednesday"
# must not stand on a span that says "Thursday")
UNWEIGHED = frozenset(
    [
        *(
            f"{c}_error"
            for c in ("number", "date", "entity", "quote", "negation", "name", "speaker")
            + ("actor", "direction", "speculation", "attachment")
        ),
        "number_warning",
        "date_warning",
    ]
)
# scorers whose decision already weighs every finding (only the hard ones still veto)
WEIGHING = frozenset({"calibrated"})
# before the first fit (no decision.json): planted instructions only
_BY_DESIGN = ("instruction_error",)


@lru_cache(maxsize=1)
def shipped() -> dict:
    """The fitted decision (`summarize/data/decision.json`: the hard vetoes and the
    default scorer's model); empty before the first fit."""
    path = resources.files("summarize") / "data" / "decision.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}


@lru_cache(maxsize=1)
def hard_vetoes() -> frozenset[str]:
    """The finding kinds ("number_error", "actor_error", ...) that veto support."""
    return frozenset(shipped().get("hard_vetoes") or _BY_DESIGN)


def capped(score: float, failed_checks: Iterable[str]) -> float:
    """The score after the hard vetoes among the named failed checks (for fitting)."""
    hard = hard_vetoes()
    return min(score, VETO_CAP) if any(f"{c}_error" in hard for c in failed_checks) else score


def vetoing(findings: Sequence[Finding], weighed: bool = True) -> list[Finding]:
    """The findings that veto support: the hard ones, and after a scorer that did not
    weigh the findings itself (`weighed=False`), every error of `UNWEIGHED` as well."""
    kinds = hard_vetoes() if weighed else hard_vetoes() | UNWEIGHED
    return [f for f in findings if f"{f.check}_{f.severity}" in kinds]


def findings_for(
    claim: str, proposal: Verdict, articles: Sequence[Article], sources: Evidence
) -> list[Finding]:
    """Every rule finding of the claim against its proposed spans: planted instructions
    and relations (who did what, which way, how sure) included."""
    findings = run_checks(claim, proposal.spans, articles, sources)
    findings += speaker_findings(claim, proposal.spans, articles)
    findings += instruction_findings(proposal.spans, articles)
    # a claim that another check already vetoes is spared the parse
    if not vetoing(findings, weighed=False):
        findings += structure_findings(claim, proposal.spans, articles)
    return findings


def decide(
    claim: str, proposal: Verdict, articles: Sequence[Article], sources: Evidence
) -> Verdict:
    """The final verdict: the scorer's proposal unless a veto overrules it.

    Vetoes apply to unsupported proposals too: their score is capped and their
    reasons say which fact failed, so scores mean the same after every scorer.
    """
    loaded = neutrality_problem(claim, list(articles))
    if loaded:
        proposal = proposal.model_copy(update={"loaded": f"not neutral: {loaded}"})
    weighed = proposal.scorer in WEIGHING
    vetoes = vetoing(findings_for(claim, proposal, articles, sources), weighed)
    if not vetoes:
        return proposal
    failed = [f.message for f in vetoes]
    # a supported proposal's reasons argue for support, which the veto overrules;
    # an unsupported one's come first: they say why the scorer itself declined
    reasons = _unique(failed if proposal.supported else [*proposal.reasons, *failed])
    if proposal.score > VETO_CAP:
        reasons.append(f"score capped at {VETO_CAP} (the scorer gave {proposal.score:.2f})")
    return proposal.model_copy(
        update={
            "supported": False,
            "score": min(proposal.score, VETO_CAP),
            "reasons": reasons,
        }
    )


def no_candidates(scorer: str) -> Verdict:
    """The verdict when retrieval found no usable (non-debris) source sentence."""
    return Verdict(
        supported=False, score=0.0, reasons=["no usable source sentences"], scorer=scorer
    )


def nothing_to_check(scorer: str) -> Verdict:
    """The verdict for a sentence without content words ("It is also.")."""
    return Verdict(
        supported=False,
        score=0.0,
        reasons=["no content words: the sentence states nothing to check"],
        scorer=scorer,
    )


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
