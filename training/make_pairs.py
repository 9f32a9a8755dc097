"""Build (premise, claim, label) training pairs for the learned support scorer.

    .venv/bin/python training/make_pairs.py --out training/work/pairs.jsonl [--seed 13]

Runs in the project venv (it uses the project's own sentence splitter and
retriever, so training premises are built exactly as at run time by
`summarize.support.scorers.learned.premise_sentences`). Nothing is fetched. Sources:

1. Synthetic pairs from real news sentences: the article excerpts of
   shared/data/clusters/allsides-dev.jsonl and the *documents* (not the
   summaries or labels) of the train part of the factuality dev files (see
   training/splits.py). Each chosen sentence becomes a claim, either faithful
   (verbatim, compressed: a clause, attribution or modifier dropped, lightly
   reworded with meaning-preserving substitutions) or perturbed the way
   summarizers err (FactCC / MiniCheck style): an entity swapped for another
   one of the document, a number or date changed, a negation inserted or
   removed, an antonym, an extra fact from another document, two actors
   swapped, or a sentence of another document with a shared name. Perturbations
   are applied to compressed claims too, so "edited" never means "false".
2. Human-labelled rows of the train part of the factuality dev files
   (SummEdits excluded): one-sentence summaries as they are; every sentence of
   a supported multi-sentence summary as a positive. (An unsupported
   multi-sentence summary does not say which sentence is wrong: skipped.)

3. Fused claims (`--fused N` per AllSides event): one sentence of each of two
   outlets joined into one claim ("A, while b"), judged against both passages
   together; and the same with one half perturbed (label 0).
4. General inference pairs (`--nli N`): a class-balanced sample of
   shared/data/nli (entailment = 1; neutral and contradiction = 0), MultiNLI,
   SNLI, FEVER, RTE, SciTail, WiCE and the rest, so the model learns meaning as
   well as edits.

Premise (`--premise windows`, the default): as at run time
(`summarize.support.scorers.learned.premise_windows`), the claim's best passage
with its neighbours in the article, 2-3 sentences; a fused claim gets both
passages. `--premise chunks` rebuilds the first model's premises (candidates
packed to a word budget).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "training"))

from splits import DATA, HELD_OUT, rows_by_part  # noqa: E402

from summarize.models import Article  # noqa: E402
from summarize.support.retrieve import Retriever  # noqa: E402
from summarize.support.scorers.learned import (  # noqa: E402
    chunk_text,
    premise_text,
    premise_windows,
)
from summarize.text.segment import split_sentences  # noqa: E402
from summarize.text.values import MONTH_NAMES, NUMBER_WORDS, entities  # noqa: E402
from summarize.text.values import WEEKDAYS as WEEKDAY_WORDS  # noqa: E402

CLUSTERS = ROOT.parent / "shared" / "data" / "clusters" / "allsides-dev.jsonl"
NLI = ROOT.parent / "shared" / "data" / "nli"
PREMISE = "windows"  # set by --premise

WEEKDAYS = [d.capitalize() for d in WEEKDAY_WORDS]  # Monday ... Sunday
MONTHS = MONTH_NAMES  # January ... December
ANTONYMS = [
    ("increase", "decrease"),
    ("increased", "decreased"),
    ("rise", "fall"),
    ("rose", "fell"),
    ("risen", "fallen"),
    ("win", "lose"),
    ("won", "lost"),
    ("wins", "loses"),
    ("accept", "reject"),
    ("accepted", "rejected"),
    ("allow", "ban"),
    ("allowed", "banned"),
    ("support", "oppose"),
    ("supported", "opposed"),
    ("supports", "opposes"),
    ("approve", "reject"),
    ("approved", "rejected"),
    ("higher", "lower"),
    ("more", "fewer"),
    ("before", "after"),
    ("guilty", "innocent"),
    ("alive", "dead"),
    ("opened", "closed"),
    ("first", "last"),
    ("largest", "smallest"),
    ("biggest", "smallest"),
    ("best", "worst"),
    ("arrested", "released"),
    ("confirmed", "denied"),
    ("up", "down"),
    ("strong", "weak"),
    ("early", "late"),
    ("young", "old"),
    ("agreed", "refused"),
    ("began", "ended"),
    ("started", "stopped"),
    ("successful", "unsuccessful"),
    ("legal", "illegal"),
    ("public", "private"),
    ("majority", "minority"),
    ("victory", "defeat"),
    ("increase", "cut"),
    ("raise", "lower"),
    ("raised", "lowered"),
    ("expanded", "reduced"),
    ("gained", "lost"),
    ("joined", "left"),
    ("hired", "fired"),
    ("praised", "criticized"),
    ("praised", "criticised"),
    ("boost", "hurt"),
    ("above", "below"),
    ("north", "south"),
    ("east", "west"),
    ("men", "women"),
    ("husband", "wife"),
    ("son", "daughter"),
    ("home", "away"),
    ("positive", "negative"),
    ("easy", "difficult"),
    ("high", "low"),
]
ANT = {}
for a, b in ANTONYMS:
    ANT.setdefault(a, b)
    ANT.setdefault(b, a)
# meaning-preserving rewordings for faithful claims
SYNONYMS = {
    "said": "stated",
    "says": "states",
    "told": "told",
    "about": "around",
    "big": "large",
    "large": "big",
    "buy": "purchase",
    "bought": "purchased",
    "people": "individuals",
    "begin": "start",
    "began": "started",
    "children": "kids",
    "help": "assist",
    "helped": "assisted",
    "show": "indicate",
    "shows": "indicates",
    "showed": "indicated",
    "also": "additionally",
    "many": "numerous",
    "quickly": "rapidly",
    "nearly": "almost",
    "almost": "nearly",
    "died": "passed away",
    "killed": "left dead",
    "car": "vehicle",
    "police": "officers",
    "announced": "said",
    "plans": "intends",
    "planned": "intended",
    "tried": "attempted",
    "try": "attempt",
    "needs": "requires",
    "need": "require",
    "however": "but",
    "government": "administration",
    "attack": "assault",
}
AUX = re.compile(
    r"\b(is|was|are|were|will|has|have|had|can|could|would|should|does|did|do|may|must)\b(?! not)"
)
NEG = re.compile(
    r"\b(is|was|are|were|will|has|have|had|can|could|would|should|does|did|do)\s+not\b|\bn't\b|\bnever\b"
)
NUM = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?![\w])")
# "two" .. "twelve", from the validator's own number words (values.NUMBER_WORDS, in order)
NUMWORDS = [w for w, v in NUMBER_WORDS.items() if 2 <= v <= 12]


def sentences_of(text: str) -> list[str]:
    return [text[a:b].strip() for a, b in split_sentences(text) if b - a > 0]


def good_sentence(s: str) -> bool:
    n = len(s.split())
    return 8 <= n <= 55 and not s.isupper() and sum(c.isalpha() for c in s) > 0.6 * len(s)


# ------------------------------------------------------------------ faithful edits


def compress(s: str, rng: random.Random) -> str | None:
    """A shorter claim the sentence still entails (clause, attribution or detail dropped)."""
    options = []
    # drop a trailing ", ..." clause (keep >= 6 words)
    parts = re.split(r",\s+", s.rstrip(". "))
    if len(parts) > 1:
        head = parts[0]
        if len(head.split()) >= 6:
            options.append(head + ".")
        tail = ", ".join(parts[1:])
        if len(tail.split()) >= 6 and not re.match(r"(and|but|which|who|while|as|with)\b", tail):
            options.append(tail[0].upper() + tail[1:] + ".")
    # drop attribution: ", X said." / "X said that ..."
    m = re.match(
        r"^(.{25,}?),?\s+(?:he|she|they|it|[A-Z][\w.' -]{1,40})\s+"
        r"(said|says|added|told [\w ]+)\.?$",
        s.rstrip(),
    )
    if m:
        options.append(m.group(1).strip(' ,"“”') + ".")
    m = re.match(r"^[A-Z][\w.' -]{1,40}\s+(?:said|says|told [\w ]+?) (?:that )?(.{25,})$", s)
    if m:
        options.append(m.group(1)[0].upper() + m.group(1)[1:])
    # drop a parenthetical or an appositive between commas
    p = re.sub(r"\s*\([^)]{1,80}\)", "", s)
    if p != s:
        options.append(p)
    p = re.sub(r",\s+(?:who|which)\s[^,]{3,80},", "", s)
    if p != s:
        options.append(p)
    # drop a leading time/place phrase "On Monday, ..."
    p = re.sub(r"^(On|In|At|After|Earlier|Last|This)\b[^,]{1,40},\s+", "", s)
    if p != s and p:
        options.append(p[0].upper() + p[1:])
    options = [o for o in options if len(o.split()) >= 5]
    return rng.choice(options) if options else None


def reword(s: str, rng: random.Random) -> str | None:
    words = s.split(" ")
    idx = [i for i, w in enumerate(words) if w.lower().strip(",.") in SYNONYMS]
    if not idx:
        return None
    for i in rng.sample(idx, min(len(idx), 2)):
        core = words[i].strip(",.")
        rep = SYNONYMS[core.lower()]
        if core[0].isupper():
            rep = rep[0].upper() + rep[1:]
        words[i] = words[i].replace(core, rep)
    return " ".join(words)


# ------------------------------------------------------------------ errors


def swap_entity(s: str, pool: list[str], rng: random.Random) -> str | None:
    ents = [e for e in entities(s) if len(e) > 2]
    if not ents:
        return None
    e = rng.choice(ents)
    low = s.lower()
    cands = [p for p in pool if p != e and p.lower() not in low and e.lower() not in p.lower()]
    # prefer a replacement of similar shape (one word for one word, etc.)
    same = [p for p in cands if len(p.split()) == len(e.split())]
    cands = same or cands
    if not cands:
        return None
    return s.replace(e, rng.choice(cands), 1)


def swap_actors(s: str, rng: random.Random) -> str | None:
    ents = list(dict.fromkeys(e for e in entities(s) if len(e) > 2))
    if len(ents) < 2:
        return None
    a, b = rng.sample(ents, 2)
    if a in b or b in a:
        return None
    out = s.replace(a, "\0").replace(b, a).replace("\0", b)
    return out if out != s else None


def change_number(s: str, rng: random.Random) -> str | None:
    nums = list(NUM.finditer(s))
    if nums:
        m = rng.choice(nums)
        raw = m.group(1).replace(",", "")
        try:
            v = float(raw)
        except ValueError:
            return None
        if 1900 <= v <= 2035 and "." not in raw:
            nv = v + rng.choice([-3, -2, -1, 1, 2, 3])
        else:
            nv = rng.choice(
                [v * rng.choice([2, 3, 10, 0.5]), v + rng.choice([1, 2, 5, 10, -1, -2])]
            )
            if nv <= 0:
                nv = v + 3
        txt = (
            f"{nv:,.0f}"
            if nv == int(nv) and "," in m.group(1)
            else (str(int(nv)) if nv == int(nv) else f"{nv:.1f}")
        )
        if txt == m.group(1):
            return None
        return s[: m.start(1)] + txt + s[m.end(1) :]
    words = s.split(" ")
    idx = [i for i, w in enumerate(words) if w.lower().strip(",.") in NUMWORDS]
    if idx:
        i = rng.choice(idx)
        core = words[i].strip(",.")
        rep = rng.choice([w for w in NUMWORDS if w != core.lower()])
        words[i] = words[i].replace(core, rep)
        return " ".join(words)
    return None


def change_date(s: str, rng: random.Random) -> str | None:
    for names in (WEEKDAYS, MONTHS):
        found = [n for n in names if re.search(rf"\b{n}\b", s)]
        if found:
            n = rng.choice(found)
            return re.sub(rf"\b{n}\b", rng.choice([x for x in names if x != n]), s, count=1)
    return None


def flip_negation(s: str, rng: random.Random) -> str | None:
    m = NEG.search(s)
    if m and rng.random() < 0.5:
        t = m.group(0)
        if t == "n't":
            return None
        if t == "never":
            return (
                s[: m.start()] + "once" + s[m.end() :]
                if rng.random() < 0.3
                else s[: m.start()] + "always" + s[m.end() :]
            )
        return s[: m.start()] + m.group(1) + s[m.end() :]
    auxs = list(AUX.finditer(s))
    if auxs:
        a = rng.choice(auxs)
        return s[: a.end()] + " not" + s[a.end() :]
    # past tense verb -> "did not" + verb is hard without a lemmatizer: prefix a denial
    m = re.search(r"\b(\w+ed)\b", s)
    if m and len(m.group(1)) > 4:
        return s[: m.start()] + "never " + s[m.start() :]
    return None


def antonym(s: str, rng: random.Random) -> str | None:
    words = s.split(" ")
    idx = [i for i, w in enumerate(words) if w.lower().strip(",.;:") in ANT]
    if not idx:
        return None
    i = rng.choice(idx)
    core = words[i].strip(",.;:")
    rep = ANT[core.lower()]
    if core[0].isupper():
        rep = rep[0].upper() + rep[1:]
    words[i] = words[i].replace(core, rep)
    return " ".join(words)


EXTRA_TEMPLATES = [
    "{s}, {x}.",
    "{s} {x}.",
]


def extra_fact(s: str, other: list[str], pool: list[str], rng: random.Random) -> str | None:
    """Append a phrase that the source does not contain (an extrinsic hallucination)."""
    base = s.rstrip(" .")
    r = rng.random()
    if r < 0.45 and other:
        o = rng.choice(other)
        m = re.search(
            r"\b(in|on|after|before|during|at|with|for|from|over|amid|because of)\s+[^,.;]{6,60}", o
        )
        if m:
            return f"{base} {m.group(0).strip()}."
    if r < 0.75 and pool:
        e = rng.choice(pool)
        tmpl = rng.choice(
            [
                "{b}, according to {e}.",
                "{b}, {e} said.",
                "{b} in {e}.",
                "{b} alongside {e}.",
                "{b}, a move backed by {e}.",
                "{b} after talks with {e}.",
            ]
        )
        return tmpl.format(b=base, e=e)
    n = rng.randint(2, 90)
    tmpl = rng.choice(
        [
            "{b} last year.",
            "{b} for the first time.",
            "{b}, the first such case in {n} years.",
            "{b} on Tuesday.",
            "{b}, injuring {n} people.",
            "{b} in 20{y:02d}.",
            "{b}, despite strong opposition.",
            "{b}, officials confirmed.",
            "{b} for a {n}th time.",
            "Former {b0}",
            "{b}, which cost about ${n} million.",
        ]
    )
    return tmpl.format(b=base, n=n, y=rng.randint(5, 24), b0=base[0].lower() + base[1:] + ".")


def perturb(s: str, kind: str, doc_pool: list[str], other: list[str], rng) -> str | None:
    if kind == "entity":
        return swap_entity(s, doc_pool, rng)
    if kind == "actors":
        return swap_actors(s, rng)
    if kind == "number":
        return change_number(s, rng)
    if kind == "date":
        return change_date(s, rng)
    if kind == "negation":
        return flip_negation(s, rng)
    if kind == "antonym":
        return antonym(s, rng)
    if kind == "extra":
        return extra_fact(s, other, doc_pool, rng)
    raise ValueError(kind)


# the error kinds, drawn in a shuffled order (a kind listed twice comes first twice as often);
# --relation-weight N lists the who-did-what kinds (entity, actors) N times as often
ERRORS = [
    "entity",
    "entity",
    "actors",
    "number",
    "date",
    "negation",
    "negation",
    "antonym",
    "extra",
    "extra",
    "extra",
]


# ------------------------------------------------------------------ assembling


def premise_for(retriever: Retriever, claim: str, fused: bool = False) -> str:
    candidates = retriever.candidates(claim, k=8)
    if PREMISE == "chunks":
        return premise_text(candidates)
    windows = premise_windows(candidates, retriever.sentences)
    if not windows:
        return ""
    return chunk_text(windows[-1] if fused and len(windows) > 1 else windows[0])


def _join(a: str, b: str) -> str:
    """Two sentences as one fused claim: "A, while b"."""
    b = b.strip()
    if b.split()[0] not in ("I",) and not b.split()[0].isupper() and not entities(b.split()[0]):
        b = b[0].lower() + b[1:]
    return f"{a.strip().rstrip('.!')}, while {b}"


def fused(events: list[list[str]], per_event: int, rng: random.Random, global_pool: list[str]):
    """Claims that fuse one sentence of each of two outlets, judged against both passages."""
    all_sents = [s for d in events for t in d for s in sentences_of(t)]
    for group in events:
        if len(group) < 2:
            continue
        arts = [Article(id=f"doc{i + 1}", text=t) for i, t in enumerate(group)]
        retriever = Retriever(arts, use_embeddings=False)
        by_article: dict[str, list[str]] = {}
        for sent in retriever.sentences:
            if good_sentence(sent.text) and len(sent.text.split()) <= 30:
                by_article.setdefault(sent.article_id, []).append(sent.text)
        if len(by_article) < 2:
            continue
        pool = list(dict.fromkeys(e for t in group for e in entities(t) if len(e) > 2))
        pool = pool if len(pool) >= 3 else pool + rng.sample(global_pool, 5)
        for _ in range(per_event):
            x, y = rng.sample(sorted(by_article), 2)
            a, b = rng.choice(by_article[x]), rng.choice(by_article[y])
            a = compress(a, rng) or a
            b = compress(b, rng) or b
            claim = _join(a, b)
            yield {
                "premise": premise_for(retriever, claim, fused=True),
                "claim": claim,
                "label": 1,
                "kind": "fused",
            }
            which = rng.random() < 0.5
            for kind in rng.sample(ERRORS, len(ERRORS)):
                bad = perturb(a if which else b, kind, pool, all_sents, rng)
                if bad and bad.strip() != (a if which else b).strip():
                    claim = _join(bad, b) if which else _join(a, bad)
                    yield {
                        "premise": premise_for(retriever, claim, fused=True),
                        "claim": claim,
                        "label": 0,
                        "kind": f"fused-{kind}",
                    }
                    break


def nli_pairs(n: int, rng: random.Random):
    """A class-balanced sample of the general inference pairs (entailment = 1)."""
    rows = []
    for path in sorted(NLI.glob("*/*.jsonl")):
        for line in path.open(encoding="utf-8"):
            if line.strip():
                r = json.loads(line)
                if r.get("premise") and r.get("hypothesis") and r.get("label"):
                    rows.append((path.parent.name, r))
    rng.shuffle(rows)
    pos = [r for r in rows if r[1]["label"] == "entailment"][: n // 2]
    neg = [r for r in rows if r[1]["label"] != "entailment"][: n - len(pos)]
    for name, r in pos + neg:
        yield {
            "premise": r["premise"],
            "claim": r["hypothesis"],
            "label": int(r["label"] == "entailment"),
            "kind": f"nli-{name}",
        }


def synthetic(
    docs: list[list[str]],
    per_doc: int,
    rng: random.Random,
    global_pool: list[str],
    errors: list[str] = ERRORS,
):
    """docs: list of articles-of-one-event/document (texts). Yields pair dicts."""
    all_sents = [s for d in docs for t in d for s in sentences_of(t)]
    for group in docs:
        arts = [Article(id=f"doc{i + 1}", text=t) for i, t in enumerate(group)]
        retriever = Retriever(arts, use_embeddings=False)
        sents = [s.text for s in retriever.sentences if good_sentence(s.text)]
        if not sents:
            continue
        doc_pool = list(dict.fromkeys(e for t in group for e in entities(t) if len(e) > 2))
        pool = doc_pool if len(doc_pool) >= 3 else doc_pool + rng.sample(global_pool, 5)
        for s in rng.sample(sents, min(per_doc, len(sents))):
            # faithful claim
            r = rng.random()
            base = s
            kind_pos = "copy"
            if r < 0.55:
                c = compress(s, rng)
                if c:
                    base, kind_pos = c, "compress"
            if rng.random() < 0.3:
                w = reword(base, rng)
                if w:
                    base, kind_pos = w, kind_pos + "+reword"
            yield {
                "premise": premise_for(retriever, base),
                "claim": base,
                "label": 1,
                "kind": kind_pos,
            }
            # one or two errors of the sentence (on the compressed or the full form)
            for _ in range(2 if rng.random() < 0.35 else 1):
                src = base if rng.random() < 0.6 else s
                for kind in rng.sample(errors, len(errors)):
                    neg = perturb(src, kind, pool, all_sents, rng)
                    if neg and neg.strip() != src.strip():
                        yield {
                            "premise": premise_for(retriever, neg),
                            "claim": neg,
                            "label": 0,
                            "kind": kind,
                        }
                        break
        # unrelated-but-topical: a sentence of another document sharing a name
        if rng.random() < 0.3:
            o = rng.choice(all_sents)
            if good_sentence(o) and o not in sents:
                yield {
                    "premise": premise_for(retriever, o),
                    "claim": o,
                    "label": 0,
                    "kind": "other-doc",
                }


def labelled(rows_by_ds: dict[str, list[dict]]):
    for ds, rows in rows_by_ds.items():
        if ds in HELD_OUT:
            continue
        for row in rows:
            srcs = [s for s in row["sources"] if s and s.strip()]
            summary = row["summary"].strip()
            sents = sentences_of(summary)
            if not srcs or not sents:
                continue
            if len(sents) > 1 and row["label"] == 0:
                continue
            arts = [Article(id=f"doc{i + 1}", text=t) for i, t in enumerate(srcs)]
            retriever = Retriever(arts, use_embeddings=False)
            for s in sents:
                yield {
                    "premise": premise_for(retriever, s),
                    "claim": s,
                    "label": int(row["label"]),
                    "kind": f"labelled-{ds}",
                }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=ROOT / "training" / "work" / "pairs.jsonl")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--per-doc", type=int, default=6, help="claims per factuality document")
    ap.add_argument("--per-article", type=int, default=3, help="claims per AllSides article")
    ap.add_argument("--labelled-repeat", type=int, default=2)
    ap.add_argument("--relation-weight", type=int, default=1, help="entity/actor errors x N")
    ap.add_argument("--premise", choices=["windows", "chunks"], default="windows")
    ap.add_argument("--fused", type=int, default=0, help="fused claims per AllSides event")
    ap.add_argument("--nli", type=int, default=0, help="general inference pairs")
    args = ap.parse_args()
    global PREMISE
    PREMISE = args.premise
    errors = ERRORS + [k for k in ERRORS if k in ("entity", "actors")] * (args.relation_weight - 1)
    rng = random.Random(args.seed)
    t0 = time.time()
    train = rows_by_part("train", DATA)
    # documents of the train part (each once), then AllSides events (articles of one event together)
    docs, seen = [], set()
    for ds in sorted(train):
        for row in train[ds]:
            key = "\n".join(row["sources"])
            if key not in seen and ds not in HELD_OUT:
                seen.add(key)
                docs.append(row["sources"])
    events = [json.loads(line) for line in CLUSTERS.open(encoding="utf-8") if line.strip()]
    events = [[a["text"] for a in e["articles"] if a.get("text")] for e in events]
    global_pool = list(dict.fromkeys(e for d in docs + events for t in d for e in entities(t)))
    pairs = []
    pairs += list(synthetic(docs, args.per_doc, rng, global_pool, errors))
    print(
        f"synthetic from {len(docs)} train-part documents: {len(pairs)} ({time.time() - t0:.0f}s)",
        flush=True,
    )
    n = len(pairs)
    for _ in range(2):  # AllSides excerpts are short: two passes, different claims
        pairs += list(synthetic(events, args.per_article, rng, global_pool, errors))
    print(
        f"synthetic from {len(events)} AllSides events: {len(pairs) - n} ({time.time() - t0:.0f}s)",
        flush=True,
    )
    if args.fused:
        n = len(pairs)
        pairs += list(fused(events, args.fused, rng, global_pool))
        print(f"fused claims: {len(pairs) - n} ({time.time() - t0:.0f}s)", flush=True)
    if args.nli:
        n = len(pairs)
        pairs += list(nli_pairs(args.nli, rng))
        print(f"general inference pairs: {len(pairs) - n}", flush=True)
    lab = list(labelled(train))
    pairs += lab * args.labelled_repeat
    print(f"labelled train-part sentences: {len(lab)} x{args.labelled_repeat}", flush=True)
    rng.shuffle(pairs)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as f:
        for p in pairs:
            f.write(json.dumps(p, ensure_ascii=False) + "\n")
    kinds = Counter(p["kind"].split("+")[0] for p in pairs)
    pos = sum(p["label"] for p in pairs)
    print(f"wrote {len(pairs)} pairs ({pos} supported) to {args.out} in {time.time() - t0:.0f}s")
    print("kinds:", dict(sorted(kinds.items())))


if __name__ == "__main__":
    main()
