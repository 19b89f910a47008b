"""The third held-back set (tests/scenarios/heldback3/): loads as checked scenarios, is kept
out of the regular suite and out of the first and second held-back sets, and is played only
with ``--dir`` (docs/scenarios.md, « A third held-back set »)."""

from __future__ import annotations

from datetime import date

from sandbox.stack import ROOT
from tests.scenarios import run, suite

HELDBACK3 = suite.HERE / "heldback3"


def test_the_third_heldback_set_is_twelve_checked_conversations_with_their_computation():
    scenarios = suite.load(HELDBACK3)
    assert len(scenarios) == 12
    assert [s["file"] for s in scenarios] == ["heldback3.yml"] * 12
    for scenario in scenarios:
        assert scenario["note"], scenario["id"]
        if scenario["expect"]["route"] == "triage":
            assert isinstance(scenario["expect"]["deadline"], date), scenario["id"]
    assert {s["expect"]["route"] for s in scenarios} == {"triage", "referral"}
    assert sum(s["expect"]["route"] == "referral" and bool(s["expect"]["ordre"])
               for s in scenarios) >= 2
    assert sum(s["expect"]["tier"] == "P0" for s in scenarios) >= 2
    assert sum(s["expect"]["tier"] == "P0"
               and s["expect"]["facts"].get("mesure_privative") in ("retention", "assignation")
               for s in scenarios) >= 2


def test_make_scenarios_never_plays_the_third_heldback_set():
    regular = {s["id"] for s in suite.load()}
    first = {s["id"] for s in suite.load(suite.HERE / "heldback")}
    second = {s["id"] for s in suite.load(suite.HERE / "heldback2")}
    third = {s["id"] for s in suite.load(HELDBACK3)}
    assert third and not third & regular and not third & first and not third & second
    assert not any(path.parent == HELDBACK3 for path in suite.CONVERSATIONS.rglob("*.yml"))
    assert run.parse_args([]).dir == suite.CONVERSATIONS


def test_dir_writes_the_third_heldback_sets_own_results_file():
    args = run.parse_args(["--dir", str(HELDBACK3), "--report-only"])
    assert args.dir == HELDBACK3
    assert args.out == ROOT / "results" / "scenarios-heldback3.json"
