"""One event, several articles in, one neutral summary out: prompt → model → validate → repair.

The model only drafts. Every draft sentence is checked by the validator against
the sentences it cites; what fails gets one repair round and is otherwise
removed with its reason. So `Story.sentences` holds only supported sentences,
whatever the model wrote, and the Story says what was dropped and why. A model
failure still returns a Story, with `error` set and the work done so far.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from summarize.corpus import Corpus, parse_ids
from summarize.model.templates import (
    build_story_prompt,
    context_budget,
    load_templates,
    number_articles,
    prompt_hash,
)
from summarize.models import Article, Claim, RemovedSentence, Sentence, Story, Verdict
from summarize.settings import StorySettings
from summarize.story.repair import Pending, ids_for_spans, removal_reason, repair_round
from summarize.support.validator import Validator
from summarize.text.segment import split_sentences
from summarize.text.values import value_keys
from summarize.text.words import shorten, word_set

# The defaults of the `[story]` settings group (summarize.settings.StorySettings), which
# owns them; a caller's Settings overrides them per story.
MAX_SENTENCES = StorySettings().max_sentences
MAX_CITES = StorySettings().max_cites
MAX_REPAIRS = StorySettings().max_repairs
DUPLICATE_OVERLAP = 0.8  # word-set overlap at which a sentence repeats an earlier one


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


def draft_schema(
    ids: list[str], max_sentences: int = MAX_SENTENCES, max_cites: int = MAX_CITES
) -> type[Draft]:
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
                json_schema_extra={"items": cite, "minItems": 1, "maxItems": max_cites},
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


def is_repeat(text: str, earlier: list[str]) -> bool:
    """True when `text` repeats an earlier sentence (the small model loops on its own output).

    Two sentences that differ in a value ("on Wednesday" / "on Thursday") are not
    repeats: that is how a summary reports a disagreement.
    """
    words, values = word_set(text), value_keys(text)
    for other in earlier:
        prior = word_set(other)
        close = words and prior and len(words & prior) / min(len(words), len(prior))
        if close and close >= DUPLICATE_OVERLAP and values == value_keys(other):
            return True
    return False


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
        notes.append(f"dropped citation {sid} ({why}) from “{shorten(text)}”")
    return text, cites, notes


def summarize_story(
    articles: list[Article],
    *,
    settings=None,
    client=None,
    validator=None,
    max_sentences: int | None = None,
    design: str = "facts",
    check_events: bool = True,
    sides: dict[str, list[str]] | None = None,
) -> Story:
    """A validated, cited, neutral summary of articles about one event.

    When the articles seem to cover several events (`check_events`; the digest, which
    has grouped them, turns it off) the story carries a warning in `Story.warnings`
    and a Python `UserWarning` is issued.

    `sides` ({"leaning": ["center", "left", "right"]}) names the values each side label
    can take, for `Story.perspectives` (how each side's coverage differs, and which side
    did not cover the story); by default, the values the articles' own `labels` take
    for the `digest.sides` labels.

    Starts the embedded model when no `client` is given (and none is configured).
    The limits come from `settings.story` (`max_sentences` overrides its own), the
    validator, unless given, from `settings.support`. `design="facts"` (default) builds
    the summary from fact groups (story/fuse.py); `design="draft"` is the first design,
    in which the model drafts the whole summary (kept for comparison in benchmarks).
    """
    if design not in ("facts", "draft"):
        raise ValueError(f"unknown story design {design!r}: facts or draft")
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
                design=design,
                check_events=check_events,
                sides=sides,
            )
    if settings is None:
        settings = getattr(client, "settings", None)
    limits = getattr(settings, "story", None) or StorySettings()
    max_sentences = max_sentences or limits.max_sentences
    if validator is None:
        validator = Validator.from_settings(settings, client)

    story = Story(articles=list(articles), prompt_hash=prompt_hash())
    story.model = getattr(settings, "model_name", "") or ""
    mixed = several_events(articles, settings) if check_events else None
    if mixed:
        story.warnings.append(mixed)
        warnings.warn(mixed, UserWarning, stacklevel=2)
    corpus = Corpus(articles)
    numbered, notes = number_articles(corpus)
    story.notes += notes
    if not numbered:
        story.error = "no usable article text in the input"
        return story
    if len(numbered) == 1:
        story.notes.append("single source: nothing to compare it against")
    story.disagreements = validator.disagreements(corpus) if len(numbered) > 1 else []
    if design == "facts":
        from summarize.model.client import time_budget
        from summarize.story.facts import fact_groups
        from summarize.story.fuse import compose, plan_brief
        from summarize.story.perspectives import perspectives

        # the plan is local work: done before the model's time budget starts
        groups = fact_groups(corpus, story.disagreements)
        facts = plan_brief(groups, corpus, validator, words=limits.words, max_facts=max_sentences)
        with time_budget(limits.time_budget_s, "story"):
            compose(
                story,
                corpus,
                client=client,
                validator=validator,
                max_sentences=max_sentences,
                groups=groups,
                words=limits.words,
                facts=facts,
            )
        if not story.error:
            story.perspectives = perspectives(
                story, corpus, groups, validator, sides or side_values(articles, settings)
            )
        return story

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
    from summarize.model.client import ModelError, time_budget

    # Every model call of the story (draft, repairs, a judge) ends by its time budget.
    with time_budget(limits.time_budget_s, "story"):
        try:
            draft, call = client.structured(
                prompt.messages,
                draft_schema(list(prompt.shown), max_sentences, limits.max_cites),
                purpose="story",
                max_tokens=EMBEDDED_DRAFT_MAX_TOKENS if _embedded(client) else None,
            )
        except ModelError as exc:
            return story.model_failed(exc)
        story.record(call)
        return finalize(
            story,
            draft,
            shown=prompt.shown,
            client=client,
            validator=validator,
            corpus=corpus,
            max_repairs=limits.max_repairs,
        )


def side_values(articles: list[Article], settings=None) -> dict[str, list[str]]:
    """For each side label (`digest.sides`), the values the articles' labels take."""
    from summarize.settings import DigestSettings

    digest = getattr(settings, "digest", None) or DigestSettings()
    out = {}
    for key in digest.sides:
        values = sorted({a.labels[key] for a in articles if a.labels.get(key)})
        if values:
            out[key] = values
    return out


def several_events(articles: list[Article], settings=None) -> str | None:
    """A warning when the digest's grouping (`digest.threshold`) would split `articles`
    into several events: one summary would mix them. None when they are one event (or
    cannot be grouped: no embedding model)."""
    if len(articles) < 2:
        return None
    from summarize.digest.cluster import cluster_articles
    from summarize.settings import DigestSettings

    digest = getattr(settings, "digest", None) or DigestSettings()
    try:
        groups = cluster_articles(list(articles), threshold=digest.threshold)
    except Exception:  # no grouping (e.g. a broken model install): no warning
        return None
    if len(groups) < 2:
        return None
    listed = " | ".join(", ".join(a.id for a in group) for group in groups)
    return (
        f"these articles seem to be about {len(groups)} different events ({listed}); "
        "one summary may mix them: `summarize digest` writes one per event"
    )


def finalize(
    story: Story,
    draft: Draft,
    *,
    shown: dict[str, Sentence],
    client,
    validator,
    corpus: Corpus | None = None,
    max_repairs: int = MAX_REPAIRS,
) -> Story:
    """Clean the draft, validate each sentence, repair once (at most `max_repairs`
    sentences), pick a supported headline."""
    corpus = corpus or Corpus(story.articles)
    all_ids = corpus.by_id
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
        verdict = validator.check(text, corpus, [shown[i] for i in cites])
        if verdict.publishable:
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
            pending[:max_repairs], client=client, validator=validator, articles=corpus, shown=shown
        )
        for item in pending[max_repairs:]:
            why = f"unsupported ({removal_reason(item.verdict)}); "
            why += f"not repaired: repair limit of {max_repairs} reached"
            repaired.append([RemovedSentence(text=item.text, reason=why, verdict=item.verdict)])
        for call in calls:
            story.record(call)
        story.notes += [f"a repair call failed: {f}" for f in failures]
    fixes = iter(repaired)
    for result in results:
        for outcome in next(fixes) if isinstance(result, Pending) else [result]:
            if isinstance(result, Pending) and isinstance(outcome, Claim):
                story.notes.append(f"repaired “{shorten(result.text)}” → “{shorten(outcome.text)}”")
            if isinstance(outcome, RemovedSentence):
                story.removed.append(outcome)
            elif not is_repeat(outcome.text, [c.text for c in story.sentences]):
                story.sentences.append(outcome)
    if not story.sentences:
        story.notes.append("no sentence of the model's draft is supported by the sources")
    story.headline = choose_headline(draft.headline, story, corpus, validator, shown)
    return story


def _cite_support(
    story: Story, text: str, cites: list[str], verdict: Verdict, shown: dict[str, Sentence]
) -> list[str]:
    """The ids of the sentences that actually support it (the validator's spans)."""
    support = ids_for_spans(verdict, shown)
    if support and set(support) != set(cites):
        story.notes.append(
            f"“{shorten(text)}” cited {', '.join(cites) or 'nothing valid'}; "
            f"its support is {', '.join(support)}"
        )
    return support or cites


def _centrality(claim: Claim, others: list[Claim]) -> float:
    """Sources it rests on, plus how much of the rest of the summary it shares words with."""
    words = word_set(claim.text)
    shared = sum(
        len(words & word_set(o.text)) / max(1, len(words | word_set(o.text)))
        for o in others
        if o is not claim
    )
    articles = {s.article_id for s in claim.verdict.spans} if claim.verdict else set()
    return len(articles) + shared


def choose_headline(
    proposed: str,
    story: Story,
    corpus: Corpus,
    validator,
    shown: dict[str, Sentence],
) -> Claim | None:
    """The model's headline if supported; else a supported title; else the central sentence."""
    candidates: list[str] = []
    if proposed.strip():
        candidates.append(" ".join(proposed.split()))
    central = sorted(story.sentences, key=lambda c: -_centrality(c, story.sentences))
    articles = corpus.lettered
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
        verdict = validator.check(text, corpus)
        if verdict.publishable:
            if i > 0 and proposed.strip():
                story.notes.append(f"headline “{shorten(proposed)}” unsupported; used “{text}”")
            return Claim(text=text, cited=ids_for_spans(verdict, shown), verdict=verdict)
    if central:
        story.notes.append("no supported headline; the most central sentence stands in")
        return central[0].model_copy()
    return None
