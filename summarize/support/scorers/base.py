"""The scorer protocol and registry: `--scorer NAME` picks one.

A scorer gets the claim and what retrieval found for it (`Retrieval`: ranked
candidates, best first and cited ones first, the articles and the sources'
evidence), chooses the supporting sentences among the candidates and *proposes*
a `Verdict` (spans, score in [0, 1], reasons). Keeping span choice inside the
scorer lets a cross-encoder or an LLM judge pick its own evidence; the decision
is `support/policy.py`'s, after every scorer.

A scorer may also define `score_summary(claims, found) -> list[Verdict]`
(`found[i]` for `claims[i]`): `Validator.validate` then judges a whole summary
with one call to it (the `llm-judge` scorer: one model request per summary). Its
`score` must still judge one claim on its own.

Scorers are plugins: each is an entry point in the `summarize.scorers` group
(pyproject.toml), `name = "module:Factory"`, the built-in ones included. Another
package adds a scorer by declaring one there; `get_scorer(name)` imports only that
scorer's module, and one whose import fails is reported by `unavailable()` (and in
the unknown-name error) without breaking the others.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from summarize.models import Article, Sentence, Span, Verdict
from summarize.support.checks import NOT_TO_COVER
from summarize.support.retrieve import Candidate, Retrieval
from summarize.text.words import key_found, stem, tokens


@runtime_checkable
class Scorer(Protocol):
    name: str
    threshold: float  # score >= threshold means supported

    def score(self, claim: str, found: Retrieval) -> Verdict:
        """Propose a verdict on `claim` from what retrieval `found` for it."""
        ...


@runtime_checkable
class SummaryScorer(Scorer, Protocol):
    """A scorer that judges all sentences of a summary at once."""

    def score_summary(self, claims: Sequence[str], found: Sequence[Retrieval]) -> list[Verdict]:
        """Proposals for every claim (`found[i]` for `claims[i]`), judged together."""
        ...


GROUP = "summarize.scorers"
"""The entry-point group a scorer plugin declares itself in (pyproject.toml):
`[project.entry-points."summarize.scorers"]` `NAME = "package.module:Factory"`."""

# scorers added in-process by `register` (tests, notebooks); they shadow entry points
_EXTRA: dict[str, Callable[..., Scorer]] = {}


class ScorerUnavailable(ValueError):
    """A scorer that is declared but whose entry point fails to load."""


def register(name: str) -> Callable[[Callable[..., Scorer]], Callable[..., Scorer]]:
    """Add an in-process scorer factory under `name` (shadows an entry point of that
    name). Installed scorers come from entry points; this is for tests and notebooks."""

    def wrap(factory: Callable[..., Scorer]) -> Callable[..., Scorer]:
        _EXTRA[name] = factory
        return factory

    return wrap


def unregister(name: str) -> None:
    """Drop an in-process scorer added by `register` (no-op when absent)."""
    _EXTRA.pop(name, None)


def scorer_entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    """The declared scorers by name: `summarize.scorers` entry points of all installed
    distributions. Nothing is imported."""
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=GROUP)}


def _load(name: str, entry: importlib.metadata.EntryPoint) -> Callable[..., Scorer]:
    """Import the one module `entry` names and return its factory."""
    try:
        return entry.load()
    except Exception as exc:  # a broken plugin must not take the others down
        raise ScorerUnavailable(
            f"scorer {name!r} ({entry.value}) is unavailable: {type(exc).__name__}: {exc}"
        ) from exc


def _scan() -> tuple[dict[str, Callable[..., Scorer]], dict[str, str]]:
    """Load every declared scorer: (factories that loaded, {name: error} for the rest)."""
    loaded: dict[str, Callable[..., Scorer]] = {}
    failed: dict[str, str] = {}
    for name, entry in scorer_entry_points().items():
        if name in _EXTRA:
            continue
        try:
            loaded[name] = _load(name, entry)
        except ScorerUnavailable as exc:
            failed[name] = str(exc)
    loaded.update(_EXTRA)
    return loaded, failed


def available() -> list[str]:
    """Names of the scorers that load (entry points plus `register`ed ones), sorted."""
    return sorted(_scan()[0])


def unavailable() -> dict[str, str]:
    """Declared scorers whose entry point fails to load, with the error of each."""
    return _scan()[1]


def scorer_factory(name: str) -> Callable[..., Scorer]:
    """The factory (usually the class) of the named scorer; loads only its module.

    Unknown names raise ValueError listing the available scorers (and the unavailable
    ones with their errors); a declared scorer that fails to load raises
    `ScorerUnavailable` (a ValueError) with the import error."""
    if name in _EXTRA:
        return _EXTRA[name]
    declared = scorer_entry_points()
    if name in declared:
        return _load(name, declared[name])
    loaded, failed = _scan()
    message = f"unknown scorer {name!r}; available: {', '.join(sorted(loaded)) or 'none'}"
    if not declared:
        message += (
            f" (no {GROUP!r} entry points are installed: reinstall the package, "
            "e.g. `pip install -e .`, so that its metadata declares them)"
        )
    if failed:
        message += "; unavailable: " + "; ".join(failed[n] for n in sorted(failed))
    raise ValueError(message)


def get_scorer(name: str = "calibrated", **options) -> Scorer:
    """A scorer by name, built with `options`; unknown names raise ValueError listing the
    available ones."""
    return scorer_factory(name)(**options)


def needs_model(name: str) -> bool:
    """True when the named scorer asks a language model (takes `client=` / `settings=`).
    False for an unknown or unavailable name (`get_scorer` then says what is wrong)."""
    try:
        factory = scorer_factory(name)
    except ValueError:
        return False
    return bool(getattr(factory, "uses_model", False))


def support_spans(support: Sequence[Sentence], articles: Sequence[Article]) -> list[Span]:
    """The chosen source sentences as spans quoting their articles."""
    by_id = {a.id: a for a in articles}
    return [by_id[s.article_id].span(s.start, s.end) for s in support]


def cover_keys(text: str) -> set[str]:
    """What a support must cover: content-word stems and bare numbers."""
    return {stem(t) for t in tokens(text) if t not in NOT_TO_COVER}


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
