"""A self-contained HTML page: inline CSS and JS, no external requests, strict CSP.

Article text is untrusted: the template autoescapes every value, URLs are
linked only when http(s), and the data for the popovers travels in a JSON
block whose `<`, `>` and `&` are escaped, read by the script as textContent.
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from summarize.models import Digest, Story, ValidationReport
from summarize.render._view import (
    Citations,
    digest_summary,
    initials,
    report_claims,
    sources,
    story_view,
)

TEMPLATES = Path(__file__).with_name("templates")


@cache
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=False,
    )
    env.filters["initials"] = initials
    return env


@cache
def _asset(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def json_for_html(data: object) -> str:
    """JSON that is safe inside a <script type="application/json"> element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(ch, esc)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def csp_for(script: str) -> str:
    """A Content-Security-Policy allowing only this exact inline script and inline styles."""
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    return (
        "default-src 'none'; style-src 'unsafe-inline'; "
        f"script-src 'sha256-{digest}'; img-src 'none'; base-uri 'none'; form-action 'none'"
    )


def to_html(obj: Story | Digest | ValidationReport) -> str:
    """One self-contained HTML page for a Story, Digest or ValidationReport."""
    cites = Citations()
    ctx: dict = {
        "stories": [],
        "claims": None,
        "sources": [],
        "problems": [],
        "notes": [],
        "summary": "",
    }
    if isinstance(obj, ValidationReport):
        claims = report_claims(obj, cites)
        ok = sum(1 for c in claims if c.supported)
        ctx.update(
            title="Validation report",
            summary=f"{ok} of {len(claims)} claims supported",
            claims=claims,
            sources=sources(obj.articles),
            problems=obj.problems,
        )
    elif isinstance(obj, Story):
        view = story_view(obj, cites)
        ctx.update(title=view.title, stories=[view])
    elif isinstance(obj, Digest):
        title = obj.title + (f" — {obj.date}" if obj.date else "")
        views = [story_view(s, cites, rank) for rank, s in enumerate(obj.stories, 1)]
        ctx.update(
            title=title,
            summary=digest_summary(obj),
            stories=views,
            problems=obj.problems,
            notes=obj.notes,
        )
    else:
        raise TypeError(f"cannot render {type(obj).__name__} as HTML")
    script = _asset("page.js")
    if "</" in script:
        raise RuntimeError("page.js must not contain '</'")
    ctx.update(
        cites=cites.all,
        empty=isinstance(obj, Digest) and not obj.stories,
        css=Markup(_asset("page.css")),
        js=Markup(script),
        csp=csp_for(script),
        data=Markup(json_for_html({str(c.n): c.as_data() for c in cites.all})),
    )
    return _env().get_template("page.html.j2").render(ctx)
