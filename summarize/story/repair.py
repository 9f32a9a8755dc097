"""One repair round for summary sentences the validator did not accept.

The model is shown the sentence, what lacks support (the verdict's reasons) and
the source sentences, and asked to fix it or drop it. The fix is validated
again; whatever is still unsupported becomes a `RemovedSentence` with its
reason, so nothing unsupported ever reaches `Story.sentences`. One round only:
a second re-ask of a small model rarely helps and doubles the cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from summarize.corpus import Corpus, parse_ids
from summarize.model.templates import build_repair_prompt
from summarize.models import Article, Claim, ModelCall, RemovedSentence, Sentence, Verdict
from summarize.text.segment import split_sentences

# One fixed sentence (and its ids) needs few tokens; a small model that loops stops here.
REPAIR_MAX_TOKENS = 160
MAX_SOURCES = 4  # source sentences shown in a repair prompt: the model's context is small


class RepairAnswer(BaseModel):
    """The model's fix for one sentence; an empty text means it dropped the sentence."""

    model_config = ConfigDict(json_schema_extra=lambda s: s.update(required=["text", "cites"]))

    text: str = ""
    cites: list[str] = Field(
        default_factory=list,
        json_schema_extra={
            "items": {"type": "string", "pattern": "^[A-Z]{1,2}[0-9]{1,4}$"},
            "maxItems": 4,  # a small model otherwise lists ids until it runs out of tokens
        },
    )

    @field_validator("cites", mode="before")
    @classmethod
    def _ids(cls, value: Any) -> list[str]:
        return parse_ids(value)


@dataclass
class Pending:
    """A sentence that failed validation, waiting for its repair round."""

    text: str
    cites: list[str]
    verdict: Verdict


def _overlapping(verdict: Verdict, shown: dict[str, Sentence]) -> list[str]:
    """Ids of shown sentences that hold the verdict's spans."""
    ids: list[str] = []
    for span in verdict.spans:
        for sid, s in shown.items():
            overlaps = s.article_id == span.article_id and s.start < span.end and span.start < s.end
            if overlaps and sid not in ids:
                ids.append(sid)
    return ids


def ids_for_spans(verdict: Verdict, shown: dict[str, Sentence]) -> list[str]:
    """Citations taken from the validator's spans, for a supported sentence that gave none."""
    return _overlapping(verdict, shown)


def removal_reason(verdict: Verdict) -> str:
    if verdict.supported and verdict.loaded:
        return verdict.loaded
    return "; ".join(verdict.reasons) or "the sources do not support it"


def repair_round(
    items: list[Pending],
    *,
    client,
    validator,
    articles: Corpus | list[Article],
    shown: dict[str, Sentence],
) -> tuple[list[list[Claim | RemovedSentence]], list[ModelCall], list[str]]:
    """Ask once per unsupported sentence for a fix; keep a fix only if the validator accepts it.

    Returns the outcomes per item, in order (`Claim`s and `RemovedSentence`s: a fix
    may be several sentences, each checked on its own), the
    model calls, and the model's failures. A failed repair removes its sentence
    (with the failure as reason) and the round goes on: the story stays complete.
    """
    from summarize.model.client import ModelError

    results: list[list[Claim | RemovedSentence]] = []
    calls: list[ModelCall] = []
    failures: list[str] = []
    for item in items:
        why = f"unsupported ({removal_reason(item.verdict)})"
        ids = [i for i in item.cites if i in shown]
        ids += [i for i in _overlapping(item.verdict, shown) if i not in ids]
        v = item.verdict
        problems = [v.loaded] if v.supported and v.loaded else v.reasons
        messages = build_repair_prompt(item.text, problems, [shown[i] for i in ids[:MAX_SOURCES]])
        try:
            answer, call = client.structured(
                messages, RepairAnswer, purpose="repair", max_tokens=REPAIR_MAX_TOKENS
            )
        except ModelError as exc:
            if getattr(exc, "call", None) is not None:
                calls.append(exc.call)
            failures.append(str(exc))
            results.append([_removed(item, f"{why}; its repair failed: {exc}")])
            continue
        calls.append(call)
        fixed = " ".join(answer.text.split())
        if not fixed:
            results.append([_removed(item, f"{why}; the model dropped it in repair")])
            continue
        cites = [i for i in answer.cites if i in shown]
        outcomes: list[Claim | RemovedSentence] = []
        failed: list[tuple[str, Verdict]] = []
        for a, b in split_sentences(fixed):  # one claim per sentence, as in the draft
            piece = fixed[a:b]
            verdict = validator.check(piece, articles, [shown[i] for i in cites])
            if verdict.publishable:
                cited = ids_for_spans(verdict, shown) or cites
                outcomes.append(Claim(text=piece, cited=cited, verdict=verdict))
            else:
                failed.append((piece, verdict))
        if failed:  # one entry per original sentence, however many pieces its repair had
            piece, verdict = failed[0]
            more = f" (and {len(failed) - 1} more unsupported piece(s))" if len(failed) > 1 else ""
            still = removal_reason(verdict)
            reason = f"{why}; its repair “{piece}” was still unsupported ({still}){more}"
            outcomes.append(RemovedSentence(text=item.text, reason=reason, verdict=verdict))
        results.append(outcomes)
    return results, calls, failures


def _removed(item: Pending, reason: str) -> RemovedSentence:
    return RemovedSentence(text=item.text, reason=reason, verdict=item.verdict)
