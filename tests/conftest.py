"""Shared test fixtures. Kept small: paths here, model-client fixtures in llm_support."""

from __future__ import annotations

from pathlib import Path

import pytest

# Model-client fixtures (cassette replay), owned by the llm tests. The network is blocked
# (but for loopback) by pytest-recording: `--block-network` in pyproject.toml addopts.
from tests.llm_support import *  # noqa: F401,F403

TESTS = Path(__file__).resolve().parent
FIXTURES = TESTS / "fixtures"
# CI checks out the shared material beside the repository.
SHARED = TESTS.parent.parent / "shared"


@pytest.fixture(autouse=True)
def _own_data_folder(monkeypatch: pytest.MonkeyPatch, tmp_path_factory) -> None:
    """`summarize digest` remembers stories in the user's data folder by default
    (`digest.state`): tests get their own, never the real one."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data-home")))


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture
def seed_paths() -> list[Path]:
    """The two real seed articles (with page debris); skip when ../shared is absent."""
    paths = [SHARED / "seeds" / "nato-office-a.txt", SHARED / "seeds" / "nato-office-b.txt"]
    if not all(p.is_file() for p in paths):
        pytest.skip("../shared/seeds not available")
    return paths
