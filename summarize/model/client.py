"""The language-model client: one `openai.OpenAI` with our own retries, fallbacks and cache.

Why not the openai client's own features: its retries are turned off (max_retries=0) so
tenacity is the one retry layer and every attempt is counted; its structured parsing
assumes OpenAI's strict json_schema, which many OpenAI-compatible servers lack, so we fall
back json_schema -> json_object -> plain text (remembered per client) and validate with
pydantic ourselves, re-asking once with the validation error (as instructor does).
Messages never contain the key; the key is only handed to the openai client.

An answer that fits the schema in no field (`{"foo": "bar"}` for a Draft) or a response
body that is not a chat completion is a failure, never an empty result: it is re-asked
(or retried), then a `ModelError`, and never cached. Calls made inside `time_budget(...)`
stop at its deadline (each attempt's timeout and each retry wait are cut to what is left),
and `cancel()` stops every new call and retry wait at once (Ctrl-C).
"""

from __future__ import annotations

import contextlib
import copy
import email.utils
import functools
import json
import logging
import math
import re
import threading
import time
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import json_repair
import openai
from pydantic import BaseModel, ValidationError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_any,
    wait_random_exponential,
)

from summarize.errors import ModelConfigError, ModelError
from summarize.model.cache import CACHE_VERSION, ResponseCache, cache_key, valid_entry
from summarize.models import ModelCall, Usage
from summarize.settings import Settings

log = logging.getLogger("summarize")

T = TypeVar("T", bound=BaseModel)
Message = dict[str, Any]
MODES = ("json_schema", "json_object", "text")
RETRY_BASE_WAIT_S = 0.5
_RETRYABLE = (
    openai.RateLimitError,
    openai.InternalServerError,
    openai.APITimeoutError,
    openai.APIConnectionError,
)
_FORMAT_WORDS = ("response_format", "json_schema", "json_object", "not supported", "unsupported")


class PromptTooLongError(ModelError):
    """The prompt does not fit the model's context window: trim the input and ask again."""


class CancelledError(ModelError):
    """The run was interrupted (`ModelClient.cancel()`): no new model calls are made."""


class TimeBudgetError(ModelError):
    """A story's or the digest's time budget was spent before the model answered."""


class _BadResponse(Exception):
    """A 200 response whose body is not a chat completion (malformed JSON, no choices)."""


@dataclass
class Budget:
    """A deadline for the model calls made inside `time_budget(...)`, and their failures."""

    what: str  # "story", "digest": named in the error message
    seconds: float
    deadline: float  # time.monotonic() value; math.inf: no limit
    failures: list[str] = field(default_factory=list)

    def left(self) -> float:
        return self.deadline - time.monotonic()


_BUDGETS: ContextVar[tuple[Budget, ...]] = ContextVar("summarize_budgets", default=())


@contextlib.contextmanager
def time_budget(
    seconds: float | None, what: str, *, deadline: float | None = None
) -> Iterator[Budget]:
    """Model calls made in this block (in this thread) end by `seconds` from now, or by
    `deadline` (a `time.monotonic()` value) when given; None: no limit, the block's
    failures are still recorded. Blocks nest: the earliest deadline applies."""
    if deadline is None:
        deadline = math.inf if seconds is None else time.monotonic() + seconds
    budget = Budget(what, math.inf if seconds is None else seconds, deadline)
    token = _BUDGETS.set((*_BUDGETS.get(), budget))
    try:
        yield budget
    finally:
        _BUDGETS.reset(token)


def _tightest() -> Budget | None:
    budgets = _BUDGETS.get()
    return min(budgets, key=lambda b: b.deadline) if budgets else None


@dataclass
class _CallState:
    """Running totals for one logical call (retries, fallbacks and re-ask included)."""

    attempts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    mode: str = ""
    max_tokens: int = 0
    finish_reason: str = ""
    timeout_s: float = 0.0  # of the last attempt (cut to the budget's time left)
    stopped_by: Budget | None = None  # the budget that left no time for another retry


class ModelClient:
    """Chat completions against one OpenAI-compatible endpoint; `calls` logs every call."""

    def __init__(
        self,
        settings: Settings,
        base_url: str | None = None,
        *,
        http_client=None,
        api_key: str | None = None,
        server: str | None = None,
    ):
        """`api_key` overrides the settings' key (the embedded server's key of this run);
        `server` names the server in cache keys (default: the base URL; the embedded
        server, on a new port each run, is named by its model file instead)."""
        self.settings = settings
        self.base_url = (base_url or settings.base_url or "").rstrip("/")
        if not self.base_url:
            raise ModelConfigError(
                "no model endpoint: set OPENAI_BASE_URL (or SUMMARIZE_BASE_URL), "
                "or leave both it and the API key unset to use the embedded model"
            )
        self.model = settings.model_name
        if not self.model:
            raise ModelConfigError(f"no model name for {self.host}: set SUMMARIZE_MODEL or --model")
        # The openai client insists on a key; local servers ignore it.
        self._secret = api_key or (
            settings.api_key.get_secret_value() if settings.api_key else None
        )
        key = self._secret or "local"
        self.server = server or self.base_url
        self._cancelled = threading.Event()
        self._openai = openai.OpenAI(
            base_url=self.base_url,
            api_key=key,
            timeout=settings.timeout_s,
            max_retries=0,
            http_client=http_client,
        )
        self.cache = ResponseCache(settings.cache_dir) if settings.use_cache else None
        self.calls: list[ModelCall] = []
        self.mode = "json_schema"  # the best structured-output mode this server accepted

    @property
    def host(self) -> str:
        """host[:port] of the endpoint, without any credentials in the URL."""
        parts = urlsplit(self.base_url)
        host = parts.hostname or self.base_url
        return f"{host}:{parts.port}" if parts.port else host

    def usage(self) -> Usage:
        total = Usage()
        for call in self.calls:
            total.add(call)
        return total

    def close(self) -> None:
        self._openai.close()

    def cancel(self) -> None:
        """Stop: every later call, attempt and retry wait raises `CancelledError` at once.
        A request already sent is abandoned by whoever waits for it (the digest)."""
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    # ---- public calls ----------------------------------------------------------------

    def text(
        self, messages: Sequence[Message], *, purpose: str, max_tokens: int | None = None
    ) -> tuple[str, ModelCall]:
        """Free text answer; `max_tokens` caps this call below the settings' cap."""
        messages = [dict(m) for m in messages]
        state = _CallState(max_tokens=self._cap(max_tokens))
        key = self._key(messages, "text", None, state.max_tokens)
        hit = self._cached(key, purpose)
        if hit is not None:
            return hit[0], hit[1]
        started = time.monotonic()
        try:
            content, state.finish_reason = self._complete(messages, None, state)
        except ModelError as exc:
            raise self._failed(exc, purpose, state, started) from exc.__cause__
        call = self._record(purpose, state, started)
        self._store(key, "text", content, state, call)
        return content, call

    def structured(
        self,
        messages: Sequence[Message],
        schema: type[T],
        *,
        purpose: str,
        max_tokens: int | None = None,
    ) -> tuple[T, ModelCall]:
        """An answer validated as `schema`; one re-ask with the validation error if invalid.

        An answer cut off at `max_tokens` is not re-asked: the same cap would cut it again.
        """
        messages = [dict(m) for m in messages]
        json_schema = schema.model_json_schema()
        state = _CallState(max_tokens=self._cap(max_tokens))
        key = self._key(messages, "structured", json_schema, state.max_tokens)
        hit = self._cached(key, purpose)
        if hit is not None:
            # Parsed exactly as the original answer was: with its finish reason.
            try:
                return parse_answer(hit[0], schema, hit[2]), hit[1]
            except (ValidationError, ValueError):  # the schema's code changed since
                self.calls.pop()
                log.warning("cached answer no longer fits %s; asking again", schema.__name__)
        started = time.monotonic()
        try:
            sent, content, finish = self._complete_structured(messages, schema, state)
            state.mode = self.mode
            try:
                result = parse_answer(content, schema, finish)
            except (ValidationError, ValueError) as exc:
                if finish == "length":
                    raise ModelError(
                        f"{self.model} at {self.host} ran out of tokens ({state.max_tokens}) "
                        f"before finishing its {schema.__name__} answer"
                    ) from None
                problem = describe_error(exc, schema)
                log.info(
                    "%s: invalid %s answer (%s); re-asking once", purpose, schema.__name__, problem
                )
                retry_msgs = [*sent, {"role": "assistant", "content": content}, _reask(problem)]
                content, finish = self._complete(retry_msgs, self._format(schema), state)
                try:
                    result = parse_answer(content, schema, finish)
                except (ValidationError, ValueError) as exc2:
                    raise ModelError(
                        f"{self.model} at {self.host} gave no valid {schema.__name__} "
                        f"after one re-ask: {describe_error(exc2, schema)}"
                    ) from None
        except ModelError as exc:
            raise self._failed(exc, purpose, state, started) from exc.__cause__
        state.finish_reason = finish
        call = self._record(purpose, state, started)
        self._store(key, "structured", content, state, call)
        return result, call

    # ---- structured output modes -----------------------------------------------------

    def _format(self, schema: type[BaseModel]) -> dict[str, Any] | None:
        if self.mode == "json_schema":
            return {
                "type": "json_schema",
                "json_schema": {
                    "name": re.sub(r"[^a-zA-Z0-9_-]", "_", schema.__name__)[:64],
                    "schema": strict_schema(schema.model_json_schema()),
                    "strict": True,
                },
            }
        if self.mode == "json_object":
            return {"type": "json_object"}
        return None

    def _complete_structured(
        self, messages: list[Message], schema: type[BaseModel], state: _CallState
    ) -> tuple[list[Message], str, str]:
        """Ask in the best mode the server takes; step down when it rejects the format."""
        while True:
            sent = messages if self.mode == "json_schema" else _with_schema_prompt(messages, schema)
            try:
                content, finish = self._complete(sent, self._format(schema), state)
                return sent, content, finish
            except ModelError as exc:
                cause = exc.__cause__
                if self.mode == "text" or not _rejects_format(cause):
                    raise
                old = self.mode
                self.mode = MODES[MODES.index(old) + 1]
                log.warning("%s rejected response_format %s; using %s", self.host, old, self.mode)

    # ---- one completion with retries ---------------------------------------------------

    def _complete(
        self, messages: list[Message], response_format: dict[str, Any] | None, state: _CallState
    ) -> tuple[str, str]:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": self.settings.temperature,
            "max_tokens": state.max_tokens,
        }
        if response_format is not None:
            kwargs["response_format"] = response_format

        def out_of_time(retry_state: RetryCallState) -> bool:
            """Cancelled, or the next wait would end past the budget."""
            if self._cancelled.is_set():
                return True
            budget = _tightest()
            if budget is not None and (retry_state.upcoming_sleep or 0.0) >= budget.left():
                state.stopped_by = budget
                return True
            return False

        retrying = Retrying(
            stop=stop_any(out_of_time, stop_after_attempt(self.settings.max_retries + 1)),
            wait=self._wait,
            retry=retry_if_exception(_retryable),
            before_sleep=self._log_retry,
            sleep=self._sleep,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    state.timeout_s = self._attempt_timeout(state)
                    state.attempts += 1
                    try:
                        response = self._openai.chat.completions.create(
                            **kwargs, timeout=state.timeout_s
                        )
                    except json.JSONDecodeError as exc:
                        raise _BadResponse(f"the body is not valid JSON ({exc})") from None
                    content, finish, usage = _read_choice(response)
        except (openai.OpenAIError, _BadResponse) as exc:
            if self._cancelled.is_set():
                raise CancelledError("interrupted: no new model calls") from exc
            if (budget := state.stopped_by) is not None:
                why = "was spent" if budget.left() <= 0 else "leaves no time to try again"
                raise TimeBudgetError(
                    f"the {budget.what}'s time budget of {budget.seconds:g} s {why} "
                    f"({self._explain(exc, state)})"
                ) from exc
            error = PromptTooLongError if _too_long(exc) else ModelError
            raise error(self._explain(exc, state)) from exc
        state.prompt_tokens += usage[0]
        state.completion_tokens += usage[1]
        return content, finish

    def _attempt_timeout(self, state: _CallState) -> float:
        """The next attempt's timeout: the setting, cut to the budget's time left.
        Raises when cancelled or when no time is left."""
        if self._cancelled.is_set():
            raise CancelledError("interrupted: no new model calls")
        timeout = self.settings.timeout_s
        budget = _tightest()
        if budget is not None:
            left = budget.left()
            if left <= 0:
                tries = f" after {state.attempts} attempt(s)" if state.attempts else ""
                raise TimeBudgetError(
                    f"the {budget.what}'s time budget of {budget.seconds:g} s was spent{tries}"
                )
            timeout = min(timeout, left)
        return timeout

    def _sleep(self, seconds: float) -> None:
        """A retry wait that ends at once on `cancel()`."""
        if self._cancelled.wait(seconds):
            raise CancelledError("interrupted: no new model calls")

    def _wait(self, retry_state: RetryCallState) -> float:
        """Server's Retry-After when given, else jittered exponential; capped either way."""
        cap = self.settings.retry_max_wait_s
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        hinted = retry_after_s(exc)
        if hinted is not None:
            return min(hinted, cap)
        return wait_random_exponential(multiplier=RETRY_BASE_WAIT_S, max=cap)(retry_state)

    def _log_retry(self, retry_state: RetryCallState) -> None:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        wait = retry_state.next_action.sleep if retry_state.next_action else 0.0
        log.warning(
            "%s: %s; retry %d/%d in %.1f s",
            self.host,
            _short(exc),
            retry_state.attempt_number,
            self.settings.max_retries,
            wait,
        )

    def _explain(self, exc: BaseException, state: _CallState) -> str:
        """A clear, key-free message for a failed request."""
        attempts = state.attempts
        tries = f"after {attempts} attempt{'s' if attempts != 1 else ''}"
        if isinstance(exc, _BadResponse):
            return f"{self.host} sent a malformed response for model {self.model} {tries}: {exc}"
        if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            # The server's own text may echo part of the key: never include it.
            return (
                f"the API key was rejected by {self.host} ({exc.status_code}): "
                "check OPENAI_API_KEY / SUMMARIZE_API_KEY"
            )
        if isinstance(exc, openai.RateLimitError):
            return f"{self.host} kept rate-limiting model {self.model} (429) {tries}"
        if isinstance(exc, openai.APIStatusError):
            detail = self._redact(_server_message(exc))
            hint = (
                " (check the model name and that the base URL ends in /v1)"
                if (exc.status_code == 404)
                else ""
            )
            what = "failed" if exc.status_code >= 500 else "rejected the request"
            return (
                f"{self.host} {what} for model {self.model} ({exc.status_code}) {tries}"
                f"{hint}: {detail}"
            )
        if isinstance(exc, openai.APITimeoutError):
            timeout = state.timeout_s or self.settings.timeout_s
            return f"no answer from {self.base_url} within {timeout:.3g} s {tries}"
        if isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__
            why = f" ({self._redact(str(cause))})" if cause and str(cause) else ""
            if not _retryable(exc):
                tries += " (nothing listens there: a refused connection is not retried)"
            return f"cannot reach the model server at {self.base_url}{why} {tries}"
        return f"request to {self.host} failed: {self._redact(str(exc))}"

    def _redact(self, text: str) -> str:
        return text.replace(self._secret, "**********") if self._secret else text

    # ---- cache and bookkeeping ---------------------------------------------------------

    def _cap(self, max_tokens: int | None) -> int:
        return min(max_tokens, self.settings.max_tokens) if max_tokens else self.settings.max_tokens

    def _key(
        self, messages: list[Message], kind: str, schema: dict[str, Any] | None, max_tokens: int
    ) -> str:
        return cache_key(
            server=self.server,
            model=self.model,
            messages=messages,
            kind=kind,
            schema=schema,
            temperature=self.settings.temperature,
            max_tokens=max_tokens,
        )

    def _cached(self, key: str, purpose: str) -> tuple[str, ModelCall, str] | None:
        """(content, call, finish reason) of a stored answer, or None. A hit costs no
        tokens; a stored mode below this client's is adopted, as the original call did."""
        if self.cache is None:
            return None
        started = time.monotonic()
        entry = self.cache.get(key)
        if not valid_entry(entry):
            return None
        mode = entry["mode"]
        if mode in MODES and MODES.index(mode) > MODES.index(self.mode):
            self.mode = mode
        call = ModelCall(
            purpose=purpose,
            model=self.model,
            latency_s=time.monotonic() - started,
            cached=True,
            attempts=0,
            mode=mode if mode in MODES else "",
        )
        self.calls.append(call)
        log.info("%s: cached answer (%s)", purpose, key[:12])
        return entry["content"], call, entry["finish_reason"]

    def _store(self, key: str, kind: str, content: str, state: _CallState, call: ModelCall) -> None:
        """Store what replays the answer exactly: content, finish reason, mode, usage."""
        if self.cache is not None:
            self.cache.put(
                key,
                {
                    "v": CACHE_VERSION,
                    "kind": kind,
                    "server": self.server,
                    "model": self.model,
                    "content": content,
                    "finish_reason": state.finish_reason,
                    "mode": call.mode,
                    "usage": {
                        "prompt_tokens": call.prompt_tokens,
                        "completion_tokens": call.completion_tokens,
                    },
                    "attempts": call.attempts,
                },
            )

    def _record(self, purpose: str, state: _CallState, started: float) -> ModelCall:
        call = ModelCall(
            purpose=purpose,
            model=self.model,
            prompt_tokens=state.prompt_tokens,
            completion_tokens=state.completion_tokens,
            latency_s=round(time.monotonic() - started, 4),
            attempts=state.attempts,
            mode=state.mode if state.mode in MODES else "",
        )
        self.calls.append(call)
        log.info(
            "%s: %s %s, %d+%d tokens, %.2f s, %d attempt(s)",
            purpose,
            self.model,
            call.mode or "free text",
            call.prompt_tokens,
            call.completion_tokens,
            call.latency_s,
            call.attempts,
        )
        return call

    def _failed(
        self, exc: ModelError, purpose: str, state: _CallState, started: float
    ) -> ModelError:
        call = self._record(purpose, state, started)
        log.info("%s: %s", purpose, exc)  # the caller reports it (once)
        if not isinstance(exc, CancelledError | PromptTooLongError):
            for budget in _BUDGETS.get():
                budget.failures.append(str(exc))
        return type(exc)(str(exc), call=call)


@contextlib.contextmanager
def open_client(settings: Settings | None = None) -> Iterator[ModelClient]:
    """A client for the configured endpoint, or for the embedded model started for the block."""
    settings = settings or Settings()
    if settings.uses_embedded_model:
        from summarize.model.local import local_server

        with local_server(settings) as url:
            client = ModelClient(settings, base_url=url, api_key=url.api_key, server=url.identity)
            try:
                yield client
            finally:
                client.close()
    else:
        client = ModelClient(settings)
        try:
            yield client
        finally:
            client.close()


# ---- helpers -----------------------------------------------------------------------------


def _retryable(exc: BaseException) -> bool:
    """Rate limits, 5xx, timeouts and dropped connections; not a refused connection."""
    if isinstance(exc, openai.APITimeoutError | _BadResponse):
        return True
    if isinstance(exc, openai.APIConnectionError):
        # Nothing listens there (or the name does not resolve): retrying only delays the news.
        return type(exc.__cause__).__name__ != "ConnectError"
    return isinstance(exc, _RETRYABLE)


def retry_after_s(exc: BaseException | None) -> float | None:
    """Seconds the server asked us to wait (`retry-after-ms` or `retry-after`), if any."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    with contextlib.suppress(TypeError, ValueError):
        if (ms := headers.get("retry-after-ms")) is not None:
            return max(0.0, float(ms) / 1000)
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    with contextlib.suppress(TypeError, ValueError):
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    return None


def _read_choice(response: Any) -> tuple[str, str, tuple[int, int]]:
    """(content, finish reason, (prompt, completion) tokens) of a chat completion;
    `_BadResponse` when the body is not one."""
    if isinstance(response, str | bytes):  # some servers answer 200 with a bare string
        raise _BadResponse("the body is not a chat completion")
    choices = getattr(response, "choices", None)
    if not choices:
        raise _BadResponse("the body has no choices")
    message = getattr(choices[0], "message", None)
    content = getattr(message, "content", None)
    if message is None or not isinstance(content, str | None):
        raise _BadResponse("the first choice has no message")
    usage = getattr(response, "usage", None)
    tokens = (
        (getattr(usage, "prompt_tokens", 0) or 0, getattr(usage, "completion_tokens", 0) or 0)
        if usage is not None
        else (0, 0)
    )
    return content or "", getattr(choices[0], "finish_reason", None) or "", tokens


def _rejects_format(exc: BaseException | None) -> bool:
    """A 400/422 (or 501) saying the server does not take this response_format."""
    if not isinstance(exc, openai.APIStatusError) or exc.status_code not in (400, 422, 501):
        return False
    text = (_server_message(exc) + " " + str(exc.param or "")).lower()
    return any(word in text for word in _FORMAT_WORDS)


def _too_long(exc: BaseException) -> bool:
    """llama.cpp: "exceeds the available context size"; OpenAI: context_length_exceeded."""
    if not isinstance(exc, openai.APIStatusError) or exc.status_code not in (400, 413):
        return False
    text = f"{_server_message(exc)} {exc.code or ''}".lower()
    return "context" in text and any(w in text for w in ("exceed", "too long", "maximum"))


def _server_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])[:500]
        if body.get("message"):
            return str(body["message"])[:500]
    return str(exc.message)[:500]


def _short(exc: BaseException | None) -> str:
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}"
    if isinstance(exc, _BadResponse):
        return "malformed response"
    return type(exc).__name__ if exc else "error"


def strict_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAI strict mode wants every object closed and every property required, no defaults."""
    schema = copy.deepcopy(schema)

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            node.pop("default", None)
            if node.get("type") == "object" and "properties" in node:
                node["additionalProperties"] = False
                node["required"] = list(node["properties"])
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(schema)
    return schema


def skeleton(node: Any, defs: dict[str, Any] | None = None, depth: int = 0) -> Any:
    """An example instance of a JSON schema: small models copy a shape better than a schema."""
    if not isinstance(node, dict) or depth > 8:
        return "..."
    defs = defs if defs is not None else node.get("$defs", {})
    if "$ref" in node:
        return skeleton(defs.get(node["$ref"].rsplit("/", 1)[-1], {}), defs, depth + 1)
    for key in ("anyOf", "oneOf", "allOf"):
        options = [o for o in node.get(key, []) if o.get("type") != "null"]
        if options:
            return skeleton(options[0], defs, depth + 1)
    if "enum" in node:
        return node["enum"][0]
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        props = node.get("properties", {})
        return {name: skeleton(sub, defs, depth + 1) for name, sub in props.items()}
    if kind == "array":
        return [skeleton(node.get("items", {}), defs, depth + 1)]
    return {"integer": 0, "number": 0.0, "boolean": False, "null": None}.get(kind, "...")


def _schema_instruction(schema: type[BaseModel]) -> str:
    """An example of the shape plus field notes, not the raw JSON schema: measured on
    SmolLM2-135M, a raw schema in the prompt gets copied back instead of filled in."""
    json_schema = schema.model_json_schema()
    notes = []
    for node in [json_schema, *json_schema.get("$defs", {}).values()]:
        for name, prop in node.get("properties", {}).items():
            bits = [prop["description"]] if prop.get("description") else []
            if prop.get("enum"):
                bits.append("one of " + ", ".join(json.dumps(v) for v in prop["enum"]))
            if bits:
                notes.append(f"- {name}: {'; '.join(bits)}")
    text = (
        "Reply with only one JSON object, no other text, shaped like this example "
        "(replace the placeholder values):\n"
        + json.dumps(skeleton(json_schema), ensure_ascii=False)
    )
    return text + ("\nFields:\n" + "\n".join(notes) if notes else "")


def _with_schema_prompt(messages: list[Message], schema: type[BaseModel]) -> list[Message]:
    """Describe the schema in the prompt (json_object and text modes). Joined to the last
    user message when it is plain text, so user/assistant turns keep alternating."""
    out = [dict(m) for m in messages]
    instruction = _schema_instruction(schema)
    if out and out[-1].get("role") == "user" and isinstance(out[-1].get("content"), str):
        out[-1]["content"] = f"{out[-1]['content']}\n\n{instruction}"
    else:
        out.append({"role": "user", "content": instruction})
    return out


def _reask(problem: str) -> Message:
    return {
        "role": "user",
        "content": (
            f"Your answer was not valid: {problem}\n"
            "Reply again with only the corrected JSON object."
        ),
    }


def first_json_object(text: str) -> Any:
    """The first JSON object in the text (models wrap JSON in prose or code fences)."""
    decoder = json.JSONDecoder()
    for match in re.finditer(r"\{", text):
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    raise ValueError("the answer contains no JSON object")


def parse_answer(content: str, schema: type[T], finish_reason: str = "") -> T:
    """Validate the answer's first JSON object as `schema`.

    An answer cut off at max_tokens is closed by json_repair rather than searched for
    an inner object: the complete items before the cut are kept (a small model often
    loops inside its last field), and a nested object is never taken for the answer.
    """
    if finish_reason == "length":
        start = content.find("{")
        data = json_repair.loads(content[start:]) if start >= 0 else None
        if not isinstance(data, dict) or not data:
            raise ValueError("the answer was cut off at max_tokens before its JSON began")
    else:
        data = first_json_object(content)
    fields = _fields(schema)
    if fields and not fields & set(data):
        got = ", ".join(repr(k) for k in list(data)[:5]) or "none"
        raise ValueError(
            f"the answer has none of the fields of {schema.__name__} "
            f"({', '.join(sorted(fields))}); its fields: {got}"
        )
    return schema.model_validate(data)


@functools.lru_cache(maxsize=256)
def _fields(schema: type[BaseModel]) -> frozenset[str]:
    """The top-level JSON names a schema knows (aliases included)."""
    return frozenset(schema.model_json_schema().get("properties", {}))


def describe_error(exc: BaseException, schema: type[BaseModel]) -> str:
    """A short validation message for the re-ask (pydantic's, without its URLs)."""
    if isinstance(exc, ValidationError):
        parts = [
            f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}"
            for err in exc.errors(include_url=False)
        ]
        return f"{len(parts)} validation error(s) for {schema.__name__}: " + "; ".join(parts)
    return str(exc)
