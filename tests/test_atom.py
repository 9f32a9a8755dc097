"""The digest as an Atom 1.0 feed (issue 13): parsed by feedparser, one entry per story,
stable entry ids, updated times, citations as links, hostile text escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import feedparser

from summarize.models import Article, Claim, Coverage, Digest, Span, Story, Verdict
from summarize.render import render, write_output
from summarize.render.atom import ATOM, entry_id

WHEN = datetime(2026, 11, 22, 7, 30, tzinfo=UTC)
TEXT = "About 1,200 residents were evacuated. The gates opened on Friday."


def _article(n: int, url: str | None, title: str = "Flood", text: str = TEXT) -> Article:
    return Article(id=f"a{n}", title=title, outlet=f"Outlet {n}", url=url, text=text)


def _story(articles, story_id: str, status=None, updated=None, new=()) -> Story:
    a = articles[0]
    span = Span(article_id=a.id, start=0, end=37, quote=a.text[:37])
    claims = [
        Claim(text="About 1,200 residents were evacuated.", verdict=_ok(span)),
        Claim(text="The gates opened on Friday.", verdict=_ok(a.span(38, len(a.text)))),
    ]
    return Story(
        articles=articles,
        sentences=claims,
        story_id=story_id,
        status=status,
        updated=updated,
        new_sentences=list(new),
        first_seen=datetime(2026, 11, 21, tzinfo=UTC) if status else None,
        coverage=Coverage(outlets=[x.outlet for x in articles], one_sided={"leaning": "left"}),
    )


def _ok(span: Span) -> Verdict:
    return Verdict(supported=True, score=0.9, spans=[span])


def _digest() -> Digest:
    flood = [_article(1, "https://one.example/flood"), _article(2, "https://two.example/f?a=1&b=2")]
    hostile = _article(3, "javascript:alert(1)", title='<script>alert("x")</script> & \x01 "fares"')
    return Digest(
        date="2026-11-22",
        generated=WHEN,
        stories=[
            _story(flood, "flood0001", status="update", updated=WHEN, new=[1]),
            _story([hostile], "fares0002", status="unchanged", updated=datetime(2026, 11, 21)),
        ],
    )


def test_feed_parses_with_one_entry_per_story() -> None:
    text = render(_digest(), "atom")
    feed = feedparser.parse(text)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.title == "Daily digest — 2026-11-22"
    assert len(feed.entries) == 2
    flood, fares = feed.entries
    assert flood.id == entry_id("flood0001") and fares.id == entry_id("fares0002")
    assert flood.updated == "2026-11-22T07:30:00Z"
    assert fares.updated == "2026-11-21T00:00:00Z"  # unchanged: still its old time
    assert feed.feed.updated == "2026-11-22T07:30:00Z"
    assert flood.title == "Flood"
    # the summary carries the sentences, new first, each citation a link to its article
    assert flood.summary.index("The gates opened") < flood.summary.index("About 1,200")
    assert 'href="https://one.example/flood"' in flood.summary
    assert flood.link == "https://one.example/flood"
    assert {t.term for t in flood.tags} == {"update", "one-sided"}
    assert [c.name for c in flood.contributors] == ["Outlet 1", "Outlet 2"]


def test_feed_escapes_article_text_and_never_links_other_schemes() -> None:
    text = render(_digest(), "atom")
    assert "<script>" not in text and "\x01" not in text
    assert "javascript:" not in text
    root = ET.fromstring(text.encode("utf-8"))  # well-formed XML
    entries = root.findall(f"{{{ATOM}}}entry")
    title = entries[1].find(f"{{{ATOM}}}title").text
    assert title == '<script>alert("x")</script> &  "fares"'
    # the query string's & is escaped inside the html body and in the link attribute
    assert "https://two.example/f?a=1&amp;b=2" in text


def test_required_atom_elements() -> None:
    root = ET.fromstring(render(_digest(), "atom").encode("utf-8"))
    assert root.tag == f"{{{ATOM}}}feed"
    for tag in ("id", "title", "updated", "author"):
        assert root.find(f"{{{ATOM}}}{tag}") is not None, tag
    for entry in root.findall(f"{{{ATOM}}}entry"):
        for tag in ("id", "title", "updated", "summary", "content"):
            assert entry.find(f"{{{ATOM}}}{tag}") is not None, tag
        assert entry.find(f"{{{ATOM}}}id").text.startswith("urn:uuid:")


def test_ids_are_stable_and_an_update_changes_only_updated(tmp_path) -> None:
    first = _digest()
    later = _digest()
    later.stories[0].updated = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    one = feedparser.parse(render(first, "atom")).entries
    two = feedparser.parse(render(later, "atom")).entries
    assert [e.id for e in one] == [e.id for e in two]
    assert one[0].updated != two[0].updated and one[1].updated == two[1].updated


def test_empty_digest_is_a_valid_feed_and_written_atomically(tmp_path) -> None:
    path = write_output(Digest(generated=WHEN), tmp_path / "digest.atom", "atom")
    feed = feedparser.parse(path.read_text("utf-8"))
    assert not feed.bozo and feed.version == "atom10" and feed.entries == []
    assert [p.name for p in tmp_path.iterdir()] == ["digest.atom"]
