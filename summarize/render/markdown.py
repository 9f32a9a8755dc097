"""Markdown rendering: footnotes quote the exact source span with its offsets.

Article text is untrusted, so every piece of it is escaped: `& < >` become
entities (no raw HTML reaches a Markdown renderer) and Markdown syntax
characters get a backslash so a quote cannot turn into a link or a heading.
"""

from __future__ import annotations

import re

from summarize.models import Digest, Story, ValidationReport
from summarize.render._view import (
    Citations,
    Cite,
    SentenceView,
    SourceView,
    StoryView,
    digest_summary,
    one_line,
    report_claims,
    sources,
    story_view,
)

_SPECIAL = re.compile(r"([\\`*_\[\]{}|~])")
_LINE_START = re.compile(r"^(\s*)([#+\-=]|\d+[.)])")


def esc(text: str) -> str:
    """Escape untrusted text for inline Markdown, on one line."""
    text = one_line(text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _SPECIAL.sub(r"\\\1", text)
    return _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)


def _url(url: str) -> str:
    """A URL safe inside `<...>` link syntax."""
    return url.replace("<", "%3C").replace(">", "%3E").replace(" ", "%20")


def _markers(cites: list[Cite]) -> str:
    return "".join(f"[^{c.n}]" for c in cites)


def _quoted(quote: str, article_id: str, start: int, end: int) -> str:
    """`"quote" (article-id, chars 120–245)`, escaped."""
    return f'"{esc(quote)}" ({esc(article_id)}, chars {start}–{end})'


def _footnote(c: Cite) -> str:
    return f"[^{c.n}]: {esc(c.outlet)} — {_quoted(c.quote, c.article_id, c.start, c.end)}"


def _sentence(s: SentenceView) -> str:
    flag = "" if s.supported in (True, None) else " *(unsupported)*"
    new = "**New:** " if s.new else ""
    who = f" *({esc(', '.join(s.outlets))})*" if s.outlets else ""
    disputed = f" *(disputed: {esc('; '.join(s.disputed))})*" if s.disputed else ""
    return f"{new}{esc(s.text)}{_markers(s.cites)}{who}{disputed}{flag}"


def _sources(items: list[SourceView], level: str) -> list[str]:
    lines = [f"{level} Sources", ""]
    for s in items:
        title = esc(s.title) or "(untitled)"
        if s.link:
            title = f"[{title}](<{_url(s.link)}>)"
        elif s.url:
            title += f" ({esc(s.url)}, not linked)"
        when = f" — {s.published}" if s.published else ""
        lines.append(f"- {esc(s.outlet)} — {title}{when} ({esc(s.article_id)})")
    return [*lines, ""]


def _story(v: StoryView, level: int) -> list[str]:
    h, sub = "#" * level, "#" * (level + 1)
    rank = f"{v.rank}. " if level > 1 else ""
    head_marks = _markers(v.headline.cites) if v.headline else ""
    lines = [f"{h} {rank}{esc(v.title)}{head_marks}", "", f"*{esc(v.outlets)}*", ""]
    lines += [f"**Warning:** {esc(w)}" for w in v.warnings] + ([""] if v.warnings else [])
    if v.status_line:
        lines += [f"**{esc(v.status_line)}**", ""]
    if v.coverage_line:
        lines += [f"Coverage — {esc(v.coverage_line)}", ""]
    if v.one_sided:
        lines += [f"**One-sided:** {esc(v.one_sided)}", ""]
    body = _story_body(v, sub)
    if v.collapsed:  # folded: GitHub and most Markdown viewers render <details>
        n = len(v.sentences)
        fold = f"Unchanged: {n} sentence{'s' if n != 1 else ''} shown before, and sources"
        return [*lines, "<details>", f"<summary>{esc(fold)}</summary>", "", *body, "</details>", ""]
    return lines + body


def _story_body(v: StoryView, sub: str) -> list[str]:
    lines: list[str] = []
    if v.error:
        lines += [f"**Error:** {esc(v.error)}", ""]
    if v.sentences:
        lines += [_sentence(s) for s in v.sentences] + [""]
    if v.cites:
        lines += [_footnote(c) for c in v.cites] + [""]
    if v.disagreements:
        lines += [f"{sub} Sources disagree", ""]
        for d in v.disagreements:
            values = " vs ".join(esc(x) for x in d.values)
            lines.append(
                f"- **{esc(d.kind)}**: {esc(d.description)}" + (f" ({values})" if values else "")
            )
            for q in d.quotes:
                lines.append(
                    f"  - {esc(q.outlet)}: {_quoted(q.quote, q.article_id, q.start, q.end)}"
                )
        lines.append("")
    if v.perspectives:
        lines += [f"{sub} How the coverage differs", ""]
        for p in v.perspectives:
            lines.append(f"- **{esc(p.side)}**" + (f" ({esc(p.outlets)})" if p.outlets else ""))
            if not p.covered:
                lines[-1] += ": no outlet of this side covered the story"
            elif not p.sentences:
                lines[-1] += ": nothing that the other sides do not report too"
            lines += [f"  - {_sentence(s)}" for s in p.sentences]
        lines.append("")
    if v.removed:
        lines += [f"{sub} Removed (unsupported) sentences", ""]
        for r in v.removed:
            score = f" (score {r.score:.2f})" if r.score is not None else ""
            lines.append(f'- "{esc(r.text)}" — {esc(r.reason)}{score}')
        lines.append("")
    lines += _sources(v.sources, sub)
    if v.notes:
        lines += [f"{sub} Notes", ""] + [f"- {esc(n)}" for n in v.notes] + [""]
    if v.meta:
        lines += [f"*{esc(v.meta)}*", ""]
    return lines


def _report(report: ValidationReport) -> list[str]:
    cites = Citations()
    claims = report_claims(report, cites)
    ok = sum(1 for c in claims if c.supported)
    lines = ["# Validation report", "", f"{ok} of {len(claims)} claims supported", ""]
    for i, c in enumerate(claims, 1):
        if c.supported is None:
            label = "NOT CHECKED"
        else:
            label = "SUPPORTED" if c.supported else "UNSUPPORTED"
        score = f" (score {c.score:.2f})" if c.score is not None else ""
        lines.append(f"{i}. **{label}**{score} — {esc(c.text)}")
        for cite in c.cites:
            where = _quoted(cite.quote, cite.article_id, cite.start, cite.end)
            lines.append(f"   - {esc(cite.outlet)}: {where}")
        lines += [f"   - reason: {esc(r)}" for r in c.reasons]
    lines.append("")
    lines += _sources(sources(report.articles), "##")
    lines += _problems(report.problems)
    return lines


def _problems(problems) -> list[str]:
    if not problems:
        return []
    lines = ["## Skipped inputs", ""]
    for p in problems:
        path = one_line(p.path).replace("`", "'")
        lines.append(f"- `{path}`: {esc(p.problem)}")
    return [*lines, ""]


def to_markdown(obj: Story | Digest | ValidationReport) -> str:
    """Markdown for a Story, Digest or ValidationReport."""
    if isinstance(obj, ValidationReport):
        lines = _report(obj)
    elif isinstance(obj, Story):
        lines = _story(story_view(obj, Citations()), level=1)
    elif isinstance(obj, Digest):
        title = esc(obj.title) + (f" — {esc(obj.date)}" if obj.date else "")
        lines = [f"# {title}", "", esc(digest_summary(obj)), ""]
        lines += [f"- {esc(n)}" for n in obj.notes] + ([""] if obj.notes else [])
        cites = Citations()
        for rank, story in enumerate(obj.stories, 1):
            lines += _story(story_view(story, cites, rank), level=2)
        if not obj.stories:
            lines += ["*No stories.*", ""]
        lines += _problems(obj.problems)
    else:
        raise TypeError(f"cannot render {type(obj).__name__} as Markdown")
    return "\n".join(lines).rstrip() + "\n"
