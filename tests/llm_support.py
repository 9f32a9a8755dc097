"""pytest fixtures for model-client tests that replay recorded HTTP (vcrpy via pytest-recording).

Replay (default, offline): tests marked `@pytest.mark.vcr` replay cassettes from
`cassettes/<test module name without "test_">/`; record mode is forced to "none", so a
request missing from a cassette fails instead of reaching a server.

Recording (`scripts/record_cassettes.sh`, i.e. SUMMARIZE_RECORD=1 + --record-mode=rewrite):
the client still talks to the fixed URL http://127.0.0.1:8766/v1 with a fixed model name
and a dummy key, so bodies match on every machine. On that port runs
`scripts/fault_proxy.py`, which forwards to the real server and injects the faults a test
asks for. The real server is the embedded SmolLM2 model, or the server of your choice:
  SUMMARIZE_RECORD_BASE_URL (or OPENAI_BASE_URL)   upstream base URL ending in /v1
  SUMMARIZE_RECORD_API_KEY (or OPENAI_API_KEY)     its key: passed to the proxy by env only
  SUMMARIZE_RECORD_MODEL (or SUMMARIZE_MODEL)      its model name
The key never reaches a cassette: the client only ever holds the dummy key, the proxy adds
the real one upstream, and `authorization`-like headers are filtered besides.

Network: pytest-recording's `--block-network` (pyproject addopts, loopback allowed) makes
any other connection raise; VCR lifts it only while recording (record mode not "none").
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from summarize.model.client import ModelClient
from summarize.settings import Settings

__all__ = [
    "TEST_API_KEY",
    "TEST_BASE_URL",
    "TEST_MODEL",
    "RECORDING",
    "vcr_config",
    "vcr_cassette_dir",
    "llm_upstream",
    "make_recorded_client",
    "recorded_client",
    "llm_test_settings",
]

REPO = Path(__file__).resolve().parents[1]
TEST_PORT = 8766
TEST_BASE_URL = f"http://127.0.0.1:{TEST_PORT}/v1"
TEST_MODEL = "summarize-test-model"
TEST_API_KEY = "sk-test-K3Y-must-never-be-recorded-5f0c2a"
RECORDING = os.environ.get("SUMMARIZE_RECORD") == "1"
SECRET_HEADERS = [
    "authorization",
    "api-key",
    "x-api-key",
    "openai-organization",
    "openai-project",
    "cookie",
    "set-cookie",
]


# ---- vcrpy configuration -----------------------------------------------------------------


def _scrub_response(response: dict) -> dict:
    """Response headers are not covered by filter_headers: drop cookies and org/project ids."""
    headers = response.get("headers") or {}
    for name in list(headers):
        if name.lower() in SECRET_HEADERS:
            del headers[name]
    return response


@pytest.fixture
def vcr_config() -> dict:
    """No secrets in cassettes, bodies matched, replay-only unless SUMMARIZE_RECORD=1."""
    config = {
        "filter_headers": SECRET_HEADERS,
        "match_on": ["method", "scheme", "host", "port", "path", "query", "body"],
        "decode_compressed_response": True,
        "before_record_response": _scrub_response,
    }
    if not RECORDING:
        config["record_mode"] = "none"
    return config


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    """`<repo>/cassettes/<module name without the test_ prefix>` (tests/test_llm.py -> llm)."""
    name = Path(str(request.node.path)).stem.removeprefix("test_")
    return str(REPO / "cassettes" / name)


# ---- the server behind the proxy while recording -----------------------------------------


@dataclass(frozen=True)
class Upstream:
    base_url: str
    model: str | None  # None: keep the test model name (the embedded server ignores it)
    key_env: str | None  # name of the env variable holding the upstream key


@pytest.fixture(scope="session")
def llm_upstream() -> Iterator[Upstream | None]:
    """While recording: the real server (yours by env, else the embedded model). Else None."""
    if not RECORDING:
        yield None
        return
    url = os.environ.get("SUMMARIZE_RECORD_BASE_URL") or os.environ.get("OPENAI_BASE_URL")
    if url:
        key_env = next(
            (v for v in ("SUMMARIZE_RECORD_API_KEY", "OPENAI_API_KEY") if os.environ.get(v)),
            None,
        )
        model = os.environ.get("SUMMARIZE_RECORD_MODEL") or os.environ.get("SUMMARIZE_MODEL")
        if not model:
            pytest.exit("recording against OPENAI_BASE_URL needs SUMMARIZE_MODEL", returncode=2)
        yield Upstream(url, model, key_env)
        return
    from summarize.model.local import local_server

    with local_server(Settings(local_ctx=8192, local_threads=1, config_file=os.devnull)) as url:
        # The embedded server takes only its per-run key: the proxy adds it upstream.
        os.environ["SUMMARIZE_RECORD_EMBEDDED_KEY"] = url.api_key
        try:
            yield Upstream(url, None, "SUMMARIZE_RECORD_EMBEDDED_KEY")
        finally:
            os.environ.pop("SUMMARIZE_RECORD_EMBEDDED_KEY", None)


@contextlib.contextmanager
def _proxy(upstream: Upstream, faults: str, reject_format: str | None, require_key: bool):
    cmd = [
        sys.executable,
        str(REPO / "scripts" / "fault_proxy.py"),
        "--port",
        str(TEST_PORT),
        "--upstream",
        upstream.base_url,
        "--exit-on-eof",
    ]
    env = dict(os.environ)
    if faults:
        cmd += ["--faults", faults]
    if reject_format:
        cmd += ["--reject-format", reject_format]
    if upstream.model:
        cmd += ["--upstream-model", upstream.model]
    if upstream.key_env:
        cmd += ["--upstream-key-env", upstream.key_env]
    if require_key:
        env["SUMMARIZE_TEST_KEY"] = TEST_API_KEY
        cmd += ["--require-key-env", "SUMMARIZE_TEST_KEY"]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if "listening" not in line:
            raise RuntimeError(f"fault proxy did not start on port {TEST_PORT}: {line!r}")
        yield
    finally:
        proc.terminate()
        proc.wait(5)
        for stream in (proc.stdin, proc.stdout):
            if stream:
                stream.close()


# ---- clients -----------------------------------------------------------------------------


def llm_test_settings(cache_dir: Path, **overrides) -> Settings:
    """Settings fixed in full (no env, no config file), so request bodies are reproducible."""
    values = {
        "model": TEST_MODEL,
        "base_url": TEST_BASE_URL,
        "api_key": TEST_API_KEY,
        "temperature": 0.0,
        "max_tokens": 64,
        "timeout_s": 120.0,
        "max_retries": 3,
        "retry_max_wait_s": 0.01 if not RECORDING else 1.0,
        "cache_dir": cache_dir,
        "use_cache": True,
        "local_ctx": 8192,
        "local_threads": 2,
        "context_tokens": 8192,  # the window the cassettes were recorded with
        "config_file": os.devnull,  # no config file
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def make_recorded_client(
    tmp_path: Path, llm_upstream: Upstream | None
) -> Iterator[Callable[..., ModelClient]]:
    """Factory: `make_recorded_client(faults="429,500", reject_format=None, require_key=False,
    **settings_overrides)` -> a ModelClient on TEST_BASE_URL. While recording, it starts the
    fault proxy with those options (one client per test); in replay the options do nothing."""
    stack = contextlib.ExitStack()
    clients: list[ModelClient] = []

    def make(
        faults: str = "",
        reject_format: str | None = None,
        require_key: bool = False,
        **overrides,
    ) -> ModelClient:
        if llm_upstream is not None:
            stack.enter_context(_proxy(llm_upstream, faults, reject_format, require_key))
        client = ModelClient(llm_test_settings(tmp_path / "cache", **overrides))
        clients.append(client)
        return client

    with stack:
        yield make
        for client in clients:
            client.close()


@pytest.fixture
def recorded_client(make_recorded_client: Callable[..., ModelClient]) -> ModelClient:
    """A ModelClient on http://127.0.0.1:8766/v1, cache in tmp_path, fast retry waits."""
    return make_recorded_client()
