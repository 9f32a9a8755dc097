"""On-disk cache of model answers, so re-running a summary costs no new request.

The key is a sha256 of everything that shapes the answer: the server (its base URL, or
the embedded model's file: it listens on a new port each run), the model name, the
messages, the answer kind and schema, temperature, max_tokens and other params. An entry
holds what replays the answer exactly: content, finish reason (a cut-off answer is parsed
differently), structured-output mode and usage; so a cache hit is the original result,
byte for byte. Only answers that parsed are stored. Writes are atomic (temp file in the
same directory, then rename), so a crash or Ctrl-C never leaves half an entry. Entries of
another `CACHE_VERSION` are never read (the version is part of the key).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger("summarize")

CACHE_VERSION = 2


def valid_entry(entry: Any) -> bool:
    """An entry of this version with everything a replay needs."""
    return (
        isinstance(entry, dict)
        and entry.get("v") == CACHE_VERSION
        and isinstance(entry.get("content"), str)
        and isinstance(entry.get("finish_reason"), str)
        and isinstance(entry.get("mode"), str)
    )


def cache_key(
    *,
    server: str,
    model: str,
    messages: list[dict[str, Any]],
    kind: str,
    schema: dict[str, Any] | None,
    temperature: float,
    max_tokens: int,
    **params: Any,
) -> str:
    """sha256 over a canonical JSON form of the request's meaning."""
    payload = {
        "v": CACHE_VERSION,
        "server": server,
        "model": model,
        "messages": messages,
        "kind": kind,
        "schema": schema,
        "temperature": temperature,
        "max_tokens": max_tokens,
        "params": params,
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ResponseCache:
    """JSON files under `<directory>/responses/<key[:2]>/<key>.json`."""

    def __init__(self, directory: str | os.PathLike[str]):
        self.root = Path(directory).expanduser() / "responses"

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored entry, or None when absent or unreadable (treated as a miss)."""
        path = self.path(key)
        try:
            with path.open(encoding="utf-8") as f:
                entry = json.load(f)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable cache entry %s: %s", path, exc)
            return None
        return entry if isinstance(entry, dict) else None

    def put(self, key: str, entry: dict[str, Any]) -> None:
        """Write atomically; a cache that cannot be written only costs a warning."""
        path = self.path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(entry, f, ensure_ascii=False)
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as exc:
            log.warning("could not write cache entry %s: %s", path, exc)
