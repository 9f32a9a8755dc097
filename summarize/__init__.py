"""summarize: neutral combined news summaries, every sentence linked to its source span.

The Python API mirrors the CLI:

    from summarize import load_articles, validate, summarize_story, build_digest

Most names are imported on first use, so `import summarize` stays cheap; `validate`
is imported at once because the submodule of the same name would otherwise shadow it.
"""

import logging
from importlib import import_module

from summarize.models import (
    Article,
    Claim,
    Digest,
    Disagreement,
    InputProblem,
    RemovedSentence,
    Sentence,
    Span,
    Story,
    ValidationReport,
    Verdict,
)
from summarize.support.validator import validate

# A library is silent unless its user configures logging (the CLI does: --verbose, --quiet).
logging.getLogger("summarize").addHandler(logging.NullHandler())

_LAZY = {
    "load_articles": "sources.ingest",
    "article_from_text": "sources.ingest",
    "Validator": "support.validator",
    "summarize_story": "story.pipeline",
    "build_digest": "digest.build",
    "Settings": "settings",
    "open_client": "model.client",
    "to_markdown": "render",
    "to_html": "render",
    "write_output": "render",
    "SummarizeError": "errors",
    "InputError": "errors",
    "ConfigError": "errors",
    "ModelError": "errors",
}

__all__ = [
    "Article",
    "Claim",
    "Digest",
    "Disagreement",
    "InputProblem",
    "RemovedSentence",
    "Sentence",
    "Span",
    "Story",
    "ValidationReport",
    "Verdict",
    "validate",
    *_LAZY,
]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'summarize' has no attribute {name!r}")
