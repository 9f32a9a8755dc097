"""Feeds, feed lists, duplicate merging and language marking: all offline."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest

from summarize.models import Article
from summarize.sources.feeds import (
    MAX_ITEMS,
    canonical_url,
    collect_articles,
    merge_duplicates,
    parse_opml,
    read_feed,
    root_element,
    url_list,
)
from summarize.text.language import detect_language

REPO = Path(__file__).resolve().parents[1]
FEEDS = Path(__file__).resolve().parent / "fixtures" / "feeds"
EXAMPLE_FEED = REPO / "examples" / "feed.xml"


def test_example_rss_feed_items():
    feed = read_feed(EXAMPLE_FEED)
    assert feed.title.startswith("Kessary Valley and Coast")
    assert feed.total == len(feed.items) == 4
    flood = feed.items[0]
    assert flood.title == "River Aldwen floods low districts of Vennick after dam release"
    assert flood.published == datetime(2026, 11, 21, 8, 30, tzinfo=UTC)
    assert flood.source == "The Aldwen Courier"
    assert not flood.full and flood.text.startswith("About 1,200 residents")
    museum = feed.items[3]
    assert museum.full  # content:encoded, not the one-line description
    assert "Margery Stone" in museum.text and "<p>" not in museum.text
    assert museum.text.count("\n\n") == 5  # one paragraph per <p>


def test_atom_feed_dates_in_utc_and_content_or_summary():
    feed = read_feed(FEEDS / "atom.xml")
    assert feed.title == "Fennow Ridge Weekly (invented)"
    trail, library = feed.items
    assert trail.published == datetime(2026, 11, 22, 7, 0, tzinfo=UTC)  # +01:00 -> UTC
    assert trail.full and "140 riders" in trail.text
    assert library.published == datetime(2026, 11, 21, 18, 30, tzinfo=UTC)
    assert library.text == "The Fennow library will open at 9 a.m. on weekdays from December."


def test_feed_file_items_become_articles_with_item_outlet(tmp_path):
    articles, problems = collect_articles([str(FEEDS / "atom.xml")], cache_dir=tmp_path)
    assert [a.title for a in articles] == [
        "Fennow Ridge trail reopens to cyclists",
        "Library hours change",
    ]
    assert {a.outlet for a in articles} == {"Fennow Ridge Weekly (invented)"}
    assert len({a.id for a in articles}) == 2
    assert problems == []


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("not-a-feed.xml", "not an RSS/Atom feed: not well-formed XML"),
        ("page.rss", "not an RSS/Atom feed (document element <html>)"),
    ],
)
def test_non_feed_is_a_problem_and_the_run_goes_on(tmp_path, name, problem):
    articles, problems = collect_articles(
        [str(FEEDS / name), str(FEEDS / "atom.xml")], cache_dir=tmp_path
    )
    assert len(articles) == 2
    assert len(problems) == 1 and problems[0].path.endswith(name)
    assert problems[0].problem.startswith(problem)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_plain_list_of_feed_urls_is_recognised_by_content(tmp_path):
    port = _free_port()  # nothing listens: each URL is tried and reported
    urls = [f"http://127.0.0.1:{port}/a.xml", f"http://127.0.0.1:{port}/b.xml"]
    listing = tmp_path / "feeds.txt"
    listing.write_text("# my feeds\n" + "\n".join(urls) + "\n\n", encoding="utf-8")
    articles, problems = collect_articles([str(listing)], cache_dir=tmp_path / "c")
    assert articles == []
    assert [p.path for p in problems] == urls
    assert all(p.problem.startswith("could not connect") for p in problems)
    assert url_list("https://a.example/feed\nnot a url\n") is None
    assert url_list("\n\n") is None


def test_opml_lists_feeds(tmp_path):
    opml = tmp_path / "subs.opml"
    opml.write_text(
        f"""<?xml version="1.0"?><opml version="2.0"><head><title>subs</title></head><body>
        <outline text="News"><outline text="Fennow" type="rss" xmlUrl="{FEEDS / "atom.xml"}"/>
        <outline text="Example" type="rss" xmlUrl="{EXAMPLE_FEED}"/></outline></body></opml>""",
        encoding="utf-8",
    )
    assert parse_opml(opml.read_bytes()) == [str(FEEDS / "atom.xml"), str(EXAMPLE_FEED)]
    assert root_element(opml.read_bytes()) == "opml"
    articles, _ = collect_articles([str(opml)], cache_dir=tmp_path / "c")
    titles = {a.title for a in articles}
    assert "Library hours change" in titles
    assert "Quillhaven Maritime Museum reopens after two-year restoration" in titles


def _big_feed(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8") as f:
        f.write('<?xml version="1.0"?><rss version="2.0"><channel><title>Firehose</title>')
        for i in range(n):
            f.write(
                f"<item><title>Item {i}</title><guid>urn:item:{i}</guid>"
                "<pubDate>Sun, 22 Nov 2026 10:00:00 GMT</pubDate>"
                f"<description>Short note number {i} about the weather in town.</description>"
                "</item>"
            )
        f.write("</channel></rss>")


@pytest.mark.slow
def test_ten_thousand_items_are_streamed_capped_and_reported(tmp_path):
    path = tmp_path / "big.xml"
    _big_feed(path, 10_000)
    seen: list[int] = []
    feed = read_feed(path, on_item=seen.append)
    assert feed.total == 10_000
    assert len(feed.items) == MAX_ITEMS
    assert feed.items[-1].title == f"Item {MAX_ITEMS - 1}"
    assert len(seen) >= 100 and seen[-1] == 10_000  # progress while streaming

    progress: list[tuple[str, int | None]] = []
    articles, problems = collect_articles(
        [str(path)], cache_dir=tmp_path / "c", progress=lambda t, n: progress.append((t, n))
    )
    assert len(articles) == MAX_ITEMS
    assert [p.problem for p in problems] == [
        "feed has 10,000 items: read the first 2,000, skipped 8,000"
    ]
    assert any(t == "reading big.xml" for t, _ in progress)


def test_date_window_is_applied_before_fetching_items(tmp_path):
    keep = lambda when: when is not None and when.day == 22  # noqa: E731
    articles, _ = collect_articles([str(FEEDS / "atom.xml")], cache_dir=tmp_path, keep_date=keep)
    assert [a.title for a in articles] == ["Fennow Ridge trail reopens to cyclists"]


TEXT = (
    "The Harrow Street bridge in Tollbury reopened to traffic on Saturday morning after eight "
    "months of repairs that cost the town council 3.4 million dollars, officials said. The "
    "bridge was closed in March when inspectors found cracks in two of its steel supports."
)


def _article(id: str, outlet: str, text: str = TEXT, url: str | None = None) -> Article:
    return Article(id=id, outlet=outlet, text=text, url=url)


def test_syndicated_copy_is_merged_and_both_outlets_named():
    copy = TEXT + " (Reporting by Anselm Reyvik)"  # the wire copy, with the wire's byline
    merged = merge_duplicates(
        [_article("a", "Meridian Wire"), _article("b", "Tollbury Gazette", copy)]
    )
    assert len(merged) == 1
    assert merged[0].id == "a" and merged[0].outlet == "Meridian Wire / Tollbury Gazette"


def test_same_canonical_url_is_merged_different_text_is_not():
    a = _article("a", "Gazette", url="https://www.gazette.example/news/bridge/?utm_source=rss")
    b = _article("b", "Gazette", "Another text entirely.", url="http://gazette.example/news/bridge")
    c = _article("c", "Post", "A different story about the ferry and the new timetable.")
    merged = merge_duplicates([a, b, c])
    assert [m.id for m in merged] == ["a", "c"]
    assert merged[0].outlet == "Gazette"
    assert (
        canonical_url("HTTPS://WWW.X.example/a/?b=1&utm_medium=x#top") == "https://x.example/a?b=1"
    )


def test_other_language_is_kept_and_marked(tmp_path):
    french = tmp_path / "pont.txt"
    french.write_text(
        "Outlet: Le Courrier\nTitle: Le pont rouvre\n\n"
        "Le pont de la rue Harrow a rouvert samedi matin après huit mois de travaux, "
        "selon la mairie. Les travaux ont coûté 3,4 millions de dollars et les bus "
        "reprennent leur trajet habituel lundi. Le pont était fermé depuis le mois de mars "
        "pour des fissures dans deux de ses supports en acier.\n",
        encoding="utf-8",
    )
    articles, problems = collect_articles([str(french)], cache_dir=tmp_path / "c")
    assert articles[0].language == "fr"
    assert problems[0].problem == "article is in French (fr), not English: kept, marked language=fr"
    assert detect_language(TEXT) == "en"
    assert detect_language("Too short to tell.") is None
