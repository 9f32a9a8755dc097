"""Claim -> candidates -> scorer proposal -> policy -> Verdict, for a sentence or a summary.

The product's promise is that a sentence marked supported is supported, with
the exact spans that support it. Every path (validate, story, headline, repair)
goes through `Validator.check`, and every verdict through `policy.decide`, so the
same sentence and sources get the same verdict wherever they are checked. The
Validator caches one Retriever (and the sources' evidence) per article set, so
checking every sentence of a summary, or re-checking after a repair, segments and
embeds each source sentence at most once.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence

from summarize.corpus import Corpus
from summarize.errors import InputError
from summarize.models import (
    Article,
    Claim,
    Disagreement,
    Dispute,
    Sentence,
    ValidationReport,
    Verdict,
)
from summarize.support.attribution import split_attribution
from summarize.support.checks import Evidence, sources_evidence
from summarize.support.disagree import find_disagreements
from summarize.support.policy import decide, no_candidates, nothing_to_check
from summarize.support.retrieve import Candidate, Retrieval, Retriever
from summarize.support.scorers import Scorer, get_scorer
from summarize.support.scorers.base import SummaryScorer, cover_keys
from summarize.text.segment import split_sentences
from summarize.text.values import value_keys


def _key(articles: Sequence[Article]) -> str:
    h = hashlib.sha1()
    for a in articles:
        h.update(f"{a.id}\0{a.debris}\0{len(a.text)}\0".encode())
        h.update(a.text.encode("utf-8", "surrogatepass"))
    return h.hexdigest()


class Validator:
    """Checks claims against articles with a named (or given) scorer.

    `threshold` overrides the scorer's calibrated decision point; raise it to
    trade recall for precision (fewer false "supported").
    """

    def __init__(
        self,
        scorer: str | Scorer = "calibrated",
        threshold: float | None = None,
        k: int = 8,
        cache_size: int = 64,
        **scorer_options,
    ):
        self.scorer = get_scorer(scorer, **scorer_options) if isinstance(scorer, str) else scorer
        if threshold is not None:
            self.scorer.threshold = threshold
        self.k = k
        self._cache: OrderedDict[str, tuple[Retriever, Evidence]] = OrderedDict()
        self._cache_size = cache_size
        self._disagreements: OrderedDict[str, list[Disagreement]] = OrderedDict()

    @classmethod
    def from_settings(cls, settings=None, client=None) -> Validator:
        """The Validator that `settings.support` describes (scorer, threshold, k); a scorer
        that asks a model (llm-judge) gets `client`."""
        from summarize.settings import SupportSettings
        from summarize.support.scorers.base import needs_model

        support = getattr(settings, "support", None) or SupportSettings()
        options = {"client": client} if client is not None and needs_model(support.scorer) else {}
        if support.cascade and support.scorer == "calibrated":
            from summarize.support.scorers.judge import JudgeScorer

            options["judge"] = JudgeScorer(client=client, settings=settings)
        return cls(support.scorer, threshold=support.threshold, k=support.k, **options)

    def index(self, sources: Corpus | Sequence[Article]) -> tuple[Retriever, Evidence]:
        """The (cached) retriever and source evidence of this article set."""
        articles = sources.articles if isinstance(sources, Corpus) else list(sources)
        key = _key(articles)
        if key in self._cache:
            self._cache.move_to_end(key)
        else:
            corpus = Corpus.of(sources)  # segmented only on a cache miss
            # a scorer whose model uses no similarity spares the embedding model (the slow part)
            embeddings = getattr(self.scorer, "uses_embeddings", True)
            retriever = Retriever(corpus, use_embeddings=embeddings)
            self._cache[key] = (retriever, sources_evidence(corpus.articles))
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return self._cache[key]

    def disagreements(self, sources: Corpus | Sequence[Article]) -> list[Disagreement]:
        """The values the articles disagree on (`support/disagree.py`), computed once per
        article set."""
        articles = sources.articles if isinstance(sources, Corpus) else list(sources)
        if len(articles) < 2:
            return []
        key = _key(articles)
        if key not in self._disagreements:
            self._disagreements[key] = find_disagreements(Corpus.of(sources))
            while len(self._disagreements) > self._cache_size:
                self._disagreements.popitem(last=False)
        return self._disagreements[key]

    def check(
        self,
        text: str,
        sources: Corpus | Sequence[Article],
        cited: list[Sentence] | None = None,
    ) -> Verdict:
        """Verdict for one claim: the cited sentences are tried first, then all sources.
        A supported claim whose value another outlet states otherwise is marked
        `disputed`, with that outlet's value and span."""
        verdict = self._check(text, sources, cited)
        if not verdict.supported:
            return verdict
        articles = sources.articles if isinstance(sources, Corpus) else list(sources)
        disputed = disputes(text, verdict, self.disagreements(articles), articles)
        return verdict.model_copy(update={"disputed": disputed}) if disputed else verdict

    def _check(
        self,
        text: str,
        sources: Corpus | Sequence[Article],
        cited: list[Sentence] | None = None,
    ) -> Verdict:
        if not text.strip():
            raise InputError("cannot validate an empty sentence")
        if not cover_keys(text):
            return nothing_to_check(self.scorer.name)
        retriever, evidence = self.index(sources)
        articles = retriever.articles
        attributed = split_attribution(text, articles)
        if attributed is not None:  # "According to X, ...": X's own article is the evidence
            own, body = attributed
            verdict = self.check(body, own)
            note = f"attributed to {own[0].label}: checked against its article alone"
            return verdict.model_copy(update={"reasons": [note, *verdict.reasons]})

        def judged(candidates: list[Candidate]) -> Verdict:
            if not candidates:
                return no_candidates(self.scorer.name)
            proposal = self.scorer.score(
                text, Retrieval(candidates, articles, evidence, retriever.sentences)
            )
            return decide(text, proposal, articles, evidence)

        if not cited:
            return judged(retriever.candidates(text, k=self.k))
        usable = [s for s in cited if s.id in retriever.by_id]
        cands = retriever.candidates(text, k=self.k, prefer=usable)
        own = [c for c in cands if all(s in usable for s in c.sentences)]
        if own:
            verdict = judged(own)
            if verdict.supported:
                return verdict
        ignored = [s.id for s in cited if s.id not in retriever.by_id]
        note = [f"cited {', '.join(ignored)} is page debris or unknown"] if ignored else []
        wide = judged(retriever.candidates(text, k=self.k))
        if wide.supported and own:
            note.append("the cited sentences do not support it; other sentences do")
        elif not wide.supported and own and verdict.score > wide.score:
            wide = verdict
        return wide.model_copy(update={"reasons": note + wide.reasons})

    def support_by_article(
        self, text: str, sources: Corpus | Sequence[Article]
    ) -> dict[str, Verdict]:
        """The verdict of each article that, on its own, supports `text`, by article id:
        the outlets that may be named after it ("reported by"). A sentence that only
        several articles support together has none. An attributed sentence ("According
        to X, ...") is X's alone."""
        articles = sources.articles if isinstance(sources, Corpus) else list(sources)
        attributed = split_attribution(text, articles)
        if attributed is not None:
            articles = attributed[0]
        out = {}
        for article in articles:
            verdict = self.check(text, [article])
            if verdict.supported:
                out[article.id] = verdict
        return out

    def validate(self, articles: Sequence[Article], summary: str | list[str]) -> ValidationReport:
        """Check every sentence of `summary` (a text, split here, or a list of sentences).

        A scorer with `score_summary` judges all sentences in one call (no cited-first
        pass: a summary to validate cites nothing); any other scorer goes through `check`.
        """
        if isinstance(summary, str):
            sentences = [summary[s:e] for s, e in split_sentences(summary)]
        else:
            sentences = [s.strip() for s in summary if s and s.strip()]
        if not sentences:
            raise InputError("the summary has no sentences to validate")
        if not articles:
            raise InputError("no articles to validate against")
        if isinstance(self.scorer, SummaryScorer):
            verdicts = self._check_at_once(sentences, articles, self.scorer)
        else:
            verdicts = [self.check(s, articles) for s in sentences]
        claims = [Claim(text=s, verdict=v) for s, v in zip(sentences, verdicts, strict=True)]
        return ValidationReport(articles=list(articles), claims=claims)

    def _check_at_once(
        self, sentences: list[str], articles: Sequence[Article], scorer: SummaryScorer
    ) -> list[Verdict]:
        """A scorer with `score_summary` (e.g. the LLM judge) gets every checkable
        sentence with its candidates in one call; what `check` does per sentence."""
        retriever, evidence = self.index(articles)
        articles = retriever.articles
        verdicts = [None if cover_keys(s) else nothing_to_check(scorer.name) for s in sentences]
        todo = [i for i, v in enumerate(verdicts) if v is None]
        for i in todo:
            if not retriever.candidates(sentences[i], k=1):
                verdicts[i] = no_candidates(scorer.name)
        todo = [i for i, v in enumerate(verdicts) if v is None]
        if todo:
            found = [
                Retrieval(
                    retriever.candidates(sentences[i], k=self.k),
                    articles,
                    evidence,
                    retriever.sentences,
                )
                for i in todo
            ]
            judged = scorer.score_summary([sentences[i] for i in todo], found)
            for i, proposal in zip(todo, judged, strict=True):
                verdicts[i] = decide(sentences[i], proposal, articles, evidence)
        return [v for v in verdicts if v is not None]


def disputes(
    text: str, verdict: Verdict, disagreements: Sequence[Disagreement], articles: Sequence[Article]
) -> list[Dispute]:
    """The other outlets' values for what `text` states on its own spans: a disagreement
    one of whose passages the verdict rests on, and whose value there the claim states."""
    labels = {a.id: a.label for a in articles}
    out: list[Dispute] = []
    for d in disagreements:
        sides = [(d.spans[0], 0), (d.spans[1], 1)]
        # any further passage states one of the two values
        sides += [(s, 0 if d.values[0].lower() in s.quote.lower() else 1) for s in d.spans[2:]]
        for own, k in sides:
            rests = any(
                s.article_id == own.article_id and s.start < own.end and own.start < s.end
                for s in verdict.spans
            )
            if not rests or not _states(text, d.values[k]):
                continue
            for other, j in sides:
                if j != k and other.article_id != own.article_id and other.article_id in labels:
                    out.append(
                        Dispute(
                            stated=d.values[k],
                            value=d.values[j],
                            outlet=labels[other.article_id],
                            span=other,
                        )
                    )
            break
    unique = {(x.outlet, x.value): x for x in out}
    return list(unique.values())


def _states(text: str, value: str) -> bool:
    """The claim states `value` ("60", "Thursday", "Mallow Lane")."""
    keys = value_keys(value)
    if keys and keys & value_keys(text):
        return True
    return value.lower() in text.lower()


_default: dict[str, Validator] = {}


def validate(
    articles: Sequence[Article], summary: str | list[str], scorer: str = "calibrated"
) -> ValidationReport:
    """Convenience: validate with a process-wide Validator for `scorer`."""
    if scorer not in _default:
        _default[scorer] = Validator(scorer)
    return _default[scorer].validate(articles, summary)
