"""The `nli` scorer: the user's own NLI / fact-checking cross-encoder, from a local folder.

For users who have one (a MiniCheck or DeBERTa-MNLI checkpoint, say), exported
to ONNX. The folder (`model_path`, else `--nli-model`, else $SUMMARIZE_NLI_MODEL
or `nli_model` in the config file) holds

- `model.onnx` (or `onnx/model.onnx`): a sequence-classification graph taking
  `input_ids`, `attention_mask` and optionally `token_type_ids`, returning
  logits `[batch, labels]`;
- `tokenizer.json`: the Hugging Face `tokenizers` file of that model;
- `config.json` (optional): its `id2label` names the labels.

A Hugging Face checkpoint becomes such a folder with
`optimum-cli export onnx --model DIR --task text-classification OUT`. Nothing
is downloaded: the model runs with onnxruntime + tokenizers only (no torch).

The probability that a passage supports the claim is, for a model with an
"entailment" label, the softmax probability of that label; for a two-label model
without one, of label 1 (MiniCheck's convention: 1 = supported); for a
one-logit model, the sigmoid. For a claim the scorer

1. packs the retriever's candidates, best first, into passages ("chunks") of at
   most `chunk_words` words, in article order, like the `learned` scorer;
2. runs the model on (premise = chunk, hypothesis = claim), in that order as NLI
   models expect, truncating only the premise, and keeps the maximum over the
   chunks: a claim is supported when some passage entails it;
3. leaves the rule checks' vetoes (a number, date or name found in no source, a
   misquotation) to `support/policy.py`, applied after every scorer;
4. cites, inside the deciding chunk, the fewest sentences that cover the claim.

The probability is the model's own, not calibrated on this project's data:
tune `threshold` (`Validator(threshold=...)`) with `summarize eval` on labelled rows.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from summarize.errors import ConfigError
from summarize.models import Verdict
from summarize.support.retrieve import Retrieval
from summarize.support.scorers.base import support_spans
from summarize.support.scorers.learned import (
    MAX_CHUNKS,
    chunk_support,
    chunk_text,
    premise_chunks,
)
from summarize.support.scorers.rules import featurize

EXPORT_HINT = "optimum-cli export onnx --model {dir} --task text-classification OUT"
FEEDS = ("input_ids", "attention_mask", "token_type_ids")
_HF_WEIGHTS = ("model.safetensors", "pytorch_model.bin", "tf_model.h5", "flax_model.msgpack")
_NOT_ENTAIL = re.compile(r"(?<![a-z])(not|non)[\s_-]*entail")
_lock = threading.Lock()


class NLIModelError(ConfigError):
    """The model folder is missing, incomplete or unusable (the message names the file)."""


# ------------------------------------------------------------------ the model folder


def model_files(path: str | Path) -> tuple[Path, Path, Path, Path]:
    """(folder, model.onnx, tokenizer.json, config.json) of a model folder (or its .onnx file);
    config.json may be absent. Raises NLIModelError naming what is missing."""
    path = Path(path).expanduser()
    if not path.exists():
        raise NLIModelError(f"nli model: {path}: no such file or directory")
    if path.is_file():
        if path.suffix != ".onnx":
            raise NLIModelError(
                f"nli model: {path} is a file: give the folder holding model.onnx "
                "and tokenizer.json"
            )
        folder, onnx_path = path.parent, path
    else:
        folder = path
        onnx_path = next(
            (p for p in (folder / "model.onnx", folder / "onnx" / "model.onnx") if p.is_file()),
            None,
        )
        if onnx_path is None:
            if any((folder / name).is_file() for name in ("config.json", *_HF_WEIGHTS)) or any(
                folder.glob("*.safetensors")
            ):
                raise NLIModelError(
                    f"nli model: {folder} looks like a Hugging Face checkpoint without "
                    f"model.onnx; export it to ONNX first: {EXPORT_HINT.format(dir=folder)} "
                    "(pip install 'optimum[onnxruntime]'), then use OUT"
                )
            raise NLIModelError(f"nli model: {folder}: no model.onnx in this folder")
    tokenizer = folder / "tokenizer.json"
    if not tokenizer.is_file():
        raise NLIModelError(
            f"nli model: {tokenizer}: missing; the folder needs the model's Hugging Face "
            "tokenizer.json (the ONNX export writes it, as does "
            "AutoTokenizer.from_pretrained(DIR).save_pretrained(OUT))"
        )
    return folder, onnx_path, tokenizer, folder / "config.json"


def read_config(config: Path) -> dict:
    """config.json as a dict ({} without the file)."""
    if not config.is_file():
        return {}
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NLIModelError(f"nli model: {config}: unreadable ({exc})") from exc
    if not isinstance(data, dict):
        raise NLIModelError(f"nli model: {config}: not a JSON object")
    return data


def read_labels(config: Path) -> dict[int, str]:
    """`id2label` of config.json ({} without the file or the field)."""
    labels = read_config(config).get("id2label")
    if labels is None:
        return {}
    try:
        return {int(k): str(v) for k, v in dict(labels).items()}
    except (TypeError, ValueError) as exc:
        raise NLIModelError(
            f"nli model: {config}: id2label must map label numbers to names ({exc})"
        ) from exc


def support_label(labels: dict[int, str], n: int) -> int | None:
    """Which of `n` logits means "supported": the entailment label, else label 1 of two;
    None for a one-logit model (sigmoid). Raises NLIModelError when it cannot tell."""
    entail = [
        i
        for i, name in labels.items()
        if "entail" in name.lower() and not _NOT_ENTAIL.search(name.lower())
    ]
    if labels and len(labels) != n:
        raise NLIModelError(
            f"nli model: config.json names {len(labels)} labels but the model gives {n} logits"
        )
    if len(entail) > 1:
        raise NLIModelError(f"nli model: several entailment labels in id2label: {labels}")
    if entail:
        return entail[0]
    if n == 1:
        return None
    if n == 2:
        return 1
    raise NLIModelError(
        f"nli model: {n} labels and none named entailment (id2label: {labels or 'absent'}); "
        "name it in config.json's id2label"
    )


@lru_cache(maxsize=2)
def _session(onnx_path: str, mtime_ns: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.inter_op_num_threads = 1
    try:
        session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
        raise NLIModelError(f"nli model: {onnx_path}: onnxruntime cannot load it ({exc})") from exc
    inputs = {}
    for inp in session.get_inputs():
        if inp.name not in FEEDS:
            raise NLIModelError(
                f"nli model: {onnx_path} wants an input {inp.name!r}; the nli scorer feeds "
                f"only {', '.join(FEEDS)} (export it with --task text-classification)"
            )
        inputs[inp.name] = np.int32 if inp.type == "tensor(int32)" else np.int64
    if "input_ids" not in inputs:
        raise NLIModelError(f"nli model: {onnx_path} has no input_ids input")
    outputs = [o.name for o in session.get_outputs()]
    output = "logits" if "logits" in outputs else outputs[0]
    return session, inputs, output


@lru_cache(maxsize=4)
def _tokenizer(path: str, mtime_ns: int, max_tokens: int, pad_id: int | None):
    from tokenizers import Tokenizer

    try:
        tok = Tokenizer.from_file(path)
    except Exception as exc:  # tokenizers raises a plain Exception on a bad file
        raise NLIModelError(f"nli model: {path}: not a tokenizers file ({exc})") from exc
    tok.enable_truncation(max_length=max_tokens, strategy="only_first")  # the premise only
    pad = tok.padding or {}
    if pad.get("pad_token") is not None:
        tok.enable_padding(pad_id=pad["pad_id"], pad_token=pad["pad_token"])
    else:
        name = next((t for t in ("[PAD]", "<pad>") if tok.token_to_id(t) is not None), None)
        if name is not None:
            tok.enable_padding(pad_id=tok.token_to_id(name), pad_token=name)
        else:
            tok.enable_padding(pad_id=pad_id or 0)
    return tok


def _pairs(premises: Sequence[str], claim: str) -> list[tuple[str, str]]:
    """(premise, hypothesis) pairs: the order NLI models are trained on."""
    return [(p or ".", claim) for p in premises]


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


# ------------------------------------------------------------------ the scorer


class NLIScorer:
    """A local NLI / fact-checking cross-encoder over retrieved chunks; see the module docstring."""

    name = "nli"

    def __init__(
        self,
        model_path: str | Path | None = None,
        threshold: float = 0.5,
        max_tokens: int = 512,
        chunk_words: int | None = None,
        max_chunks: int = MAX_CHUNKS,
    ):
        if model_path is None:
            from summarize.settings import Settings

            model_path = Settings().nli_model
        if model_path is None:
            raise NLIModelError(
                "the nli scorer needs a model folder (model.onnx + tokenizer.json): "
                "pass --nli-model PATH or set SUMMARIZE_NLI_MODEL"
            )
        if max_tokens < 16:
            raise ValueError(f"max_tokens must be at least 16, not {max_tokens}")
        self.folder, onnx_path, tok_path, config = model_files(model_path)
        self.labels = read_labels(config)
        pad_id = read_config(config).get("pad_token_id")
        self.session, self.inputs, self.output = _session(
            str(onnx_path), onnx_path.stat().st_mtime_ns
        )
        width = next(o.shape for o in self.session.get_outputs() if o.name == self.output)
        if isinstance(width, list) and width and isinstance(width[-1], int):
            support_label(self.labels, width[-1])  # fail now, not on the first claim
        elif self.labels:
            support_label(self.labels, len(self.labels))
        self.tokenizer = _tokenizer(
            str(tok_path),
            tok_path.stat().st_mtime_ns,
            max_tokens,
            pad_id if isinstance(pad_id, int) else None,
        )
        self.threshold = float(threshold)
        self.max_tokens = max_tokens
        # room for the claim: about 1.3 tokens a word, the rest for the premise
        self.chunk_words = chunk_words or max(20, (max_tokens - 64) // 2)
        self.max_chunks = max_chunks
        self.max_claim_words = max(8, max_tokens // 4)

    def probabilities(self, claim: str, premises: Sequence[str]) -> np.ndarray:
        """P(premise supports claim) for each premise, one batch."""
        if not premises:
            return np.zeros(0)
        words = claim.split()
        if len(words) > self.max_claim_words:  # leave room for the premise
            claim = " ".join(words[: self.max_claim_words])
        try:
            encs = self.tokenizer.encode_batch(_pairs(premises, claim))
        except Exception:  # the claim alone is too long for max_tokens: keep its start
            claim = " ".join(claim.split()[: self.max_claim_words // 3])
            encs = self.tokenizer.encode_batch(_pairs(premises, claim))
        columns = {
            "input_ids": [e.ids for e in encs],
            "attention_mask": [e.attention_mask for e in encs],
            "token_type_ids": [e.type_ids for e in encs],
        }
        feeds = {name: np.array(columns[name], dtype=dt) for name, dt in self.inputs.items()}
        with _lock:
            out = self.session.run([self.output], feeds)[0]
        logits = np.asarray(out, dtype=np.float64).reshape(len(premises), -1)
        label = support_label(self.labels, logits.shape[1])
        if label is None:
            p = 1.0 / (1.0 + np.exp(-np.clip(logits[:, 0], -30.0, 30.0)))
        else:
            p = _softmax(logits)[:, label]
        return np.nan_to_num(p, nan=0.0)

    def score(self, claim: str, found: Retrieval) -> Verdict:
        candidates, articles, sources = found.candidates, found.articles, found.sources
        chunks = premise_chunks(candidates, self.chunk_words, self.max_chunks)
        probs = self.probabilities(claim, [chunk_text(c) for c in chunks])
        best_i = int(np.argmax(probs))
        p = float(min(max(probs[best_i], 0.0), 1.0))
        _, _, findings = featurize(claim, candidates, sources)
        errors = [x for x in findings if x.severity == "error"]
        support = chunk_support(claim, candidates, chunks[best_i])
        spans = support_spans(support, articles)
        supported = p >= self.threshold
        ids = ", ".join(s.id for s in support)
        if supported:
            reasons = [f"supported by {ids} (score {p:.2f})"]
        else:
            reasons = [x.message for x in errors]
            reasons.append(
                f"the closest passage ({ids}) does not entail it (score {p:.2f})"
                if len(chunks) == 1
                else f"none of {len(chunks)} passages entails it; the closest is {ids} "
                f"(score {p:.2f})"
            )
        return Verdict(supported=supported, score=p, spans=spans, reasons=reasons, scorer=self.name)


__all__ = [
    "NLIModelError",
    "NLIScorer",
    "model_files",
    "read_config",
    "read_labels",
    "support_label",
]
