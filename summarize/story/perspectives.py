"""How the coverage differs: what each side's outlets report that the others do not.

Where the outlets' sides are known (the outlets file's labels, `digest.sides`, e.g.
`leaning`), a story gets one `Perspective` per side value: the side's outlets and up to
`PER_SIDE` facts that only that side's articles report and the story does not already
state, each attributed to its outlet ("According to the Post, ...") and validated
against that outlet's article alone. A side the outlets file knows but no outlet of
which covered the story is listed as not covering it. Nothing is shown for a story that
only one side covered beyond that note: with no other side there is nothing to differ
from.
"""

from __future__ import annotations

from summarize.corpus import Corpus
from summarize.models import Perspective, Story
from summarize.story.brief import opinion_articles, wording
from summarize.story.facts import FactGroup, repeats
from summarize.story.fuse import lowercase_words, provenance
from summarize.support.attribution import attribute

PER_SIDE = 2  # facts shown per side: what it emphasizes, not all it says


def perspectives(
    story: Story,
    corpus: Corpus,
    groups: list[FactGroup],
    validator,
    sides: dict[str, list[str]],
) -> list[Perspective]:
    """One Perspective per value of each side label in `sides` ({"leaning": ["center",
    "left", "right"]}: the values the side label can take), in that order."""
    out: list[Perspective] = []
    opinions = opinion_articles(corpus)
    stated = [c.text for c in story.sentences]
    used = {i for c in story.sentences for i in c.cited}  # sentences the story rests on
    common = lowercase_words(corpus)
    for key, values in sides.items():
        side_of = {a.id: a.labels.get(key) for a in corpus.lettered}
        covered = {v for v in side_of.values() if v}
        if not covered:
            continue  # no article carries this label: nothing to say about it
        for value in values:
            mine = [a for a in corpus.lettered if side_of[a.id] == value]
            if mine and len(covered) < 2:
                continue  # the only side that covered it: nothing to differ from
            view = Perspective(label=key, side=value, outlets=[a.label for a in mine])
            view.covered = bool(mine)
            if mine and len(covered) > 1:
                fresh = [g for g in groups if not set(g.ids) & used]
                view.claims = _only_here(
                    fresh, corpus, validator, side_of, value, stated, opinions, common
                )
                stated += [c.text for c in view.claims]
            out.append(view)
    return out


def _only_here(groups, corpus, validator, side_of, value, stated, opinions, common):
    """Up to PER_SIDE attributed, validated claims from groups only `value` reports."""
    by_article = {a.id: a for a in corpus.lettered}
    claims = []
    for group in groups:  # ranked: most outlets, then salience
        if len(claims) >= PER_SIDE:
            break
        if group.disputed or not group.usable:
            continue
        if any(side_of[s.article_id] != value for s in group.members):
            continue  # another side reports it too
        chosen = wording(group, corpus)
        if chosen is None:
            continue
        member, text = chosen
        if any(repeats(text, s) for s in stated):
            continue
        outlet = by_article[member.article_id].label
        opinion = member.article_id in opinions
        attributed = attribute(outlet, text, opinion=opinion, common=common)
        claim, _ = provenance(attributed, corpus, validator)
        if claim is not None:
            claims.append(claim)
            stated.append(text)
    return claims
