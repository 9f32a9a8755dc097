"""Fetching article pages and feeds over HTTP: replayed from cassettes, offline.

The cassettes in `cassettes/fetch/` were recorded by vcrpy from a real
HTTP server that this module starts on 127.0.0.1:8767 while recording, serving
the small pages in `PAGES`. Re-record (after changing a page or a test):

    SUMMARIZE_RECORD=1 .venv/bin/pytest tests/test_fetch.py --record-mode=rewrite

The timeout test needs no cassette: it talks to a loopback socket that accepts
and never answers.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from summarize.sources.feeds import collect_articles
from summarize.sources.fetch import USER_AGENT, Fetcher, FetchError, fetch_article
from tests.llm_support import RECORDING

PORT = 8767
BASE = f"http://127.0.0.1:{PORT}"

ARTICLE = """<!doctype html><html><head><title>Tollbury bridge reopens | Tollbury Gazette</title>
<meta property="og:site_name" content="Tollbury Gazette">
<meta property="article:published_time" content="2026-11-21T09:00:00+00:00"></head>
<body><nav><a href="/">Home</a> <a href="/news">News</a></nav>
<article><h1>Tollbury bridge reopens after eight months of repairs</h1>
<p>The Harrow Street bridge in Tollbury reopened to traffic on Saturday morning after eight
months of repairs that cost the town council 3.4 million dollars, officials said.</p>
<p>The bridge was closed in March when inspectors found cracks in two of its steel
supports. Engineers replaced both supports and resurfaced the road deck.</p>
<p>"We know the detour was a burden for everyone who drives through the town centre,"
said council leader Mara Quintrell at the reopening ceremony.</p>
<p>Buses on routes 4 and 11 will return to their normal stops on Monday, the transit
office said. A weight limit of 18 tonnes remains in place until the spring.</p>
</article><footer>Copyright Tollbury Gazette</footer></body></html>"""

MENU = """<!doctype html><html><head><title>Sections</title></head><body>
<nav><ul><li><a href="/a">News</a></li><li><a href="/b">Sport</a></li>
<li><a href="/c">Weather</a></li></ul></nav></body></html>"""

FEED = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Tollbury Gazette</title><link>{BASE}/</link>
<item><title>Tollbury bridge reopens</title><link>{BASE}/article.html</link>
<guid>{BASE}/article.html</guid><pubDate>Sat, 21 Nov 2026 09:00:00 +0000</pubDate>
<description>The Harrow Street bridge reopened on Saturday.</description></item>
<item><title>Council meeting moved</title><link>{BASE}/missing</link>
<guid>{BASE}/missing</guid><pubDate>Sat, 21 Nov 2026 10:00:00 +0000</pubDate>
<description>Tuesday's council meeting moves to the library hall because the chamber
is being rewired.</description></item>
</channel></rss>"""

PAGES = {
    "/article.html": (200, "text/html; charset=utf-8", ARTICLE),
    "/menu.html": (200, "text/html; charset=utf-8", MENU),
    "/report.pdf": (200, "application/pdf", "%PDF-1.4 not really"),
    "/feed.xml": (200, "application/rss+xml", FEED),
    "/error": (500, "text/plain", "internal error"),
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        status, ctype, body = PAGES.get(self.path, (404, "text/plain", "not found"))
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def page_server():
    """The real server, only while recording; in replay the cassettes answer."""
    if not RECORDING:
        yield None
        return
    server = ThreadingHTTPServer(("127.0.0.1", PORT), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def fetcher(tmp_path: Path, page_server):
    with Fetcher(tmp_path / "cache", timeout=5) as f:
        yield f


@pytest.mark.vcr
def test_article_page_is_fetched_and_extracted(fetcher):
    article = fetch_article(fetcher, f"{BASE}/article.html")
    assert article.title.startswith("Tollbury bridge reopens")
    assert "3.4 million dollars" in article.text
    assert "Mara Quintrell" in article.text
    assert "Copyright" not in article.text and "Sport" not in article.text
    assert article.outlet == "Tollbury Gazette"
    assert article.url == f"{BASE}/article.html"
    assert article.published is not None and article.published.day == 21


@pytest.mark.vcr
def test_second_fetch_comes_from_the_disk_cache(fetcher, vcr):
    first = fetcher.fetch(f"{BASE}/article.html")
    second = fetcher.fetch(f"{BASE}/article.html")
    assert not first.from_cache and second.from_cache
    assert second.read_bytes() == first.read_bytes()
    assert vcr.play_count == 1 or RECORDING  # one request; replaying twice would fail
    # A fresh fetcher on the same folder (a rerun) needs no request either.
    with Fetcher(fetcher.cache_dir.parent) as again:
        assert again.fetch(f"{BASE}/article.html").from_cache


@pytest.mark.vcr
def test_user_agent_names_the_tool(fetcher, vcr):
    fetcher.fetch(f"{BASE}/article.html")
    assert vcr.requests[0].headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("summarize/")


@pytest.mark.vcr
@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("/missing", "HTTP 404 Not Found"),
        ("/error", "HTTP 500 Internal Server Error"),
        ("/report.pdf", "not an HTML page (application/pdf)"),
        ("/menu.html", "no article text found in the HTML page"),
    ],
    ids=["404", "500", "pdf", "menu"],
)
def test_unusable_urls_give_clear_problems(fetcher, path, problem):
    with pytest.raises(FetchError) as err:
        fetch_article(fetcher, f"{BASE}{path}")
    assert err.value.problem == problem
    assert err.value.as_problem().path == f"{BASE}{path}"


@pytest.mark.vcr
def test_error_responses_are_not_cached(fetcher):
    with pytest.raises(FetchError):
        fetcher.fetch(f"{BASE}/error")
    assert not list(fetcher.cache_dir.glob("*.body"))


@pytest.mark.vcr
def test_feed_url_with_teasers_fetches_item_pages(tmp_path, page_server):
    articles, problems = collect_articles(
        [f"{BASE}/feed.xml", f"{BASE}/missing"], cache_dir=tmp_path / "cache"
    )
    by_title = {a.title: a for a in articles}
    bridge = by_title["Tollbury bridge reopens"]
    assert "Mara Quintrell" in bridge.text  # the full page, not the one-line teaser
    assert bridge.outlet == "Tollbury Gazette"
    meeting = by_title["Council meeting moved"]
    assert meeting.text.startswith("Tuesday's council meeting")  # teaser kept
    assert meeting.published.isoformat() == "2026-11-21T10:00:00+00:00"
    found = {(p.path, p.problem) for p in problems}
    assert (
        f"{BASE}/missing",
        "full text unavailable (HTTP 404 Not Found): used the feed's summary",
    ) in found
    assert (f"{BASE}/missing", "HTTP 404 Not Found") in found  # the URL given directly


def test_timeout_is_reported_not_raised(tmp_path):
    """A loopback server that accepts and never answers: no cassette needed."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/slow"
        with Fetcher(tmp_path, timeout=0.5) as f:
            results = f.fetch_many([url])
    assert isinstance(results[0], FetchError)
    assert results[0].problem == "timed out after 0.5 s"


def test_connection_refused_and_bad_scheme(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with Fetcher(tmp_path, timeout=2) as f:
        with pytest.raises(FetchError, match="could not connect"):
            f.fetch(f"http://127.0.0.1:{port}/x")
        with pytest.raises(FetchError, match="not an http"):
            f.fetch("ftp://example.com/file")
