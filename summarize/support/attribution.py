"""Attribution to an outlet is provenance, and the outlet's own article is its evidence.

"According to the Harbour Herald, the museum will close in May." claims only that the
Herald reports the rest. So the rest is checked against that outlet's article alone:
the outlet's name needs no other evidence (it is the article's own label), and no other
outlet's sentence can support what the sentence says the Herald says. The same holds
for content from an opinion piece: "In an opinion piece, the Post argued that ...".
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from summarize.models import Article

_PREFIX = re.compile(
    r"^(?:According to (?P<a>[^,]{2,80}), |In an opinion piece,? (?P<b>[^,]{2,80}?) "
    r"(?:argued|argues|wrote|writes) that )(?P<body>\S.*)$",
    re.S,
)


def _same_outlet(name: str, article: Article) -> bool:
    norm = " ".join(name.lower().split())
    own = " ".join(article.label.lower().split())
    return norm in (own, f"the {own}") or own == f"the {norm}"


def split_attribution(text: str, articles: Sequence[Article]) -> tuple[list[Article], str] | None:
    """(the named outlet's articles, the rest as a sentence) when `text` attributes itself
    to an outlet among `articles`; None otherwise (an unknown name is an ordinary claim)."""
    m = _PREFIX.match(text.strip())
    if m is None:
        return None
    name = m.group("a") or m.group("b")
    own = [a for a in articles if _same_outlet(name, a)]
    if not own:
        return None
    body = m.group("body")
    return own, body[0].upper() + body[1:]


def attribute(
    outlet: str, text: str, opinion: bool = False, common: frozenset[str] = frozenset()
) -> str:
    """ "According to <outlet>, <text>" (an opinion piece: "In an opinion piece, <outlet>
    argued that <text>"), the first word lowered when it is a common word: one of a
    short list, or one of `common` (words the sources write in lower case)."""
    text = text.strip()
    first = re.match(r"[A-Z][a-z]+\b", text)
    if _LOWER_FIRST.match(text) or (first and first.group().lower() in common):
        text = text[0].lower() + text[1:]
    if opinion:
        return f"In an opinion piece, {outlet} argued that {text}"
    return f"According to {outlet}, {text}"


# The capitalised common words that may start a sentence moved behind an attribution.
_LOWER_FIRST = re.compile(
    r"^(?:The|A|An|This|That|These|Those|It|Its|In|On|At|As|After|Before|During|Some|Many|"
    r"Most|More|Officials|Critics|Both|Several|However|While|When|Under|Over|For|With|"
    r"There|What|If|Our|We|Every|No|All|Any|Instead|Only|Leaders)\b"
)
