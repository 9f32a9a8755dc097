"""Coverage at a glance (issue 13): the outlets file, labels per story, one-sided
stories, and stories ranked by breadth of coverage, then recency."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from summarize.digest.build import build_digest, rank_stories
from summarize.digest.coverage import (
    breadth,
    coverage,
    load_outlets,
    name_key,
    side_spread,
)
from summarize.errors import ConfigError
from summarize.models import Article, Story
from summarize.render import render

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_OUTLETS = REPO / "examples" / "outlets.toml"

OUTLETS_TOML = """
["Fox News"]
leaning = "right"
country = "US"

["The Guardian"]
leaning = "left"
country = "UK"
aliases = ["Guardian US"]

["Reuters"]
leaning = "center"
country = "international"
domains = ["reuters.com"]
"""


def _a(id: str, outlet: str, url: str | None = None, hour: int = 1) -> Article:
    when = datetime(2026, 11, 22, hour, tzinfo=UTC)
    return Article(id=id, outlet=outlet, url=url, text="x", published=when)


@pytest.fixture
def outlets(tmp_path: Path):
    path = tmp_path / "outlets.toml"
    path.write_text(OUTLETS_TOML, "utf-8")
    return load_outlets(path)


def test_names_match_loosely_by_alias_and_by_domain(outlets) -> None:
    assert name_key("Fox News (Online News)") == name_key("fox news") == "foxnews"
    assert outlets.find("Fox News (Online News)") == "Fox News"
    assert outlets.find("the guardian") == "The Guardian"
    assert outlets.find("Guardian US") == "The Guardian"
    assert outlets.find("", "https://www.reuters.com/world/x") == "Reuters"
    assert outlets.find("Some Blog", "https://uk.reuters.com/a") == "Reuters"  # subdomain
    assert outlets.find("Some Blog", "https://example.com/a") is None


def test_coverage_counts_labels_and_marks_one_side(outlets) -> None:
    everyone = [_a("1", "Fox News"), _a("2", "The Guardian"), _a("3", "Reuters")]
    spread = side_spread(everyone, outlets, ["leaning"])
    assert spread == {"leaning": {"right", "left", "center"}}
    both = coverage(everyone[:2], outlets, spread)
    assert both.labels["leaning"] == {"right": 1, "left": 1}
    assert both.labels["country"] == {"US": 1, "UK": 1}
    assert both.one_sided == {}
    right = coverage([_a("4", "Fox News (Online News)"), _a("5", "Blog")], outlets, spread)
    assert right.one_sided == {"leaning": "right"}
    assert right.unlabelled == ["Blog"]
    assert right.outlets == ["Blog", "Fox News"]
    # one side only means something only where the digest had more than one side
    alone = side_spread([_a("6", "Fox News")], outlets, ["leaning"])
    assert coverage([_a("6", "Fox News")], outlets, alone).one_sided == {}


def test_json_outlets_file(tmp_path: Path) -> None:
    path = tmp_path / "outlets.json"
    path.write_text(json.dumps({"AP": {"leaning": "center", "wire": True}}), "utf-8")
    found = load_outlets(path)
    assert found.labels == {"AP": {"leaning": "center", "wire": "yes"}}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not = [toml", "invalid TOML"),
        ('["X"]\nleaning = ["a", "b"]\n', "outlet 'X', label 'leaning'"),
        ('X = "left"\n', "expected a table"),
        ('["X"]\naliases = 3\n', "aliases must be a list"),
        ('["X"]\nleaning = 3\n', "outlet 'X': leaning must be a word such as \"left\""),
        ('["X"]\nleaning = "  "\n', "leaning must be a word"),
    ],
)
def test_bad_outlets_files_name_the_problem(tmp_path: Path, text, message) -> None:
    path = tmp_path / "outlets.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(ConfigError, match="outlets") as err:
        load_outlets(path)
    assert message in str(err.value) and str(path) in str(err.value)
    with pytest.raises(ConfigError, match="cannot read"):
        load_outlets(tmp_path / "missing.toml")


def test_rank_by_breadth_then_sides_then_articles_then_recency(outlets) -> None:
    spread = {"leaning": {"left", "right", "center"}}

    def key(group):
        return breadth(coverage(group, outlets, spread), ["leaning"])

    two_sides = [_a("a1", "Fox News"), _a("a2", "The Guardian")]
    one_side = [_a("b1", "Fox News"), _a("b2", "Fox News (Online News)", hour=2), _a("b3", "X")]
    # b: 2 outlets ("Fox News" twice is one), one side; a: 2 outlets, two sides
    recent = [_a("c1", "Reuters", hour=9)]
    old = [_a("d1", "Blog", hour=3)]
    ranked = rank_stories([old, recent, one_side, two_sides], key)
    assert [g[0].id for g in ranked] == ["a1", "b1", "c1", "d1"]


def test_example_outlets_file_labels_every_example_outlet(tmp_path: Path) -> None:
    def fake(articles, **_):
        return Story(articles=list(articles))

    digest = build_digest(
        [str(REPO / "examples" / "articles")],
        summarize=fake,
        cache_dir=tmp_path,
        outlets=EXAMPLE_OUTLETS,
    )
    assert all(s.coverage and not s.coverage.unlabelled for s in digest.stories)
    first = digest.stories[0].coverage
    assert first.labels["leaning"] == {"left": 1, "center": 1, "right": 1}  # the fares
    md = render(digest, "md")
    assert "Coverage — country: Brennmouth 3" in md
    assert "**One-sided:** covered by leaning: center only" in md  # the battery story
    html = render(digest, "html")
    assert '<span class="badge warn">one-sided</span>' in html


def test_a_numeric_side_label_is_one_error_line_and_exit_2(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from summarize.cli import app

    (tmp_path / "outlets.toml").write_text('["Harbour Herald"]\nleaning = 3\n', "utf-8")
    (tmp_path / "a.txt").write_text("Title\n\nThe museum reopened on Saturday.", "utf-8")
    result = CliRunner().invoke(
        app, ["digest", str(tmp_path / "a.txt"), "--outlets", str(tmp_path / "outlets.toml")]
    )
    assert result.exit_code == 2
    lines = [x for x in result.output.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "leaning must be a word" in lines[0]
