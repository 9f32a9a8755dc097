"""Writing rendered output to disk atomically, with errors that name the path."""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from pathlib import Path

from rich.console import Console

from summarize.errors import InputError, OutputError
from summarize.models import Digest, Story, ValidationReport
from summarize.render.html import to_html
from summarize.render.markdown import to_markdown
from summarize.render.terminal import to_terminal

FORMATS = {"md": "markdown", "markdown": "markdown", "json": "json", "html": "html", "htm": "html"}
FORMATS |= {"txt": "text", "text": "text", "terminal": "text", "atom": "atom", "xml": "atom"}


def render(obj: Story | Digest | ValidationReport, fmt: str) -> str:
    """The text of `obj` in format `fmt` (markdown, json, html, text, or atom for a Digest)."""
    kind = FORMATS.get(fmt.lower().lstrip("."))
    if kind == "markdown":
        return to_markdown(obj)
    if kind == "json":
        return obj.model_dump_json(indent=2) + "\n"
    if kind == "html":
        return to_html(obj)
    if kind == "atom":
        from summarize.render.atom import to_atom

        return to_atom(obj)
    if kind == "text":
        buf = io.StringIO()
        to_terminal(obj, Console(file=buf, width=100, color_system=None, emoji=False))
        return buf.getvalue()
    raise InputError(
        f"unknown output format {fmt!r}; use one of: markdown, json, html, text, atom (digests)"
    )


def write_output(
    obj: Story | Digest | ValidationReport, path: str | os.PathLike, fmt: str | None = None
) -> Path:
    """Render and write `obj` to `path`, all or nothing: a temp file is renamed into place.

    `fmt` defaults to the file suffix. Raises OutputError when the folder cannot be
    created or written, or the disk is full; no temp file is left behind.
    """
    path = Path(path)
    text = render(obj, fmt or path.suffix or "markdown")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot create folder {path.parent}: {e.strerror or e}") from e
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        mode = 0o644
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        tmp = None
    except OSError as e:
        raise OutputError(f"cannot write {path}: {e.strerror or e}") from e
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return path
