"""The support decision: hard vetoes only where measured right, one calibrated model for
the rest, reasons that agree with the verdict, speakers resolved, values disputed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from summarize import load_articles
from summarize.support.policy import hard_vetoes, shipped
from summarize.support.scorers.calibrated import SIGNALS, CalibratedScorer, probability
from summarize.support.validator import Validator

ROOT = Path(__file__).resolve().parent.parent
FIRE = Path(__file__).resolve().parent / "fixtures" / "fire"
MEASURED = ROOT / "benchmarks" / "results" / "decision.json"
HALDANE_QUOTE = '"Paper bales burn from the inside, and that is why the fire kept coming back,"'


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator()


@pytest.fixture(scope="module")
def fire():
    articles, problems = load_articles(sorted(str(p) for p in FIRE.glob("*.txt")))
    assert not problems and len(articles) == 2
    return articles


def test_the_hard_vetoes_are_the_kinds_measured_right():
    """A kind vetoes only when it was >= 95% right on every file where it fired (the
    benchmark's measurement, kept in benchmarks/results/decision.json)."""
    measured = json.loads(MEASURED.read_text())
    # by definition: a planted instruction, and a value, name or quotation in no source
    expected = {f"{c}_error" for c in ("instruction", "number", "date", "entity", "name", "quote")}
    for kind, cells in measured["veto_precision"].items():
        fired = sum(n for n, _ in cells.values())
        if fired >= 5 and all(wrong / n >= 0.95 for n, wrong in cells.values()):
            expected.add(kind)
    assert set(hard_vetoes()) == expected
    assert set(shipped()["hard_vetoes"]) == expected


def test_the_shipped_decision_is_a_probability_over_known_signals():
    model = shipped()["default"]
    assert set(model["features"]) <= set(SIGNALS)
    assert len(model["coef"]) == len(model["features"]) == len(model["mean"])
    low = {n: 0.0 for n in SIGNALS} | {"logit": -8.0}
    high = {n: 0.0 for n in SIGNALS} | {"cov_support": 1.0, "cov_source": 1.0, "logit": 8.0}
    assert 0.0 <= probability(model, low) < model["threshold"] < probability(model, high) <= 1.0


def test_each_holdout_model_left_its_dataset_out():
    holdout = shipped()["holdout"]
    assert {"cliff", "frank", "xsumfaith", "summedits", "relations"} <= set(holdout)
    scorer = CalibratedScorer(holdout="frank")
    assert scorer.model is holdout["frank"]
    with pytest.raises(ValueError, match="no decision fitted without dataset 'nope'"):
        CalibratedScorer(holdout="nope")


CLAIMS = [
    "About 60 firefighters fought the blaze.",
    "The warehouse roof collapsed before dawn.",
    "Ruth Haldane said staff had left the site an hour before the alarm.",
    "The warehouse roof collapsed on Friday after 200 firefighters left.",
    "Gail Thorncroft said the company would pay its 30 staff.",
]


@pytest.mark.parametrize("claim", CLAIMS)
def test_the_reasons_never_contradict_the_verdict(validator, fire, claim):
    verdict = validator.check(claim, fire)
    if verdict.supported:
        assert verdict.reasons[0].startswith("supported by"), verdict.reasons
        assert not any(r.startswith(("but ", "the ", "words ")) for r in verdict.reasons)
    else:
        assert not any(r.startswith("supported by") for r in verdict.reasons), verdict.reasons


def test_a_pronoun_speaker_is_resolved_and_a_misattribution_vetoed(validator, fire):
    wrong = validator.check(f"{HALDANE_QUOTE} union representative Gail Thorncroft said.", fire)
    assert not wrong.supported
    assert "the source gives these words to Ruth Haldane, not Gail Thorncroft" in wrong.reasons
    right = validator.check(f"{HALDANE_QUOTE} safety manager Ruth Haldane said.", fire)
    assert right.supported, right.reasons


def test_a_value_another_outlet_contradicts_is_supported_and_disputed(validator, fire):
    verdict = validator.check("About 60 firefighters fought the blaze.", fire)
    assert verdict.supported, verdict.reasons
    assert [(d.outlet, d.value, d.stated) for d in verdict.disputed] == [
        ("Dunlow Evening Star", "45", "60")
    ]
    (dispute,) = verdict.disputed
    star = next(a for a in fire if a.label == "Dunlow Evening Star")
    assert star.text[dispute.span.start : dispute.span.end] == dispute.span.quote
    assert "45 firefighters" in dispute.span.quote
    # a value both outlets agree on is not disputed
    calm = validator.check("The warehouse roof collapsed.", fire)
    assert calm.supported and calm.disputed == []


def test_loaded_wording_is_a_neutrality_finding_not_a_support_veto(validator):
    from summarize.sources.ingest import article_from_text

    post = article_from_text(
        "Fares to rise in Vennick\n\nThe latest cash grab on hard-pressed riders will take "
        "effect in March, when bus fares rise by 20 cents.",
        id="post",
        outlet="The Vennick Post",
    )
    ledger = article_from_text(
        "Vennick bus fares up\n\nBus fares in Vennick will rise by 20 cents in March.",
        id="ledger",
        outlet="The Vennick Ledger",
    )
    verdict = validator.check(
        "The latest cash grab on hard-pressed riders will take effect in March.", [post, ledger]
    )
    assert verdict.loaded.startswith("not neutral: 'cash grab' is The Vennick Post's wording")
    assert not verdict.publishable
    plain = validator.check("Bus fares in Vennick will rise by 20 cents in March.", [post, ledger])
    assert plain.supported and plain.publishable and not plain.loaded


def test_seed_sentences(validator, seed_paths):
    articles, _ = load_articles([str(p) for p in seed_paths])
    tokyo = validator.check(
        "NATO plans to open a liaison office in Tokyo, its first in Asia.", articles
    )
    assert tokyo.supported, tokyo.reasons
    pay = validator.check(
        "NATO spokesperson Oana Lungescu confirmed that Japan would pay for the office.", articles
    )
    assert not pay.supported, pay.reasons


class _CountingJudge:
    """Stands in for the model's judge: says no, and counts what it was asked."""

    name = "judge"
    threshold = 0.5

    def __init__(self) -> None:
        self.asked: list[str] = []

    def score(self, claim, found):
        from summarize.models import Verdict

        self.asked.append(claim)
        return Verdict(supported=False, score=0.0, reasons=["the judge found no quote"])


def test_the_cascade_asks_the_judge_only_in_the_uncertain_band(fire):
    judge = _CountingJudge()
    wide = Validator(CalibratedScorer(judge=judge, band=1.0))  # every sentence is uncertain
    verdict = wide.check("The warehouse roof collapsed before dawn.", fire)
    assert judge.asked == ["The warehouse roof collapsed before dawn."]
    assert not verdict.supported
    assert verdict.reasons[0] == "the judge found no quote"
    assert "uncertain; the judge declined" in verdict.reasons[-1]
    judge.asked.clear()
    narrow = Validator(CalibratedScorer(judge=judge, band=0.0))  # none is
    assert narrow.check("The warehouse roof collapsed before dawn.", fire).supported
    assert judge.asked == []


def test_the_cascade_is_off_by_default_and_a_setting_turns_it_on():
    from summarize.settings import Settings

    assert Validator.from_settings(Settings()).scorer.judge is None
    on = Validator.from_settings(Settings(support={"cascade": True}), client=object())
    assert on.scorer.judge is not None and on.scorer.judge._client is not None
