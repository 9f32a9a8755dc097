"""One event, several articles in, one neutral summary out: prompt → model → validate → repair.

The model only drafts. Every draft sentence is checked by the validator against
the sentences it cites; what fails gets one repair round and is otherwise
removed with its reason. So `Story.sentences` holds only supported sentences,
whatever the model wrote, and the Story says what was dropped and why. A model
failure still returns a Story, with `error` set and the work done so far.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from summarize.model.templates import (
    build_story_prompt,
    estimate_tokens,
    load_templates,
    number_articles,
    prompt_hash,
)
from summarize.models import Article, Claim, ModelCall, RemovedSentence, Sentence, Story, Verdict
from summarize.story.disagree import extract_values, find_disagreements
from summarize.story.repair import Pending, check_sentence, ids_for_spans, parse_ids, repair_round
from summarize.text.segment import segment, split_sentences

MAX_SENTENCES = 8
MAX_CITES = 4
MAX_REPAIRS = 4  # repair calls per story: each costs the small model seconds
DUPLICATE_OVERLAP = 0.8  # word-set overlap at which a sentence repeats an earlier one
CONTEXT_MARGIN = 64  # chat-template tokens and estimation slack


def _require_all(schema: dict[str, Any]) -> None:
    """Schema-only: the grammar makes the model write every field; parsing keeps defaults."""
    schema["required"] = list(schema.get("properties", {}))


class DraftSentence(BaseModel):
    model_config = ConfigDict(json_schema_extra=_require_all)

    text: str
    cites: list[str] = Field(default_factory=list)

    @field_validator("cites", mode="before")
    @classmethod
    def _ids(cls, value: Any) -> list[str]:
        return parse_ids(value)


class Draft(BaseModel):
    """What the model answers. Lenient on purpose: cleaning is done here, not by re-asking."""

    model_config = ConfigDict(json_schema_extra=_require_all)

    headline: str = ""
    sentences: list[DraftSentence] = Field(default_factory=list)


def draft_schema(ids: list[str], max_sentences: int = MAX_SENTENCES) -> type[Draft]:
    """The Draft model whose JSON schema limits cites to the shown ids and the sentence count.

    The limits live only in the schema (the server's grammar enforces them); parsing
    stays lenient, so an answer from a server without grammars is cleaned, not rejected.
    """
    cite = {"type": "string", "enum": ids} if ids else {"type": "string"}
    sentence = create_model(
        "DraftSentence",
        __base__=DraftSentence,
        cites=(
            list[str],
            Field(
                default_factory=list,
                json_schema_extra={"items": cite, "minItems": 1, "maxItems": MAX_CITES},
            ),
        ),
    )
    return create_model(
        "Draft",
        __base__=Draft,
        sentences=(
            list[sentence],
            Field(
                default_factory=list,
                json_schema_extra={"minItems": 1, "maxItems": max_sentences},
            ),
        ),
    )


def context_budget(settings, system_and_template: str) -> int:
    """Tokens left for article text: context minus the answer's room and the fixed prompt."""
    context = getattr(settings, "local_ctx", 8192)
    answer = getattr(settings, "max_tokens", 1024)
    return max(256, context - answer - estimate_tokens(system_and_template) - CONTEXT_MARGIN)


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def is_repeat(text: str, earlier: list[str]) -> bool:
    """True when `text` repeats an earlier sentence (the small model loops on its own output).

    Two sentences that differ in a value ("on Wednesday" / "on Thursday") are not
    repeats: that is how a summary reports a disagreement.
    """
    words, values = _words(text), _values(text)
    for other in earlier:
        prior = _words(other)
        close = words and prior and len(words & prior) / min(len(words), len(prior))
        if close and close >= DUPLICATE_OVERLAP and values == _values(other):
            return True
    return False


def _values(text: str) -> set[tuple[str, str]]:
    return {(v.kind, v.key) for v in extract_values(text)}


# "[A3]", "[a3, B4]": square brackets only, so "(G7)" or "(in 2023)" stay text
_INLINE_IDS = re.compile(r"\s*\[\s*(?:[A-Z]{1,2}\d{1,4}\s*[,;]?\s*)+\]", re.IGNORECASE)


# SmolLM2-135M's useful sentences come first; after that it loops until the cap. A cut-off
# answer keeps its complete sentences (json_repair), so a lower cap only saves time.
EMBEDDED_DRAFT_MAX_TOKENS = 400


def _embedded(client) -> bool:
    return bool(getattr(getattr(client, "settings", None), "uses_embedded_model", False))


_WORD = re.compile(r"[^\W\d_]{2,}")
MIN_WORDS = 3


def clean_sentence(
    draft: DraftSentence, shown: dict[str, Sentence], all_ids: dict[str, Sentence]
) -> tuple[str, list[str], list[str]]:
    """Text without inline `[A1]` tags, valid cited ids, and notes on the ids dropped."""
    inline = _INLINE_IDS.findall(draft.text)
    text = " ".join(_INLINE_IDS.sub("", draft.text).split())
    cites: list[str] = []
    dropped: list[str] = []
    for sid in [*draft.cites, *parse_ids(inline)]:
        if sid in cites or sid in dropped:
            continue
        if sid in shown:
            cites.append(sid)
        else:
            dropped.append(sid)
    notes = []
    for sid in dropped:
        if sid in all_ids and all_ids[sid].debris:
            why = "page debris, never a source"
        elif sid in all_ids:
            why = "not shown to the model"
        else:
            why = "no such sentence"
        notes.append(f"dropped citation {sid} ({why}) from “{_short(text)}”")
    return text, cites, notes


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _record(story: Story, call: ModelCall) -> None:
    story.calls.append(call)
    story.usage.add(call)
    if call.model and not story.model:
        story.model = call.model


def summarize_story(
    articles: list[Article],
    *,
    settings=None,
    client=None,
    validator=None,
    max_sentences: int = MAX_SENTENCES,
) -> Story:
    """A validated, cited, neutral summary of articles about one event.

    Starts the embedded model when no `client` is given (and none is configured).
    """
    if client is None:
        from summarize.model.client import open_client
        from summarize.settings import Settings

        settings = settings or Settings()
        with open_client(settings) as opened:
            return summarize_story(
                articles,
                settings=settings,
                client=opened,
                validator=validator,
                max_sentences=max_sentences,
            )
    if settings is None:
        settings = getattr(client, "settings", None)
    if validator is None:
        from summarize.support.validator import Validator

        validator = Validator()

    story = Story(articles=list(articles), prompt_hash=prompt_hash())
    story.model = getattr(settings, "model_name", "") or ""
    numbered, notes = number_articles(list(articles))
    story.notes += notes
    if not numbered:
        story.error = "no usable article text in the input"
        return story
    if len(numbered) == 1:
        story.notes.append("single source: nothing to compare it against")
    usable = [n.article for n in numbered]
    story.disagreements = find_disagreements(usable) if len(usable) > 1 else []

    templates = load_templates()
    prompt = build_story_prompt(
        numbered,
        disagreements=story.disagreements,
        budget_tokens=context_budget(
            settings, templates["story.system.md"] + templates["story.user.md"]
        ),
        max_sentences=max_sentences,
    )
    story.notes += prompt.notes
    from summarize.model.client import ModelError

    try:
        draft, call = client.structured(
            prompt.messages,
            draft_schema(list(prompt.shown), max_sentences),
            purpose="story",
            max_tokens=EMBEDDED_DRAFT_MAX_TOKENS if _embedded(client) else None,
        )
    except ModelError as exc:
        if getattr(exc, "call", None) is not None:
            _record(story, exc.call)
        story.error = f"the model failed: {exc}"
        return story
    _record(story, call)
    return finalize(story, draft, shown=prompt.shown, client=client, validator=validator)


def finalize(
    story: Story,
    draft: Draft,
    *,
    shown: dict[str, Sentence],
    client,
    validator,
) -> Story:
    """Clean the draft, validate each sentence, repair once, pick a supported headline."""
    usable = [a for a in story.articles if any(s.article_id == a.id for s in shown.values())]
    all_ids = _all_sentence_ids(story.articles, shown)
    results: list[Claim | Pending] = []
    seen: list[str] = []
    repeats = 0
    pieces = []
    for draft_sentence in draft.sentences:
        text, cites, notes = clean_sentence(draft_sentence, shown, all_ids)
        story.notes += notes
        # one claim per sentence: a run-on answer must not pass on the strength of its start
        pieces += [(text[a:b], cites) for a, b in split_sentences(text)]
    for text, cites in pieces:
        if len(_WORD.findall(text)) < MIN_WORDS:  # e.g. a looping list of ids: no claim to check
            story.removed.append(RemovedSentence(text=text, reason="not a sentence: too few words"))
            continue
        if is_repeat(text, seen):
            repeats += 1
            continue
        seen.append(text)
        verdict = check_sentence(validator, text, usable, [shown[i] for i in cites])
        if verdict.supported:
            results.append(
                Claim(
                    text=text,
                    cited=_cite_support(story, text, cites, verdict, shown),
                    verdict=verdict,
                )
            )
        else:
            results.append(Pending(text, cites, verdict))
    if repeats:
        story.notes.append(f"{repeats} repeated sentence(s) from the model dropped")

    pending = [r for r in results if isinstance(r, Pending)]
    repaired: list[list[Claim | RemovedSentence]] = []
    if pending:
        repaired, calls, failures = repair_round(
            pending[:MAX_REPAIRS], client=client, validator=validator, articles=usable, shown=shown
        )
        for item in pending[MAX_REPAIRS:]:
            reasons = "; ".join(item.verdict.reasons) or "the sources do not support it"
            why = f"unsupported ({reasons}); not repaired: repair limit of {MAX_REPAIRS} reached"
            repaired.append([RemovedSentence(text=item.text, reason=why, verdict=item.verdict)])
        for call in calls:
            _record(story, call)
        story.notes += [f"a repair call failed: {f}" for f in failures]
    fixes = iter(repaired)
    for result in results:
        for outcome in next(fixes) if isinstance(result, Pending) else [result]:
            if isinstance(result, Pending) and isinstance(outcome, Claim):
                story.notes.append(f"repaired “{_short(result.text)}” → “{_short(outcome.text)}”")
            if isinstance(outcome, RemovedSentence):
                story.removed.append(outcome)
            elif not is_repeat(outcome.text, [c.text for c in story.sentences]):
                story.sentences.append(outcome)
    if not story.sentences:
        story.notes.append("no sentence of the model's draft is supported by the sources")
    story.headline = choose_headline(draft.headline, story, usable, validator, shown)
    return story


def _cite_support(
    story: Story, text: str, cites: list[str], verdict: Verdict, shown: dict[str, Sentence]
) -> list[str]:
    """The ids of the sentences that actually support it (the validator's spans)."""
    support = ids_for_spans(verdict, shown)
    if support and set(support) != set(cites):
        story.notes.append(
            f"“{_short(text)}” cited {', '.join(cites) or 'nothing valid'}; "
            f"its support is {', '.join(support)}"
        )
    return support or cites


def _all_sentence_ids(articles: list[Article], shown: dict[str, Sentence]) -> dict[str, Sentence]:
    """Every sentence id of the articles as lettered for the model, debris included."""
    letters = {s.article_id: re.sub(r"\d+$", "", sid) for sid, s in shown.items()}
    ids: dict[str, Sentence] = {}
    for article in articles:
        if article.id in letters:
            ids.update({s.id: s for s in segment(article, letters[article.id])})
    return ids


def _centrality(claim: Claim, others: list[Claim]) -> float:
    """Sources it rests on, plus how much of the rest of the summary it shares words with."""
    words = _words(claim.text)
    shared = sum(
        len(words & _words(o.text)) / max(1, len(words | _words(o.text)))
        for o in others
        if o is not claim
    )
    articles = {s.article_id for s in claim.verdict.spans} if claim.verdict else set()
    return len(articles) + shared


def choose_headline(
    proposed: str,
    story: Story,
    articles: list[Article],
    validator,
    shown: dict[str, Sentence],
) -> Claim | None:
    """The model's headline if supported; else a supported title; else the central sentence."""
    candidates: list[str] = []
    if proposed.strip():
        candidates.append(" ".join(proposed.split()))
    central = sorted(story.sentences, key=lambda c: -_centrality(c, story.sentences))
    by_id = {a.id: a for a in articles}
    for claim in central:
        for span in claim.verdict.spans if claim.verdict else []:
            title = by_id.get(span.article_id)
            if title and title.title and title.title not in candidates:
                candidates.append(title.title)
    for a in articles:
        if a.title and a.title not in candidates:
            candidates.append(a.title)
    for i, text in enumerate(candidates):
        verdict = check_sentence(validator, text, articles, [])
        if verdict.supported:
            if i > 0 and proposed.strip():
                story.notes.append(f"headline “{_short(proposed)}” unsupported; used “{text}”")
            return Claim(text=text, cited=ids_for_spans(verdict, shown), verdict=verdict)
    if central:
        story.notes.append("no supported headline; the most central sentence stands in")
        return central[0].model_copy()
    return None
