"""The package's exceptions: one base, one class per kind of failure.

Every error raised on purpose derives from `SummarizeError`, and its `str()` is a
one-line message a reader can act on (never a key). The CLI turns the kind into an
exit status in one place (`summarize.cli.EXIT_CODES`):

    SummarizeError
    ├── InputError (also a ValueError)      unusable input: a file, a record, a summary
    │   └── CalibrationError                 labelled rows that cannot fit or check a scorer
    ├── ConfigError (also a ValueError)     bad settings, config file, flags or model folder
    ├── ModelError (also a RuntimeError)    the model gave no usable answer
    │   └── ModelConfigError (also a ConfigError)  no endpoint or no model name configured
    ├── FetchError                          a URL that could not be fetched or used
    └── OutputError                         an output file that could not be written

Subclasses that live next to their code: `model.client.PromptTooLongError`,
`model.client.CancelledError`, `model.client.TimeBudgetError` and
`model.local.LocalModelError` (ModelError), `sources.feeds.NotAFeed` (InputError),
`support.scorers.nli.NLIModelError` (ConfigError).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from summarize.models import ModelCall


class SummarizeError(Exception):
    """Base of every error this package raises on purpose."""


class InputError(SummarizeError, ValueError):
    """An input that cannot be used.

    `InputError(path, problem)` names the input: `str()` is "PATH: problem", with
    `.path` and `.problem` kept; `InputError(message)` is a message alone (`.path` "").
    """

    def __init__(self, where: str | os.PathLike[str], problem: str | None = None) -> None:
        if problem is None:
            self.path, self.problem = "", str(where)
            super().__init__(self.problem)
        else:
            self.path, self.problem = str(where), problem
            super().__init__(f"{self.path}: {problem}")

    def to_problem(self):
        """The `InputProblem` a run reports instead of stopping."""
        from summarize.models import InputProblem

        return InputProblem(path=self.path, problem=self.problem)


class CalibrationError(InputError):
    """Labelled rows that cannot fit a layer (too few, one class only), or a calibration
    file that cannot be used; the message says why."""


class ConfigError(SummarizeError, ValueError):
    """Settings that cannot be used: a config file, an environment variable, a flag, a
    model folder. The message names the file or setting."""


class ModelError(SummarizeError, RuntimeError):
    """The model could not give a usable answer. The message is safe to show: never a key.

    `call` carries the usage of the failed call when requests were made.
    """

    def __init__(self, message: str, *, call: ModelCall | None = None):
        super().__init__(message)
        self.call = call


class ModelConfigError(ConfigError, ModelError):
    """The model settings name no usable model (no endpoint, no model name): a
    configuration error found by the model layer, so also a ModelError."""


class FetchError(SummarizeError):
    """A URL that could not be fetched or used; `problem` is the reader-facing reason."""

    def __init__(self, url: str, problem: str):
        super().__init__(f"{url}: {problem}")
        self.url = url
        self.problem = problem

    def as_problem(self):
        """The `InputProblem` a run reports instead of stopping."""
        from summarize.models import InputProblem

        return InputProblem(path=self.url, problem=self.problem)


class OutputError(SummarizeError):
    """The output file could not be written; the message names the path and the OS error."""


__all__ = [
    "CalibrationError",
    "ConfigError",
    "FetchError",
    "InputError",
    "ModelConfigError",
    "ModelError",
    "OutputError",
    "SummarizeError",
]
