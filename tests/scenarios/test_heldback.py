"""The held-back set (tests/scenarios/heldback/): readable by the runner, kept out of the
regular suite, and played only when asked with ``--dir`` (docs/scenarios.md, « Held-back set »)."""

from __future__ import annotations

from datetime import date

import yaml

from sandbox.stack import ROOT
from tests.scenarios import run, scoring, suite

HELDBACK = suite.HERE / "heldback"


def test_the_heldback_set_is_twelve_checked_conversations_with_their_computation():
    scenarios = suite.load(HELDBACK)
    assert len(scenarios) == 12
    for scenario in scenarios:
        assert scenario["note"], scenario["id"]
        if scenario["expect"]["route"] == "triage":
            assert isinstance(scenario["expect"]["deadline"], date), scenario["id"]
    routes = {s["expect"]["route"] for s in scenarios}
    assert routes == {"triage", "referral"}


def test_the_regular_suite_never_plays_the_heldback_set():
    regular = {s["id"] for s in suite.load()}
    heldback = {s["id"] for s in suite.load(HELDBACK)}
    assert regular and heldback and not regular & heldback
    assert not any(path.parent == HELDBACK for path in suite.CONVERSATIONS.glob("*.yml"))


def test_dir_selects_the_scenarios_and_keeps_the_suites_results_file():
    args = run.parse_args(["--dir", str(HELDBACK), "--report-only"])
    assert args.dir == HELDBACK
    assert args.out == ROOT / "results" / "scenarios-heldback.json"
    assert [s["file"] for s in suite.load(args.dir)] == ["heldback.yml"] * 12
    default = run.parse_args([])
    assert default.dir == suite.CONVERSATIONS
    assert default.out == ROOT / "results" / "scenarios.json"
    chosen = run.parse_args(["--dir", str(HELDBACK), "--out", "/tmp/x.json"])
    assert str(chosen.out) == "/tmp/x.json"


def test_heldback_thresholds_name_summary_figures_only():
    summary = scoring.summarise([])
    summary.update(server_tracebacks=0)
    thresholds = yaml.safe_load((suite.HERE / "heldback_thresholds.yml").read_text())
    assert thresholds["fully_right_min"] == 10
    assert scoring.check(summary, thresholds)  # nothing measured: every target is missed
