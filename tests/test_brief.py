"""The story as a reader's brief (story/brief.py, story/readable.py, provenance in fuse.py).

Invented articles; the model is a canned client that fuses nothing, so every sentence
is a source's own wording, planned by the brief. Each test pins one way a story failed
its readers: a missing lede, outlets listed that never reported the sentence, one
outlet's loaded voice, an opinion piece's title as headline, fragments and datelines,
a repeated fact, a dangling pronoun, and a mixed-event call that said nothing.
"""

from __future__ import annotations

import re
import warnings

import pytest

from summarize.corpus import Corpus
from summarize.models import Article, Story
from summarize.sources.ingest import article_from_text
from summarize.story.brief import is_opinion_piece, plan
from summarize.story.facts import fact_groups
from summarize.story.pipeline import summarize_story
from summarize.story.readable import fragment_reason, lead_in_length, resolve_speaker
from summarize.support.validator import Validator


class NoFusion:
    """Answers the fuse call with nothing: the brief's own wording stands."""

    def structured(self, messages, schema, *, purpose, max_tokens=None):
        from summarize.models import ModelCall

        return schema.model_validate({"headline": ""}), ModelCall(purpose=purpose, model="none")


def art(outlet: str, title: str, text: str, **extra) -> Article:
    ident = outlet.lower().replace(" ", "-")
    return article_from_text(text, id=ident, title=title, outlet=outlet, **extra)


POST = art(
    "Brennmouth Evening Post",
    "Council votes 9-4 to raise bus and tram fares",
    "Brennmouth city council voted 9-4 on Friday to raise the single bus and tram fare "
    "from $2.40 to $2.90 from January.\n"
    "The monthly pass will go up from $84 to $96.\n"
    "Mayor Halina Brask said the rise would protect services on every route.\n"
    "Councillor Edda Quill, who voted against, said the council had not consulted riders.",
)
SENTINEL = art(
    "Brennmouth Sentinel",
    "Council rams through fare hike in latest cash grab on commuters",
    "Brennmouth's spendthrift council has rammed through a fare hike in the latest cash "
    "grab on the city's hard-pressed riders.\n"
    "Councillors voted 9-4 on Friday to raise the single fare from $2.40 to $2.90.\n"
    "Monthly pass holders will be hit even harder, with the price jumping from $84 to $96.\n"
    "Mayor Halina Brask defended the hike as the way to keep every route running.",
)
WIRE = art(
    "Meridian Wire",
    "Brennmouth raises transit fares",
    "BRENNMOUTH, Nov 20 (Meridian Wire) - Brennmouth city council voted 9-4 on Friday to "
    "raise the single bus fare from $2.40 to $2.90.\n"
    "The new fares take effect on January 4.",
)


@pytest.fixture(scope="module")
def fares() -> Story:
    return summarize_story([POST, SENTINEL, WIRE], client=NoFusion(), validator=Validator())


def test_the_lede_states_the_main_fact(fares: Story) -> None:
    lede = fares.sentences[0].text
    assert "9-4" in lede and "$2.90" in lede, [c.text for c in fares.sentences]
    assert not lede.startswith("BRENNMOUTH"), "the dateline is dropped"


def test_every_listed_outlet_supports_its_sentence_on_its_own(fares: Story) -> None:
    validator = Validator()
    by_outlet = {a.outlet: a for a in fares.articles}
    listed = 0
    for claim in fares.sentences:
        assert claim.outlets, claim.text
        for outlet in claim.outlets:
            listed += 1
            assert validator.check(claim.text, [by_outlet[outlet]]).supported, (outlet, claim)
        # the spans shown are those of the listed outlets' articles
        spans = {s.article_id for s in claim.verdict.spans}
        assert spans <= {by_outlet[o].id for o in claim.outlets}
    assert listed > len(fares.sentences), "corroborated facts name several outlets"


def test_the_neutral_wording_is_chosen_over_one_outlets_loaded_voice(fares: Story) -> None:
    text = " ".join(c.text for c in fares.sentences) + " " + fares.headline.text
    for loaded in ("rammed", "cash grab", "spendthrift", "hard-pressed", "hit even harder"):
        assert loaded not in text
    assert any("monthly pass will go up" in c.text for c in fares.sentences)


def test_no_repeated_fact_and_no_fragment(fares: Story) -> None:
    brask = [c for c in fares.sentences if "Brask" in c.text]
    assert len(brask) == 1, [c.text for c in brask]
    for claim in [*fares.sentences, fares.headline]:
        assert fragment_reason(claim.text) is None, claim.text


def test_an_opinion_piece_is_attributed_and_never_the_headline() -> None:
    opinion = art(
        "Harbour Herald",
        "Why Brennmouth should scrap its fare rise",
        "We have watched this council fail riders for years.\n"
        "The best thing the council can do is to scrap the rise before January.\n"
        "Brennmouth city council voted 9-4 on Friday to raise the single fare to $2.90.",
    )
    assert is_opinion_piece(opinion, Corpus([opinion]).usable)
    assert not is_opinion_piece(POST, Corpus([POST]).usable)
    story = summarize_story([POST, opinion], client=NoFusion(), validator=Validator())
    assert "Why" not in story.headline.text and "should" not in story.headline.text
    for claim in story.sentences:
        if "best thing" in claim.text or "scrap" in claim.text:
            assert claim.text.startswith("In an opinion piece, Harbour Herald argued that")
            assert claim.outlets == ["Harbour Herald"]


def test_fragments_and_lead_ins() -> None:
    assert fragment_reason("The bill was authored by former President Donald...")
    assert fragment_reason('"By [passing this bill], we will send a message," she said.')
    assert fragment_reason("By Roland Esterhuys")
    assert fragment_reason("Commuters wait for a tram. (Photo: Staff)")
    assert fragment_reason("Why should riders pay more?")
    assert fragment_reason("The council voted 9-4 on Friday.") is None
    dateline = "VELLMOOR, Nov 20 (Meridian Wire) - Researchers unveiled a sodium cell."
    assert dateline[lead_in_length(dateline) :] == "Researchers unveiled a sodium cell."
    label = "ANALYSIS: The council has few options left."
    assert label[lead_in_length(label) :] == "The council has few options left."


CELLS = art(
    "Gridline",
    "Vellmoor lab shows sodium cell",
    "Researchers in Vellmoor showed a sodium battery cell on Thursday.\n"
    "Lead researcher Ada Oyelaran said the next step would be larger cells for buses.\n"
    "They can be charged to 80% in 12 minutes.\n"
    "Engineer Tomas Brandt described the test rig to reporters.\n"
    '"It survived a thousand cycles without losing much capacity," he said.',
)


def test_a_pronoun_speaker_is_named_or_the_sentence_is_not_used() -> None:
    corpus = Corpus([CELLS])
    quote = next(s for s in corpus.usable if s.text.startswith('"It survived'))
    resolved = resolve_speaker(quote, corpus)
    assert resolved is not None and resolved.startswith('"It survived a thousand cycles')
    assert resolved.endswith("Tomas Brandt said."), resolved
    facts = plan(fact_groups(corpus), corpus)
    texts = [f.text for f in facts]
    assert not any(t.startswith("They can be charged") for t in texts), texts
    assert not any(t.endswith("he said.") for t in texts), texts


def test_the_library_warns_when_the_articles_cover_several_events() -> None:
    football = art(
        "Kessary Klaxon",
        "Kessary Rovers win the cup",
        "Kessary Rovers beat Aldwen Town 3-1 in the county cup final on Saturday.\n"
        "Striker Pavo Lind scored twice in the second half.",
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        story = summarize_story([POST, football], client=NoFusion(), validator=Validator())
    assert story.warnings and "2 different events" in story.warnings[0]
    assert any("different events" in str(w.message) for w in caught)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        one = summarize_story([POST, SENTINEL], client=NoFusion(), validator=Validator())
    assert not one.warnings and not any("different events" in str(w.message) for w in caught)


def test_disagreements_compare_like_with_like_and_list_every_outlet() -> None:
    from summarize.support.disagree import find_disagreements

    a = art(
        "Aldwen Courier",
        "Warehouse fire in Tollbury",
        "Crews from four fire stations fought the warehouse blaze in Tollbury on Monday.\n"
        "About 60 firefighters fought the blaze through the night.",
    )
    b = art(
        "Kessary Klaxon",
        "Tollbury warehouse burns",
        "Some 45 firefighters fought the blaze at the Tollbury warehouse through the night.",
    )
    c = art(
        "Meridian Wire",
        "Fire destroys Tollbury warehouse",
        "About 60 firefighters fought the blaze at the warehouse in Tollbury overnight.",
    )
    found = find_disagreements([a, b, c])
    numbers = [d for d in found if d.kind == "number"]
    assert [sorted(d.values) for d in numbers] == [["45", "60"]], [d.description for d in found]
    (d,) = numbers
    assert "four" not in d.values  # four fire stations are not 45 firefighters
    assert re.search(
        r"(Aldwen Courier and Meridian Wire|Meridian Wire and Aldwen Courier) say 60", d.description
    ), d.description
    assert {s.article_id for s in d.spans} == {a.id, b.id, c.id}


def test_a_main_fact_worded_with_a_disputed_value_still_opens_the_story() -> None:
    a = art(
        "Aldwen Courier",
        "Vennick evacuated after dam release",
        "About 1,200 residents of Vennick were evacuated on Friday after the water authority "
        "opened the spillway gates at Halvery Dam.\n"
        "The river rose two metres within an hour.",
    )
    b = art(
        "Kessary Klaxon",
        "Dam gates open over Vennick",
        "About 1,500 residents of Vennick were evacuated on Friday after the water authority "
        "opened the spillway gates at Halvery Dam.\n"
        "Volunteers ferried elderly residents to dry ground.",
    )
    story = summarize_story([a, b], client=NoFusion(), validator=Validator())
    lede = story.sentences[0].text
    assert lede.startswith("Residents of Vennick were evacuated"), [c.text for c in story.sentences]
    assert "1,200" not in lede and "1,500" not in lede
    assert any(d.kind == "number" for d in story.disagreements)


def test_how_each_side_covers_it_and_which_side_did_not() -> None:
    post = POST.model_copy(update={"labels": {"leaning": "left"}})
    sentinel = SENTINEL.model_copy(update={"labels": {"leaning": "right"}})
    story = summarize_story(
        [post, sentinel],
        client=NoFusion(),
        validator=Validator(),
        sides={"leaning": ["center", "left", "right"]},
    )
    by_side = {p.side: p for p in story.perspectives}
    assert set(by_side) == {"center", "left", "right"}
    assert not by_side["center"].covered and not by_side["center"].claims
    assert by_side["left"].outlets == ["Brennmouth Evening Post"]
    validator = Validator()
    for p in story.perspectives:
        for claim in p.claims:  # attributed to the side's own outlet, supported by it alone
            assert claim.text.startswith(f"According to {p.outlets[0]}, "), claim.text
            assert claim.outlets == p.outlets[:1]
            own = next(a for a in (post, sentinel) if a.outlet == p.outlets[0])
            assert validator.check(claim.text, [own]).supported
    stated = [c.text for c in story.sentences]
    assert not any(c.text in stated for p in story.perspectives for c in p.claims)
