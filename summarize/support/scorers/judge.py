"""The `llm-judge` scorer: the configured model judges a whole summary in one call.

The judge is shown the retrieved candidate sentences of every summary sentence
(numbered with their ids, inside `<sources>`, neutralised like story prompts) and
the summary sentences, and answers one structured verdict per sentence with quoted
evidence. The judge is never trusted: a "supported" verdict counts only when every
quote is found, exactly or after whitespace/quote-mark normalisation, inside the
named source sentence (or elsewhere in that article's non-debris text); the spans
are those located quotes, cut from the article text. A supported sentence that
names a number, date or name found in no source, or misquotes one, is then vetoed
by `support/policy.py`, as after every scorer. Anything else is unsupported with
the reason. A failed call (after the client's retries) leaves every sentence
unsupported, with the failure as its reason.

The model is the one `summarize story` uses: a given `ModelClient`, or one opened
from `Settings` (flags, env, config file; the embedded model when none is configured)
on first use and kept until `close()`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field, create_model, field_validator

from summarize.corpus import parse_ids
from summarize.model.templates import (
    JUDGE_TEMPLATE_NAMES,
    NumberedArticle,
    build_judge_prompt,
    estimate_tokens,
    load_templates,
)
from summarize.models import Article, Sentence, Span, Verdict
from summarize.support.retrieve import Candidate, Retrieval
from summarize.support.scorers.base import cover_keys

NAME = "llm-judge"
PER_SENTENCE = 4  # best candidates of each summary sentence shown to the judge
MAX_QUOTES = 3
MAX_QUOTE_CHARS = 300
MAX_REASON_CHARS = 200
SHOWN_REASON_CHARS = 160  # of the judge's own reason, echoed in verdict reasons


# ---- the answer ----------------------------------------------------------------------------


class Quote(BaseModel):
    source: str = Field(description="id of the source sentence, like A3")
    quote: str = Field(description="words copied exactly from that source sentence")

    @field_validator("source", mode="before")
    @classmethod
    def _id(cls, value: Any) -> str:
        ids = parse_ids(value)
        return ids[0] if ids else str(value).strip()


class SentenceVerdict(BaseModel):
    sentence: int = Field(description="number of the summary sentence")
    supported: bool
    evidence: list[Quote] = Field(default_factory=list)
    reason: str = ""


class JudgeAnswer(BaseModel):
    """What the judge answers. Parsing is lenient; the limits live in `answer_schema`."""

    verdicts: list[SentenceVerdict] = Field(default_factory=list)


def answer_schema(ids: list[str], count: int) -> type[JudgeAnswer]:
    """JudgeAnswer whose JSON schema allows only the shown ids and sentence numbers.

    A server with grammars (llama.cpp) then cannot cite an id it was not shown, and
    each answer's length is bounded; parsing stays lenient (the limits are schema-only).
    """
    source = {"enum": ids} if ids else {}
    quote = create_model(
        "Quote",
        __base__=Quote,
        source=(str, Field(description="id of the source sentence", json_schema_extra=source)),
        quote=(str, Field(json_schema_extra={"maxLength": MAX_QUOTE_CHARS})),
    )
    verdict = create_model(
        "SentenceVerdict",
        __base__=SentenceVerdict,
        sentence=(int, Field(json_schema_extra={"enum": list(range(1, count + 1))})),
        evidence=(
            list[quote],
            Field(default_factory=list, json_schema_extra={"maxItems": MAX_QUOTES}),
        ),
        reason=(str, Field("", json_schema_extra={"maxLength": MAX_REASON_CHARS})),
    )
    return create_model(
        "JudgeAnswer",
        __base__=JudgeAnswer,
        verdicts=(
            list[verdict],
            Field(default_factory=list, json_schema_extra={"minItems": count, "maxItems": count}),
        ),
    )


# ---- locating quotes -----------------------------------------------------------------------

_SAME = {
    **dict.fromkeys("‘’‚‛′`", "'"),
    **dict.fromkeys("“”„‟″«»", '"'),
    **dict.fromkeys("‐‑‒–—−", "-"),
    "…": "...",
    # prompts defuse delimiters and [A1]-like ids (prompt.neutralise): quotes may carry that
    "‹": "<",
    "›": ">",
    "[": "(",
    "]": ")",
}


def _normalise(text: str) -> tuple[str, list[int], list[int]]:
    """Text with whitespace runs as one space and quote marks/dashes unified, and for each
    character of the result the `[start, end)` of the original characters it stands for."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i = 0
    while i < len(text):
        if text[i].isspace():
            j = i
            while j < len(text) and text[j].isspace():
                j += 1
            out.append(" ")
            starts.append(i)
            ends.append(j)
            i = j
            continue
        for ch in _SAME.get(text[i], text[i]):
            out.append(ch)
            starts.append(i)
            ends.append(i + 1)
        i += 1
    return "".join(out), starts, ends


def _variants(quote: str) -> list[str]:
    """The normalised quote, then without enclosing quote marks or leading/trailing '...'."""
    q = _normalise(quote)[0].strip()
    out = [q]
    for trimmed in (q.strip("\"' "), q.strip(". ").strip(), q.strip("\"'. ").strip()):
        if trimmed and trimmed not in out:
            out.append(trimmed)
    return out


def locate_quote(
    quote: str, article: Article, start: int = 0, end: int | None = None
) -> tuple[int, int] | None:
    """Exact `[start, end)` offsets of `quote` in `article.text[start:end]`, outside debris.

    Found exactly, or after normalising whitespace and quote marks on both sides; the
    offsets are mapped back so `article.text[s:e]` is the article's own wording.
    """
    end = len(article.text) if end is None else end
    norm, starts, ends = _normalise(article.text[start:end])
    for q in _variants(quote):
        if not q:
            continue
        at = norm.find(q)
        while at >= 0:
            s, e = start + starts[at], start + ends[at + len(q) - 1]
            if not article.is_debris(s, e):
                return s, e
            at = norm.find(q, at + 1)
    return None


def _short(text: str, n: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


# ---- verifying the answer ------------------------------------------------------------------


def verify_answer(
    answer: JudgeAnswer,
    sentences: Sequence[str],
    shown: dict[str, Sentence],
    articles: Sequence[Article],
    threshold: float = 0.5,
) -> list[Verdict]:
    """One verdict per sentence, believing the judge only where its quotes are found.

    `shown` maps the ids the judge saw to their (non-debris) sentences. A verdict is
    supported when the judge says so and gives at least one quote, and every quote is
    located in its named source sentence or elsewhere in that article's non-debris text,
    and holds a content word. Spans are the located quotes.
    """
    by_id = {a.id: a for a in articles}
    verdicts: list[Verdict] = []
    for number in range(1, len(sentences) + 1):
        given = next((v for v in answer.verdicts if v.sentence == number), None)
        if given is None:
            verdicts.append(_unsupported(["no verdict for this sentence from the judge"]))
            continue
        spans: list[Span] = []
        problems: list[str] = []
        for ev in given.evidence[:MAX_QUOTES]:
            source = shown.get(ev.source)
            if source is None:
                problems.append(f"the judge cited {_short(ev.source, 20)!r}, not a source shown")
                continue
            article = by_id[source.article_id]
            where = locate_quote(ev.quote, article, source.start, source.end) or locate_quote(
                ev.quote, article
            )
            if where is None:
                problems.append(f"the judge's quote “{_short(ev.quote)}” is not in {ev.source}")
                continue
            span = article.span(*where)
            if not cover_keys(span.quote):
                problems.append(f"the judge's quote “{_short(ev.quote)}” states nothing")
            elif span not in spans:
                spans.append(span)
        said = _short(given.reason, SHOWN_REASON_CHARS)
        if not given.supported:
            why = "the judge found it unsupported" + (f": {said}" if said else "")
            verdicts.append(_unsupported([why, *problems], spans))
            continue
        if not given.evidence:
            problems.append("the judge gave no quote for it")
        score = 0.0 if problems or not spans else 1.0
        if score >= threshold:
            ids = sorted({sid for sid, s in shown.items() for p in spans if _inside(p, s)})
            reasons = [f"the judge's quotes found in {', '.join(ids) or 'the sources'}"]
            verdicts.append(
                Verdict(
                    supported=True,
                    score=score,
                    spans=spans,
                    reasons=reasons + ([f"the judge: {said}"] if said else []),
                    scorer=NAME,
                )
            )
        else:
            verdicts.append(
                _unsupported(
                    [*problems, *([f"the judge said supported: {said}"] if said else [])], spans
                )
            )
    return verdicts


def _inside(span: Span, sentence: Sentence) -> bool:
    return (
        span.article_id == sentence.article_id
        and sentence.start <= span.start
        and span.end <= sentence.end
    )


def _unsupported(reasons: list[str], spans: list[Span] | None = None) -> Verdict:
    return Verdict(supported=False, score=0.0, spans=spans or [], reasons=reasons, scorer=NAME)


# ---- choosing the sources shown ------------------------------------------------------------


def _letter(sentence_id: str) -> str:
    return sentence_id.rstrip("0123456789")


def shown_sources(
    candidates: Sequence[Sequence[Candidate]],
    articles: Sequence[Article],
    per_sentence: int = PER_SENTENCE,
    budget_tokens: int | None = None,
) -> list[NumberedArticle]:
    """The best `per_sentence` candidates of every summary sentence, by article in text
    order; fewer per sentence (down to one) when they would not fit `budget_tokens`."""
    for limit in range(max(1, per_sentence), 0, -1):
        chosen: dict[str, Sentence] = {}
        for cands in candidates:
            for cand in cands[:limit]:
                chosen.update({s.id: s for s in cand.sentences if not s.debris})
        numbered = []
        for article in articles:
            mine = sorted(
                (s for s in chosen.values() if s.article_id == article.id), key=lambda s: s.start
            )
            if mine:
                numbered.append(NumberedArticle(_letter(mine[0].id), article, mine, len(mine)))
        cost = sum(estimate_tokens(n.render()) for n in numbered)
        if budget_tokens is None or cost <= budget_tokens:
            break
    return numbered


# ---- the scorer ----------------------------------------------------------------------------


class JudgeScorer:
    """See the module docstring. `client`: a ModelClient; else one is opened from `settings`."""

    name = NAME
    uses_model = True  # the CLI opens the configured model for it
    # lexical retrieval keeps the prompt (and so recorded cassettes) identical on every
    # machine, and spares the embedding model
    uses_embeddings = False

    def __init__(
        self,
        client=None,
        settings=None,
        threshold: float = 0.5,
        per_sentence: int = PER_SENTENCE,
    ):
        self._client = client
        self.settings = settings if settings is not None else getattr(client, "settings", None)
        self.threshold = threshold
        self.per_sentence = per_sentence
        self._stack = contextlib.ExitStack()

    @property
    def client(self):
        """The model client, opened on first use exactly as `summarize story` opens it."""
        if self._client is None:
            from summarize.model.client import open_client
            from summarize.settings import Settings

            self.settings = self.settings or Settings()
            self._client = self._stack.enter_context(open_client(self.settings))
        return self._client

    def close(self) -> None:
        """Close a client (and embedded server) this scorer opened; a given one stays open."""
        self._stack.close()

    def __enter__(self) -> JudgeScorer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def score(self, claim: str, found: Retrieval) -> Verdict:
        return self.score_summary([claim], [found])[0]

    def score_summary(self, claims: Sequence[str], found: Sequence[Retrieval]) -> list[Verdict]:
        """Proposals for all `claims` from one model call; `found[i]` is what retrieval
        found for `claims[i]` (all over the same articles)."""
        if len(claims) != len(found) or not found:
            raise ValueError("one retrieval per claim")
        return self._judge(list(claims), [f.candidates for f in found], found[0].articles)

    def _judge(
        self,
        sentences: list[str],
        candidates: list[Sequence[Candidate]],
        articles: Sequence[Article],
    ) -> list[Verdict]:
        from summarize.model.client import ModelError
        from summarize.model.local import LocalModelError

        try:
            client = self.client
            budget = self._budget(client, sentences)
            numbered = shown_sources(candidates, articles, self.per_sentence, budget)
            shown = {s.id: s for n in numbered for s in n.sentences}
            answer, _ = client.structured(
                build_judge_prompt(sentences, numbered),
                answer_schema(list(shown), len(sentences)),
                purpose="judge",
            )
        except (ModelError, LocalModelError) as exc:
            # ModelError messages never hold the key (llm.py redacts them)
            return [_unsupported([f"the judge call failed: {exc}"]) for _ in sentences]
        return verify_answer(answer, sentences, shown, articles, self.threshold)

    def _budget(self, client, sentences: list[str]) -> int:
        """Tokens left for the sources: the story's context arithmetic, with the judge's
        wording and the summary sentences as the fixed part of the prompt."""
        from summarize.model.templates import context_budget

        fixed = "".join(load_templates(None, JUDGE_TEMPLATE_NAMES).values()) + "".join(sentences)
        settings = self.settings or getattr(client, "settings", None)
        return context_budget(settings, fixed)


__all__ = [
    "JudgeAnswer",
    "JudgeScorer",
    "Quote",
    "SentenceVerdict",
    "answer_schema",
    "locate_quote",
    "shown_sources",
    "verify_answer",
]
