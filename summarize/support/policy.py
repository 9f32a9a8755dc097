"""The one place that decides whether a sentence is supported.

A scorer *proposes*: a score, the spans it rests on, its reasons, and whether the
score clears its threshold. This policy *disposes*, the same way after every scorer
and on every path (`summarize validate`, a story, a headline, a repair):

- a claim with no content words states nothing to check: unsupported;
- a number, date, name, quotation, negation or unfamiliar name that fails the rule
  checks (`checks.py`) vetoes support, whatever the score: no amount of word
  overlap makes a wrong number right;
- a number or date that is in the sources but not in the claim's own spans vetoes
  it too: "Wednesday" must not stand on a span that says "Thursday";
- loaded wording used without attribution (`neutral.py`) is not a neutral
  statement of fact, even when one outlet wrote it;
- a relation the sources contradict (`structure.py`, from a dependency parse): the
  act given to another person (`actor`), turned the other way (`direction`), stated
  as settled where the sources only hedge (`speculation`), or a time, place or
  partner moved to another act (`attachment`);
- a span inside an instruction planted for a model (`text/instructions.py`) is never
  evidence for what it instructs (`instruction`).

A veto caps the score at `VETO_CAP`; its reason replaces the scorer's case for support.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from summarize.models import Article, Verdict
from summarize.support.checks import Evidence, Finding, run_checks
from summarize.support.neutral import neutrality_problem
from summarize.support.structure import instruction_findings, structure_findings

# checks whose "error" finding vetoes support (see checks.py for what each one checks)
VETOES = (
    *("number", "date", "entity", "quote", "negation", "name"),
    # relations (structure.py): who did what, which way, how sure; planted instructions
    *("actor", "direction", "speculation", "attachment", "instruction"),
)
# checks whose "warning" (in the sources, not in the claim's own spans) vetoes as well
VALUES_IN_SUPPORT = ("number", "date")
VETO_CAP = 0.05


def capped(score: float, failed_checks: Iterable[str]) -> float:
    """The score after the vetoes of the named failed checks (for feature-level fitting)."""
    return min(score, VETO_CAP) if any(c in VETOES for c in failed_checks) else score


def vetoing(findings: Sequence[Finding]) -> list[Finding]:
    """The findings that veto support."""
    return [
        f
        for f in findings
        if (f.severity == "error" and f.check in VETOES)
        or (f.severity == "warning" and f.check in VALUES_IN_SUPPORT)
        or f.check == "neutrality"
    ]


def findings_for(
    claim: str, proposal: Verdict, articles: Sequence[Article], sources: Evidence
) -> list[Finding]:
    """Every rule finding of the claim against its proposed spans: neutrality, planted
    instructions and relations (who did what, which way, how sure) included."""
    findings = run_checks(claim, proposal.spans, articles, sources)
    loaded = neutrality_problem(claim, list(articles))
    if loaded:
        findings.append(Finding("neutrality", "error", f"not neutral: {loaded}"))
    # relation findings (structure.py) only ever veto, never add support; a claim that
    # another check already vetoes is spared the parse
    findings += instruction_findings(proposal.spans, articles)
    if not vetoing(findings):
        findings += structure_findings(claim, proposal.spans, articles)
    return findings


def decide(
    claim: str, proposal: Verdict, articles: Sequence[Article], sources: Evidence
) -> Verdict:
    """The final verdict: the scorer's proposal unless a veto overrules it.

    Vetoes apply to unsupported proposals too: their score is capped and their
    reasons say which fact failed, so scores mean the same after every scorer.
    """
    vetoes = vetoing(findings_for(claim, proposal, articles, sources))
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
