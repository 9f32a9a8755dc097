"""Compact terminal view with rich.

Article text goes in as `Text` objects, never as markup strings, so a `[bold]`
or `[link=...]` inside an article cannot restyle or hyperlink the output.
"""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from summarize.models import Digest, Story, ValidationReport
from summarize.render._view import (
    Citations,
    Cite,
    SentenceView,
    StoryView,
    digest_summary,
    report_claims,
    story_view,
)

INDENT = "    "


def _verdict(s: SentenceView) -> Text:
    if s.supported is None:
        return Text("  ? ", style="yellow")
    score = f"{s.score:.2f}" if s.score is not None else ""
    if s.supported:
        return Text(f"✓ {score} ", style="green")
    return Text(f"✗ {score} ", style="bold red")


def _cite_line(c: Cite) -> Text:
    return Text.assemble(
        INDENT,
        (f"[{c.n}] {c.outlet}: ", "dim bold"),
        (f"“{_short(c.quote)}”", "dim italic"),
        (f" ({c.article_id} {c.start}–{c.end})", "dim"),
    )


def _short(text: str, limit: int = 220) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _sentence(console: Console, s: SentenceView) -> None:
    who = (f" ({', '.join(s.outlets)})", "dim") if s.outlets else ""
    disputed = (f" (disputed: {'; '.join(s.disputed)})", "yellow") if s.disputed else ""
    console.print(
        Text.assemble(_verdict(s), ("new: " if s.new else "", "bold green"), s.text, who, disputed)
    )
    for c in s.cites:
        console.print(_cite_line(c))
    for r in s.reasons if s.supported is False else []:
        console.print(Text(INDENT + r, style="red dim"))


def _story(console: Console, v: StoryView, numbered: bool) -> None:
    rank = f"{v.rank}. " if numbered else ""
    console.print(Text(rank + v.title, style="bold"))
    console.print(Text(v.outlets, style="dim"))
    for w in v.warnings:
        console.print(Text(f"warning: {w}", style="yellow"))
    for line, style in ((v.status_line, "bold"), (v.coverage_line, "dim"), (v.one_sided, "yellow")):
        if line:
            console.print(Text(line, style=style))
    if v.collapsed:
        return
    if v.error:
        console.print(Text(f"error: {v.error}", style="bold red"))
    for s in v.sentences:
        _sentence(console, s)
    for d in v.disagreements:
        values = " vs ".join(d.values)
        console.print(
            Text.assemble(("⚠ sources disagree ", "yellow"), f"({d.kind}) {d.description}")
        )
        if values:
            console.print(Text(INDENT + values, style="yellow"))
        for q in d.quotes:
            console.print(
                Text.assemble(
                    INDENT,
                    (f"{q.outlet}: ", "dim bold"),
                    (f"“{_short(q.quote)}”", "dim italic"),
                    (f" ({q.article_id} {q.start}–{q.end})", "dim"),
                )
            )
    for p in v.perspectives:
        who = f" ({p.outlets})" if p.outlets else ""
        gap = "" if p.covered else ": no outlet of this side covered the story"
        console.print(Text.assemble(("coverage ", "cyan"), f"{p.side}{who}{gap}"))
        for s in p.sentences:
            _sentence(console, s)
    for r in v.removed:
        console.print(Text.assemble(("removed ", "red"), (r.text, "strike dim"), f" — {r.reason}"))
    for n in v.notes:
        console.print(Text("note: " + n, style="dim"))
    if v.meta:
        console.print(Text(v.meta, style="dim"))


def to_terminal(obj: Story | Digest | ValidationReport, console: Console | None = None) -> None:
    """Print a Story, Digest or ValidationReport to a rich console."""
    console = console or Console()
    cites = Citations()
    if isinstance(obj, ValidationReport):
        claims = report_claims(obj, cites)
        ok = sum(1 for c in claims if c.supported)
        console.print(Text(f"{ok} of {len(claims)} claims supported", style="bold"))
        for s in claims:
            _sentence(console, s)
        problems = obj.problems
    elif isinstance(obj, Story):
        _story(console, story_view(obj, cites), numbered=False)
        problems = []
    elif isinstance(obj, Digest):
        title = obj.title + (f" — {obj.date}" if obj.date else "")
        console.rule(Text(title, style="bold"))
        console.print(Text(digest_summary(obj), style="dim"))
        for note in obj.notes:
            console.print(Text(note, style="dim"))
        for rank, story in enumerate(obj.stories, 1):
            console.print()
            _story(console, story_view(story, cites, rank), numbered=True)
        problems = obj.problems
    else:
        raise TypeError(f"cannot render {type(obj).__name__} for the terminal")
    for p in problems:
        console.print(Text.assemble(("skipped ", "yellow"), f"{p.path}: {p.problem}"))
