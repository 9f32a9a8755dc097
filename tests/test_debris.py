"""Page-debris detection: catches the seeds' furniture, never a real sentence."""

from __future__ import annotations

import pytest

from summarize.sources.debris import find_debris


def inside(ranges: list[tuple[int, int]], start: int, end: int) -> bool:
    """True when `[start, end)` lies wholly inside one debris range."""
    return any(s <= start and end <= e for s, e in ranges)


def overlaps(ranges: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(s < end and start < e for s, e in ranges)


def assert_debris(text: str, ranges, needle: str) -> None:
    start = text.index(needle)
    assert inside(ranges, start, start + len(needle)), f"{needle!r} not marked as debris"


def assert_content(text: str, ranges, needle: str) -> None:
    start = text.index(needle)
    assert not overlaps(ranges, start, start + len(needle)), f"{needle!r} wrongly marked"


def debris_lines(text: str) -> list[str]:
    return [text[s:e] for s, e in find_debris(text)]


# ---------------------------------------------------------------- the seeds


def test_seed_a_banner_is_debris_and_body_is_not(seed_paths):
    text = seed_paths[0].read_text(encoding="utf-8")
    ranges = find_debris(text)
    assert_debris(text, ranges, "Get the Latest News Updates")
    for sentence in [
        "China is worried about NATO’s plans to open its first office ever in Asia.",
        "This was revealed by the Nikkei Asia on Wednesday.",
        "This is important because China is becoming a new threat",
        "In response to the news, China said Thursday that it was worried about Nato’s move",
        "During a regular press briefing, Mao Ning, a spokesperson",
        "call for high vigilance from countries in the region,” Mao said.",
    ]:
        assert_content(text, ranges, sentence)
    # Only the banner: everything after it is article text.
    assert ranges == [(0, len("Get the Latest News Updates"))]


@pytest.mark.parametrize(
    "needle",
    [
        "WORLD",
        "2 MIN READ",
        "NATO spokesperson Oana Lungescu said the alliance would not go into details of NATO "
        "allies' deliberations. / Photo: AP Archive",
        "Recommended",
        "RelatedChina accuses NATO of exaggerating Beijing threat, ‘creating confrontation’",
        "SOURCE:TRTWorld and agencies",
        "Explore",
        "White House plan for TikTok deal hands US control of algorithm. Will China really let go?",
        "Saudi Arabia pledges $368 million in aid to Yemen’s government in Aden: Source",
        "By Sabena Siddiqui",
        "Poland scrambles jets as Russian strikes hit near border with Ukraine",
    ],
)
def test_seed_b_furniture_is_debris(seed_paths, needle):
    text = seed_paths[1].read_text(encoding="utf-8")
    assert_debris(text, find_debris(text), needle)


def test_seed_b_repeated_headline_is_debris_but_first_copy_is_not(seed_paths):
    text = seed_paths[1].read_text(encoding="utf-8")
    ranges = find_debris(text)
    headline = "China urges 'high vigilance' over NATO expansion in Asia"
    first = text.index(headline)
    second = text.index(headline, first + 1)
    assert not overlaps(ranges, first, first + len(headline))
    assert inside(ranges, second, second + len(headline))


@pytest.mark.parametrize(
    "sentence",
    [
        'Mao Ning, spokesperson for the Chinese foreign ministry, said Asia was a "promising land',
        "\"NATO's continual eastward expansion in the Asia-Pacific, interference in regional "
        "affairs, attempts to destroy regional peace and stability, and push for bloc "
        'confrontation calls for high vigilance from countries in the region," Mao told a '
        "regular press conference.",
        "The Nikkei Asia said the proposed office was due to open next year in Tokyo.",
        'China has urged "high vigilance" in the face of NATO\'s "eastward expansion"',
        "the Nikkei Asia reported on Thursday, citing Japanese and NATO officials.",
        "Asked about the Nikkei Asia report, NATO spokesperson Oana Lungescu said earlier",
        'best serve the needs of both NATO and our partners," she said.',
        "NATO is planning to open its first liaison office in Japan to facilitate talks",
    ],
)
def test_seed_b_body_sentences_are_not_debris(seed_paths, sentence):
    text = seed_paths[1].read_text(encoding="utf-8")
    assert_content(text, find_debris(text), sentence)


def test_seed_b_dateline_stays_content(seed_paths):
    text = seed_paths[1].read_text(encoding="utf-8")
    assert_content(text, find_debris(text), "May 4, 2023")


def test_seed_b_explore_list_runs_to_the_end(seed_paths):
    text = seed_paths[1].read_text(encoding="utf-8")
    ranges = find_debris(text)
    assert ranges[-1][1] == len(text.rstrip())
    assert text[ranges[-1][0] :].startswith("RelatedChina accuses")


# ---------------------------------------------------------------- single rules


BODY = "The minister said the plan would be published on Friday."


@pytest.mark.parametrize(
    "line",
    [
        "Advertisement",
        "ADVERTISEMENT",
        "Read more",
        "Read more: Why the bridge closed",
        "Share this article",
        "Sign up for our newsletter",
        "Sign up to our morning newsletter for the day's top stories",
        "Subscribe to the Daily Brief newsletter",
        "Follow us on Twitter",
        "Follow Jane on Instagram",
        "We use cookies to improve your experience. By continuing you accept our policy.",
        "Accept all cookies",
        "Get the latest news updates",
        "Download the Valley Post app",
        "Listen to this article",
        "Skip to main content",
        "Story continues below advertisement",
        "Media playback is not supported on this device",
        "3 min read",
        "Reading time: 4 minutes",
        "OPINION",
        "BREAKING NEWS",
        "By Jane Doe",
        "By Jane Doe and John Roe",
        "Related: Council delays vote",
        "RelatedFerry strike enters third day",
        "SOURCE: Reuters",
        "Source: AFP and agencies",
        "© 2024 Valley Post",
        "Copyright 2024 Valley Post. All rights reserved.",
        "FILE PHOTO: Ships in the harbour",
        "Firefighters at the scene on Monday. / Photo: Reuters",
        "The mayor speaks to reporters (Photo: J. Smith/AP)",
        "Protesters outside parliament. Photo by Ann Lee/Getty Images",
        "Rescue teams search the rubble | AFP",
        "Rescue teams search the rubble (Reuters)",
        "In pictures: the storm in 20 images",
    ],
)
def test_marker_lines_are_debris(line):
    text = f"{BODY}\n{line}\n{BODY.replace('Friday', 'Monday')}\n"
    ranges = find_debris(text)
    assert_debris(text, ranges, line)
    assert_content(text, ranges, BODY)
    assert_content(text, ranges, BODY.replace("Friday", "Monday"))


@pytest.mark.parametrize(
    "sentence",
    [
        "By Monday, the ministry had received 400 complaints.",
        "By 2030 the plant will produce 3 GW",
        "Share prices fell 3% on Tuesday.",
        "Sources said the talks would resume next week.",
        "Source code for the app was published online.",
        "Related talks are planned for June.",
        "Relatedly, the council also raised parking fees.",
        "Recommended doses were halved, the agency said.",
        "Photo agencies were barred from the courtroom.",
        "The photo showed the minister at the border.",
        "Explore teams mapped the cave in 2019.",
        "Copyright protection for some images of European landmarks?",
        "NATO said the office would open next year.",
        "The WHO warned of a new wave",
        "“We will not give up,” she said.",
        "May 4, 2023",
        "Read the full report, the minister urged reporters.",
        "Follow-up talks are due on Friday.",
        "Cookies sold by the bakery were recalled, the agency said.",
        "Mr. Smith said the U.S. would respond.",
    ],
)
def test_real_sentences_are_never_debris(sentence):
    text = f"{BODY}\n{sentence}\n"
    assert find_debris(text) == []


def test_long_paragraph_mentioning_furniture_words_is_content():
    paragraph = (
        "(The Wire) A singer whose career in advertising won wide acclaim has died, his "
        "family said, adding that photo archives and all rights reserved by his estate would "
        "go to a museum in the city where he was born, which will open an exhibition next "
        "spring with his records, letters and drawings from the years he spent on the radio "
        "and on television. Copyright 2015 The Wire. All rights reserved."
    )
    assert find_debris(paragraph) == []


def test_duplicate_line_marks_later_copy_only():
    text = "Harbour bridge reopens\nStandfirst here\nHarbour bridge reopens\n" + BODY
    ranges = find_debris(text)
    second = text.index("Harbour bridge reopens", 1)
    assert ranges == [(second, second + len("Harbour bridge reopens"))]


def test_tail_list_after_marker_stops_at_a_sentence():
    text = (
        f"{BODY}\nMore stories\nFerry strike enters third day\n\nWhy did the bridge close?\n"
        "The council said repairs would take six weeks.\n"
    )
    ranges = find_debris(text)
    assert_debris(text, ranges, "More stories")
    assert_debris(text, ranges, "Ferry strike enters third day")
    assert_debris(text, ranges, "Why did the bridge close?")
    assert_content(text, ranges, "The council said repairs would take six weeks.")
    assert_content(text, ranges, BODY)


def test_recommended_between_paragraphs_takes_only_itself():
    text = f"{BODY}\n\nRecommended\n\nThe office is due to open next year in Tokyo.\n"
    ranges = find_debris(text)
    start = text.index("Recommended")
    assert ranges == [(start, start + len("Recommended"))]


def test_tail_list_stops_at_long_line():
    long_line = " ".join(["word"] * 30)
    text = f"Explore\nFirst headline here\n{long_line}\n"
    ranges = find_debris(text)
    assert_debris(text, ranges, "First headline here")
    assert_content(text, ranges, long_line)


def test_ranges_are_sorted_merged_and_inside_text():
    text = "WORLD\n2 MIN READ\n\n" + BODY + "\nAdvertisement\n" + BODY.replace("Friday", "May")
    ranges = find_debris(text)
    # Banner lines separated only by a line break form one range.
    assert ranges[0] == (0, len("WORLD\n2 MIN READ"))
    assert ranges == sorted(ranges)
    assert all(0 <= s < e <= len(text) for s, e in ranges)
    assert all(a[1] < b[0] for a, b in zip(ranges, ranges[1:], strict=False))


def test_ranges_cover_stripped_line_with_indentation():
    text = f"{BODY}\n   Advertisement   \n{BODY[:-1]}!"
    ((start, end),) = find_debris(text)
    assert text[start:end] == "Advertisement"


def test_empty_and_plain_texts():
    assert find_debris("") == []
    assert find_debris("\n\n  \n") == []
    assert find_debris(BODY) == []


def test_menu_line_ending_in_furniture_is_debris() -> None:
    text = (
        "Subscribe for the latest updates\n"
        "Your local news, every morning. Sign in | Subscribe\n"
        "The council met on Friday. Members voted 9-4 | a clear majority.\n"
    )
    ranges = find_debris(text)
    menu = text.index("Your local news")
    assert any(s <= menu < e for s, e in ranges)
    body = text.index("The council met")
    assert not any(s <= body < e for s, e in ranges)


def test_page_header_above_the_known_headline_is_debris() -> None:
    text = (
        "Subscribe for the latest updates\n"
        "The Sentinel - standing up for Brennmouth taxpayers\n"
        "CITY\n"
        "Council approves fare rise\n"
        "The council approved the fare rise on Friday.\n"
    )
    ranges = find_debris(text, title="Council approves fare rise")
    slogan = text.index("The Sentinel")
    headline = text.index("Council approves")
    assert any(s <= slogan < e for s, e in ranges)
    assert not any(s <= headline < e for s, e in ranges)
    assert not any(s <= slogan < e for s, e in find_debris(text))  # no title, no rule 9
