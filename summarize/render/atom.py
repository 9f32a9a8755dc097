"""The digest as an Atom 1.0 feed (RFC 4287): one entry per story.

An entry's id is built from the story's stable id (`Story.story_id`, kept across days
by the digest's state), and its `updated` is when the story's content last changed,
so a feed reader shows a continuing story as an update of the same item, and leaves an
unchanged one alone. Its summary is the story's sentences (new ones first) with each
citation a link to the cited article; its content adds the status, coverage, sources
and disagreements. Article text is untrusted: it only ever enters as escaped text
(XML escaping by ElementTree, HTML escaping inside the `type="html"` bodies), links
are made only of http(s) URLs, and characters XML 1.0 forbids are dropped.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from html import escape

from summarize.models import Digest
from summarize.render._view import (
    Citations,
    SentenceView,
    StoryView,
    digest_summary,
    safe_url,
    story_view,
)

ATOM = "http://www.w3.org/2005/Atom"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text or "")


def _when(value: datetime | None, default: datetime) -> str:
    when = value or default
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return when.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def entry_id(story_id: str) -> str:
    """The Atom id of a story: a name-based UUID URN, the same for the same story id."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"summarize:story:{story_id}").urn


def _sentence_html(s: SentenceView, links: dict[str, str]) -> str:
    marks = []
    for c in s.cites:
        url = links.get(c.article_id)
        label = f"[{c.n}]"
        title = escape(f"{c.outlet}: “{c.quote}”")
        if url:
            marks.append(f'<a href="{escape(url)}" title="{title}">{label}</a>')
        else:
            marks.append(f'<span title="{title}">{label}</span>')
    new = "<strong>New:</strong> " if s.new else ""
    flag = " <em>(unsupported)</em>" if s.supported is False else ""
    disputed = f" <em>(disputed: {escape('; '.join(s.disputed))})</em>" if s.disputed else ""
    return f"{new}{escape(s.text)}{''.join(marks)}{disputed}{flag}"


def _summary_html(v: StoryView, links: dict[str, str]) -> str:
    if v.error and not v.sentences:
        return f"<p>Error: {escape(v.error)}</p>"
    return "<p>" + " ".join(_sentence_html(s, links) for s in v.sentences) + "</p>"


def _content_html(v: StoryView, links: dict[str, str]) -> str:
    parts = [f"<p><em>{escape(v.outlets)}</em></p>"]
    for line in (v.status_line, v.coverage_line):
        if line:
            parts.append(f"<p>{escape(line)}</p>")
    if v.one_sided:
        parts.append(f"<p><strong>One-sided:</strong> {escape(v.one_sided)}</p>")
    parts.append(_summary_html(v, links))
    if v.cites:
        items = "".join(
            f"<li>[{c.n}] {escape(c.outlet)}: “{escape(c.quote)}” "
            f"({escape(c.article_id)}, chars {c.start}–{c.end})</li>"
            for c in v.cites
        )
        parts.append(f"<p>Quoted passages:</p><ul>{items}</ul>")
    if v.disagreements:
        items = "".join(
            f"<li>{escape(d.kind)}: {escape(d.description)}"
            + (f" ({escape(' vs '.join(d.values))})" if d.values else "")
            + "</li>"
            for d in v.disagreements
        )
        parts.append(f"<p>Sources disagree:</p><ul>{items}</ul>")
    if v.perspectives:
        items = "".join(
            f"<li>{escape(p.side)}"
            + (f" ({escape(p.outlets)})" if p.outlets else "")
            + (
                ": no outlet of this side covered the story"
                if not p.covered
                else " ".join(f" {_sentence_html(s, links)}" for s in p.sentences)
            )
            + "</li>"
            for p in v.perspectives
        )
        parts.append(f"<p>How the coverage differs:</p><ul>{items}</ul>")
    sources = []
    for s in v.sources:
        title = escape(s.title or "(untitled)")
        if s.link:
            title = f'<a href="{escape(s.link)}">{title}</a>'
        when = f" — {escape(s.published)}" if s.published else ""
        sources.append(f"<li>{escape(s.outlet)} — {title}{when}</li>")
    parts.append(f"<p>Sources:</p><ul>{''.join(sources)}</ul>")
    return "".join(parts)


def _add(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, f"{{{ATOM}}}{tag}", {k: _clean(v) for k, v in attrs.items()})
    if text is not None:
        el.text = _clean(text)
    return el


def to_atom(digest: Digest) -> str:
    """An Atom 1.0 feed of `digest`: one entry per story, in the digest's order."""
    if not isinstance(digest, Digest):
        raise TypeError(f"cannot render {type(digest).__name__} as Atom: digests only")
    from summarize.digest.state import story_id_for

    ET.register_namespace("", ATOM)
    generated = digest.generated or datetime.now(UTC)
    feed = ET.Element(f"{{{ATOM}}}feed")
    title = digest.title + (f" — {digest.date}" if digest.date else "")
    _add(feed, "title", title)
    _add(feed, "subtitle", digest_summary(digest))
    _add(feed, "id", uuid.uuid5(uuid.NAMESPACE_URL, f"summarize:digest:{digest.title}").urn)
    stamps = [s.updated for s in digest.stories if s.updated] or [generated]
    _add(feed, "updated", _when(max(_utc(t) for t in stamps), generated))
    author = _add(feed, "author")
    _add(author, "name", "summarize")
    _add(feed, "generator", "summarize")
    cites = Citations()
    for rank, story in enumerate(digest.stories, 1):
        v = story_view(story, cites, rank)
        links = {a.id: url for a in story.articles if (url := safe_url(a.url))}
        entry = _add(feed, "entry")
        _add(entry, "id", entry_id(story.story_id or story_id_for(story.articles)))
        _add(entry, "title", v.title)
        _add(entry, "updated", _when(story.updated, generated))
        if story.first_seen:
            _add(entry, "published", _when(story.first_seen, generated))
        for article in story.articles:
            url = links.get(article.id)
            if url:
                rel = "alternate" if url == next(iter(links.values())) else "related"
                _add(entry, "link", rel=rel, href=url, title=article.label)
        for outlet in story.coverage.outlets if story.coverage else story.outlets:
            contributor = _add(entry, "contributor")
            _add(contributor, "name", outlet)
        if story.status:
            _add(entry, "category", term=story.status, label=v.status_line or story.status)
        if v.one_sided:
            _add(entry, "category", term="one-sided", label=v.one_sided)
        _add(entry, "summary", _summary_html(v, links), type="html")
        _add(entry, "content", _content_html(v, links), type="html")
    ET.indent(feed)
    body = ET.tostring(feed, encoding="unicode")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n"


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
