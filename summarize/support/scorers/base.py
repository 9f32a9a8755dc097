"""The scorer protocol and registry: `--scorer NAME` picks one.

A scorer gets the claim, the retriever's ranked candidates (best first, cited
ones first) and the articles, chooses the supporting sentences among the
candidates and returns a `Verdict` (spans, score in [0, 1], reasons). Keeping
span choice inside the scorer lets a cross-encoder or an LLM judge pick its
own evidence.

A scorer may also define `score_summary(sentences, candidates, articles, sources)
-> list[Verdict]` (`candidates[i]` for `sentences[i]`): `Validator.validate` then
judges a whole summary with one call to it (the `llm-judge` scorer: one model
request per summary). Its `score` must still judge one claim on its own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from summarize.models import Article, Sentence, Span, Verdict
from summarize.support.checks import STOPWORDS as _STOP
from summarize.support.checks import Evidence, key_found, stem, tokens
from summarize.support.retrieve import Candidate


@runtime_checkable
class Scorer(Protocol):
    name: str
    threshold: float  # score >= threshold means supported

    def score(
        self,
        claim: str,
        candidates: Sequence[Candidate],
        articles: Sequence[Article],
        sources: Evidence | None = None,
    ) -> Verdict:
        """Judge `claim` against `candidates`; `sources` is the reusable evidence
        of all articles (debris excluded) when the caller has it."""
        ...


@runtime_checkable
class SummaryScorer(Scorer, Protocol):
    """A scorer that judges all sentences of a summary at once."""

    def score_summary(
        self,
        sentences: Sequence[str],
        candidates: Sequence[Sequence[Candidate]],
        articles: Sequence[Article],
        sources: Evidence | None = None,
    ) -> list[Verdict]: ...


_REGISTRY: dict[str, Callable[..., Scorer]] = {}


def register(name: str) -> Callable[[Callable[..., Scorer]], Callable[..., Scorer]]:
    def wrap(factory: Callable[..., Scorer]) -> Callable[..., Scorer]:
        _REGISTRY[name] = factory
        return factory

    return wrap


def available() -> list[str]:
    _load_builtin()
    return sorted(_REGISTRY)


def get_scorer(name: str = "rules", **options) -> Scorer:
    """A scorer by name; unknown names raise ValueError listing the known ones."""
    _load_builtin()
    if name not in _REGISTRY:
        raise ValueError(f"unknown scorer {name!r}; available: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name](**options)


def needs_model(name: str) -> bool:
    """True when the named scorer asks a language model (takes `client=` / `settings=`)."""
    _load_builtin()
    return bool(getattr(_REGISTRY.get(name), "uses_model", False))


def _load_builtin() -> None:
    from summarize.support.scorers import judge, rules  # noqa: F401  (register "llm-judge" and "rules")

    with contextlib.suppress(ImportError):
        from summarize.support.scorers import learned  # noqa: F401  (registers "learned")
    with contextlib.suppress(ImportError):
        from summarize.support.scorers import nli  # noqa: F401  (registers "nli")


def no_candidates(scorer: str) -> Verdict:
    """The verdict when retrieval found no usable (non-debris) source sentence."""
    return Verdict(
        supported=False, score=0.0, reasons=["no usable source sentences"], scorer=scorer
    )


def support_spans(support: Sequence[Sentence], articles: Sequence[Article]) -> list[Span]:
    """The chosen source sentences as spans quoting their articles."""
    by_id = {a.id: a for a in articles}
    return [by_id[s.article_id].span(s.start, s.end) for s in support]


def cover_keys(text: str) -> set[str]:
    """What a support must cover: content-word stems and bare numbers."""
    return {stem(t) for t in tokens(text) if t not in _STOP}


def select_support(
    claim: str, candidates: Sequence[Candidate], max_units: int = 3
) -> list[Sentence]:
    """The fewest source sentences among `candidates` that cover the claim.

    Start from the best candidate, add the candidate (any article; on a tie,
    one from an article already chosen) covering most still-uncovered words
    while it adds at least one, then drop sentences
    whose removal loses nothing. A fused claim thus cites each article it uses.
    """
    if not candidates:
        return []
    want = cover_keys(claim)

    def covered(keys: set[str], prefixes: set[str]) -> set[str]:
        return {k for k in want if key_found(k, keys, prefixes)}

    def unit_cover(c: Candidate) -> set[str]:
        keys = cover_keys(c.text)
        return covered(keys, {k[:6] for k in keys if len(k) >= 6})

    covers = [unit_cover(c) for c in candidates]
    chosen = [0]
    got = set(covers[0])
    while len(chosen) < max_units:
        # ties go to an article already cited (fewer sources, pronouns resolved nearby)
        cited = {candidates[i].article_id for i in chosen}
        gains = [
            (len(cv - got), candidates[i].article_id in cited, -i)
            for i, cv in enumerate(covers)
            if i not in chosen
        ]
        if not gains:
            break
        gain, _, neg_i = max(gains)
        if gain < 1:
            break
        chosen.append(-neg_i)
        got |= covers[-neg_i]
    sentences: list[Sentence] = []
    for i in chosen:
        sentences += [s for s in candidates[i].sentences if s not in sentences]
    # minimality: drop a sentence when the rest cover as much
    for s in sorted(sentences, key=lambda s: len(cover_keys(s.text) & want)):
        rest = [t for t in sentences if t is not s]
        if rest and _cover_of(rest, want) >= _cover_of(sentences, want):
            sentences = rest
    return sentences


def _cover_of(sentences: Sequence[Sentence], want: set[str]) -> int:
    keys = set().union(*(cover_keys(s.text) for s in sentences))
    prefixes = {k[:6] for k in keys if len(k) >= 6}
    return sum(key_found(k, keys, prefixes) for k in want)
