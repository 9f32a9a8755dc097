"""Who is speaking in a news sentence: named speakers, and the person a pronoun stands for.

"..., she said." belongs to the one person the article quoted or named just before.
The story uses this to write the name in the pronoun's place (`story/readable.py`);
the validator uses it to refuse a claim that gives those words to someone else
(`support/speakers.py`).
"""

from __future__ import annotations

import re

from summarize.text.values import names, quote_spans

_SPEECH_WORDS = r"(?:said|says|told|added|wrote|noted|explained|argued|continued|stated)"

# "..., she said." / "She said ..." / "he added" (the speaker is only a pronoun)
_PRONOUN_SPEAKER = re.compile(
    rf"(?P<lead>^|[,.!?\"”’]\s*)(?P<pron>[Hh]e|[Ss]he|[Tt]hey)(?:\s+(?:also|later|then))?"
    rf"\s+{_SPEECH_WORDS}\b"
)
_TITLES = re.compile(
    r"\b(?:Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Gen|Prof|President|Mayor|Minister|Secretary|Senator|"
    r"Representative|Governor|Chief|Judge|Justice|Officer|spokes(?:wo)?(?:man|person))\.?\s+$"
)


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


def speaker_of(text: str, before: list[str]) -> str | None:
    """The one person a pronoun speaker of `text` stands for, from the sentences `before`
    it (nearest last); None when `text` has no pronoun speaker or it is not unambiguous."""
    if pronoun_speaker(text) is None:
        return None
    people: list[str] = []
    for earlier in reversed(before):
        people = speakers(earlier)
        if people:
            break
    if not people and before:  # nobody spoke just before: the one person named there
        last = before[-1]
        quotes = quote_spans(last)
        people = list(
            dict.fromkeys(
                n.text
                for n in names(last)
                if " " in n.text and not any(a <= n.start < b for a, b in quotes)
            )
        )
    own = speakers(text)
    if len(people) != 1 or (own and own != people):
        return None
    return people[0]


def with_speaker(text: str, before: list[str]) -> str | None:
    """`text` with its pronoun speaker replaced by `speaker_of(text, before)`, or None."""
    person = speaker_of(text, before)
    m = pronoun_speaker(text)
    if person is None or m is None:
        return None
    start = m.start("pron")
    out = text[:start] + person + text[m.end("pron") :]
    return out[0].upper() + out[1:] if start == 0 else out
