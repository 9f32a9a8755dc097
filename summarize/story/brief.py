"""The plan of a news brief: which facts, in which words, in which order.

A reader's brief states the main fact first, then the details, then the reactions
(who said what), then the background, in about 100-150 words, each fact once.

- **What counts** is what the outlets corroborate: each content word is weighted by
  how many articles use it, so a sentence rich in words every outlet uses says the
  story's core, and one made of a single outlet's words adds colour. Facts are picked
  greedily for the corroborated words they add per word of text, earlier sentences of
  an article first (news is written top-down), until the word budget is spent.
- **The lede** is the most corroborated fact among the articles' opening sentences that
  is neither a reaction, nor background, nor from an opinion piece.
- **The wording** of a fact is its most neutral member: no strongly subjective word in
  its own voice (`support.neutral`), then the one whose words the other outlets share
  most (the consensus wording rather than one outlet's colour), then the shortest.
- **Readable**: fragments are never used, datelines and house labels are dropped, a
  pronoun speaker is replaced by the person the article just named (story/readable.py)
  or the sentence is not used; a fact already stated (the same words, or the same
  meaning by MiniLM) is not stated again.
- **Opinion pieces** (marked so by outlet, title or address, or written in the first
  or second person or a normative voice) are never the lede or the headline; what
  they say is attributed to them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from summarize.corpus import Corpus
from summarize.models import Article, Sentence
from summarize.story.facts import FactGroup, is_bare_quote, is_first_person, repeats
from summarize.story.readable import opens_on_pronoun, readable, resolve_speaker
from summarize.support.neutral import loaded_wording, subjective_words
from summarize.text.speakers import pronoun_speaker, speakers
from summarize.text.values import extract_values, quote_spans, quoted
from summarize.text.words import content_keys, content_words

WORDS = 125  # the brief's length in words by default (the human roundups' median)
OVERSHOOT = 15  # a last fact may pass the budget by this many words
NEW_WORD = 0.3  # weight of a word one article alone uses (corroborated words add 1 per outlet)
POSITION_DECAY = 0.3  # a fact's weight falls as 1 / (1 + decay * its rank in the article)
LEDE_POSITIONS = 2  # the lede comes from an article's first two fact sentences
LEDE_OUTLET = 0.5  # lede: each further outlet reporting it adds half to its corroboration
LEDE_LENGTH_POWER = 0.5  # lede: corroborated words per (words ** this): short and dense
SAME_MEANING = 0.75  # MiniLM cosine at which two sentences state the same fact ...
SAME_WORDS = 0.4  # ... when they also share this share of the shorter one's content words
SAME_SPEAKER_MEANING = 0.5  # ... or two reactions of one person, or one amount twice
OPINION_FACTOR = 0.5  # an opinion piece's sentence counts half
NEW_VOICE = 1.5  # a reaction of someone the brief has not yet heard counts more ...
SAME_VOICE = 0.5  # ... and one more of the same person less
LATER_MEMBER = 0.2  # wording: each place after an article's opening weighs like 20% own words

ROLES = ("lede", "detail", "reaction", "background")

_SPEECH = re.compile(
    r"\b(?:said|says|say|told|tells|according to|added|stated|wrote|writes|argued|argues|"
    r"warned|urged|called|claimed|insisted|noted|asked|tweeted|testified|declared|"
    r"announced|responded|criticized|criticised|praised|defended|accused)\b",
    re.I,
)
_BACKGROUND = re.compile(
    r"\b(?:last (?:year|month|decade)|(?:a|two|three|several) (?:years|decades) ago|"
    r"previously|has long|had long|since (?:19|20)\d\d|in (?:19\d\d|200\d|201\d)|"
    r"was founded|was built|first (?:opened|introduced))\b",
    re.I,
)
_OPINION_MARK = re.compile(
    r"\b(?:opinion|editorial|op-ed|oped|commentary|column|columnist|analysis|perspective|"
    r"viewpoint)s?\b",
    re.I,
)
_WHY_SHOULD = re.compile(r"^\s*Why\b.*\b(?:should|must|needs? to)\b", re.I)
_NORMATIVE = re.compile(
    r"\b(?:should|must|ought to|needs? to|the best thing|it is time|it's time)\b", re.I
)
_SECOND_PERSON = re.compile(r"\b(?:you|your|yours)\b", re.I)


@dataclass
class Fact:
    """One fact of the brief: its group, the member whose words it uses, the text shown."""

    group: FactGroup
    member: Sentence
    text: str
    role: str = "detail"
    opinion: bool = False
    position: int = 0
    gain: float = 0.0
    # the lede only: an opening fact more corroborated than it whose every wording states
    # a value the outlets disagree on; the model may word it without that value
    rival: FactGroup | None = None


def _outside_quotes(text: str) -> str:
    out = text
    for a, b in reversed(quote_spans(text)):
        out = out[:a] + " " + out[b:]
    return out


def writes_opinion(text: str) -> bool:
    """The writer's own view: first or second person, or a normative voice ("should",
    "the best thing ... is"), outside quotations and not reported speech."""
    outside = _outside_quotes(text)
    if _SPEECH.search(outside):
        return False
    return (
        is_first_person(text)
        or bool(_SECOND_PERSON.search(outside))
        or bool(_NORMATIVE.search(outside))
    )


def is_opinion_piece(article: Article, sentences: list[Sentence]) -> bool:
    """Marked opinion by its outlet, title or address, titled "Why ... should ...", or
    written in the writer's own opinionated voice in two sentences or more (quotations,
    which may run over several sentences, left out)."""
    marks = " ".join([article.outlet, article.title, article.url or ""])
    if _OPINION_MARK.search(marks) or _WHY_SHOULD.match(article.title or ""):
        return True
    quotes = quote_spans(article.text)
    own = 0
    for s in sentences:
        if _inside_open_quote(article.text, s.start):
            continue  # a quotation that runs on (and may never close in an excerpt)
        outside = s.text
        for a, b in quotes:  # blank what lies inside a quotation of the whole text
            lo, hi = max(a, s.start) - s.start, min(b, s.end) - s.start
            if lo < hi:
                outside = outside[:lo] + " " * (hi - lo) + outside[hi:]
        own += writes_opinion(outside)
    return own >= 2


def _inside_open_quote(text: str, start: int) -> bool:
    """True when `start` lies inside a quotation opened earlier in its paragraph, or the
    sentence there opens one: "“California has been my home." / "I came here ..."."""
    paragraph = text[text.rfind("\n", 0, start) + 1 : start]
    curly = paragraph.count("“") - paragraph.count("”")
    straight = paragraph.count('"') % 2
    return curly > 0 or straight == 1 or text[start : start + 1] in '“"'


def opinion_articles(corpus: Corpus) -> set[str]:
    """Ids of the corpus's opinion pieces."""
    out = set()
    for article in corpus.lettered:
        own = [s for s in corpus.usable if s.article_id == article.id]
        if is_opinion_piece(article, own):
            out.add(article.id)
    return out


def role_of(text: str) -> str:
    """reaction (someone's words), background (earlier events), or detail."""
    if quoted(text) or _SPEECH.search(text) or is_bare_quote(text):
        return "reaction"
    if _BACKGROUND.search(text):
        return "background"
    return "detail"


def _weights(corpus: Corpus) -> dict[str, int]:
    """How many articles use each content word (stem) in their usable sentences."""
    df: dict[str, int] = {}
    for article in corpus.lettered:
        keys = {
            k for s in corpus.usable if s.article_id == article.id for k in content_keys(s.text)
        }
        for k in keys:
            df[k] = df.get(k, 0) + 1
    return df


def _neutral_rank(text: str, others: list[str]) -> tuple:
    """Sort key: fewer subjective or loaded words, more words the other outlets share,
    shorter."""
    mine = set(content_keys(text))
    theirs = {k for o in others for k in content_keys(o)}
    own_colour = len(mine - theirs) / max(1, len(mine)) if theirs else 0.0
    return (len(subjective_words(text)) + len(loaded_wording(text)), own_colour, len(text))


def wording(
    group: FactGroup, corpus: Corpus, positions: dict[str, int] | None = None
) -> tuple[Sentence, str] | None:
    """The group's most neutral member that a reader can read on its own, with its text
    (lead-in dropped, pronoun speaker resolved); None when no member is readable. Among
    equally neutral members, an article's opening sentence (written to stand alone)
    comes first."""
    positions = positions or {}
    options: list[tuple[tuple, Sentence, str]] = []
    texts = [s.text for s in group.usable]
    for member in group.usable:
        shown = readable(member)
        if shown is None:
            continue
        text = shown.text
        if not has_main_verb(text):  # "Republican Sen. Josh Hawley the only senator to ..."
            continue
        if pronoun_speaker(text):
            text = resolve_speaker(member, corpus, text)
            if text is None:
                continue
        elif opens_on_pronoun(text):
            continue
        others = [t for t in texts if t != member.text]
        subjective, colour, length = _neutral_rank(text, others)
        later = min(positions.get(member.id, 0), 3) * LATER_MEMBER
        options.append(((subjective, colour + later, length), member, text))
    if not options:
        return None
    _, member, text = min(options, key=lambda o: o[0])
    return member, text


def _surnames(text: str) -> set[str]:
    """The last names of the people `text` reports speaking ("Mao Ning" and "Mao": Ning,
    Mao; a surname first in Chinese style is matched by either word)."""
    return {w for name in speakers(text) for w in name.split()[-2:]}


def _title_weights(corpus: Corpus, opinions: set[str]) -> dict[str, int]:
    """How many news articles' headlines use each content word (stem)."""
    out: dict[str, int] = {}
    for article in corpus.lettered:
        if article.id not in opinions:
            for k in set(content_keys(article.title or "")):
                out[k] = out.get(k, 0) + 1
    return out


# words that tie a sentence to the one before it: no story opens on them
_CONNECTIVES = frozenset(
    [
        "but",
        "and",
        "or",
        "so",
        "yet",
        "however",
        "although",
        "though",
        "while",
        "meanwhile",
        "still",
        "also",
        "instead",
        "because",
        "since",
        "if",
        "as",
    ]
)


def lede_shaped(text: str) -> bool:
    """A statement that can open a story: its main verb has a subject that is no pronoun,
    and it does not open on a connective ("But ...", "Although ..."). Without the parser,
    only the connective is checked."""
    first = re.match(r"\W*(\w+)", text)
    if first is None or first.group(1).lower() in _CONNECTIVES:
        return False
    from summarize.support.structure import parse

    docs = parse([text])
    if not docs:
        return True
    roots = [t for t in docs[0] if t.dep_ == "ROOT"]
    if not roots or roots[0].pos_ not in ("VERB", "AUX"):
        return False
    subjects = [c for c in roots[0].children if c.dep_ in ("nsubj", "nsubjpass", "csubj")]
    return any(c.pos_ != "PRON" for c in subjects)


def _shared(a: str, b: str) -> float:
    """Content words two texts share, over the shorter one's."""
    wa, wb = content_words(a), content_words(b)
    return len(wa & wb) / min(len(wa), len(wb)) if wa and wb else 0.0


def has_main_verb(text: str) -> bool:
    """The sentence's head is a verb: it states something ("Republican Sen. Josh Hawley
    the only senator to vote against it." does not). True when the parser is unavailable."""
    from summarize.support.structure import parse

    docs = parse([text])
    return not docs or any(t.dep_ == "ROOT" and t.pos_ in ("VERB", "AUX") for t in docs[0])


def has_verb(text: str) -> bool:
    """The text says something happened or is so (a verb), rather than naming a topic
    ("Biden's first 100 days"). True when the parser is unavailable."""
    from summarize.support.structure import parse

    docs = parse([text])
    return not docs or any(t.pos_ in ("VERB", "AUX") for t in docs[0])


def _values(text: str) -> set[str]:
    """Amounts and numbers of two or more digits (a fact's own values: "$568 billion")."""
    return {v.key for v in extract_values(text) if v.kind == "number" and len(v.key) > 1}


def _positions(corpus: Corpus, candidates: list[Sentence]) -> dict[str, int]:
    """Each candidate sentence's rank among its article's candidate sentences."""
    seen: dict[str, int] = {}
    out = {}
    for s in candidates:
        out[s.id] = seen.get(s.article_id, 0)
        seen[s.article_id] = out[s.id] + 1
    return out


def _embeddings(texts: list[str]) -> np.ndarray | None:
    try:
        from summarize.model.embed import embed

        return embed(texts)
    except Exception:  # no embedding model: word overlap alone decides repeats
        return None


def plan(
    groups: list[FactGroup],
    corpus: Corpus,
    *,
    words: int = WORDS,
    max_facts: int = 8,
    reported_by: Callable[[str], int] | None = None,
) -> list[Fact]:
    """The brief's facts in reading order (see the module doc). `reported_by(text)`:
    how many outlets report a text (the validator, article by article); without it, how
    many outlets the fact's group holds."""
    opinions = opinion_articles(corpus)
    members = sorted(
        (s for g in groups for s in g.members), key=lambda s: corpus.sentences.index(s)
    )
    positions = _positions(corpus, members)
    df = _weights(corpus)
    facts: list[Fact] = []
    for group in groups:
        if group.disputed or not group.usable:
            continue
        chosen = wording(group, corpus, positions)
        if chosen is None:
            continue
        member, text = chosen
        opinion = member.article_id in opinions or writes_opinion(text)
        if group.n_outlets == 1 and is_bare_quote(text):
            continue  # whose words? an opinion with no holder is never stated
        position = min(positions.get(s.id, 0) for s in group.usable)
        facts.append(Fact(group, member, text, role_of(text), opinion, position))
    if not facts:
        return []
    vectors = _embeddings([f.text for f in facts])
    row = {id(f): i for i, f in enumerate(facts)}  # each fact's row in `vectors`

    def same_as(f: Fact, chosen: list[Fact]) -> bool:
        for c in chosen:
            if repeats(f.text, c.text):
                return True
            if vectors is not None:
                cosine = float(vectors[row[id(f)]] @ vectors[row[id(c)]])
                same_person = f.role == c.role == "reaction" and set(speakers(f.text)) & set(
                    speakers(c.text)
                )
                same_value = _values(f.text) & _values(c.text)
                close = cosine >= SAME_MEANING and _shared(f.text, c.text) >= SAME_WORDS
                if close or ((same_person or same_value) and cosine >= SAME_SPEAKER_MEANING):
                    return True
        return False

    heard: set[str] = set()  # people whose words the brief already reports

    def gain(f: Fact, covered: set[str]) -> float:
        keys = set(content_keys(f.text)) - covered
        value = sum((df.get(k, 1) - 1) + NEW_WORD for k in keys)
        value /= max(1, len(f.text.split())) ** 0.5
        value /= 1 + POSITION_DECAY * f.position
        if f.role == "reaction" and speakers(f.text):  # each side heard once, then others
            value *= NEW_VOICE if not _surnames(f.text) & heard else SAME_VOICE
        return value * (OPINION_FACTOR if f.opinion else 1.0)

    titles = _title_weights(corpus, opinions)

    def corroboration(f: Fact) -> float:
        """Words other outlets (and the news articles' headlines) use too, per word of
        text (the square root of its length)."""
        keys = set(content_keys(f.text))
        shared = sum(df.get(k, 1) - 1 + titles.get(k, 0) for k in keys)
        return shared / max(1, len(f.text.split())) ** LEDE_LENGTH_POWER

    # the lede: the most corroborated opening fact that is news (no quotation, no view, no
    # background; "X announced ..." is news) and a whole statement; failing that, any
    # such fact, then any fact
    news = [
        f
        for f in facts
        if f.role != "background" and not f.opinion and not quoted(f.text) and lede_shaped(f.text)
    ]
    openers = (
        [f for f in news if f.position < LEDE_POSITIONS]
        or news
        or [f for f in facts if not f.opinion]
        or facts
    )

    def outlets(f: Fact) -> int:
        return reported_by(f.text) if reported_by else f.group.n_outlets

    def lede_score(f: Fact) -> float:
        return corroboration(f) * (1 + LEDE_OUTLET * (outlets(f) - 1))

    lede = max(openers, key=lede_score)
    lede.role = "lede"
    disputed = [
        Fact(g, g.members[0], g.members[0].text, position=positions.get(g.members[0].id, 0))
        for g in groups
        if g.disputed and positions.get(g.members[0].id, LEDE_POSITIONS) < LEDE_POSITIONS
    ]
    rivals = [f for f in disputed if lede_score(f) > lede_score(lede)]
    lede.rival = max(rivals, key=lede_score).group if rivals else None
    chosen = [lede]
    covered = set(content_keys(lede.text))
    count = len(lede.text.split())
    while count < words and len(chosen) < max_facts:
        best, best_gain = None, 0.0
        for f in facts:
            if f in chosen or count + len(f.text.split()) > words + OVERSHOOT:
                continue
            g = gain(f, covered)
            if g > best_gain and not same_as(f, chosen):
                best, best_gain = f, g
        if best is None:
            break
        best.gain = best_gain
        chosen.append(best)
        heard |= _surnames(best.text)
        covered |= set(content_keys(best.text))
        count += len(best.text.split())
    order = {role: i for i, role in enumerate(ROLES)}
    return sorted(chosen, key=lambda f: (order[f.role], f.position, -f.gain))
