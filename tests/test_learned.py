"""The learned scorer: shipped int8 model, offline, ranks errors below faithful claims."""

from __future__ import annotations

import json

import pytest

from summarize.models import Article
from summarize.support.scorers import available, get_scorer
from summarize.support.scorers.learned import MAX_TOKENS, cross_logits, model_dir, premise_chunks
from summarize.support.validator import Validator

ARTICLE = Article(
    id="a",
    title="Council backs bike lanes",
    text=(
        "The Springfield city council voted 7-2 on Tuesday to approve a $4.5 million plan "
        "for protected bike lanes on Main Street. Mayor Ellen Park said construction would "
        "begin in March and finish before the end of the year. Councillor Tom Reyes, who "
        "voted against the plan, argued that the money should go to road repairs instead. "
        "The lanes will connect the university campus with the central train station."
    ),
)

# (faithful claim, [unfaithful variants of it])
CASES = [
    (
        "Springfield's council approved a $4.5 million bike lane plan on Tuesday.",
        [
            "Springfield's council approved a $9.5 million bike lane plan on Tuesday.",  # number
            "Springfield's council rejected a $4.5 million bike lane plan on Tuesday.",  # antonym
            # negation
            "Springfield's council did not approve a $4.5 million bike lane plan on Tuesday.",
            "Shelbyville's council approved a $4.5 million bike lane plan on Tuesday.",  # entity
        ],
    ),
    (
        "Mayor Ellen Park said construction would begin in March.",
        [
            "Mayor Ellen Park said construction would begin in October.",  # date
            "Mayor Ellen Park said construction would not begin in March.",  # negation
            "Governor Ellen Park said construction would begin in March.",  # extrinsic title
        ],
    ),
    (
        "Tom Reyes argued that the money should go to road repairs.",
        [
            "Ellen Park argued that the money should go to road repairs.",  # wrong actor
            "Tom Reyes argued that the money should go to school repairs.",  # swapped object
        ],
    ),
]


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator(scorer="learned")


def test_model_ships_small_and_offline():
    d = model_dir()
    assert (d / "model.onnx").is_file() and (d / "tokenizer.json").is_file()
    assert (d / "model.onnx").stat().st_size < 50_000_000
    calib = json.loads((d / "calibration.json").read_text())
    assert calib["default"]["features"][0] == "logit"
    assert "learned" in available()


def test_cross_encoder_runs_without_torch():
    import sys

    z = cross_logits(
        "The council approved the plan.", [ARTICLE.text, "Unrelated text about cooking."]
    )
    assert z.shape == (2,)
    assert "torch" not in sys.modules


# a known weakness of the model (MODEL_CARD.md): who-said-what when both people are in the
# passage; the validator catches it all the same (support/structure.py, through the policy)
ACTOR_SWAP = "Ellen Park argued that the money should go to road repairs."
PAIRS = [(good, bad) for good, bads in CASES for bad in bads]
MODEL_PAIRS = [
    pytest.param(
        good,
        bad,
        marks=[pytest.mark.xfail(strict=True, reason="actor swaps: see MODEL_CARD.md")]
        if bad == ACTOR_SWAP
        else [],
    )
    for good, bads in CASES
    for bad in bads
]


@pytest.mark.parametrize(("faithful", "bad"), PAIRS)
def test_errors_score_below_the_faithful_claim(validator, faithful, bad):
    good = validator.check(faithful, [ARTICLE])
    assert good.scorer == "learned"
    verdict = validator.check(bad, [ARTICLE])
    assert verdict.score < good.score, (bad, verdict.score, good.score)


@pytest.mark.parametrize(("faithful", "bad"), MODEL_PAIRS)
def test_cross_encoder_alone_ranks_errors_below(faithful, bad):
    """The model itself (no rule vetoes) must see the error."""
    good, wrong = cross_logits(faithful, [ARTICLE.text])[0], cross_logits(bad, [ARTICLE.text])[0]
    assert wrong < good, (bad, wrong, good)


def test_faithful_paraphrase_supported_with_a_real_span(validator):
    verdict = validator.check(
        "The council approved $4.5 million for bike lanes on Main Street.", [ARTICLE]
    )
    assert verdict.supported, verdict
    assert verdict.spans
    for span in verdict.spans:
        assert span.article_id == "a"
        assert ARTICLE.text[span.start : span.end] == span.quote
    assert any("4.5 million" in s.quote for s in verdict.spans)


def test_invented_fact_not_supported(validator):
    verdict = validator.check(
        "The council approved the plan after a public protest by 3,000 cyclists.", [ARTICLE]
    )
    assert not verdict.supported


def test_summary_through_validator(validator):
    report = validator.validate(
        [ARTICLE],
        "The council approved a $4.5 million bike lane plan. "
        "Construction starts in March, the mayor said.",
    )
    assert len(report.claims) == 2
    assert all(c.verdict and c.verdict.scorer == "learned" for c in report.claims)


def test_get_scorer_and_chunks():
    scorer = get_scorer("learned")
    assert 0 < scorer.threshold < 1
    from summarize.support.retrieve import Retriever

    cands = Retriever([ARTICLE], use_embeddings=False).candidates("bike lanes budget", k=8)
    chunks = premise_chunks(cands)
    assert chunks and all(chunks)
    seen = [(s.article_id, s.start) for c in chunks for s in c]
    assert len(seen) == len(set(seen))  # a sentence in one chunk only
    assert MAX_TOKENS <= 512
