"""The contract between pipeline stages and of the Python API.

Every stage takes and returns these pydantic models and nothing else, so a stage
can be replaced without touching the others. JSON output is `model_dump_json()`
of these models; `model_validate_json()` reads it back and re-checks every span.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, ValidationInfo, computed_field, model_validator

Range = tuple[int, int]


class InputProblem(BaseModel):
    """An input that could not be used, and why: reported, never fatal to the run."""

    path: str
    problem: str

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"


class Article(BaseModel):
    """One source article. `text` is stored exactly as offsets refer to it.

    `debris` lists `[start, end)` ranges of `text` that are page furniture
    (banners, menus, related headlines, captions): kept so offsets stay true,
    never usable as support.
    """

    id: str
    title: str = ""
    outlet: str = ""
    url: str | None = None
    published: datetime | None = None
    text: str
    debris: list[Range] = Field(default_factory=list)
    path: str | None = None
    language: str | None = None
    # the outlet's labels from the outlets file ({"leaning": "left", "country": "..."})
    labels: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _debris_inside_text(self) -> Article:
        for start, end in self.debris:
            if not 0 <= start <= end <= len(self.text):
                raise ValueError(f"debris range {start}:{end} outside text of {self.id!r}")
        return self

    @property
    def label(self) -> str:
        """How a reader knows the article: its outlet, else its id."""
        return self.outlet or self.id

    def is_debris(self, start: int, end: int) -> bool:
        """True when `[start, end)` overlaps any debris range."""
        return any(s < end and start < e for s, e in self.debris)

    def clean_text(self) -> str:
        """The text with its debris blanked out (same length, so offsets stay true)."""
        text = self.text
        for start, end in sorted(self.debris):
            text = text[:start] + " " * (end - start) + text[end:]
        return text

    def span(self, start: int, end: int) -> Span:
        """The span of this article at `[start, end)`, quote taken from the text."""
        return Span(article_id=self.id, start=start, end=end, quote=self.text[start:end])


class Span(BaseModel):
    """A passage of an article by character offsets: `article.text[start:end] == quote`.

    Offsets count Python characters (code points), not bytes. Validating with
    `context={"articles": {id: Article}}` checks the quote against the article.
    """

    article_id: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    quote: str

    @model_validator(mode="after")
    def _quote_matches(self, info: ValidationInfo) -> Span:
        if self.end < self.start or len(self.quote) != self.end - self.start:
            raise ValueError(f"span {self.start}:{self.end} does not fit its quote")
        articles = (info.context or {}).get("articles") if info else None
        if articles is not None:
            check_span(self, articles)
        return self


def check_span(span: Span, articles: dict[str, Article]) -> None:
    """Raise ValueError unless the span quotes its article exactly."""
    article = articles.get(span.article_id)
    if article is None:
        raise ValueError(f"span cites unknown article {span.article_id!r}")
    if article.text[span.start : span.end] != span.quote:
        raise ValueError(f"span {span.start}:{span.end} of {span.article_id!r} != its quote")


class Sentence(BaseModel):
    """A sentence of a source article, as numbered for the model (`A3` = article A, 3rd)."""

    id: str
    article_id: str
    start: int
    end: int
    text: str
    debris: bool = False


class Dispute(BaseModel):
    """Another outlet states a different value for what a supported claim says: the
    claim stands on its own span, and the reader sees the other version."""

    stated: str  # the claim's value, as its own source writes it
    value: str  # the other outlet's value
    outlet: str  # the other outlet, as readers know it
    span: Span  # where the other outlet states it


class Verdict(BaseModel):
    """Whether the sources support a claim, how sure, where, and why (or why not)."""

    supported: bool
    score: float = Field(ge=0.0, le=1.0)
    spans: list[Span] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)
    scorer: str = ""
    # loaded wording used in the claim's own voice ("not neutral: 'cash grab' is The
    # Vennick Post's wording"): a neutrality finding, not a support one
    loaded: str = ""
    # other outlets' different values for what it states (a supported claim only)
    disputed: list[Dispute] = Field(default_factory=list)

    @property
    def publishable(self) -> bool:
        """Supported and neutral: what a summary may say in its own voice."""
        return self.supported and not self.loaded


class Claim(BaseModel):
    """A summary sentence under check: its text, what it cites, and the verdict."""

    text: str
    cited: list[str] = Field(default_factory=list)
    verdict: Verdict | None = None
    # the outlets that report it (in a story: those whose sentences support it or state
    # the same fact); empty when not computed, e.g. in a validation report
    outlets: list[str] = Field(default_factory=list)


class ValidationReport(BaseModel):
    """The validator's answer for one summary against its sources."""

    articles: list[Article]
    claims: list[Claim]
    problems: list[InputProblem] = Field(default_factory=list)

    @computed_field
    @property
    def all_supported(self) -> bool:
        return bool(self.claims) and all(c.verdict and c.verdict.supported for c in self.claims)

    @model_validator(mode="after")
    def _spans_quote_articles(self) -> ValidationReport:
        _check_claim_spans(self.articles, self.claims)
        return self


def _check_claim_spans(articles: list[Article], claims: list[Claim]) -> None:
    by_id = {a.id: a for a in articles}
    for claim in claims:
        for span in claim.verdict.spans if claim.verdict else []:
            check_span(span, by_id)


class ModelCall(BaseModel):
    """One request to the language model: for usage accounting and debugging."""

    purpose: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    cached: bool = False
    attempts: int = 1
    mode: Literal["json_schema", "json_object", "text", ""] = ""


class Usage(BaseModel):
    calls: int = 0
    cached_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0

    def add(self, call: ModelCall) -> None:
        self.calls += 1
        self.cached_calls += int(call.cached)
        self.prompt_tokens += call.prompt_tokens
        self.completion_tokens += call.completion_tokens
        self.latency_s += call.latency_s


class RemovedSentence(BaseModel):
    """A sentence the model wrote that stayed unsupported after repair: shown, never passed off."""

    text: str
    reason: str
    verdict: Verdict | None = None


class Disagreement(BaseModel):
    """Sources state different values for the same fact. `spans[0]` and `spans[1]` state
    `values[0]` and `values[1]`; any further span is another outlet's passage that states
    one of them (the description names every outlet on each side)."""

    kind: Literal["date", "day", "number", "name", "place", "other"]
    description: str
    values: list[str]
    spans: list[Span]


class Coverage(BaseModel):
    """Who covered a story, and how those outlets spread over the user's labels.

    `labels` counts the story's outlets per label and value, from the outlets file
    (`{"leaning": {"left": 1, "right": 2}}`); `unlabelled` names the outlets the file
    does not describe. `one_sided` holds, for each side label (`digest.sides`), the one
    value all the story's labelled outlets share, where the digest's outlets have
    several: a story covered by one side only.
    """

    outlets: list[str] = Field(default_factory=list)
    labels: dict[str, dict[str, int]] = Field(default_factory=dict)
    unlabelled: list[str] = Field(default_factory=list)
    one_sided: dict[str, str] = Field(default_factory=dict)


class Perspective(BaseModel):
    """How one side's coverage differs: for a side label (`label`, e.g. "leaning") and
    one of its values (`side`, e.g. "left"), the outlets of that side in the story, and
    what they report that the other sides' outlets do not, as attributed and validated
    claims. `covered` is False when no outlet of that side covered the story."""

    label: str
    side: str
    outlets: list[str] = Field(default_factory=list)
    claims: list[Claim] = Field(default_factory=list)
    covered: bool = True


StoryStatus = Literal["new", "update", "unchanged"]


class Story(BaseModel):
    """A neutral combined summary of one event, every sentence validated and cited."""

    headline: Claim | None = None
    articles: list[Article]
    sentences: list[Claim] = Field(default_factory=list)
    removed: list[RemovedSentence] = Field(default_factory=list)
    disagreements: list[Disagreement] = Field(default_factory=list)
    # how the coverage differs by side, where the outlets' sides are known
    perspectives: list[Perspective] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    # what a reader should know before trusting the story (e.g. the articles cover
    # several events); shown above the story
    warnings: list[str] = Field(default_factory=list)
    error: str | None = None
    model: str = ""
    prompt_hash: str = ""
    usage: Usage = Field(default_factory=Usage)
    calls: list[ModelCall] = Field(default_factory=list)
    # Digest only. A stable id (the same story on later days keeps it: the Atom entry id),
    # and, when the digest keeps state across days (`--state`), whether the story is
    # `new`, an `update` of one shown before (`new_sentences`: indexes of the sentences
    # not shown before) or `unchanged`; None without state.
    story_id: str | None = None
    status: StoryStatus | None = None
    new_sentences: list[int] = Field(default_factory=list)
    first_seen: datetime | None = None
    updated: datetime | None = None  # when its content last changed (Atom <updated>)
    coverage: Coverage | None = None

    def record(self, call: ModelCall) -> None:
        """Account for one model call (the story's model is the first call's)."""
        self.calls.append(call)
        self.usage.add(call)
        if call.model and not self.model:
            self.model = call.model

    def model_failed(self, exc: Exception) -> Story:
        """The story after a failed model call: the call accounted for (when the error
        carries it) and the error set."""
        if getattr(exc, "call", None) is not None:
            self.record(exc.call)
        self.error = f"the model failed: {exc}"
        return self

    @computed_field
    @property
    def outlets(self) -> list[str]:
        return sorted({a.outlet for a in self.articles if a.outlet})

    @model_validator(mode="after")
    def _spans_quote_articles(self) -> Story:
        claims = self.sentences + ([self.headline] if self.headline else [])
        _check_claim_spans(self.articles, claims)
        by_id = {a.id: a for a in self.articles}
        for d in self.disagreements:
            for span in d.spans:
                check_span(span, by_id)
        return self


class Digest(BaseModel):
    """One day's digest: stories ranked by how many outlets cover them."""

    title: str = "Daily digest"
    date: str | None = None
    stories: list[Story] = Field(default_factory=list)
    problems: list[InputProblem] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    articles_read: int = 0
    usage: Usage = Field(default_factory=Usage)
    elapsed_s: float = 0.0
    # True when the run was interrupted (Ctrl-C): only the stories finished before it
    # are here; a rerun resumes from the model response cache. A note says so too.
    incomplete: bool = False
    generated: datetime | None = None  # when the digest was built (UTC)
