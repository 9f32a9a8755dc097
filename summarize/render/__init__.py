"""Renderers for Stories, Digests and ValidationReports: Markdown, JSON, HTML, terminal."""

from .html import to_html
from .markdown import to_markdown
from .output import OutputError, render, write_output
from .terminal import to_terminal

__all__ = ["OutputError", "render", "to_html", "to_markdown", "to_terminal", "write_output"]
