"""A sentence a reader can read on its own, in a brief made of several outlets' sentences.

- **Fragments** are never shown: an excerpt cut with an ellipsis, a bracketed insertion
  ("By [passing this bill], ..."), a byline, a photo caption, a question.
- **Lead-ins** are dropped, not the sentence: a dateline ("VELLMOOR, Nov 20 (Meridian
  Wire) - Researchers ...") or a house label and colon ("ANALYSIS: ...") stand before
  the sentence proper. The claim is the rest, a substring of the source sentence, so
  its span stays exact.
- **Pronouns** need their person. "..., she said." is readable only once the brief has
  named her: `resolve_speaker` finds the one person the article quoted or named just
  before, and writes the name in the pronoun's place; the result is validated like any
  other sentence. A sentence that opens on another pronoun ("They can be charged ...")
  is not used on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from summarize.corpus import Corpus
from summarize.models import Sentence
from summarize.text.speakers import with_speaker

# "VELLMOOR, Nov 20 (Meridian Wire) - ", "WASHINGTON (AP) — ", "LONDON, England -- "
_DATELINE = re.compile(
    r"^\s*[A-Z][A-Z.'-]{2,}(?:[ ][A-Z][A-Z.'-]{1,}){0,3}"  # a place in capitals
    r"(?:,[ ]?[A-Z][\w.]*\.?(?:[ ][A-Z][\w.]*)?(?:[ ]\d{1,2})?(?:,[ ]\d{4})?){0,2}"  # ", Nov 20"
    r"(?:[ ]?\([^()]{2,40}\))?"  # "(Meridian Wire)"
    r"[ ]?(?:--|[-–—])[ ]+"
)
# "ANALYSIS: ", "Fact Check: ", "Why it matters: " (a label of at most four words)
_HOUSE_LABEL = re.compile(r"^\s*[A-Z][\w'’-]*(?:[ ][\w'’-]+){0,3}:[ ]+(?=[A-Z\"“‘'])")
_BYLINE = re.compile(
    r"^\s*\(?(?:By|Written by|Reporting by|Additional reporting by|Editing by)\s+[A-Z][\w.'-]+"
    r"(?:\s+[A-Z][\w.'-]+)|^\s*\([^()]*\)\s*$"  # or a line wholly in brackets
)
_CAPTION = re.compile(
    r"\((?:Photo|Image|Credit|Video|File)[^)]*\)|\b(?:Getty Images|AP Photo|Photo:|Image:|"
    r"Photograph:|Pictured:|File photo)",
    re.I,
)
_ELLIPSIS = re.compile(r"\.\.\.|…")
_BRACKETED = re.compile(r"\[[^\]]{1,60}\]")

_OPENING_PRONOUN = re.compile(
    r"^[\"“'‘]?(?:this|that|these|those|it|its|he|she|they|his|her|their|him|them)\b", re.I
)


@dataclass(frozen=True)
class Readable:
    """What of a source sentence a brief may show: `text` is `sentence.text[offset:]`."""

    sentence: Sentence
    text: str
    offset: int = 0


def fragment_reason(text: str) -> str | None:
    """Why `text` is no sentence to show on its own, or None."""
    stripped = text.strip()
    if _ELLIPSIS.search(stripped):
        return "cut off with an ellipsis"
    if _BRACKETED.search(stripped):
        return "a bracketed insertion"
    if _BYLINE.match(stripped):
        return "a byline"
    if _CAPTION.search(stripped):
        return "a caption"
    if stripped.rstrip("\"”’'").endswith("?"):
        return "a question"
    if stripped.endswith(":"):
        return "a lead-in to a list"
    if stripped[:1].islower():
        return "starts mid-sentence"
    return None


def lead_in_length(text: str) -> int:
    """Characters of dateline or house label before the sentence proper (0 if none)."""
    for rx in (_DATELINE, _HOUSE_LABEL):
        m = rx.match(text)
        if m and len(text) - m.end() > 20:
            return m.end()
    return 0


def readable(sentence: Sentence) -> Readable | None:
    """The sentence as a brief may show it (lead-in dropped), or None for a fragment."""
    offset = lead_in_length(sentence.text)
    text = sentence.text[offset:].strip()
    offset = sentence.text.index(text) if text else offset
    if not text or fragment_reason(text):
        return None
    return Readable(sentence, text, offset)


def opens_on_pronoun(text: str) -> bool:
    """Starts with a pronoun ("They can be charged ...", "This was revealed ...")."""
    return bool(_OPENING_PRONOUN.match(text.strip()))


def resolve_speaker(sentence: Sentence, corpus: Corpus, text: str | None = None) -> str | None:
    """`text` (default: the sentence) with its pronoun speaker replaced by the one person
    the article named as speaking in the two sentences before; None when that is not
    unambiguous (no pronoun speaker, nobody, or more than one person)."""
    text = sentence.text if text is None else text
    article = [s for s in corpus.usable if s.article_id == sentence.article_id]
    index = next((i for i, s in enumerate(article) if s.id == sentence.id), None)
    if index is None:
        return None
    return with_speaker(text, [s.text for s in article[max(0, index - 2) : index]])
