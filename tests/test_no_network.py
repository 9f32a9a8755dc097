"""The suite runs offline: pytest-recording's `--block-network` (pyproject.toml addopts)
lets only loopback connections through, and cassettes replay with record mode "none"."""

from __future__ import annotations

import socket
import urllib.request

import pytest

from tests.llm_support import RECORDING

BLOCKED = "Network is disabled"  # pytest-recording's RuntimeError


def test_block_network_is_on(pytestconfig: pytest.Config) -> None:
    assert pytestconfig.getoption("--block-network")
    assert pytestconfig.getoption("--disable-recording") is False


def test_connecting_beyond_loopback_raises() -> None:
    # 192.0.2.1 is TEST-NET-1: never routed, so no packet would matter even if one left.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        with pytest.raises(RuntimeError, match=BLOCKED):
            s.connect(("192.0.2.1", 80))
        with pytest.raises(RuntimeError, match=BLOCKED):
            s.connect_ex(("10.255.255.1", 443))
    with pytest.raises(RuntimeError, match=BLOCKED):
        socket.create_connection(("192.0.2.1", 443), timeout=0.5)
    # loopback look-alikes are not let through (allowed hosts are anchored)
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s, pytest.raises(RuntimeError):
        s.connect(("::1.example", 80))
    with socket.socket() as s, pytest.raises(RuntimeError, match=BLOCKED):
        s.connect(("localhost.example.com", 80))


def test_http_beyond_loopback_is_blocked(monkeypatch: pytest.MonkeyPatch) -> None:
    # resolve every name to TEST-NET-1, as a working resolver would to some public address:
    # the request then gets as far as connecting, which is refused
    def resolve(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with pytest.raises(RuntimeError, match=BLOCKED):
        urllib.request.urlopen("https://api.openai.com/v1/models", timeout=1)


def test_loopback_still_works() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=1):
            conn, _ = server.accept()
            conn.close()


@pytest.mark.skipif(RECORDING, reason="recording on purpose")
def test_cassettes_replay_only(vcr_config: dict) -> None:
    assert vcr_config["record_mode"] == "none"
    assert "authorization" in vcr_config["filter_headers"]
    assert "body" in vcr_config["match_on"]
