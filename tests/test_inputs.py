"""Inputs as a user gives them (issue 12): Markdown page furniture, a summary read as an
article is read, a summary that is also a source, files with no article text."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from summarize import validate
from summarize.cli import app
from summarize.errors import InputError
from summarize.sources.debris import find_debris, plain
from summarize.sources.ingest import load_articles, load_file, read_text

REPO = Path(__file__).resolve().parents[1]
ARTICLES = REPO / "examples" / "articles"
MUSEUM = ARTICLES / "harbour-herald-museum.md"
FLOOD = ARTICLES / "aldwen-courier-flood.txt"


def _run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def _debris_text(article) -> list[str]:
    return [article.text[s:e] for s, e in article.debris]


def _in_debris(article, needle: str) -> bool:
    start = article.text.index(needle)
    return any(s <= start and start + len(needle) <= e for s, e in article.debris)


# ---------------------------------------------------------------- Markdown furniture


def test_markdown_image_related_and_explore_are_debris():
    (museum,) = load_file(MUSEUM)
    for needle in (
        "![The restored pilot cutter Margery Stone in the main hall](/images/margery-stone.jpg)",
        "**Related:** [Quillhaven harbour wall repairs begin]",
        "## Explore",
        "- Lifeboat crew rescues kayaker off Sandrick Point",
        "- Tide tables for the week ahead",
    ):
        assert _in_debris(museum, needle), needle
    for needle in (
        "The Quillhaven Maritime Museum reopened its doors on Saturday",
        "The centrepiece is the *Margery Stone*, an 1890s pilot cutter",
        "Entry will be free for Quillhaven residents until the end of December.",
    ):
        assert not _in_debris(museum, needle), needle
    assert museum.title == "Quillhaven Maritime Museum reopens after two-year restoration"


def test_a_headline_in_an_explore_list_supports_nothing():
    articles, _ = load_articles([MUSEUM])
    report = validate(articles, "A lifeboat crew rescued a kayaker off Sandrick Point.")
    (museum,) = articles
    explore = museum.text.index("## Explore")
    assert not report.claims[0].verdict.supported
    assert all(span.end <= explore for span in report.claims[0].verdict.spans)


@pytest.mark.parametrize(
    ("line", "seen"),
    [
        ("## Explore", "Explore"),
        ("**Related:** [Pier reopens](https://example.com/pier)", "Related: Pier reopens"),
        ("- [Ferry timetable changes](https://example.com/ferry)", "Ferry timetable changes"),
        ("> _Photo: Staff_", "Photo: Staff"),
        ("1. __Most read__", "Most read"),
        ("![A ferry](ferry.jpg)", ""),
        ("[![A ferry](ferry.jpg)](https://example.com)", ""),
        ('<img src="ferry.jpg" alt="A ferry">', ""),
        ("The snake_case name stays, 3 * 4 too.", "The snake_case name stays, 3 4 too."),
    ],
)
def test_plain_reads_markdown_as_a_reader_does(line, seen):
    assert plain(line) == seen


@pytest.mark.parametrize(
    "block",
    [
        "### More stories\n\n* [Fish market opens on Sundays](/fish)\n* [Tide tables](/tides)",
        "**Read more:** [Harbour wall repairs begin](/wall)",
        "*Recommended*\n\n1. Lifeboat crew rescues kayaker\n2. Ferry timetable changes",
        "![Harbour at dawn](dawn.jpg)",
        "* * *",
        "---",
    ],
)
def test_markdown_furniture_blocks_are_debris(block):
    body = "The council approved the harbour budget on Monday."
    text = f"{body}\n\n{block}\n\n{body.replace('Monday', 'Tuesday')}."
    ranges = find_debris(text)
    start = text.index(block)
    assert any(s <= start and start + len(block) <= e for s, e in ranges), ranges
    assert not any(s < len(body) for s, _ in ranges)


# ---------------------------------------------------------------- summary files


def test_a_latin1_summary_is_read_like_a_latin1_article(tmp_path):
    summary = tmp_path / "summary.txt"
    summary.write_bytes(
        "Caf\xe9 owners said about 1,200 residents of Vennick left.\r\n".encode("cp1252")
    )
    article = tmp_path / "article.txt"
    article.write_bytes(FLOOD.read_bytes().decode("utf-8").encode("cp1252", errors="replace"))
    assert read_text(summary) == "Café owners said about 1,200 residents of Vennick left.\n"
    assert load_file(article)[0].text == load_file(FLOOD)[0].text

    result = _run("validate", FLOOD, "--summary", summary, "--format", "json")
    assert result.exit_code in (0, 1), result.output
    assert "Café owners" in result.stdout


def test_a_summary_from_stdin_is_decoded_the_same_way():
    data = "Caf\xe9 owners said about 1,200 residents of Vennick left.\n".encode("cp1252")
    result = CliRunner().invoke(
        app, ["validate", str(FLOOD), "--summary", "-", "--format", "json"], input=data
    )
    assert result.exit_code in (0, 1), result.output
    assert "Café owners" in result.stdout


def test_an_unreadable_summary_is_one_line_naming_it(tmp_path):
    summary = tmp_path / "summary.txt"
    summary.write_bytes(b"\x00\x01binary")
    result = _run("validate", FLOOD, "--summary", summary)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {summary}: binary file, not text (NUL byte at offset 0)"
    ]


@pytest.mark.parametrize("as_folder", [False, True])
def test_a_summary_that_is_also_a_source_is_refused(tmp_path, as_folder):
    source = tmp_path / "flood.txt"
    source.write_bytes(FLOOD.read_bytes())
    summary = tmp_path / "summary.txt"
    summary.write_text("About 1,200 residents of Vennick were evacuated.\n")
    given = tmp_path if as_folder else summary
    result = _run("validate", source, given, "--summary", summary)
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {summary}: the summary is also a source ({given})")
    assert "support itself" in line


# ---------------------------------------------------------------- no article text


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("---", "no article text, only punctuation or markup"),
        ("---\n", "no article text, only punctuation or markup"),
        ("***\n\n---\n", "no article text, only punctuation or markup"),
        ("---\ntitle: Ferry strike\n---\n", "file has a metadata header but no article text"),
        ("---\ntitle: Ferry strike\ndate: 2026-11-21\n", "file has a metadata header but no"),
        ("Title: Ferry strike\nOutlet: Post\n", "file has a metadata header but no article text"),
        ("# \n\n![photo](a.jpg)\n", "article is all page debris"),
    ],
)
def test_a_file_without_article_text_is_an_input_problem(tmp_path, content, problem):
    path = tmp_path / "empty-ish.md"
    path.write_text(content)
    with pytest.raises(InputError) as err:
        load_file(path)
    assert problem in err.value.problem


def test_story_on_a_lone_rule_costs_no_model_call(tmp_path, monkeypatch):
    import summarize.model.client as client

    def no_model(settings):
        raise AssertionError("a model was opened for a file with no article text")

    monkeypatch.setattr(client, "open_client", no_model)
    path = tmp_path / "rule.txt"
    path.write_text("---\n")
    result = _run("story", path)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"skipped {path}: no article text, only punctuation or markup (e.g. a lone '---')",
        "error: no usable article in the inputs",
    ]
