"""One shutdown path for SIGINT and SIGTERM, at every stage of a digest: reading,
grouping, mid-story and writing (tests/shutdown_support.py says how each is reached).
Each run is a real process: its exit status and what it leaves on disk are what a
scheduler sees. The time from the signal to the exit is a benchmark figure
(benchmarks/bench_shutdown.py); here it is only bounded well below the hung request's own
timeout, so a digest that waited for that request, instead of stopping, fails.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.shutdown_support import REQUEST_TIMEOUT_S, SIGNALS, STAGES, stop_at


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SIGNALS))
@pytest.mark.parametrize("stage", STAGES)
def test_a_signal_at_any_stage_stops_and_loses_nothing(tmp_path: Path, stage, name) -> None:
    sig, code = SIGNALS[name]
    out = tmp_path / "out"
    run = stop_at(stage, sig, tmp_path)
    assert run.status == code, run.stderr
    assert run.stopped_in_s < REQUEST_TIMEOUT_S / 2, run.stopped_in_s
    assert "Traceback" not in run.stderr and "interrupted" in run.stderr, run.stderr
    written = sorted(p.name for p in out.iterdir()) if out.exists() else []
    if stage in ("reading", "grouping"):  # nothing finished: nothing written, no model call
        assert written == []
        assert run.requests == (2 if stage == "reading" else 0)
        return
    assert written == ["digest.html", "digest.json", "digest.md"]
    digest = json.loads((out / "digest.json").read_text())
    if stage == "mid-story":  # the finished story, marked incomplete; no new call
        assert digest["incomplete"] is True and len(digest["stories"]) == 1
        assert any(n.startswith("incomplete: interrupted") for n in digest["notes"])
        assert run.requests == 2
    else:  # the signal came while writing: the write completes, every file whole
        assert digest["incomplete"] is False and len(digest["stories"]) == 4
        assert (out / "digest.md").read_text().count("\n## ") == 4
        assert (out / "digest.html").read_text().rstrip().endswith("</html>")
