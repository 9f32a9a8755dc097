"""Prompts for the story model, built from template files in `prompts/`.

Templates are plain `string.Template` files (`$name` placeholders, no logic), so
wording can change without code changes; their content hash goes into
`Story.prompt_hash`, so every output says which wording produced it. Article
text is untrusted: it reaches the model only inside `<article>` delimiters, with
anything that looks like a delimiter or a sentence id neutralised.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

from summarize.corpus import Corpus
from summarize.models import Article, Disagreement, Sentence, Span
from summarize.settings import Settings, StorySettings

TEMPLATE_NAMES = (
    "story.system.md",
    "story.user.md",
    "repair.system.md",
    "repair.user.md",
    "fuse.system.md",
    "fuse.user.md",
)
# the llm-judge scorer's wording: loaded on its own, so it is not part of a story's prompt_hash
JUDGE_TEMPLATE_NAMES = ("judge.system.md", "judge.user.md")
CHARS_PER_TOKEN = 3.5  # conservative for English with a GPT-2 style BPE (SmolLM2)
CONTEXT_MARGIN = 64  # chat-template tokens and estimation slack


def prompts_dir() -> Path:
    """Where templates live: $SUMMARIZE_PROMPTS, the package copy, or the repo's `prompts/`."""
    env = os.environ.get("SUMMARIZE_PROMPTS")
    if env:
        return Path(env)
    packaged = Path(__file__).resolve().parents[1] / "prompts"
    if (packaged / TEMPLATE_NAMES[0]).is_file():
        return packaged
    return Path(__file__).resolve().parents[2] / "prompts"


def load_templates(
    directory: Path | None = None, names: tuple[str, ...] = TEMPLATE_NAMES
) -> dict[str, str]:
    """The template texts by file name; a missing file is an error, not a silent default."""
    directory = directory or prompts_dir()
    return {name: (directory / name).read_text(encoding="utf-8") for name in names}


def prompt_hash(directory: Path | None = None) -> str:
    """First 12 hex of sha256 over the template files (names and contents)."""
    digest = hashlib.sha256()
    for name, text in sorted(load_templates(directory).items()):
        digest.update(name.encode() + b"\0" + text.encode("utf-8") + b"\0")
    return digest.hexdigest()[:12]


def estimate_tokens(text: str) -> int:
    """A cheap upper-side token estimate: no tokenizer for the served model is at hand."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def context_budget(settings: Settings | None, fixed_prompt: str) -> int:
    """Tokens left for article text: the configured model's context window
    (`Settings.context_window`) minus the answer's room and the fixed part of the prompt.
    Without settings (a bare test client), the defaults of the embedded model."""
    defaults = Settings.model_fields
    context = getattr(settings, "context_window", None) or defaults["local_ctx"].default
    answer = getattr(settings, "max_tokens", None) or defaults["max_tokens"].default
    return max(256, context - answer - estimate_tokens(fixed_prompt) - CONTEXT_MARGIN)


_DELIM = re.compile(r"</?\s*(article|sentence|sources|notes)\b[^>]*>?", re.IGNORECASE)
_ID_TAG = re.compile(r"\[([A-Z]{1,2}\d+)\]")


def neutralise(text: str) -> str:
    """Article text with delimiter-like tags and `[A1]`-like ids defused, so it stays data."""
    text = _DELIM.sub(lambda m: m.group().replace("<", "‹").replace(">", "›"), text)
    text = _ID_TAG.sub(r"(\1)", text)
    return text.replace("\n", " ")


def _attr(text: str) -> str:
    return neutralise(text).replace('"', "'")


@dataclass
class NumberedArticle:
    """An article as the model sees it: its letter and the sentences shown."""

    letter: str
    article: Article
    sentences: list[Sentence]  # non-debris, in order; trimming may shorten it
    total: int = 0  # non-debris sentences before trimming

    def render(self, sentences: list[Sentence] | None = None) -> str:
        shown = self.sentences if sentences is None else sentences
        lines = [f"[{s.id}] {neutralise(s.text)}" for s in shown]
        head = f'<article id="{self.letter}" outlet="{_attr(self.article.outlet)}"'
        head += f' title="{_attr(self.article.title)}">'
        return "\n".join([head, *lines, "</article>"])


def number_articles(sources: Corpus | list[Article]) -> tuple[list[NumberedArticle], list[str]]:
    """The lettered articles with their usable sentences, as the corpus numbered them;
    notes name the articles skipped for having no text outside page debris."""
    corpus = Corpus.of(sources)
    numbered = []
    for article in corpus.lettered:
        kept = corpus.sentences_of(article)
        numbered.append(NumberedArticle(corpus.letters[article.id], article, kept, len(kept)))
    return numbered, corpus.notes()


def fit_to_budget(numbered: list[NumberedArticle], budget_tokens: int) -> list[str]:
    """Trim each article to its fair share of the budget (leading sentences kept); notes say so.

    Fair share: short articles keep all their text and leave the rest to longer ones.
    """
    costs = [estimate_tokens(n.render()) for n in numbered]
    if sum(costs) <= budget_tokens:
        return []
    notes: list[str] = []
    remaining = budget_tokens
    for rank, i in enumerate(sorted(range(len(numbered)), key=lambda i: costs[i])):
        share = remaining // (len(numbered) - rank)
        art = numbered[i]
        if costs[i] > share:
            kept: list[Sentence] = []
            for s in art.sentences:
                if kept and estimate_tokens(art.render([*kept, s])) > share:
                    break
                kept.append(s)
            art.sentences = kept
            notes.append(
                f"article {art.letter} ({art.article.id!r}) trimmed to its first {len(kept)} of "
                f"{art.total} sentences to fit the model's context ({budget_tokens} tokens "
                "for articles)"
            )
        remaining -= estimate_tokens(art.render())
    if remaining < 0:
        notes.append("articles exceed the context budget even at one sentence each")
    return notes


def _sentence_id(numbered: list[NumberedArticle], span: Span) -> str | None:
    for n in numbered:
        for s in n.sentences:
            if s.article_id == span.article_id and s.start <= span.start and span.end <= s.end:
                return s.id
    return None


def disagreement_hints(disagreements: list[Disagreement], numbered: list[NumberedArticle]) -> str:
    """One line per disagreement naming the sentence ids, so the model reports both values."""
    lines = []
    for d in disagreements:
        parts = []
        for value, span in zip(d.values, d.spans, strict=False):
            sid = _sentence_id(numbered, span)
            if sid:
                parts.append(f"[{sid}] says {neutralise(value)}")
        if len(parts) >= 2:
            lines.append(f"- Sources differ on the {d.kind}: " + "; ".join(parts) + ".")
    if not lines:
        return ""
    return "<notes>\n" + "\n".join(lines) + "\nReport both values and who gives each.\n</notes>\n"


@dataclass
class StoryPrompt:
    messages: list[dict[str, str]]
    notes: list[str] = field(default_factory=list)
    prompt_hash: str = ""
    shown: dict[str, Sentence] = field(default_factory=dict)  # id -> sentence the model saw


def build_story_prompt(
    numbered: list[NumberedArticle],
    *,
    disagreements: list[Disagreement] | None = None,
    budget_tokens: int | None = None,
    max_sentences: int = StorySettings().max_sentences,
    directory: Path | None = None,
) -> StoryPrompt:
    """System and user messages for one story, trimmed to `budget_tokens` of article text."""
    templates = load_templates(directory)
    notes = fit_to_budget(numbered, budget_tokens) if budget_tokens else []
    user = Template(templates["story.user.md"]).substitute(
        articles="\n".join(n.render() for n in numbered),
        hints=disagreement_hints(disagreements or [], numbered),
        max_sentences=max_sentences,
    )
    messages = [
        {"role": "system", "content": templates["story.system.md"].strip()},
        {"role": "user", "content": user.strip()},
    ]
    shown = {s.id: s for n in numbered for s in n.sentences}
    return StoryPrompt(messages, notes, prompt_hash(directory), shown)


@dataclass
class FuseGroup:
    """One fact group as the model sees it: its sentences and each one's outlet."""

    sentences: list[Sentence]
    outlets: list[str]


def build_fuse_prompt(
    groups: list[FuseGroup],
    *,
    context: list[Sentence] | None = None,
    leave_out: list[str] | None = None,
    directory: Path | None = None,
) -> list[dict[str, str]]:
    """Messages asking for one fused sentence per fact group (`f1`, `f2`, ...) and a headline.

    `context`: a few more source sentences (facts one outlet reports) the headline may
    draw on; `leave_out`: values the outlets disagree on, never to be stated.
    """
    templates = load_templates(directory)
    facts = []
    for n, group in enumerate(groups, start=1):
        lines = [
            f"[{s.id}] ({_attr(outlet)}) {neutralise(s.text)}"
            for s, outlet in zip(group.sentences, group.outlets, strict=True)
        ]
        facts.append("\n".join([f'<fact id="f{n}">', *lines, "</fact>"]))
    more = ""
    if context:
        lines = [f"[{s.id}] {neutralise(s.text)}" for s in context]
        more = "Other reported details (for the headline only):\n" + "\n".join(lines) + "\n"
    omit = ""
    if leave_out:
        omit = "Leave out (the outlets disagree on these): " + ", ".join(
            neutralise(v) for v in leave_out
        )
    user = Template(templates["fuse.user.md"]).substitute(
        facts="\n".join(facts) or "(no fact reported by more than one outlet)",
        context=more,
        leave_out=omit,
        count=len(groups),
    )
    return [
        {"role": "system", "content": templates["fuse.system.md"].strip()},
        {"role": "user", "content": user.strip()},
    ]


def build_repair_prompt(
    sentence: str, reasons: list[str], sources: list[Sentence], directory: Path | None = None
) -> list[dict[str, str]]:
    """Messages asking the model to fix one unsupported sentence or drop it."""
    templates = load_templates(directory)
    user = Template(templates["repair.user.md"]).substitute(
        sentence=neutralise(sentence),
        reasons="; ".join(reasons) or "the sources do not state it",
        sources="\n".join(f"[{s.id}] {neutralise(s.text)}" for s in sources),
    )
    return [
        {"role": "system", "content": templates["repair.system.md"].strip()},
        {"role": "user", "content": user.strip()},
    ]


def build_judge_prompt(
    sentences: list[str], sources: list[NumberedArticle], directory: Path | None = None
) -> list[dict[str, str]]:
    """Messages asking the judge for one verdict per summary sentence (numbered from 1).

    Both the source sentences and the summary sentences are untrusted: they appear only
    inside `<sources>` / `<sentence>` delimiters, neutralised like story prompts.
    """
    templates = load_templates(directory, JUDGE_TEMPLATE_NAMES)
    user = Template(templates["judge.user.md"]).substitute(
        sources="\n".join(n.render() for n in sources),
        sentences="\n".join(
            f'<sentence id="{i}">{neutralise(text)}</sentence>'
            for i, text in enumerate(sentences, start=1)
        ),
        count=len(sentences),
    )
    return [
        {"role": "system", "content": templates["judge.system.md"].strip()},
        {"role": "user", "content": user.strip()},
    ]
