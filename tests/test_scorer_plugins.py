"""Scorers are plugins: entry points in the `summarize.scorers` group, loaded lazily."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import textwrap

import pytest

from summarize.models import Article
from summarize.support.scorers import (
    ScorerUnavailable,
    available,
    get_scorer,
    needs_model,
    register,
    unavailable,
)
from summarize.support.scorers.base import GROUP, scorer_entry_points, unregister
from summarize.support.validator import Validator

BUILTIN = {"rules", "learned", "nli", "llm-judge"}

PLUGIN = '''
from summarize.models import Verdict


class EchoScorer:
    """Supports every claim that shares a word with its best candidate."""

    name = "echo"
    threshold = 0.5
    uses_model = True
    uses_embeddings = False

    def __init__(self, threshold=0.5):
        self.threshold = threshold

    def score(self, claim, found):
        hit = bool(found.candidates) and bool(
            set(claim.lower().split()) & set(found.candidates[0].text.lower().split())
        )
        return Verdict(supported=hit, score=float(hit), reasons=["echo"], scorer=self.name)
'''


def _install(tmp_path, monkeypatch, entries: dict[str, str], modules: dict[str, str]) -> None:
    """A third-party distribution on sys.path: its modules and a dist-info whose
    entry_points.txt declares `entries` in the scorer group."""
    for name, source in modules.items():
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
    info = tmp_path / "acme_scorers-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-scorers\nVersion: 1.0\n")
    lines = "".join(f"{name} = {value}\n" for name, value in entries.items())
    (info / "entry_points.txt").write_text(f"[{GROUP}]\n{lines}")
    monkeypatch.syspath_prepend(str(tmp_path))


def test_builtin_scorers_are_entry_points():
    declared = scorer_entry_points()
    assert set(declared) >= BUILTIN
    assert declared["rules"].value == "summarize.support.scorers.rules:RulesScorer"
    assert set(available()) >= BUILTIN and not set(unavailable()) & BUILTIN


def test_third_party_scorer_installed_as_entry_point_is_found(tmp_path, monkeypatch):
    _install(tmp_path, monkeypatch, {"echo": "acme_echo:EchoScorer"}, {"acme_echo": PLUGIN})
    assert "echo" in available()
    scorer = get_scorer("echo", threshold=0.7)
    assert type(scorer).__module__ == "acme_echo" and scorer.threshold == 0.7
    assert needs_model("echo")
    # the Validator takes it by name like a built-in one
    article = Article(id="a", text="The council approved the budget on Monday.")
    verdict = Validator(scorer="echo").check("The council approved the budget.", [article])
    assert verdict.scorer == "echo" and "echo" in verdict.reasons


def test_monkeypatched_entry_point_lookup_is_used(monkeypatch):
    """The lookup goes through importlib.metadata.entry_points(group=...)."""
    real = importlib.metadata.entry_points
    extra = importlib.metadata.EntryPoint(
        name="plain", value="summarize.support.scorers.rules:RulesScorer", group=GROUP
    )

    def fake(**params):
        assert params == {"group": GROUP}
        return [*real(**params), extra]

    monkeypatch.setattr(importlib.metadata, "entry_points", fake)
    assert "plain" in available()
    assert get_scorer("plain").name == "rules"


def test_broken_plugin_is_unavailable_not_fatal(tmp_path, monkeypatch):
    _install(
        tmp_path,
        monkeypatch,
        {"broken": "acme_broken:Scorer", "echo": "acme_echo:EchoScorer"},
        {"acme_broken": "import no_such_module_xyz\n", "acme_echo": PLUGIN},
    )
    assert "broken" not in available() and {"echo", "rules"} <= set(available())
    assert "no_such_module_xyz" in unavailable()["broken"]
    with pytest.raises(ScorerUnavailable, match="no_such_module_xyz"):
        get_scorer("broken")
    assert not needs_model("broken")
    assert get_scorer("echo").name == "echo"
    with pytest.raises(ValueError, match="unavailable: scorer 'broken'"):
        get_scorer("nope")


def test_unknown_name_lists_the_available_scorers():
    with pytest.raises(ValueError, match="unknown scorer 'nope'; available: ") as info:
        get_scorer("nope")
    for name in BUILTIN:
        assert name in str(info.value)
    assert not needs_model("nope")


def test_missing_metadata_says_to_reinstall(monkeypatch):
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda **params: [])
    assert available() == []
    with pytest.raises(ValueError, match="available: none .*reinstall the package"):
        get_scorer("rules")


def test_register_adds_an_in_process_scorer():
    @register("constant")
    class Constant:
        name = "constant"
        threshold = 0.5

        def score(self, claim, found):  # pragma: no cover
            raise AssertionError

    try:
        assert "constant" in available()
        assert isinstance(get_scorer("constant"), Constant)
    finally:
        unregister("constant")
    assert "constant" not in available()


def test_get_scorer_imports_only_that_scorers_module():
    code = (
        "import sys\n"
        "from summarize.support.scorers import get_scorer\n"
        "get_scorer('rules')\n"
        "others = [m for m in sys.modules if m.rsplit('.', 1)[-1] in ('judge', 'learned', 'nli')]\n"
        "assert not others, others\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
