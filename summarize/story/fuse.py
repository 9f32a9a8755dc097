"""Story v3: a news brief built from what the sources corroborate.

1. `facts.fact_groups` aligns the articles' sentences into fact groups (the same fact
   as each outlet reports it); `brief.plan` picks the facts of a brief of about
   `story.words` words (the main fact first, then details, reactions, background),
   each in its most neutral readable wording.
2. The model gets a small job: fuse the lede and a few other facts several outlets
   report into one neutral sentence each (the JSON schema limits each sentence's cites
   to its own group's ids), and write the headline. One call.
3. A fact is stated in the fused sentence only when it passes the validator, adds no
   word its cited sentences lack, and is reported by at least as many outlets as the
   verbatim wording; otherwise in the planned wording (a source's own words, datelines
   dropped, a pronoun speaker named). A fused sentence that fails is listed as removed.
4. **Corroboration is provenance**: the outlets named after a sentence are exactly those
   whose own article supports it on their own (`Validator.support_by_article`), and its
   spans are theirs. What an opinion piece says is attributed to it ("In an opinion
   piece, X argued that ..."), and is supported by that article alone.

A value the outlets disagree on is never stated as settled: it appears only in the
disagreements section. Nothing reaches `Story.sentences` without passing the
validator. A failed model call fails the story (`error`).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from summarize.corpus import Corpus
from summarize.model.templates import FuseGroup, build_fuse_prompt
from summarize.models import Claim, RemovedSentence, Sentence, Story, Verdict
from summarize.story.brief import (
    WORDS,
    Fact,
    has_verb,
    lede_shaped,
    opinion_articles,
    plan,
    writes_opinion,
)
from summarize.story.facts import (
    FactGroup,
    carries_value,
    disputed_keys,
    fact_groups,
    is_bare_quote,
    repeats,
    unattributed_quote,
)
from summarize.story.readable import fragment_reason, readable
from summarize.story.repair import ids_for_spans
from summarize.support.attribution import attribute
from summarize.support.neutral import loaded_wording, subjective_words
from summarize.text.segment import split_sentences
from summarize.text.values import extract_values, quantities
from summarize.text.words import STOPWORDS, content_keys, key_found, prefixes, shorten

HEADLINE_MAX_CHARS = 110  # a headline, not a sentence
HEADLINE_MAX_WORDS = 14
FUSED_MAX_CHARS = 320  # one sentence; a model that loops stops here
TOKENS_PER_FACT = 110  # answer tokens allowed per fused sentence
HEADLINE_TOKENS = 50
MIN_FUSED_WORDS = 6  # a fused "sentence" shorter than this is a fragment


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


def short_reason(verdict: Verdict | None, sources: list[Sentence] | None = None) -> str:
    """One short plain reason for a removal ("the sources give 9-4, not 4-9")."""
    if verdict and verdict.supported and verdict.loaded:
        return verdict.loaded
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


MAX_FUSED = 3  # facts the model fuses per story: the lede and two more (time on 2 cores)


def _fused_problem(text: str, verdict: Verdict, group: FactGroup, keys: set[str]) -> str:
    """Why a supported fused sentence is still not shown ("" when it may be)."""
    if len(text.split()) < MIN_FUSED_WORDS or not _END.search(text):
        return "not a complete sentence"
    if fragment_reason(text):
        return f"not a sentence a reader can read on its own: {fragment_reason(text)}"
    if carries_value(text, keys):
        return "states a value the outlets disagree on"
    if unattributed_quote(text, group.usable):
        return "repeats a quotation without saying who said it"
    if subjective_words(text) or loaded_wording(text):
        words = [*subjective_words(text), *(w.written for w in loaded_wording(text))]
        return "not neutral: " + ", ".join(f"'{w}'" for w in words[:3])
    if not set(ids_for_spans(verdict, {s.id: s for s in group.members})):
        return "says what other sentences say, not its own fact's"
    extra = uncovered_words(text, verdict)
    if extra:
        return "adds words its cited sentences do not use: " + ", ".join(
            f"'{w}'" for w in extra[:4]
        )
    return ""


_LEAD_WORD = re.compile(r"\b(?:about|around|some|nearly|almost|over|more than|on|by)\s*$", re.I)
_TIME_OF_DAY = re.compile(r"^\s*(?:morning|afternoon|evening|night)\b")


def _without(members: list[Sentence], keys: set[str]) -> list[Sentence]:
    """The sentences as the model is shown them when each states a disputed value: those
    values taken out ("About 1,200 people were evacuated" -> "People were evacuated"),
    datelines dropped, so the model words the fact without them. Ids and offsets stay;
    only the text shown changes."""
    return [s.model_copy(update={"text": _strip_values(s, keys)[0]}) for s in members]


def _strip_values(sentence: Sentence, keys: set[str]) -> tuple[str, bool]:
    """The sentence's readable text without its disputed values, and whether every cut
    was clean: a count that opened the sentence ("About 1,200 people ..."), or a day
    or date with its preposition ("... on Friday night"). Only a clean cut may stand
    as a sentence of its own."""
    shown = readable(sentence)
    text = shown.text if shown else sentence.text
    clean = True
    for value in sorted(extract_values(text), key=lambda v: -v.start):
        if value.key not in keys:
            continue
        before = _LEAD_WORD.sub("", text[: value.start])
        after = _TIME_OF_DAY.sub("", text[value.start + len(value.value) :])
        opens = not before.strip()
        dated = value.kind in ("day", "date") and before != text[: value.start]
        clean = clean and (opens or dated)
        text = before + after
    text = re.sub(r"\s+([,.;:])", r"\1", " ".join(text.split()))
    return text[:1].upper() + text[1:], clean


def provenance(text: str, corpus: Corpus, validator) -> tuple[Claim | None, str]:
    """The claim for `text` with the outlets that support it each on their own (and
    their spans), or (None, why not)."""
    verdict = validator.check(text, corpus)
    if not verdict.publishable:
        return None, short_reason(verdict)
    own = validator.support_by_article(text, corpus)
    if not own:
        return None, "no single outlet's article supports all of it"
    spans = [span for v in own.values() for span in v.spans]
    verdict = verdict.model_copy(update={"spans": spans})
    outlets = [a.label for a in corpus.lettered if a.id in own]
    cited = ids_for_spans(verdict, corpus.by_id)
    return Claim(text=text, cited=cited, verdict=verdict, outlets=outlets), ""


def _planned(
    fact: Fact, corpus: Corpus, validator, by_article, common: frozenset[str]
) -> Claim | None:
    """The fact in its planned wording; an opinion piece's fact, or a one-outlet fact in
    loaded words, attributed to its outlet."""
    outlet = by_article[fact.member.article_id].label
    if fact.opinion:
        texts = [attribute(outlet, fact.text, opinion=True, common=common)]
    elif fact.group.n_outlets == 1 and (subjective_words(fact.text) or loaded_wording(fact.text)):
        texts = [attribute(outlet, fact.text, common=common)]
    else:
        texts = [fact.text]
    for text in texts:
        claim, _ = provenance(text, corpus, validator)
        if claim is not None:
            return claim
    return None


def plan_brief(
    groups: list[FactGroup], corpus: Corpus, validator, *, words: int, max_facts: int
) -> list[Fact]:
    """`brief.plan`, with the outlets that report a text counted by the validator."""
    return plan(
        groups,
        corpus,
        words=words,
        max_facts=max_facts,
        reported_by=lambda text: len(validator.support_by_article(text, corpus)),
    )


def compose(
    story: Story,
    corpus: Corpus,
    *,
    client,
    validator,
    max_sentences: int,
    max_repairs: int = 0,
    groups: list[FactGroup] | None = None,
    words: int = WORDS,
    facts: list[Fact] | None = None,
) -> Story:
    """Fill `story` (its disagreements already found) with a brief of about `words`
    words from fact groups (`groups`, else found here): see the module doc.
    `max_repairs` is accepted for the draft design's signature; a fused sentence that
    fails is replaced by its planned wording, not repaired."""
    if groups is None:
        groups = fact_groups(corpus, story.disagreements)
    if facts is None:
        facts = plan_brief(groups, corpus, validator, words=words, max_facts=max_sentences)
    keys = disputed_keys(story.disagreements)
    by_article = {a.id: a for a in corpus.lettered}
    disputed = [g for g in groups if g.disputed]
    if disputed:
        story.notes.append(
            f"{len(disputed)} fact(s) left to the disagreements section: the outlets give "
            "different values"
        )
    to_fuse = [f for f in facts if f.group.n_outlets > 1 and not f.opinion]
    rival = facts[0].rival if facts else None
    if rival is not None:  # the main fact, which every outlet words with a disputed value
        to_fuse.insert(0, Fact(rival, rival.members[0], rival.members[0].text, role="lede"))
    to_fuse = to_fuse[:MAX_FUSED]

    from summarize.model.client import ModelError

    answer = FuseAnswer()  # no fact two outlets report: nothing to fuse, no model call
    if to_fuse:
        shown = [f.group.usable or _without(f.group.members, keys) for f in to_fuse]
        schema = fuse_schema([[s.id for s in members] for members in shown])
        prompt = build_fuse_prompt(
            [
                FuseGroup(members, [by_article[s.article_id].label for s in members])
                for members in shown
            ],
            context=[f.member for f in facts if f.group.n_outlets == 1 and not f.opinion][:3],
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
            return story.model_failed(exc)
        story.record(call)
    else:
        story.notes.append("no fact reported by two outlets: the sources' own words, no model")

    fused: dict[int, Claim] = {}  # id(fact) -> a fused claim that may replace its wording
    for n, fact in enumerate(to_fuse, start=1):
        raw = answer.sentence(n)
        text = full_stop(one_sentence(" ".join((raw.text if raw else "").split())))
        if not text:
            continue
        cited = [c for c in (raw.cites if raw else []) if c in fact.group.ids]
        verdict = validator.check(text, corpus, [corpus.by_id[c] for c in cited])
        problem = _fused_problem(text, verdict, fact.group, keys) if verdict.publishable else ""
        claim = None
        if verdict.publishable and not problem:
            claim, problem = provenance(text, corpus, validator)
        if claim is None:
            reason = problem or short_reason(verdict, fact.group.usable)
            story.removed.append(RemovedSentence(text=text, reason=reason, verdict=verdict))
        else:
            fused[id(fact)] = claim

    earlier: list[str] = []
    verbatim = 0
    common = lowercase_words(corpus)
    lede = fused.get(id(to_fuse[0])) if rival is not None else None
    if lede is None and rival is not None:  # no model wording: a clean cut of a member
        for member in rival.members:
            text, clean = _strip_values(member, keys)
            if clean and not carries_value(text, keys) and lede_shaped(text):
                lede, _ = provenance(text, corpus, validator)
                if lede is not None:
                    break
    if lede is not None:  # worded without the disputed value: it opens the story
        story.sentences.append(lede)
        earlier.append(lede.text)
    for fact in facts:
        planned = _planned(fact, corpus, validator, by_article, common)
        claim = fused.get(id(fact))
        if claim is None or (planned is not None and len(planned.outlets) > len(claim.outlets)):
            claim = planned
            verbatim += fact.group.n_outlets > 1
        if claim is None or any(repeats(claim.text, e) for e in earlier):
            continue
        story.sentences.append(claim)
        earlier.append(claim.text)
    if verbatim:
        story.notes.append(f"{verbatim} fact(s) given in a source's own words")
    if not story.sentences:
        story.notes.append("no fact of the sources could be stated with support")
    story.headline = _headline(answer.title, story, corpus, validator, keys)
    return story


def lowercase_words(corpus: Corpus) -> frozenset[str]:
    """Words the sources write in lower case ("provincial", "evacuated"): common words,
    not names, when they open a sentence."""
    return frozenset(w for s in corpus.usable for w in re.findall(r"\b[a-z]+\b", s.text))


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
    """The model's headline if short, supported, neutral, a whole statement and about the
    lede (a third of its content words in the lede); else such an article title (never
    an opinion piece's), the one closest to the lede first; else the first such
    candidate not about the lede; else the lede itself."""
    candidates = []
    proposed = sentence_case(" ".join(proposed.split()).rstrip("."), corpus)
    if proposed:
        candidates.append(proposed)
    opinions = opinion_articles(corpus)
    lede = set(content_keys(story.sentences[0].text)) if story.sentences else set()
    titles = [  # in sentence case: "Senate Approves Hate Crimes Bill" names no "Approves"
        sentence_case(" ".join(a.title.split()), corpus)
        for a in corpus.lettered
        if a.title.strip() and a.id not in opinions
    ]
    candidates += sorted(titles, key=lambda t: -len(lede & set(content_keys(t))))

    def about_lede(text: str) -> bool:
        mine = set(content_keys(text))
        return not lede or len(mine & lede) * 3 >= len(mine)

    valid = [(i, t) for i, t in enumerate(candidates) if _headline_problem(t, corpus, keys) == ""]
    for i, text in sorted(valid, key=lambda it: not about_lede(it[1])):  # stable: order kept
        verdict = validator.check(text, corpus)
        if verdict.publishable:
            if i > 0 and proposed:
                story.notes.append(f"headline “{shorten(proposed)}” not used; used “{text}”")
            return Claim(text=text, cited=ids_for_spans(verdict, corpus.by_id), verdict=verdict)
    if story.sentences:
        story.notes.append("no short supported headline; the lede stands in")
        return story.sentences[0].model_copy()
    return None


def _headline_problem(text: str, corpus: Corpus, keys: set[str]) -> str:
    """Why `text` cannot be a headline ("" when it can)."""
    if len(text.split()) > HEADLINE_MAX_WORDS:
        return "too long"
    if carries_value(text, keys):
        return "states a disputed value"
    if fragment_reason(text) or is_bare_quote(text) or writes_opinion(text):
        return "a fragment, a bare quotation or an opinion"
    if not has_verb(text):  # a topic, not a headline: "Biden's dishonest sales pitch"
        return "no verb"
    if loaded_wording(text) or subjective_words(text) or unattributed_quote(text, corpus.usable):
        return "not neutral"
    return ""


__all__ = ["compose", "plan_brief", "fuse_schema", "short_reason", "FuseAnswer"]
