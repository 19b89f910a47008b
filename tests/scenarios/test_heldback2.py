"""The second held-back set (tests/scenarios/heldback2/): loads as checked scenarios, is kept
out of the regular suite and out of the first held-back set, and is played only with ``--dir``
(docs/scenarios.md, « A second held-back set »)."""

from __future__ import annotations

from datetime import date

from sandbox.stack import ROOT
from tests.scenarios import run, suite

HELDBACK2 = suite.HERE / "heldback2"


def test_the_second_heldback_set_is_twelve_checked_conversations_with_their_computation():
    scenarios = suite.load(HELDBACK2)
    assert len(scenarios) == 12
    assert [s["file"] for s in scenarios] == ["heldback2.yml"] * 12
    for scenario in scenarios:
        assert scenario["note"], scenario["id"]
        if scenario["expect"]["route"] == "triage":
            assert isinstance(scenario["expect"]["deadline"], date), scenario["id"]
    assert {s["expect"]["route"] for s in scenarios} == {"triage", "referral"}
    assert sum(s["expect"]["tier"] == "P0" for s in scenarios) >= 2


def test_make_scenarios_never_plays_the_second_heldback_set():
    regular = {s["id"] for s in suite.load()}
    first = {s["id"] for s in suite.load(suite.HERE / "heldback")}
    second = {s["id"] for s in suite.load(HELDBACK2)}
    assert second and not second & regular and not second & first
    assert not any(path.parent == HELDBACK2 for path in suite.CONVERSATIONS.rglob("*.yml"))
    assert run.parse_args([]).dir == suite.CONVERSATIONS


def test_dir_writes_the_second_heldback_sets_own_results_file():
    args = run.parse_args(["--dir", str(HELDBACK2), "--report-only"])
    assert args.dir == HELDBACK2
    assert args.out == ROOT / "results" / "scenarios-heldback2.json"
