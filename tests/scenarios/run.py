"""The scenario suite: whole conversations against the real servers, scored (``make scenarios``).

    python -m tests.scenarios.run [--thresholds FILE] [--report-only] [--only ID ...]
                                  [--workers 2] [--dir DIR] [--out FILE]

The servers (action server, Rasa with the desk, SQLite, 127.0.0.1 only) are started ONCE by
``sandbox.stack.Stack`` with the clock frozen at ``suite.NOW`` (``PERMANENCE_FROZEN_NOW``) and
the lawyer always live. Each scenario (``conversations/*.yml``) is one conversation through the
REST door, under its own sender: the person (``person.py``) answers what the bot asked
(``tracker_reading.py``: the ``asked`` slot when the latest bot turn set it, else the turn read
from the tracker) until the
conversation is handed over (a ``pause`` after ``action_handoff``) or 15 person turns have
passed. The fact card is then read from the desk API, as a lawyer would, and scored
(``scoring.py``). Results go to ``results/scenarios.json``; the thresholds file (default
``thresholds.yml``, the issue's targets; ``SCENARIO_THRESHOLDS`` or ``--thresholds`` to
change it, e.g. ``floor.yml`` in ``make test``) decides the exit status, unless
``--report-only``.

``--dir`` plays another directory of scenario files instead of ``conversations/`` (e.g. the
held-back set, ``heldback/``, kept out of ``make scenarios``); its results then go to
``results/scenarios-<dir name>.json`` unless ``--out`` says otherwise.

Not a pytest module: the pure parts are tested by ``test_*.py`` next to it.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from actions.domains import IN_SCOPE, OUT_OF_SCOPE
from sandbox.stack import MODEL, ROOT, Stack, wait_for
from tests.scenarios import scoring, suite
from tests.scenarios.dialogue import HANDOVER, handed_over, next_step, x_dms
from tests.scenarios.person import Person

HERE = Path(__file__).resolve().parent
ALWAYS_LIVE = ROOT / "tests" / "schedule_always_live.yml"
THRESHOLDS_ENV = "SCENARIO_THRESHOLDS"
MAX_PERSON_TURNS = 15
DESK_CASE_WAIT = 15.0


# ------------------------------------------------------------------ the route (counting and the
# next step: dialogue.py, shared with the live-hour benchmark)


def observed_route(card: dict, case: dict | None) -> str | None:
    """'referral' for a referral case or the out-of-scope domain, 'triage' for a public-law
    domain, None when the card has no domain (the route was never decided)."""
    if (case or {}).get("kind") == "referral" or card.get("domaine") == OUT_OF_SCOPE:
        return "referral"
    if card.get("domaine") in IN_SCOPE:
        return "triage"
    return None


# ------------------------------------------------------------------ the desk


class Desk:
    """The lawyer's side: a desk user created with ``desk.cli``, the cases read from the API."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        env = {**os.environ, "PERMANENCE_DATABASE_URL": f"sqlite:///{stack.db_path}",
               "PERMANENCE_X_DATABASE_URL": f"sqlite:///{stack.x_db_path}"}
        email = f"scenarios-{secrets.token_hex(4)}@cabinet.example"
        self._cli(env, "user", email, "--password-stdin",
                  stdin=f"{secrets.token_urlsafe(18)}\n")
        self.token = self._cli(env, "token", email).strip().splitlines()[-1]

    @staticmethod
    def _cli(env: dict, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run([sys.executable, "-m", "desk.cli", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120, input=stdin)
        if done.returncode != 0:
            raise RuntimeError(f"desk.cli {args[0]} failed: {done.stderr[-2000:]}")
        return done.stdout

    def case(self, conversation_id: str) -> dict | None:
        request = urllib.request.Request(f"{self.stack.base_url}/desk/api/cases", headers={
            "Authorization": f"Bearer {self.token}"})
        with urllib.request.urlopen(request, timeout=60) as response:
            body = json.loads(response.read())
        mine = [c for c in body["queue"] + body["flagged"]
                if c.get("conversation_id") == conversation_id]
        return mine[0] if mine else None


# ------------------------------------------------------------------ one conversation


def converse(stack: Stack, desk: Desk, scenario: dict) -> dict[str, Any]:
    """Play one scenario; the raw outcome (transcript, counts, case, slots)."""
    sender = f"scen-{scenario['id']}-{secrets.token_hex(4)}"
    conversation = f"rest:{sender}"
    person = Person.of(scenario)
    domain_button = suite.expected_domain(scenario)
    transcript: list[dict[str, Any]] = []
    counts = {"person_turns": 0, "bot_messages": 0, "characters": 0, "x_dms": 0}
    opening: list[int] = []

    def turn(text: str, payload: str | None = None, asked=None, source=None, read=None) -> None:
        counts["person_turns"] += 1
        transcript.append({"who": "person", "text": text if payload is None else payload,
                           "asked": asked, "read": read, "source": source})
        messages = (stack.say(sender, text) if payload is None
                    else stack.press(sender, payload))
        for message in messages:
            transcript.append({"who": "bot", "text": message.get("text", ""),
                               "buttons": [b.get("title") for b in message.get("buttons", [])]})
        characters = sum(len(m.get("text") or "") for m in messages)
        if not opening:
            opening.append(characters)
        counts["bot_messages"] += len(messages)
        counts["characters"] += characters
        counts["x_dms"] += x_dms(messages)

    turn(scenario["say"], source="say")
    events = stack.stored_events(conversation)
    ended = "turn_limit"
    while counts["person_turns"] < MAX_PERSON_TURNS:
        step = next_step(person, events, domain_button)
        if step.ended:
            ended = step.ended
            break
        turn(step.text, step.payload, step.asked, step.source, step.read)
        events = stack.stored_events(conversation)
    if ended == "turn_limit" and handed_over(events):
        ended = HANDOVER
    done = ended == HANDOVER
    case = (wait_for(lambda: desk.case(conversation), DESK_CASE_WAIT, 0.2) if done
            else desk.case(conversation))
    return {"conversation": conversation, "handed_over": done, "case": case,
            "slots": stack.stored_slots(conversation), "transcript": transcript,
            "opening_characters": opening[0] if opening else 0, "ended": ended, **counts}


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def score(scenario: dict, outcome: dict) -> dict[str, Any]:
    expect = scenario["expect"]
    case = outcome["case"]
    card = (case or {}).get("fact_card") or {}
    route = observed_route(card, case)
    ordres = outcome["slots"].get("ordres") or []
    facts = {}
    for key, want in (expect.get("facts") or {}).items():
        want = [_iso(w) for w in want] if isinstance(want, list) else _iso(want)
        got = card.get(key)
        facts[key] = {"expected": want, "got": got, "right": scoring.fact_right(key, want, got)}
    deadline = card.get("echeance_estimee")
    want_deadline = _iso(expect.get("deadline"))
    result = {
        "id": scenario["id"],
        "file": scenario["file"],
        "tags": scenario.get("tags") or [],
        "handed_over": outcome["handed_over"],
        "ended": outcome["ended"],
        "desk_case": case is not None,
        "route": route, "expected_route": expect["route"],
        "ordres": ordres, "expected_ordre": expect.get("ordre"),
        "route_right": scoring.route_right(expect["route"], expect.get("ordre"), route, ordres),
        "tier": card.get("urgence"), "expected_tier": expect["tier"],
        "deadline": deadline, "expected_deadline": want_deadline,
        "deadline_verdict": scoring.deadline_verdict(want_deadline, deadline),
        "late": scoring.deadline_verdict(want_deadline, deadline) == "late",
        "deadline_rule": card.get("echeance_regle"),
        "facts": facts,
        "facts_right": sum(f["right"] for f in facts.values()),
        "facts_expected": len(facts),
        "person_turns": outcome["person_turns"],
        "bot_messages": outcome["bot_messages"],
        "characters": outcome["characters"],
        "opening_characters": outcome["opening_characters"],
        "x_dms": outcome["x_dms"],
        "transcript": outcome["transcript"],
    }
    result["fully_right"] = scoring.fully_right(result)
    return result


def failed(scenario: dict, error: str) -> dict[str, Any]:
    """The result of a scenario that could not be played: every check fails, and it says why."""
    expect = scenario["expect"]
    want_deadline = _iso(expect.get("deadline"))
    return {"id": scenario["id"], "file": scenario["file"], "tags": scenario.get("tags") or [],
            "error": error, "handed_over": False, "ended": "error",
            "desk_case": False,
            "route": None, "expected_route": expect["route"], "ordres": [],
            "expected_ordre": expect.get("ordre"), "route_right": False,
            "tier": None, "expected_tier": expect["tier"],
            "deadline": None, "expected_deadline": want_deadline,
            "deadline_verdict": scoring.deadline_verdict(want_deadline, None), "late": False,
            "deadline_rule": None, "facts": {}, "facts_right": 0,
            "facts_expected": len(expect.get("facts") or {}), "person_turns": 0,
            "bot_messages": 0, "characters": 0, "opening_characters": 0, "x_dms": 0,
            "fully_right": False, "transcript": []}


def play_all(scenarios: list[dict], workers: int) -> tuple[list[dict], int, Path]:
    """Boot the servers once, play every scenario; (results, tracebacks logged, workdir)."""
    env = {"PERMANENCE_SCHEDULE_FILE": str(ALWAYS_LIVE), "PERMANENCE_FROZEN_NOW": suite.NOW}
    workdir = Path(tempfile.mkdtemp(prefix="scenarios-"))
    with Stack(workdir, x_mode=None, env=env) as stack:
        desk = Desk(stack)

        def one(scenario: dict) -> dict[str, Any]:
            try:
                return score(scenario, converse(stack, desk, scenario))
            except Exception as error:  # recorded as a failed scenario, never absorbed
                return failed(scenario, f"{type(error).__name__}: {error}")

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            results = list(pool.map(one, scenarios))
        tracebacks = sum(stack.log(name).count("Traceback") for name in ("actions", "rasa"))
    return results, tracebacks, workdir


# ------------------------------------------------------------------ report


def failure_rows(result: dict) -> list[str]:
    rows = []
    if result.get("error"):
        rows.append(f"error: {result['error']}")
    if result["ended"] == "erased":
        rows.append(f"the assistant ERASED the conversation after {result['person_turns']} "
                    "person turns (read a message as stop or delete_data)")
    elif not result["handed_over"]:
        rows.append(f"not handed over after {result['person_turns']} person turns")
    if not result["route_right"]:
        ordre = (f", Ordre {result['ordres']} (expected {result['expected_ordre']!r})"
                 if result["expected_route"] == "referral" else "")
        rows.append(f"route {result['route']} (expected {result['expected_route']}){ordre}")
    if result["tier"] != result["expected_tier"]:
        rows.append(f"tier {result['tier']} (expected {result['expected_tier']})")
    if result["deadline_verdict"] != "right":
        rows.append(f"deadline {result['deadline_verdict'].upper()}: {result['deadline']} "
                    f"(expected {result['expected_deadline']})")
    for key, fact in result["facts"].items():
        if not fact["right"]:
            rows.append(f"fact {key}: {fact['got']!r} (expected {fact['expected']!r})")
    return rows


def print_report(results: list[dict], summary: dict, failures: list[str]) -> None:
    print(f"\n{'scenario':36} {'route':6} {'tier':5} {'deadline':10} facts turns msgs DMs")
    for r in results:
        print(f"{r['id'][:36]:36} {'ok' if r['route_right'] else 'WRONG':6} "
              f"{'ok' if r['tier'] == r['expected_tier'] else 'WRONG':5} "
              f"{r['deadline_verdict']:10} {r['facts_right']:>2}/{r['facts_expected']:<2} "
              f"{r['person_turns']:>5} {r['bot_messages']:>4} {r['x_dms']:>3}")
    print("\nFailures by scenario:")
    for r in results:
        rows = failure_rows(r)
        if rows:
            print(f"  {r['id']}:")
            for row in rows:
                print(f"    - {row}")
    flat = {k: v for k, v in summary.items() if k not in ("by_file", "by_tag")}
    print("\nSummary: " + json.dumps(flat, ensure_ascii=False))
    if failures:
        print(f"\nThresholds missed ({summary['thresholds']}):")
        for line in failures:
            print(f"  - {line}")
    else:
        print(f"\nAll thresholds met ({summary['thresholds']}).")


def default_out(directory: Path) -> Path:
    """Where a run's results go: ``results/scenarios.json`` for the suite's own conversations,
    ``results/scenarios-<name>.json`` for another directory, so that a held-back run never
    overwrites the suite's figures."""
    if Path(directory).resolve() == suite.CONVERSATIONS.resolve():
        return ROOT / "results" / "scenarios.json"
    return ROOT / "results" / f"scenarios-{Path(directory).resolve().name}.json"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--thresholds", default=os.environ.get(THRESHOLDS_ENV)
                        or str(HERE / "thresholds.yml"),
                        help=f"thresholds file (default: ${THRESHOLDS_ENV}, else thresholds.yml)")
    parser.add_argument("--report-only", action="store_true",
                        help="report the figures, never fail on the thresholds")
    parser.add_argument("--only", nargs="*", help="scenario ids to run")
    parser.add_argument("--workers", type=int, default=2,
                        help="conversations played at once on the one stack (default 2)")
    parser.add_argument("--dir", type=Path, default=suite.CONVERSATIONS,
                        help="directory of scenario files (default: conversations/)")
    parser.add_argument("--out", type=Path, default=None,
                        help="results file (default: results/scenarios.json, or "
                        "results/scenarios-<dir name>.json with --dir)")
    args = parser.parse_args(argv)
    if args.out is None:
        args.out = default_out(args.dir)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not MODEL.exists():
        print(f"{MODEL} is missing: run `make train` first", file=sys.stderr)
        return 2
    thresholds_path = Path(args.thresholds)
    thresholds = yaml.safe_load(thresholds_path.read_text()) or {}
    if not args.dir.is_dir():
        print(f"{args.dir} is not a directory", file=sys.stderr)
        return 2
    scenarios = suite.load(args.dir)
    if not scenarios:
        print(f"no scenario in {args.dir}", file=sys.stderr)
        return 2
    if args.only:
        unknown = set(args.only) - {s["id"] for s in scenarios}
        if unknown:
            print(f"unknown scenario ids: {sorted(unknown)}", file=sys.stderr)
            return 2
        scenarios = [s for s in scenarios if s["id"] in set(args.only)]
    started = time.monotonic()
    results, tracebacks, workdir = play_all(scenarios, args.workers)
    summary = scoring.summarise(results)
    summary.update(server_tracebacks=tracebacks, frozen_now=suite.NOW,
                   wall_seconds=round(time.monotonic() - started, 1), workers=args.workers,
                   thresholds=os.path.relpath(thresholds_path.resolve(), ROOT))
    failures = scoring.check(summary, thresholds)
    summary["thresholds_missed"] = failures
    summary["by_file"] = scoring.breakdown(results, "file")
    summary["by_tag"] = scoring.breakdown(results, "tags")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"summary": summary, "scenarios": results}, ensure_ascii=False,
                              indent=1, default=str))
    print_report(results, summary, failures)
    if tracebacks or summary["errors"]:
        print(f"\nServer tracebacks or scenario errors: the servers' logs are kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\n{len(results)} scenarios in {summary['wall_seconds']} s; results in {out}")
    return 1 if failures and not args.report_only else 0


if __name__ == "__main__":
    sys.exit(main())
