"""ModelClient against recorded HTTP (cassettes/llm/, re-record with scripts/record_cassettes.sh).

The cassettes hold real answers of the embedded SmolLM2-135M server, and real 429/500/401/400
responses from scripts/fault_proxy.py in front of it.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import httpx2
import openai
import pytest
from pydantic import BaseModel, Field, ValidationError, field_validator

from summarize.model.client import (
    ModelClient,
    ModelError,
    PromptTooLongError,
    _too_long,
    first_json_object,
    open_client,
    parse_answer,
    retry_after_s,
    skeleton,
    strict_schema,
)
from summarize.settings import LOCAL_MODEL_NAME, Settings
from tests.llm_support import (
    RECORDING,
    TEST_API_KEY,
    TEST_BASE_URL,
    TEST_MODEL,
    llm_test_settings,
)

REPO = Path(__file__).resolve().parents[1]
CAPITAL_PROMPT = [{"role": "user", "content": "What is the capital of France?"}]


class Capital(BaseModel):
    country: str
    capital: str


class Greeting(BaseModel):
    greeting: str


class ShoutedCity(BaseModel):
    """Grammar-constrained output always fits the JSON schema; this validator is outside it."""

    city: str

    @field_validator("city")
    @classmethod
    def _shouted(cls, value: str) -> str:
        if value != value.upper():
            raise ValueError("city must be written in capital letters only, like LONDON")
        return value


def _bodies(cassette) -> list[dict]:
    return [json.loads(r.body) for r in cassette.requests]


def _status_codes(cassette) -> list[int]:
    return [r["status"]["code"] for r in cassette.responses]


# ---- recorded calls ----------------------------------------------------------------------


@pytest.mark.vcr
def test_structured_output_parses_into_schema(recorded_client: ModelClient, vcr) -> None:
    result, call = recorded_client.structured(CAPITAL_PROMPT, Capital, purpose="capital")
    assert isinstance(result, Capital)
    assert "paris" in result.capital.lower()
    assert call.mode == "json_schema" and call.attempts == 1 and not call.cached
    assert call.model == TEST_MODEL and call.purpose == "capital"
    assert call.prompt_tokens > 0 and call.completion_tokens > 0
    assert recorded_client.calls == [call]
    (body,) = _bodies(vcr)
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "Capital"
    assert fmt["json_schema"]["schema"]["additionalProperties"] is False
    assert body["temperature"] == 0 and body["max_tokens"] == 64


@pytest.mark.vcr
def test_free_text(recorded_client: ModelClient) -> None:
    text, call = recorded_client.text(
        [{"role": "user", "content": "Say hello in five words."}], purpose="hello"
    )
    assert text.strip()
    assert call.mode == "" and call.completion_tokens > 0
    assert recorded_client.usage().calls == 1


@pytest.mark.vcr
def test_retries_after_recorded_429_then_500(make_recorded_client, vcr, caplog) -> None:
    client = make_recorded_client(faults="429,500")
    with caplog.at_level(logging.WARNING, logger="summarize"):
        result, call = client.structured(CAPITAL_PROMPT, Capital, purpose="capital")
    assert isinstance(result, Capital)
    assert call.attempts == 3
    assert _status_codes(vcr) == [429, 500, 200]
    assert {k.lower(): v for k, v in vcr.responses[0]["headers"].items()}["retry-after"] == ["1"]
    retries = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert len(retries) == 2 and "HTTP 429" in retries[0] and "HTTP 500" in retries[1]
    if not RECORDING:
        assert vcr.play_count == 3


@pytest.mark.vcr
def test_retries_are_bounded(make_recorded_client, vcr) -> None:
    client = make_recorded_client(faults="500,500,500", max_retries=2)
    with pytest.raises(ModelError) as info:
        client.text([{"role": "user", "content": "Hi"}], purpose="bounded")
    message = str(info.value)
    assert "(500)" in message and "after 3 attempts" in message
    assert "127.0.0.1:8766" in message and TEST_MODEL in message
    assert info.value.call is not None and info.value.call.attempts == 3
    assert client.calls == [info.value.call]
    assert _status_codes(vcr) == [500, 500, 500]


@pytest.mark.vcr
def test_invalid_answer_is_reasked_once_with_the_error(recorded_client: ModelClient, vcr) -> None:
    prompt = [{"role": "user", "content": "Name the capital of France in one word."}]
    try:
        result, call = recorded_client.structured(prompt, ShoutedCity, purpose="city")
    except ModelError as exc:  # the tiny model may fail twice: then it says so, once re-asked
        assert "after one re-ask" in str(exc) and "capital letters" in str(exc)
        call = exc.call
    else:
        assert result.city == result.city.upper()
    assert call is not None and call.attempts == 2
    first, second = _bodies(vcr)
    assert len(second["messages"]) == len(first["messages"]) + 2
    assert second["messages"][-2]["role"] == "assistant"
    reask = second["messages"][-1]
    assert reask["role"] == "user"
    assert "not valid" in reask["content"]
    assert "city must be written in capital letters only" in reask["content"]
    assert "errors.pydantic.dev" not in reask["content"]


@pytest.mark.vcr
def test_falls_back_to_json_object_when_json_schema_is_rejected(make_recorded_client, vcr) -> None:
    client = make_recorded_client(reject_format="json_schema")
    prompt = [{"role": "user", "content": "Greet me."}]
    result, call = client.structured(prompt, Greeting, purpose="greet")
    assert isinstance(result, Greeting) and result.greeting
    assert call.mode == "json_object" and client.mode == "json_object"
    bodies = _bodies(vcr)
    assert [b["response_format"]["type"] for b in bodies[:2]] == ["json_schema", "json_object"]
    assert _status_codes(vcr)[0] == 400
    assert '{"greeting": "..."}' in bodies[1]["messages"][-1]["content"]
    # The client remembers: the next call asks in json_object mode straight away.
    client.structured([{"role": "user", "content": "Greet me again."}], Greeting, purpose="g2")
    assert _bodies(vcr)[-1]["response_format"]["type"] == "json_object"


@pytest.mark.vcr
def test_falls_back_to_plain_text_when_no_format_is_accepted(make_recorded_client, vcr) -> None:
    client = make_recorded_client(reject_format="any")
    prompt = [{"role": "user", "content": "Greet me."}]
    result, call = client.structured(prompt, Greeting, purpose="greet")
    assert isinstance(result, Greeting)
    assert call.mode == "text" and client.mode == "text"
    bodies = _bodies(vcr)
    assert [b.get("response_format", {}).get("type") for b in bodies[:3]] == [
        "json_schema",
        "json_object",
        None,
    ]
    assert _status_codes(vcr)[:2] == [400, 400]


@pytest.mark.vcr
def test_cache_hit_makes_no_request(recorded_client: ModelClient, vcr, tmp_path: Path) -> None:
    first, call1 = recorded_client.structured(CAPITAL_PROMPT, Capital, purpose="capital")
    second, call2 = recorded_client.structured(CAPITAL_PROMPT, Capital, purpose="capital")
    assert second == first
    assert not call1.cached and call2.cached and call2.attempts == 0
    assert call2.prompt_tokens == 0  # usage counts only tokens actually spent
    assert len(vcr.requests) == 1
    if not RECORDING:
        assert vcr.play_count == 1
    # Another client on the same cache directory hits it too, with no request.
    other = ModelClient(llm_test_settings(tmp_path / "cache"))
    third, call3 = other.structured(CAPITAL_PROMPT, Capital, purpose="capital")
    assert third == first and call3.cached
    assert len(vcr.requests) == 1
    files = list((tmp_path / "cache").rglob("*.json"))
    assert len(files) == 1 and not any(p.name.startswith(".tmp") for p in files)


@pytest.mark.vcr
def test_no_cache_setting_always_asks(make_recorded_client, vcr, tmp_path: Path) -> None:
    client = make_recorded_client(use_cache=False)
    client.text([{"role": "user", "content": "Hi"}], purpose="a")
    client.text([{"role": "user", "content": "Hi"}], purpose="b")
    assert [c.cached for c in client.calls] == [False, False]
    assert not (tmp_path / "cache").exists()


@pytest.mark.vcr
def test_rejected_key_gives_clear_message_without_the_key(
    make_recorded_client, vcr, caplog
) -> None:
    wrong_key = "sk-wrong-0123456789-abcdef"
    client = make_recorded_client(require_key=True, api_key=wrong_key)
    with caplog.at_level(logging.DEBUG), pytest.raises(ModelError) as info:
        client.structured(CAPITAL_PROMPT, Capital, purpose="capital")
    message = str(info.value)
    assert message.startswith("the API key was rejected by 127.0.0.1:8766 (401)")
    assert info.value.call.attempts == 1  # no retries
    assert _status_codes(vcr) == [401]
    for text in (message, caplog.text):
        assert wrong_key not in text and TEST_API_KEY not in text


# ---- failures without a server ------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_base_url_fails_fast_with_the_url(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_free_port()}/v1"
    client = ModelClient(llm_test_settings(tmp_path, base_url=url, retry_max_wait_s=5.0))
    started = time.monotonic()
    with pytest.raises(ModelError) as info:
        client.text([{"role": "user", "content": "Hi"}], purpose="x")
    assert time.monotonic() - started < 5  # no retry wait (5 s) was spent
    assert f"cannot reach the model server at {url}" in str(info.value)
    assert info.value.call.attempts == 1  # a refused connection is not retried
    assert "after 1 attempt (nothing listens there: a refused connection is not retried)" in str(
        info.value
    )


def test_timeouts_are_retried_then_reported(tmp_path: Path) -> None:
    """A server that accepts and never answers: each attempt times out."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    threading.Thread(
        target=lambda: [accepted.append(listener.accept()[0]) for _ in range(2)], daemon=True
    ).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    client = ModelClient(llm_test_settings(tmp_path, base_url=url, timeout_s=0.3, max_retries=1))
    try:
        with pytest.raises(ModelError) as info:
            client.text([{"role": "user", "content": "Hi"}], purpose="x")
    finally:
        listener.close()
        for conn in accepted:
            conn.close()
    assert f"no answer from {url} within 0.3 s after 2 attempts" == str(info.value)


def test_missing_model_name_for_a_remote_endpoint(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="SUMMARIZE_MODEL"):
        ModelClient(llm_test_settings(tmp_path, model=None))


def test_open_client_uses_the_configured_endpoint(tmp_path: Path) -> None:
    settings = llm_test_settings(tmp_path)
    assert not settings.uses_embedded_model
    with open_client(settings) as client:
        assert client.base_url == TEST_BASE_URL and client.model == TEST_MODEL


# ---- retry waits and parsing --------------------------------------------------------------


def _rate_limited(headers: dict[str, str]) -> openai.RateLimitError:
    request = httpx2.Request("POST", TEST_BASE_URL + "/chat/completions")
    response = httpx2.Response(429, headers=headers, request=request)
    return openai.RateLimitError("slow down", response=response, body=None)


def test_retry_after_headers_are_honoured_and_capped(tmp_path: Path) -> None:
    assert retry_after_s(_rate_limited({"retry-after-ms": "250"})) == 0.25
    assert retry_after_s(_rate_limited({"retry-after": "7"})) == 7.0
    date = _rate_limited({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert retry_after_s(date) == 0.0  # a date in the past: no wait
    assert retry_after_s(_rate_limited({})) is None
    client = ModelClient(llm_test_settings(tmp_path, retry_max_wait_s=5.0))

    def state(exc: BaseException, attempt: int = 1) -> SimpleNamespace:
        outcome = SimpleNamespace(exception=lambda: exc)
        return SimpleNamespace(outcome=outcome, attempt_number=attempt)

    assert client._wait(state(_rate_limited({"retry-after": "2"}))) == 2.0
    assert client._wait(state(_rate_limited({"retry-after": "60"}))) == 5.0  # capped
    waits = [client._wait(state(_rate_limited({}), attempt=6)) for _ in range(20)]
    assert all(0 <= w <= 5.0 for w in waits) and len(set(waits)) > 1  # jittered


def test_first_json_object_and_truncation() -> None:
    assert first_json_object('Sure! ```json\n{"a": {"b": 1}}\n``` done') == {"a": {"b": 1}}
    assert first_json_object('{broken {"ok": true}') == {"ok": True}
    # A cut-off answer is closed, not searched for an inner object: what was complete
    # is kept, what is missing still fails validation.
    with pytest.raises(ValidationError, match="capital"):
        parse_answer('{"country": "Fra', Capital, "length")
    cut = parse_answer(
        '{"country": "France", "capital": "Paris", "note": "Paris is Paris is', Capital, "length"
    )
    assert (cut.country, cut.capital) == ("France", "Paris")
    with pytest.raises(ValueError, match="cut off at max_tokens"):
        parse_answer("Let me think about this", Capital, "length")
    with pytest.raises(ValueError, match="no JSON object"):
        parse_answer("no json here", Capital)


def _bad_request(message: str, code: str | None = None) -> openai.BadRequestError:
    request = httpx2.Request("POST", TEST_BASE_URL + "/chat/completions")
    response = httpx2.Response(400, request=request)
    body = {"message": message, "code": code, "type": "invalid_request_error"}
    return openai.BadRequestError(message, response=response, body=body)


def test_prompt_too_long_is_recognised() -> None:
    llama = (
        "request (1221 tokens) exceeds the available context size (1024 tokens), try increasing it"
    )
    assert _too_long(_bad_request(llama))
    openai_msg = (
        "This model's maximum context length is 128000 tokens. However, you requested 130000"
    )
    assert _too_long(_bad_request(openai_msg, "context_length_exceeded"))
    assert not _too_long(_bad_request('response_format type must be one of "text"'))
    assert issubclass(PromptTooLongError, ModelError)


def test_skeleton_gives_an_example_shape() -> None:
    class Item(BaseModel):
        kind: str = Field(json_schema_extra={"enum": ["a", "b"]})
        n: int

    class Draft(BaseModel):
        items: list[Item]
        title: str | None = None
        ok: bool

    assert skeleton(Draft.model_json_schema()) == {
        "items": [{"kind": "a", "n": 0}],
        "title": "...",
        "ok": False,
    }


def test_strict_schema_closes_every_object() -> None:
    class Inner(BaseModel):
        x: int = 3

    class Outer(BaseModel):
        inner: Inner
        note: str = ""

    schema = strict_schema(Outer.model_json_schema())
    assert schema["additionalProperties"] is False and schema["required"] == ["inner", "note"]
    inner = schema["$defs"]["Inner"]
    assert inner["additionalProperties"] is False and inner["required"] == ["x"]
    assert "default" not in json.dumps(schema)


# ---- settings ------------------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    import os

    for name in list(os.environ):
        if name.startswith(("SUMMARIZE_", "OPENAI_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SUMMARIZE_CONFIG", os.devnull)  # no config file
    return monkeypatch


def test_settings_precedence(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        'model = "file-model"\nbase_url = "http://file.example/v1"\n'
        "temperature = 0.5\nmax_retries = 7\nmax_tokens = 11\n"
    )
    clean_env.setenv("SUMMARIZE_CONFIG", str(config))
    clean_env.setenv("SUMMARIZE_MODEL", "env-model")
    clean_env.setenv("SUMMARIZE_MAX_RETRIES", "5")
    s = Settings(max_retries=1)
    assert s.max_retries == 1  # explicit > env > file
    assert s.model == "env-model"  # env > file
    assert s.temperature == 0.5 and s.max_tokens == 11  # file > default
    assert s.base_url == "http://file.example/v1"
    assert s.timeout_s == 120.0  # default
    assert Settings(config_file=os.devnull).max_tokens == 1024  # explicit file


def test_settings_env_names_and_embedded_default(clean_env: pytest.MonkeyPatch) -> None:
    s = Settings()
    assert s.uses_embedded_model and s.model_name == LOCAL_MODEL_NAME
    assert s.temperature == 0 and s.local_ctx == 8192
    assert s.local_threads == max(1, (os.cpu_count() or 2) // 2)  # a core left to the rest
    assert s.cache_dir == Path("~/.cache/summarize").expanduser()
    clean_env.setenv("OPENAI_BASE_URL", "http://openai-env/v1")
    clean_env.setenv("SUMMARIZE_BASE_URL", "http://summarize-env/v1")
    clean_env.setenv("OPENAI_API_KEY", "sk-openai-env-secret")
    clean_env.setenv("API_KEY", "sk-stray")  # an unprefixed variable must not count
    s = Settings()
    assert s.base_url == "http://summarize-env/v1"  # the specific name wins
    assert s.api_key is not None and s.api_key.get_secret_value() == "sk-openai-env-secret"
    assert not s.uses_embedded_model
    clean_env.delenv("OPENAI_BASE_URL")
    clean_env.delenv("SUMMARIZE_BASE_URL")
    assert not Settings().uses_embedded_model  # a key alone means a remote server
    clean_env.setenv("SUMMARIZE_NO_SUCH_SETTING", "1")  # unknown names are ignored
    assert Settings(use_cache=False).use_cache is False


# ---- the key never leaks -------------------------------------------------------------------


def test_key_not_in_settings_repr(tmp_path: Path) -> None:
    s = llm_test_settings(tmp_path)
    for text in (repr(s), str(s), s.model_dump_json(), f"{s.api_key}", repr(s.api_key)):
        assert TEST_API_KEY not in text


@pytest.mark.vcr
def test_key_not_in_logs_or_cache(recorded_client: ModelClient, tmp_path: Path, caplog) -> None:
    with caplog.at_level(logging.DEBUG):
        recorded_client.structured(CAPITAL_PROMPT, Capital, purpose="capital")
        recorded_client.structured(CAPITAL_PROMPT, Capital, purpose="capital")
    assert caplog.records  # something was logged, and none of it is the key
    assert TEST_API_KEY not in caplog.text
    assert "authorization" not in caplog.text.lower()
    files = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert TEST_API_KEY not in path.read_text()


def test_no_key_or_authorization_header_in_any_cassette() -> None:
    import os

    secrets = [TEST_API_KEY, "sk-wrong-0123456789-abcdef"]
    secrets += [os.environ[v] for v in ("OPENAI_API_KEY", "SUMMARIZE_API_KEY") if os.environ.get(v)]
    cassettes = [p for p in (REPO / "cassettes").rglob("*") if p.is_file()]
    assert cassettes or RECORDING
    for path in cassettes:
        text = path.read_text(errors="replace")
        lowered = text.lower()
        assert "authorization" not in lowered and "bearer" not in lowered, path
        assert not any(secret in text for secret in secrets), path
