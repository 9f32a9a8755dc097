"""One plain view of a Story/Digest/ValidationReport shared by every renderer.

Building it once keeps the renderers in agreement: the same citation numbers,
the same context around a quote, the same outlets line. Nothing here escapes
anything; each renderer escapes for its own format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from summarize.models import Article, Claim, Digest, Span, Story, Usage, ValidationReport

CONTEXT_CHARS = 160
_WS = re.compile(r"\s+")


def one_line(text: str) -> str:
    """Collapse runs of whitespace (newlines included) so a quote stays on one line."""
    return _WS.sub(" ", text).strip()


def safe_url(url: str | None) -> str | None:
    """The URL when it is plain http(s), else None: never link `javascript:` and friends."""
    if not url:
        return None
    url = url.strip()
    if any(ord(ch) < 33 or ch == "\x7f" for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def format_time(when: datetime | None) -> str:
    if when is None:
        return ""
    if (when.hour, when.minute, when.second) == (0, 0, 0):
        return when.strftime("%Y-%m-%d")
    text = when.strftime("%Y-%m-%d %H:%M")
    return f"{text} {when.tzname()}" if when.tzinfo else text


def usage_line(usage: Usage) -> str:
    if not usage.calls:
        return "no model calls"
    return (
        f"{usage.calls} model call{'s' if usage.calls != 1 else ''}"
        f" ({usage.cached_calls} cached), {usage.prompt_tokens:,} prompt +"
        f" {usage.completion_tokens:,} completion tokens, {usage.latency_s:.1f} s"
    )


def outlets_line(story: Story) -> str:
    # the digest's coverage names outlets as the outlets file does (and splits merged ones)
    outlets = story.coverage.outlets if story.coverage and story.coverage.outlets else story.outlets
    n_articles = len(story.articles)
    if len(outlets) >= 2:
        return f"{len(outlets)} outlets: {', '.join(outlets)}"
    if n_articles == 1:
        return f"single source: {outlets[0]}" if outlets else "single source"
    if outlets:
        return f"1 outlet: {outlets[0]} ({n_articles} articles)"
    return f"{n_articles} articles"


def _context(text: str, start: int, end: int) -> tuple[str, str]:
    """A little text before and after a span, cut at word boundaries, with ellipses."""
    lo = max(0, start - CONTEXT_CHARS)
    before = text[lo:start]
    if lo > 0:
        cut = before.find(" ")
        before = "…" + (before[cut + 1 :] if 0 <= cut < len(before) - 1 else before)
    hi = min(len(text), end + CONTEXT_CHARS)
    after = text[end:hi]
    if hi < len(text):
        cut = after.rfind(" ")
        after = (after[:cut] if cut > 0 else after) + "…"
    return before, after


@dataclass
class Cite:
    """One cited span, numbered once per document (the same span keeps its number)."""

    n: int
    article_id: str
    outlet: str
    title: str
    start: int
    end: int
    quote: str
    before: str
    after: str

    def as_data(self) -> dict:
        return {
            "n": self.n,
            "article": self.article_id,
            "outlet": self.outlet,
            "title": self.title,
            "start": self.start,
            "end": self.end,
            "quote": self.quote,
            "before": self.before,
            "after": self.after,
        }


class Citations:
    """Numbers spans across a whole document, in order of first citation."""

    def __init__(self) -> None:
        self.by_key: dict[tuple[str, int, int], Cite] = {}

    def add(self, span: Span, articles: dict[str, Article]) -> Cite:
        key = (span.article_id, span.start, span.end)
        if key not in self.by_key:
            article = articles.get(span.article_id)
            text = article.text if article else ""
            before, after = _context(text, span.start, span.end) if article else ("", "")
            self.by_key[key] = Cite(
                n=len(self.by_key) + 1,
                article_id=span.article_id,
                outlet=(article.outlet if article and article.outlet else span.article_id),
                title=article.title if article else "",
                start=span.start,
                end=span.end,
                quote=span.quote,
                before=before,
                after=after,
            )
        return self.by_key[key]

    @property
    def all(self) -> list[Cite]:
        return list(self.by_key.values())


@dataclass
class SentenceView:
    text: str
    cites: list[Cite]
    supported: bool | None
    score: float | None
    reasons: list[str]
    cited_ids: list[str]
    new: bool = False  # an update's sentence not shown in an earlier digest
    outlets: list[str] = field(default_factory=list)  # the outlets that report it (Claim.outlets)
    # other outlets' versions of its value: "The Haverleigh Evening Post says 45"
    disputed: list[str] = field(default_factory=list)


@dataclass
class QuoteView:
    """A span shown inline (disagreements): outlet, quote and offsets."""

    article_id: str
    outlet: str
    start: int
    end: int
    quote: str


@dataclass
class DisagreementView:
    kind: str
    description: str
    values: list[str]
    quotes: list[QuoteView]


@dataclass
class PerspectiveView:
    """One side's coverage: "leaning: left", its outlets, what only it reports."""

    side: str  # "leaning: left"
    outlets: str
    sentences: list[SentenceView]
    covered: bool


@dataclass
class RemovedView:
    text: str
    reason: str
    score: float | None


@dataclass
class SourceView:
    article_id: str
    outlet: str
    title: str
    url: str | None
    link: str | None  # url only when safe to link
    published: str


@dataclass
class StoryView:
    rank: int
    title: str
    headline: SentenceView | None
    outlets: str
    sentences: list[SentenceView]
    removed: list[RemovedView]
    disagreements: list[DisagreementView]
    sources: list[SourceView]
    notes: list[str]
    error: str | None
    meta: str
    cites: list[Cite] = field(default_factory=list)
    status: str | None = None  # new | update | unchanged (a digest with state), else None
    status_line: str = ""  # "Update · first seen 2026-11-30 · 2 new sentences, shown first"
    coverage_line: str = ""  # "leaning: center 1, left 1, right 1 · country: Aldwen 2"
    one_sided: str = ""  # "covered by leaning: right only"
    story_id: str | None = None
    perspectives: list[PerspectiveView] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # Story.warnings, shown first
    bar_label: str = ""  # "leaning": the side label the coverage bar shows
    bar: list[tuple[str, int]] = field(default_factory=list)  # [("left", 1), ("center", 2)]

    @property
    def status_detail(self) -> str:
        """The status line without its first word, which the status badge shows."""
        return " · ".join(self.status_line.split(" · ")[1:])

    @property
    def collapsed(self) -> bool:
        """An unchanged story is shown folded: its title and status, the rest on request."""
        return self.status == "unchanged"


def _claim_view(claim: Claim, articles: dict[str, Article], cites: Citations) -> SentenceView:
    verdict = claim.verdict
    spans = verdict.spans if verdict else []
    return SentenceView(
        text=one_line(claim.text),
        cites=[cites.add(s, articles) for s in spans],
        supported=verdict.supported if verdict else None,
        score=verdict.score if verdict else None,
        reasons=list(verdict.reasons) if verdict else [],
        cited_ids=list(claim.cited),
        outlets=list(claim.outlets),
        disputed=[f"{d.outlet} says {d.value}" for d in (verdict.disputed if verdict else [])],
    )


def _quote(span: Span, articles: dict[str, Article]) -> QuoteView:
    article = articles.get(span.article_id)
    outlet = article.outlet if article and article.outlet else span.article_id
    return QuoteView(span.article_id, outlet, span.start, span.end, one_line(span.quote))


def sources(articles: list[Article]) -> list[SourceView]:
    return [
        SourceView(
            article_id=a.id,
            outlet=a.label,
            title=one_line(a.title),
            url=a.url,
            link=safe_url(a.url),
            published=format_time(a.published),
        )
        for a in articles
    ]


def status_line(story: Story) -> str:
    """The story's continuity status in words, or "" without state."""
    if story.status is None:
        return ""
    since = f"first seen {format_time(story.first_seen)}" if story.first_seen else ""
    if story.status == "new":
        return "New"
    if story.status == "unchanged":
        return " · ".join(p for p in ("Unchanged since the last digest", since) if p)
    n = len(story.new_sentences)
    fresh = f"{n} new sentence{'s' if n != 1 else ''}, shown first" if n else "new sources"
    return " · ".join(p for p in ("Update", since, fresh) if p)


_SIDE_ORDER = {"left": 0, "lean left": 1, "center": 2, "lean right": 3, "right": 4}


def coverage_bar(story: Story) -> tuple[str, list[tuple[str, int]]]:
    """The side label to draw as a bar (the perspectives' label, else "leaning") and its
    counts per value, left to right; ("", []) when the story has no such counts."""
    cov = story.coverage
    labels = cov.labels if cov else {}
    if not labels and story.perspectives:  # no outlets file in the digest: the articles'
        labels = {}
        for a in story.articles:
            for key, value in a.labels.items():
                labels.setdefault(key, {})
                labels[key][value] = labels[key].get(value, 0) + 1
    key = next((p.label for p in story.perspectives), "leaning")
    counts = labels.get(key, {})
    order = sorted(counts, key=lambda v: (_SIDE_ORDER.get(v.lower(), 9), v))
    return (key, [(v, counts[v]) for v in order]) if counts else ("", [])


def initials(name: str) -> str:
    """A short mark for an outlet: "The Kessary Klaxon" -> "KK", "Reuters" -> "Reu"."""
    words = [w for w in re.findall(r"[\w’'&]+", name) if w.lower() not in ("the", "of", "and")]
    if len(words) > 1:
        return "".join(w[0].upper() for w in words[:3])
    return (words[0][:3] if words else name[:3]) or "?"


def coverage_line(story: Story) -> str:
    """How the story's outlets spread over the outlets file's labels, or ""."""
    cov = story.coverage
    if cov is None or not cov.labels:
        return ""
    parts = [
        f"{label}: " + ", ".join(f"{value} {n}" for value, n in sorted(values.items()))
        for label, values in sorted(cov.labels.items())
    ]
    if cov.unlabelled:
        parts.append(f"not in the outlets file: {', '.join(cov.unlabelled)}")
    return " · ".join(parts)


def one_sided_line(story: Story) -> str:
    cov = story.coverage
    if cov is None or not cov.one_sided:
        return ""
    sides = ", ".join(f"{label}: {value}" for label, value in sorted(cov.one_sided.items()))
    return f"covered by {sides} only"


def story_view(story: Story, cites: Citations, rank: int = 1) -> StoryView:
    by_id = {a.id: a for a in story.articles}
    first = len(cites.by_key)
    headline = _claim_view(story.headline, by_id, cites) if story.headline else None
    fresh = set(story.new_sentences) if story.status == "update" else set()
    # an update's new sentences come first (numbered first), the rest in their order
    order = sorted(range(len(story.sentences)), key=lambda i: (i not in fresh, i))
    if headline and headline.text:
        title = headline.text
    else:
        title = next(
            (one_line(a.title) for a in story.articles if a.title.strip()), "Untitled story"
        )
    meta = [f"model {story.model}" if story.model else "", f"prompt {story.prompt_hash[:12]}"]
    bar_label, bar = coverage_bar(story)
    meta.append(usage_line(story.usage))
    view = StoryView(
        rank=rank,
        title=title,
        headline=headline,
        outlets=outlets_line(story),
        sentences=[_claim_view(story.sentences[i], by_id, cites) for i in order],
        removed=[
            RemovedView(
                one_line(r.text), one_line(r.reason), r.verdict.score if r.verdict else None
            )
            for r in story.removed
        ],
        disagreements=[
            DisagreementView(
                d.kind, one_line(d.description), list(d.values), [_quote(s, by_id) for s in d.spans]
            )
            for d in story.disagreements
        ],
        sources=sources(story.articles),
        notes=[one_line(n) for n in story.notes],
        error=story.error,
        meta=" · ".join(m for m in meta if m and m != "prompt "),
        status=story.status,
        status_line=status_line(story),
        coverage_line=coverage_line(story),
        one_sided=one_sided_line(story),
        story_id=story.story_id,
        warnings=[one_line(w) for w in story.warnings],
        bar_label=bar_label,
        bar=bar,
        perspectives=[
            PerspectiveView(
                side=f"{p.label}: {p.side}",
                outlets=", ".join(p.outlets),
                sentences=[_claim_view(c, by_id, cites) for c in p.claims],
                covered=p.covered,
            )
            for p in story.perspectives
        ],
    )
    for sentence, i in zip(view.sentences, order, strict=True):
        sentence.new = i in fresh
    view.cites = cites.all[first:]
    return view


def digest_summary(digest: Digest) -> str:
    parts = [
        f"{len(digest.stories)} stor{'ies' if len(digest.stories) != 1 else 'y'}",
        f"{digest.articles_read} article{'s' if digest.articles_read != 1 else ''} read",
    ]
    if digest.problems:
        skipped = len(digest.problems)
        parts.append(f"{skipped} input{'s' if skipped != 1 else ''} skipped")
    parts.append(usage_line(digest.usage))
    if digest.elapsed_s:
        parts.append(f"{digest.elapsed_s:.1f} s elapsed")
    return " · ".join(parts)


def report_claims(report: ValidationReport, cites: Citations) -> list[SentenceView]:
    by_id = {a.id: a for a in report.articles}
    return [_claim_view(c, by_id, cites) for c in report.claims]
