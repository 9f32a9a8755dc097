"""Renderers for Stories, Digests and ValidationReports: Markdown, JSON, HTML, terminal;
and Digests as Atom feeds."""

from summarize.render.atom import to_atom
from summarize.render.html import to_html
from summarize.render.markdown import to_markdown
from summarize.render.output import OutputError, render, write_output
from summarize.render.terminal import to_terminal

__all__ = [
    "OutputError",
    "render",
    "to_atom",
    "to_html",
    "to_markdown",
    "to_terminal",
    "write_output",
]
