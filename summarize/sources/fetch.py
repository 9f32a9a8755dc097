"""Polite HTTP fetching of feeds and article pages, with an on-disk cache.

Every failure becomes a `FetchError` carrying a sentence a reader understands
("timed out after 10 s", "HTTP 404 Not Found"), so the digest reports it as an
`InputProblem` and goes on. Bodies are streamed to the cache directory, never
held whole in memory, so a huge feed costs disk, not RAM. Rerunning a digest
reads pages from the cache instead of the network.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

import httpx

from summarize.errors import FetchError
from summarize.models import Article


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("summarize")
    except Exception:  # running from a source tree that is not installed
        return "0"


USER_AGENT = f"summarize/{_version()} (news digest tool; fetches pages a user asked for)"
TIMEOUT_S = 10.0
MAX_BYTES = 64 * 1024 * 1024  # a feed of 10 000 full items is ~16 MB
HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True)
class Fetched:
    """A successful response whose body lies in `body_path` (a cache file)."""

    url: str
    final_url: str
    status: int
    content_type: str
    body_path: Path
    from_cache: bool = False

    def read_bytes(self) -> bytes:
        return self.body_path.read_bytes()

    def read_text(self) -> str:
        """The body decoded with the charset the server declared, else UTF-8 (lenient)."""
        charset = "utf-8"
        for part in self.content_type.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                charset = value.strip("\"'")
        try:
            return self.read_bytes().decode(charset, errors="replace")
        except LookupError:
            return self.read_bytes().decode("utf-8", errors="replace")

    @property
    def is_html(self) -> bool:
        return self.content_type.split(";")[0].strip().lower() in HTML_TYPES


def _key(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]


class Fetcher:
    """Fetches URLs with one shared `httpx.Client` (thread-safe) and a disk cache.

    `cache_dir=None` keeps bodies in a private temporary folder for this
    process only. `max_age` (seconds) makes a cached copy stale, e.g. for
    feeds; article pages are cached without limit, as their text rarely moves.
    """

    def __init__(
        self,
        cache_dir: str | Path | None = None,
        *,
        timeout: float = TIMEOUT_S,
        max_bytes: int = MAX_BYTES,
        jobs: int = 4,
        transport: httpx.BaseTransport | None = None,
    ):
        if cache_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="summarize-fetch-")
            cache_dir = self._tmp.name
        self.cache_dir = Path(cache_dir) / "http"
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.jobs = max(1, jobs)
        self.client = httpx.Client(
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(timeout),
            follow_redirects=True,
            transport=transport,
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def fetch(self, url: str, *, max_age: float | None = None) -> Fetched:
        """GET `url` (or its cached copy); raise `FetchError` with a clear reason."""
        if not url.lower().startswith(("http://", "https://")):
            raise FetchError(url, "not an http(s) URL")
        cached = self._cached(url, max_age)
        if cached is not None:
            return cached
        key = _key(url)
        part = self.cache_dir / f"{key}.part"
        try:
            with self.client.stream("GET", url) as response:
                if response.status_code >= 400:
                    reason = response.reason_phrase or ""
                    raise FetchError(url, f"HTTP {response.status_code} {reason}".strip())
                size = 0
                with part.open("wb") as out:
                    for chunk in response.iter_bytes():
                        size += len(chunk)
                        if size > self.max_bytes:
                            raise FetchError(
                                url, f"larger than {self.max_bytes // (1024 * 1024)} MB: skipped"
                            )
                        out.write(chunk)
                meta = {
                    "url": url,
                    "final_url": str(response.url),
                    "status": response.status_code,
                    "content_type": response.headers.get("content-type", ""),
                    "fetched_at": time.time(),
                }
        except httpx.TimeoutException:
            part.unlink(missing_ok=True)
            raise FetchError(url, f"timed out after {self.timeout:g} s") from None
        except httpx.TooManyRedirects:
            part.unlink(missing_ok=True)
            raise FetchError(url, "too many redirects") from None
        except httpx.ConnectError as exc:
            part.unlink(missing_ok=True)
            raise FetchError(url, f"could not connect ({exc})") from None
        except FetchError:
            part.unlink(missing_ok=True)
            raise
        except Exception as exc:  # other HTTP errors, a socket refused by policy: one input's
            part.unlink(missing_ok=True)
            raise FetchError(url, f"could not fetch: {type(exc).__name__}: {exc}") from None
        body = self.cache_dir / f"{key}.body"
        os.replace(part, body)  # atomic: an interrupted run never leaves half a page cached
        (self.cache_dir / f"{key}.json").write_text(json.dumps(meta), encoding="utf-8")
        return _fetched(meta, body)

    def _cached(self, url: str, max_age: float | None) -> Fetched | None:
        key = _key(url)
        meta_path, body = self.cache_dir / f"{key}.json", self.cache_dir / f"{key}.body"
        if not (meta_path.is_file() and body.is_file()):
            return None
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if meta.get("url") != url:
            return None
        if max_age is not None and time.time() - meta.get("fetched_at", 0) > max_age:
            return None
        return _fetched(meta, body, from_cache=True)

    def fetch_many(
        self,
        urls: Iterable[str],
        *,
        max_age: float | None = None,
        on_done: Callable[[str], None] | None = None,
    ) -> list[Fetched | FetchError]:
        """Fetch URLs with at most `jobs` in flight; results in input order."""

        def one(url: str) -> Fetched | FetchError:
            try:
                return self.fetch(url, max_age=max_age)
            except FetchError as exc:
                return exc
            finally:
                if on_done is not None:
                    on_done(url)

        urls = list(urls)
        if len(urls) <= 1 or self.jobs == 1:
            return [one(u) for u in urls]
        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            return list(pool.map(one, urls))


MIN_WORDS = 40  # fewer words than this in the main text: a menu or landing page, not an article


def article_from_page(page: Fetched, *, id: str | None = None, outlet: str = "") -> Article:
    """An `Article` from a fetched HTML page, by ingest's trafilatura path.

    Raises `FetchError` for a non-HTML body or a page without article text.
    """
    from summarize.sources import ingest

    if not page.is_html:
        kind = page.content_type.split(";")[0].strip() or "unknown type"
        raise FetchError(page.url, f"not an HTML page ({kind})")
    slug = ingest.slugify(PurePosixPath(urlparse(page.final_url).path).stem or "page")
    try:
        article = ingest._load_html(Path(slug), page.read_bytes())
    except ingest.InputError as exc:
        raise FetchError(page.url, exc.problem) from None
    if len(article.text.split()) < MIN_WORDS:
        raise FetchError(page.url, "no article text found in the HTML page")
    host = (urlparse(page.final_url).hostname or "").removeprefix("www.")
    return article.model_copy(
        update={
            "id": id or f"{slug}-{_key(page.url)[:6]}",
            "url": article.url or page.final_url,
            "outlet": outlet or (article.outlet if article.outlet != slug else host),
            "path": None,
        }
    )


def fetch_article(
    fetcher: Fetcher, url: str, *, id: str | None = None, outlet: str = ""
) -> Article:
    """Fetch one article page and extract it; `FetchError` when unusable."""
    return article_from_page(fetcher.fetch(url), id=id, outlet=outlet)


def _fetched(meta: dict, body: Path, from_cache: bool = False) -> Fetched:
    """A `Fetched` from the cache metadata written beside its body."""
    return Fetched(
        url=meta["url"],
        final_url=meta["final_url"],
        status=meta["status"],
        content_type=meta["content_type"],
        body_path=body,
        from_cache=from_cache,
    )
