"""Coverage at a glance: which outlets covered a story, and how they spread over the
labels the user gave them (leaning, country, anything) in an outlets file.

The outlets file is TOML or JSON, one table per outlet, any labels as strings:

    ["The Aldwen Courier"]
    leaning = "center"
    country = "Aldwen"
    aliases = ["Aldwen Courier"]          # optional: other spellings of the name
    domains = ["aldwen-courier.example"]  # optional: matched against article URLs

An article's outlet matches a table by name (case, a leading "The", punctuation and a
trailing "(...)" ignored: "Fox News (Online News)" is "Fox News"), by alias, or by its
URL's host. Stories are ranked by breadth of coverage: distinct outlets, then distinct
side values among them (`digest.sides`, e.g. left and right), then articles, then the
newest article.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from summarize.errors import ConfigError
from summarize.models import Article, Coverage

_SPECIAL_KEYS = ("aliases", "domains")


def name_key(name: str) -> str:
    """ "The Aldwen Courier" -> "aldwencourier"; "Fox News (Online News)" -> "foxnews"."""
    name = re.sub(r"\([^)]*\)\s*$", "", name.strip())
    name = re.sub(r"^the\s+", "", name.casefold())
    return re.sub(r"[\W_]+", "", name)


def _host(url: str | None) -> str:
    if not url:
        return ""
    try:
        host = (urlsplit(url.strip()).hostname or "").lower()
    except ValueError:
        return ""
    return host.removeprefix("www.")


@dataclass
class Outlets:
    """Labels per outlet, as the user wrote them; look-ups by name, alias or URL host."""

    labels: dict[str, dict[str, str]] = field(default_factory=dict)  # outlet -> label -> value
    path: str | None = None
    _by_key: dict[str, str] = field(default_factory=dict)
    _by_domain: dict[str, str] = field(default_factory=dict)

    def add(self, outlet: str, labels: dict[str, str], aliases=(), domains=()) -> None:
        self.labels[outlet] = labels
        for name in (outlet, *aliases):
            self._by_key.setdefault(name_key(name), outlet)
        for domain in domains:
            self._by_domain[domain.lower().removeprefix("www.")] = outlet

    def find(self, outlet: str, url: str | None = None) -> str | None:
        """The file's name for this outlet (or URL), or None."""
        found = self._by_key.get(name_key(outlet)) if outlet else None
        if found:
            return found
        host = _host(url)
        while host:
            if host in self._by_domain:
                return self._by_domain[host]
            host = host.partition(".")[2]
        return None

    def __bool__(self) -> bool:
        return bool(self.labels)


def _text(value, where: str) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str | int | float):
        return str(value).strip()
    raise ConfigError(f"{where}: a label must be a string or a number (got {type(value).__name__})")


def load_outlets(path: str | Path | None, sides: Sequence[str] = ("leaning",)) -> Outlets:
    """The outlets file (TOML, or JSON by its `.json` suffix); ConfigError naming the file
    and the entry when it cannot be used. None: no labels. A side label (`sides`, the
    ones the coverage bar and "how the coverage differs" compare) must be a word:
    `leaning = 3` is a mistake, not a side."""
    if path is None:
        return Outlets()
    path = Path(path).expanduser()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the outlets file ({exc.strerror or exc})") from None
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(raw.decode("utf-8"))
        else:
            data = tomllib.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        kind = "JSON" if path.suffix.lower() == ".json" else "TOML"
        raise ConfigError(f"{path}: invalid {kind} in the outlets file ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the outlets file must map outlet names to tables of labels")
    outlets = Outlets(path=str(path))
    for outlet, table in data.items():
        where = f"{path}: outlet {outlet!r}"
        if not isinstance(table, dict):
            raise ConfigError(f'{where}: expected a table of labels (leaning = "...")')
        extra = {}
        for key in _SPECIAL_KEYS:
            value = table.get(key, [])
            value = [value] if isinstance(value, str) else value
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where}: {key} must be a list of strings")
            extra[key] = value
        labels = {
            str(k): _text(v, f"{where}, label {k!r}")
            for k, v in table.items()
            if k not in _SPECIAL_KEYS
        }
        for side in sides:
            value = table.get(side)
            if value is not None and not (isinstance(value, str) and any(map(str.isalpha, value))):
                raise ConfigError(
                    f'{where}: {side} must be a word such as "left", "center" or "right" '
                    f"(got {value!r})"
                )
        outlets.add(str(outlet), labels, **extra)
    return outlets


def _names(article: Article) -> list[str]:
    from summarize.sources.feeds import outlets_of

    return outlets_of(article) or ([article.id] if not article.outlet else [article.outlet])


def resolve(article: Article, outlets: Outlets) -> list[str]:
    """The outlets an article stands for, under the outlets file's names where it has them."""
    return [outlets.find(name, article.url) or name for name in _names(article)]


def labelled(article: Article, outlets: Outlets) -> Article:
    """The article with its outlet's labels from the outlets file, and the outlet's name
    when it carries none of its own (found by its file id as an alias, or by its URL's
    domain): a reader sees "Harbour Herald", not a file name."""
    if not outlets:
        return article
    name = outlets.find(article.outlet or article.id, article.url)
    if not name:
        return article
    update = {"labels": dict(outlets.labels.get(name, {}))}
    if article.outlet in ("", article.id):  # no name of its own (the file name stands in)
        update["outlet"] = name
    return article.model_copy(update=update)


def side_labels(outlets: Outlets, sides: list[str]) -> dict[str, list[str]]:
    """For each side label, every value the outlets file gives it."""
    out: dict[str, list[str]] = {}
    for key in sides:
        values = sorted({labels[key] for labels in outlets.labels.values() if key in labels})
        if values:
            out[key] = values
    return out


def coverage(articles: list[Article], outlets: Outlets, spread: dict[str, set[str]]) -> Coverage:
    """The story's coverage. `spread`: the values each side label takes over the whole
    digest (a story is one-sided only where the digest had a choice)."""
    names = sorted({name for a in articles for name in resolve(a, outlets)})
    counts: dict[str, dict[str, int]] = {}
    unlabelled = []
    for name in names:
        labels = outlets.labels.get(name)
        if labels is None:
            unlabelled.append(name)
            continue
        for key, value in labels.items():
            counts.setdefault(key, {})
            counts[key][value] = counts[key].get(value, 0) + 1
    one_sided = {
        side: next(iter(counts[side]))
        for side in spread
        if len(spread[side]) > 1 and len(counts.get(side, {})) == 1
    }
    return Coverage(outlets=names, labels=counts, unlabelled=unlabelled, one_sided=one_sided)


def side_spread(articles: list[Article], outlets: Outlets, sides: list[str]) -> dict[str, set]:
    """The values each side label takes over `articles` (the digest's window)."""
    spread: dict[str, set[str]] = {side: set() for side in sides}
    for a in articles:
        for name in resolve(a, outlets):
            for side in sides:
                value = outlets.labels.get(name, {}).get(side)
                if value:
                    spread[side].add(value)
    return spread


def breadth(cov: Coverage, sides: list[str]) -> tuple[int, int]:
    """(distinct outlets, distinct side values among them): the ranking's first keys."""
    return len(cov.outlets), sum(len(cov.labels.get(side, {})) for side in sides)
