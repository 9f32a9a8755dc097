"""Continuity across days: the digest remembers the stories it wrote (`--state DIR`).

One JSON file, `DIR/stories.json`, holds a record per story written in the last
`digest.state_days` days: its stable id, when it was first and last written and last
changed, the keys of its articles (normalised URL, id, and a hash of the text), the
title and first 100 words of each of its latest articles, and the sentences shown so
far. The embeddings of those articles' leads (title and first sentence) live in the
folder's vector cache (`DIR/vectors/`, `digest.vectors`), keyed by content, so no text
is embedded twice.

A story of today's digest continues a record when

1. they share an article (same URL, or the same text re-read from elsewhere), or
2. they read as one event: the mean same-event probability of the clustering's pair
   model between today's articles and the record's leads (dated: a lead keeps its
   article's date), scored together with all of today's articles and every record
   written in the last three days (today's articles are searched from; the records are
   joined, never regrouped), is at least `1 - threshold` (`digest.join_threshold`: the
   mean counts every pair, and a lead is only an article's first words, so this cut is
   its own, tuned by `benchmarks/bench_continuity.py --tune` on events it does not score).

Each record continues at most one story (the strongest match first). A continuing
story is an `update` when it has sentences not shown before (those are listed in
`Story.new_sentences`, and renderers show them first) or articles not seen before,
else `unchanged`; any other story is `new`, with an id from its article keys.

The file is replaced atomically (a temp file, then a rename). A file that cannot be
read or is not a state file is renamed aside (`stories.json.corrupt-<time>`), named
in one warning and in the digest's notes, and the run goes on as if it were empty:
state is never worth losing a digest for. A state folder that cannot be written is a
note too.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import logging
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np
from pydantic import BaseModel, Field, ValidationError

from summarize.digest.cluster import lead_text
from summarize.errors import InputError
from summarize.model.embed import DIM
from summarize.models import Article, Story
from summarize.text.words import content_words

log = logging.getLogger("summarize")

STATE_FILE = "stories.json"
VERSION = 1
LEAD_ARTICLES = 4  # leads kept per record: its newest articles
LEAD_TEXT_WORDS = 100  # words kept of each: what its TF-IDF and names are scored on
MAX_KEYS = 200  # article keys kept per record
MAX_SENTENCES = 120  # sentence texts kept per record
SAME_SENTENCE = 0.8  # content-word Jaccard at which two sentences are the same one
# Stories compared by content only with records written this recently (by article
# keys, with every record): what a reader calls "continuing", and it bounds the work.
CONTENT_WINDOW = timedelta(days=3)
_TRACKING = re.compile(r"^(utm_|fbclid$|gclid$|mc_|ref$|cmpid$)", re.IGNORECASE)


def default_state_dir() -> Path:
    """`summarize/state` in the user's data folder: `$XDG_DATA_HOME`, else the
    platform's (`~/.local/share`, `~/Library/Application Support`, `%LOCALAPPDATA%`)."""
    if os.environ.get("XDG_DATA_HOME"):
        base = Path(os.environ["XDG_DATA_HOME"])
    elif sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path.home() / ".local" / "share"
    return base / "summarize" / "state"


# ---------------------------------------------------------------- the file


class Lead(BaseModel):
    """An article as remembered: enough to score it against tomorrow's articles."""

    key: str
    title: str = ""
    outlet: str = ""
    url: str | None = None
    text: str  # its first words (their first sentence, with the title, is what is embedded)
    published: datetime | None = None  # (older files: none; the record's last_seen stands in)
    vector: str = ""  # its embedding, float16, base64 (older files; now in the vector cache)


class Record(BaseModel):
    story_id: str
    title: str = ""
    first_seen: datetime
    last_seen: datetime
    updated: datetime
    keys: list[str] = Field(default_factory=list)
    leads: list[Lead] = Field(default_factory=list)
    sentences: list[str] = Field(default_factory=list)


class StateFile(BaseModel):
    version: int
    stories: list[Record] = Field(default_factory=list)


# ---------------------------------------------------------------- keys


def url_key(url: str | None) -> str | None:
    """A URL without scheme, `www.`, fragment, tracking parameters or trailing slash."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if not parts.netloc:
        return None
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if not _TRACKING.match(k)])
    host = parts.netloc.lower().removeprefix("www.")
    return "url:" + urlunsplit(("", host, parts.path.rstrip("/"), query, "")).lstrip("/")


def text_key(article: Article) -> str:
    words = " ".join(article.clean_text().split()[:80]).casefold()
    return "text:" + hashlib.sha1(words.encode("utf-8")).hexdigest()[:16]


def article_keys(article: Article) -> list[str]:
    """What identifies an article across days: its URL, its id, its text."""
    keys = [url_key(article.url), f"id:{article.id}", text_key(article)]
    return [k for k in keys if k]


def story_id_for(articles: list[Article]) -> str:
    """A stable id from the story's articles (the same articles, the same id)."""
    keys = sorted(url_key(a.url) or text_key(a) for a in articles)
    return hashlib.sha1("\n".join(keys).encode("utf-8")).hexdigest()[:16]


def _unpack(text: str) -> np.ndarray | None:
    try:
        v = np.frombuffer(base64.b64decode(text), dtype=np.float16).astype(np.float32)
    except (ValueError, TypeError):
        return None
    return v if v.size else None


def _same_sentence(a: set[str], b: set[str]) -> bool:
    if not a or not b:
        return a == b
    return len(a & b) / len(a | b) >= SAME_SENTENCE


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


# ---------------------------------------------------------------- load and save


@dataclass
class State:
    """The records of one state folder, and what happened reading it."""

    folder: Path
    records: list[Record] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return self.folder / STATE_FILE


def load_state(folder: str | Path, now: datetime | None = None) -> State:
    """The state in `folder` (empty when there is none). A corrupt file is renamed aside,
    warned about in one line, and noted; never an exception."""
    state = State(Path(folder).expanduser())
    path = state.path
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return state
    except OSError as exc:
        _note(state, f"state file {path} could not be read ({exc.strerror or exc}): ignored")
        return state
    try:
        data = StateFile.model_validate_json(raw)
        if data.version != VERSION:
            raise ValueError(f"version {data.version}, expected {VERSION}")
    except (ValidationError, ValueError) as exc:
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S")
        aside = path.with_name(f"{STATE_FILE}.corrupt-{stamp}")
        reason = _first_line(exc)
        try:
            os.replace(path, aside)
            where = f"set aside as {aside.name}"
        except OSError as err:
            where = f"could not be set aside ({err.strerror or err})"
        _note(
            state,
            f"state file {path} is corrupt ({reason}); {where}; every story counts as new",
        )
        return state
    state.records = data.stories
    return state


def _first_line(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        return f"{where}: {err['msg']}" if where else err["msg"]
    return str(exc).splitlines()[0][:200]


def _note(state: State, message: str) -> None:
    log.warning(message)
    state.notes.append(message)


def save_state(state: State, now: datetime, keep_days: int) -> None:
    """Write the records seen within `keep_days`, atomically; a failure is a note."""
    cutoff = now - timedelta(days=keep_days)
    kept = [r for r in state.records if _utc(r.last_seen) >= cutoff]
    text = StateFile(version=VERSION, stories=kept).model_dump_json(indent=1)
    tmp = None
    try:
        state.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=state.folder, prefix=f".{STATE_FILE}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, state.path)
        tmp = None
    except OSError as exc:
        _note(state, f"state not saved to {state.path} ({exc.strerror or exc})")
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


# ---------------------------------------------------------------- matching


def _ghosts(records: list[Record]) -> tuple[list[Article], list[int], dict[str, np.ndarray]]:
    """Each record's leads as articles, which record each belongs to, and their vectors."""
    articles, owner, vectors = [], [], {}
    for n, record in enumerate(records):
        for m, lead in enumerate(record.leads):
            article = Article(
                id=f"state-{record.story_id}-{m}",
                title=lead.title,
                outlet=lead.outlet,
                url=lead.url,
                text=lead.text or lead.title or " ",
                published=lead.published or record.last_seen,
            )
            v = _unpack(lead.vector)
            if v is not None and v.shape == (DIM,):
                vectors[lead_text(article)] = v
            articles.append(article)
            owner.append(n)
    return articles, owner, vectors


def _content_scores(
    stories: list[list[Article]],
    records: list[Record],
    threshold: float,
    vectors: dict[str, np.ndarray],
    embed_fn=None,
    now: datetime | None = None,
) -> dict[tuple[int, int], float]:
    """(story, record) -> mean same-event probability over their article pairs, where it
    reaches the digest's cut. Only today's articles are searched from (each with its
    nearest remembered leads): the records are joined, never regrouped.

    An undated article counts as published `now` (today's) or when its record was last
    written (a remembered one): the days between them are a signal of the pair model."""
    from summarize.digest import cluster

    if embed_fn is None:
        from summarize.model.embed import embed as embed_fn

    ghosts, owner, known = _ghosts(records)
    known = {**known, **vectors}
    today = [
        a if a.published or now is None else a.model_copy(update={"published": now})
        for story in stories
        for a in story
    ]
    if not ghosts or not today:
        return {}
    story_of = [n for n, story in enumerate(stories) for _ in story]

    def embed_known(texts: list[str]) -> np.ndarray:
        todo = [t for t in texts if t not in known]
        fresh = dict(zip(todo, embed_fn(todo), strict=True)) if todo else {}
        return np.stack([known[t] if t in known else fresh[t] for t in texts])

    everything = today + ghosts
    n_today = len(today)
    sig = cluster.signals(everything, embed_fn=embed_known)
    graph = cluster.scored_pairs(sig, queries=n_today)
    p = cluster.probabilities(graph)
    sums: dict[tuple[int, int], float] = {}
    for i, j, prob in zip(graph.r.tolist(), graph.c.tolist(), p.tolist(), strict=True):
        if (i < n_today) == (j < n_today):
            continue
        a, g = (i, j - n_today) if i < n_today else (j, i - n_today)
        key = (story_of[a], owner[g])
        sums[key] = sums.get(key, 0.0) + prob
    sizes_r = np.bincount(owner, minlength=len(records))
    out = {}
    for (s, r), total in sums.items():
        mean = total / (len(stories[s]) * sizes_r[r])
        if mean >= 1.0 - threshold:
            out[(s, r)] = mean
    return out


def continue_stories(
    state: State,
    stories: list[Story],
    *,
    now: datetime,
    threshold: float,
    vectors: dict[str, np.ndarray] | None = None,
    embed_fn=None,
) -> None:
    """Set each story's `story_id`, `status`, `new_sentences`, `first_seen`, `updated`
    from the state, and update the state's records (not saved: `save_state`).
    `vectors`: lead embeddings by lead text (`cluster.Grouping.vectors`), reused;
    `embed_fn` embeds the others (the digest passes its vector cache)."""
    records = state.records
    keys_of = [{k for a in s.articles for k in article_keys(a)} for s in stories]
    owners: dict[str, list[int]] = {}  # article key -> the records that have it
    for r, record in enumerate(records):
        for key in record.keys:
            owners.setdefault(key, []).append(r)
    candidates: list[tuple[int, float, int, int]] = []  # (shared keys, score, story, record)
    for s, keys in enumerate(keys_of):
        shared: dict[int, int] = {}
        for key in keys:
            for r in owners.get(key, ()):
                shared[r] = shared.get(r, 0) + 1
        candidates += [(n, 1.0, s, r) for r, n in shared.items()]
    recent = [
        r for r, record in enumerate(records) if _utc(record.last_seen) >= now - CONTENT_WINDOW
    ]
    if recent:
        try:
            today = [s.articles for s in stories]
            remembered = [records[r] for r in recent]
            scores = _content_scores(today, remembered, threshold, vectors or {}, embed_fn, now)
        except Exception as exc:  # matching by content is a bonus, never a failure
            log.warning("continuity: stories not compared by content (%s)", exc)
            scores = {}
        for (s, r), score in scores.items():
            candidates.append((0, score, s, recent[r]))
    candidates.sort(key=lambda c: (-c[0], -c[1], c[2], c[3]))
    matched: dict[int, int] = {}
    used: set[int] = set()
    for _, _, s, r in candidates:
        if s in matched or r in used:
            continue
        matched[s] = r
        used.add(r)

    for s, story in enumerate(stories):
        r = matched.get(s)
        record = records[r] if r is not None else None
        _apply(story, record, keys_of[s], now)
        if record is None:
            record = Record(
                story_id=story.story_id or story_id_for(story.articles),
                first_seen=now,
                last_seen=now,
                updated=now,
            )
            records.append(record)
        _remember(record, story, keys_of[s], now)


def _apply(story: Story, record: Record | None, keys: set[str], now: datetime) -> None:
    if record is None:
        story.story_id = story.story_id or story_id_for(story.articles)
        story.status = "new"
        story.new_sentences = []
        story.first_seen = now
        story.updated = now
        return
    shown = [content_words(t) for t in record.sentences]
    shown_exact = {_norm(t) for t in record.sentences}
    new = []
    for i, claim in enumerate(story.sentences):
        if _norm(claim.text) in shown_exact:
            continue
        words = content_words(claim.text)
        if not any(_same_sentence(words, old) for old in shown):
            new.append(i)
    seen = set(record.keys)
    fresh_articles = any(not (set(article_keys(a)) & seen) for a in story.articles)
    story.story_id = record.story_id
    story.first_seen = record.first_seen
    story.new_sentences = new
    if new or fresh_articles:
        story.status = "update"
        story.updated = now
    else:
        story.status = "unchanged"
        story.updated = record.updated


def _first_words(text: str, n: int) -> str:
    """The first `n` words of `text`, its line breaks kept (they end its first sentence,
    so the remembered lead embeds as the article's own did)."""
    found = re.match(rf"\s*(?:\S+\s+){{0,{n - 1}}}\S+", text)
    return found.group().strip() if found else ""


def _remember(record: Record, story: Story, keys: set[str], now: datetime) -> None:
    record.last_seen = now
    record.updated = story.updated or now
    title = story.headline.text if story.headline and story.headline.text else ""
    record.title = title or next((a.title for a in story.articles if a.title), record.title)
    record.keys = sorted(set(record.keys) | keys)[-MAX_KEYS:]
    if not story.error:
        texts = [c.text for c in story.sentences]
        known = {_norm(t) for t in record.sentences}
        record.sentences = (record.sentences + [t for t in texts if _norm(t) not in known])[
            -MAX_SENTENCES:
        ]
    have = {lead.key for lead in record.leads}
    for article in story.articles:
        key = url_key(article.url) or text_key(article)
        if key in have:
            continue
        record.leads.append(
            Lead(
                key=key,
                title=article.title,
                outlet=article.outlet,
                url=article.url,
                text=_first_words(article.clean_text(), LEAD_TEXT_WORDS),
                published=article.published,
            )
        )
        have.add(key)
    record.leads = record.leads[-LEAD_ARTICLES:]


# ---------------------------------------------------------------- one digest at a time

LOCK_FILE = "digest.lock"


class StateLockedError(InputError):
    """Another digest is using the state folder, and did not finish in time."""


@contextlib.contextmanager
def state_lock(state_dir: str | Path, wait_s: float = 60.0, poll_s: float = 0.2) -> Iterator[None]:
    """Hold the state folder for one digest. A second digest on the same folder waits up
    to `wait_s`, then fails naming who holds it. The lock is the kernel's (`flock`), so a
    killed holder frees it: a lock file left behind is taken over."""
    folder = Path(state_dir).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / LOCK_FILE).open("a+", encoding="utf-8") as handle:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "another process"
                    raise StateLockedError(
                        folder, f"in use by another digest ({holder}); waited {wait_s:g} s"
                    ) from None
                time.sleep(poll_s)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)
