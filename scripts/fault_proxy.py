#!/usr/bin/env python3
"""A loopback HTTP proxy in front of an OpenAI-compatible server, for recording cassettes.

Tests always talk to http://127.0.0.1:8766/v1 with a fixed model name and a dummy key,
so recorded request bodies are the same on every machine. This proxy forwards to the
real server (`--upstream`, e.g. the embedded model or https://api.openai.com/v1), swaps
in the real model name (`--upstream-model`) and the real key (read from the environment
variable named by `--upstream-key-env`, never from argv), and can misbehave on purpose so
that failure cassettes hold real HTTP responses:

  --faults 429,500          answer the first requests with these statuses, then forward
  --fault-rate 0.2          also fail that share of all requests at random (seeded), each
                            with one of --fault-kinds: 429 (Retry-After: 1), 500, hang
                            (hold the connection --hang-s, then close), drop (close at
                            once), malformed (200 with a cut-off JSON body)
  --require-key-env VAR     answer 401 unless the client sends `Bearer $VAR`
  --reject-format json_schema|any   answer 400 as llama.cpp does for an unsupported format

Standard library only. Usage:
  python scripts/fault_proxy.py --port 8766 --upstream http://127.0.0.1:PORT/v1 --faults 429,500
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "content-encoding",
    "upgrade",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
}

FAULTS = {
    429: (
        "Rate limit reached for requests (fault proxy)",
        "rate_limit_error",
        {"Retry-After": "1"},
    ),
    500: ("Internal server error (fault proxy)", "server_error", {}),
    502: ("Bad gateway (fault proxy)", "server_error", {}),
    503: ("Service unavailable (fault proxy)", "server_error", {"Retry-After": "1"}),
}


def make_handler(args: argparse.Namespace) -> type[BaseHTTPRequestHandler]:
    upstream = urlsplit(args.upstream.rstrip("/"))
    upstream_key = os.environ.get(args.upstream_key_env, "") if args.upstream_key_env else ""
    required_key = os.environ.get(args.require_key_env, "") if args.require_key_env else ""
    faults = [int(s) for s in args.faults.split(",") if s.strip()] if args.faults else []
    kinds = [k.strip() for k in args.fault_kinds.split(",") if k.strip()]
    chance = random.Random(args.seed)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt: str, *a) -> None:  # no headers in logs, only the line
            sys.stderr.write("fault_proxy: " + (fmt % a) + "\n")

        def _reply(self, status: int, payload: dict, headers: dict | None = None) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status: int, message: str, kind: str, headers=None) -> None:
            self._reply(
                status, {"error": {"code": status, "message": message, "type": kind}}, headers
            )

        def _fault(self, fault: str) -> None:
            if fault == "hang":  # read, never answer: the client's timeout must cut it
                time.sleep(args.hang_s)
                self.close_connection = True
                return
            if fault == "drop":
                self.close_connection = True
                self.connection.close()
                return
            if fault == "malformed":
                body = b'{"id": "x", "choices": [{"message": {"role": "assist'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            status = int(fault)
            message, kind, headers = FAULTS.get(status, ("fault proxy", "server_error", {}))
            self._error(status, message, kind, headers)

        def do_GET(self) -> None:
            self._forward(b"")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self._forward(self.rfile.read(length))

        def _forward(self, body: bytes) -> None:
            if required_key and self.headers.get("Authorization") != f"Bearer {required_key}":
                return self._error(401, "Invalid API Key", "authentication_error")
            with lock:
                fault = faults.pop(0) if faults else None
                if fault is None and args.fault_rate and chance.random() < args.fault_rate:
                    fault = chance.choice(kinds)
            if fault is not None:
                sys.stderr.write(f"fault_proxy: fault {fault}\n")
                return self._fault(str(fault))
            data = None
            if body:
                try:
                    data = json.loads(body)
                except ValueError:
                    data = None
            if isinstance(data, dict):
                fmt = (data.get("response_format") or {}).get("type")
                rejected = args.reject_format == "any" or fmt == args.reject_format
                if args.reject_format and fmt and fmt != "text" and rejected:
                    allowed = '"text"' if args.reject_format == "any" else '"text" or "json_object"'
                    return self._error(
                        400,
                        f"response_format type must be one of {allowed}, but got: {fmt}",
                        "invalid_request_error",
                    )
                if args.upstream_model and "model" in data:
                    data["model"] = args.upstream_model
                    body = json.dumps(data).encode()
            path = self.path
            if path.startswith("/v1"):
                path = path[3:]
            target = (upstream.path or "") + path
            conn_cls = (
                http.client.HTTPSConnection
                if upstream.scheme == "https"
                else http.client.HTTPConnection
            )
            conn = conn_cls(upstream.hostname, upstream.port, timeout=args.timeout)
            headers = {"Content-Type": "application/json", "Accept-Encoding": "identity"}
            if upstream_key:
                headers["Authorization"] = f"Bearer {upstream_key}"
            try:
                conn.request(self.command, target, body=body or None, headers=headers)
                resp = conn.getresponse()
                payload = resp.read()
            except OSError as exc:
                return self._error(502, f"upstream unreachable: {exc}", "server_error")
            finally:
                conn.close()
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in HOP_BY_HOP and not k.lower().startswith("set-cookie"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--upstream", required=True, help="upstream base URL, ending in /v1")
    parser.add_argument("--upstream-model", default=None)
    parser.add_argument("--upstream-key-env", default=None)
    parser.add_argument("--require-key-env", default=None)
    parser.add_argument("--faults", default="")
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--fault-kinds", default="429,500,hang,drop,malformed")
    parser.add_argument("--hang-s", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reject-format", choices=["json_schema", "any"], default=None)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--exit-on-eof", action="store_true", help="stop when stdin closes")
    args = parser.parse_args(argv)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(args))
    if args.exit_on_eof:  # the recording fixture holds our stdin: its death ends us too

        def watch() -> None:
            sys.stdin.buffer.read()
            os._exit(0)

        threading.Thread(target=watch, daemon=True).start()
    print(f"fault_proxy listening on http://127.0.0.1:{server.server_port}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
