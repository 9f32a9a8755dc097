"""Files to `Article`s: plain text, Markdown, HTML, JSON and JSON Lines.

The stored `Article.text` is what every offset refers to, so the only changes
made to a file's text are: line endings become "\\n", a leading byte-order mark
is dropped, and a plain file's metadata header (below) is cut off. Debris is
marked (`debris.find_debris`), never removed.

Formats, chosen by extension:
- `.txt`, `.md`, `.markdown`, or no extension: plain text. A metadata header at
  the very top is parsed and removed from the stored text: either consecutive
  `Key: value` lines with known keys (Title, Outlet, Source, URL, Published,
  Date, Language, Author), or the same inside `---` fences (YAML-like front
  matter; unknown keys there are ignored). Without an `Outlet:` the outlet is
  the file name stem. Without a `Published:` a bare dateline near the top
  ("May 4, 2023") gives the date.
- `.html`, `.htm`: main text extracted by trafilatura (title, date, site name as
  outlet, canonical URL); the stored text is trafilatura's text. Bytes go to
  trafilatura as they are, so a page's declared charset is honoured.
- `.json` (one object or a list of objects) and `.jsonl` (one object a line):
  records with `text` and optional `id`, `title`, `url`, `outlet`,
  `published`, `language`. A bad record is reported as `PATH:line N` (JSON
  Lines) or `PATH:record N` (a JSON list) and the other records still load.

Without a given title, the first non-debris line is the title when it looks
like a headline (short, no final period; a Markdown "# " heading too); it
stays in the text, so offsets do not move.

Bad input never stops a run: `load_articles` turns each problem into an
`InputProblem` naming the file. `load_file` and `article_from_text` raise
`InputError` instead, for callers handling a single input.
"""

from __future__ import annotations

import codecs
import json
import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from summarize.errors import InputError
from summarize.models import Article, InputProblem, Range
from summarize.sources.debris import find_debris

MAX_ARTICLE_BYTES = 2_000_000
# A JSON/JSONL file holds many articles: the per-article limit applies to each
# record's text, and the file as a whole may be this large.
MAX_FEED_BYTES = 100 * MAX_ARTICLE_BYTES

# Fewer words than this extracted from a page means trafilatura found menus or a
# stub, not an article.
MIN_HTML_WORDS = 8

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
HTML_SUFFIXES = (".html", ".htm")
JSON_SUFFIXES = (".json", ".jsonl")
KNOWN_SUFFIXES = TEXT_SUFFIXES + HTML_SUFFIXES + JSON_SUFFIXES


# ---------------------------------------------------------------- text to Article


def article_from_text(
    text: str,
    *,
    id: str,
    title: str = "",
    outlet: str = "",
    url: str | None = None,
    published: datetime | str | None = None,
    path: str | Path | None = None,
    language: str | None = None,
) -> Article:
    """An `Article` from text, line endings normalised and debris marked.

    Raises `InputError` (named by `path`, else `id`) when no article text is
    left: empty, whitespace only, no word at all (a lone "---" or "***"), or all
    page debris.
    """
    where = str(path) if path is not None else id
    text = normalise_text(text)
    if not text.strip():
        raise InputError(where, "no article text (empty or whitespace only)")
    if not _has_words(text):
        raise InputError(where, "no article text, only punctuation or markup (e.g. a lone '---')")
    debris = find_debris(text, title)
    if not _has_content(text, debris):
        raise InputError(where, "article is all page debris (banners, links, captions), no text")
    if not title:
        title = guess_title(text, debris)
    if isinstance(published, str):
        published = parse_date(published)
    return Article(
        id=id,
        title=title.strip(),
        outlet=outlet.strip(),
        url=url or None,
        published=published,
        text=text,
        debris=debris,
        path=str(path) if path is not None else None,
        language=language or None,
    )


def normalise_text(text: str) -> str:
    """Line endings (CR LF, CR, U+2028/9, NEL) become "\\n"; a leading BOM is dropped."""
    text = text.removeprefix("\ufeff")
    return re.sub(r"\r\n?|[\u2028\u2029\x85]", "\n", text)


def _has_words(text: str) -> bool:
    """True when `text` has a letter or a digit: something a sentence could say."""
    return any(c.isalnum() for c in text)


def _has_content(text: str, debris: list[Range]) -> bool:
    """True when some letter or digit lies outside every debris range."""
    cursor = 0
    for start, end in debris:
        if _has_words(text[cursor:start]):
            return True
        cursor = max(cursor, end)
    return _has_words(text[cursor:])


_MD_HEADING = re.compile(r"^#{1,6}\s+")


def guess_title(text: str, debris: list[Range]) -> str:
    """The first non-debris line if it looks like a headline, else ""."""
    for m in re.finditer(r"[^\n]+", text):
        line = m.group().strip()
        if not line:
            continue
        if any(s < m.end() and m.start() < e for s, e in debris):
            continue
        line = _MD_HEADING.sub("", line).strip()
        words = line.split()
        looks_like_headline = (
            1 <= len(words) <= 20
            and len(line) <= 200
            and not re.search(r"[.,;:]$", line)
            and any(c.isalpha() for c in line)
            and parse_date(line) is None
        )
        return line if looks_like_headline else ""
    return ""


_DATE_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%B %d %Y", "%b. %d, %Y")


def parse_date(value: Any) -> datetime | None:
    """ISO date/datetime or a plain English date ("May 4, 2023"); None if not a date."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    return None


# ---------------------------------------------------------------- files


def load_file(path: str | Path, problems: list[InputProblem] | None = None) -> list[Article]:
    """The articles in one file, chosen by extension; raises `InputError`.

    A JSON/JSONL file can hold bad records among good ones: with a `problems`
    list those are appended there and the rest load; without one, the first bad
    record raises. Ids here are the file's own (slug of the stem, or record
    ids); `load_articles` makes them unique across files.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix and suffix not in KNOWN_SUFFIXES:
        known = ", ".join(KNOWN_SUFFIXES)
        raise InputError(path, f"unsupported file type {suffix!r} (expected {known})")
    limit = MAX_FEED_BYTES if suffix in JSON_SUFFIXES else MAX_ARTICLE_BYTES
    data = _read_bytes(path, limit)
    if suffix in HTML_SUFFIXES:
        return [_load_html(path, data)]
    text = _decode(path, data)
    if not text.strip():
        raise InputError(path, "file contains only whitespace, no text")
    if suffix in JSON_SUFFIXES:
        return _load_json(path, text, problems)
    return [_load_plain(path, text)]


def read_text(path: str | Path, limit: int = MAX_ARTICLE_BYTES) -> str:
    """A text file as an article file is read (a summary, say): the same checks and
    decoding (`decode_text`), line endings normalised; raises `InputError`."""
    path = Path(path)
    return normalise_text(decode_text(path, _read_bytes(path, limit)))


def decode_text(where: str | Path, data: bytes) -> str:
    """Bytes of a text input as text, as every text input is decoded: UTF-8 (BOM or not),
    UTF-16 with a BOM, or cleanly decoding cp1252 (Latin-1); else `InputError` naming `where`."""
    return _decode(where, data)


def _read_bytes(path: Path, limit: int) -> bytes:
    """The file's bytes, after existence, type and size checks."""
    try:
        if not path.exists():
            raise InputError(path, "file not found")
        if path.is_dir():
            raise InputError(path, "is a directory, not a file")
        size = path.stat().st_size
        if size > limit:
            raise InputError(path, f"file is {size:,} bytes, over the limit of {limit:,} bytes")
        data = path.read_bytes()
    except OSError as e:
        raise InputError(path, f"cannot read file ({e.strerror or e})") from e
    if not data:
        raise InputError(path, "file is empty")
    return data


def _decode(path: str | Path, data: bytes) -> str:
    """UTF-8 (BOM or not), UTF-16 with a BOM, or cleanly decoding cp1252; else InputError."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as e:
            raise InputError(path, f"not valid UTF-16 text (offset {e.start})") from e
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputError(path, f"binary file, not text (NUL byte at offset {nul})")
    skip = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[skip:].decode("utf-8")
    except UnicodeDecodeError as e:
        offset = skip + e.start
        problem = f"not UTF-8 text (byte 0x{data[offset]:02x} at offset {offset})"
    legacy = _legacy_decode(data)
    if legacy is None:
        raise InputError(path, problem)
    return legacy


def _legacy_decode(data: bytes) -> str | None:
    """cp1252 text (old Windows/Latin-1 files) when it decodes to plausible prose.

    cp1252 maps almost any byte to something, so accept it only without control
    characters and with few non-ASCII characters; binary junk fails both.
    """
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    if any(unicodedata.category(c) == "Cc" and c not in "\t\n\r\f" for c in text):
        return None
    non_ascii = sum(ord(c) > 127 for c in text)
    return text if non_ascii <= max(3, len(text) // 20) else None


# ---------------------------------------------------------------- plain text

_HEADER_KEYS = {
    "title": "title",
    "outlet": "outlet",
    "source": "outlet",
    "url": "url",
    "published": "published",
    "date": "published",
    "language": "language",
    "author": "author",
}
_HEADER_LINE = re.compile(r"^\s*([A-Za-z]+)\s*:\s*(.*?)\s*$")


def split_header(text: str) -> tuple[dict[str, str], str]:
    """(metadata, body) of a plain file: a leading `Key: value` block is metadata.

    Recognised: consecutive lines with known keys at the very top, or any
    `key: value` lines between `---` fences. Blank lines after it are dropped
    too, so the body starts at its first line of text.
    """
    lines = text.split("\n")
    meta: dict[str, str] = {}
    if lines and lines[0].strip() == "---":
        close = next((i for i in range(1, min(len(lines), 60)) if lines[i].strip() == "---"), 0)
        rest = [line for line in lines[1:] if line.strip()]
        if not close and rest and all(_is_header_line(line) for line in rest):
            close = len(lines)  # front matter never closed, nothing after it: all header
        if close:
            for line in lines[1:close]:
                m = _HEADER_LINE.match(line)
                if m and m.group(1).lower() in _HEADER_KEYS:
                    meta[_HEADER_KEYS[m.group(1).lower()]] = m.group(2).strip("\"'")
            return meta, _drop_blank_lines(lines[close + 1 :])
    count = 0
    for line in lines:
        m = _HEADER_LINE.match(line)
        if not m or m.group(1).lower() not in _HEADER_KEYS:
            break
        meta[_HEADER_KEYS[m.group(1).lower()]] = m.group(2)
        count += 1
    if not count:
        return {}, text
    return meta, _drop_blank_lines(lines[count:])


def _is_header_line(line: str) -> bool:
    m = _HEADER_LINE.match(line)
    return bool(m and m.group(1).lower() in _HEADER_KEYS)


def _drop_blank_lines(lines: list[str]) -> str:
    while lines and not lines[0].strip():
        lines = lines[1:]
    return "\n".join(lines)


def _load_plain(path: Path, text: str) -> Article:
    text = normalise_text(text)
    meta, body = split_header(text)
    if meta and not body.strip():
        raise InputError(path, "file has a metadata header but no article text")
    published = parse_date(meta.get("published")) or _dateline(body)
    return article_from_text(
        body,
        id=slugify(path.stem),
        title=meta.get("title", ""),
        outlet=meta.get("outlet") or path.stem,
        url=meta.get("url") or None,
        published=published,
        path=path,
        language=meta.get("language") or None,
    )


def _dateline(text: str) -> datetime | None:
    """The date of a bare dateline among the first lines ("May 4, 2023"), if any."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    for line in lines[:10]:
        if len(line) <= 40 and (date := parse_date(line)):
            return date
    return None


# ---------------------------------------------------------------- HTML


def _load_html(path: Path, data: bytes) -> Article:
    """Main text and metadata of a web page, by trafilatura."""
    import trafilatura  # slow to import: only when HTML is read

    if b"\x00" in data[:4096] and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputError(path, "binary file, not HTML (NUL bytes)")
    doc = trafilatura.bare_extraction(
        data, with_metadata=True, include_comments=False, include_tables=False
    )
    if doc is not None and not isinstance(doc, dict):
        doc = doc.as_dict()
    text = (doc or {}).get("text") or ""
    if len(text.split()) < MIN_HTML_WORDS:
        raise InputError(path, "no article text found in the HTML page")
    url = doc.get("url") or None
    return article_from_text(
        text,
        id=slugify(path.stem),
        title=doc.get("title") or "",
        outlet=doc.get("sitename") or _host(url) or path.stem,
        url=url,
        published=parse_date(doc.get("date")),
        path=path,
        language=doc.get("language") or None,
    )


def _host(url: str | None) -> str:
    """'example.com' from a URL, '' if none."""
    if not url:
        return ""
    host = urlparse(url).hostname or ""
    return host.removeprefix("www.")


# ---------------------------------------------------------------- JSON


class _InvalidLine(str):
    """A JSON Lines line that did not parse: its parser message."""


def _load_json(path: Path, text: str, problems: list[InputProblem] | None) -> list[Article]:
    """Records of a .json (object or list) or .jsonl file; bad records reported in order."""
    located: list[tuple[str, Any]] = []  # (where, record)
    if path.suffix.lower() == ".jsonl":
        for n, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                record = _InvalidLine(f"invalid JSON: {e.msg} (column {e.colno})")
            located.append((f"{path}:line {n}", record))
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise InputError(
                path, f"invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}"
            ) from None
        if isinstance(data, dict):
            located.append((str(path), data))
        elif isinstance(data, list):
            located.extend((f"{path}:record {n}", r) for n, r in enumerate(data, start=1))
        else:
            raise InputError(path, "JSON must be an object or a list of objects")
    if not located:
        raise InputError(path, "no records in file")
    single = len(located) == 1 and located[0][0] == str(path)
    articles: list[Article] = []
    bad: list[InputProblem] = []
    for index, (where, record) in enumerate(located, start=1):
        fallback_id = slugify(path.stem) if single else f"{slugify(path.stem)}-{index}"
        try:
            if isinstance(record, _InvalidLine):
                raise InputError(where, str(record))
            articles.append(_record_article(record, where, fallback_id, path))
        except InputError as e:
            bad.append(e.to_problem())
    if bad:
        if problems is None:
            raise InputError(bad[0].path, bad[0].problem)
        problems.extend(bad)
    return articles


def _record_article(record: Any, where: str, fallback_id: str, path: Path) -> Article:
    if not isinstance(record, dict):
        raise InputError(where, "record is not a JSON object")
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InputError(where, 'record has no "text"')
    size = len(text.encode("utf-8"))
    if size > MAX_ARTICLE_BYTES:
        limit = f"{MAX_ARTICLE_BYTES:,}"
        raise InputError(where, f'"text" is {size:,} bytes, over the limit of {limit} bytes')
    raw_id = record.get("id")
    record_id = str(raw_id).strip() if isinstance(raw_id, str | int) else ""
    url = _str(record.get("url")) or None
    return article_from_text(
        text,
        id=record_id or fallback_id,
        title=_str(record.get("title")),
        outlet=_str(record.get("outlet")) or _host(url),
        url=url,
        published=parse_date(record.get("published")),
        path=where,
        language=_str(record.get("language")) or None,
    )


def _str(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


# ---------------------------------------------------------------- many inputs


def load_articles(paths: Iterable[str | Path]) -> tuple[list[Article], list[InputProblem]]:
    """Articles from files and directories, plus a problem for each bad input.

    Directories are read recursively in sorted order (known extensions only,
    hidden files and folders skipped). Never raises for a bad file. Ids are
    unique and stable: repeats get "-2", "-3", ... in input order.
    """
    articles: list[Article] = []
    problems: list[InputProblem] = []
    seen_files: set[Path] = set()
    for given in paths:
        given = Path(given)
        if given.is_dir():
            files = expand_directory(given)
            if not files:
                known = ", ".join(KNOWN_SUFFIXES)
                problems.append(
                    InputProblem(
                        path=str(given), problem=f"directory has no article files ({known})"
                    )
                )
        else:
            files = [given]
        for file in files:
            key = file.resolve()
            if key in seen_files:
                continue
            seen_files.add(key)
            try:
                articles.extend(load_file(file, problems))
            except InputError as e:
                problems.append(e.to_problem())
            except Exception as e:  # a parser bug on one file must not end the run
                problems.append(
                    InputProblem(path=str(file), problem=f"could not read: {type(e).__name__}: {e}")
                )
    return unique_ids(articles), problems


def expand_directory(directory: Path) -> list[Path]:
    """Article files under `directory`, recursive, sorted, hidden entries skipped."""
    found = []
    for file in directory.rglob("*"):
        relative = file.relative_to(directory)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if file.is_file() and file.suffix.lower() in KNOWN_SUFFIXES:
            found.append(file)
    return sorted(found, key=lambda p: p.relative_to(directory).parts)


def unique_ids(articles: list[Article]) -> list[Article]:
    """The articles with repeated ids suffixed "-2", "-3", ... (first keeps its id)."""
    seen: set[str] = set()
    out = []
    for article in articles:
        new_id, n = article.id, 1
        while new_id in seen:
            n += 1
            new_id = f"{article.id}-{n}"
        seen.add(new_id)
        out.append(article if new_id == article.id else article.model_copy(update={"id": new_id}))
    return out


def slugify(name: str) -> str:
    """A readable ASCII id: "NATO Office (A)" -> "nato-office-a"."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-") or "article"
