"""Lead embeddings kept on disk by content hash, so a text is never embedded twice.

The digest's state folder holds them (`<state>/vectors/vectors.npz`): tomorrow's
digest reuses the vectors of today's articles (a feed still carrying yesterday's
items), and the continuity matching reuses those of the stories it remembers. A vector
is keyed by the sha256 of the model's id and the text, so a changed text or another
model is embedded afresh. Vectors are kept as float16 with the time they were last
used; saving drops those unused for `keep_days` and keeps at most `MAX_VECTORS`, the
most recently used. The file is replaced atomically (a temp file, then a rename); a
file that cannot be read is ignored (one warning) and rewritten on the next save:
a cache is never worth losing a digest for.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

log = logging.getLogger("summarize")

FOLDER = "vectors"
FILE = "vectors.npz"
MAX_VECTORS = 250_000  # about 190 MB on disk (384 float16 and a 32-byte key each)
KEEP_DAYS = 14


class VectorCache:
    """An embedding function with a content-hash cache in `folder` (loaded lazily)."""

    def __init__(self, folder: str | Path, model_id: str | None = None, embed_fn=None) -> None:
        if model_id is None or embed_fn is None:
            from summarize.model import embed as model

            model_id = model_id or model.MODEL_ID
            embed_fn = embed_fn or model.embed
        self.path = Path(folder).expanduser() / FILE
        self.model_id = model_id
        self._embed: Callable[[list[str]], np.ndarray] = embed_fn
        self._rows: dict[bytes, int] | None = None
        self._vectors: list[np.ndarray] = []
        self._used: list[float] = []  # when each vector was last used (unix seconds)
        self.hits = 0
        self.embedded = 0  # texts embedded (cache misses) since this cache was opened

    def key(self, text: str) -> bytes:
        return hashlib.sha256(f"{self.model_id}\n{text}".encode()).digest()

    def _load(self) -> dict[bytes, int]:
        if self._rows is not None:
            return self._rows
        self._rows = {}
        try:
            with np.load(self.path, allow_pickle=False) as data:
                keys, vectors, used = data["keys"], data["vectors"], data["used"]
            if keys.dtype != np.uint8 or keys.shape[1:] != (32,) or vectors.ndim != 2:
                raise ValueError("not a vector cache")
            if len(used) != len(keys):
                raise ValueError("keys and times differ in number")
            if len(vectors) != len(keys):
                raise ValueError("keys and vectors differ in number")
        except FileNotFoundError:
            return self._rows
        except Exception as exc:  # noqa: BLE001 - any unreadable file is ignored
            log.warning("vector cache %s ignored (%s): texts are embedded again", self.path, exc)
            return self._rows
        self._vectors = list(vectors)
        self._used = used.astype(np.float64).tolist()
        self._rows = {k.tobytes(): i for i, k in enumerate(keys)}
        return self._rows

    def __len__(self) -> int:
        return len(self._load())

    def __call__(self, texts: list[str]) -> np.ndarray:
        """Embeddings of `texts` (float32, L2-normalised as the model gives them)."""
        rows = self._load()
        now = time.time()
        keys = [self.key(t) for t in texts]
        todo: dict[bytes, str] = {}
        for k, t in zip(keys, texts, strict=True):
            if k not in rows and k not in todo:
                todo[k] = t
        if todo:
            fresh = np.asarray(self._embed(list(todo.values())), dtype=np.float32)
            for k, v in zip(todo, fresh, strict=True):
                rows[k] = len(self._vectors)
                self._vectors.append(v.astype(np.float16))
                self._used.append(now)
        self.embedded += len(todo)
        self.hits += len(texts) - len(todo)
        out = np.zeros((len(texts), 384 if not self._vectors else len(self._vectors[0])))
        for i, k in enumerate(keys):
            row = rows[k]
            self._used[row] = now
            out[i] = self._vectors[row]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return (out / np.maximum(norms, 1e-12)).astype(np.float32)

    def save(self, keep_days: int = KEEP_DAYS, max_vectors: int = MAX_VECTORS) -> None:
        """Write the cache atomically, pruned; a failure is one warning."""
        rows = self._load()
        if not rows:
            return
        used = np.asarray(self._used, dtype=np.float64)
        keep = np.flatnonzero(used >= time.time() - keep_days * 86400.0)
        keep = keep[np.argsort(-used[keep], kind="stable")][:max_vectors]
        keep.sort()
        # raw bytes, 32 a row (a numpy "S32" string would drop a digest's trailing zeros)
        keys = np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(-1, 32)
        order = np.array(list(rows.values()), dtype=np.int64)
        by_row = np.empty((len(self._vectors), 32), dtype=np.uint8)
        by_row[order] = keys
        tmp = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".vectors.", suffix=".npz")
            with os.fdopen(fd, "wb") as f:
                np.savez(
                    f,
                    keys=by_row[keep],
                    vectors=np.stack([self._vectors[i] for i in keep])
                    if len(keep)
                    else np.zeros((0, len(self._vectors[0])), dtype=np.float16),
                    used=used[keep],
                )
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
            tmp = None
        except OSError as exc:
            log.warning("vector cache not saved to %s (%s)", self.path, exc.strerror or exc)
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)


def state_cache(state_dir: str | Path) -> VectorCache:
    """The vector cache of a digest state folder."""
    return VectorCache(Path(state_dir).expanduser() / FOLDER)
