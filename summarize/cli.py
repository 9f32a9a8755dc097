"""The `summarize` command: a thin typer layer over the library.

Each command loads inputs, calls one library function, renders the result.
Exit status: 0 success, 1 the result has unsupported content (validate) or
failed stories (story/digest), 2 unusable input or configuration.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from summarize.models import InputProblem
from summarize.sources.ingest import load_articles

app = typer.Typer(
    help="Neutral combined news summaries; every sentence checked against its source span.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out_console = Console()
err_console = Console(stderr=True)

FORMATS = ("text", "markdown", "json", "html")
_EXTENSIONS = {"markdown": "md", "json": "json", "html": "html", "text": "txt"}


def _fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def _report_problems(problems: list[InputProblem]) -> None:
    for problem in problems:
        err_console.print(f"[yellow]skipped[/] {problem}", highlight=False, markup=False)


def _load(paths: list[Path]):
    articles, problems = load_articles(paths)
    _report_problems(problems)
    if not articles:
        raise _fail("no usable article in the inputs")
    return articles, problems


def _check_format(fmt: str) -> str:
    fmt = {"md": "markdown"}.get(fmt, fmt)
    if fmt not in FORMATS:
        raise _fail(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return fmt


def _emit(obj, fmt: str, out: Path | None) -> None:
    """Write `obj` to `out` in `fmt`, or show it on stdout."""
    from summarize.render import OutputError, to_html, to_markdown, to_terminal, write_output

    if out is not None:
        try:
            write_output(obj, out, fmt)
        except OutputError as exc:
            raise _fail(str(exc)) from exc
        err_console.print(f"wrote {out}", highlight=False)
    elif fmt == "text":
        to_terminal(obj, out_console)
    elif fmt == "json":
        sys.stdout.write(obj.model_dump_json(indent=2) + "\n")
    elif fmt == "markdown":
        sys.stdout.write(to_markdown(obj))
    else:
        sys.stdout.write(to_html(obj))


def _settings(**overrides):
    """Settings from flags > environment > config file > defaults."""
    from pydantic import ValidationError

    from summarize.settings import Settings

    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        raise _fail(f"bad configuration: {exc}") from exc


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
ScorerOpt = Annotated[str, typer.Option(help="Support scorer: rules, learned, nli or llm-judge.")]
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


def _validator(scorer: str, nli_model: Path | None, calibration: Path | None = None, **extra):
    """The Validator for `--scorer` (and `--nli-model`, `--calibration`); bad configuration
    exits with 2. `extra`: further scorer options (the model client of `_model_client`)."""
    from summarize.support.validator import Validator

    if nli_model is not None and scorer != "nli":
        raise _fail(f"--nli-model is for --scorer nli, not --scorer {scorer}")
    if calibration is not None and scorer != "learned":
        raise _fail(f"--calibration is for --scorer learned, not --scorer {scorer}")
    options = {"model_path": nli_model} if nli_model is not None else {}
    if calibration is not None:
        options["calibration"] = calibration
    options.update(extra)
    try:
        return Validator(scorer=scorer, **options)
    except (ValueError, RuntimeError) as exc:
        raise _fail(str(exc)) from exc


def _model_client(ctx: typer.Context, scorer: str, **overrides) -> dict:
    """`{"client": ...}` for a scorer that asks a model (llm-judge), else `{}`.

    The client is the one `summarize story` uses (flags > env > config file; the
    embedded model when none is configured), open until the command ends.
    """
    from summarize.model.client import ModelError, open_client
    from summarize.model.local import LocalModelError
    from summarize.support.scorers.base import needs_model

    if not needs_model(scorer):
        return {}
    settings = _settings(**overrides)
    try:
        return {"client": ctx.with_resource(open_client(settings))}
    except (ModelError, LocalModelError) as exc:
        raise _fail(str(exc)) from exc


@app.command()
def validate(
    ctx: typer.Context,
    sources: Annotated[list[Path], typer.Argument(help="Article files or folders.")],
    summary: Annotated[str, typer.Option("--summary", "-s", help="Summary file, or - for stdin.")],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="text, markdown, json or html.")
    ] = "text",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the report here.")] = None,
    scorer: ScorerOpt = "rules",
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
    client = _model_client(
        ctx,
        scorer,
        model=model,
        base_url=base_url,
        temperature=temperature,
        max_tokens=max_tokens,
        timeout_s=timeout,
        use_cache=False if no_cache else None,
    )
    validator = _validator(scorer, nli_model, calibration, **client)
    articles, problems = _load(sources)
    if summary == "-":
        summary_text = sys.stdin.read()
    else:
        try:
            summary_text = Path(summary).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise _fail(f"{summary}: cannot read summary ({exc})") from exc
    try:
        report = validator.validate(articles, summary_text)
    except ValueError as exc:
        raise _fail(f"{summary}: {exc}") from exc
    report.problems = problems
    _emit(report, fmt, out)
    raise typer.Exit(0 if report.all_supported else 1)


@app.command("eval")
def evaluate(
    file: Annotated[Path, typer.Argument(help="JSONL rows with sources and summary.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Predictions JSONL.")],
    scorer: ScorerOpt = "rules",
    limit: Annotated[int | None, typer.Option(help="Only the first N rows.")] = None,
    nli_model: NliModelOpt = None,
    calibration: CalibrationOpt = None,
) -> None:
    """Score factuality rows {"id","sources","summary"[,"label"]}; prints balanced accuracy."""
    from summarize.eval.evaluate import evaluate_file

    if not file.is_file():
        raise _fail(f"{file}: no such file")
    validator = _validator(scorer, nli_model, calibration)
    result = evaluate_file(file, out, scorer=scorer, limit=limit, validator=validator)
    for key, value in result.items():  # evaluate_file returns a plain dict of metrics
        out_console.print(f"{key}: {value}", highlight=False)


@app.command()
def calibrate(
    file: Annotated[Path, typer.Argument(help="JSONL rows with sources, summary and label.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Calibration file to write.")],
    limit: Annotated[int | None, typer.Option(help="Only the first N rows.")] = None,
) -> None:
    """Fit the learned scorer's decision layer on your labelled rows {"sources","summary","label"}.

    Use it with `--scorer learned --calibration FILE`; check it with `summarize eval` on
    other labelled rows (the accuracy printed here is measured on the fitting rows).
    """
    from summarize.eval.calibrate import CalibrationError, calibrate_file

    if not file.is_file():
        raise _fail(f"{file}: no such file")
    try:
        result = calibrate_file(file, out, limit=limit)
    except CalibrationError as exc:
        raise _fail(f"{file}: {exc}") from exc
    for problem in result.pop("problems"):
        err_console.print(f"{file}: {problem}", highlight=False)
    for key, value in result.items():
        out_console.print(f"{key}: {value}", highlight=False)
    out_console.print(f"wrote {out}", highlight=False)


@app.command()
def story(
    articles: Annotated[list[Path], typer.Argument(help="Article files about one event.")],
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
) -> None:
    """Write one neutral, validated summary of ARTICLES with every claim linked to its source."""
    from summarize.model.client import ModelError, open_client
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
    )
    try:
        with open_client(settings) as client:
            result = summarize_story(sources, settings=settings, client=client)
    except ModelError as exc:
        raise _fail(str(exc), 1) from exc
    _emit(result, fmt, out)
    if result.error:
        raise _fail(result.error, 1)


@app.command()
def digest(
    inputs: Annotated[list[str], typer.Argument(help="Folders, files, feeds (file or URL), URLs.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("digest"),
    fmt: Annotated[str, typer.Option("--format", "-f", help="Comma list of md,json,html.")] = (
        "md,json,html"
    ),
    date: Annotated[
        str | None, typer.Option(help="Only articles published that day (UTC).")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only articles newer than e.g. 24h, 2d.")
    ] = None,
    jobs: Annotated[int, typer.Option(help="Stories summarized at once.")] = 2,
    threshold: Annotated[float | None, typer.Option(help="Story clustering threshold.")] = None,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    temperature: TemperatureOpt = None,
    max_tokens: MaxTokensOpt = None,
    timeout: TimeoutOpt = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """Group the day's articles into stories and write a validated digest (Markdown, JSON, HTML)."""
    from summarize.digest.build import build_digest
    from summarize.render import OutputError, write_output

    formats = [_check_format(f.strip()) for f in fmt.split(",") if f.strip()]
    settings = _settings(
        model=model,
        base_url=base_url,
        temperature=temperature,
        max_tokens=max_tokens,
        timeout_s=timeout,
        use_cache=False if no_cache else None,
    )
    try:
        result = build_digest(
            inputs, date=date, since=since, settings=settings, jobs=jobs, threshold=threshold
        )
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    _report_problems(result.problems)
    for fmt_name in formats:
        path = out / f"digest.{_EXTENSIONS[fmt_name]}"
        try:
            write_output(result, path, fmt_name)
        except OutputError as exc:
            raise _fail(str(exc)) from exc
        err_console.print(f"wrote {path}", highlight=False)
    failed = [s for s in result.stories if s.error]
    if not result.stories:
        raise _fail("no story could be built from the inputs")
    raise typer.Exit(1 if failed and len(failed) == len(result.stories) else 0)
