"""Disagreements: different values for the same fact across sources, and nothing else."""

from __future__ import annotations

from summarize.disagree import extract_values, find_disagreements
from summarize.ingest import article_from_text
from summarize.models import Article


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
