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
from summarize.text.values import names, quote_spans

# "VELLMOOR, Nov 20 (Meridian Wire) - ", "WASHINGTON (AP) — ", "LONDON, England -- "
_DATELINE = re.compile(
    r"^\s*[A-Z][A-Z.'-]{2,}(?:[ ][A-Z][A-Z.'-]{1,}){0,3}"  # a place in capitals
    r"(?:,[ ]?[A-Z][\w.]*\.?(?:[ ][A-Z][\w.]*)?(?:[ ]\d{1,2})?(?:,[ ]\d{4})?){0,2}"  # ", Nov 20"
    r"(?:[ ]?\([^()]{2,40}\))?"  # "(Meridian Wire)"
    r"[ ]?(?:--|[-–—])[ ]+"
)
# "ANALYSIS: ", "Fact Check: ", "Why it matters: " (a label of at most four words)
_HOUSE_LABEL = re.compile(r"^\s*[A-Z][\w'’-]*(?:[ ][\w'’-]+){0,3}:[ ]+(?=[A-Z\"“‘'])")
_SPEECH_WORDS = r"(?:said|says|told|added|wrote|noted|explained|argued|continued|stated)"
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

# "..., she said." / "She said ..." / "he added" (the speaker is only a pronoun)
_PRONOUN_SPEAKER = re.compile(
    rf"(?P<lead>^|[,.!?\"”’]\s*)(?P<pron>[Hh]e|[Ss]he|[Tt]hey)(?:\s+(?:also|later|then))?"
    rf"\s+{_SPEECH_WORDS}\b"
)
_OPENING_PRONOUN = re.compile(
    r"^[\"“'‘]?(?:this|that|these|those|it|its|he|she|they|his|her|their|him|them)\b", re.I
)
_TITLES = re.compile(
    r"\b(?:Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Gen|Prof|President|Mayor|Minister|Secretary|Senator|"
    r"Representative|Governor|Chief|Judge|Justice|Officer|spokes(?:wo)?(?:man|person))\.?\s+$"
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


def pronoun_speaker(text: str) -> re.Match | None:
    """The "she said" of a sentence whose speaker is only a pronoun."""
    return _PRONOUN_SPEAKER.search(text)


def speakers(text: str) -> list[str]:
    """Named people quoted or named as speaking in `text`: "X said", "said X", "X told"."""
    found: list[str] = []
    quotes = quote_spans(text)
    for name in names(text):
        if any(a <= name.start < b for a, b in quotes):
            continue  # a name inside a quotation
        before, after = text[: name.lead], text[name.end :]
        if " " not in name.text and not re.match(rf"\s*{_SPEECH_WORDS}\b", after):
            continue  # one word (a place, an acronym) unless it directly speaks: "Mao said"
        speaking = re.match(rf"\s*(?:,[^,]{{0,60}},\s*)?{_SPEECH_WORDS}\b", after) or re.search(
            rf"\b{_SPEECH_WORDS}\s*$", before
        )
        titled = _TITLES.search(before)
        if (speaking or titled) and name.text not in found:
            found.append(name.text)
    return found


def resolve_speaker(sentence: Sentence, corpus: Corpus, text: str | None = None) -> str | None:
    """`text` (default: the sentence) with its pronoun speaker replaced by the one person
    the article named as speaking in the two sentences before; None when that is not
    unambiguous (no pronoun speaker, nobody, or more than one person)."""
    text = sentence.text if text is None else text
    m = pronoun_speaker(text)
    if m is None:
        return None
    article = [s for s in corpus.usable if s.article_id == sentence.article_id]
    index = next((i for i, s in enumerate(article) if s.id == sentence.id), None)
    if index is None:
        return None
    people: list[str] = []
    for earlier in reversed(article[max(0, index - 2) : index]):
        people = speakers(earlier.text)
        if people:
            break
    if not people and index:  # nobody spoke just before: the one person named there
        before = article[index - 1].text
        quotes = quote_spans(before)
        people = list(
            dict.fromkeys(
                n.text
                for n in names(before)
                if " " in n.text and not any(a <= n.start < b for a, b in quotes)
            )
        )
    own = speakers(text)
    if len(people) != 1 or (own and own != people):
        return None
    start = m.start("pron")
    out = text[:start] + people[0] + text[m.end("pron") :]
    return out[0].upper() + out[1:] if start == 0 else out
