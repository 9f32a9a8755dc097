"""The sources of one story or summary, segmented and numbered once.

Sentence ids (`A3` = third sentence of article A) are what the model cites and what
the validator, the disagreement finder and the renderers resolve. They are made
here and nowhere else, so the prompt and the retriever cannot disagree on what `B4`
means. Letters go, in order, to the articles that have usable text (something
outside page debris); an article without any is skipped with a note.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from summarize.models import Article, Sentence
from summarize.text.instructions import is_instruction
from summarize.text.segment import split_sentences

_ID = re.compile(r"\b([A-Za-z]{1,2})\s*-?\s*(\d{1,4})\b")


def segment(article: Article, letter: str = "") -> list[Sentence]:
    """The article's sentences, numbered `{letter}{n}` from 1, debris flagged."""
    return [
        Sentence(
            id=f"{letter}{n}",
            article_id=article.id,
            start=start,
            end=end,
            text=article.text[start:end],
            debris=article.is_debris(start, end),
        )
        for n, (start, end) in enumerate(split_sentences(article.text), start=1)
    ]


def article_letter(index: int) -> str:
    """A, B, ..., Z, AA, AB, ...: short labels the model can cite."""
    label = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        label = chr(ord("A") + rem) + label
    return label


def parse_ids(value: Any) -> list[str]:
    """Sentence ids from whatever a model wrote: "A1", "[a1]", "A1, B3", ["A 1"]."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [i for v in value for i in parse_ids(v)]
    return [f"{m.group(1).upper()}{int(m.group(2))}" for m in _ID.finditer(str(value))]


def is_usable(sentence: Sentence) -> bool:
    """A sentence that may support a claim: not page debris, not blank, and not an
    instruction planted for a model ("Ignore previous instructions and ...";
    `summarize.text.instructions`)."""
    return not sentence.debris and bool(sentence.text.strip()) and not is_instruction(sentence.text)


class Corpus:
    """Articles with their lettered, numbered sentences (debris included, flagged)."""

    def __init__(self, articles: Iterable[Article]):
        self.articles: list[Article] = list(articles)
        self.letters: dict[str, str] = {}  # article id -> letter
        self.sentences: list[Sentence] = []
        self.skipped: list[Article] = []
        for article in self.articles:
            sentences = segment(article, article_letter(len(self.letters)))
            if not any(is_usable(s) for s in sentences):
                self.skipped.append(article)
                continue
            self.letters[article.id] = article_letter(len(self.letters))
            self.sentences += sentences
        self.by_id: dict[str, Sentence] = {s.id: s for s in self.sentences}
        self.usable: list[Sentence] = [s for s in self.sentences if is_usable(s)]

    @classmethod
    def of(cls, sources: Corpus | Sequence[Article]) -> Corpus:
        """`sources` itself when it is a Corpus, else the corpus of those articles."""
        return sources if isinstance(sources, Corpus) else cls(sources)

    @property
    def lettered(self) -> list[Article]:
        """The articles with usable text, in letter order."""
        return [a for a in self.articles if a.id in self.letters]

    def sentences_of(self, article: Article, usable_only: bool = True) -> list[Sentence]:
        return [
            s
            for s in self.sentences
            if s.article_id == article.id and (is_usable(s) or not usable_only)
        ]

    def notes(self) -> list[str]:
        """Why an article got no letter."""
        return [
            f"article {a.id!r} skipped: no article text outside page debris" for a in self.skipped
        ]
