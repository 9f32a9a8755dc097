"""Ingest: every format, metadata, titles, ids, offsets and each kind of bad input."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from summarize.corpus import segment
from summarize.models import Article, InputProblem
from summarize.sources.ingest import (
    MAX_ARTICLE_BYTES,
    InputError,
    article_from_text,
    load_articles,
    load_file,
)

INGEST = Path(__file__).resolve().parent / "fixtures" / "ingest"
BAD = INGEST / "bad"


def only(articles: list[Article]) -> Article:
    assert len(articles) == 1, articles
    return articles[0]


def content_sentences(article: Article) -> list[str]:
    return [s.text for s in segment(article) if not s.debris]


def problem_for(problems: list[InputProblem], name: str) -> str:
    found = [p.problem for p in problems if Path(p.path.split(":")[0]).name == name]
    assert found, f"no problem for {name}: {problems}"
    return found[0]


# ---------------------------------------------------------------- article_from_text


def test_article_from_text_normalises_line_endings_and_marks_debris():
    article = article_from_text(
        "Bridge reopens\r\nThe bridge reopened.\rAdvertisement\r\nTraffic was light.",
        id="x",
    )
    assert article.text == "Bridge reopens\nThe bridge reopened.\nAdvertisement\nTraffic was light."
    start = article.text.index("Advertisement")
    assert article.debris == [(start, start + len("Advertisement"))]
    assert article.title == "Bridge reopens"


def test_article_from_text_keeps_given_metadata():
    article = article_from_text(
        "The bridge reopened on Tuesday.",
        id="b1",
        title="Given",
        outlet="Courier",
        url="https://example.org/b",
        published="2024-03-05",
        path="some/file.txt",
    )
    assert (article.id, article.title, article.outlet) == ("b1", "Given", "Courier")
    assert article.url == "https://example.org/b"
    assert article.published == datetime(2024, 3, 5)
    assert article.path == "some/file.txt"


@pytest.mark.parametrize("text", ["", "   \n\t \r\n"])
def test_article_from_text_rejects_empty_text(text):
    with pytest.raises(InputError) as err:
        article_from_text(text, id="empty-one")
    assert err.value.path == "empty-one"
    assert "no article text" in err.value.problem


def test_article_from_text_rejects_all_debris_and_names_path():
    with pytest.raises(InputError) as err:
        article_from_text("Advertisement\nRead more\n", id="x", path="dir/page.txt")
    assert str(err.value) == f"dir/page.txt: {err.value.problem}"
    assert "all page debris" in err.value.problem


def test_input_error_fields_and_str():
    err = InputError(Path("a/b.txt"), "file is empty")
    assert (err.path, err.problem, str(err)) == (
        "a/b.txt",
        "file is empty",
        "a/b.txt: file is empty",
    )
    assert str(err.to_problem()) == "a/b.txt: file is empty"


# ---------------------------------------------------------------- offsets


def test_offsets_are_characters_not_bytes_for_non_ascii_text():
    text = (
        "“Olá,” disse José Núñez à imprensa.\n"
        "Der Bürgermeister von Köln sagte: „Wir sind bereit.“\n"
        "Prices in Zürich rose 4 % — the most since 2008 — said Ms. Weiß. 東京で会議が開かれた。\n"
    )
    article = article_from_text(text, id="intl")
    sentences = segment(article, "A")
    assert sentences, "no sentences"
    for s in sentences:
        assert article.text[s.start : s.end] == s.text
        assert s.text == s.text.strip()
        span = article.span(s.start, s.end)
        assert span.quote == s.text
    weiss = next(s for s in sentences if "Weiß" in s.text)
    assert weiss.start == text.index("Prices in Zürich")
    assert len(text.encode("utf-8")) > len(text)  # byte offsets would differ


def test_offsets_hold_for_every_segment_of_every_fixture(fixtures_dir):
    articles, _ = load_articles([fixtures_dir / "ingest"])
    assert len(articles) >= 8
    for article in articles:
        for s in segment(article):
            assert article.text[s.start : s.end] == s.text, (article.id, s)


def test_offsets_hold_for_seed_articles(seed_paths):
    articles, problems = load_articles(seed_paths)
    assert problems == []
    for article in articles:
        sentences = segment(article)
        assert len(sentences) > 10
        for s in sentences:
            assert article.text[s.start : s.end] == s.text


# ---------------------------------------------------------------- plain text and Markdown


def test_plain_text_with_metadata_header():
    article = only(load_file(INGEST / "bridge-header.txt"))
    assert article.id == "bridge-header"
    assert article.title == "Harbour bridge reopens after repairs"
    assert article.outlet == "Coastal Courier"
    assert article.url == "https://example.org/news/bridge"
    assert article.published == datetime(2024, 3, 5, 9, 30)
    # The header is cut off: the stored text starts with the body.
    assert article.text.startswith("The harbour bridge reopened on Tuesday")
    assert "Outlet:" not in article.text
    assert "Advertisement" not in " ".join(content_sentences(article))
    assert "Mayor Ana Núñez said the “work finished on time” and under budget." in (
        content_sentences(article)
    )


def test_plain_text_without_header_uses_stem_as_outlet_and_headline_as_title(tmp_path):
    path = tmp_path / "Valley Post Story.txt"
    path.write_text("Storm closes schools\n\nSchools closed on Friday.\n", encoding="utf-8")
    article = only(load_file(path))
    assert article.id == "valley-post-story"
    assert article.outlet == "Valley Post Story"
    assert article.title == "Storm closes schools"
    assert article.text.startswith("Storm closes schools\n")  # title stays in the text


def test_first_line_ending_in_period_is_not_a_title(tmp_path):
    path = tmp_path / "story.txt"
    path.write_text("Schools closed on Friday.\nParents were told by text.\n", encoding="utf-8")
    assert only(load_file(path)).title == ""


def test_title_skips_debris_lines_and_reads_dateline(seed_paths):
    a, b = (only(load_file(p)) for p in seed_paths)
    assert a.title == ""  # its first real line is a sentence, the banner is debris
    assert a.outlet == "nato-office-a"
    assert b.title == "China urges 'high vigilance' over NATO expansion in Asia"
    assert b.published == datetime(2023, 5, 4)


def test_markdown_heading_is_title(tmp_path):
    article = only(load_file(INGEST / "council-vote.md"))
    assert article.title == "Council approves bridge budget"
    assert article.text.startswith("# Council approves bridge budget\n")
    assert "The city council approved a budget of €4.2 million for the bridge on Monday." in (
        content_sentences(article)
    )


def test_front_matter_fences_are_metadata(tmp_path):
    path = tmp_path / "fm.md"
    path.write_text(
        '---\ntitle: "Ferry strike ends"\noutlet: Harbour Times\ntags: [x]\n---\n\n'
        "The ferry strike ended on Sunday.\n",
        encoding="utf-8",
    )
    article = only(load_file(path))
    assert (article.title, article.outlet) == ("Ferry strike ends", "Harbour Times")
    assert article.text == "The ferry strike ended on Sunday.\n"


def test_header_only_stops_at_first_unknown_line(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("Update: the minister resigned on Monday.\nMore later.\n", encoding="utf-8")
    article = only(load_file(path))
    assert article.text.startswith("Update: the minister resigned")
    assert article.outlet == "x"


def test_crlf_file_is_normalised(tmp_path):
    path = tmp_path / "crlf.txt"
    path.write_bytes(b"Title: CRLF story\r\n\r\nLine one.\r\nLine two.\r\n")
    article = only(load_file(path))
    assert article.text == "Line one.\nLine two.\n"
    assert article.title == "CRLF story"


def test_utf8_bom_is_dropped(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffCafé news\nThe café reopened.\n".encode())
    article = only(load_file(path))
    assert article.text == "Café news\nThe café reopened.\n"


def test_cp1252_file_decodes_when_clean():
    article = only(load_file(INGEST / "latin1.txt"))
    assert article.text == "Café owners in São Paulo said prices rose.\n"


def test_file_without_extension_is_plain_text(tmp_path):
    path = tmp_path / "README"
    path.write_text("The plant closed on Monday.\n", encoding="utf-8")
    assert only(load_file(path)).text == "The plant closed on Monday.\n"


# ---------------------------------------------------------------- HTML


def test_html_extraction_with_metadata():
    article = only(load_file(INGEST / "river-page.html"))
    assert article.id == "river-page"
    assert article.title == "River flood warning lifted"
    assert article.outlet == "Valley Post"
    assert article.url == "https://valleypost.example.com/news/river-flood"
    assert article.published is not None and article.published.date().isoformat() == "2024-04-02"
    assert "Home" not in article.text.split("\n")[0]  # navigation dropped by trafilatura
    sentences = content_sentences(article)
    assert (
        "“We are grateful to everyone who helped their neighbours,” said agency director "
        "Jürgen Weiß." in sentences
    )
    assert "Read more" not in sentences  # marked as debris
    assert "Forecasters expect dry weather for the rest of the week." in sentences


# ---------------------------------------------------------------- JSON and JSON Lines


def test_jsonl_records_load_and_bad_records_are_reported():
    problems: list[InputProblem] = []
    articles = load_file(INGEST / "feed.jsonl", problems)
    assert [a.id for a in articles] == ["vp-1", "feed-3"]
    first, second = articles
    assert (first.title, first.outlet) == ("Storm closes schools", "Valley Post")
    assert first.published == datetime(2024, 4, 5)
    assert second.outlet == "harbourtimes.example"  # from the URL host
    assert second.published is None  # "not a date" tolerated
    assert [str(p) for p in problems][0] == f'{INGEST / "feed.jsonl"}:line 2: record has no "text"'
    assert problems[1].path == f"{INGEST / 'feed.jsonl'}:line 4"
    assert problems[1].problem.startswith("invalid JSON")


def test_jsonl_bad_record_raises_without_problem_list():
    with pytest.raises(InputError) as err:
        load_file(INGEST / "feed.jsonl")
    assert str(err.value).endswith(':line 2: record has no "text"')


def test_json_list_and_single_object():
    museum, library = load_file(INGEST / "records.json")
    assert museum.id == "r-1"
    assert museum.published is not None and museum.published.year == 2024
    assert library.id == "records-2"
    park = only(load_file(INGEST / "single.json"))
    assert (park.id, park.outlet) == ("single", "Green News")


def test_json_record_without_text_is_a_problem():
    problems: list[InputProblem] = []
    assert load_file(BAD / "no-text.json", problems) == []
    assert [str(p) for p in problems] == [f'{BAD / "no-text.json"}: record has no "text"']


def test_json_record_over_size_limit(tmp_path):
    path = tmp_path / "big.jsonl"
    rows = [{"text": "x " * (MAX_ARTICLE_BYTES // 2 + 1)}, {"text": "The port reopened."}]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    problems: list[InputProblem] = []
    articles = load_file(path, problems)
    assert [a.text for a in articles] == ["The port reopened."]
    assert "over the limit of 2,000,000 bytes" in problems[0].problem
    assert problems[0].path.endswith(":line 1")


# ---------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("empty.txt", "file is empty"),
        ("blank.txt", "file contains only whitespace, no text"),
        ("binary.txt", "binary file, not text (NUL byte at offset 7)"),
        ("not-utf8.txt", "not UTF-8 text (byte 0x81 at offset 12)"),
        ("invalid.json", "invalid JSON at line 3, column 15"),
        ("all-debris.txt", "article is all page debris"),
        ("no-article.html", "no article text found in the HTML page"),
        ("header-only.txt", "file has a metadata header but no article text"),
        ("missing.txt", "file not found"),
    ],
)
def test_bad_input_raises_clear_message(name, expected):
    path = BAD / name
    with pytest.raises(InputError) as err:
        load_file(path)
    assert err.value.path == str(path)
    assert expected in err.value.problem
    assert str(err.value).startswith(f"{path}: ")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("empty.txt", "file is empty"),
        ("binary.txt", "binary file"),
        ("invalid.json", "invalid JSON at line 3"),
        ("missing.txt", "file not found"),
    ],
)
def test_bad_input_becomes_problem_in_load_articles(name, expected):
    articles, problems = load_articles([BAD / name])
    assert articles == []
    assert len(problems) == 1 and expected in problems[0].problem
    assert problems[0].path == str(BAD / name)


def test_file_over_size_limit(tmp_path):
    path = tmp_path / "huge.txt"
    path.write_bytes(b"a" * (MAX_ARTICLE_BYTES + 1))
    with pytest.raises(InputError) as err:
        load_file(path)
    assert err.value.problem == "file is 2,000,001 bytes, over the limit of 2,000,000 bytes"


def test_unsupported_extension(tmp_path):
    path = tmp_path / "doc.pdf"
    path.write_bytes(b"%PDF-1.4")
    with pytest.raises(InputError, match="unsupported file type '.pdf'"):
        load_file(path)


def test_directory_given_to_load_file(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        load_file(tmp_path)


def test_directory_with_nothing_usable(tmp_path):
    (tmp_path / ".hidden.txt").write_text("Hidden text here.", encoding="utf-8")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    articles, problems = load_articles([tmp_path])
    assert articles == []
    assert [p.path for p in problems] == [str(tmp_path)]
    assert problems[0].problem.startswith("directory has no article files")


# ---------------------------------------------------------------- directories and ids


def test_directory_with_broken_files_still_loads_the_others():
    mixed = INGEST / "mixed"
    articles, problems = load_articles([mixed])
    # Sorted, recursive; hidden file and unknown extension skipped.
    assert [a.id for a in articles] == ["alpha", "alpha-2", "beta"]
    assert [Path(a.path).relative_to(mixed).as_posix() for a in articles] == [
        "alpha.txt",
        "sub/alpha.txt",
        "sub/beta.md",
    ]
    assert sorted(Path(p.path).name for p in problems) == ["broken.json", "empty-page.html"]
    assert "invalid JSON at line 2" in problem_for(problems, "broken.json")
    assert "no article text" in problem_for(problems, "empty-page.html")


def test_ids_are_unique_stable_and_readable(tmp_path, seed_paths):
    inputs = [*seed_paths, seed_paths[0], INGEST / "records.json", INGEST / "mixed" / "alpha.txt"]
    first, _ = load_articles(inputs)
    again, _ = load_articles(inputs)
    ids = [a.id for a in first]
    assert ids == [a.id for a in again]
    assert len(ids) == len(set(ids))
    # The same file given twice loads once.
    assert ids == ["nato-office-a", "nato-office-b", "r-1", "records-2", "alpha"]


def test_colliding_record_ids_get_suffixes(tmp_path):
    path = tmp_path / "dupes.jsonl"
    rows = [{"id": "same", "text": f"Sentence number {n}."} for n in range(3)]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    other = tmp_path / "same.txt"
    other.write_text("Another article.", encoding="utf-8")
    articles, problems = load_articles([path, other])
    assert problems == []
    assert [a.id for a in articles] == ["same", "same-2", "same-3", "same-4"]


def test_load_articles_accepts_strings_and_mixed_inputs(seed_paths):
    articles, problems = load_articles([str(INGEST / "single.json"), str(BAD / "empty.txt")])
    assert [a.id for a in articles] == ["single"]
    assert [str(p) for p in problems] == [f"{BAD / 'empty.txt'}: file is empty"]


def test_seed_articles_debris_excluded_from_content(seed_paths):
    articles, problems = load_articles(seed_paths)
    assert problems == []
    b = articles[1]
    content = " ".join(content_sentences(b))
    for debris in ["Explore", "Recommended", "SOURCE:", "2 MIN READ", "Photo: AP Archive", "Saudi"]:
        assert debris not in content
    assert "The Nikkei Asia said the proposed office was due to open next year in Tokyo." in content
