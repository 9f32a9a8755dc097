"""The learned scorer: a small cross-encoder (MiniLM) + the rule checks -> calibrated probability.

The model is all-MiniLM-L6-v2 cut to its first 4 layers and fine-tuned as a
cross-encoder on (claim, source passage) pairs (`training/`), exported to ONNX
and quantised to int8; it ships in `summarize/data/learned/` and runs with
onnxruntime + tokenizers only (no torch). Experimental: the shipped
cross-encoder did not learn in its CPU budget (see the MODEL_CARD there); the
calibration layer also uses token-alignment features from the packaged
embedding model (how well each claim word piece finds a counterpart).

For a claim the scorer

1. packs the retriever's candidates, best first, into passages ("chunks") of at
   most `PREMISE_WORDS` words, kept in article order (the first chunk holds the
   best candidates; cited sentences come first when the caller cites some);
2. runs the cross-encoder on (claim, chunk) for every chunk and keeps the
   maximum: a claim is supported when some passage supports it;
3. combines that logit with the rule findings (numbers, dates, entities,
   negation, antonyms, novel words) in a logistic layer fitted on held-back
   calibration rows (`training/calibrate.py`), so the output is a calibrated
   probability; a number, date or name found in no source caps it at 0.05 and a
   misquotation at 0.01 (vetoes: the calibration layer, fitted on a few hundred
   rows, cannot be trusted to weigh them);
4. cites, inside the deciding chunk, the fewest sentences that cover the claim.

A summary's score is the minimum over its sentences (see `benchmarks/`).
"""

from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from ..checks import Evidence, sources_evidence
from ..models import Article, Sentence, Verdict
from ..retrieve import Candidate
from .base import no_candidates, register, select_support, support_spans
from .rules import featurize

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


def chunk_text(chunk: Sequence[Sentence]) -> str:
    return " ".join(s.text.strip() for s in chunk)


def premise_text(candidates: Sequence[Candidate]) -> str:
    """The first (best) chunk as text: what training pairs use as the premise."""
    chunks = premise_chunks(candidates, max_chunks=1)
    return chunk_text(chunks[0]) if chunks else ""


# ------------------------------------------------------------------ the model


def model_dir() -> Path:
    return Path(str(resources.files("summarize") / "data" / "learned"))


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


_STATE_CACHE: OrderedDict[str, tuple[list[str], np.ndarray]] = OrderedDict()
_STATE_CACHE_SIZE = 512  # source passages recur across the sentences of a summary


def _token_states(texts: Sequence[str]) -> list[tuple[list[str], np.ndarray]]:
    """Per text: its word pieces (special tokens dropped) and their L2-normalised contextual
    vectors from the packaged MiniLM encoder (the retriever's model, already loaded)."""
    todo = list(dict.fromkeys(t for t in texts if t not in _STATE_CACHE))
    fresh = dict(zip(todo, _token_states_uncached(todo), strict=True)) if todo else {}
    out = [fresh[t] if t in fresh else _STATE_CACHE[t] for t in texts]
    for t in texts:  # least recently used goes first
        _STATE_CACHE[t] = fresh.get(t) or _STATE_CACHE[t]
        _STATE_CACHE.move_to_end(t)
    while len(_STATE_CACHE) > _STATE_CACHE_SIZE:
        _STATE_CACHE.popitem(last=False)
    return out


def _token_states_uncached(texts: Sequence[str]) -> list[tuple[list[str], np.ndarray]]:
    from ..embed import _load as embed_load
    from ..embed import _lock as embed_lock

    tokenizer, session = embed_load()
    encs = tokenizer.encode_batch([t or "." for t in texts])
    ids = np.array([e.ids for e in encs], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encs], dtype=np.int64)
    feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    with embed_lock:
        hidden = session.run(None, feeds)[0]
    out = []
    for i, e in enumerate(encs):
        keep = [
            j
            for j, (m, sp) in enumerate(zip(e.attention_mask, e.special_tokens_mask, strict=True))
            if m and not sp
        ]
        v = hidden[i, keep]
        v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)
        out.append(([e.tokens[j] for j in keep], v))
    return out


def alignment(claim: str, premises: Sequence[str]) -> dict[str, float]:
    """How well each content word piece of the claim finds a counterpart in the premises:
    the lowest and mean best cosine, and the share of pieces with no good match (< 0.6)."""
    from ..checks import STOPWORDS

    if not premises:
        return {"align_min": 0.0, "align_mean": 0.0, "align_low": 1.0}
    states = _token_states([claim, *premises])
    toks, cv = states[0]
    pv = np.concatenate([v for _, v in states[1:]], axis=0)
    content = [i for i, t in enumerate(toks) if t.strip("#").isalnum() and t not in STOPWORDS]
    if not content or not len(pv):
        return {"align_min": 1.0, "align_mean": 1.0, "align_low": 0.0}
    best = (cv[content] @ pv.T).max(axis=1)
    return {
        "align_min": float(best.min()),
        "align_mean": float(best.mean()),
        "align_low": float((best < 0.6).mean()),
    }


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))


# the rule features the calibration layer uses (names from rules.FEATURES)
RULE_FEATURES = [
    "align_min",
    "align_mean",
    "align_low",
    "cos_best",
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


def features(claim: str, candidates: Sequence[Candidate], sources: Evidence):
    """(feature dict, chunks, chunk logits, rule findings, rule support) for a claim."""
    from .rules import FEATURES

    chunks = premise_chunks(candidates)
    texts = [chunk_text(c) for c in chunks]
    # the embedding model right after the retriever's use of it, then ours: less thread contention
    align = alignment(claim, texts)
    logits = cross_logits(claim, texts)
    x, support, findings = featurize(claim, candidates, sources)
    f = dict(zip(FEATURES, (float(v) for v in x), strict=True))
    f["logit"] = float(logits.max()) if len(logits) else -10.0
    f.update(align)
    return f, chunks, logits, findings, support


# a number, date or name found in no source is never supported, whatever the other signals say
VETO_FEATURES = ("number_error", "date_error", "entity_error")
VETO_P = 0.05


def vetoed(f: dict, p: float) -> float:
    return min(p, VETO_P) if any(f.get(n, 0.0) > 0 for n in VETO_FEATURES) else p


class LearnedScorer:
    """Cross-encoder over retrieved chunks + rule features, calibrated; see the module docstring."""

    name = "learned"

    def __init__(self, threshold: float | None = None, raw: bool = False):
        _, _, calib = _load()
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

    def score(
        self,
        claim: str,
        candidates: Sequence[Candidate],
        articles: Sequence[Article],
        sources: Evidence | None = None,
    ) -> Verdict:
        sources = sources or sources_evidence(articles)
        if not candidates:
            return no_candidates(self.name)
        f, chunks, logits, findings, _ = features(claim, candidates, sources)
        p = vetoed(f, self.probability(f))
        if any(x.check == "quote" and x.severity == "error" for x in findings):
            p = min(p, 0.01)
        best = chunks[int(np.argmax(logits))] if chunks else []
        in_best = [c for c in candidates if all(s in best for s in c.sentences)]
        support = select_support(claim, in_best) if in_best else best[:1]
        spans = support_spans(support, articles)
        supported = p >= self.threshold
        errors = [x.message for x in findings if x.severity == "error"]
        ids = ", ".join(s.id for s in support)
        if supported:
            reasons = [f"supported by {ids} (score {p:.2f})"]
            reasons += [f"but {x.message}" for x in findings]
        else:
            reasons = errors or [f"the closest passage ({ids}) does not entail it (score {p:.2f})"]
        return Verdict(supported=supported, score=p, spans=spans, reasons=reasons, scorer=self.name)


register("learned")(LearnedScorer)

__all__ = [
    "LearnedScorer",
    "alignment",
    "cross_logits",
    "features",
    "premise_chunks",
    "premise_text",
]
