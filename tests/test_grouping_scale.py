"""Grouping at scale: the vector cache (no text embedded twice), embeddings only for the
pairs the cheap model leaves uncertain, the title and date signals, and the join of a
new day's articles to remembered stories without regrouping them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from summarize.digest import cluster
from summarize.digest.vectors import FILE, VectorCache
from summarize.models import Article
from summarize.sources.ingest import load_articles

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples" / "articles"


class FakeEmbed:
    """A deterministic stand-in for the model: a vector from the text's hash; records
    every text it is asked for."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        out = np.stack([np.random.default_rng(abs(hash(t)) % 2**32).random(8) for t in texts])
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    @property
    def texts(self) -> list[str]:
        return [t for call in self.calls for t in call]


def _cache(folder: Path, fake: FakeEmbed) -> VectorCache:
    return VectorCache(folder, model_id="fake", embed_fn=fake)


def test_a_second_run_embeds_nothing_and_a_changed_text_is_embedded_again(tmp_path: Path):
    fake = FakeEmbed()
    first = _cache(tmp_path, fake)
    texts = ["Council raises fares. The vote was 5-4.", "Flood gates open at Kessary."]
    v1 = first(texts)
    assert fake.texts == texts and first.embedded == 2
    first.save()

    again = _cache(tmp_path, fake)  # tomorrow: a new process, the same folder
    v2 = again(texts)
    assert fake.texts == texts, "nothing embedded the second time"
    assert again.hits == 2 and again.embedded == 0
    assert np.allclose(v1, v2)

    changed = ["Council raises fares. The vote was 6-3.", texts[1]]
    again(changed)
    assert fake.calls[-1] == [changed[0]], "only the changed text"
    other_model = VectorCache(tmp_path, model_id="another", embed_fn=fake)
    other_model(texts[:1])
    assert fake.calls[-1] == texts[:1], "another model's vectors are not reused"


def test_a_key_ending_in_zero_bytes_is_found_again(tmp_path: Path):
    fake = FakeEmbed()
    cache = _cache(tmp_path, fake)
    text = next(t for t in (f"text {i}" for i in range(100_000)) if cache.key(t)[-1] == 0)
    cache([text, "another"])
    cache.save()
    again = _cache(tmp_path, fake)
    again([text, "another"])
    assert again.embedded == 0 and again.hits == 2


def test_a_corrupt_cache_file_is_ignored_and_rewritten(tmp_path: Path, caplog):
    (tmp_path / FILE).write_bytes(b"not a numpy file at all")
    fake = FakeEmbed()
    cache = _cache(tmp_path, fake)
    out = cache(["One text."])
    assert out.shape == (1, 8) and fake.texts == ["One text."]
    assert "vector cache" in caplog.text
    cache.save()
    assert _cache(tmp_path, fake)(["One text."]).shape == (1, 8)
    assert len(fake.calls) == 1, "the rewritten file is read back"


def test_pruning_keeps_the_most_recently_used(tmp_path: Path):
    fake = FakeEmbed()
    cache = _cache(tmp_path, fake)
    cache(["a", "b", "c"])
    cache(["c"])
    cache.save(max_vectors=1)
    reread = _cache(tmp_path, fake)
    assert len(reread) == 1
    reread(["a", "b", "c"])
    assert fake.calls[-1] == ["a", "b"], "only the kept vector is reused"


def test_only_articles_in_an_uncertain_pair_are_embedded():
    articles, _ = load_articles([EXAMPLES])
    fake = FakeEmbed()
    sig = cluster.signals(articles, embed_fn=fake)
    graph = cluster.scored_pairs(sig)
    pairing = cluster.PAIR_MODEL
    cores = cluster.core_groups(graph, pairing.core_distance)
    cheap = cluster.model_probability(graph, pairing.cheap, cores, pairing)
    unsure = cluster.unsure_pairs(cheap, pairing.band)
    cluster.probabilities(graph, pairing)
    in_unsure = set(graph.r[unsure].tolist()) | set(graph.c[unsure].tolist())
    assert unsure.any() and not unsure.all(), "the examples have both kinds of pair"
    assert len(fake.calls) <= 1, "one batch"
    assert set(fake.texts) == {sig.leads[i] for i in in_unsure}
    assert {i for i in range(sig.n) if sig.embedded[i]} == in_unsure
    assert len(in_unsure) < len(articles), "some article is in no uncertain pair"

    narrow = cluster.Pairing(**{**pairing.__dict__, "band": (0.5, 0.5)})  # nothing uncertain
    quiet = FakeEmbed()
    cluster.cluster_graph(cluster.scored_pairs(cluster.signals(articles, quiet)), 0.8, narrow)
    assert quiet.calls == []


def test_the_lead_is_the_title_and_the_first_sentence():
    article = Article(id="a", title="Fares rise", text="The council voted. Then it rained.")
    assert cluster.lead_text(article) == "Fares rise. The council voted."


def test_title_stems_match_forms_of_the_main_verb():
    assert cluster.title_words("Senate indicts mayor") == cluster.title_words(
        "Mayor indicted by the Senate"
    )
    assert "resign" not in cluster.title_words("Mayor indicted")


def _twin(day: int | None, title: str = "Dam gates opened at Kessary") -> Article:
    when = datetime(2026, 11, 1, 9, tzinfo=UTC) + timedelta(days=day) if day is not None else None
    text = "Engineers opened the Kessary dam gates on Tuesday after heavy rain upstream."
    return Article(id=f"x{day}{title}", title=title, text=text, published=when)


def test_days_apart_and_title_are_signals_the_model_uses():
    articles = [_twin(0), _twin(0, "Kessary dam gates opened"), _twin(30), _twin(None)]
    sig = cluster.signals(articles, embed_fn=FakeEmbed())
    r, c = np.array([0, 0, 0]), np.array([1, 2, 3])
    values = cluster.pair_values(sig, r, c)
    days = cluster.SIGNALS.index("days")
    assert values[:, days].tolist() == [0.0, 1.0, 0.0]  # same day; 30 days (capped); undated
    title = cluster.SIGNALS.index("title")
    assert values[0, title] > 0.5 and values[1, title] == pytest.approx(1.0)
    # the shipped models: farther apart in time is less likely one event
    for model in (cluster.PAIR_MODEL.cheap, cluster.PAIR_MODEL.full):
        assert model.coef[days] < 0


def test_a_join_searches_from_the_new_articles_only():
    articles, _ = load_articles([EXAMPLES])
    sig = cluster.signals(articles, embed_fn=FakeEmbed())
    r, c = cluster.candidate_pairs(sig, neighbours=3, queries=2)
    assert len(r) and (r < 2).all(), "the remembered articles are not regrouped"
    every_r, _ = cluster.candidate_pairs(sig, neighbours=3)
    assert (every_r >= 2).any()
