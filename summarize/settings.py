"""Settings: the model client's, and the pipeline's knobs in groups, from flags, env,
a TOML config file and defaults.

Precedence, highest first: explicit arguments (CLI flags) > environment > config file
> defaults. The config file is `SUMMARIZE_CONFIG`, else `~/.config/summarize/config.toml`,
with the model fields as top-level keys and one table per group:

    model = "gpt-4o-mini"
    [story]
    max_sentences = 6
    [support]
    k = 12
    [digest]
    jobs = 4

In the environment a group field is `SUMMARIZE_<GROUP>__<FIELD>` (`SUMMARIZE_DIGEST__JOBS=4`).
No base URL and no key means the embedded model. A config file that cannot be read or
parsed, a `SUMMARIZE_CONFIG` naming no file, or a value out of range raises
`ConfigError`; an unknown key in the file is ignored with a `ConfigWarning` naming it.
"""

from __future__ import annotations

import difflib
import os
import tomllib
import warnings
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from summarize.errors import ConfigError

DEFAULT_CONFIG_FILE = Path("~/.config/summarize/config.toml")
# The embedded model used when nothing else is configured (summarize.model.local lists
# the others: `local_model`); chosen by measured quality and time on the story task.
LOCAL_MODEL_NAME = "qwen2.5-coder-0.5b-instruct"
# The context window assumed for a model other than the embedded one when
# `context_tokens` is not set: what current OpenAI-compatible models offer at least.
REMOTE_CONTEXT_TOKENS = 16384
# MiB of prompt states the embedded llama.cpp server keeps for reuse (its own default is
# 8192, which a long day fills): a digest never returns to an earlier story's prompt, so
# 1 GiB costs no speed and keeps the 1.5B server near 3 GB on a machine shared with others.
DEFAULT_CACHE_RAM_MIB = 1024


class ConfigWarning(UserWarning):
    """A config file key that is not a setting (a typo, or a setting from another version)."""


def config_file_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The TOML config file to read: explicit > $SUMMARIZE_CONFIG > the default path."""
    chosen = explicit or os.environ.get("SUMMARIZE_CONFIG") or DEFAULT_CONFIG_FILE
    return Path(chosen).expanduser()


def read_config_file(path: Path, *, named_by: str | None = None) -> dict[str, Any]:
    """The TOML table of `path`, unknown keys warned about (`ConfigWarning`).

    A missing file is an empty config, unless the user named it (`named_by`: where,
    e.g. "SUMMARIZE_CONFIG"); a file that cannot be read or parsed is a `ConfigError`
    naming it.
    """
    if not path.exists():
        if named_by:
            raise ConfigError(f"{path}: config file not found (named by {named_by})")
        return {}
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML in the config file ({exc})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: config file is not UTF-8 ({exc.reason})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror or exc})") from None
    for key, hint in unknown_keys(data, Settings):
        also = f"; did you mean {hint!r}?" if hint else ""
        warnings.warn(f"{path}: unknown key {key!r} ignored{also}", ConfigWarning, stacklevel=2)
    return data


def _names(model: type[BaseModel]) -> set[str]:
    """Field names, and the aliases the environment uses, of a settings model."""
    return {alias for name in model.model_fields for alias in _names_of(name, model)}


def _names_of(name: str, model: type[BaseModel] | None = None) -> set[str]:
    """A field's name and its aliases (`SUMMARIZE_API_KEY` for `api_key`)."""
    alias = (model or Settings).model_fields[name].validation_alias
    if isinstance(alias, AliasChoices):
        return {name} | {c for c in alias.choices if isinstance(c, str)}
    return {name, alias} if isinstance(alias, str) else {name}


def unknown_keys(
    data: dict[str, Any], model: type[BaseModel], prefix: str = ""
) -> list[tuple[str, str | None]]:
    """(dotted key, closest known key or None) for each key of `data` that `model`
    does not have, descending into the group tables."""
    known = _names(model)
    found: list[tuple[str, str | None]] = []
    for key, value in data.items():
        if key not in known:
            close = difflib.get_close_matches(key, sorted(model.model_fields), n=1)
            found.append((prefix + key, prefix + close[0] if close else None))
            continue
        group = model.model_fields[key].annotation if key in model.model_fields else None
        if isinstance(value, dict) and isinstance(group, type) and issubclass(group, BaseModel):
            found += unknown_keys(value, group, f"{prefix}{key}.")
    return found


def _one_line(exc: ValidationError) -> str:
    """A pydantic error as one line: `field: problem (got value)`, never the key's value."""
    field_of = {alias: name for name in Settings.model_fields for alias in _names_of(name)}
    parts = []
    for error in exc.errors():
        loc = [field_of.get(part, part) if i == 0 else part for i, part in enumerate(error["loc"])]
        where = ".".join(str(part) for part in loc) or "settings"
        got = ""
        secret = "api_key" in where.lower()
        if "input" in error and not secret and not isinstance(error["input"], dict):
            shown = repr(error["input"])
            got = f" (got {shown if len(shown) <= 40 else shown[:39] + '…'})"
        parts.append(f"{where}: {error['msg']}{got}")
    return "; ".join(parts)


class _Group(BaseModel):
    """A table of the config file. Unknown keys are ignored (the file reader warns)."""

    model_config = ConfigDict(extra="ignore", validate_default=True)

    def updated(self, **values: Any):
        """A copy with `values` (None: unchanged), checked as configured values are:
        one out of range raises ConfigError naming it (`jobs: ... (got 0)`)."""
        given = {key: value for key, value in values.items() if value is not None}
        if not given:
            return self
        try:
            return type(self).model_validate({**self.model_dump(), **given})
        except ValidationError as exc:
            raise ConfigError(f"bad configuration: {_one_line(exc)}") from None


class StorySettings(_Group):
    """`[story]`: drafting and repairing one story."""

    max_sentences: int = Field(8, ge=1, le=50, description="sentences a story states at most")
    words: int = Field(
        125, ge=20, le=1000, description="about how many words a story's brief runs to"
    )
    max_cites: int = Field(4, ge=1, le=20, description="source sentences one sentence may cite")
    max_repairs: int = Field(
        4, ge=0, description="repair calls per story: each costs the small model seconds"
    )
    time_budget_s: float = Field(
        600.0, gt=0, description="seconds of model calls one story may take, retries included"
    )


class SupportSettings(_Group):
    """`[support]`: how a sentence's support is decided (the `Validator`'s options)."""

    scorer: str = Field(
        "calibrated", min_length=1, description="calibrated, rules, learned, nli or llm-judge"
    )
    threshold: float | None = Field(
        None, ge=0.0, le=1.0, description="decision point; None: the scorer's calibrated one"
    )
    k: int = Field(8, ge=1, description="candidate passages retrieved per sentence")
    cascade: bool = Field(
        False,
        description="send uncertain sentences to the configured model's judge (calibrated scorer)",
    )


class DigestSettings(_Group):
    """`[digest]`: grouping articles into stories and summarizing them."""

    threshold: float = Field(
        0.56,
        ge=0.0,
        le=1.0,
        description="distance (1 - mean same-event probability) at which stories stop merging",
    )
    join_threshold: float = Field(
        0.72,
        ge=0.0,
        le=1.0,
        description="distance (1 - mean same-event probability) at which a story continues "
        "a remembered one (--state)",
    )
    jobs: int = Field(2, ge=1, description="stories summarized at once (1 for the embedded model)")
    time_budget_s: float = Field(
        3600.0, gt=0, description="seconds the whole digest may spend on model calls"
    )
    max_failures: int = Field(
        2,
        ge=1,
        description="stories the server may fail in a row before the rest are marked failed",
    )
    outlets_file: Path | None = Field(
        None, description="TOML or JSON file: outlet name -> labels (leaning, country, ...)"
    )
    sides: list[str] = Field(
        default_factory=lambda: ["leaning"],
        description="labels of the outlets file whose values are sides: a story covered "
        "by one value only is marked one-sided",
    )
    state_dir: Path | None = Field(
        None,
        description="folder remembering the stories written (--state); None: "
        "summarize/state in the user's data folder",
    )
    state_days: int = Field(
        14, ge=1, description="days a story is remembered after it was last written"
    )
    state_lock_wait_s: float = Field(
        60.0, ge=0, description="seconds to wait for a state folder another digest is using"
    )
    cluster: str | None = Field(
        None,
        description="Dask scheduler (tcp://host:8786) or local:N (N worker processes here) "
        "that summarizes the stories; None: this process. Needs summarize[cluster]",
    )


class Settings(BaseSettings):
    """The model client's settings (top-level keys) and the pipeline's groups (`story`,
    `support`, `digest`). The key is a SecretStr: repr/str show `**********`.
    Invalid values raise `ConfigError` (a ValueError) with a one-line message."""

    model_config = SettingsConfigDict(
        env_prefix="SUMMARIZE_",
        env_nested_delimiter="__",
        populate_by_name=True,
        extra="ignore",
        validate_default=True,
    )

    model: str | None = Field(None, description="model name sent in requests")
    # No bare field names among the env aliases: a stray $API_KEY or $BASE_URL must not count.
    base_url: str | None = Field(
        None, validation_alias=AliasChoices("SUMMARIZE_BASE_URL", "OPENAI_BASE_URL")
    )
    api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SUMMARIZE_API_KEY", "OPENAI_API_KEY")
    )
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    max_tokens: int = Field(1024, ge=1)
    timeout_s: float = Field(120.0, gt=0)
    max_retries: int = Field(3, ge=0, le=10)
    retry_max_wait_s: float = Field(30.0, ge=0)
    cache_dir: Path = Path("~/.cache/summarize")
    use_cache: bool = True
    local_model: str = Field(
        LOCAL_MODEL_NAME,
        min_length=1,
        description="the embedded model (summarize.model.local.EMBEDDED_MODELS)",
    )
    local_ctx: int = Field(8192, ge=512, le=8192, description="the embedded server's context")
    context_tokens: int | None = Field(
        None,
        ge=512,
        description="the configured model's context window; None: local_ctx for the embedded "
        f"model, {REMOTE_CONTEXT_TOKENS} for another",
    )
    # llama.cpp threads spin while they wait: on a small machine, leave a core to the rest
    # (measured on 2 cores under load: 31 tokens/s with 1 thread, about 1 with 2).
    local_threads: int = Field(default_factory=lambda: max(1, (os.cpu_count() or 2) // 2), ge=1)
    local_cache_ram_mib: int = Field(
        DEFAULT_CACHE_RAM_MIB,
        ge=-1,
        description="MiB of prompt states the embedded server keeps (0: none, -1: no limit)",
    )
    config_file: Path | None = Field(None, validation_alias=AliasChoices("SUMMARIZE_CONFIG"))
    nli_model: Path | None = Field(
        None, description="folder with model.onnx + tokenizer.json for the `nli` scorer"
    )
    story: StorySettings = Field(default_factory=StorySettings)
    support: SupportSettings = Field(default_factory=SupportSettings)
    digest: DigestSettings = Field(default_factory=DigestSettings)

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise ConfigError(f"bad configuration: {_one_line(exc)}") from None
        except SettingsError as exc:  # e.g. a group's environment variable that is not JSON
            raise ConfigError(f"bad configuration: {exc}") from None

    def model_post_init(self, __context: Any) -> None:
        self.cache_dir = self.cache_dir.expanduser()
        if self.nli_model is not None:
            self.nli_model = self.nli_model.expanduser()

    @property
    def uses_embedded_model(self) -> bool:
        """No endpoint and no key configured: serve the embedded model locally."""
        return self.base_url is None and self.api_key is None

    @property
    def model_name(self) -> str:
        """The model name for requests: the configured one, or the embedded model's."""
        if self.model:
            return self.model
        return self.local_model if self.uses_embedded_model else ""

    @property
    def context_window(self) -> int:
        """Tokens the configured model takes in one request (prompt and answer together).

        The embedded model's server holds `local_ctx`, so that caps it; another model
        has `context_tokens`, else `REMOTE_CONTEXT_TOKENS`.
        """
        if self.uses_embedded_model:
            return min(self.context_tokens or self.local_ctx, self.local_ctx)
        return self.context_tokens or REMOTE_CONTEXT_TOKENS

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        init_kwargs = getattr(init_settings, "init_kwargs", {})
        explicit = init_kwargs.get("SUMMARIZE_CONFIG") or init_kwargs.get("config_file")
        named_by = "config_file" if explicit else None
        if not explicit and os.environ.get("SUMMARIZE_CONFIG"):
            named_by = "SUMMARIZE_CONFIG"
        data = read_config_file(config_file_path(explicit), named_by=named_by)
        return (init_settings, env_settings, InitSettingsSource(settings_cls, data))
