"""Sentence segmentation with exact character offsets.

pysbd handles abbreviations ("U.S.", "Mr.") and quotes; a line break always ends
a sentence, so headlines, captions and list items without a final period stand
alone. Offsets are found by searching forward from a cursor, never by trusting a
segmenter's own offsets, so `text[start:end]` is always the sentence.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

import pysbd

from summarize.models import Range


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False)


# pysbd's Segmenter keeps the text it is working on in an attribute: two stories segmented
# at once in threads (the digest's --jobs) must not share it mid-call.
_SEGMENTING = threading.Lock()


_LINE = re.compile(r"[^\n]+")
# pysbd's time grows with the square of its input (a 400 kB line took minutes), so a
# long line is segmented in windows of about this many characters.
_WINDOW = 2000
# Sentences ending this close to a window's cut are redone in the next window, where
# pysbd sees what follows them.
_MARGIN = 500


def split_sentences(text: str) -> list[Range]:
    """`[start, end)` ranges of the sentences of `text`, whitespace trimmed."""
    ranges: list[Range] = []
    for line in _LINE.finditer(text):
        if line.group().strip():
            ranges.extend(_split_line(text, line.start(), line.end()))
    return ranges


def _split_line(text: str, start: int, end: int) -> list[Range]:
    """Sentences of `text[start:end]`, one window at a time.

    Sentences at a window's cut may be cut or split differently for want of
    the text after them, so they are left for the next window, which starts
    where they start; a sentence longer than the window widens it.
    """
    ranges: list[Range] = []
    cursor = start
    while cursor < end:
        size = _WINDOW
        while True:
            stop = min(end, cursor + size)
            found = _pieces(text, cursor, stop)
            if stop == end:
                break
            found = [r for r in found[:-1] if r[1] <= stop - _MARGIN]
            if found:
                break
            size *= 2
        if not found:
            break
        ranges.extend(found)
        cursor = found[-1][1]
    return ranges


def _pieces(text: str, start: int, stop: int) -> list[Range]:
    """pysbd's sentences of `text[start:stop]`, located in `text` by forward search."""
    ranges: list[Range] = []
    cursor = start
    with _SEGMENTING:
        pieces = _segmenter().segment(text[start:stop])
    for piece in pieces:
        piece = piece.strip()
        if not piece:
            continue
        found = text.find(piece, cursor, stop)
        if found < 0:  # segmenter altered the text: fall back to the rest of the span
            piece = text[cursor:stop].strip()
            found = text.find(piece, cursor, stop) if piece else -1
            if found < 0:
                break
        if ranges and _CONTINUES.match(piece):  # "Facebook Inc." | "’s global ...": one sentence
            ranges[-1] = (ranges[-1][0], found + len(piece))
        else:
            ranges.append((found, found + len(piece)))
        cursor = found + len(piece)
    return ranges


# A piece that cannot start a sentence: a possessive ending or a lowercase word after an
# abbreviation pysbd took for a full stop ("Facebook Inc.’s global echo chamber").
# ("iPhone", "eBay" may start a sentence: a lowercase word must be all lowercase)
_CONTINUES = re.compile(r"^(?:['’]s\b|[a-z]+[\s,;:])")
