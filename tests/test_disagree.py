"""Disagreements: different values for the same fact across sources, and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from summarize.models import Article
from summarize.sources.ingest import article_from_text, load_articles
from summarize.support.disagree import MAX_REPORTED, find_disagreements
from summarize.text.values import extract_values


def _pair(a: str, b: str) -> list[Article]:
    return [
        Article(id="a", text=a, outlet="Daily A"),
        Article(id="b", text=b, outlet="Daily B"),
    ]


def _kinds(articles: list[Article]) -> dict[str, list[str]]:
    return {d.kind: d.values for d in find_disagreements(articles)}


def test_seed_articles_disagree_on_the_day_nikkei_reported(seed_paths) -> None:
    articles = [article_from_text(p.read_text(), id=p.stem) for p in seed_paths]
    found = find_disagreements(articles)
    days = [d for d in found if d.kind == "day"]
    assert len(days) == 1
    day = days[0]
    assert day.values == ["Wednesday", "Thursday"]
    assert "Nikkei Asia on Wednesday" in day.description
    assert "Nikkei Asia reported on Thursday" in day.description
    by_id = {a.id: a for a in articles}
    for span in day.spans:  # spans quote the articles exactly
        assert by_id[span.article_id].text[span.start : span.end] == span.quote
    assert "Wednesday" in day.spans[0].quote and "Thursday" in day.spans[1].quote
    # differently worded quotes of the same statements are not disagreements
    assert [d.kind for d in found] == ["day"]


def test_day_and_number_disagreements() -> None:
    kinds = _kinds(
        _pair(
            "The company said on Monday that it would cut 500 jobs at its plant.",
            "The company said on Tuesday that it would cut 700 jobs at its plant.",
        )
    )
    assert kinds == {"day": ["Monday", "Tuesday"], "number": ["500", "700"]}


def test_place_and_date_disagreements() -> None:
    assert _kinds(
        _pair(
            "The summit will be held in Geneva next month, officials said.",
            "Officials said the summit will be held in Vienna next month.",
        )
    ) == {"place": ["Geneva", "Vienna"]}
    assert _kinds(
        _pair(
            "The vote was held on May 3, 2024, officials said.",
            "Officials said the vote was held on May 5, 2024.",
        )
    ) == {"date": ["May 3, 2024", "May 5, 2024"]}


def test_same_value_written_differently_is_no_disagreement() -> None:
    assert (
        _kinds(
            _pair(
                "Five people were injured in the blast, police said.",
                "Police said 5 people were injured in the blast.",
            )
        )
        == {}
    )


def test_paraphrased_quote_is_no_disagreement() -> None:
    assert (
        _kinds(
            _pair(
                '"We will not give details of the talks," Anna Berg said on Monday.',
                '"We will not go into details of the talks," Anna Berg told media on Monday.',
            )
        )
        == {}
    )


def test_unrelated_sentences_are_not_compared() -> None:
    assert (
        _kinds(
            _pair(
                "The minister resigned on Monday.", "Heavy rain is expected on Friday in the north."
            )
        )
        == {}
    )


def test_single_article_has_no_disagreements() -> None:
    assert find_disagreements([Article(id="a", text="It happened on Monday.")]) == []


def test_extract_values_kinds() -> None:
    values = {
        (v.kind, v.key)
        for v in extract_values("On Monday, 3 people in Paris met Anna Berg on May 4, 2023.")
    }
    assert ("day", "monday") in values and ("number", "3") in values
    assert ("place", "paris") in values and ("date", "may 4 2023") in values
    assert ("name", "anna berg") in values


# --- the invented examples (examples/README.md): one event per group of files/records ---

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "articles"
EVENTS = {
    "flood": ["aldwen-courier-flood", "kessary-klaxon-dam-gates", "meridian-20261121-0412"],
    "fares": [
        "brennmouth-ledger-fare-vote",
        "brennmouth-sentinel-fare-hike",
        "brennmouth-evening-post-fares",
    ],
    "battery": ["gridline-vellmoor-sodium-cell", "meridian-20261120-1733"],
}


@pytest.fixture(scope="module")
def events() -> dict[str, list[Article]]:
    articles, _ = load_articles([EXAMPLES])
    by_id = {a.id: a for a in articles}
    return {event: [by_id[i] for i in ids] for event, ids in EVENTS.items()}


def _values(found) -> set[tuple[str, frozenset[str]]]:
    return {(d.kind, frozenset(d.values)) for d in found}


@pytest.mark.slow
def test_flood_story_reports_evacuated_count_and_gate_day(events) -> None:
    found = find_disagreements(events["flood"])
    assert _values(found) == {
        ("number", frozenset({"1,200", "1,500"})),
        ("day", frozenset({"Friday", "Saturday"})),
    }
    by_id = {a.id: a for a in events["flood"]}
    for d in found:
        for span in d.spans:
            article = by_id[span.article_id]
            assert article.text[span.start : span.end] == span.quote
            assert not article.is_debris(span.start, span.end)
    number = next(d for d in found if d.kind == "number")
    assert "evacuated" in " ".join(s.quote for s in number.spans)
    day = next(d for d in found if d.kind == "day")
    assert all("gates" in s.quote for s in day.spans)  # the day the gates opened


@pytest.mark.slow
def test_fare_story_outlets_agree_on_every_figure(events) -> None:
    # all three outlets give the same figures: "$84 monthly pass" vs "$18 million shortfall",
    # "voted 9-4" vs "defeated 5-8", "Comments (3)" vs "60 residents" are different facts
    assert find_disagreements(events["fares"]) == []


def test_battery_story_reports_the_test_site(events) -> None:
    found = find_disagreements(events["battery"])
    assert _values(found) == {("place", frozenset({"Vellmoor", "Greyhithe"}))}
    assert "Tarn Street laboratory in Vellmoor" in found[0].description
    assert "partner facility in Greyhithe" in found[0].description


def test_fragments_and_other_slots_are_not_compared() -> None:
    assert _kinds(_pair("Comments (3)", "More than 60 residents submitted comments.")) == {}
    assert (
        _kinds(
            _pair(
                "The price of a monthly pass will rise from $84 to $96, the council said.",
                "The council said the transit authority faces an $18 million shortfall.",
            )
        )
        == {}
    )
    assert (
        _kinds(
            _pair(
                "The council voted 9-4 on Friday to raise the fare.",
                "Her motion to freeze the fare was defeated 5-8 in the council.",
            )
        )
        == {}
    )
    assert (
        _kinds(
            _pair(
                "The fares will bring in about $11 million a year for the transit authority.",
                "The transit authority faces an $18 million shortfall, the fares report said.",
            )
        )
        == {}
    )


def test_same_slot_differing_vote_tally_is_reported() -> None:
    assert _kinds(
        _pair(
            "The council voted 9-4 on Friday to raise the fare.",
            "On Friday the council voted 8-5 to raise the fare.",
        )
    ) == {"number": ["9-4", "8-5"]}


def test_debris_lines_never_disagree() -> None:
    text_a = (
        "Police said 40 people were hurt in the fire.\nExplore\n300 people were hurt in a crash"
    )
    a = Article(id="a", text=text_a, outlet="A", debris=[(text_a.index("Explore"), len(text_a))])
    b = Article(id="b", text="Police said 40 people were hurt in the fire.", outlet="B")
    assert find_disagreements([a, b]) == []


def test_number_of_reported_disagreements_is_capped() -> None:
    things = ["coins", "lamps", "maps", "clocks", "ships", "flags", "bells"]
    a = " ".join(f"The museum holds {10 + i} {t}." for i, t in enumerate(things))
    b = " ".join(f"The museum holds {30 + i} {t}." for i, t in enumerate(things))
    assert len(find_disagreements(_pair(a, b), max_reported=10)) == 7
    assert len(find_disagreements(_pair(a, b))) == MAX_REPORTED < 7
    assert len(find_disagreements(_pair(a, b), max_reported=3)) == 3
