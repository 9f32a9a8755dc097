"""Continuity across days (issue 13): two digests in a row with one state folder give
`new`, `update` (new sentences first) and `unchanged`; the state file is replaced
atomically, and a corrupt one is reported and set aside, never fatal."""

from __future__ import annotations

import json
import logging
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from summarize.cli import app
from summarize.digest.build import build_digest
from summarize.digest.state import STATE_FILE, default_state_dir, load_state, url_key
from summarize.models import Claim, Story
from summarize.render import render

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples" / "articles"
DAY1 = datetime(2026, 11, 21, 21, 0, tzinfo=UTC)
DAY2 = datetime(2026, 11, 22, 21, 0, tzinfo=UTC)
FLOOD = {"aldwen-courier-flood", "kessary-klaxon-dam-gates", "meridian-20261121-0412"}
FARES = {"brennmouth-ledger-fare-vote", "brennmouth-sentinel-fare-hike"}
FARES |= {"brennmouth-evening-post-fares"}


def _first_sentences(articles, *, settings=None, client=None, **_):
    """A fake summarizer: the first line of each article, in story order."""
    sentences = [Claim(text=a.clean_text().strip().splitlines()[0][:300]) for a in articles]
    return Story(articles=list(articles), sentences=sentences)


def _folder(tmp_path: Path, name: str, files: list[str]) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    for f in files:
        shutil.copy(EXAMPLES / f, folder / f)
    return folder


def _day1(tmp_path: Path) -> Path:
    """Two of the flood's three articles, two of the fares' three, and the museum."""
    return _folder(
        tmp_path,
        "day1",
        [
            "aldwen-courier-flood.txt",
            "kessary-klaxon-dam-gates.txt",
            "brennmouth-ledger-fare-vote.html",
            "brennmouth-sentinel-fare-hike.txt",
            "harbour-herald-museum.md",
        ],
    )


def _digest(inputs, state, now, tmp_path, summarize=_first_sentences):
    return build_digest(
        [str(i) for i in inputs],
        summarize=summarize,
        cache_dir=tmp_path / "cache",
        state_dir=state,
        now=now,
    )


def _by_event(digest):
    out = {}
    for story in digest.stories:
        ids = {a.id for a in story.articles}
        name = "flood" if ids & FLOOD else "fares" if ids & FARES else None
        name = name or ("battery" if any("vellmoor" in i or "1733" in i for i in ids) else "museum")
        out[name] = story
    return out


@pytest.mark.slow
def test_two_digests_in_a_row_new_update_unchanged(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = _digest([_day1(tmp_path)], state, DAY1, tmp_path)
    assert [s.status for s in first.stories] == ["new"] * 3
    assert (state / STATE_FILE).is_file()
    assert f"no earlier digest remembered in {state}: every story is new" in first.notes
    ids = {name: s.story_id for name, s in _by_event(first).items()}

    # day 2: every example (the flood and fares get their third article, the battery
    # story is new, the museum is re-read as it was)
    second = _digest([EXAMPLES], state, DAY2, tmp_path)
    stories = _by_event(second)
    assert {n: s.status for n, s in stories.items()} == {
        "flood": "update",
        "fares": "update",
        "museum": "unchanged",
        "battery": "new",
    }
    for name in ("flood", "fares", "museum"):  # the same story keeps its id
        assert stories[name].story_id == ids[name]
    flood = stories["flood"]
    new = [flood.sentences[i].text for i in flood.new_sentences]
    assert len(new) == 1 and "Meridian Wire" in new[0]  # only the wire's lead is new
    assert flood.first_seen == DAY1 and flood.updated == DAY2
    assert stories["museum"].updated == DAY1  # unchanged: its content last changed on day 1
    assert "since the last digest: 1 new, 2 update, 1 unchanged" in second.notes

    # JSON carries the status; Markdown and HTML show it, new sentences first,
    # the unchanged story folded
    data = json.loads(render(second, "json"))
    assert {s["status"] for s in data["stories"]} == {"new", "update", "unchanged"}
    md = render(second, "md")
    assert "**Update · first seen 2026-11-21 21:00 UTC · 1 new sentence, shown first**" in md
    for section in md.split("\n## ")[1:]:
        lines = section.splitlines()[1:]
        said = [x for x in lines if x.startswith("**New:**") or x[:1] not in ("", "*", "#")]
        if "**Update" in section:  # an update's first sentence is a new one
            assert said[0].startswith("**New:**"), section
        else:
            assert not any(x.startswith("**New:**") for x in said)
    assert "<details>" in md and "Unchanged: 1 sentence shown before" in md
    html = render(second, "html")
    assert '<details class="unchanged">' in html and 'class="badge status update"' in html
    assert 'class="sent new"' in html

    # a third run of the same inputs: nothing new
    third = _digest([EXAMPLES], state, DAY2, tmp_path)
    assert {s.status for s in third.stories} == {"unchanged"}


def test_a_story_continues_by_content_without_shared_articles(tmp_path: Path) -> None:
    """Day 2 brings only articles not seen on day 1: matched by what they say."""
    state = tmp_path / "state"
    _digest([_day1(tmp_path)], state, DAY1, tmp_path)
    day2 = _folder(
        tmp_path, "day2", ["brennmouth-evening-post-fares.txt", "gridline-vellmoor-sodium-cell.txt"]
    )
    second = _digest([day2], state, DAY2, tmp_path)
    stories = _by_event(second)
    assert stories["fares"].status == "update"
    assert stories["battery"].status == "new"


def test_remembered_leads_keep_their_dates(tmp_path: Path) -> None:
    """Days apart is a signal of the join: a remembered lead keeps its article's date, and
    an undated one (an older state file) stands at the day its record was last written."""
    from summarize.digest.state import _ghosts, text_key

    state = tmp_path / "state"
    first = _digest([_day1(tmp_path)], state, DAY1, tmp_path)
    published = {
        url_key(a.url) or text_key(a): a.published for s in first.stories for a in s.articles
    }
    records = load_state(state).records
    leads = [lead for r in records for lead in r.leads]
    assert any(lead.published for lead in leads)  # the examples are dated
    assert all(lead.published == published[lead.key] for lead in leads)
    for record in records:
        for lead in record.leads:
            lead.published = None
    ghosts, _, _ = _ghosts(records)
    assert {g.published for g in ghosts} == {DAY1}


def test_corrupt_state_is_set_aside_and_reported(tmp_path: Path, caplog) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / STATE_FILE).write_text('{"version": 1, "stories": [{"story_id": ', "utf-8")
    with caplog.at_level(logging.WARNING, logger="summarize"):
        digest = _digest([_day1(tmp_path)], state, DAY1, tmp_path)
    assert [s.status for s in digest.stories] == ["new"] * 3
    aside = list(state.glob(f"{STATE_FILE}.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_text("utf-8").startswith('{"version": 1')
    warned = [r.getMessage() for r in caplog.records if "corrupt" in r.getMessage()]
    assert len(warned) == 1 and "\n" not in warned[0] and aside[0].name in warned[0]
    assert any("corrupt" in n for n in digest.notes)
    # a fresh, valid state file was written in its place
    assert json.loads((state / STATE_FILE).read_text("utf-8"))["version"] == 1
    for bad in ("[]", '{"version": 99, "stories": []}', "\x00\x01 not json"):
        (state / STATE_FILE).write_text(bad, "utf-8")
        assert load_state(state).records == [] and load_state(state).notes == []
        # (the first load set it aside; the second finds none)


@pytest.mark.slow
def test_state_write_is_atomic_and_a_failed_write_is_a_note(tmp_path: Path, monkeypatch) -> None:
    import summarize.digest.state as state_mod

    state = tmp_path / "state"
    _digest([_day1(tmp_path)], state, DAY1, tmp_path)
    before = (state / STATE_FILE).read_bytes()

    def refuse(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(state_mod.os, "replace", refuse)
    digest = _digest([EXAMPLES], state, DAY2, tmp_path)
    assert (state / STATE_FILE).read_bytes() == before  # the old file is intact
    assert not [p for p in state.iterdir() if p.name.endswith(".tmp")]  # no temp left
    assert any("state not saved" in n and "No space left" in n for n in digest.notes)


@pytest.mark.slow
def test_without_state_there_is_no_status_but_a_stable_id(tmp_path: Path) -> None:
    one = _digest([EXAMPLES], None, DAY1, tmp_path)
    two = _digest([EXAMPLES], None, DAY2, tmp_path)
    assert {s.status for s in one.stories} == {None}
    assert [s.story_id for s in one.stories] == [s.story_id for s in two.stories]
    assert all(s.story_id for s in one.stories)


def test_default_state_dir_is_in_the_user_data_folder(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_state_dir() == tmp_path / "summarize" / "state"


def test_url_keys_ignore_tracking_and_scheme() -> None:
    a = url_key("https://www.Example.com/news/a/?utm_source=x&id=3#top")
    assert a == url_key("http://example.com/news/a?id=3")
    assert a != url_key("http://example.com/news/a?id=4")
    assert url_key("not a url") is None


@pytest.mark.slow
def test_cli_digest_state_atom_and_outlets(tmp_path: Path, monkeypatch) -> None:
    import contextlib

    import summarize.model.client as client
    import summarize.story.pipeline as pipeline

    monkeypatch.setattr(client, "open_client", lambda settings: contextlib.nullcontext(None))
    monkeypatch.setattr(pipeline, "summarize_story", _first_sentences)
    out, state = tmp_path / "out", tmp_path / "state"
    args = ["digest", str(EXAMPLES), "--out", str(out), "--state", str(state)]
    args += ["--format", "json,atom,md", "--outlets", str(REPO / "examples" / "outlets.toml")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads((out / "digest.json").read_text("utf-8"))
    assert [s["status"] for s in data["stories"]] == ["new"] * 4
    fares = data["stories"][0]  # three outlets, three leanings: the broadest coverage
    assert fares["coverage"]["labels"]["leaning"] == {"center": 1, "left": 1, "right": 1}
    museum = data["stories"][-1]
    assert museum["coverage"]["one_sided"] == {"leaning": "left"}
    assert "covered by leaning: left only" in (out / "digest.md").read_text("utf-8")
    assert (out / "digest.atom").read_text("utf-8").startswith("<?xml")
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0, again.output
    data = json.loads((out / "digest.json").read_text("utf-8"))
    assert [s["status"] for s in data["stories"]] == ["unchanged"] * 4
    both = CliRunner().invoke(app, [*args, "--no-state"])
    assert both.exit_code == 2 and "--no-state" in both.output


def test_cli_bad_outlets_file_is_one_error_line(tmp_path: Path) -> None:
    bad = tmp_path / "outlets.toml"
    bad.write_text('["The Gridline"]\nleaning = [1, 2]\n', "utf-8")
    result = CliRunner().invoke(
        app, ["digest", str(EXAMPLES), "--out", str(tmp_path / "o"), "--outlets", str(bad)]
    )
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "The Gridline" in lines[0]


@pytest.mark.slow
def test_two_digests_with_the_fake_model_pipeline(tmp_path: Path) -> None:
    """The real story pipeline (prompt, validation, repair) against an in-process fake
    model: statuses and new sentences survive validation."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from fake_model import fake_client

    state = tmp_path / "state"
    model = fake_client(tmp_path / "cache")

    def run(inputs, now):
        return build_digest(
            [str(i) for i in inputs],
            settings=model.settings,
            client=model,
            state_dir=state,
            now=now,
            progress=False,
        )

    try:
        first = run([_day1(tmp_path)], DAY1)
        second = run([EXAMPLES], DAY2)
    finally:
        model.close()
    assert {s.status for s in first.stories} == {"new"}
    stories = _by_event(second)
    assert stories["battery"].status == "new"
    assert stories["museum"].status == "unchanged"
    assert stories["flood"].status == "update"
    assert all(0 <= i < len(s.sentences) for s in second.stories for i in s.new_sentences)


def test_a_second_digest_on_one_state_folder_waits_then_names_the_holder(tmp_path: Path) -> None:
    import subprocess
    import textwrap

    from summarize.digest.state import StateLockedError, state_lock

    state = tmp_path / "state"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from summarize.digest.state import state_lock
                with state_lock({str(state)!r}):
                    print("held", flush=True)
                    sys.stdin.readline()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"  # an event, not a guess
        wanted = rf"in use by another digest \(pid {holder.pid} "
        with pytest.raises(StateLockedError, match=wanted), state_lock(state, wait_s=0.3):
            pass
    finally:
        holder.communicate("go\n", timeout=60)
    with state_lock(state, wait_s=0.3):  # released: the next digest takes it at once
        assert f"pid {__import__('os').getpid()}" in (state / "digest.lock").read_text()


def test_a_lock_left_by_a_killed_digest_is_taken_over(tmp_path: Path) -> None:
    import subprocess

    from summarize.digest.state import state_lock

    state = tmp_path / "state"
    state.mkdir()
    killed = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], stdout=subprocess.PIPE
    )
    (state / "digest.lock").write_text(f"pid {killed.pid} since yesterday\n")
    killed.kill()
    killed.wait()
    with state_lock(state, wait_s=0.0):  # the file remains, the kernel's lock did not
        pass


def test_the_next_digest_reuses_the_vectors_of_the_last(tmp_path: Path, monkeypatch) -> None:
    """The state folder's vector cache: over three digests (the third re-reads the
    second's articles), no text is embedded twice."""
    import summarize.model.embed as model

    real, asked = model.embed, []

    def spy(texts):
        asked.append(list(texts))
        return real(texts)

    monkeypatch.setattr(model, "embed", spy)
    state = tmp_path / "state"
    day1 = _day1(tmp_path)
    _digest([day1], state, DAY1, tmp_path)
    first = {t for call in asked for t in call}
    assert first, "the examples have uncertain pairs"
    assert (state / "vectors" / "vectors.npz").is_file()
    day2 = _folder(tmp_path, "day2", ["brennmouth-evening-post-fares.txt"])
    _digest([day1, day2], state, DAY2, tmp_path)
    again = _digest([day1, day2], state, DAY2, tmp_path)
    texts = [t for call in asked for t in call]
    assert len(texts) > len(first), "later digests asked for texts of their own"
    assert len(texts) == len(set(texts)), "a text was embedded twice"
    assert {s.status for s in again.stories} <= {"unchanged", "update"}
