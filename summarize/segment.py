"""Sentence segmentation with exact character offsets.

pysbd handles abbreviations ("U.S.", "Mr.") and quotes; a line break always ends
a sentence, so headlines, captions and list items without a final period stand
alone. Offsets are found by searching forward from a cursor, never by trusting a
segmenter's own offsets, so `text[start:end]` is always the sentence.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pysbd

from .models import Article, Range, Sentence


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False)


_LINE = re.compile(r"[^\n]+")


def split_sentences(text: str) -> list[Range]:
    """`[start, end)` ranges of the sentences of `text`, whitespace trimmed."""
    ranges: list[Range] = []
    for line in _LINE.finditer(text):
        if not line.group().strip():
            continue
        cursor = line.start()
        for piece in _segmenter().segment(line.group()):
            piece = piece.strip()
            if not piece:
                continue
            start = text.find(piece, cursor, line.end())
            if start < 0:  # segmenter altered the text: fall back to the rest of the line
                start, piece = cursor, text[cursor : line.end()].strip()
                start = text.find(piece, cursor, line.end()) if piece else -1
                if start < 0:
                    break
            ranges.append((start, start + len(piece)))
            cursor = start + len(piece)
    return ranges


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
