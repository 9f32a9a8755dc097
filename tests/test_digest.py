"""The digest: date window rules and a digest that survives a failing story."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from summarize.digest.build import build_digest, parse_since, select_window
from summarize.models import Article, Story

REPO = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _a(id: str, published: datetime | None) -> Article:
    return Article(id=id, text="x", published=published)


ARTICLES = [
    _a("sat-evening", datetime(2026, 11, 21, 23, 30, tzinfo=UTC)),
    _a("sun-early-plus5", datetime(2026, 11, 22, 3, 0, tzinfo=timezone(timedelta(hours=5)))),
    _a("sun-naive", datetime(2026, 11, 22, 9, 0)),  # no zone: read as UTC
    _a("sun-late-minus8", datetime(2026, 11, 22, 20, 0, tzinfo=timezone(timedelta(hours=-8)))),
    _a("undated", None),
    _a("last-week", datetime(2026, 11, 15, 12, 0, tzinfo=UTC)),
]


def test_date_is_one_utc_day_with_zones_respected():
    window = select_window(ARTICLES, date="2026-11-22")
    # 03:00+05:00 is 22:00 UTC on the 21st; 20:00-08:00 is 04:00 UTC on the 23rd.
    assert [a.id for a in window.articles] == ["sun-naive", "undated"]
    assert window.undated == 1 and window.outside == 4
    assert window.label == "2026-11-22"


def test_since_counts_back_from_now():
    window = select_window(ARTICLES, since="24h", now=NOW)
    assert [a.id for a in window.articles] == [
        "sat-evening",
        "sun-early-plus5",
        "sun-naive",
        "sun-late-minus8",
        "undated",
    ]
    # No upper bound: an article dated after `now` (a zone mistake, a clock) is kept.
    recent = select_window(ARTICLES, since="90m", now=NOW).articles
    assert [a.id for a in recent] == ["sun-late-minus8", "undated"]
    assert len(select_window(ARTICLES, since="2d", now=NOW).articles) == 5
    assert len(select_window(ARTICLES).articles) == len(ARTICLES)  # no window: everything


@pytest.mark.parametrize(
    ("value", "delta"),
    [("90m", timedelta(minutes=90)), ("24h", timedelta(hours=24)), ("2d", timedelta(days=2))],
)
def test_parse_since(value, delta):
    assert parse_since(value) == delta


@pytest.mark.parametrize(
    "kwargs",
    [
        {"since": "yesterday"},
        {"since": "0h"},
        {"date": "22/11/2026"},
        {"date": "2026-11-22", "since": "1d"},
    ],
)
def test_bad_window_is_a_value_error(kwargs):
    with pytest.raises(ValueError):
        select_window(ARTICLES, **kwargs)


def test_digest_completes_when_one_story_fails(tmp_path):
    def summarize(articles, *, settings=None, client=None):
        if any("fare" in a.id for a in articles):
            raise RuntimeError("model went away")
        return Story(articles=articles, notes=["ok"])

    digest = build_digest(
        [str(REPO / "examples" / "articles")],
        date="2026-11-21",
        summarize=summarize,
        progress=False,
        cache_dir=tmp_path,
        jobs=2,
    )
    assert digest.date == "2026-11-21"
    # every article read counts, in the window or not (the battery story is from the 20th)
    assert digest.articles_read == 9
    assert len(digest.stories) == 3
    failed = [s for s in digest.stories if s.error]
    assert len(failed) == 1
    assert failed[0].error == "summarization failed: RuntimeError: model went away"
    assert {a.id for a in failed[0].articles} == {
        "brennmouth-ledger-fare-vote",
        "brennmouth-sentinel-fare-hike",
        "brennmouth-evening-post-fares",
    }
    assert digest.stories[-1].outlets == ["harbour-herald-museum"]  # single source ranks last
    assert digest.problems == []  # an undated article is kept, noted, not a problem
    assert digest.notes == [
        "1 undated article(s) (no publication date): kept",
        "7 of 9 articles in the date window (2026-11-21)",
    ]
    assert digest.elapsed_s > 0
