"""The learned scorer: a small cross-encoder (MiniLM) + the rule checks -> calibrated probability.

The model is all-MiniLM-L6-v2 (6 layers, mean-pooled, one logit) fine-tuned as a
cross-encoder on (claim, source passage) pairs (`training/`), exported to ONNX
and quantised to int8; it ships in `summarize/data/learned/` (see the
MODEL_CARD there) and runs with onnxruntime + tokenizers only (no torch).

For a claim the scorer

1. packs the retriever's candidates, best first, into passages ("chunks") of at
   most `PREMISE_WORDS` words, kept in article order (the first chunk holds the
   best candidates; cited sentences come first when the caller cites some);
2. runs the cross-encoder on (claim, chunk) for every chunk and keeps the
   maximum: a claim is supported when some passage supports it;
3. combines that logit with the rule findings (numbers, dates, entities,
   negation, antonyms, novel words) in a logistic layer fitted on held-back
   calibration rows (`training/calibrate.py`), so the output is a calibrated
   probability (the vetoes for a number, date, name or quotation in no source are
   applied afterwards by `support/policy.py`, as for every scorer);
4. cites, inside the deciding chunk, the fewest sentences that cover the claim.

A summary's score is the minimum over its sentences (see `benchmarks/`).
"""

from __future__ import annotations

import json
import math
import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from summarize.models import Sentence, Verdict
from summarize.support.checks import Evidence
from summarize.support.policy import capped
from summarize.support.retrieve import Candidate, Retrieval
from summarize.support.scorers.base import select_support, support_spans
from summarize.support.scorers.rules import featurize

PREMISE_WORDS = 70  # words of source text in one chunk (fits MAX_TOKENS with the claim)
MAX_TOKENS = 128
MAX_CHUNKS = 3
MAX_CLAIM_WORDS = 60
_lock = threading.Lock()


# ------------------------------------------------------------------ premises (shared with training)


def premise_chunks(
    candidates: Sequence[Candidate], words: int = PREMISE_WORDS, max_chunks: int = MAX_CHUNKS
) -> list[list[Sentence]]:
    """Candidate sentences packed, best first, into chunks of <= `words` words each;
    every chunk is returned in article order. A sentence goes in one chunk only."""
    chunks: list[list[Sentence]] = []
    sizes: list[int] = []
    seen: set[tuple[str, int]] = set()
    for cand in candidates:
        sents = [s for s in cand.sentences if (s.article_id, s.start) not in seen]
        if not sents:
            continue
        n = sum(len(s.text.split()) for s in sents)
        for i, size in enumerate(sizes):
            if size + n <= words:
                chunks[i] += sents
                sizes[i] += n
                break
        else:
            if len(chunks) >= max_chunks:
                continue
            chunks.append(list(sents))
            sizes.append(n)
        seen.update((s.article_id, s.start) for s in sents)
    return [sorted(c, key=lambda s: (s.article_id, s.start)) for c in chunks]


WINDOW_SENTENCES = 3  # a premise as the article has it: the passage and its neighbours
WINDOW_WORDS = 80  # ... while it fits MAX_TOKENS with the claim


def premise_windows(
    candidates: Sequence[Candidate],
    sentences: Sequence[Sentence] = (),
    max_windows: int = MAX_CHUNKS,
) -> list[list[Sentence]]:
    """Premises as they occur: each of the best candidates with its neighbours in its
    article (2-3 consecutive sentences, the one before first, where they fit
    `WINDOW_WORDS`), best first, at most `max_windows`; then, when the best candidates
    come from two articles, their passages together (a claim that fuses two outlets).
    `sentences` are the usable source sentences in article order (the retriever's);
    without them a window is the candidate itself."""
    at = {(s.article_id, s.start): i for i, s in enumerate(sentences)}

    def size(window: Sequence[Sentence]) -> int:
        return sum(len(s.text.split()) for s in window)

    windows: list[list[Sentence]] = []
    seen: set[tuple] = set()
    for cand in candidates:
        idx = [at.get((s.article_id, s.start)) for s in cand.sentences]
        window = list(cand.sentences)
        if idx and None not in idx:
            lo, hi = min(idx), max(idx)
            for step in (-1, +1, -1, +1):
                if hi - lo + 1 >= WINDOW_SENTENCES:
                    break
                j = lo - 1 if step < 0 else hi + 1
                if not 0 <= j < len(sentences):
                    continue
                if sentences[j].article_id != cand.article_id:
                    continue
                grown = sentences[min(lo, j) : max(hi, j) + 1]
                if size(grown) <= WINDOW_WORDS:
                    lo, hi = min(lo, j), max(hi, j)
            window = list(sentences[lo : hi + 1])
        key = tuple((s.article_id, s.start) for s in window)
        if key not in seen:
            seen.add(key)
            windows.append(window)
        if len(windows) >= max_windows:
            break
    first: dict[str, Candidate] = {}
    for cand in candidates:
        first.setdefault(cand.article_id, cand)
    if len(first) >= 2:
        a, b = list(first.values())[:2]
        windows.append([*a.sentences, *b.sentences])
    return windows


def chunk_text(chunk: Sequence[Sentence]) -> str:
    return " ".join(s.text.strip() for s in chunk)


def chunk_support(
    claim: str, candidates: Sequence[Candidate], chunk: Sequence[Sentence]
) -> list[Sentence]:
    """The fewest sentences of the deciding chunk that cover the claim (its first
    sentence when no candidate lies wholly inside it)."""
    inside = [c for c in candidates if all(s in chunk for s in c.sentences)]
    return select_support(claim, inside) if inside else list(chunk[:1])


def premise_text(candidates: Sequence[Candidate]) -> str:
    """The first (best) chunk as text: what training pairs use as the premise."""
    chunks = premise_chunks(candidates, max_chunks=1)
    return chunk_text(chunks[0]) if chunks else ""


# ------------------------------------------------------------------ the model


def model_dir() -> Path:
    """The shipped cross-encoder; `SUMMARIZE_LEARNED_DIR` points at another one (a
    candidate being benchmarked against it)."""
    other = os.environ.get("SUMMARIZE_LEARNED_DIR")
    return Path(other) if other else Path(str(resources.files("summarize") / "data" / "learned"))


@lru_cache(maxsize=1)
def premise_style() -> str:
    """How the model was trained to read its premise (its train.json): "windows" (a
    passage with its neighbours, as the article has it) or "chunks" (the first model:
    candidates packed to a word budget)."""
    info = model_dir() / "train.json"
    style = json.loads(info.read_text()).get("premise") if info.is_file() else None
    return style or "chunks"


def premises(candidates: Sequence[Candidate], sentences: Sequence[Sentence] = ()) -> list:
    """The premises the model reads for a claim, in the form it was trained on."""
    if premise_style() == "windows":
        return premise_windows(candidates, sentences)
    return premise_chunks(candidates)


@lru_cache(maxsize=1)
def _load():
    import onnxruntime as ort
    from tokenizers import Tokenizer

    d = model_dir()
    if not (d / "model.onnx").is_file():
        raise RuntimeError(f"the learned scorer's model is missing: {d / 'model.onnx'}")
    tok = Tokenizer.from_file(str(d / "tokenizer.json"))
    tok.enable_truncation(max_length=MAX_TOKENS, strategy="only_second")
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(
        str(d / "model.onnx"), options, providers=["CPUExecutionProvider"]
    )
    calib = (
        json.loads((d / "calibration.json").read_text())
        if (d / "calibration.json").is_file()
        else {}
    )
    return tok, session, calib


def read_calibration(path: Path) -> dict:
    """A calibration file (the shipped format); errors name the file and the problem."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        layer = doc["default"]
        names = layer["features"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a calibration file ({type(exc).__name__}: {exc})") from exc
    known = {"logit", *RULE_FEATURES}
    unknown = [n for n in names if n not in known]
    if unknown or len(layer.get("coef", [])) != len(names):
        raise ValueError(f"{path}: calibration features do not match this model: {unknown}")
    return doc


def load() -> None:
    """Load the model now (e.g. before timing) instead of on first use."""
    _load()


def cross_logits(claim: str, premises: Sequence[str]) -> np.ndarray:
    """The cross-encoder's raw logit for (claim, premise) pairs, one batch."""
    if not premises:
        return np.zeros(0, dtype=np.float32)
    tok, session, _ = _load()
    words = claim.split()
    if len(words) > MAX_CLAIM_WORDS:  # leave room for the premise (only the premise is truncated)
        claim = " ".join(words[:MAX_CLAIM_WORDS])
    try:
        encs = tok.encode_batch([(claim, p or ".") for p in premises])
    except Exception:  # claim alone too long for MAX_TOKENS: keep its start
        claim = " ".join(claim.split()[: MAX_CLAIM_WORDS // 3])
        encs = tok.encode_batch([(claim, p or ".") for p in premises])
    ids = np.array([e.ids for e in encs], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encs], dtype=np.int64)
    types = np.array([e.type_ids for e in encs], dtype=np.int64)
    with _lock:
        out = session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        )[0]
    return np.asarray(out, dtype=np.float32).reshape(len(premises))


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))


# the rule features the calibration layer uses (names from rules.FEATURES)
RULE_FEATURES = [
    "cov_support",
    "bigram_support",
    "cov_source",
    "novel_words",
    "number_error",
    "date_error",
    "entity_error",
    "negation_error",
    "antonym_error",
]


def features(
    claim: str,
    candidates: Sequence[Candidate],
    sources: Evidence,
    sentences: Sequence[Sentence] = (),
):
    """(feature dict, chunks, chunk logits, rule findings, rule support) for a claim."""
    from summarize.support.scorers.rules import FEATURES

    chunks = premises(candidates, sentences)
    logits = cross_logits(claim, [chunk_text(c) for c in chunks])
    x, support, findings = featurize(claim, candidates, sources)
    f = dict(zip(FEATURES, (float(v) for v in x), strict=True))
    f["logit"] = float(logits.max()) if len(logits) else -10.0
    return f, chunks, logits, findings, support


# a number, date or name found in no source is never supported, whatever the other signals say
def vetoed(f: dict, p: float) -> float:
    """`p` after the policy's vetoes, from the error counts in the feature dict (for fitting)."""
    return capped(p, [n.removesuffix("_error") for n, v in f.items() if n.endswith("_error") and v])


class LearnedScorer:
    """Cross-encoder over retrieved chunks + rule features, calibrated; see the module docstring."""

    name = "learned"
    # lexical retrieval is enough to find the passages: the cross-encoder reads them,
    # so the validator spares the embedding model (it cost twice the cross-encoder)
    uses_embeddings = False

    def __init__(
        self,
        threshold: float | None = None,
        raw: bool = False,
        calibration: str | Path | None = None,
    ):
        """`calibration`: a layer fitted by `summarize calibrate` instead of the shipped one."""
        _, _, calib = _load()
        if calibration is not None:
            calib = read_calibration(Path(calibration))
        self.calib = calib.get("default") or {}
        self.raw = raw or not self.calib  # raw: the cross-encoder alone (used by calibration)
        t = (
            threshold
            if threshold is not None
            else (0.5 if self.raw else self.calib.get("threshold", 0.5))
        )
        self.threshold = float(t)

    def probability(self, f: dict) -> float:
        if self.raw:
            return _sigmoid(f["logit"])
        c = self.calib
        names = c["features"]
        x = np.array([f[n] for n in names])
        z = float(((x - np.array(c["mean"])) / np.array(c["scale"])) @ np.array(c["coef"]))
        return _sigmoid(z + c["intercept"])

    def score(self, claim: str, found: Retrieval) -> Verdict:
        candidates, articles, sources = found.candidates, found.articles, found.sources
        f, chunks, logits, findings, _ = features(claim, candidates, sources, found.sentences)
        p = self.probability(f)
        support = chunk_support(claim, candidates, chunks[int(np.argmax(logits))] if chunks else [])
        spans = support_spans(support, articles)
        supported = p >= self.threshold
        errors = [x.message for x in findings if x.severity == "error"]
        ids = ", ".join(s.id for s in support)
        if supported:
            reasons = [f"supported by {ids} (score {p:.2f})"]
        else:
            reasons = errors or [f"the closest passage ({ids}) does not entail it (score {p:.2f})"]
        return Verdict(supported=supported, score=p, spans=spans, reasons=reasons, scorer=self.name)


__all__ = [
    "LearnedScorer",
    "premise_windows",
    "chunk_support",
    "cross_logits",
    "features",
    "premise_chunks",
    "premise_text",
]
