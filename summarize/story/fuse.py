"""Story v2: a summary built from what the sources corroborate.

1. `facts.fact_groups` aligns the articles' sentences into fact groups (the same fact
   as each outlet reports it) and ranks them: most outlets first, then salience.
2. The model gets a small job: fuse each chosen multi-outlet group into one neutral
   sentence citing the group's sentences (one call for all groups and the headline;
   the JSON schema limits each sentence's cites to its own group's ids).
3. Each fused sentence is validated; one that fails gets one repair (story/repair.py);
   one that still fails is replaced by the group's most neutral member, verbatim, with
   its citation (a verbatim copy passes the validator like any sentence).
4. A fact only one outlet reports is attributed to it ("According to Bloomberg, ...")
   when the validator accepts that wording, and always carries its outlet in
   `Claim.outlets`; a value the outlets disagree on is never stated as settled: it
   appears only in the disagreements section.

Nothing reaches `Story.sentences` without passing the validator. A failed model call
fails the story (`error`), as in the first design: a story never silently becomes
something else than what was asked.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from summarize.corpus import Corpus
from summarize.model.templates import FuseGroup, build_fuse_prompt
from summarize.models import Claim, RemovedSentence, Sentence, Story, Verdict
from summarize.story.facts import (
    FactGroup,
    carries_value,
    disputed_keys,
    fact_groups,
    is_dependent,
    is_truncated,
    label,
    repeats,
    select_groups,
    unattributed_quote,
)
from summarize.story.repair import Pending, ids_for_spans, repair_round
from summarize.support.neutral import loaded_wording
from summarize.text.segment import split_sentences
from summarize.text.values import extract_values, quantities
from summarize.text.words import STOPWORDS, content_keys, key_found, prefixes, shorten

HEADLINE_MAX_CHARS = 110  # a headline, not a sentence
HEADLINE_MAX_WORDS = 14
FUSED_MAX_CHARS = 320  # one sentence; a model that loops stops here
TOKENS_PER_FACT = 110  # answer tokens allowed per fused sentence
HEADLINE_TOKENS = 50
MIN_FUSED_WORDS = 6  # a fused "sentence" shorter than this is a fragment
# The lowercase words that may start a sentence moved behind "According to X,".
_LOWER_FIRST = re.compile(
    r"^(?:The|A|An|This|That|These|Those|It|Its|In|On|At|As|After|Before|During|Some|Many|"
    r"Most|More|Officials|Critics|Both|Several|However|While|When|Under|Over|For|With)\b"
)


def _require_all(schema: dict[str, Any]) -> None:
    schema["required"] = list(schema.get("properties", {}))


class FusedSentence(BaseModel):
    """One fact's sentence. The ids come first: a small model that has just written them
    writes about those sentences, not about the headline or the previous fact."""

    model_config = ConfigDict(json_schema_extra=_require_all)

    cites: list[str] = Field(default_factory=list)
    text: str = ""


class FuseAnswer(BaseModel):
    """The model's answer: one sentence per fact (`f1`, `f2`, ...), then a headline
    (last, so that it sums up what was written, not the other way round)."""

    model_config = ConfigDict(json_schema_extra=_require_all)

    @property
    def title(self) -> str:
        return str(getattr(self, "headline", "") or "")

    def sentence(self, n: int) -> FusedSentence | None:
        raw = getattr(self, f"f{n}", None)
        if isinstance(raw, FusedSentence):
            return raw
        if isinstance(raw, dict):
            return FusedSentence.model_validate(raw)
        if isinstance(raw, str):
            return FusedSentence(text=raw)
        return None


def fuse_schema(groups: list[list[str]]) -> type[FuseAnswer]:
    """The answer model whose JSON schema holds one sentence per group, in order, each
    citing only its own group's ids, and a short headline last. Named "Draft": it is
    the model's draft of the story, as in the first design."""
    fields: dict[str, Any] = {}
    for n, ids in enumerate(groups, start=1):
        sentence = create_model(
            f"Fact{n}",
            __base__=FusedSentence,
            cites=(
                list[str],
                Field(
                    default_factory=list,
                    json_schema_extra={
                        "items": {"type": "string", "enum": ids},
                        "minItems": 1,
                        "maxItems": len(ids),
                    },
                ),
            ),
            text=(str, Field("", json_schema_extra={"maxLength": FUSED_MAX_CHARS})),
        )
        fields[f"f{n}"] = (sentence, Field(default_factory=sentence))
    fields["headline"] = (str, Field("", json_schema_extra={"maxLength": HEADLINE_MAX_CHARS}))
    return create_model("Draft", __base__=FuseAnswer, **fields)


_END = re.compile(r"[.!?][\"'”’)]*$|[\"”’]$")


def one_sentence(text: str) -> str:
    """One sentence per fact: a run-on answer keeps its first sentence, unless that is a
    fragment (the splitter cut inside a quotation); a text that does not end like a
    sentence gets its full stop only if it is long enough to state something."""
    pieces = [text[a:b].strip() for a, b in split_sentences(text)] or [text]
    first = pieces[0]
    if len(pieces) > 1 and _END.search(first) and len(first.split()) >= MIN_FUSED_WORDS:
        return first
    return text


def uncovered_words(text: str, verdict: Verdict) -> list[str]:
    """Content words and numbers of `text` found in none of its supporting quotes (the
    verdict's spans): a fused sentence says nothing its own citations do not say."""
    quotes = " ".join(s.quote for s in verdict.spans)
    keys = set(content_keys(quotes))
    pre = prefixes(keys)
    words = [w for w in dict.fromkeys(content_keys(text)) if not key_found(w, keys, pre)]
    numbers = {round(q.value, 6) for q in quantities(quotes)}
    words += [q.text for q in quantities(text) if round(q.value, 6) not in numbers]
    return words


def full_stop(text: str) -> str:
    """A sentence the model left without its full stop gets one, unless it breaks off
    (ends on a word like "a", "the", "and": the grammar cut it at a quotation mark)."""
    text = text.strip()
    if not text or _END.search(text) or len(text.split()) < MIN_FUSED_WORDS:
        return text
    last = re.sub(r"\W+$", "", text.split()[-1]).lower()
    return text if last in STOPWORDS else text.rstrip(",;:") + "."


def attributed(outlet: str, text: str) -> str:
    """ "According to <outlet>, <text>", the first word lowered when it is a common word."""
    text = text.strip()
    if _LOWER_FIRST.match(text):
        text = text[0].lower() + text[1:]
    return f"According to {outlet}, {text}"


def short_reason(verdict: Verdict | None, sources: list[Sentence] | None = None) -> str:
    """One short plain reason for a removal ("the sources give 9-4, not 4-9")."""
    reasons = [
        r
        for r in (verdict.reasons if verdict else [])
        if not r.startswith(("score capped", "supported by", "but "))
    ]
    if not reasons:
        return "the sources do not say this"
    first = reasons[0]
    m = re.search(r"'([^']+)' is (?:in no source|not in (?:any source|the supporting text))", first)
    if m and sources:
        written = m.group(1)
        mine = extract_values(written)
        kind = mine[0].kind if mine else None
        given = [
            v.value
            for s in sources
            for v in extract_values(s.text)
            if kind and v.kind == kind and v.key != mine[0].key
        ]
        if given:
            return f"the sources give {given[0]}, not {written}"
        return f"the sources do not mention {written}"
    if m:
        return f"the sources do not mention {m.group(1)}"
    first = re.sub(r"^not neutral: ", "takes a side: ", first)
    first = re.sub(r"^words in no source: ", "adds words no source uses: ", first)
    first = re.sub(r"^weak match.*", "the sources do not say this", first)
    return first if len(first) <= 90 else first[:89] + "…"


def _outlets_of(claim: Claim, group: FactGroup, corpus: Corpus) -> list[str]:
    """Outlets that report the claim, in letter order: those whose sentences support it
    or are cited for it, and, for a fact several outlets report, the group's other
    outlets (their sentences state the same fact)."""
    articles = {s.article_id for s in claim.verdict.spans} if claim.verdict else set()
    articles |= {corpus.by_id[i].article_id for i in claim.cited if i in corpus.by_id}
    if group.n_outlets > 1:
        articles |= {s.article_id for s in group.members}
    return [label(a) for a in corpus.lettered if a.id in articles]


def _member_claim(
    group: FactGroup,
    corpus: Corpus,
    validator,
    keys: set[str],
    earlier: list[str],
) -> Claim | None:
    """The group's most neutral usable member, verbatim (attributed when one outlet
    reports it and the validator accepts that wording), validated; None if none passes."""
    by_article = {a.id: a for a in corpus.lettered}
    members = sorted(
        group.usable,
        key=lambda s: (
            bool(loaded_wording(s.text)),
            is_truncated(s.text),
            is_dependent(s.text),
            len(s.text),
        ),
    )
    for member in members:
        if loaded_wording(member.text) or any(repeats(member.text, e) for e in earlier):
            continue
        texts = [member.text]
        if group.n_outlets == 1:
            texts.insert(0, attributed(label(by_article[member.article_id]), member.text))
        for text in texts:
            if carries_value(text, keys):
                continue
            verdict = validator.check(text, corpus, [member])
            if verdict.supported and not uncovered_words(
                text[len(text) - len(member.text) :], verdict
            ):
                cited = ids_for_spans(verdict, corpus.by_id) or [member.id]
                if member.id not in cited:
                    cited.insert(0, member.id)
                return Claim(text=text, cited=cited, verdict=verdict)
    return None


def compose(
    story: Story,
    corpus: Corpus,
    *,
    client,
    validator,
    max_sentences: int,
    max_repairs: int,
    groups: list[FactGroup] | None = None,
) -> Story:
    """Fill `story` (its disagreements already found) from fact groups (`groups`, else
    found here): see the module doc."""
    if groups is None:
        groups = fact_groups(corpus, story.disagreements)
    chosen = select_groups(groups, max_sentences)
    keys = disputed_keys(story.disagreements)
    by_article = {a.id: a for a in corpus.lettered}
    to_fuse = [g for g in chosen if g.n_outlets > 1]
    disputed = [g for g in groups if g.disputed]
    if disputed:
        story.notes.append(
            f"{len(disputed)} fact(s) left to the disagreements section: the outlets give "
            "different values"
        )

    from summarize.model.client import ModelError

    schema = fuse_schema([[s.id for s in g.usable] for g in to_fuse])
    prompt = build_fuse_prompt(
        [FuseGroup(g.usable, [label(by_article[s.article_id]) for s in g.usable]) for g in to_fuse],
        context=[g.usable[0] for g in chosen if g.n_outlets == 1][:3],
        leave_out=sorted({v for d in story.disagreements for v in d.values}),
    )
    try:
        answer, call = client.structured(
            prompt,
            schema,
            purpose="story",
            max_tokens=HEADLINE_TOKENS + TOKENS_PER_FACT * len(to_fuse),
        )
    except ModelError as exc:
        if getattr(exc, "call", None) is not None:
            story.record(exc.call)
        story.error = f"the model failed: {exc}"
        return story
    story.record(call)

    kept: dict[int, Claim] = {}  # index in `chosen` -> claim
    pending: list[tuple[int, Pending]] = []
    fuse_index = {id(g): n for n, g in enumerate(to_fuse, start=1)}
    for i, group in enumerate(chosen):
        n = fuse_index.get(id(group))
        fused = answer.sentence(n) if n else None
        text = " ".join((fused.text if fused else "").split())
        if not text:
            continue  # single-outlet groups, or no sentence from the model: members below
        text = full_stop(one_sentence(text))
        ids = [c for c in (fused.cites if fused else []) if c in group.ids] or [
            s.id for s in group.usable
        ]
        cited = [corpus.by_id[c] for c in ids]
        verdict = validator.check(text, corpus, cited)
        problem = ""
        extra = uncovered_words(text, verdict) if verdict.supported else []
        if len(text.split()) < MIN_FUSED_WORDS or not _END.search(text):
            problem = "not a complete sentence"
        elif carries_value(text, keys):
            problem = "states a value the outlets disagree on"
        elif unattributed_quote(text, cited or group.usable):
            problem = "repeats a quotation without saying who said it"
        elif extra:
            problem = "adds words its cited sentences do not use: " + ", ".join(
                f"'{w}'" for w in extra[:4]
            )
        if verdict.supported and problem:
            verdict = verdict.model_copy(
                update={"supported": False, "reasons": [problem, *verdict.reasons]}
            )
        if verdict.supported:
            kept[i] = Claim(
                text=text, cited=ids_for_spans(verdict, corpus.by_id) or ids, verdict=verdict
            )
        else:
            pending.append((i, Pending(text, ids, verdict)))

    if pending:
        shown = {s.id: s for g in chosen for s in g.usable}
        batch = pending[:max_repairs]
        outcomes, calls, failures = repair_round(
            [p for _, p in batch], client=client, validator=validator, articles=corpus, shown=shown
        )
        for c in calls:
            story.record(c)
        story.notes += [f"a repair call failed: {f}" for f in failures]
        for (i, item), results in zip(batch, outcomes, strict=True):
            fixed = next(
                (
                    r
                    for r in results
                    if isinstance(r, Claim)
                    and len(r.text.split()) >= MIN_FUSED_WORDS
                    and _END.search(r.text)
                    and not carries_value(r.text, keys)
                    and not unattributed_quote(r.text, chosen[i].usable)
                    and r.verdict is not None
                    and not uncovered_words(r.text, r.verdict)
                ),
                None,
            )
            if fixed is not None:
                kept[i] = fixed
                story.notes.append(f"repaired “{shorten(item.text)}” → “{shorten(fixed.text)}”")
            else:
                story.removed.append(
                    RemovedSentence(
                        text=item.text,
                        reason=short_reason(item.verdict, [corpus.by_id[c] for c in item.cites]),
                        verdict=item.verdict,
                    )
                )
        for _, item in pending[max_repairs:]:
            story.removed.append(
                RemovedSentence(
                    text=item.text,
                    reason=short_reason(item.verdict, [corpus.by_id[c] for c in item.cites]),
                    verdict=item.verdict,
                )
            )

    earlier: list[str] = []
    fallbacks = 0
    for i, group in enumerate(chosen):
        claim = kept.get(i)
        if claim is not None and any(repeats(claim.text, e) for e in earlier):
            claim = None
        if claim is None:
            claim = _member_claim(group, corpus, validator, keys, earlier)
            fallbacks += claim is not None and group.n_outlets > 1
        if claim is None:
            continue
        claim.outlets = _outlets_of(claim, group, corpus)
        story.sentences.append(claim)
        earlier.append(claim.text)
    if fallbacks:
        story.notes.append(f"{fallbacks} fact(s) given verbatim from a source")
    if not story.sentences:
        story.notes.append("no fact of the sources could be stated with support")
    story.headline = _headline(answer.title, story, corpus, validator, keys)
    return story


def sentence_case(text: str, corpus: Corpus) -> str:
    """A Title Case headline in sentence case: a capitalised word after the first is
    lowered unless the sources write it capitalised mid-sentence (a name)."""
    names: set[str] = set()
    for sentence in corpus.usable:
        words = re.findall(r"[\w’'-]+", sentence.text)
        names |= {w for w in words[1:] if w[:1].isupper()}
    out = []
    for i, word in enumerate(text.split(" ")):
        core = word.strip("\"“”‘’'(),:;!?")
        if i and core[:1].isupper() and core not in names and not core.isupper():
            word = word.replace(core, core[0].lower() + core[1:], 1)
        out.append(word)
    return " ".join(out)


def _headline(
    proposed: str, story: Story, corpus: Corpus, validator, keys: set[str]
) -> Claim | None:
    """The model's headline if short, supported and free of disputed values; else an
    article title that is; else the first summary sentence."""
    candidates = []
    proposed = sentence_case(" ".join(proposed.split()).rstrip("."), corpus)
    if proposed:
        candidates.append(proposed)
    candidates += [" ".join(a.title.split()) for a in corpus.lettered if a.title.strip()]
    for i, text in enumerate(candidates):
        if len(text.split()) > HEADLINE_MAX_WORDS or carries_value(text, keys):
            continue
        if loaded_wording(text) or unattributed_quote(text, corpus.usable):
            continue
        verdict = validator.check(text, corpus)
        if verdict.supported:
            if i > 0 and proposed:
                story.notes.append(f"headline “{shorten(proposed)}” not used; used “{text}”")
            return Claim(text=text, cited=ids_for_spans(verdict, corpus.by_id), verdict=verdict)
    if story.sentences:
        story.notes.append("no short supported headline; the shortest sentence stands in")
        return min(story.sentences[:3], key=lambda c: len(c.text)).model_copy()
    return None


__all__ = ["attributed", "compose", "fuse_schema", "short_reason", "FuseAnswer"]
