"""The suite runs offline: the autouse `network_guard` (tests/llm_support.py) lets only
loopback connections through, and cassettes replay with record mode "none"."""

from __future__ import annotations

import socket
import urllib.request

import pytest

from tests.llm_support import RECORDING, NetworkBlockedError


def test_connecting_beyond_loopback_raises() -> None:
    # 192.0.2.1 is TEST-NET-1: never routed, so no packet would matter even if one left.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        with pytest.raises(NetworkBlockedError):
            s.connect(("192.0.2.1", 80))
        with pytest.raises(NetworkBlockedError):
            s.connect_ex(("10.255.255.1", 443))
    with pytest.raises(NetworkBlockedError):
        socket.create_connection(("192.0.2.1", 443), timeout=0.5)


def test_name_lookups_and_http_are_blocked() -> None:
    with pytest.raises(NetworkBlockedError):
        socket.getaddrinfo("example.com", 443)
    with pytest.raises((NetworkBlockedError, OSError)) as info:
        urllib.request.urlopen("https://api.openai.com/v1/models", timeout=1)
    assert "blocked" in str(info.value)


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
