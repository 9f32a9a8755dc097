"""Which language a text is in: `py3langid` (a naive Bayes model of byte n-grams, shipped
inside the package, so nothing is downloaded), names from Babel's CLDR data."""

from __future__ import annotations

import re
from functools import lru_cache

MIN_WORDS = 20  # fewer words than this: too short to tell
MAX_CHARS = 4000  # the start of a long article is enough
MIN_CONFIDENCE = 0.8  # below this (normalised probability) the answer is "unsure": None

_WORD = re.compile(r"[^\W\d_]+")


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> str | None:
    """The ISO 639 code of the language of `text` ("en", "fr"); None when unsure.

    Text of fewer than `MIN_WORDS` words gives None, and so does text the model
    cannot place with `MIN_CONFIDENCE`.
    """
    if len(_WORD.findall(text[:MAX_CHARS])) < MIN_WORDS:
        return None
    lang, confidence = _identifier().classify(text[:MAX_CHARS])
    return lang if confidence >= MIN_CONFIDENCE else None


def language_name(code: str) -> str:
    """The English name of a language code ("fr" -> "French"); the code when unknown."""
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(code.replace("-", "_")).english_name or code
    except (UnknownLocaleError, ValueError, TypeError):
        return code
