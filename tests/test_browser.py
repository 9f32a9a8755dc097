"""The HTML page in a real browser: loads cleanly, popovers work, nothing executes or loads.

Uses Debian's chromium through Playwright (Playwright's own browser download is
not available here). Skipped when chromium is missing, unless CI is set.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from summarize.models import Article, Claim, Coverage, Digest, RemovedSentence, Story, Verdict
from summarize.render import write_output

pytestmark = pytest.mark.slow  # starts a browser

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path("/tmp")

SCRIPT = "<script>window.__pwned = 1</script>"
IMG = '<img src=x onerror="window.__pwned=2">'


def _claim(text: str, *spans) -> Claim:
    return Claim(text=text, verdict=Verdict(supported=True, score=0.9, spans=list(spans)))


def _span(article: Article, quote: str):
    start = article.text.index(quote)
    return article.span(start, start + len(quote))


def small_digest() -> Digest:
    dam = Article(
        id="klaxon-1",
        outlet="Kessary Klaxon",
        title=f"Dam gates opened {IMG}",
        url="https://klaxon.example/dam",
        text=(
            "Engineers opened two spillway gates at the Kessary dam on Tuesday. "
            f"{SCRIPT} Water levels downstream rose by 40 centimetres overnight. "
            f"{IMG} No homes were flooded, the water board said."
        ),
    )
    courier = Article(
        id="courier-1",
        outlet="Valley Courier",
        title="Aldwen river rises after dam release",
        url="javascript:window.__pwned=3",
        text="The Aldwen river rose 40 centimetres after the dam release, residents said.",
    )
    museum = Article(
        id="herald-1",
        outlet="Harbour Herald",
        title="Harbour museum reopens",
        text="The harbour museum reopened on Monday after a two-year refit. Entry is free.",
    )
    dam_story = Story(
        headline=_claim("Kessary dam gates opened", _span(dam, "opened two spillway gates")),
        articles=[dam, courier],
        sentences=[
            _claim(
                "Engineers opened two spillway gates at the Kessary dam.",
                _span(dam, "Engineers opened two spillway gates at the Kessary dam on Tuesday."),
            ),
            _claim(
                "Water downstream rose by 40 centimetres.",
                _span(dam, f"{SCRIPT} Water levels downstream rose by 40 centimetres overnight."),
                _span(courier, "The Aldwen river rose 40 centimetres"),
            ),
            _claim("No homes were flooded.", _span(dam, f"{IMG} No homes were flooded")),
        ],
        removed=[RemovedSentence(text="The dam burst.", reason="the sources do not say this")],
        status="new",
        coverage=Coverage(
            outlets=["Kessary Klaxon", "Valley Courier"],
            labels={"leaning": {"right": 1, "left": 1}},
        ),
    )
    dam_story.sentences[1].outlets = ["Kessary Klaxon", "Valley Courier"]
    museum_story = Story(
        articles=[museum],
        sentences=[_claim("The harbour museum has reopened.", _span(museum, "reopened on Monday"))],
    )
    return Digest(date="2026-11-21", stories=[dam_story, museum_story], articles_read=3)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
        pytest.skip(f"{CHROMIUM} not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture()
def page_file(tmp_path):
    return write_output(small_digest(), tmp_path / "digest.html", "html")


def open_page(browser, path: Path, width: int, height: int):
    page = browser.new_page(viewport={"width": width, "height": height})
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, errors, requests


def test_page_loads_popover_shows_quote_and_nothing_runs(browser, page_file):
    page, errors, requests = open_page(browser, page_file, 1280, 900)
    try:
        sentence = page.locator(".sent", has_text="Water downstream rose by 40 centimetres.")
        marker = sentence.locator(".cite").first
        marker.click()
        pop = page.locator("#pop")
        assert pop.is_visible()
        quote = f"{SCRIPT} Water levels downstream rose by 40 centimetres overnight."
        assert pop.locator(".pop-quote").inner_text() == quote
        assert "Kessary Klaxon" in pop.locator("#pop-outlet").inner_text()
        assert "klaxon-1, chars 67–" in pop.locator(".pop-where").inner_text()
        assert "Engineers opened two spillway gates" in pop.locator(".pop-before").inner_text()
        assert marker.get_attribute("aria-expanded") == "true"

        page.keyboard.press("Escape")
        assert not pop.is_visible()

        # Keyboard: focus the second marker of the sentence and press Enter.
        second = sentence.locator(".cite").nth(1)
        second.focus()
        page.keyboard.press("Enter")
        assert pop.is_visible()
        assert pop.locator(".pop-quote").inner_text() == "The Aldwen river rose 40 centimetres"

        page.screenshot(path=str(SHOTS / "summarize-desktop.png"), full_page=True)

        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert page.locator("img").count() == 0
        assert page.locator("a[href^='javascript']").count() == 0
        assert errors == []
        assert requests == [page_file.as_uri()]
    finally:
        page.close()


def test_page_on_a_phone(browser, page_file):
    page, errors, requests = open_page(browser, page_file, 390, 844)
    try:
        # Nothing wider than the screen: no sideways scrolling on a phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.locator(".sent", has_text="No homes were flooded.").locator(".cite").first.click()
        pop = page.locator("#pop")
        assert pop.is_visible()
        assert pop.locator(".pop-quote").inner_text() == f"{IMG} No homes were flooded"
        box = pop.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
        page.screenshot(path=str(SHOTS / "summarize-phone.png"))
        page.locator(".pop-close").click()
        assert not pop.is_visible()
        page.screenshot(path=str(SHOTS / "summarize-phone-full.png"), full_page=True)
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert errors == []
        assert requests == [page_file.as_uri()]
    finally:
        page.close()


def test_page_reads_like_news(browser, page_file):
    page, errors, _ = open_page(browser, page_file, 1280, 900)
    try:
        sentence = page.locator(".sent", has_text="Water downstream rose by 40 centimetres.")
        who = sentence.locator(".who")
        # compact marks; the full names are there for screen readers, shown on focus
        assert who.locator(".marks").inner_text().replace("\n", "") == "KKVC"
        full = who.locator(".full")
        assert full.inner_text() == "reported by Kessary Klaxon, Valley Courier"
        assert full.bounding_box()["width"] <= 1
        who.focus()
        assert full.bounding_box()["width"] > 50
        # coverage as a bar with its counts in text; the status shown once
        story = page.locator("#story-1")
        assert story.locator(".bar .seg").count() == 2
        assert "leaning: left 1, right 1" in story.locator(".bar-text").inner_text()
        assert story.locator(".badge.status").count() == 1 and story.locator(".status").count() == 1
        # the removed sentences are folded below the story, closed
        removed = story.locator("details.removed")
        assert removed.count() == 1 and not removed.locator("s").is_visible()
        removed.locator("summary").click()
        assert removed.locator("s").is_visible()
        assert errors == []
    finally:
        page.close()
