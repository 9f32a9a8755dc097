"""Sentence splitting: abbreviations, quotes, headlines, exact character offsets."""

from __future__ import annotations

import pytest

from summarize.corpus import article_letter, segment
from summarize.models import Article
from summarize.text.segment import split_sentences


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def test_abbreviations_do_not_end_sentences():
    text = "Mr. Smith flew to the U.S. on Monday. Dr. Jones met him at 9 a.m. in Washington."
    assert sentences(text) == [
        "Mr. Smith flew to the U.S. on Monday.",
        "Dr. Jones met him at 9 a.m. in Washington.",
    ]


def test_us_army_and_decimal_numbers():
    assert sentences("The U.S. Army said so. Prices rose 3.5% in Jan. and Feb.") == [
        "The U.S. Army said so.",
        "Prices rose 3.5% in Jan. and Feb.",
    ]


def test_quotes_stay_with_their_sentence():
    text = '“We are ready,” she said. He replied: "It is fine." Then he left.'
    assert sentences(text) == [
        "“We are ready,” she said.",
        'He replied: "It is fine."',
        "Then he left.",
    ]


def test_line_break_ends_a_headline_without_period():
    text = "Storm closes schools\nSchools closed on Friday. Parents were told by text.\n"
    assert sentences(text) == [
        "Storm closes schools",
        "Schools closed on Friday.",
        "Parents were told by text.",
    ]


def test_blank_lines_and_indentation_are_trimmed():
    text = "\n\n   First line here.  \n\n\tSecond line\n   \n"
    ranges = split_sentences(text)
    assert [text[s:e] for s, e in ranges] == ["First line here.", "Second line"]


def test_question_and_exclamation():
    assert sentences("Will it work? Nobody knows! We will see.") == [
        "Will it work?",
        "Nobody knows!",
        "We will see.",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "“Olá,” disse José. Café é bom.\nNext line ü.",
        "Köln — die Stadt. Größer als gedacht? Ja!",
        "东京 is big. Émile said “non.” Then 😀 left.",
        "Tabs\tand  double  spaces. Still fine.",
    ],
)
def test_offsets_are_exact_character_offsets(text):
    ranges = split_sentences(text)
    assert ranges
    covered = "".join(text[s:e] for s, e in ranges)
    # Nothing but whitespace is lost between sentences.
    assert "".join(covered.split()) == "".join(text.split())
    prev = 0
    for s, e in ranges:
        assert prev <= s < e <= len(text)
        assert text[s:e] == text[s:e].strip()
        prev = e


def test_offsets_after_non_ascii_are_characters():
    text = "Café “news” é. The next one."
    (_, _), (start, end) = split_sentences(text)
    assert text[start:end] == "The next one."
    assert start == text.index("The next one.")
    assert start != text.encode("utf-8").index(b"The next one.")


def test_segment_numbers_and_flags_debris():
    text = "Headline here\nAdvertisement\nThe body sentence. Another one."
    start = text.index("Advertisement")
    article = Article(id="a1", text=text, debris=[(start, start + len("Advertisement"))])
    result = segment(article, "B")
    assert [s.id for s in result] == ["B1", "B2", "B3", "B4"]
    assert [s.debris for s in result] == [False, True, False, False]
    assert all(s.article_id == "a1" and text[s.start : s.end] == s.text for s in result)


def test_empty_text_has_no_sentences():
    assert split_sentences("") == []
    assert split_sentences("\n  \n") == []


def test_article_letters():
    assert [article_letter(i) for i in (0, 1, 25, 26, 27, 701, 702)] == [
        "A",
        "B",
        "Z",
        "AA",
        "AB",
        "ZZ",
        "AAA",
    ]


def test_long_single_line_is_split_exactly_across_windows():
    """Long lines go to pysbd in windows (it is quadratic); no sentence is cut at a seam."""
    expected = [f"Mr. Lee of the U.S. team said item {i} cost $3.5 million." for i in range(300)]
    text = " ".join(expected)
    assert len(text) > 5 * 2000
    assert sentences(text) == expected


def test_sentence_longer_than_a_window_stays_whole():
    giant = "word " * 1500 + "end."
    text = f"{giant} After it."
    assert sentences(text) == [giant, "After it."]
