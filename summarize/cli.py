"""The `summarize` command: a thin typer layer over the library.

Each command loads inputs, calls one library function, renders the result.
Exit status: 0 success, 1 the result has unsupported content (validate) or
failed stories (story/digest) or a failed model call, 2 unusable input or
configuration, 130 interrupted. Errors reach the status in one place: every
command runs under `_handled`, which maps `summarize.errors` kinds by `EXIT_CODES`.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from summarize.errors import (
    ConfigError,
    FetchError,
    InputError,
    ModelError,
    OutputError,
    SummarizeError,
)
from summarize.models import InputProblem
from summarize.settings import ConfigWarning
from summarize.sources.ingest import (
    decode_text,
    expand_directory,
    load_articles,
    normalise_text,
    read_text,
)

# The one mapping from error kind to exit status: the first kind that matches wins
# (ConfigError before ModelError: a model that is not configured is a configuration error).
EXIT_CODES: tuple[tuple[type[SummarizeError], int], ...] = (
    (ConfigError, 2),
    (InputError, 2),
    (FetchError, 2),
    (OutputError, 2),
    (ModelError, 1),
    (SummarizeError, 2),
)
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl-C
EXIT_TERMINATED = 143  # 128 + SIGTERM (systemd stop, docker stop, timeout)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be: one shutdown path for both signals."""


def _interrupt(signum: int) -> KeyboardInterrupt:
    """What a signal raises in the main thread: `Terminated` for SIGTERM."""
    return Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


class _Shutdown:
    """SIGINT and SIGTERM take one path. The first signal raises KeyboardInterrupt
    (`Terminated` for SIGTERM) in the main thread: no new model call starts, what is
    finished is written, marked incomplete. While the finished work is being written
    (`finishing()`), a first signal is only recorded, so the write completes. A second
    signal exits at once: every file is replaced atomically, so none is lost."""

    def __init__(self) -> None:
        self.received: list[int] = []
        self.deferring = False

    def exit_code(self) -> int:
        term = bool(self.received) and self.received[0] == signal.SIGTERM
        return EXIT_TERMINATED if term else EXIT_INTERRUPTED

    def handle(self, signum: int, frame: Any) -> None:
        if self.received:
            os._exit(EXIT_TERMINATED if signum == signal.SIGTERM else EXIT_INTERRUPTED)
        self.received.append(signum)
        if not self.deferring:
            raise _interrupt(signum)

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        self.received.clear()
        old = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
        for s in old:
            signal.signal(s, self.handle)
        try:
            yield
        finally:
            for s, handler in old.items():
                signal.signal(s, handler)

    @contextlib.contextmanager
    def finishing(self) -> Iterator[None]:
        """Write what is finished even if a (first) signal arrives meanwhile."""
        self.deferring = True
        try:
            yield
        finally:
            self.deferring = False

    def raise_deferred(self) -> None:
        """A signal that came while finished work was written: exit as it asked."""
        if self.received:
            raise _interrupt(self.received[0])


_shutdown = _Shutdown()


def exit_code(exc: SummarizeError) -> int:
    """The exit status for an error, by `EXIT_CODES`."""
    return next(code for kind, code in EXIT_CODES if isinstance(exc, kind))


class _App(typer.Typer):
    """A Typer whose every command runs under `_handled`."""

    def command(self, *args: Any, **kwargs: Any) -> Callable[[Callable], Callable]:
        register = super().command(*args, **kwargs)
        return lambda command: register(_handled(command))


app = _App(
    help="Neutral combined news summaries; every sentence checked against its source span.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},  # -h on every command
    add_completion=False,
    pretty_exceptions_enable=False,
    # click's plain help: paragraphs re-wrapped to the terminal, types as TEXT/PATH/INTEGER,
    # flags with no type (rich mode kept the docstrings' line breaks and showed "<bool>")
    rich_markup_mode=None,
)
out_console = Console()
err_console = Console(stderr=True)

FORMATS = ("text", "markdown", "json", "html")  # of story and validate
DIGEST_FORMATS = ("md", "json", "html", "txt", "atom")  # of digest: the files digest.EXT
_FORMAT_NAMES = {"md": "markdown", "txt": "text"}
_EXTENSIONS = {"markdown": "md", "json": "json", "html": "html", "text": "txt", "atom": "atom"}
_LABEL_STYLES = {"error:": "bold red", "warning:": "yellow", "skipped": "yellow"}


def _say(label: str, message: str) -> None:
    """One line on stderr: `label` (styled), then `message` as plain text: a message
    (a file name, a problem, an exception) is never read as rich markup."""
    line = Text.assemble((label, _LABEL_STYLES.get(label, "")), " ", message)
    err_console.print(line, highlight=False, soft_wrap=True)


def _fail(message: str, code: int = 2) -> typer.Exit:
    """Print `error: MESSAGE` on one line of stderr; the Exit to raise with `code`."""
    _say("error:", message)
    return typer.Exit(code)


# The app's own options of this invocation (set by `main`, the app callback).
_app_options: dict[str, Any] = {"quiet": False}


def _quiet() -> bool:
    """`summarize --quiet ...`: no progress display and no `wrote` lines."""
    return bool(_app_options["quiet"])


def _info(message: str) -> None:
    """A line about what was done (`wrote FILE`): not shown with --quiet."""
    if not _quiet():
        err_console.print(Text(message), highlight=False, soft_wrap=True)


@contextlib.contextmanager
def _status(message: str) -> Iterator[None]:
    """A spinner with `message` on stderr while the block runs (a terminal only; none
    with --quiet)."""
    if _quiet():
        yield
        return
    with err_console.status(Text(message)):
        yield


class _LogHandler(logging.Handler):
    """Log records of the `summarize` logger as one `level: message` line on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            _say(f"{record.levelname.lower()}:", record.getMessage())
        except Exception:
            self.handleError(record)


def _configure_logging(verbose: int, quiet: bool) -> Callable[[], None]:
    """The `summarize` logger's level for this run: error with --quiet, else warning,
    info (-v), debug (-vv), with one handler writing through `_say`. Returns what
    puts the logger back as it was (the command's end)."""
    logger = logging.getLogger("summarize")
    levels = (logging.WARNING, logging.INFO, logging.DEBUG)
    level, handler = logger.level, _LogHandler()
    logger.setLevel(logging.ERROR if quiet else levels[min(verbose, len(levels) - 1)])
    logger.addHandler(handler)

    def restore() -> None:
        logger.removeHandler(handler)
        logger.setLevel(level)

    return restore


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("summarize")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"summarize {_version()}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
    verbose: Annotated[
        int,
        typer.Option(
            "--verbose", "-v", count=True, help="More log lines on stderr: -v info, -vv debug."
        ),
    ] = 0,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            help="No progress display and no 'wrote' lines; log errors only. "
            "Warnings about inputs still show.",
        ),
    ] = False,
) -> None:
    """Neutral combined news summaries; every sentence checked against its source span."""
    _app_options["quiet"] = quiet
    ctx.call_on_close(_configure_logging(verbose, quiet))


def _handled(command: Callable) -> Callable:
    """`command` with the one error mapping: a SummarizeError becomes `error: MESSAGE`
    and its EXIT_CODES status, Ctrl-C status 130; a ConfigWarning (an unknown key in
    the config file) becomes a `warning:` line. Anything else is a bug: a traceback."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        with warnings.catch_warnings():
            show = warnings.showwarning

            def show_config_warnings(message, category, *rest, **options):
                if issubclass(category, ConfigWarning):
                    _say("warning:", str(message))
                else:
                    show(message, category, *rest, **options)

            warnings.showwarning = show_config_warnings
            try:
                with _shutdown.installed():
                    result = command(*args, **kwargs)
                    _shutdown.raise_deferred()  # a signal while finished work was written
                    return result
            except SummarizeError as exc:
                raise _fail(str(exc), exit_code(exc)) from exc
            except KeyboardInterrupt as exc:
                code = EXIT_TERMINATED if isinstance(exc, Terminated) else _shutdown.exit_code()
                what = " (SIGTERM)" if code == EXIT_TERMINATED else ""
                err_console.print(f"interrupted{what}", highlight=False)
                raise typer.Exit(code) from None

    return run


def _report_problems(problems: list[InputProblem]) -> None:
    for problem in problems:
        _say("skipped", str(problem))


def _read_summary(summary: str) -> str:
    """The summary's text, decoded as an article file is (`sources.ingest`): UTF-8,
    UTF-16 with a BOM, or Latin-1/cp1252; `-` reads stdin. InputError naming it."""
    if summary != "-":
        return read_text(summary)
    stdin = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else None
    data = stdin.read() if stdin is not None else sys.stdin.read().encode("utf-8")
    return normalise_text(decode_text("<stdin>", data))


def _refuse_self_support(summary: str, sources: list[Path]) -> None:
    """InputError when the summary file is also one of the sources (given, or in a
    given folder): it would support every one of its own sentences."""
    if summary == "-":
        return
    target = Path(summary).resolve()
    for given in sources:
        files = expand_directory(given) if given.is_dir() else [given]
        if any(f.resolve() == target for f in files):
            raise InputError(
                summary,
                f"the summary is also a source ({given}): it would support itself; "
                "give the sources without it",
            )


def _load(paths: list[Path]):
    articles, problems = load_articles(paths)
    _report_problems(problems)
    if not articles:
        raise InputError("no usable article in the inputs")
    return articles, problems


def _check_format(fmt: str, choices: tuple[str, ...] = FORMATS) -> str:
    """The format's name (markdown, json, html, text) if it is one of `choices` (or an
    alias of one: md, txt); else ConfigError listing `choices`."""
    name = _FORMAT_NAMES.get(fmt.strip().lower(), fmt.strip().lower())
    if name not in {_FORMAT_NAMES.get(c, c) for c in choices}:
        raise ConfigError(f"--format: unknown format {fmt!r}; choose from {', '.join(choices)}")
    return name


def _emit(obj, fmt: str, out: Path | None) -> None:
    """Write `obj` to `out` in `fmt`, or show it on stdout."""
    from summarize.render import to_html, to_markdown, to_terminal, write_output

    if out is not None:
        write_output(obj, out, fmt)
        _info(f"wrote {out}")
    elif fmt == "text":
        to_terminal(obj, out_console)
    elif fmt == "json":
        sys.stdout.write(obj.model_dump_json(indent=2) + "\n")
    elif fmt == "markdown":
        sys.stdout.write(to_markdown(obj))
    else:
        sys.stdout.write(to_html(obj))


def _settings(**overrides):
    """Settings from flags > environment > config file > defaults; a group's flags come
    as a dict (`digest={"jobs": 4}`). Flags not given are None. Bad: ConfigError."""
    from summarize.settings import Settings

    given = {}
    for key, value in overrides.items():
        if isinstance(value, dict):
            value = {k: v for k, v in value.items() if v is not None} or None
        if value is not None:
            given[key] = value
    return Settings(**given)


ModelOpt = Annotated[
    str | None,
    typer.Option("--model", help="Model name (env SUMMARIZE_MODEL).", show_default=False),
]
BaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--base-url", help="OpenAI-compatible endpoint (env OPENAI_BASE_URL).", show_default=False
    ),
]
TemperatureOpt = Annotated[float | None, typer.Option(help="Sampling temperature.")]
MaxTokensOpt = Annotated[int | None, typer.Option(help="Cap on tokens the model may write.")]
TimeoutOpt = Annotated[float | None, typer.Option("--timeout", help="Seconds per model request.")]
NoCacheOpt = Annotated[
    bool, typer.Option("--no-cache", help="Ask the model again, ignoring the cache.")
]
ScorerOpt = Annotated[
    str | None,
    typer.Option(
        help="Support scorer: calibrated (default), rules, learned, nli or llm-judge.",
        show_default=False,
    ),
]
NliModelOpt = Annotated[
    Path | None,
    typer.Option(
        "--nli-model",
        help="For --scorer nli: folder with model.onnx + tokenizer.json (env SUMMARIZE_NLI_MODEL).",
        show_default=False,
    ),
]
CalibrationOpt = Annotated[
    Path | None,
    typer.Option(
        "--calibration",
        help="For --scorer learned: a layer fitted by `summarize calibrate` on your labelled rows.",
        show_default=False,
    ),
]


def _validator(
    settings, scorer: str, nli_model: Path | None, calibration: Path | None = None, **extra
):
    """The Validator for `--scorer` (and `--nli-model`, `--calibration`), with the
    threshold and k of `settings.support`. `extra`: further scorer options (the model
    client of `_model_client`). Bad options: ConfigError."""
    from summarize.support.validator import Validator

    if nli_model is not None and scorer != "nli":
        raise ConfigError(f"--nli-model is for --scorer nli, not --scorer {scorer}")
    if calibration is not None and scorer != "learned":
        raise ConfigError(f"--calibration is for --scorer learned, not --scorer {scorer}")
    options = {"model_path": nli_model} if nli_model is not None else {}
    if calibration is not None:
        options["calibration"] = calibration
    options.update(extra)
    support = settings.support
    try:
        return Validator(scorer=scorer, threshold=support.threshold, k=support.k, **options)
    except SummarizeError:
        raise
    except (ValueError, RuntimeError) as exc:  # a scorer that does not raise summarize.errors
        raise ConfigError(str(exc)) from exc


def _model_client(ctx: typer.Context, scorer: str, settings) -> dict:
    """`{"client": ...}` for a scorer that asks a model (llm-judge), else `{}`.

    The client is the one `summarize story` uses (flags > env > config file; the
    embedded model when none is configured), open until the command ends.
    """
    from summarize.model.client import open_client
    from summarize.support.scorers.base import needs_model

    if not needs_model(scorer):
        return {}
    return {"client": ctx.with_resource(open_client(settings))}


@app.command()
def validate(
    ctx: typer.Context,
    sources: Annotated[
        list[Path], typer.Argument(help="Article files or folders.", metavar="PATH")
    ],
    summary: Annotated[str, typer.Option("--summary", "-s", help="Summary file, or - for stdin.")],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="text, markdown, json or html.")
    ] = "text",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the report here.")] = None,
    scorer: ScorerOpt = None,
    nli_model: NliModelOpt = None,
    calibration: CalibrationOpt = None,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    temperature: TemperatureOpt = None,
    max_tokens: MaxTokensOpt = None,
    timeout: TimeoutOpt = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """Check each sentence of SUMMARY against SOURCES and show the supporting spans.

    --scorer llm-judge asks the model `summarize story` uses (same options and env).
    """
    fmt = _check_format(fmt)
    settings = _settings(
        model=model,
        base_url=base_url,
        temperature=temperature,
        max_tokens=max_tokens,
        timeout_s=timeout,
        use_cache=False if no_cache else None,
    )
    scorer = scorer or settings.support.scorer
    client = _model_client(ctx, scorer, settings)
    validator = _validator(settings, scorer, nli_model, calibration, **client)
    _refuse_self_support(summary, sources)
    summary_text = _read_summary(summary)
    articles, problems = _load(sources)
    try:
        report = validator.validate(articles, summary_text)
    except InputError as exc:  # say which summary
        raise InputError(summary, exc.problem) from exc
    report.problems = problems
    _emit(report, fmt, out)
    raise typer.Exit(0 if report.all_supported else 1)


@app.command("eval")
def evaluate(
    file: Annotated[
        Path, typer.Argument(help="JSONL rows with sources and summary.", metavar="FILE")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Predictions JSONL.")],
    scorer: ScorerOpt = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N rows.")] = None,
    nli_model: NliModelOpt = None,
    calibration: CalibrationOpt = None,
) -> None:
    """Score factuality rows {"id","sources","summary"[,"label"]}; prints balanced accuracy."""
    from summarize.eval.evaluate import evaluate_file

    if not file.is_file():
        raise InputError(file, "no such file")
    settings = _settings()
    scorer = scorer or settings.support.scorer
    validator = _validator(settings, scorer, nli_model, calibration)
    result = evaluate_file(file, out, scorer=scorer, limit=limit, validator=validator)
    for key, value in result.items():  # evaluate_file returns a plain dict of metrics
        out_console.print(f"{key}: {value}", highlight=False)


@app.command()
def calibrate(
    file: Annotated[
        Path, typer.Argument(help="JSONL rows with sources, summary and label.", metavar="FILE")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Calibration file to write.")],
    limit: Annotated[int | None, typer.Option(help="Only the first N rows.")] = None,
) -> None:
    """Fit the learned scorer's decision layer on your labelled rows {"sources","summary","label"}.

    Use it with `--scorer learned --calibration FILE`; check it with `summarize eval` on
    other labelled rows (the accuracy printed here is measured on the fitting rows).
    """
    from summarize.eval.calibrate import calibrate_file

    if not file.is_file():
        raise InputError(file, "no such file")
    result = calibrate_file(file, out, limit=limit)  # a CalibrationError names the file
    for problem in result.pop("problems"):
        _say("skipped", f"{file}: {problem}")
    for key, value in result.items():
        out_console.print(f"{key}: {value}", highlight=False)
    _info(f"wrote {out}")


@app.command()
def story(
    articles: Annotated[
        list[Path], typer.Argument(help="Article files about one event.", metavar="PATH")
    ],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the story here.")] = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="text, markdown, json or html.")
    ] = "text",
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    temperature: TemperatureOpt = None,
    max_tokens: MaxTokensOpt = None,
    timeout: TimeoutOpt = None,
    no_cache: NoCacheOpt = False,
    outlets: Annotated[
        Path | None,
        typer.Option(
            "--outlets",
            help="TOML/JSON file: outlet -> labels; adds how each side's coverage differs "
            "(default: digest.outlets_file).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write one neutral, validated summary of ARTICLES with every claim linked to its source."""
    from summarize.digest.coverage import labelled, load_outlets, side_labels
    from summarize.model.client import open_client
    from summarize.story.pipeline import summarize_story

    fmt = _check_format(fmt)
    sources, _ = _load(articles)
    settings = _settings(
        model=model,
        base_url=base_url,
        temperature=temperature,
        max_tokens=max_tokens,
        timeout_s=timeout,
        use_cache=False if no_cache else None,
        digest={"outlets_file": outlets},
    )
    known = load_outlets(settings.digest.outlets_file, settings.digest.sides)  # ConfigError
    sources = [labelled(a, known) for a in sources]
    sides = side_labels(known, list(settings.digest.sides)) or None
    waiting = f"summarizing {len(sources)} article{'s' if len(sources) != 1 else ''}"
    with (
        _status(f"{waiting}: waiting for the model…"),
        open_client(settings) as client,
        warnings.catch_warnings(),  # the story's warnings are said once, below
    ):
        warnings.simplefilter("ignore", UserWarning)
        result = summarize_story(sources, settings=settings, client=client, sides=sides)
    for warning in result.warnings:
        _say("warning:", warning)
    if result.error and out is not None and out.exists():
        # a failed story never replaces a good file: what was done goes beside it
        partial = out.with_name(f"{out.stem}.partial{out.suffix}")
        _emit(result, fmt, partial)
        _say("warning:", f"{out} kept as it was; the failed story's partial result: {partial}")
    else:
        _emit(result, fmt, out)
    if result.error:
        raise _fail(result.error, 1)


@app.command()
def digest(
    inputs: Annotated[
        list[str],
        typer.Argument(help="Folders, files, feeds (file or URL), URLs.", metavar="INPUT"),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("digest"),
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="Comma list of md,json,html,txt,atom.")
    ] = "md,json,html",
    date: Annotated[
        str | None, typer.Option(help="Only articles published that day (UTC).")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only articles newer than e.g. 24h, 2d.")
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            help="Stories summarized at once (default: digest.jobs, 2).", show_default=False
        ),
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option(
            help="Story clustering distance (default: digest.threshold, 0.56).",
            show_default=False,
        ),
    ] = None,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    temperature: TemperatureOpt = None,
    max_tokens: MaxTokensOpt = None,
    timeout: TimeoutOpt = None,
    no_cache: NoCacheOpt = False,
    allow_empty: Annotated[
        bool,
        typer.Option(
            "--allow-empty",
            help="Write the digest even when it has no story (else: exit 2, files kept).",
        ),
    ] = False,
    outlets: Annotated[
        Path | None,
        typer.Option(
            "--outlets",
            help="TOML/JSON file: outlet -> labels (leaning, country...) "
            "(default: digest.outlets_file).",
            show_default=False,
        ),
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option(
            "--state",
            help="Folder remembering the stories written, for new/update/unchanged "
            "(default: digest.state_dir, else summarize/state in the user's data folder).",
            show_default=False,
        ),
    ] = None,
    no_state: Annotated[
        bool, typer.Option("--no-state", help="Remember nothing: no story status.")
    ] = False,
    cluster: Annotated[
        str | None,
        typer.Option(
            "--cluster",
            help="Summarize the stories on a Dask cluster: its scheduler (tcp://host:8786) "
            "or local:N worker processes (default: digest.cluster; needs summarize[cluster]).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Group the day's articles into stories and write a validated digest (Markdown, JSON,
    HTML, Atom).

    Stories continuing ones written before are marked `update` (new sentences first) or
    `unchanged`; the others `new` (see --state). Ctrl-C writes the stories finished so far
    (the digest marked incomplete) and exits 130; run it again to finish: answers already
    given come from the cache.
    """
    from summarize.digest.build import DigestInterrupted, build_digest
    from summarize.digest.state import default_state_dir

    formats = [_check_format(f, DIGEST_FORMATS) for f in fmt.split(",") if f.strip()]
    if not formats:
        raise ConfigError(f"--format: no format given; choose from {', '.join(DIGEST_FORMATS)}")
    settings = _settings(
        model=model,
        base_url=base_url,
        temperature=temperature,
        max_tokens=max_tokens,
        timeout_s=timeout,
        use_cache=False if no_cache else None,
        digest={
            "jobs": jobs,
            "threshold": threshold,
            "outlets_file": outlets,
            "state_dir": state,
            "cluster": cluster,
        },
    )
    if no_state and state is not None:
        raise ConfigError("give --state or --no-state, not both")
    state_dir = None if no_state else (settings.digest.state_dir or default_state_dir())
    try:
        result = build_digest(
            inputs,
            date=date,
            since=since,
            settings=settings,
            progress=not _quiet(),
            state_dir=state_dir,
        )
    except DigestInterrupted as stop:  # first signal: keep what is finished, then exit 130/143
        _report_problems(stop.digest.problems)
        if stop.digest.stories:
            with _shutdown.finishing():
                where = _write_digest(stop.digest, out, formats, partial=True)
            err_console.print(
                f"interrupted: {len(stop.digest.stories)} finished stories written to "
                f"{where} (marked incomplete); run again to finish from the cache",
                highlight=False,
            )
        raise
    _report_problems(result.problems)
    if not result.stories and not allow_empty:
        why = next((n for n in result.notes if n.startswith("no articles")), "")
        raise InputError(
            f"{why or 'no readable article in the inputs'}: nothing written, the files in "
            f"{out} are kept (--allow-empty writes an empty digest)"
        )
    with _shutdown.finishing():
        _write_digest(result, out, formats)
    _shutdown.raise_deferred()  # the digest is whole; the status still says it was stopped
    failed = [s for s in result.stories if s.error]
    if failed and len(failed) == len(result.stories):
        first = (failed[0].error or "").splitlines()[0]
        raise _fail(f"every story failed ({len(failed)}); the first: {first}", 1)
    raise typer.Exit(0)


def _write_digest(result, out: Path, formats: list[str], partial: bool = False) -> str:
    """digest.md / .json / .html / .txt / .atom in `out`, each replaced atomically (never
    half-written). A `partial` (interrupted) digest never replaces a complete one: it goes
    beside it, as digest.partial.EXT, so a feed reader keeps every entry; a complete
    digest removes the partial files it supersedes. Returns where it wrote."""
    from summarize.render import write_output

    stem = "digest.partial" if partial and _complete_digest_in(out) else "digest"
    for fmt_name in formats:
        path = out / f"{stem}.{_EXTENSIONS[fmt_name]}"
        write_output(result, path, fmt_name)
        _info(f"wrote {path}")
    if stem == "digest" and not partial:
        for stale in out.glob("digest.partial.*"):
            stale.unlink(missing_ok=True)
    return str(out / f"{stem}.*")


def _complete_digest_in(out: Path) -> bool:
    """`out` holds a digest that was not interrupted: its JSON says so, or, without a JSON
    to ask, any digest file is taken for a complete one (never overwritten by a part)."""
    import json

    try:
        previous = json.loads((out / "digest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return any(out.glob("digest.*")) and not all(
            p.name.startswith("digest.partial.") for p in out.glob("digest.*")
        )
    except (OSError, ValueError):
        return True
    return not (isinstance(previous, dict) and previous.get("incomplete") is True)
