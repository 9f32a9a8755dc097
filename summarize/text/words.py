"""Words: tokens, stems, stopwords and content-word keys, one implementation for the package.

Stems come from the Snowball English (Porter2) stemmer (`snowballstemmer`): they
only need to be the same on both sides of a comparison ("closed", "closes" ->
"close"; "announcement", "announced" -> "announc").
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator
from functools import lru_cache

import snowballstemmer

# One English list: function words, reporting verbs ("said", "according") and a few
# words too common in news copy to tell two facts apart ("one", "new").
_STOP_TEXT = """
a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from
further had has have having he her here hers herself him himself his how i if in into is it
its itself just me more most my myself no nor not of off on once only or other our ours
ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours yourself yourselves
said says say saying told tells tell according will shall may might must us mr mrs ms s t
don't won't can't isn't wasn't didn't doesn't aren't weren't hasn't haven't hadn't couldn't
wouldn't shouldn't it's he's she's they're we're i'm that's there's who's let's one also new
"""
STOPWORDS = frozenset(_STOP_TEXT.split())

_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def tokens(text: str) -> list[str]:
    """Lowercased word tokens; apostrophes kept inside words ("don't")."""
    return [t.replace("’", "'") for t in _TOKEN.findall(text.lower())]


def token_spans(text: str) -> Iterator[re.Match]:
    """The word tokens of `text` as written (case kept), with their offsets."""
    return _TOKEN.finditer(text)


# a contraction split off by a tokenizer ("we 're", "did n't"), as in pre-tokenized corpora
_SPLIT_CONTRACTION = re.compile(r"(?<=\w)\s+(?=['’](?:re|s|ll|ve|d|m)\b|n['’]t\b)", re.I)


def token_string(text: str) -> str:
    """ " w1 w2 ... ": the tokens joined by single spaces, for phrase containment tests
    ("we 're" and "we're" give the same string)."""
    return " " + " ".join(tokens(_SPLIT_CONTRACTION.sub("", text))) + " "


def word_set(text: str) -> set[str]:
    """The distinct tokens of `text`."""
    return set(tokens(text))


def content_words(text: str) -> set[str]:
    """The distinct tokens of `text` that are neither stopwords nor a single character."""
    return {t for t in tokens(text) if t not in STOPWORDS and len(t) > 1}


_local = threading.local()  # a Snowball stemmer keeps state while it works: one per thread


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball English stem of `word` (lowercased, curly apostrophe made straight)."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = snowballstemmer.stemmer("english")
    return stemmer.stemWord(word.lower().replace("’", "'"))


def content_keys(text: str) -> list[str]:
    """Stems of the content words of `text` (stopwords and bare numbers dropped)."""
    return [stem(t) for t in tokens(text) if t not in STOPWORDS and not t.isdigit()]


def prefixes(keys: Iterable[str]) -> set[str]:
    """The 6-letter prefixes of the keys that have six letters or more (for `key_found`)."""
    return {k[:6] for k in keys if len(k) >= 6}


def key_found(key: str, keys: set[str], prefixes: set[str]) -> bool:
    """Exact stem match, a shared 6-letter prefix ("announcement" ~ "announced"),
    or a demonym of a place in the keys ("asian" ~ "asia", "korean" ~ "korea")."""
    if key in keys or (len(key) >= 6 and key[:6] in prefixes):
        return True
    return key.endswith("an") and len(key) > 4 and (key[:-1] in keys or key[:-2] in keys)


def shorten(text: str, n: int = 60) -> str:
    """`text` cut to `n` characters with an ellipsis, for notes that quote a sentence."""
    return text if len(text) <= n else text[: n - 1] + "…"
