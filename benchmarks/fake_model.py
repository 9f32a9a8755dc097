"""A tiny fake model for the benchmarks' `--smoke` mode: no server, no weights.

`fake_client(cache_dir)` is a real `ModelClient` whose HTTP goes to an in-process
`httpx.MockTransport` that answers chat completions the way a careful extractive
model would: the story draft copies the first sentences of each numbered article
(citing their ids) and adds one invented sentence (`INVENTED`, so that validation
removes or repairs something), a repair copies the first source sentence it is shown. The whole
pipeline (prompt, structured output, parsing, validation, repair, usage accounting)
runs; only the writing is canned, so the figures of a smoke run mean nothing.
`fake_server()` serves the same answers over HTTP on loopback, for other processes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from summarize.model.client import ModelClient
from summarize.settings import Settings

MODEL = "fake-extractive"
BASE_URL = "http://fake-model.invalid/v1"  # never resolved: the transport answers
_NUMBERED = re.compile(r"^\[([A-Z]{1,2}\d{1,4})\]\s+(.+)$", re.MULTILINE)
_FACT = re.compile(r'<fact id="f\d+">\n(.*?)</fact>', re.DOTALL)
_OUTLET = re.compile(r"^\([^)]*\)\s*")  # "(Outlet) " before a fact's sentence
PER_ARTICLE = 2  # sentences copied from each article into the draft
INVENTED = "Officials said the plan would cost 7.4 billion dollars by 2031."


def _answer(body: dict) -> dict:
    fmt = body.get("response_format") or {}
    schema = (fmt.get("json_schema") or {}).get("name", "")
    text = "\n".join(
        m["content"] if isinstance(m.get("content"), str) else json.dumps(m.get("content"))
        for m in body.get("messages", [])
        if m.get("role") == "user"
    )
    numbered = _NUMBERED.findall(text)
    if '<fact id="f' in text or schema.startswith("Draft") and "f1" in json.dumps(fmt):
        # story design "facts": the first sentence of each fact group, cited; a headline
        answer: dict = {}
        for n, block in enumerate(_FACT.findall(text), start=1):
            lines = _NUMBERED.findall(block)
            if lines:
                sid, sentence = lines[0]
                answer[f"f{n}"] = {"cites": [sid], "text": _OUTLET.sub("", sentence).strip()}
        first = next(iter(answer.values()), {"text": ""})["text"]
        answer["headline"] = " ".join(first.split()[:8])
        return answer
    if schema.startswith("RepairAnswer"):
        sid, sentence = numbered[0] if numbered else ("", "")
        return {"text": sentence, "cites": [sid] if sid else []}
    if schema.startswith("Draft") or "headline" in json.dumps(body.get("messages", [])):
        taken: dict[str, int] = {}
        sentences = []
        for sid, sentence in numbered:
            letter = sid.rstrip("0123456789")
            if taken.get(letter, 0) < PER_ARTICLE:
                taken[letter] = taken.get(letter, 0) + 1
                sentences.append({"text": sentence.strip(), "cites": [sid]})
        if numbered:
            sentences.insert(1, {"text": INVENTED, "cites": [numbered[0][0]]})
        headline = sentences[0]["text"][:60] if sentences else ""
        return {"headline": headline, "sentences": sentences}
    return {}


def completion(body: dict, size: int) -> dict:
    """The fake model's chat completion for a request `body` of `size` bytes."""
    content = json.dumps(_answer(body))
    prompt_tokens = size // 4
    return {
        "id": "fake-0",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model", MODEL),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(content) // 4,
            "total_tokens": prompt_tokens + len(content) // 4,
        },
    }


def _handler(request: httpx.Request) -> httpx.Response:
    if not request.url.path.endswith("/chat/completions"):
        return httpx.Response(404, json={"error": {"message": "fake model: chat only"}})
    return httpx.Response(
        200, json=completion(json.loads(request.content or b"{}"), len(request.content))
    )


@contextlib.contextmanager
def fake_server(
    latency_s: float = 0.0,
    on_request: Callable[[tuple[str, int]], bool] | None = None,
    answered: list[str] | None = None,
) -> Iterator[str]:
    """The fake model behind a real HTTP server on loopback, for other processes (cluster
    workers); yields its base URL. Each answer takes `latency_s`, concurrently (a thread a
    request). `on_request(peer address)` runs first; False: close without an answer.
    `answered` gets the sha256 of each request body answered."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # quiet
            pass

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            if on_request is not None and not on_request(self.client_address):
                self.close_connection = True
                return
            if latency_s:
                time.sleep(latency_s)
            data = json.dumps(completion(json.loads(raw or b"{}"), len(raw))).encode()
            if answered is not None:
                answered.append(hashlib.sha256(raw).hexdigest())
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    finally:
        httpd.shutdown()
        httpd.server_close()


def fake_settings(cache_dir: Path, **overrides) -> Settings:
    """Settings for the fake endpoint, fixed in full (the config file is the empty
    os.devnull, so no user config file is read)."""
    values = {
        "model": MODEL,
        "base_url": BASE_URL,
        "api_key": "fake-key",
        "temperature": 0.0,
        "max_retries": 0,
        "cache_dir": cache_dir,
        "use_cache": False,
        "config_file": os.devnull,
    }
    values.update(overrides)
    return Settings(**values)


def fake_client(cache_dir: Path, latency_s: float = 0.0, **overrides) -> ModelClient:
    """A ModelClient answered in process by the fake model (close it when done);
    `latency_s`: each answer takes that long, as a busy server's would (the waiting
    thread releases the GIL, as it does waiting for a socket)."""

    def handler(request: httpx.Request) -> httpx.Response:
        if latency_s:
            time.sleep(latency_s)
        return _handler(request)

    transport = httpx.MockTransport(handler)
    return ModelClient(
        fake_settings(cache_dir, **overrides), http_client=httpx.Client(transport=transport)
    )
