"""Story benchmark: the fact-group design (embedded default) against the first design.

For the seed pair (../shared/seeds) and the first N events of
../shared/data/clusters/allsides-dev.jsonl (fixed order), in one run, with two setups:

- `facts`: the current design (story/fuse.py) with the embedded default model;
- `draft`: the previous design (the model drafts the whole summary) with the previous
  embedded model, SmolLM2-135M (`--previous-model`);

it reports per story and on average:

- supported sentences (kept; all supported by construction) and removed ones;
- outlets cited (distinct outlets among the kept sentences' validator spans);
- independent check: the share of kept sentences whose content words and numbers are
  all found in their own cited quotes, or in the outlet name they are attributed to
  ("According to X, ..."): no retrieval, no scorer, just the words;
- citation recall and precision in the sense of ALCE (Gao et al. 2023) with our own
  validator as the judge;
- ROUGE-1/2/L F1 against the human `reference` (rouge-score: `pip install -e .[bench]`);
- neutrality: citations per stance against articles per stance, loaded words in the
  summary's own voice, and the share of opinion sentences (a quotation of four words or
  more, or a loaded word) that say whose opinion it is;
- wall time per story, model calls and tokens; peak memory of this process and of the
  model server (children);
- on the seeds: whether NATO's plan, its spokesperson's reply and China's reaction are
  covered, the Wednesday/Thursday disagreement shown and neither day stated.

    .venv/bin/python benchmarks/bench_story.py --limit 30 > /tmp/bench_story.log 2>&1 &
    .venv/bin/python benchmarks/bench_story.py --smoke   # fake model, 2 events, temp dir

Results are rewritten after every story (benchmarks/results/story.json, `--out`), so a
long background run reports what it finished. `--smoke` runs the seeds and 2 events
with an in-process fake model (benchmarks/fake_model.py) in a temporary folder: it
checks that the script and the pipeline run, not quality.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from summarize.corpus import Corpus
from summarize.model.client import open_client
from summarize.models import Article, Claim, Story
from summarize.render import to_markdown
from summarize.settings import Settings
from summarize.sources.ingest import article_from_text, load_articles
from summarize.story.brief import has_main_verb, opinion_articles
from summarize.story.pipeline import summarize_story
from summarize.story.readable import fragment_reason, opens_on_pronoun
from summarize.support.attribution import split_attribution
from summarize.support.neutral import is_attributed, loaded_wording, subjective_words
from summarize.support.validator import Validator
from summarize.text.segment import split_sentences
from summarize.text.speakers import pronoun_speaker, speakers
from summarize.text.values import quantities, quoted
from summarize.text.words import content_keys, key_found, prefixes

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
sys.path.insert(0, str(Path(__file__).resolve().parent))

_ATTRIBUTED = re.compile(
    r"\b(?:said|says|say|told|according to|added|stated|wrote|argued|claimed|called|"
    r"described|warned|urged|reported|announced|reiterated|insisted|noted|asked|tweeted|"
    r"testified|declared)\b",
    re.I,
)
_ACCORDING = re.compile(r"^According to ([^,]+), ")


def rouge(reference: str, text: str) -> dict[str, float]:
    """ROUGE-1/2/L F1 (rouge-score); {} when it is not installed (`--smoke` only)."""
    try:
        from rouge_score import rouge_scorer
    except ImportError:
        return {}
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    return {k: round(v.fmeasure * 100, 2) for k, v in scorer.score(reference, text).items()}


def first_sentences(articles: list[Article], n: int) -> list[str]:
    """The trivial baseline: the first `n` sentences of each article (pysbd)."""
    out = []
    for a in articles:
        out += [a.text[x:y].strip() for x, y in split_sentences(a.text)][:n]
    return [t for t in out if t]


def title_recall(title: str, first: str) -> float:
    """Share of the human neutral title's content words (stems) in a first sentence."""
    want = set(content_keys(title))
    return len(want & set(content_keys(first))) / len(want) if want else 0.0


def _vader() -> dict[str, float]:
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:
        return {}
    return SentimentIntensityAnalyzer().lexicon


VADER = _vader()
VADER_LOADED = 2.5  # |valence| of a strongly charged word (VADER's scale runs to 4)


def vader_loaded(text: str) -> list[str]:
    """Second, independent lexicon: adjectives and adverbs VADER rates strongly charged,
    in the sentence's own voice (outside quotations, not attributed)."""
    from summarize.support.structure import parse

    found = []
    for a, b in split_sentences(text) or [(0, len(text))]:
        sentence = text[a:b]
        docs = parse([sentence])
        for t in docs[0] if docs else []:
            charged = abs(VADER.get(t.text.lower(), 0)) >= VADER_LOADED
            if (
                t.pos_ in ("ADJ", "ADV")
                and charged
                and not is_attributed(sentence, t.idx, t.idx + len(t.text))
            ):
                found.append(t.text)
    return found


def reader_checks(validator: Validator, story: Story) -> dict:
    """The issue's zero targets, each counted on what a reader sees."""
    by_label = {}
    for a in story.articles:
        by_label.setdefault(a.label, []).append(a)
    opinions = opinion_articles(Corpus(story.articles))
    false_outlets = listed = fragments = pronouns = repeats = unattributed = 0
    named: set[str] = set()
    texts = [c.text for c in story.sentences]
    for i, claim in enumerate(story.sentences):
        for outlet in claim.outlets:
            listed += 1
            own = by_label.get(outlet, [])
            false_outlets += not any(validator.check(claim.text, [a]).supported for a in own)
        fragments += bool(fragment_reason(claim.text)) or not has_main_verb(claim.text)
        # a pronoun is readable only after its person: the previous sentence names a
        # speaker (for "she said"), or some earlier sentence names someone (opening "He")
        before = set(speakers(texts[i - 1])) if i else set()
        dangling = (pronoun_speaker(claim.text) and not before) or (
            opens_on_pronoun(claim.text) and not named
        )
        pronouns += bool(dangling)
        named |= set(speakers(claim.text))
        span_articles = {s.article_id for s in claim.verdict.spans} if claim.verdict else set()
        if span_articles & opinions and split_attribution(claim.text, story.articles) is None:
            unattributed += 1
    from summarize.story.facts import repeats as same_words

    for i in range(len(texts)):
        repeats += any(same_words(texts[i], texts[j]) for j in range(i))
    shown = texts + ([story.headline.text] if story.headline else [])
    return {
        "outlets_listed": listed,
        "outlets_not_supporting": false_outlets,
        "fragments": fragments + bool(story.headline and fragment_reason(story.headline.text)),
        "pronouns_without_person": pronouns,
        "repeated_facts": repeats,
        "opinion_unattributed": unattributed,
        "loaded_textblob": sum(len(subjective_words(t)) for t in shown),
        "loaded_vader": sum(len(vader_loaded(t)) for t in shown),
        "words": sum(len(t.split()) for t in texts),
    }


def event_articles(event: dict) -> list[Article]:
    return [
        article_from_text(
            a["text"],
            id=f"e{event['event_id']}-{i}",
            title=a.get("title", ""),
            outlet=a.get("outlet", ""),
            url=a.get("url"),
        )
        for i, a in enumerate(event["articles"])
    ]


def _supported(validator: Validator, text: str, quotes: list[tuple[str, str]]) -> bool:
    """Does the text follow from these quotes alone? (each quote a tiny article)"""
    if not quotes:
        return False
    parts = [Article(id=f"{aid}#{i}", text=q) for i, (aid, q) in enumerate(quotes)]
    return validator.check(text, parts).supported


def citation_scores(validator: Validator, claim: Claim) -> tuple[bool, int, int]:
    """(ALCE recall for the sentence, relevant citations, all citations)."""
    quotes = [(s.article_id, s.quote) for s in claim.verdict.spans] if claim.verdict else []
    recall = _supported(validator, claim.text, quotes)
    relevant = 0
    for i, quote in enumerate(quotes):
        rest = quotes[:i] + quotes[i + 1 :]
        alone = _supported(validator, claim.text, [quote])
        irrelevant = not alone and bool(rest) and _supported(validator, claim.text, rest)
        relevant += not irrelevant
    return recall, relevant, len(quotes)


def covered_by_quotes(claim: Claim) -> bool:
    """Independent of the validator: every content word (stem) and number of the sentence
    is in its cited quotes, or in the outlet it is attributed to ("According to X, ...")."""
    quotes = " ".join(s.quote for s in claim.verdict.spans) if claim.verdict else ""
    m = _ACCORDING.match(claim.text)
    extra = m.group(1) if m else ""
    keys = set(content_keys(quotes + " " + extra))
    pre = prefixes(keys)
    words_ok = all(key_found(k, keys, pre) for k in content_keys(claim.text))
    numbers = {round(q.value, 6) for q in quantities(quotes)}
    numbers_ok = all(round(q.value, 6) in numbers for q in quantities(claim.text))
    return bool(quotes) and words_ok and numbers_ok


def neutrality(story: Story, stance: dict[str, str]) -> dict:
    """Citations per stance vs articles per stance; loaded words in the summary's voice;
    opinion sentences (a quotation or loaded word) that say whose opinion they are."""
    cites: dict[str, int] = {}
    for claim in story.sentences:
        for span in claim.verdict.spans if claim.verdict else []:
            s = stance.get(span.article_id, "?")
            cites[s] = cites.get(s, 0) + 1
    articles: dict[str, int] = {}
    for a in story.articles:
        s = stance.get(a.id, "?")
        articles[s] = articles.get(s, 0) + 1
    loaded = sum(len(loaded_wording(c.text)) for c in story.sentences)
    opinions = [
        c
        for c in story.sentences
        if any(len(q.split()) >= 4 for q in quoted(c.text)) or loaded_wording(c.text)
    ]
    attributed = sum(1 for c in opinions if _ATTRIBUTED.search(c.text))
    return {
        "citations_per_stance": cites,
        "articles_per_stance": articles,
        "loaded_words": loaded,
        "opinion_sentences": len(opinions),
        "opinions_attributed": attributed,
    }


def story_metrics(validator: Validator, story: Story, reference: str | None, stance) -> dict:
    kept, removed = len(story.sentences), len(story.removed)
    recalls, relevant, cites, covered = [], 0, 0, 0
    outlets: set[str] = set()
    for claim in story.sentences:
        r, rel, n = citation_scores(validator, claim)
        recalls.append(r)
        relevant += rel
        cites += n
        covered += covered_by_quotes(claim)
        outlets |= {s.article_id for s in claim.verdict.spans} if claim.verdict else set()
    row = {
        "kept": kept,
        "removed": removed,
        "outlets_cited": len(outlets),
        "independent_ok": covered,
        "citation_recall": sum(recalls) / len(recalls) if recalls else None,
        "citations": cites,
        "relevant_citations": relevant,
        "error": story.error,
        "calls": story.usage.calls,
        "tokens": story.usage.prompt_tokens + story.usage.completion_tokens,
        "neutrality": neutrality(story, stance),
        "sentences": [c.text for c in story.sentences],
        "headline": story.headline.text if story.headline else None,
    }
    row["reader"] = reader_checks(validator, story)
    if reference:
        row.update(rouge(reference, " ".join(c.text for c in story.sentences)))
    return row


def seed_checks(story: Story) -> dict:
    """The seed pair's targets: the plan, the spokesperson's reply, China's reaction; the
    day disagreement shown; neither day stated in a kept sentence or the headline."""
    text = " ".join(c.text for c in story.sentences)
    said = text + " " + (story.headline.text if story.headline else "")
    return {
        "nato_plan": bool(re.search(r"NATO.{0,60}(?:plan|open).{0,60}office", text, re.I)),
        "spokesperson_reply": bool(re.search(r"Lungescu|NATO (?:spokesperson|has offices)", text)),
        "china_reaction": bool(re.search(r"China|Chinese|Mao Ning", text))
        and bool(re.search(r"vigilance|battle arena|eastward expansion", text, re.I)),
        "day_disagreement_shown": any(d.kind == "day" for d in story.disagreements),
        "no_day_stated": not re.search(r"\b(?:Wednesday|Thursday)\b", said),
    }


def summarize_rows(rows: list[dict]) -> dict:
    if not rows:
        return {}
    written = sum(r["kept"] + r["removed"] for r in rows)
    kept = sum(r["kept"] for r in rows)
    cites = sum(r["citations"] for r in rows)
    recalls = [r["citation_recall"] for r in rows if r["citation_recall"] is not None]
    out = {
        "stories": len(rows),
        "failed": sum(1 for r in rows if r["error"]),
        "supported_per_story": round(kept / len(rows), 2),
        "stories_with_4_or_more": sum(1 for r in rows if r["kept"] >= 4),
        "outlets_cited_per_story": round(statistics.mean(r["outlets_cited"] for r in rows), 2),
        "stories_citing_2_or_more_outlets": sum(1 for r in rows if r["outlets_cited"] >= 2),
        "independent_check": round(sum(r["independent_ok"] for r in rows) / kept, 3)
        if kept
        else None,
        "sentences_written": written,
        "share_supported_kept": round(kept / written, 3) if written else 0,
        "share_removed": round(sum(r["removed"] for r in rows) / written, 3) if written else 0,
        "citation_recall": round(statistics.mean(recalls), 3) if recalls else None,
        "citation_precision": round(sum(r["relevant_citations"] for r in rows) / cites, 3)
        if cites
        else None,
        "seconds_per_story": round(statistics.mean(r["seconds"] for r in rows), 1),
        "max_seconds": round(max(r["seconds"] for r in rows), 1),
        "model_calls": sum(r["calls"] for r in rows),
        "calls_per_story": round(sum(r["calls"] for r in rows) / len(rows), 2),
        "tokens": sum(r["tokens"] for r in rows),
        "loaded_words": sum(r["neutrality"]["loaded_words"] for r in rows),
        "opinion_sentences": sum(r["neutrality"]["opinion_sentences"] for r in rows),
        "opinions_attributed": sum(r["neutrality"]["opinions_attributed"] for r in rows),
    }
    for stance_key in ("citations_per_stance", "articles_per_stance"):
        total: dict[str, int] = {}
        for r in rows:
            for k, v in r["neutrality"][stance_key].items():
                total[k] = total.get(k, 0) + v
        out[stance_key] = total
    for k in ("rouge1", "rouge2", "rougeL"):
        vals = [r[k] for r in rows if k in r]
        if vals:
            out[k] = round(statistics.mean(vals), 2)
    for k in rows[0].get("reader", {}):
        out[k] = sum(r["reader"][k] for r in rows)
    out["median_words"] = statistics.median(r["reader"]["words"] for r in rows)
    recalls = [r["title_recall"] for r in rows if "title_recall" in r]
    if recalls:
        out["lede_title_recall"] = round(statistics.mean(recalls), 3)
    for name in ("first1", "first2"):
        base = [r["baselines"][name] for r in rows if "baselines" in r]
        if base:
            out[f"baseline_{name}"] = {
                k: round(statistics.mean(b[k] for b in base), 2) for k in base[0] if k in base[0]
            }
    return out


def run_setup(name, design, client_cm, settings, validator, seeds, events, results, save, args):
    """One setup (design + model) over the seeds and the events; rows saved as they come."""
    setup: dict = {"design": design, "seeds": None, "events": [], "summary": {}}
    results["setups"][name] = setup
    with client_cm as client:
        settings = client.settings
        setup["model"] = settings.model_name
        started = time.perf_counter()
        story = summarize_story(
            seeds, settings=settings, client=client, validator=validator, design=design
        )
        row = story_metrics(validator, story, None, {})
        row["seconds"] = round(time.perf_counter() - started, 1)
        row["disagreements"] = [d.description for d in story.disagreements]
        row["checks"] = seed_checks(story)
        setup["seeds"] = row
        if args.seed_out and design == "facts":
            args.seed_out.write_text(to_markdown(story), encoding="utf-8")
        print(json.dumps({"setup": name, "seeds": row["checks"], "kept": row["kept"]}), flush=True)
        save()
        for event in events:
            articles = event_articles(event)
            stance = {
                a.id: e.get("stance", "?") for a, e in zip(articles, event["articles"], strict=True)
            }
            started = time.perf_counter()
            story = summarize_story(
                articles,
                settings=settings,
                client=client,
                validator=validator,
                design=design,
                check_events=False,  # one event by construction
            )
            row = story_metrics(validator, story, event.get("reference"), stance)
            row["seconds"] = round(time.perf_counter() - started, 1)
            row["event_id"] = event["event_id"]
            # the trivial baselines, on the same event in the same run
            row["baselines"] = {}
            for base, n in (("first1", 1), ("first2", 2)):
                firsts = first_sentences(articles, n)
                row["baselines"][base] = {
                    **rouge(event.get("reference", ""), " ".join(firsts)),
                    "title_recall": title_recall(
                        event.get("title", ""), firsts[0] if firsts else ""
                    ),
                    "words": sum(len(t.split()) for t in firsts),
                }
            row["title_recall"] = title_recall(
                event.get("title", ""), story.sentences[0].text if story.sentences else ""
            )
            setup["events"].append(row)
            setup["summary"] = summarize_rows(setup["events"])
            brief = {k: row.get(k) for k in ("event_id", "kept", "outlets_cited", "seconds")}
            print(json.dumps({"setup": name, **brief, "rouge1": row.get("rouge1")}), flush=True)
            save()
    setup["server_peak_rss_mb"] = round(
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    )
    save()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", "--events", dest="limit", type=int, default=30)
    parser.add_argument("--seed-out", type=Path, default=None, help="write the seed story here")
    parser.add_argument("--no-cache", action="store_true")
    parser.add_argument("--out", type=Path, help="default benchmarks/results/story.json")
    parser.add_argument(
        "--setups", default="facts,draft", help="comma list of facts (current), draft (previous)"
    )
    parser.add_argument("--previous-model", default="smollm2-135m-instruct")
    parser.add_argument("--model", default=None, help="embedded model of the facts setup")
    parser.add_argument(
        "--smoke", action="store_true", help="fake model, 2 events, temp dir: does it run?"
    )
    args = parser.parse_args()
    setups = [s.strip() for s in args.setups.split(",") if s.strip()]
    folder = Path(tempfile.mkdtemp(prefix="bench-story-")) if args.smoke else None
    if args.smoke:
        args.limit = min(args.limit, 2)
        out = args.out or folder / "story.json"
        from fake_model import fake_client
    else:
        import rouge_score  # noqa: F401  (fail now, not after the first story)

        out = args.out or REPO / "benchmarks/results/story.json"

    def client_for(setup: str):
        if args.smoke:
            return contextlib.closing(fake_client(folder / f"cache-{setup}"))
        model = args.previous_model if setup == "draft" else args.model
        extra = {"local_model": model} if model else {}
        return open_client(Settings(use_cache=not args.no_cache, **extra))

    validator = Validator()
    lines = (SHARED / "data/clusters/allsides-dev.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines[: args.limit]]
    seeds, _ = load_articles(sorted((SHARED / "seeds").glob("*.txt")))
    results: dict = {"smoke": args.smoke, "setups": {}, "events_asked": len(events)}
    results["machine"] = {"cpus": os.cpu_count(), "load_avg_start": os.getloadavg()}

    def save() -> None:
        first = results["setups"].get(setups[0], {})
        results["model"] = first.get("model", "")
        results["seeds"] = first.get("seeds")
        results["events"] = first.get("events", [])
        results["summary"] = first.get("summary", {})
        results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        results["machine"]["load_avg_now"] = os.getloadavg()
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp")
        tmp.write_text(json.dumps(results, indent=2) + "\n")
        tmp.replace(out)

    for name in setups:
        run_setup(name, name, client_for(name), None, validator, seeds, events, results, save, args)
    save()
    brief = {
        name: {"model": s.get("model"), **s.get("summary", {}), "seeds": s["seeds"]["checks"]}
        for name, s in results["setups"].items()
    }
    print(json.dumps(brief, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
