"""Find page debris (site furniture) in plain article text, by line.

Text copied or extracted from a news page carries banners, menus, captions and
lists of unrelated headlines. Nothing is deleted: `find_debris` returns
`[start, end)` ranges so offsets into the stored text stay true, and later
stages simply never use those ranges as support.

Every rule looks at whole lines (a line break ends a sentence in `segment`, so
a debris line never shares a sentence with content). A line is debris when:

1. Marker line: the whole line is a known furniture phrase ("Recommended",
   "Advertisement", "Read more", "Share this article", "Explore", ...), or
   starts with a call to action ("Get the latest news", "Sign up for our
   newsletter", "Follow us on X", "Download the app"), or is a cookie notice.
2. Prefix line: starts with a link/credit label: "Related" glued to a headline
   ("RelatedChina accuses ..."), "Related:", "Read more:", "Also read:",
   "SOURCE:", "FILE PHOTO:", copyright lines ("©", "Copyright", "All rights
   reserved"). "SOURCE:"-style lines must be short (<= 15 words).
3. Section label / reading time: a short all-capitals line ("WORLD",
   "BREAKING NEWS"), "2 MIN READ", "Reading time: 3 minutes".
4. Caption: a line ending in a photo credit ("... / Photo: AP Archive",
   "(Photo: Reuters)", "Photo by X/Getty Images", "... | AFP").
5. Byline: "By First Last" (up to four capitalised names, optional "and").
6. Duplicate: a line identical (case and spacing aside) to an earlier line,
   e.g. a headline or standfirst repeated before the body. The first copy stays.
7. Tail list: after a list marker ("Explore", "More stories", "Most read",
   "Related", "Read next", "You may also like", "Recommended", ...) the
   following lines are debris while they look like headlines: at most 25
   words and not ending in a period (blank lines between them allowed). The
   first line that ends in "." or is longer stops the list, so a marker in
   the middle of an article ("Recommended" between two paragraphs) takes only
   itself. A short line of menu items ("... Sign in | Subscribe") ending in such a
   phrase is rule 1 too.
8. Comments: a "Comments (3)" / "Reader comments" heading and the lines under it up
   to the next blank line: readers' text, not the article's (and anyone's words,
   an injected instruction among them).
9. Page header: when the title is known from metadata and its headline line comes
   within the first 9 lines, the lines above it (banner, masthead slogan, menu).

Markdown (and bare HTML image tags) is read as a reader sees it: every rule matches
a line's plain form, without its heading marks ("## "), list bullets, quote marks,
emphasis ("**", "_") and link targets ("[text](url)" reads "text"), so "## Explore",
"**Related:** [...](...)" and "- [Headline](...)" items are the furniture they show.
10. Image or rule: a line with no letter or digit once its images ("![alt](src)",
   "<img ...>", a linked image) are taken out: an image (its alt text is a caption,
   not the article's), a rule ("---", "* * *"), decoration.

Conservative by design: a line that ends like a sentence is never taken by
rule 7, and other rules need an exact furniture pattern. A bare dateline
("May 4, 2023") is NOT debris: it is the only place many copied articles state
their date, and a date line cannot mislead a reader. The headline and a
standfirst (summary line under the headline) stay content unless repeated.
"""

from __future__ import annotations

import re

from summarize.models import Range

_WS = re.compile(r"\s+")

# Rule 7: markers after which a list of headlines usually follows.
_LIST_MARKERS = {
    "explore",
    "explore more",
    "more stories",
    "more news",
    "more from this section",
    "most read",
    "most popular",
    "most viewed",
    "related",
    "related articles",
    "related stories",
    "related news",
    "related content",
    "related coverage",
    "read more",
    "read next",
    "read also",
    "also read",
    "recommended",
    "recommended for you",
    "you may also like",
    "you might also like",
    "you may be interested in",
    "trending",
    "trending now",
    "top stories",
    "latest news",
    "latest stories",
}

# Rule 1: whole-line furniture phrases (compared lower-cased, trailing ":" / "»" dropped).
_MARKERS = _LIST_MARKERS | {
    "advertisement",
    "advertising",
    "ad",
    "sponsored",
    "sponsored content",
    "continue reading",
    "share",
    "share this",
    "share this article",
    "share this story",
    "share on facebook",
    "share on twitter",
    "related topics",
    "listen to this article",
    "skip to content",
    "skip to main content",
    "comments",
    "show comments",
    "view comments",
    "subscribe",
    "subscribe now",
    "newsletter",
    "sign in",
    "log in",
    "menu",
    "close",
    "back to top",
    "print",
    "email",
    "copy link",
    "link copied",
    "loading...",
    "media playback is not supported on this device",
    "story continues below advertisement",
    "article continues below advertisement",
    "continue reading below",
    "scroll to continue",
}

# Rule 8: a reader-comments heading; the comments under it (up to a blank line) are not
# the article's content, and their text is anyone's (an injected instruction, say).
_COMMENTS = re.compile(r"^(reader |readers' )?comments?( \(\d+\))?$|^\d+ comments?$")

_LIST_PREFIX = re.compile(r"^more (from|on|in|about) \S", re.I)

_CALL_TO_ACTION = re.compile(
    r"^(get|stay on top of) (the|all the) latest\b"
    r"|^(sign up|subscribe|register) (for|to) (our|the|a|my)?\b.*\b(newsletter|updates|alerts)\b"
    r"|^(get|receive) our\b.*\bnewsletter\b"
    r"|^follow (us|\S+) on (twitter|x|facebook|instagram|telegram|linkedin|youtube|tiktok"
    r"|whatsapp|threads|bluesky|google news)\b"
    r"|^(download|get|install) (the|our) \S+( \S+)? app\b"
    r"|^click here\b|^tap here\b"
    r"|^(we|this (web)?site) uses? cookies\b"
    r"|^by (continuing|using) (to use )?(this|our) (site|website)\b"
    r"|^(accept|manage|reject) (all )?cookies\b|^cookie (policy|settings|preferences)\b",
    re.I,
)

# "RelatedChina accuses ...": link text glued to its label (case-sensitive on purpose).
_GLUED_RELATED = re.compile(r"^Related(?=[A-Z\"'‘“])")
_PREFIX = re.compile(
    r"^(related|read more|read also|also read|see also|more|watch|listen)\s*:"
    r"|^related (article|story|stories|articles|news|content|coverage)\s*:"
    r"|^(file )?photo\s*:",
    re.I,
)
_COPYRIGHT = re.compile(
    r"^(©|\(c\)\s*\d{4}|copyright\s*(©|\(c\)|\d{4}))|\ball rights reserved\b", re.I
)
_SOURCE = re.compile(r"^(source|sources|sources?\s*/\s*agencies)\s*:", re.I)

_READING_TIME = re.compile(
    r"^(\d+\s*(-\s*)?(min|mins|minute|minutes)\.?\s*(read|reading|listen)"
    r"|(reading|read|listening) time\s*:?\s*\d+\s*(min|mins|minute|minutes)\.?)$",
    re.I,
)

_CAPTION = re.compile(
    r"(^|[\s/|(\[–—-])(photo|photos|photograph|image|picture|pictures|video|credit|illustration"
    r"|photo credit|image credit|photo illustration)\s*(:|by\b)\s*[^!?]{1,80}(?<!\.)[)\]]?\s*$"
    r"|[/|(]\s*(AP Photo|AP|AFP|Getty Images|Reuters|EPA|EPA-EFE|Shutterstock|Xinhua"
    r"|Bloomberg|Anadolu|Anadolu Agency|Alamy)\b[^.!?()]{0,60}\)?\s*$"
    r"|\b(via|/)\s*Getty Images\s*\)?\s*$",
    re.I,
)

_NAME = r"[A-Z][\w.'’-]*"
_BYLINE = re.compile(rf"^By {_NAME}( {_NAME}){{0,3}}(( and|,) {_NAME}( {_NAME}){{0,3}})*$")

_SENTENCE_END = re.compile(r"[.]['\"’”)\]]*$")


def _key(line: str) -> str:
    """A line compared case- and spacing-blind, without trailing colon/arrows."""
    return _WS.sub(" ", line).strip().rstrip(":»›>→ ").lower()


def _is_section_label(line: str) -> bool:
    """'WORLD', 'BREAKING NEWS': short, all capitals, no sentence punctuation."""
    words = line.split()
    return (
        1 <= len(words) <= 4
        and len(line) <= 40
        and line.upper() == line
        and any(c.isalpha() for c in line)
        and not re.search(r"[.!?,;\"“”]", line)
    )


def _is_headline_like(line: str) -> bool:
    """A list item: short and not ending like a sentence (headlines end in '?', no mark, ...)."""
    return len(line.split()) <= 25 and not _SENTENCE_END.search(line)


def _line_is_debris(line: str) -> bool:
    key = _key(line)
    words = len(line.split())
    if words > 60:  # furniture is short; a long line is a paragraph whatever it contains
        return False
    return bool(
        key in _MARKERS
        or (_COPYRIGHT.search(line) and words <= 20)
        or _CALL_TO_ACTION.search(line)
        or _PREFIX.search(line)
        or _GLUED_RELATED.search(line)
        or (_SOURCE.search(line) and len(line.split()) <= 15)
        or _READING_TIME.search(line)
        or _is_section_label(line)
        or _CAPTION.search(line)
        or _BYLINE.match(line)
        or _is_menu(line)
    )


_MENU_SEPARATOR = re.compile(r"\s[|·•]\s")


def _is_menu(line: str) -> bool:
    """'Your local news, every morning. Sign in | Subscribe': a short line of menu items
    split by '|', '·' or '•' that ends in a furniture phrase (rule 1, as a menu)."""
    parts = _MENU_SEPARATOR.split(line)
    return len(parts) >= 2 and len(line.split()) <= 15 and _key(parts[-1]) in _MARKERS


# Markdown a reader does not see: images (rule 10), link targets, heading marks, list
# bullets, quote marks and emphasis.
_MD_IMAGE = re.compile(
    r"\[!\[[^\]\n]*\]\([^)\n]*\)\]\([^)\n]*\)"  # a linked image: [![alt](src)](href)
    r"|!\[[^\]\n]*\](\([^)\n]*\)|\[[^\]\n]*\])"  # ![alt](src), ![alt][ref]
    r"|<img\b[^>\n]*>",
    re.I,
)
_MD_LINK = re.compile(r"\[([^\]\n]*)\](\([^)\n]*\)|\[[^\]\n]*\])")
_MD_LEAD = re.compile(r"^(#{1,6}\s+|>\s*|[-*+•]\s+|\d{1,3}[.)]\s+)+")
_MD_EMPHASIS = re.compile(r"(?<!\w)(\*{1,3}|_{1,3}|~~)|(\*{1,3}|_{1,3}|~~)(?!\w)")
_MD_TRAIL = re.compile(r"\s+#+$")  # "## Explore ##"


def plain(line: str) -> str:
    """A line as a reader sees it, for matching only (offsets stay the raw line's):
    "**Related:** [Pier reopens](https://...)" -> "Related: Pier reopens"; "" for a line
    of images (and decoration) only."""
    line = _MD_IMAGE.sub(" ", line)
    line = _MD_LINK.sub(r"\1", line)
    line = _MD_LEAD.sub("", line.strip())
    line = _MD_EMPHASIS.sub("", line)
    return _WS.sub(" ", _MD_TRAIL.sub("", line)).strip()


def _lines(text: str) -> list[tuple[int, int, str]]:
    """(start, end, plain line) for each non-blank line; offsets cover the stripped raw line,
    the text is its `plain` form ("" when the line is only images and decoration)."""
    out = []
    for m in re.finditer(r"[^\n]+", text):
        raw = m.group()
        stripped = raw.strip()
        if stripped:
            start = m.start() + (len(raw) - len(raw.lstrip()))
            out.append((start, start + len(stripped), plain(stripped)))
    return out


def _is_decoration(line: str) -> bool:
    """Rule 10: images, rules and decoration only: no letter or digit in its plain form."""
    return not any(c.isalnum() for c in line)


def find_debris(text: str, title: str = "") -> list[Range]:
    """Sorted, merged `[start, end)` ranges of page debris in `text` (nothing removed).

    With the article's `title` known (from metadata), the page header above its own
    headline line (banner, masthead slogan, menu) is debris too: rule 9.
    """
    lines = _lines(text)
    flags = [False] * len(lines)
    head = _header_lines(lines, title)
    for i in range(head):
        flags[i] = True
    seen: set[str] = set()
    in_list = in_comments = False
    for i, (start, _, line) in enumerate(lines):
        key = _key(line)
        if _is_decoration(line):
            flags[i] = True  # rule 10; a list of headlines may go on below an image
            continue
        if in_comments and "\n\n" not in text[lines[i - 1][1] : start]:
            flags[i] = True  # rule 8: reader comments run to the next blank line
            continue
        in_comments = bool(_COMMENTS.match(key))
        if in_comments:
            flags[i] = True
            continue
        if in_list and _is_headline_like(line):
            flags[i] = True
            continue
        in_list = False
        if _line_is_debris(line) or key in seen and len(key) > 3:
            flags[i] = True
        seen.add(key)
        if key in _LIST_MARKERS or _LIST_PREFIX.match(key):
            in_list = True
    return _merge(text, [(s, e) for (s, e, _), flag in zip(lines, flags, strict=True) if flag])


def _header_lines(lines: list[tuple[int, int, str]], title: str) -> int:
    """How many lines precede the headline line, when it comes early (≤ 8 lines in)."""
    key = _key(title)
    if not key:
        return 0
    for i, (_, _, line) in enumerate(lines[:9]):
        if _key(line) == key:
            return i
    return 0


def _merge(text: str, ranges: list[Range]) -> list[Range]:
    """Join ranges separated only by whitespace, so a debris block is one range."""
    merged: list[Range] = []
    for start, end in ranges:
        if merged and not text[merged[-1][1] : start].strip():
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged
