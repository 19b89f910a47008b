"""Both command lines, run as ``python -m`` from the repository root."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(module: str, *args: str) -> tuple[int, dict, str]:
    proc = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "Traceback" not in proc.stderr
    payload = json.loads(proc.stdout) if proc.stdout.strip().startswith("{") else {}
    return proc.returncode, payload, proc.stdout


# --- deadlines ------------------------------------------------------------------------------


def test_deadlines_general_example() -> None:
    # Thu 10 Sep 2026 -> 11 Nov 2026 (holiday) -> 12 Nov 2026 (LEGAL.md worked example).
    code, data, _ = run("actions.deadlines", "--kind", "general", "--from", "2026-09-10")
    assert code == 0
    assert data["deadline"] == "2026-11-12"
    assert data["time"] == "24:00"
    assert "R. 421-1" in data["rule"] and "R. 421-1" in data["source"]
    assert data["kind"] == "general" and isinstance(data["notes"], list)


def test_deadlines_options() -> None:
    # Good Friday 3 Apr 2026 is a holiday in Alsace-Moselle: -> Tue 7 Apr 2026.
    code, data, _ = run("actions.deadlines", "--kind", "general", "--from", "2026-02-02",
                        "--alsace-moselle")
    assert code == 0 and data["deadline"] == "2026-04-07"
    code, data, _ = run("actions.deadlines", "--kind", "general", "--from", "2026-02-02",
                        "--departement", "57")
    assert code == 0 and data["deadline"] == "2026-04-07"
    # Recours gracieux 1 Oct 2026 -> implicit rejection 1 Dec -> 2 Feb 2027.
    code, data, _ = run("actions.deadlines", "--kind", "general", "--from", "2026-09-10",
                        "--recours-gracieux", "2026-10-01")
    assert code == 0 and data["deadline"] == "2027-02-02"
    # 48 hours from 6 Mar 2026 15:30.
    code, data, _ = run("actions.deadlines", "--kind", "oqtf_48_hours", "--from", "2026-03-06",
                        "--time", "15:30")
    assert code == 0
    assert (data["deadline"], data["time"], data["expires_at"]) == (
        "2026-03-08", "15:30", "2026-03-08T15:30")
    # Elections: 18:00 on the fifth day.
    code, data, _ = run("actions.deadlines", "--kind", "election", "--from", "2026-03-15")
    assert code == 0 and (data["deadline"], data["time"]) == ("2026-03-20", "18:00")
    # Standstill by post: 16 days.
    code, data, _ = run("actions.deadlines", "--kind", "procurement_standstill", "--from",
                        "2026-03-02", "--paper")
    assert code == 0 and data["deadline"] == "2026-03-18"


def test_deadlines_help_lists_kinds() -> None:
    proc = subprocess.run([sys.executable, "-m", "actions.deadlines", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0
    for kind in ("general", "implicit_rejection", "czabaj", "oqtf_month", "oqtf_7_days",
                 "oqtf_48_hours", "election", "urbanisme_display", "procurement_standstill"):
        assert kind in proc.stdout


@pytest.mark.parametrize("args", [
    ["--kind", "general", "--from", "2026-13-01"],
    ["--kind", "general", "--from", "10/09/2026"],
    ["--kind", "nope", "--from", "2026-09-10"],
    ["--kind", "general"],
    ["--kind", "czabaj", "--from", "2026-09-10", "--paper"],
    ["--kind", "general", "--from", "2026-09-10", "--recours-gracieux", "2026-01-01"],
    ["--kind", "oqtf_48_hours", "--from", "2026-09-10", "--time", "25:00"],
])
def test_deadlines_bad_input(args: list[str]) -> None:
    code, data, _ = run("actions.deadlines", *args)
    assert code == 2
    assert "error" in data


# --- referral -------------------------------------------------------------------------------


def test_referral_postcode() -> None:
    code, data, _ = run("actions.referral", "62000")
    assert code == 0
    assert data["departement"] == {"code": "62", "name": "Pas-de-Calais"}
    assert data["ordres"][0]["name"] == "Barreau d'Arras"
    assert data["ordres"][0]["seat"] == "Arras"
    assert {p["url"] for p in data["pointers"]} == {
        "https://www.cnb.avocat.fr/fr/annuaire-des-avocats-de-france",
        "https://www.justice.fr/recherche/annuaires",
    }


def test_referral_commune_with_spaces() -> None:
    code, data, _ = run("actions.referral", "Le", "Mans")
    assert code == 0 and data["ordres"][0]["name"] == "Barreau du Mans"
    code, data, _ = run("actions.referral", "20200")
    assert code == 0 and data["departement"]["code"] == "2B"


@pytest.mark.parametrize("args", [[], [""], ["abc"], ["999999"], ["00000"], ["Saint-Denis"]])
def test_referral_bad_input(args: list[str]) -> None:
    code, data, _ = run("actions.referral", *args)
    assert code == 2
    assert data["error"] and data["error_type"] in ("malformed", "unknown", "ambiguous")
