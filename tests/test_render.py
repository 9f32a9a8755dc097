"""Renderers: Markdown footnotes, HTML escaping and self-containment, atomic writes."""

from __future__ import annotations

import errno
import html
import io
import json
import os
import re
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rich.console import Console

from summarize.models import (
    Article,
    Claim,
    Digest,
    Disagreement,
    InputProblem,
    RemovedSentence,
    Story,
    Usage,
    ValidationReport,
    Verdict,
)
from summarize.render import OutputError, to_html, to_markdown, to_terminal, write_output
from summarize.render import output as output_mod

LEDGER = (
    "The Brennmouth city council voted 9-4 on Friday to raise the standard single fare "
    "from $2.40 to $2.90. The increase takes effect on January 4, 2027. "
    "Mayor Halina Brask said no route would have to be cut."
)
SENTINEL = (
    "Councillors voted 9-4 on Friday night to push the single fare to $2.90 from "
    "January 5, 2027. Monthly passes rise from $84 to $96 & riders are angry."
)
XSS = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
EVIL = f"Harbour museum reopens. {XSS} The museum reopened on Monday. {IMG} Entry is free."


def span_of(article: Article, quote: str):
    """The span of `quote` in `article`, by its first occurrence."""
    start = article.text.index(quote)
    return article.span(start, start + len(quote))


def ok(text: str, *spans, score: float = 0.91) -> Claim:
    return Claim(
        text=text,
        cited=[s.article_id for s in spans],
        verdict=Verdict(supported=True, score=score, spans=list(spans), scorer="test"),
    )


def articles() -> tuple[Article, Article]:
    ledger = Article(
        id="ledger-1",
        title="Council approves fare rise",
        outlet="Brennmouth Ledger",
        url="https://ledger.example/fares?a=1&b=2",
        published=datetime(2026, 11, 21, 6, 15, tzinfo=UTC),
        text=LEDGER,
    )
    sentinel = Article(
        id="sentinel-1",
        title="Fare hike rammed through",
        outlet="The Sentinel",
        url="http://sentinel.example/fare-hike",
        text=SENTINEL,
    )
    return ledger, sentinel


def fare_story() -> Story:
    ledger, sentinel = articles()
    vote_l = span_of(ledger, "voted 9-4 on Friday to raise the standard single fare")
    vote_s = span_of(sentinel, "Councillors voted 9-4 on Friday night")
    fare = span_of(ledger, "from $2.40 to $2.90")
    date_l = span_of(ledger, "takes effect on January 4, 2027")
    date_s = span_of(sentinel, "from January 5, 2027")
    passes = span_of(sentinel, "Monthly passes rise from $84 to $96 & riders are angry")
    return Story(
        headline=ok("Brennmouth council raises single fare to $2.90", fare),
        articles=[ledger, sentinel],
        sentences=[
            ok("The Brennmouth council voted 9-4 to raise the single fare.", vote_l, vote_s),
            ok("The fare rises from $2.40 to $2.90.", fare),
            ok("Monthly passes rise from $84 to $96.", passes),
        ],
        removed=[
            RemovedSentence(
                text="The council also cut three bus routes.",
                reason="no source mentions route cuts",
                verdict=Verdict(supported=False, score=0.12),
            )
        ],
        disagreements=[
            Disagreement(
                kind="date",
                description="when the new fare takes effect",
                values=["January 4, 2027", "January 5, 2027"],
                spans=[date_l, date_s],
            )
        ],
        notes=["Sources differ in tone."],
        model="smollm2-135m",
        prompt_hash="abc123def4567890",
        usage=Usage(
            calls=2, cached_calls=1, prompt_tokens=1200, completion_tokens=180, latency_s=2.5
        ),
    )


def evil_article() -> Article:
    return Article(
        id="evil-1",
        title=f"Museum {XSS} {IMG}",
        outlet=f"Herald {XSS}{IMG}",
        url="javascript:alert(1)",
        text=EVIL,
    )


def evil_story() -> Story:
    evil = evil_article()
    return Story(
        articles=[evil],
        sentences=[
            ok("The museum reopened.", span_of(evil, f"{XSS} The museum reopened on Monday.")),
            ok("Entry is free.", span_of(evil, f"{IMG} Entry is free.")),
        ],
        removed=[RemovedSentence(text=f"It has {XSS}", reason=f"unsupported {IMG}")],
    )


def digest() -> Digest:
    return Digest(
        title="Daily digest",
        date="2026-11-21",
        stories=[fare_story(), evil_story()],
        problems=[InputProblem(path="feeds/broken.xml", problem="not a feed <rss> missing")],
        articles_read=3,
        usage=Usage(calls=3, prompt_tokens=2000, completion_tokens=300, latency_s=4.0),
        elapsed_s=12.3,
    )


def report() -> ValidationReport:
    ledger, sentinel = articles()
    return ValidationReport(
        articles=[ledger, sentinel],
        claims=[
            ok("The fare rises to $2.90.", span_of(ledger, "from $2.40 to $2.90"), score=0.88),
            Claim(
                text="The fare rises to $3.10.",
                verdict=Verdict(
                    supported=False,
                    score=0.05,
                    spans=[span_of(sentinel, "push the single fare to $2.90")],
                    reasons=["number 3.10 not in sources"],
                ),
            ),
        ],
    )


# ---------------------------------------------------------------- Markdown


def footnotes(md: str) -> dict[str, str]:
    return dict(re.findall(r"^\[\^(\d+)\]: (.*)$", md, flags=re.M))


def test_markdown_story_footnote_per_span_with_exact_quote_and_offsets():
    story = fare_story()
    md = to_markdown(story)
    notes = footnotes(md)
    by_id = {a.id: a for a in story.articles}
    spans = [s for c in [story.headline, *story.sentences] for s in c.verdict.spans]
    distinct = {(s.article_id, s.start, s.end) for s in spans}
    assert len(notes) == len(distinct) == 4
    for span in spans:
        outlet = by_id[span.article_id].outlet
        quote = span.quote.replace("&", "&amp;")
        line = f'{outlet} — "{quote}" ({span.article_id}, chars {span.start}–{span.end})'
        assert line in notes.values(), line
    # Every marker used in the text has a footnote, and vice versa.
    body = md.split("[^1]:")[0]
    assert set(re.findall(r"\[\^(\d+)\]", body)) == set(notes)
    assert "# Brennmouth council raises single fare to $2.90[^1]" in md
    assert "2 outlets: Brennmouth Ledger, The Sentinel" in md


def test_markdown_story_sections():
    md = to_markdown(fare_story())
    sentence = "The fare rises from $2.40 to $2.90.[^1]"
    assert sentence in md  # same span as the headline keeps footnote 1
    assert "## Sources disagree" in md
    assert "January 4, 2027 vs January 5, 2027" in md
    assert '- Brennmouth Ledger: "takes effect on January 4, 2027" (ledger-1, chars ' in md
    assert '- The Sentinel: "from January 5, 2027" (sentinel-1, chars ' in md
    assert "## Removed (unsupported) sentences" in md
    assert '- "The council also cut three bus routes." — no source mentions route cuts' in md
    assert "## Sources" in md
    assert "[Council approves fare rise](<https://ledger.example/fares?a=1&b=2>)" in md
    assert "2026-11-21 06:15 UTC" in md
    assert "smollm2-135m" in md and "abc123def456" in md and "1,200 prompt" in md
    assert "Sources differ in tone." in md


def test_markdown_single_source_and_escaping():
    md = to_markdown(evil_story())
    assert "single source: Herald" in md
    assert "<script>" not in md and "<img" not in md
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md
    assert "javascript:" not in md.replace("(javascript:alert(1), not linked)", "")
    assert "](javascript" not in md


def test_markdown_escapes_markdown_syntax():
    art = Article(id="a", outlet="O", text="# [click](http://evil.example) *bold*")
    claim = ok("Quoted.", art.span(0, len(art.text)))
    md = to_markdown(Story(articles=[art], sentences=[claim]))
    assert not re.search(r"(?<!\\)\]\(http", md)
    assert r'"\# \[click\](http://evil.example) \*bold\*"' in md


def test_markdown_digest_rank_order_and_problems():
    md = to_markdown(digest())
    assert md.startswith("# Daily digest — 2026-11-21\n")
    assert "2 stories · 3 articles read · 1 input skipped" in md
    first = md.index("## 1. Brennmouth council raises")
    second = md.index("## 2. Museum")
    assert first < second
    assert "## Skipped inputs" in md
    assert "- `feeds/broken.xml`: not a feed &lt;rss&gt; missing" in md
    # Footnote numbers are unique across the digest.
    labels = re.findall(r"^\[\^(\d+)\]:", md, flags=re.M)
    assert len(labels) == len(set(labels)) == 6


def test_markdown_validation_report():
    rep = report()
    md = to_markdown(rep)
    assert "1 of 2 claims supported" in md
    assert "1. **SUPPORTED** (score 0.88) — The fare rises to $2.90." in md
    assert "2. **UNSUPPORTED** (score 0.05) — The fare rises to $3.10." in md
    span = rep.claims[1].verdict.spans[0]
    assert f'"{span.quote}" (sentinel-1, chars {span.start}–{span.end})' in md
    assert "reason: number 3.10 not in sources" in md


# ---------------------------------------------------------------- HTML


class Collector(HTMLParser):
    """Collects tags, attributes and script bodies of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict, str]] = []
        self._in_script: dict | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = dict(attrs)

    def handle_data(self, data):
        if self._in_script is not None:
            self.scripts.append((self._in_script, data))

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None


def parse(page: str) -> Collector:
    c = Collector()
    c.feed(page)
    return c


def test_html_escapes_article_text_title_outlet_and_url():
    page = to_html(digest())
    assert XSS not in page
    assert "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    tags = parse(page).tags
    assert [t for t, _ in tags if t == "img"] == []
    scripts = [a for t, a in tags if t == "script"]
    assert scripts == [{"type": "application/json", "id": "cite-data"}, {}]
    hrefs = [a["href"] for t, a in tags if t == "a"]
    assert not any("javascript" in h.lower() for h in hrefs)
    assert all(not any(k.startswith("on") for k in a) for _, a in tags)


def test_html_has_no_external_resources():
    page = to_html(digest())
    tags = parse(page).tags
    links = {"https://ledger.example/fares?a=1&b=2", "http://sentinel.example/fare-hike"}
    for tag, attrs in tags:
        assert "src" not in attrs, (tag, attrs)
        if "href" in attrs:
            assert tag == "a" and attrs["href"] in links, (tag, attrs)
            assert attrs["rel"] == "noopener noreferrer"
    # No URL anywhere except the source links (the JSON data and CSS carry none).
    found = set(re.findall(r"https?://[^\s\"'<>]+", page.replace("&amp;", "&")))
    assert found == links
    assert "url(" not in page and "@import" not in page
    assert '<meta name="viewport"' in page


def test_html_csp_hash_matches_inline_script():
    import base64
    import hashlib

    page = to_html(fare_story())
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    csp = html.unescape(csp)
    assert "default-src 'none'" in csp and "unsafe-eval" not in csp
    body = [s for a, s in parse(page).scripts if not a][0]
    want = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    assert f"script-src 'sha256-{want}'" in csp


def test_html_json_data_is_escaped_and_complete():
    story = evil_story()
    page = to_html(story)
    raw = [s for a, s in parse(page).scripts if a.get("type") == "application/json"][0]
    assert "<" not in raw and ">" not in raw and "&" not in raw
    data = json.loads(raw)
    span = story.sentences[0].verdict.spans[0]
    assert data["1"]["quote"] == span.quote
    assert (data["1"]["start"], data["1"]["end"]) == (span.start, span.end)
    assert EVIL.startswith(data["1"]["before"])
    assert data["1"]["after"] == EVIL[span.end :]


def test_html_sections_and_markers():
    page = to_html(digest())
    assert page.count('class="cite"') == 1 + 4 + 2  # headline + sentences, both stories
    assert "Sources disagree" in page
    # removed sentences are folded under a details element, below the story
    assert '<details class="removed"><summary>Removed sentences (' in page
    assert "no source mentions route cuts" in page
    assert "Skipped inputs" in page and "not a feed &lt;rss&gt; missing" in page
    assert page.index('id="story-1"') < page.index('id="story-2"')
    assert "prefers-color-scheme: dark" in page


def test_html_validation_report():
    page = to_html(report())
    assert "1 of 2 claims supported" in page
    assert "unsupported" in page and "number 3.10 not in sources" in page


# ---------------------------------------------------------------- terminal


def test_terminal_shows_verdicts_quotes_and_sections():
    buf = io.StringIO()
    to_terminal(digest(), Console(file=buf, width=200, color_system=None))
    out = buf.getvalue()
    assert "✓ 0.91 The fare rises from $2.40 to $2.90." in out
    assert "“from $2.40 to $2.90”" in out
    assert "sources disagree" in out and "removed" in out
    assert XSS in out  # plain text, not interpreted as markup


def test_terminal_does_not_interpret_rich_markup():
    art = Article(id="a", outlet="O", text="[bold red]loud[/] text")
    story = Story(articles=[art], sentences=[ok("Loud.", art.span(0, 17))])
    buf = io.StringIO()
    to_terminal(story, Console(file=buf, width=200, color_system=None))
    assert "[bold red]loud[/]" in buf.getvalue()


# ---------------------------------------------------------------- write_output


def test_write_output_formats(tmp_path):
    story = fare_story()
    md = write_output(story, tmp_path / "out" / "story.md", "markdown")
    assert md.read_text() == to_markdown(story)
    js = write_output(story, tmp_path / "story.json", "json")
    assert Story.model_validate_json(js.read_text()) == story
    page = write_output(story, tmp_path / "story.html")  # format from the suffix
    assert page.read_text().startswith("<!doctype html>")
    with pytest.raises(ValueError, match="unknown output format"):
        write_output(story, tmp_path / "story.pdf")


def test_write_output_replaces_existing_file(tmp_path):
    target = tmp_path / "digest.md"
    target.write_text("old contents")
    os.chmod(target, 0o640)
    write_output(digest(), target, "md")
    assert target.read_text() == to_markdown(digest())
    assert target.stat().st_mode & 0o777 == 0o640
    assert os.listdir(tmp_path) == ["digest.md"]


def test_write_output_folder_is_a_file(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="blocker"):
        write_output(fare_story(), blocker / "sub" / "story.md", "md")


def _check_unwritable(folder) -> None:
    with pytest.raises(OutputError, match=r"story\.md.*Permission denied"):
        write_output(fare_story(), folder / "story.md", "md")
    assert os.listdir(folder) == []


def test_write_output_unwritable_folder(tmp_path):
    """A folder we may not write to. Root ignores permissions, so a forked child drops to nobody."""
    if os.geteuid() != 0:
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o500)
        try:
            _check_unwritable(folder)
        finally:
            folder.chmod(0o700)
        return
    folder = Path(tempfile.mkdtemp(prefix="summarize-ro-"))
    try:
        folder.chmod(0o755)
        pid = os.fork()
        if pid == 0:  # child: lose root, then try the write
            code = 1
            try:
                os.setgid(65534)
                os.setuid(65534)
                _check_unwritable(folder)
                code = 0
            except BaseException as e:  # report anything, never return into pytest
                print("child failed:", repr(e), file=sys.stderr)
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert os.listdir(folder) == []
    finally:
        shutil.rmtree(folder)


def test_write_output_disk_full_leaves_nothing_behind(tmp_path, monkeypatch):
    target = tmp_path / "story.html"
    target.write_text("previous")

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(output_mod.os, "fsync", full)
    with pytest.raises(OutputError) as err:
        write_output(fare_story(), target, "html")
    assert str(target) in str(err.value) and "No space left" in str(err.value)
    assert target.read_text() == "previous"
    assert os.listdir(tmp_path) == ["story.html"]


def test_edge_cases_render_everywhere(tmp_path):
    art = Article(id="a", text="Plain text without outlet.")
    failed = Story(articles=[art], error="model timed out", sentences=[Claim(text="Unchecked.")])
    empty = Digest()
    for obj in (failed, empty, ValidationReport(articles=[], claims=[])):
        for fmt in ("md", "html", "json", "txt"):
            assert write_output(obj, tmp_path / f"x.{fmt}").stat().st_size > 0
    md = to_markdown(failed)
    assert "**Error:** model timed out" in md and "single source" in md
    assert "Unchecked." in md and "[^" not in md
    assert "No stories." in to_html(empty)
    assert "Error: model timed out" in to_html(failed)


def test_html_reads_like_news_marks_bar_sides_status_once():
    from summarize.models import Coverage, Perspective

    story = fare_story()
    story.sentences[0].outlets = ["Brennmouth Ledger", "The Sentinel"]
    story.status = "new"
    story.coverage = Coverage(
        outlets=["Brennmouth Ledger", "The Sentinel"],
        labels={"leaning": {"center": 1, "right": 1}},
    )
    ledger, _ = articles()
    story.perspectives = [
        Perspective(label="leaning", side="left", covered=False),
        Perspective(
            label="leaning",
            side="center",
            outlets=["Brennmouth Ledger"],
            claims=[
                ok(
                    "According to Brennmouth Ledger, the fare rises from $2.40 to $2.90.",
                    span_of(ledger, "from $2.40 to $2.90"),
                )
            ],
        ),
    ]
    page = to_html(story)
    # outlets after a sentence: short marks, full names on hover/focus and for screen readers
    assert "<abbr>BL</abbr><abbr>Sen</abbr>" in page
    assert 'title="Reported by Brennmouth Ledger, The Sentinel"' in page
    assert '<span class="full">reported by Brennmouth Ledger, The Sentinel</span>' in page
    assert 'tabindex="0"' in page
    assert "(Brennmouth Ledger, The Sentinel)" not in page  # no repeated full names
    # coverage by side as a bar, with the counts in text beside it
    assert 'class="seg seg-center"' in page and "leaning: center 1, right 1" in page
    # the status once: the badge, no "New" line as well
    assert page.count(">new</span>") == 1 and '<p class="status">' not in page
    # how the coverage differs, and the side that did not cover it
    assert "How the coverage differs" in page
    assert "no outlet of this side covered the story" in page
    md = to_markdown(story)
    assert "How the coverage differs" in md and "**leaning: left**" in md


def test_a_story_warning_is_shown_above_the_story():
    story = fare_story()
    story.warnings = ["these articles seem to be about 2 different events (a | b)"]
    md, page = to_markdown(story), to_html(story)
    assert md.index("**Warning:** these articles seem to be about 2") < md.index("voted 9-4")
    assert page.index("Warning: these articles seem to be about 2") < page.index("voted 9-4")
