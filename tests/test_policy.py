"""One place decides "supported": `summarize validate` and a story agree on every sentence."""

from __future__ import annotations

import pytest

from summarize.corpus import Corpus
from summarize.model.templates import build_story_prompt, number_articles
from summarize.models import Article, ModelCall, Story, Verdict
from summarize.sources.ingest import article_from_text
from summarize.story.pipeline import Draft, DraftSentence, finalize
from summarize.support.policy import VETO_CAP
from summarize.support.scorers.base import support_spans
from summarize.support.validator import Validator

LEDGER = (
    "Vennick council approves fare rise\n\n"
    "Vennick's council approved the bus fare increase on Friday by nine votes to four. "
    "Councillor Ora Bight said the increase was a cash grab on riders. "
    "The mayor met transport unions on Thursday to discuss the timetable."
)
POST = (
    "Fares to rise in Vennick\n\n"
    "Councillors backed the bus fare increase on Friday. "
    "The latest cash grab on hard-pressed riders will take effect in March."
)

CASES = [
    # (sentence, supported?) — the same answer is expected from validate and from a story
    ("Vennick's council approved the bus fare increase on Friday.", True),
    # "Thursday" is in the sources, but not in the passage that supports the rest
    ("Vennick's council approved the bus fare increase on Thursday.", False),
    # the Post's loaded phrase in the summary's own voice
    ("The fare increase is the latest cash grab on hard-pressed riders.", False),
    # ... attributed, it is a report of an opinion
    ("Councillor Ora Bight said the increase was a cash grab on riders.", True),
]


@pytest.fixture(scope="module")
def articles() -> list[Article]:
    return [
        article_from_text(LEDGER, id="ledger", outlet="The Vennick Ledger"),
        article_from_text(POST, id="post", outlet="The Vennick Post"),
    ]


class _DropsInRepair:
    """A client whose repair drops the sentence: a story keeps only what passed at once."""

    def structured(self, messages, schema, **kwargs):
        return schema(text="", cites=[]), ModelCall(purpose=kwargs.get("purpose", ""), model="-")


def _story_keeps(sentence: str, articles: list[Article], validator: Validator) -> bool:
    corpus = Corpus(articles)
    prompt = build_story_prompt(number_articles(corpus)[0])
    draft = Draft(headline="", sentences=[DraftSentence(text=sentence, cites=[])])
    story = finalize(
        Story(articles=articles),
        draft,
        shown=prompt.shown,
        client=_DropsInRepair(),
        validator=validator,
        corpus=corpus,
    )
    return sentence in [c.text for c in story.sentences]


class _TopCandidate:
    """A plugin-like scorer that calls the best candidate support, whatever it says: the
    policy alone must then reject what the sources do not support."""

    name = "top-candidate"
    threshold = 0.5
    uses_embeddings = False

    def score(self, claim, found) -> Verdict:
        spans = support_spans(found.candidates[0].sentences, found.articles)
        return Verdict(supported=True, score=0.9, spans=spans, reasons=[], scorer=self.name)


@pytest.mark.parametrize(
    "scorer", ["calibrated", "rules", _TopCandidate()], ids=["calibrated", "rules", "top-candidate"]
)
@pytest.mark.parametrize(("sentence", "expected"), CASES)
def test_validate_and_story_agree(sentence: str, expected: bool, scorer, articles) -> None:
    validator = Validator(scorer)
    (claim,) = validator.validate(articles, [sentence]).claims
    # a story says in its own voice exactly what `validate` finds supported and neutral
    assert _story_keeps(sentence, articles, validator) is claim.verdict.publishable
    if isinstance(scorer, _TopCandidate) or expected:
        assert claim.verdict.publishable is expected, claim.verdict.reasons
    if isinstance(scorer, _TopCandidate) and not claim.verdict.supported:
        assert claim.verdict.score <= VETO_CAP  # a policy veto, not the scorer's doing


def test_a_veto_says_which_fact_failed(articles) -> None:
    validator = Validator(_TopCandidate())
    day = validator.check(CASES[1][0], articles)
    assert any("'Thursday' is not in the supporting text" in r for r in day.reasons), day.reasons
    loaded = Validator().check(CASES[2][0], articles)
    assert loaded.loaded.startswith("not neutral: 'cash grab' is The Vennick Post's wording")
