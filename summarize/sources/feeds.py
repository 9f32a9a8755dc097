"""Digest inputs: folders and files, RSS/Atom feeds, article URLs, and lists of feeds.

`collect_articles` takes whatever the user named and returns `Article`s plus an
`InputProblem` for everything that could not be used; one bad input never
stops the run.

Feeds are read in a stream (lxml `iterparse`, elements freed as they pass) and
handed to feedparser in batches of items, so a feed of 10 000 items costs a
bounded amount of memory: at most `MAX_ITEMS` items are kept (the first ones,
which feeds order newest first) and the rest are only counted and reported.

Duplicates are merged: the same canonical URL, or near-identical text (word
5-shingle Jaccard >= 0.9, e.g. one wire story syndicated by two papers). The
first article read is kept and its `outlet` names both: "Wire A / Paper B".
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlparse, urlsplit, urlunsplit

from summarize.errors import InputError
from summarize.models import Article, InputProblem
from summarize.sources.fetch import Fetched, Fetcher, FetchError, article_from_page
from summarize.text.language import detect_language, language_name
from summarize.text.words import tokens

MAX_ITEMS = 2000
BATCH = 200
TEASER_WORDS = 120  # feed text shorter than this is a teaser: fetch the item's page
FEED_MAX_AGE_S = 15 * 60  # a feed fetched less than 15 minutes ago is read from the cache
FEED_SUFFIXES = (".xml", ".rss", ".atom", ".rdf", ".opml")
DUPLICATE_JACCARD = 0.9
OUTLET_SEP = " / "

# progress(task, completed): completed=None advances the task by one
ProgressHook = Callable[[str, int | None], None]


class NotAFeed(InputError):
    """The document is not RSS/Atom (or not XML at all)."""


@dataclass
class FeedItem:
    title: str = ""
    link: str = ""
    guid: str = ""
    published: datetime | None = None
    text: str = ""  # full content when the feed carries it, else the summary
    full: bool = False  # True when `text` came from content:encoded / atom:content
    source: str = ""  # the item's <source> outlet, in aggregated feeds


@dataclass
class Feed:
    title: str = ""
    items: list[FeedItem] = field(default_factory=list)
    total: int = 0  # items in the document, including those beyond the cap


# ---------------------------------------------------------------- sniffing


def _head(data: bytes) -> str:
    return data[:4096].decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")


def root_element(data: bytes) -> str | None:
    """Local name of the first element of an XML-looking document, else None."""
    text = _head(data)
    text = re.sub(r"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>", "", text, flags=re.S).lstrip()
    m = re.match(r"<([A-Za-z_][\w.:-]*)", text)
    return m.group(1).split(":")[-1].lower() if m else None


_URL_LINE = re.compile(r"^https?://\S+$")


def url_list(text: str) -> list[str] | None:
    """The URLs of a plain list (every non-empty, non-# line is a URL), else None."""
    lines = [ln.strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    if lines and all(_URL_LINE.match(ln) for ln in lines):
        return lines
    return None


def parse_opml(data: bytes) -> list[str]:
    """Feed URLs (`xmlUrl`) of the outlines of an OPML document."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise NotAFeed(f"not a valid OPML file: {exc}") from None
    return [o.get("xmlUrl").strip() for o in root.iter("outline") if o.get("xmlUrl")]


# ---------------------------------------------------------------- feeds


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


_WRAP = {
    "rss": (b'<rss version="2.0"><channel>', b"</channel></rss>"),
    "feed": (b'<feed xmlns="http://www.w3.org/2005/Atom">', b"</feed>"),
    "rdf": (
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        b' xmlns="http://purl.org/rss/1.0/">',
        b"</rdf:RDF>",
    ),
}


def read_feed(
    source: str | Path | bytes,
    *,
    max_items: int = MAX_ITEMS,
    on_item: Callable[[int], None] | None = None,
) -> Feed:
    """Parse an RSS 2.0, RSS 1.0 or Atom document (a path or bytes) in a stream.

    Raises `NotAFeed` with a reason for anything else. `on_item(n)` is called
    as items pass, for a progress display.
    """
    from lxml import etree

    if isinstance(source, bytes):
        stream, size = io.BytesIO(source), len(source)
    else:
        stream, size = open(source, "rb"), Path(source).stat().st_size  # noqa: SIM115
    feed, kind, batch = Feed(), None, []
    try:
        events = etree.iterparse(
            stream, events=("start", "end"), resolve_entities=False, no_network=True
        )
        for event, el in events:
            if kind is None:
                kind = _local(el.tag).lower()
                if kind not in _WRAP:
                    raise NotAFeed(f"not an RSS/Atom feed (document element <{_local(el.tag)}>)")
            if event == "start":
                continue
            name = _local(el.tag)
            if name in ("item", "entry"):
                feed.total += 1
                if feed.total <= max_items:
                    batch.append(etree.tostring(el))
                    if len(batch) >= BATCH:
                        feed.items.extend(_parse_batch(kind, batch))
                        batch = []
                if on_item is not None and feed.total % 100 == 0:
                    on_item(feed.total)
                el.clear()  # free the item, and the emptied items before it
                parent = el.getparent()
                while parent is not None and el.getprevious() is not None:
                    del parent[0]
            elif name == "title" and not feed.title:
                parent = el.getparent()
                if parent is not None and _local(parent.tag) in ("channel", "feed"):
                    feed.title = (el.text or "").strip()
    except etree.XMLSyntaxError as exc:
        # Not well-formed: feedparser's lenient parser rescues small sloppy feeds.
        if kind not in _WRAP or size > 8 * 1024 * 1024:
            raise NotAFeed(f"not an RSS/Atom feed: not well-formed XML ({exc})") from None
        stream.seek(0)
        return _lenient(stream.read(), max_items, exc)
    finally:
        stream.close()
    if kind is None:
        raise NotAFeed("not an RSS/Atom feed: empty document")
    if batch:
        feed.items.extend(_parse_batch(kind, batch))
    if on_item is not None:
        on_item(feed.total)
    return feed


def _lenient(data: bytes, max_items: int, error: Exception) -> Feed:
    import feedparser

    parsed = feedparser.parse(data)
    if not parsed.entries:
        raise NotAFeed(f"not an RSS/Atom feed: not well-formed XML ({error})")
    items = [_item(e) for e in parsed.entries[:max_items]]
    return Feed(title=parsed.feed.get("title", ""), items=items, total=len(parsed.entries))


def _parse_batch(kind: str, batch: list[bytes]) -> list[FeedItem]:
    import feedparser

    head, tail = _WRAP[kind]
    parsed = feedparser.parse(head + b"".join(batch) + tail)
    return [_item(e) for e in parsed.entries]


def _when(entry) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        t = entry.get(key)
        if t:
            return datetime(*t[:6], tzinfo=UTC)  # feedparser normalises to UTC
    return None


def _item(entry) -> FeedItem:
    content = entry.get("content") or []
    full = max((c.get("value", "") for c in content), key=len, default="")
    summary = entry.get("summary", "")
    use_full = len(full) >= len(summary) and bool(full.strip())
    link = entry.get("link", "").strip()  # feedparser may fill it from a non-URL guid
    return FeedItem(
        title=html_text(entry.get("title", "")).replace("\n", " "),
        link=link if link.lower().startswith(("http://", "https://")) else "",
        guid=entry.get("id", ""),
        published=_when(entry),
        text=html_text(full if use_full else summary),
        full=use_full,
        source=(entry.get("source") or {}).get("title", "").strip(),
    )


_BLOCK_END = re.compile(r"(?i)<\s*(br\s*/?|/p|/div|/li|/h[1-6]|/blockquote|/tr)\s*>")


def html_text(fragment: str) -> str:
    """Plain text of an HTML fragment (a feed's description), one paragraph a block."""
    if "<" not in fragment and "&" not in fragment:
        return fragment.strip()
    import lxml.html

    marked = _BLOCK_END.sub(lambda m: m.group(0) + "\n\n", fragment)
    try:
        text = lxml.html.fromstring(f"<div>{marked}</div>").text_content()
    except Exception:  # lxml rejects some junk; fall back to stripping tags
        text = re.sub(r"<[^>]+>", " ", marked)
    paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n", text))
    return "\n\n".join(p for p in paragraphs if p)


# ---------------------------------------------------------------- URLs and identity

# share and campaign ids of news sites that courlan's tracker list keeps
_TRACKING = re.compile(r"^(ocid|cmpid|smid)$", re.I)


def canonical_url(url: str) -> str:
    """A URL with scheme/host case, "www.", tracking parameters and fragment removed.

    courlan normalises it (case, default port, path, tracking parameters, sorted
    query); then http and https, "www." and a final "/" are made the same.
    """
    from courlan import normalize_url

    p = urlsplit(normalize_url(url.strip(), strict=False, trailing_slash=False))
    host = (p.hostname or "").removeprefix("www.") + (f":{p.port}" if p.port else "")
    query = urlencode([(k, v) for k, v in parse_qsl(p.query) if not _TRACKING.match(k)])
    path = p.path.rstrip("/") or "/"
    scheme = "https" if p.scheme in ("http", "https") else p.scheme
    return urlunsplit((scheme, host, path, query, ""))


def _id(prefix: str, key: str) -> str:
    from summarize.sources.ingest import slugify

    return f"{slugify(prefix)[:40]}-{hashlib.sha1(key.encode()).hexdigest()[:8]}"


# ---------------------------------------------------------------- collecting


@dataclass
class _Run:
    fetcher: Fetcher
    keep_date: Callable[[datetime | None], bool] | None
    progress: ProgressHook | None
    articles: list[Article] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)

    def problem(self, path: str, problem: str) -> None:
        self.problems.append(InputProblem(path=str(path), problem=problem))


def collect_articles(
    inputs: list[str],
    *,
    settings=None,
    cache_dir: str | Path | None = None,
    keep_date: Callable[[datetime | None], bool] | None = None,
    progress: ProgressHook | None = None,
    jobs: int = 4,
    fetcher: Fetcher | None = None,
) -> tuple[list[Article], list[InputProblem]]:
    """Articles from folders, files, feeds (files or URLs), article URLs and feed lists.

    `keep_date` (the date window) is applied to feed items before their pages
    are fetched, so old items cost no requests. Duplicates are merged and
    non-English articles marked (`language`) and reported; they are kept.
    """
    if cache_dir is None and settings is not None:
        cache_dir = Path(settings.cache_dir)
    own = fetcher is None
    fetcher = fetcher or Fetcher(cache_dir, jobs=jobs)
    run = _Run(fetcher, keep_date, progress)
    try:
        for given in inputs:
            try:
                _one_input(run, str(given), depth=0)
            except Exception as exc:  # a bug on one input must not end the run
                run.problem(given, f"could not read: {type(exc).__name__}: {exc}")
    finally:
        if own:
            fetcher.close()
    from summarize.sources.ingest import unique_ids

    articles = merge_duplicates(unique_ids(run.articles))
    articles = [_mark_language(a, run) for a in articles]
    return articles, run.problems


def _one_input(run: _Run, given: str, depth: int) -> None:
    from summarize.sources.ingest import load_articles

    if given.lower().startswith(("http://", "https://")):
        _url_input(run, given, depth)
        return
    path = Path(given)
    if path.is_dir():
        feeds = sorted(
            p
            for p in path.rglob("*")
            if p.is_file()
            and p.suffix.lower() in FEED_SUFFIXES
            and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
        articles, problems = load_articles([path]) if _has_articles(path) else ([], [])
        run.articles.extend(articles)
        run.problems.extend(problems)
        for feed in feeds:
            _file_input(run, feed, depth)
        if not articles and not feeds and not problems:
            run.problem(given, "directory has no article or feed files")
        return
    if not path.is_file():
        run.problem(given, "file not found" if not path.exists() else "not a regular file")
        return
    _file_input(run, path, depth)


def _has_articles(path: Path) -> bool:
    from summarize.sources.ingest import expand_directory

    return bool(expand_directory(path))


def _file_input(run: _Run, path: Path, depth: int) -> None:
    from summarize.sources.ingest import load_articles

    with path.open("rb") as f:
        head = f.read(65536)
    root = root_element(head)
    if path.suffix.lower() in FEED_SUFFIXES or root in ("rss", "feed", "rdf", "opml"):
        if root == "opml":
            _list_input(run, str(path), parse_opml(path.read_bytes()), depth)
        else:
            _feed(run, str(path), path, base_url=None)
        return
    if path.suffix.lower() in (".txt", "") and path.stat().st_size < 1_000_000:
        urls = url_list(path.read_text(encoding="utf-8", errors="replace"))
        if urls is not None:
            _list_input(run, str(path), urls, depth)
            return
    articles, problems = load_articles([path])
    run.articles.extend(articles)
    run.problems.extend(problems)


def _list_input(run: _Run, where: str, urls: list[str], depth: int) -> None:
    if depth >= 2:
        run.problem(where, "a list of feeds inside a list inside a list: not followed")
        return
    if not urls:
        run.problem(where, "list of feeds is empty")
    for url in urls:
        _one_input(run, url, depth + 1)


def _url_input(run: _Run, url: str, depth: int) -> None:
    _tick(run, "fetching", url)
    try:
        page = run.fetcher.fetch(url, max_age=FEED_MAX_AGE_S)
    except FetchError as exc:
        run.problems.append(exc.as_problem())
        return
    data = page.body_path.open("rb").read(65536)
    root = root_element(data)
    ctype = page.content_type.split(";")[0].strip().lower()
    if root == "opml":
        try:
            _list_input(run, url, parse_opml(page.read_bytes()), depth)
        except NotAFeed as exc:
            run.problem(url, str(exc))
    elif (
        root in ("rss", "feed", "rdf")
        or "rss" in ctype
        or "atom" in ctype
        or ctype.endswith("/xml")
    ):
        _feed(run, url, page.body_path, base_url=page.final_url)
    elif ctype == "text/plain" and (urls := url_list(page.read_text())) is not None:
        _list_input(run, url, urls, depth)
    else:
        try:
            run.articles.append(article_from_page(page))
        except FetchError as exc:
            run.problems.append(exc.as_problem())


def _tick(run: _Run, task: str, what: str) -> None:
    if run.progress is not None:
        run.progress(task, None)


def _feed(run: _Run, where: str, body: Path, base_url: str | None) -> None:
    """Articles from a feed document; teaser-only items are completed from their page."""
    from summarize.sources.ingest import article_from_text

    label = Path(where).name if base_url is None else where

    def on_item(n: int) -> None:
        if run.progress is not None:
            run.progress(f"reading {label}", n)

    try:
        feed = read_feed(body, on_item=on_item)
    except NotAFeed as exc:
        run.problem(where, str(exc))
        return
    if feed.total > len(feed.items):
        run.problem(
            where,
            f"feed has {feed.total:,} items: read the first {len(feed.items):,}, "
            f"skipped {feed.total - len(feed.items):,}",
        )
    if not feed.total:
        run.problem(where, "feed has no items")
    outlet = feed.title or (urlparse(base_url).hostname or "" if base_url else Path(where).stem)
    items = [i for i in feed.items if run.keep_date is None or run.keep_date(i.published)]
    teasers = [i for i in items if i.link and (not i.full and len(i.text.split()) < TEASER_WORDS)]
    pages: dict[str, Fetched | FetchError] = {}
    if teasers:
        links = [i.link for i in teasers]
        results = run.fetcher.fetch_many(links, on_done=lambda u: _tick(run, "fetching", u))
        pages = dict(zip(links, results, strict=True))
    for item in items:
        key = item.guid or item.link or item.title
        item_outlet = item.source or outlet
        art_id = _id(item_outlet or "feed", key)
        page = pages.get(item.link)
        if isinstance(page, Fetched):
            try:
                article = article_from_page(page, id=art_id, outlet=item_outlet)
                run.articles.append(
                    article.model_copy(
                        update={
                            "title": item.title or article.title,
                            "published": item.published or article.published,
                        }
                    )
                )
                continue
            except FetchError as exc:
                page = exc
        if isinstance(page, FetchError) and not item.text.strip():
            run.problems.append(page.as_problem())
            continue
        if isinstance(page, FetchError):
            run.problem(
                item.link, f"full text unavailable ({page.problem}): used the feed's summary"
            )
        if not item.text.strip():
            run.problem(f"{where}: item {item.title or key!r}", "item has no text and no link")
            continue
        try:
            run.articles.append(
                article_from_text(
                    item.text,
                    id=art_id,
                    title=item.title,
                    outlet=item_outlet,
                    url=item.link or None,
                    published=item.published,
                    path=where,
                )
            )
        except InputError as exc:
            run.problem(f"{where}: item {item.title or key!r}", exc.problem)


# ---------------------------------------------------------------- duplicates


def shingles(text: str, n: int = 5) -> set[int]:
    words = tokens(text)
    if len(words) < n:
        return {hash(tuple(words))} if words else set()
    return {hash(tuple(words[i : i + n])) for i in range(len(words) - n + 1)}


def merge_duplicates(
    articles: list[Article], threshold: float = DUPLICATE_JACCARD
) -> list[Article]:
    """One article per canonical URL or near-identical text; the kept one names all outlets."""
    keep: list[int] = []  # indexes of kept articles
    merged: dict[int, list[str]] = {}  # kept index -> outlets
    by_url: dict[str, int] = {}
    sh = [shingles(a.text) for a in articles]
    for i, article in enumerate(articles):
        target = by_url.get(canonical_url(article.url)) if article.url else None
        if target is None:
            for k in keep:  # Jaccard >= t needs sizes within a factor t: skip the rest cheaply
                a, b = len(sh[i]), len(sh[k])
                if not a or not b or min(a, b) < threshold * max(a, b):
                    continue
                if len(sh[i] & sh[k]) >= threshold * len(sh[i] | sh[k]):
                    target = k
                    break
        if target is None:
            keep.append(i)
            merged[i] = [o for o in article.outlet.split(OUTLET_SEP) if o]
            if article.url:
                by_url[canonical_url(article.url)] = i
            continue
        outlets = merged[target]
        outlets += [o for o in article.outlet.split(OUTLET_SEP) if o and o not in outlets]
    out = []
    for k in keep:
        outlet = OUTLET_SEP.join(merged[k])
        a = articles[k]
        out.append(a if outlet == a.outlet else a.model_copy(update={"outlet": outlet}))
    return out


def outlets_of(article: Article) -> list[str]:
    """The outlets an article stands for (a merged duplicate names several)."""
    return [o.strip() for o in article.outlet.split(OUTLET_SEP) if o.strip()]


# ---------------------------------------------------------------- language


def _mark_language(article: Article, run: _Run) -> Article:
    lang = article.language or detect_language(article.text)
    if lang and lang.split("-")[0].lower() != "en":
        name = language_name(lang)
        run.problem(
            article.url or article.path or article.id,
            f"article is in {name} ({lang}), not English: kept, marked language={lang}",
        )
    if lang == article.language:
        return article
    return article.model_copy(update={"language": lang})
