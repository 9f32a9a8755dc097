"""A small, transparent neutrality guard for summary sentences and headlines.

The validator checks that a sentence's words are in a source, which a loaded
sentence copied from one outlet's own voice passes ("the latest cash grab on the
city's hard-pressed riders"). Neutral means: no loaded words the sources do not
use, opinions attributed to whoever holds them, each side's claims reported as
claims. So a sentence that uses a term of `LOADED` without attributing it is not
acceptable, whichever outlet wrote it; `check_sentence` (repair.py) makes such a
verdict unsupported with the reason from `neutrality_problem`, so it goes to the
repair round and, still loaded, is removed with that reason.

Attributed means the sentence says whose words they are: a speech or opinion verb
("said", "called", "described ... as", "argued", "according to") or the term inside
quotation marks. The lexicon is short on purpose: each entry is a word or phrase that
takes a side in news copy whatever the story. Mild, common headline words ("hike",
"slash") are left out: flagging them would remove fair sentences.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache

from summarize.models import Article
from summarize.text.segment import split_sentences
from summarize.text.values import quote_spans

# Loaded or opinion wording: each entry is a regular expression over lower-case text.
LOADED: dict[str, str] = {
    "cash grab": r"cash[- ]grabs?",
    "rammed through": r"ram(?:s|med|ming)? through",
    "spendthrift": r"spendthrift",
    "bloated": r"bloated",
    "hard-pressed": r"hard[- ]pressed",
    "slammed": r"slam(?:s|med)",
    "blasted": r"blast(?:s|ed)(?! (?:through|open|off|away))",
    "radical": r"radicals?",
    "regime": r"regimes?",
    # "pension scheme" is fine; these are not
    "scheme": r"(?:cash|pet|vanity|ponzi|hare-brained|crackpot) schemes?",
    "so-called": r"so[- ]called",
    "shocking": r"shocking(?:ly)?",
    "disastrous": r"disastrous(?:ly)?",
    "draconian": r"draconian",
    "reckless": r"reckless(?:ly)?",
    "outrageous": r"outrageous(?:ly)?",
    "scandalous": r"scandalous(?:ly)?",
    "fat cats": r"fat[- ]cats?",
    "whopping": r"whopping",
    "furious": r"furious(?:ly)?",
    "terror": r"terror(?! attack| group| suspect)",
    "chaos": r"chaos|chaotic",
    "a small mercy": r"small mercy",
    "fumed": r"fumed|fuming",
    "insisted": r"insist(?:s|ed)",
    "raid": r"raid(?:s|ed|ing)? (?:the|its|their|our|a) [\w' ]{0,20}"
    r"(?:fund|reserves?|budget|coffers)",
}
_LOADED = {term: re.compile(rf"\b(?:{rx})\b", re.I) for term, rx in LOADED.items()}

# The sentence says whose words they are.
_ATTRIBUTION = re.compile(
    r"\b(?:said|says|say|told|called|calls|call(?:ing)?|described|describes|describing"
    r"|argued|argues|claimed|claims|accused|accuses|warned|warns|branded|brands|labell?ed"
    r"|dubbed|criticis(?:ed|es)|criticiz(?:ed|es)|wrote|writes|according to|in the words of"
    r"|in (?:his|her|their) view"
    r"|(?:he|she|they|critics|opponents|supporters) (?:believe|think)s?)\b",
    re.I,
)
_SO_CALLED = re.compile(r"\bso[- ]called\b", re.I)


@dataclass
class LoadedWording:
    term: str  # the lexicon entry
    written: str  # as written in the sentence


def is_attributed(sentence: str, start: int, end: int) -> bool:
    """True when the words at `[start, end)` are quoted or the sentence names whose they are."""
    if any(qs <= start and end <= qe for qs, qe in quote_spans(sentence)):
        return True
    return bool(_ATTRIBUTION.search(_SO_CALLED.sub(" ", sentence)))  # "so-called" names nobody


def loaded_wording(text: str) -> list[LoadedWording]:
    """Loaded terms of `text` used without attribution, in order of appearance."""
    found: list[tuple[int, LoadedWording]] = []
    for a, b in split_sentences(text) or [(0, len(text))]:
        sentence = text[a:b]
        for term, rx in _LOADED.items():
            for m in rx.finditer(sentence):
                if not is_attributed(sentence, m.start(), m.end()):
                    found.append((a + m.start(), LoadedWording(term, m.group())))
                    break
    return [w for _, w in sorted(found, key=lambda x: x[0])]


def _users(term: str, articles: list[Article]) -> tuple[list[str], list[str]]:
    """Outlets that use the term in their own voice, and those that use it only attributed."""
    own: list[str] = []
    attributed: list[str] = []
    rx = _LOADED[term]
    for article in articles:
        label = article.label
        for a, b in split_sentences(article.text):
            if article.is_debris(a, b):
                continue
            sentence = article.text[a:b]
            for m in rx.finditer(sentence):
                if not is_attributed(sentence, m.start(), m.end()):
                    if label not in own:
                        own.append(label)
                elif label not in attributed:
                    attributed.append(label)
    return own, [o for o in attributed if o not in own]


def _names(labels: list[str]) -> str:
    names = [f"{n}'" if n.endswith("s") else f"{n}'s" for n in labels]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def neutrality_problem(text: str, articles: list[Article] | None = None) -> str | None:
    """Why `text` is not neutral (unattributed loaded wording, and whose wording it is), or None."""
    reasons: list[str] = []
    for w in loaded_wording(text):
        own, attributed = _users(w.term, articles or [])
        if own:
            reasons.append(f"'{w.written}' is {_names(own)} wording, not attributed")
        elif attributed:
            reasons.append(
                f"'{w.written}' is quoted opinion in {', '.join(attributed)}, not attributed here"
            )
        else:
            reasons.append(f"'{w.written}' is loaded wording, not attributed")
    return "; ".join(reasons) or None


# ---------------------------------------------------------------- subjective wording by lexicon

# A word is subjective when TextBlob's lexicon (the Pattern project's hand-annotated
# English adjectives, with polarity and subjectivity per word; MIT) rates it strongly
# subjective and clearly for or against, and the sentence uses it as an adjective or
# adverb (spaCy's tag): "controversial", "shocking", "disastrous". The tag keeps
# "hate" in "hate crimes" and "rose" the verb out. Used to choose the most neutral
# wording of a fact; `loaded_wording` above stays the policy's short list.
SUBJECTIVITY = 0.9
POLARITY = 0.5


_LEXICON_LOCK = threading.Lock()  # stories run in threads: one loads, the others wait


@lru_cache(maxsize=1)
def _lexicon() -> dict[str, tuple[float, float]]:
    with _LEXICON_LOCK:
        return _load_lexicon()


def _load_lexicon() -> dict[str, tuple[float, float]]:
    try:
        from textblob.en import sentiment
    except ImportError:  # a trimmed install: no lexicon, nothing is flagged
        return {}
    sentiment.load()  # fills a shared dict lazily: never read it half-filled
    out = {}
    for word, senses in sentiment.items():
        polarity, subjectivity, _ = senses.get(None, next(iter(senses.values())))
        if subjectivity >= SUBJECTIVITY and abs(polarity) >= POLARITY:
            out[word.lower()] = (polarity, subjectivity)
    return out


@lru_cache(maxsize=4096)
def subjective_words(text: str) -> tuple[str, ...]:
    """Strongly subjective adjectives and adverbs of `text` in its own voice: outside
    quotation marks, in a sentence that does not say whose words they are."""
    lexicon = _lexicon()
    if not lexicon or not any(w in lexicon for w in re.findall(r"[a-z]+", text.lower())):
        return ()
    from summarize.support.structure import parse

    found = []
    for a, b in split_sentences(text) or [(0, len(text))]:
        sentence = text[a:b]
        docs = parse([sentence])
        for token in docs[0] if docs else []:
            if token.pos_ not in ("ADJ", "ADV") or token.text.lower() not in lexicon:
                continue
            if not is_attributed(sentence, token.idx, token.idx + len(token.text)):
                found.append(token.text)
    return tuple(found)
