"""A loopback fake of an OpenAI-compatible server, for fault tests.

`FakeServer` answers `POST .../chat/completions` (and any GET, such as a page fetch) from
a script: each request takes the next reply of `script` (the last one repeats once the
script runs out, or `default`).
A reply is one of

    chat(content, finish_reason="stop")      a chat completion with that message
    Reply(status, body, headers)             any status and JSON body (or raw bytes)
    HANG                                     accept, read, never answer (until stop)
    DROP                                     close the connection without an answer

Every request is recorded (`requests`: path, headers, JSON body). The server binds
127.0.0.1 on a free port and runs in daemon threads; `stop()` releases hung handlers.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # a JSON value, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


HANG = "hang"
DROP = "drop"


def chat(
    content: str,
    finish_reason: str = "stop",
    *,
    prompt_tokens: int = 11,
    completion_tokens: int = 7,
    delay_s: float = 0.0,
) -> Reply:
    """A chat completion answering `content`."""
    return Reply(
        200,
        {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": "fake-model",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        },
        delay_s=delay_s,
    )


def error(status: int, message: str = "fake failure", headers: dict | None = None) -> Reply:
    return Reply(status, {"error": {"message": message, "type": "fake"}}, headers or {})


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: Any
    at: float


class FakeServer:
    """`with FakeServer([chat("{}")]) as server: server.base_url` -> http://127.0.0.1:PORT/v1"""

    def __init__(self, script: list[Reply | str] | None = None, default: Reply | str | None = None):
        self.script = list(script or [])
        self.default = default
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._last: Reply | str | None = None
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self) -> FakeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stopped.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def _next(self) -> Reply | str:
        with self._lock:
            if self.script:
                self._last = self.script.pop(0)
                return self._last
            if self.default is not None:
                return self.default
            return self._last if self._last is not None else chat("{}")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                self._answer(b"")

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("content-length") or 0)
                self._answer(self.rfile.read(length))

            def _answer(self, raw: bytes) -> None:
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw
                with server._lock:
                    server.requests.append(
                        Request(self.path, dict(self.headers), body, time.monotonic())
                    )
                reply = server._next()
                if reply == HANG:
                    server._stopped.wait(600)
                    self.close_connection = True
                    return
                if reply == DROP:
                    self.close_connection = True
                    self.connection.close()
                    return
                assert isinstance(reply, Reply)
                if reply.delay_s:
                    server._stopped.wait(reply.delay_s)
                data = (
                    reply.body
                    if isinstance(reply.body, bytes)
                    else json.dumps(reply.body).encode("utf-8")
                )
                self.send_response(reply.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler
