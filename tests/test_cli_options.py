"""The CLI's options and messages: --version, -h, --verbose/--quiet, format and range
checks, progress on stderr, and a library that stays silent (issue 12)."""

from __future__ import annotations

import contextlib
import io
import logging
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from summarize import cli
from summarize.cli import app
from summarize.digest.build import build_digest
from summarize.errors import ConfigError
from summarize.models import Story

REPO = Path(__file__).resolve().parents[1]
ARTICLES = REPO / "examples" / "articles"
FLOOD = ARTICLES / "aldwen-courier-flood.txt"
MUSEUM = ARTICLES / "harbour-herald-museum.md"
FARES = sorted(ARTICLES.glob("brennmouth-*"))


def _run(*args: str, **kwargs):
    return CliRunner().invoke(app, [str(a) for a in args], **kwargs)


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def _fake_story(articles, *, settings=None, client=None, **_):
    return Story(articles=list(articles), notes=["fake"])


def _fake_checked_story(articles, *, settings=None, client=None, **_):
    """The real library check for mixed events, without the model."""
    from summarize.story.pipeline import several_events

    mixed = several_events(list(articles), settings)
    return Story(articles=list(articles), notes=["fake"], warnings=[mixed] if mixed else [])


@pytest.fixture
def no_model(monkeypatch):
    """`story` without a model: the pipeline and the client are stand-ins."""
    import summarize.model.client as client
    import summarize.story.pipeline as pipeline

    monkeypatch.setattr(client, "open_client", lambda settings: contextlib.nullcontext(None))
    monkeypatch.setattr(pipeline, "summarize_story", _fake_checked_story)


# ---------------------------------------------------------------- app options


def test_version():
    from importlib.metadata import version

    result = _run("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"summarize {version('summarize')}"


@pytest.mark.parametrize(
    "command", [[], ["validate"], ["eval"], ["calibrate"], ["story"], ["digest"]]
)
def test_h_is_help_on_every_command(command):
    short, long = _run(*command, "-h"), _run(*command, "--help")
    assert short.exit_code == 0, short.output
    assert short.stdout == long.stdout and "Usage:" in short.stdout
    # flags show no type, and a help paragraph is one wrapped paragraph, not the
    # docstring's own line breaks
    assert "<bool>" not in short.stdout
    for paragraph in short.stdout.split("\n\n")[1:2]:
        lines = [x for x in paragraph.splitlines() if x.strip()]
        assert all(len(x) <= 80 for x in lines), lines


@pytest.mark.parametrize(
    ("flags", "level"),
    [
        ([], logging.WARNING),
        (["-v"], logging.INFO),
        (["-vv"], logging.DEBUG),
        (["--verbose"], logging.INFO),
        (["-q"], logging.ERROR),
        (["--quiet"], logging.ERROR),
    ],
)
def test_verbose_and_quiet_set_the_log_level_for_the_run(monkeypatch, no_model, flags, level):
    import summarize.story.pipeline as pipeline

    logger = logging.getLogger("summarize")
    seen = []

    def story(articles, **kwargs):
        seen.append((logger.getEffectiveLevel(), len(logger.handlers)))
        return _fake_story(articles, **kwargs)

    monkeypatch.setattr(pipeline, "summarize_story", story)
    before = (logger.level, list(logger.handlers))
    result = _run(*flags, "story", FLOOD, "--format", "json")
    assert result.exit_code == 0, result.output
    assert seen == [(level, len(before[1]) + 1)]
    assert (logger.level, logger.handlers) == before  # put back when the command ends


def test_log_records_are_one_plain_line(monkeypatch):
    """Through the CLI's handler a log record is `level: message`, never read as markup."""
    buf = io.StringIO()
    monkeypatch.setattr(cli, "err_console", Console(file=buf, width=40, color_system=None))
    cli._LogHandler().handle(
        logging.LogRecord(
            "summarize", logging.WARNING, "x", 1, "odd [b]name[/b] %s", ("x" * 60,), None
        )
    )
    assert buf.getvalue() == f"warning: odd [b]name[/b] {'x' * 60}\n"


# ---------------------------------------------------------------- formats and ranges


def test_digest_format_error_lists_the_digest_formats(tmp_path):
    result = _run("digest", FLOOD, "--format", "md,pdf", "--out", tmp_path)
    assert result.exit_code == 2
    (line,) = _lines(result.stderr)
    assert line == "error: --format: unknown format 'pdf'; choose from md, json, html, txt, atom"
    assert not list(tmp_path.iterdir())


def test_digest_without_any_format_is_refused(tmp_path):
    result = _run("digest", FLOOD, "--format", " , ", "--out", tmp_path)
    assert result.exit_code == 2
    assert _lines(result.stderr) == [
        "error: --format: no format given; choose from md, json, html, txt, atom"
    ]


def test_story_format_error_lists_the_story_formats():
    result = _run("story", FLOOD, "--format", "pdf")
    assert result.exit_code == 2
    (line,) = _lines(result.stderr)
    assert line == "error: --format: unknown format 'pdf'; choose from text, markdown, json, html"


@pytest.mark.parametrize(
    ("flag", "value", "field"),
    [
        ("--threshold", "5", "digest.threshold"),
        ("--threshold", "-0.1", "digest.threshold"),
        ("--jobs", "0", "digest.jobs"),
        ("--jobs", "-3", "digest.jobs"),
    ],
)
def test_digest_ranges_are_checked(tmp_path, flag, value, field):
    result = _run("digest", FLOOD, flag, value, "--out", tmp_path)
    assert result.exit_code == 2
    (line,) = _lines(result.stderr)
    assert line.startswith(f"error: bad configuration: {field}: ")
    assert f"(got {float(value) if flag == '--threshold' else int(value)})" in line


@pytest.mark.parametrize(("option", "value"), [("jobs", 0), ("threshold", 1.5)])
def test_build_digest_checks_its_options_too(tmp_path, option, value):
    with pytest.raises(ConfigError, match=f"^bad configuration: {option}: "):
        build_digest([str(FLOOD)], summarize=_fake_story, cache_dir=tmp_path, **{option: value})


# ---------------------------------------------------------------- messages


def test_skipped_inputs_are_styled_not_printed_as_markup(tmp_path, no_model):
    (tmp_path / "empty.txt").write_text("")
    result = _run("story", FLOOD, tmp_path / "empty.txt", "--format", "json")
    assert result.exit_code == 0, result.output
    assert _lines(result.stderr) == [f"skipped {tmp_path / 'empty.txt'}: file is empty"]
    assert "[yellow]" not in result.output and "[/]" not in result.output


def test_a_bracketed_file_name_is_printed_as_it_is(tmp_path, no_model):
    odd = tmp_path / "[red]x.txt"
    odd.write_text("")
    result = _run("story", FLOOD, odd, "--format", "json")
    assert f"skipped {odd}: file is empty" in _lines(result.stderr)


def test_story_shows_a_spinner_while_it_waits(monkeypatch, no_model):
    import summarize.story.pipeline as pipeline

    def slow(articles, **kwargs):
        time.sleep(0.3)
        return _fake_story(articles, **kwargs)

    monkeypatch.setattr(pipeline, "summarize_story", slow)
    buf = io.StringIO()
    monkeypatch.setattr(cli, "err_console", Console(file=buf, force_terminal=True, width=100))
    result = _run("story", FLOOD, "--format", "json")
    assert result.exit_code == 0, result.output
    assert "summarizing 1 article: waiting for the model" in buf.getvalue()

    buf = io.StringIO()
    monkeypatch.setattr(cli, "err_console", Console(file=buf, force_terminal=True, width=100))
    result = _run("--quiet", "story", FLOOD, "--format", "json")
    assert result.exit_code == 0 and "waiting for the model" not in buf.getvalue()


def test_story_warns_when_the_articles_are_about_different_events(no_model):
    result = _run("story", FLOOD, MUSEUM, "--format", "json")
    assert result.exit_code == 0, result.output
    (line,) = _lines(result.stderr)
    assert line.startswith("warning: these articles seem to be about 2 different events (")
    assert "aldwen-courier-flood" in line and "harbour-herald-museum" in line


def test_story_on_one_event_has_no_warning(no_model):
    result = _run("story", *FARES, "--format", "json")
    assert result.exit_code == 0, result.output
    assert _lines(result.stderr) == []


# ---------------------------------------------------------------- digest counts and silence


def test_since_reports_every_article_read(tmp_path):
    digest = build_digest(
        [str(ARTICLES)],
        since="24h",
        now=datetime(2026, 11, 21, 23, 0, tzinfo=UTC),
        summarize=_fake_story,
        cache_dir=tmp_path,
    )
    kept = sum(len(s.articles) for s in digest.stories)
    assert digest.articles_read == 9 and kept < 9
    assert f"{kept} of 9 articles in the date window (since 24h)" in digest.notes

    from summarize.render import to_markdown

    assert "9 articles read" in to_markdown(digest)


def test_build_digest_prints_nothing_unless_asked(tmp_path, capfd):
    build_digest(
        [str(ARTICLES), str(tmp_path / "missing.txt")], summarize=_fake_story, cache_dir=tmp_path
    )
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")

    build_digest([str(FLOOD)], summarize=_fake_story, cache_dir=tmp_path, progress=True)
    assert "1 articles read" in capfd.readouterr().err


def test_a_failed_story_never_replaces_a_good_out_file(no_model, monkeypatch, tmp_path):
    import summarize.story.pipeline as pipeline

    good = tmp_path / "keep.json"
    result = _run("story", *FARES, "--format", "json", "--out", good)
    assert result.exit_code == 0 and good.exists()
    before = good.read_bytes()

    def failing(articles, **_):
        return Story(articles=list(articles), error="the model failed: connection refused")

    monkeypatch.setattr(pipeline, "summarize_story", failing)
    result = _run("story", *FARES, "--format", "json", "--out", good)
    assert result.exit_code == 1
    assert good.read_bytes() == before  # the good file is kept
    partial = tmp_path / "keep.partial.json"
    assert "connection refused" in partial.read_text()
    assert f"{good} kept as it was" in result.stderr
