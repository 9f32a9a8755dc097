"""Settings for the model client, from flags, env, a TOML config file and defaults.

Precedence, highest first: explicit arguments (CLI flags) > environment > config file
> defaults. The config file is `SUMMARIZE_CONFIG`, else `~/.config/summarize/config.toml`,
with the field names as top-level keys. No base URL and no key means the embedded model.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_CONFIG_FILE = Path("~/.config/summarize/config.toml")
LOCAL_MODEL_NAME = "smollm2-135m-instruct"


def config_file_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The TOML config file to read: explicit > $SUMMARIZE_CONFIG > the default path."""
    chosen = explicit or os.environ.get("SUMMARIZE_CONFIG") or DEFAULT_CONFIG_FILE
    return Path(chosen).expanduser()


class Settings(BaseSettings):
    """Everything the model client needs. The key is a SecretStr: repr/str show `**********`."""

    model_config = SettingsConfigDict(
        env_prefix="SUMMARIZE_",
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
    local_ctx: int = Field(8192, ge=512, le=8192, description="SmolLM2-135M was trained on 8192")
    # llama.cpp threads spin while they wait: on a small machine, leave a core to the rest
    # (measured on 2 cores under load: 31 tokens/s with 1 thread, about 1 with 2).
    local_threads: int = Field(default_factory=lambda: max(1, (os.cpu_count() or 2) // 2), ge=1)
    config_file: Path | None = Field(None, validation_alias=AliasChoices("SUMMARIZE_CONFIG"))
    nli_model: Path | None = Field(
        None, description="folder with model.onnx + tokenizer.json for the `nli` scorer"
    )

    def model_post_init(self, __context: Any) -> None:
        self.cache_dir = self.cache_dir.expanduser()
        if self.nli_model is not None:
            self.nli_model = self.nli_model.expanduser()

    @property
    def uses_embedded_model(self) -> bool:
        """No endpoint and no key configured: serve the packaged SmolLM2 locally."""
        return self.base_url is None and self.api_key is None

    @property
    def model_name(self) -> str:
        """The model name for requests: the configured one, or the embedded model's."""
        if self.model:
            return self.model
        return LOCAL_MODEL_NAME if self.uses_embedded_model else ""

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
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config_file_path(explicit))
        return (init_settings, env_settings, toml)
