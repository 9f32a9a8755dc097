"""The validator on the two seed articles (skipped when ../shared is missing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from summarize.corpus import segment
from summarize.models import Article, ValidationReport
from summarize.support.scorers import available, get_scorer
from summarize.support.validator import Validator, validate

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


@pytest.fixture(scope="module")
def articles() -> list[Article]:
    a_path, b_path = SEEDS / "nato-office-a.txt", SEEDS / "nato-office-b.txt"
    if not (a_path.exists() and b_path.exists()):
        pytest.skip("seed articles not available (../shared/seeds)")
    a = a_path.read_text(encoding="utf-8")
    b = b_path.read_text(encoding="utf-8")
    start = b.index("\nExplore") + 1  # simulate ingest: the "Explore" list is debris
    return [
        Article(id="a", text=a, debris=[(0, a.index("\n"))]),
        Article(id="b", text=b, debris=[(start, len(b))]),
    ]


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator()


def assert_quotes_exact(verdict, articles):
    by_id = {a.id: a for a in articles}
    for span in verdict.spans:
        assert by_id[span.article_id].text[span.start : span.end] == span.quote
        assert not by_id[span.article_id].is_debris(span.start, span.end)


def test_registry():
    assert "rules" in available()
    assert get_scorer("rules").name == "rules"
    with pytest.raises(ValueError, match="unknown scorer"):
        get_scorer("nope")


def test_debris_sentence_is_not_supported(validator, articles):
    v = validator.check(
        "Saudi Arabia pledges $368 million in aid to Yemen's government in Aden", articles
    )
    assert not v.supported
    assert_quotes_exact(v, articles)
    assert any("Aden" in r or "368" in r for r in v.reasons)


def test_changed_place_is_not_supported(validator, articles):
    v = validator.check("NATO plans to open its first Asian office in Seoul.", articles)
    assert not v.supported
    assert any("Seoul" in r for r in v.reasons)


def test_changed_number_is_not_supported(validator, articles):
    v = validator.check(
        "The Nikkei Asia said the proposed office was due to open in 2031 in Tokyo.", articles
    )
    assert not v.supported
    assert any("2031" in r for r in v.reasons)


def test_paraphrase_is_supported_in_the_right_article(validator, articles):
    v = validator.check(
        "According to Nikkei Asia, the planned office should open in Tokyo next year.", articles
    )
    assert v.supported, v.reasons
    assert v.spans and all(s.article_id in {"a", "b"} for s in v.spans)
    assert any("Tokyo" in s.quote for s in v.spans)
    assert_quotes_exact(v, articles)


FAITHFUL_BELOW = (
    "a faithful claim the calibrated decision puts just below its threshold (0.47, 0.37): "
    "on the benchmarks, high word coverage with a weak entailment score is often unfaithful, "
    "so the decision is cautious there"
)


@pytest.mark.xfail(strict=True, reason=FAITHFUL_BELOW)
def test_a_pronoun_speakers_paraphrase_is_supported(validator, articles):
    v = validator.check(
        "Oana Lungescu said Japan and NATO have a close relationship that is getting stronger.",
        articles,
    )
    assert v.supported and {s.article_id for s in v.spans} == {"a"}


@pytest.mark.xfail(strict=True, reason=FAITHFUL_BELOW)
def test_fused_sentence_cites_both_articles(validator, articles):
    v = validator.check(
        "NATO's first office in Asia is set to open in Tokyo next year, and China's foreign "
        "ministry spokesperson Mao Ning told a regular press conference that the move calls for "
        '"high vigilance".',
        articles,
    )
    assert v.supported, v.reasons
    assert {s.article_id for s in v.spans} == {"a", "b"}
    assert_quotes_exact(v, articles)


def test_cited_sentences_are_used_first(validator, articles):
    sentences = {s.id: s for s in segment(articles[1], "B")}
    cited = [s for s in sentences.values() if "due to open next year in Tokyo" in s.text]
    v = validator.check("The office is due to open next year in Tokyo.", articles, cited=cited)
    assert v.supported and v.spans[0].start == cited[0].start


def test_validate_summary(validator, articles):
    report = validate(articles, "China urged high vigilance. NATO plans an office in Seoul.")
    assert isinstance(report, ValidationReport)
    assert [c.verdict.supported for c in report.claims] == [True, False]
    assert not report.all_supported
    again = ValidationReport.model_validate_json(report.model_dump_json())
    assert len(again.claims) == 2
    with pytest.raises(ValueError, match="no sentences"):
        validator.validate(articles, "   ")


# ---------------------------------------------------------------- through ingest and the CLI

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def ingested() -> list[Article]:
    """The seed articles as `load_articles` reads them: real debris detection."""
    from summarize.sources.ingest import load_articles

    paths = [SEEDS / "nato-office-a.txt", SEEDS / "nato-office-b.txt"]
    if not all(p.exists() for p in paths):
        pytest.skip("seed articles not available (../shared/seeds)")
    found, problems = load_articles(paths)
    assert not problems and len(found) == 2
    return found


def test_ingested_seeds(validator, ingested):
    assert len(ingested) == 2
    v = validator.check(
        "Saudi Arabia pledges $368 million in aid to Yemen's government in Aden", ingested
    )
    assert not v.supported and v.score < 0.2
    for claim in (
        "NATO plans to open its first Asian office in Seoul.",
        "The Nikkei Asia said the proposed office was due to open in 2031 in Tokyo.",
    ):
        v = validator.check(claim, ingested)
        assert not v.supported and v.score < 0.2, (claim, v.reasons)
    v = validator.check(
        "According to Nikkei Asia, the planned office should open in Tokyo next year.", ingested
    )
    assert v.supported, v.reasons
    assert any("Tokyo" in s.quote for s in v.spans)
    assert_quotes_exact(v, ingested)


def _cli_report(summary: str) -> tuple[int, ValidationReport]:
    from typer.testing import CliRunner

    from summarize.cli import app

    args = ["validate", str(EXAMPLES / "articles"), "--summary", str(EXAMPLES / summary)]
    result = CliRunner().invoke(app, [*args, "--format", "json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, ValidationReport.model_validate_json(result.stdout)


def test_cli_validate_examples():
    code, report = _cli_report("summary-good.txt")
    assert code == 0 and len(report.claims) == 4 and report.all_supported
    for claim in report.claims:
        assert claim.verdict.spans, claim
    code, report = _cli_report("summary-mixed.txt")
    assert code == 1
    assert [c.verdict.supported for c in report.claims] == [True, True, False, False, False]
    reasons = [" ".join(c.verdict.reasons) for c in report.claims]
    assert "5.8" in reasons[2] and "Cranholt" in reasons[3] and "aldermoor" in reasons[4].lower()
    assert all(c.verdict.score < 0.2 for c in report.claims[2:])


@pytest.mark.xfail(
    strict=True,
    reason="the rules score is calibrated on the factuality sets, where a fully covered "
    "sentence is still unfaithful in ~40% of (dataset-balanced) rows: it tops out near 0.6",
)
def test_faithful_paraphrase_scores_clearly_high(validator, ingested):
    v = validator.check(
        "According to Nikkei Asia, the planned office should open in Tokyo next year.", ingested
    )
    assert v.score >= 0.7


def test_sentence_without_content_words_is_not_supported() -> None:
    article = Article(id="a", text="It is also true that the dam opened on Friday.")
    verdict = Validator().check("It is also", [article])
    assert not verdict.supported and verdict.score == 0.0 and not verdict.spans
    assert "no content words" in verdict.reasons[0]
