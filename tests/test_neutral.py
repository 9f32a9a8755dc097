"""Neutrality guard: unattributed loaded wording is not a supported sentence, whoever wrote it."""

from __future__ import annotations

from pathlib import Path

import pytest

from summarize.model.templates import build_story_prompt, number_articles
from summarize.models import Article, Story, Verdict
from summarize.sources.ingest import load_articles
from summarize.story.pipeline import Draft, DraftSentence, finalize
from summarize.support.neutral import is_attributed, loaded_wording, neutrality_problem
from summarize.support.scorers.base import support_spans
from summarize.support.validator import Validator

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "articles"
FARES = [
    "brennmouth-ledger-fare-vote",
    "brennmouth-sentinel-fare-hike",
    "brennmouth-evening-post-fares",
]
LOADED_SENTINEL = (
    "Brennmouth's spendthrift council has rammed through a fare hike that will leave working "
    "commuters 50 cents poorer every time they board a bus or tram, in the latest cash grab "
    "on the city's hard-pressed riders."
)


@pytest.fixture(scope="module")
def fares() -> list[Article]:
    articles, _ = load_articles([EXAMPLES])
    by_id = {a.id: a for a in articles}
    return [by_id[i] for i in FARES]


def _terms(text: str) -> list[str]:
    return [w.term for w in loaded_wording(text)]


def test_loaded_terms_found_in_own_voice() -> None:
    assert _terms("The council rammed through a cash grab.") == ["rammed through", "cash grab"]
    assert _terms("The so-called reform was disastrous for the regime.") == [
        "so-called",
        "disastrous",
        "regime",
    ]
    assert _terms("The council voted 9-4 to raise the fare to $2.90.") == []
    assert _terms("The pension scheme will pay out in March.") == []  # a plain "scheme"


def test_attributed_or_quoted_loaded_terms_pass() -> None:
    assert _terms('Quill described the increase as "a cash grab on the people".') == []
    assert _terms("Quill called the increase a cash grab.") == []
    assert _terms("According to the Sentinel, the council is spendthrift.") == []
    assert _terms("Critics see a “cash grab” here.") == []
    text = "The latest cash grab on riders."
    start = text.index("cash grab")
    assert not is_attributed(text, start, start + len("cash grab"))


def test_problem_names_the_outlet_whose_wording_it_is(fares) -> None:
    problem = neutrality_problem("The latest cash grab on the city's hard-pressed riders.", fares)
    assert problem == (
        "'cash grab' is The Brennmouth Sentinel's wording, not attributed; "
        "'hard-pressed' is The Brennmouth Sentinel's wording, not attributed"
    )
    # the Ledger and the Post use "cash grab" only as Quill's words, and so may a summary
    quoted = 'Councillor Dara Quill called the increase "a cash grab on the people".'
    assert neutrality_problem(quoted, fares) is None
    assert neutrality_problem("A shocking result.", fares) == (
        "'shocking' is loaded wording, not attributed"
    )
    assert (
        neutrality_problem("Brennmouth council approves 50-cent transit fare increase", fares)
        is None
    )


class _AlwaysSupports:
    """A scorer that accepts everything: the policy's neutrality veto must still say no."""

    name = "always"
    threshold = 0.5
    uses_embeddings = False

    def score(self, claim, found) -> Verdict:
        spans = support_spans(found.candidates[0].sentences, found.articles)
        return Verdict(supported=True, score=0.99, spans=spans, reasons=[], scorer=self.name)


def test_policy_marks_a_loaded_sentence_unpublishable_after_any_scorer(fares) -> None:
    sentinel = fares[1]
    validator = Validator(scorer=_AlwaysSupports())
    verdict = validator.check(LOADED_SENTINEL, [sentinel, *fares])
    # loaded wording is a neutrality finding: supported or not, not in the summary's voice
    assert not verdict.publishable
    assert "not neutral: 'spendthrift' is The Brennmouth Sentinel's wording" in verdict.loaded
    assert "'cash grab' is The Brennmouth Sentinel's wording, not attributed" in verdict.loaded
    fine = (
        "Councillors voted 9-4 on Friday night to push the standard single fare "
        "from $2.40 to $2.90 from January 4, 2027."
    )
    assert validator.check(fine, [sentinel]).publishable


class _NoModel:
    """A client whose repair answer drops the sentence: no recorded call needed."""

    def structured(self, messages, schema, **kwargs):
        from summarize.models import ModelCall

        return schema(text="", cites=[]), ModelCall(purpose=kwargs.get("purpose", ""), model="none")


def test_finalize_does_not_present_the_sentinels_voice_as_supported(fares) -> None:
    numbered, _ = number_articles(fares)
    prompt = build_story_prompt(numbered)
    sid = next(
        i for i, s in prompt.shown.items() if s.text.startswith("Brennmouth's spendthrift council")
    )
    draft = Draft(
        headline="Council rams through fare hike in latest cash grab on commuters",
        sentences=[DraftSentence(text=LOADED_SENTINEL, cites=[sid])],
    )
    story = finalize(
        Story(articles=fares), draft, shown=prompt.shown, client=_NoModel(), validator=Validator()
    )
    assert LOADED_SENTINEL not in [c.text for c in story.sentences]
    removed = next(r for r in story.removed if r.text == LOADED_SENTINEL)
    assert "'cash grab' is The Brennmouth Sentinel's wording, not attributed" in removed.reason
    assert story.headline is None or neutrality_problem(story.headline.text, fares) is None
    for claim in story.sentences:
        assert neutrality_problem(claim.text, fares) is None
