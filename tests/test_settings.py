"""Settings groups, the config file's errors and warnings, the exception tree, and the
CLI's one mapping from error kind to exit status."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from summarize import errors
from summarize.cli import EXIT_CODES, app, exit_code
from summarize.errors import (
    CalibrationError,
    ConfigError,
    FetchError,
    InputError,
    ModelConfigError,
    ModelError,
    OutputError,
    SummarizeError,
)
from summarize.model.templates import CONTEXT_MARGIN, context_budget, estimate_tokens
from summarize.settings import (
    REMOTE_CONTEXT_TOKENS,
    ConfigWarning,
    DigestSettings,
    Settings,
    StorySettings,
    SupportSettings,
)

REPO = Path(__file__).resolve().parents[1]
ARTICLE = REPO / "examples" / "articles" / "kessary-klaxon-dam-gates.txt"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No SUMMARIZE_/OPENAI_ variable from the machine; no config file unless a test writes one."""
    for name in list(os.environ):
        if name.startswith(("SUMMARIZE_", "OPENAI_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # the default config path: absent
    monkeypatch.setenv("SUMMARIZE_CACHE_DIR", str(tmp_path / "cache"))
    return monkeypatch


def _config(env: pytest.MonkeyPatch, tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    env.setenv("SUMMARIZE_CONFIG", str(path))
    return path


# ---- groups --------------------------------------------------------------------------------


def test_group_defaults_are_the_former_constants(env) -> None:
    from summarize.digest import cluster
    from summarize.story import pipeline

    s = Settings()
    assert (s.story.max_sentences, s.story.max_cites, s.story.max_repairs) == (8, 4, 4)
    assert (s.support.scorer, s.support.threshold, s.support.k) == ("calibrated", None, 8)
    assert (s.digest.threshold, s.digest.jobs) == (0.56, 2)
    # the modules' names are the groups' defaults, not second copies
    assert StorySettings().max_sentences == pipeline.MAX_SENTENCES
    assert StorySettings().max_cites == pipeline.MAX_CITES
    assert StorySettings().max_repairs == pipeline.MAX_REPAIRS
    assert DigestSettings().threshold == cluster.THRESHOLD
    assert SupportSettings().k == 8


def test_groups_from_file_env_and_arguments(env, tmp_path: Path) -> None:
    _config(
        env,
        tmp_path,
        'model = "file-model"\n'
        "[story]\nmax_sentences = 5\nmax_repairs = 1\n"
        '[support]\nscorer = "learned"\nthreshold = 0.7\nk = 12\n'
        "[digest]\nthreshold = 0.5\njobs = 3\n",
    )
    s = Settings()
    assert s.model == "file-model"  # the top-level model keys work as before
    assert s.story == StorySettings(max_sentences=5, max_cites=4, max_repairs=1)
    assert s.support == SupportSettings(scorer="learned", threshold=0.7, k=12)
    assert s.digest == DigestSettings(threshold=0.5, jobs=3)
    env.setenv("SUMMARIZE_DIGEST__JOBS", "6")  # env > file, field by field
    s = Settings()
    assert s.digest == DigestSettings(threshold=0.5, jobs=6)
    s = Settings(digest={"jobs": 1}, story={"max_cites": 2})  # arguments > env > file
    assert s.digest == DigestSettings(threshold=0.5, jobs=1)
    assert s.story == StorySettings(max_sentences=5, max_cites=2, max_repairs=1)


def test_context_window_follows_the_configured_model(env) -> None:
    embedded = Settings(local_ctx=4096)
    assert embedded.uses_embedded_model and embedded.context_window == 4096
    # the embedded server holds local_ctx tokens: a larger context_tokens cannot widen it
    assert Settings(local_ctx=4096, context_tokens=32768).context_window == 4096
    assert Settings(local_ctx=4096, context_tokens=2048).context_window == 2048
    remote = Settings(base_url="http://127.0.0.1:9/v1", local_ctx=4096)
    assert not remote.uses_embedded_model
    assert remote.context_window == REMOTE_CONTEXT_TOKENS  # local_ctx is not the remote's
    assert Settings(base_url="http://x/v1", context_tokens=128000).context_window == 128000


def test_context_budget_lives_in_the_model_layer(env) -> None:
    from summarize.story import pipeline

    fixed = "x" * 700
    remote = Settings(base_url="http://x/v1", context_tokens=32768, max_tokens=1000)
    assert context_budget(remote, fixed) == 32768 - 1000 - estimate_tokens(fixed) - CONTEXT_MARGIN
    assert context_budget(None, fixed) == 8192 - 1024 - estimate_tokens(fixed) - CONTEXT_MARGIN
    assert context_budget(Settings(local_ctx=512), fixed * 10) == 256  # the floor
    assert pipeline.context_budget is context_budget  # one function, not a copy


def test_story_limits_come_from_settings(env) -> None:
    from summarize.story.pipeline import draft_schema

    schema = draft_schema(["A1", "A2"], 3, 2).model_json_schema()
    assert schema["properties"]["sentences"]["maxItems"] == 3
    sentence = next(iter(schema["$defs"].values()))
    assert sentence["properties"]["cites"]["maxItems"] == 2


def test_digest_jobs_and_threshold_from_settings(env, tmp_path: Path) -> None:
    from summarize.digest.build import build_digest
    from summarize.models import Story

    seen = []

    def summarize(articles, *, settings=None, client=None):
        seen.append(len(articles))
        return Story(articles=articles)

    def run(**digest) -> int:
        seen.clear()
        build_digest(
            [str(REPO / "examples" / "articles")],
            date="2026-11-21",
            settings=Settings(digest=digest),
            summarize=summarize,
            progress=False,
            cache_dir=tmp_path,
        )
        return len(seen)

    assert run() == 3  # the default threshold: the three fare articles are one story
    assert run(threshold=0.0, jobs=1) == 7  # nothing merges: one story per article


# ---- config file errors --------------------------------------------------------------------


def test_invalid_toml_names_the_file(env, tmp_path: Path) -> None:
    path = _config(env, tmp_path, 'model = "unterminated\n')
    with pytest.raises(ConfigError, match="invalid TOML") as err:
        Settings()
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_named_config_file_must_exist(env, tmp_path: Path) -> None:
    absent = tmp_path / "nowhere.toml"
    env.setenv("SUMMARIZE_CONFIG", str(absent))
    with pytest.raises(ConfigError, match="not found") as err:
        Settings()
    assert str(absent) in str(err.value) and "SUMMARIZE_CONFIG" in str(err.value)
    with pytest.raises(ConfigError, match="not found"):
        Settings(config_file=absent)
    env.delenv("SUMMARIZE_CONFIG")
    assert Settings().max_tokens == 1024  # the default path may be absent
    assert Settings(config_file=os.devnull).max_tokens == 1024  # no config file at all


def test_unknown_keys_are_warned_about_by_name(env, tmp_path: Path) -> None:
    path = _config(
        env, tmp_path, 'modle = "x"\nmax_tokens = 50\n[story]\nmax_sentence = 3\n[stroy]\nk = 1\n'
    )
    with pytest.warns(ConfigWarning) as caught:
        s = Settings()
    messages = [str(w.message) for w in caught]
    assert len(messages) == 3 and all(str(path) in m for m in messages)
    assert "unknown key 'modle' ignored; did you mean 'model'?" in messages[0]
    assert "'story.max_sentence' ignored; did you mean 'story.max_sentences'?" in messages[1]
    assert "'stroy' ignored; did you mean 'story'?" in messages[2]
    assert s.max_tokens == 50 and s.story == StorySettings()  # the known keys still count


def test_bad_values_are_one_line_config_errors_without_the_key(env, tmp_path: Path) -> None:
    _config(env, tmp_path, "temperature = 9\napi_key = 12345\n[digest]\njobs = 0\n")
    with pytest.raises(ConfigError) as err:
        Settings()
    message = str(err.value)
    assert isinstance(err.value, ValueError) and "\n" not in message
    assert "temperature" in message and "(got 9)" in message and "digest.jobs" in message
    assert "api_key" in message and "12345" not in message  # never the key's value
    env.delenv("SUMMARIZE_CONFIG")
    env.setenv("SUMMARIZE_STORY", "not json")
    with pytest.raises(ConfigError, match="story"):
        Settings()


# ---- the exception tree --------------------------------------------------------------------


def test_every_error_has_one_base_and_keeps_its_old_home() -> None:
    from summarize.eval.calibrate import CalibrationError as calibrate_home
    from summarize.model.client import ModelError as client_home
    from summarize.model.client import PromptTooLongError
    from summarize.model.local import LocalModelError
    from summarize.render import OutputError as render_home
    from summarize.sources.feeds import NotAFeed
    from summarize.sources.fetch import FetchError as fetch_home
    from summarize.sources.ingest import InputError as ingest_home
    from summarize.support.scorers.nli import NLIModelError

    assert (calibrate_home, client_home, render_home, fetch_home, ingest_home) == (
        CalibrationError,
        ModelError,
        OutputError,
        FetchError,
        InputError,
    )
    kinds = {
        InputError: (ValueError,),
        CalibrationError: (InputError,),
        NotAFeed: (InputError,),
        ConfigError: (ValueError,),
        NLIModelError: (ConfigError,),
        ModelError: (RuntimeError,),
        PromptTooLongError: (ModelError,),
        LocalModelError: (ModelError,),
        ModelConfigError: (ConfigError, ModelError),
        FetchError: (),
        OutputError: (),
    }
    for kind, bases in kinds.items():
        assert issubclass(kind, SummarizeError) and all(issubclass(kind, b) for b in bases)
    assert set(errors.__all__) <= {k.__name__ for k in kinds} | {"SummarizeError"}


def test_input_error_with_and_without_a_path() -> None:
    named = InputError(Path("a/b.txt"), "file is empty")
    assert str(named) == "a/b.txt: file is empty" and named.path == "a/b.txt"
    assert named.to_problem().problem == "file is empty"
    bare = InputError("no articles to validate against")
    assert str(bare) == bare.problem == "no articles to validate against" and bare.path == ""
    assert FetchError("http://x/", "HTTP 404").as_problem().path == "http://x/"


def test_exit_codes_by_kind() -> None:
    assert exit_code(InputError("x")) == 2
    assert exit_code(CalibrationError("x")) == 2
    assert exit_code(ConfigError("x")) == 2
    assert exit_code(ModelConfigError("x")) == 2  # not configured: configuration, not a failure
    assert exit_code(ModelError("x")) == 1
    assert exit_code(FetchError("http://x/", "gone")) == 2
    assert exit_code(OutputError("x")) == 2
    assert exit_code(SummarizeError("x")) == 2
    assert EXIT_CODES[-1] == (SummarizeError, 2)  # every kind has a status


# ---- the CLI -------------------------------------------------------------------------------


def _validate(tmp_path: Path):
    summary = tmp_path / "summary.txt"
    summary.write_text("The dam gates opened.\n", encoding="utf-8")
    args = ["validate", str(ARTICLE), "--summary", str(summary), "--format", "json"]
    return CliRunner().invoke(app, args)


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_cli_invalid_config_file_exits_2_with_one_line_naming_it(env, tmp_path: Path) -> None:
    path = _config(env, tmp_path, "[story\nmax_sentences = 3\n")
    result = _validate(tmp_path)
    assert result.exit_code == 2, result.output
    (line,) = _lines(result.stderr)
    assert line.startswith("error: ") and str(path) in line and "invalid TOML" in line


def test_cli_missing_config_file_exits_2(env, tmp_path: Path) -> None:
    env.setenv("SUMMARIZE_CONFIG", str(tmp_path / "nowhere.toml"))
    result = _validate(tmp_path)
    assert result.exit_code == 2
    (line,) = _lines(result.stderr)
    assert "nowhere.toml: config file not found" in line


def test_cli_unknown_key_is_a_warning_line(env, tmp_path: Path) -> None:
    _config(env, tmp_path, "[support]\nkk = 3\n")
    result = _validate(tmp_path)
    assert result.exit_code in (0, 1), result.output
    warnings = [line for line in _lines(result.stderr) if line.startswith("warning:")]
    assert warnings and "'support.kk' ignored; did you mean 'support.k'?" in warnings[0]


def test_cli_bad_group_flag_is_a_config_error(env, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["digest", str(ARTICLE), "--jobs", "0", "--out", "x"])
    assert result.exit_code == 2
    (line,) = _lines(result.stderr)
    assert line.startswith("error: bad configuration: digest.jobs")


def test_cli_model_failure_exits_1_and_no_model_name_exits_2(env, monkeypatch) -> None:
    from summarize.model import client

    @contextlib.contextmanager
    def failing(settings):
        raise ModelError("the model went away")
        yield

    args = ["story", str(ARTICLE), "--base-url", "http://127.0.0.1:9/v1"]
    result = CliRunner().invoke(app, args)  # no model name for a remote endpoint
    assert result.exit_code == 2, result.output
    assert _lines(result.stderr)[-1].startswith("error: no model name for 127.0.0.1:9")
    monkeypatch.setattr(client, "open_client", failing)
    result = CliRunner().invoke(app, [*args, "--model", "m"])
    assert result.exit_code == 1
    assert _lines(result.stderr)[-1] == "error: the model went away"


def test_cli_bad_input_exits_2_and_ctrl_c_130(env, monkeypatch, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", str(tmp_path / "rows.jsonl"), "--out", "p.jsonl"])
    assert result.exit_code == 2
    assert _lines(result.stderr) == [f"error: {tmp_path / 'rows.jsonl'}: no such file"]

    def interrupted(paths):
        raise KeyboardInterrupt

    monkeypatch.setattr("summarize.cli.load_articles", interrupted)
    result = _validate(tmp_path)
    assert result.exit_code == 130
    assert _lines(result.stderr) == ["interrupted"]
