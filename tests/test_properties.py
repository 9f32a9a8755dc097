"""Property-based tests (Hypothesis) of ingestion and offsets: whatever the text (any
unicode, CR LF, tabs, emoji, page furniture mixed in), every sentence and every debris
range is a true `[start, end)` of the stored text: `article.text[start:end] == quote`."""

from __future__ import annotations

import codecs
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from summarize.corpus import Corpus, segment
from summarize.errors import InputError
from summarize.models import Article, Span
from summarize.sources.ingest import article_from_text, load_file, normalise_text

# Modest example counts: the whole file runs in a few seconds.
PROPERTY = settings(
    max_examples=100,
    deadline=None,  # the first example loads the segmenter
    suppress_health_check=[HealthCheck.too_slow],
)

# Page furniture of every kind `find_debris` knows, Markdown included.
DEBRIS_LINES = [
    "Advertisement",
    "Get the latest news updates",
    "Sign up for our newsletter",
    "Related: Council delays vote",
    "RelatedFerry strike enters third day",
    "**Related:** [Pier reopens](https://example.com/pier)",
    "SOURCE: Reuters",
    "© 2026 Valley Post",
    "3 MIN READ",
    "WORLD",
    "By Jane Doe",
    "Firefighters at the scene. / Photo: Reuters",
    "![A ferry at dawn](ferry.jpg)",
    '<img src="x.png" alt="x">',
    "---",
    "* * *",
    "Comments (2)",
    "Explore",
    "## Explore",
    "- [Lifeboat crew rescues kayaker](https://example.com/a)",
    "Most read",
    "Tide tables for the week ahead",
]

# Lines of prose: any unicode (surrogates aside), tabs, emoji, odd line separators.
PROSE = st.text(
    alphabet=st.one_of(
        st.characters(exclude_categories=("Cs",)),
        st.sampled_from("\t \u00a0.,;:!?\"'’“”()-–—…"),
        st.sampled_from("😀🎉🇬🇧👩‍👩‍👧 é ß ı İ ﬁ Å"),
    ),
    max_size=120,
)
LINE = st.one_of(PROSE, st.sampled_from(DEBRIS_LINES))
NEWLINE = st.sampled_from(["\n", "\r\n", "\r", "\n\n", "\r\n\r\n", "\u2028", "\x85"])


@st.composite
def raw_texts(draw) -> str:
    lines = draw(st.lists(LINE, min_size=1, max_size=14))
    breaks = draw(st.lists(NEWLINE, min_size=len(lines), max_size=len(lines)))
    return "".join(line + br for line, br in zip(lines, breaks, strict=True))


def check_offsets(article: Article) -> None:
    """Every debris range and sentence is a true span of `article.text`."""
    text, articles = article.text, {article.id: article}
    previous_end = 0
    for start, end in article.debris:
        assert previous_end <= start < end <= len(text)
        previous_end = end
        span = article.span(start, end)
        assert text[span.start : span.end] == span.quote
        Span.model_validate(span.model_dump(), context={"articles": articles})
        assert span.quote == span.quote.strip(), "a debris range covers whole, trimmed lines"

    sentences = segment(article, "A")
    previous_end = 0
    for sentence in sentences:
        assert previous_end <= sentence.start < sentence.end <= len(text)
        previous_end = sentence.end
        assert text[sentence.start : sentence.end] == sentence.text
        assert sentence.text.strip() == sentence.text and "\n" not in sentence.text
        span = article.span(sentence.start, sentence.end)
        Span.model_validate_json(span.model_dump_json(), context={"articles": articles})
        # a line break ends a sentence, and debris is whole lines: all in, or all out
        inside = any(s <= sentence.start and sentence.end <= e for s, e in article.debris)
        assert inside == sentence.debris, (sentence, article.debris)

    corpus = Corpus([article])
    for sentence in corpus.sentences:
        assert text[sentence.start : sentence.end] == sentence.text


def no_words_outside_debris(text: str, error: InputError) -> bool:
    from summarize.sources.debris import find_debris

    clean = list(text)
    for start, end in find_debris(text):
        clean[start:end] = " " * (end - start)
    return not any(c.isalnum() for c in clean)


@PROPERTY
@given(raw=raw_texts())
def test_article_from_any_text_keeps_true_offsets(raw):
    try:
        article = article_from_text(raw, id="a")
    except InputError as err:  # refused only when nothing outside debris says anything
        assert no_words_outside_debris(normalise_text(raw), err), err
        return
    assert article.text == normalise_text(raw)
    assert "\r" not in article.text
    check_offsets(article)


@PROPERTY
@given(raw=raw_texts(), bom=st.booleans(), suffix=st.sampled_from([".txt", ".md"]))
def test_any_file_loads_with_true_offsets(raw, bom, suffix):
    data = (codecs.BOM_UTF8 if bom else b"") + raw.encode("utf-8")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"article{suffix}"
        path.write_bytes(data)
        try:
            (article,) = load_file(path)
        except InputError as err:
            assert err.path == str(path)
            return
    # the stored text is the file's text, line endings normalised, a header cut off the top
    assert normalise_text(raw).endswith(article.text)
    check_offsets(article)


@PROPERTY
@given(
    prose=st.lists(PROSE, min_size=1, max_size=5),
    furniture=st.lists(st.sampled_from(DEBRIS_LINES), min_size=1, max_size=6),
    data=st.data(),
)
def test_furniture_shuffled_into_prose_never_takes_a_sentence(prose, furniture, data):
    """Paragraphs (distinct, starting and ending as prose does) with furniture shuffled
    in anywhere: offsets stay true and no paragraph's last sentence is marked as debris."""
    paragraphs = [
        f"Paragraph {i} says {normalise_text(p).replace(chr(10), ' ')} and ends here."
        for i, p in enumerate(prose)
    ]
    lines = data.draw(st.permutations(paragraphs + furniture))
    article = article_from_text("\r\n\r\n".join(lines), id="mixed")
    check_offsets(article)
    ends = [s for s in segment(article, "A") if s.text.endswith("and ends here.")]
    assert len(ends) == len(prose) and not any(s.debris for s in ends), article.debris
