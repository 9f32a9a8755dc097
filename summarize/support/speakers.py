"""Whose words: a claim that gives a pronoun-attributed statement to the wrong person.

"'Paper bales burn from the inside,' she said." belongs to the one person the article
quoted or named just before (`text/speakers.py`). A claim that gives those words to
someone else ("..., union representative Gail Thorncroft said.") gets a `speaker`
finding, whatever its word overlap.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from summarize.models import Article, Span
from summarize.support.checks import Finding
from summarize.text.segment import split_sentences
from summarize.text.speakers import speaker_of, speakers


@lru_cache(maxsize=256)
def _bounds(text: str) -> tuple[tuple[int, int], ...]:
    return tuple(split_sentences(text))


def _same_person(a: str, b: str) -> bool:
    """ "Gail Thorncroft" and "Thorncroft" are one person; "Ruth Haldane" is another."""
    return a.split()[-1].lower() == b.split()[-1].lower()


def speaker_findings(
    claim: str, spans: Sequence[Span], articles: Sequence[Article]
) -> list[Finding]:
    """A `speaker` error when a span's words are "she said" words of another person
    than the one the claim names as speaking."""
    claimed = speakers(claim)
    if not claimed:
        return []
    by_id = {a.id: a for a in articles}
    for span in spans:
        article = by_id.get(span.article_id)
        if article is None:
            continue
        bounds = _bounds(article.text)
        for i, (s, e) in enumerate(bounds):
            if not (s < span.end and span.start < e):
                continue
            before = [article.text[a:b] for a, b in bounds[max(0, i - 2) : i]]
            person = speaker_of(article.text[s:e], before)
            if person and not any(_same_person(person, c) for c in claimed):
                msg = f"the source gives these words to {person}, not {claimed[0]}"
                return [Finding("speaker", "error", msg, [claimed[0], person])]
    return []
