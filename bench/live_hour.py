"""A live hour on X as it is in 2026 (issue #15, "Done when"), played in a minute or so:
``python -m bench.live_hour [--people 40] [--time-scale 60]``.

SKELETON. What it does: the default deployment (``sandbox.stack.Stack``: SQLite, one Rasa
server with its X channel in webhook mode, the action server) against the X emulator at X's
2026 limits (``X_SANDBOX_LIMITS=x-2026``: 15 DM sends per 15 minutes) and a time scale
(``--time-scale 60``: a 15-minute window lasts 15 s, the hour one minute). ``--people`` people
write in the first ``--arrivals-minutes`` (live minutes), evenly spread; one in
``--p0-every`` tells a P0 story and asks for the lawyer (``bench.drive.X_HANDOVER``), the
others follow the triage script (``bench.drive.X_SCRIPT``). A person answers once a DM came
and then nothing for ``--silence-s`` live seconds. A lawyer answers each case that opens, once,
through the desk's API. At the end of the hour, from the emulator's clock, outbox and usage:

    people, handed_over_x, handed_over_web (0: the web-chat overflow, item 4, is not built),
    dms_per_triage_median (DMs received by a person handed over), first_reply_p50_s /
    first_reply_p99_s and p0_first_reply_max_s (live seconds from the first message to the first
    DM), lawyer_reply_wait_p50_s (live seconds from the case seen by the lawyer to the reply
    DM), responses_429 (every 429 the emulator gave for a spent window), sends_into_spent_window
    (those on DM sends: requests into a spent window), cost_usd (the emulator's pay-per-use
    count), dms_sent, people_answered, and the reading of the targets of issue #15.

Written to ``bench/results/live_hour.json`` as ``{"live_hour": {...}}``; not yet a section
of ``make bench`` nor merged into ``latest.json``.

What remains (issue #15): conversations drawn from the scenario suite instead of two scripts;
"handed over within the hour" as the desk sees it for each person (today: the cases opened);
the overflow to the web chat; the run as a phase of ``bench/run.py`` with its table in
``docs/benchmarks.md``; the targets checked by ``bench/report.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.desk import api, create_lawyer
from bench.drive import X_HANDOVER, X_SCRIPT, Emulator, OutboxWatcher, http_session
from bench.progress import note
from bench.report import RESULTS
from bench.stats import percentile, rounded
from sandbox.stack import MODEL, Stack

LAWYER_TEXT = ("Bonjour, je suis l'avocate de permanence. J'ai lu votre message : "
               "je vous réponds ici.")
DM_SEND = "dm_send"  # the emulator's limit key of POST /2/dm_conversations/...


@dataclass(frozen=True)
class Plan:
    people: int = 40
    time_scale: float = 60.0
    hour_minutes: float = 60.0
    arrivals_minutes: float = 10.0
    p0_every: int = 8  # one person in eight is P0 and asks for the lawyer
    silence_s: float = 60.0  # live seconds without a new DM: the answer is complete
    lawyer_poll_s: float = 60.0  # live seconds between two looks at the desk's queue

    def real(self, live_seconds: float) -> float:
        return live_seconds / self.time_scale

    def live(self, real_seconds: float) -> float:
        return real_seconds * self.time_scale


@dataclass
class Person:
    id: str
    p0: bool
    script: tuple[str, ...]
    wrote_at: float | None = None  # the first message, emulator clock (real seconds)
    turns_done: int = 0


@dataclass
class Lawyer:
    seen_at: dict[int, float] = field(default_factory=dict)  # case id -> real time seen
    person_of: dict[int, str] = field(default_factory=dict)  # case id -> X user id
    replied: set[int] = field(default_factory=set)
    errors: int = 0


async def talk(plan: Plan, person: Person, emulator: Emulator, watcher: OutboxWatcher,
               delay: float, end: float) -> None:
    """The person writes at ``delay`` (real seconds from the start), then answers each time
    the assistant has finished answering, until the script or the hour ends."""
    await asyncio.sleep(delay)
    for text in person.script:
        if time.time() >= end:
            return
        before = len(watcher.dms(person.id))
        if person.wrote_at is None:
            person.wrote_at = time.time()
        await emulator.write(person.id, text)
        person.turns_done += 1
        remaining = end - time.time()
        if remaining <= 0:
            return
        await watcher.quiet(person.id, before, silence=plan.real(plan.silence_s),
                            timeout=remaining)


async def lawyer_loop(plan: Plan, session: aiohttp.ClientSession, rasa_url: str, token: str,
                      lawyer: Lawyer, end: float) -> None:
    """Reads the queue every ``lawyer_poll_s`` live seconds; takes each new case and answers
    it once."""
    while time.time() < end:
        status, body = await api(session, "GET", f"{rasa_url}/desk/api/cases", token)
        if status != 200:
            lawyer.errors += 1
        else:
            for case in body["queue"] + body["flagged"]:
                case_id = case["id"]
                if case_id in lawyer.replied:
                    continue
                lawyer.seen_at.setdefault(case_id, time.time())
                lawyer.person_of[case_id] = str(case["sender_id"]).removeprefix("x:")
                took, _ = await api(session, "POST", f"{rasa_url}/desk/api/cases/{case_id}/take",
                                    token, {"takeover": True})
                said, _ = await api(session, "POST",
                                    f"{rasa_url}/desk/api/cases/{case_id}/reply", token,
                                    {"text": LAWYER_TEXT})
                if took == 200 and said in (200, 202):
                    lawyer.replied.add(case_id)
                else:
                    lawyer.errors += 1
        await asyncio.sleep(plan.real(plan.lawyer_poll_s))


def figures(plan: Plan, people: list[Person], watcher: OutboxWatcher, lawyer: Lawyer,
            usage: dict[str, Any]) -> dict[str, Any]:
    """The live hour's figures (live seconds), from what the run recorded."""
    first = {p.id: plan.live(watcher.dms(p.id)[0].at - p.wrote_at)
             for p in people if p.wrote_at is not None and watcher.dms(p.id)}
    handed = {lawyer.person_of[c] for c in lawyer.seen_at}
    waits = []
    for case_id, seen in lawyer.seen_at.items():
        person = lawyer.person_of[case_id]
        replies = [dm.at for dm in watcher.dms(person) if dm.text == LAWYER_TEXT]
        if replies:
            waits.append(plan.live(replies[0] - seen))
    p0_first = [first[p.id] for p in people if p.p0 and p.id in first]
    rate_limited = usage.get("rate_limited_429") or {}
    dms_per_triage = [len(watcher.dms(p)) for p in handed]
    window_live = 15 * 60
    return {
        "people": len(people),
        "people_answered": len(first),
        "handed_over_x": len(handed),
        "handed_over_web": 0,
        "dms_sent": sum(len(watcher.dms(p.id)) for p in people),
        "dms_per_triage_median": (statistics.median(dms_per_triage) if dms_per_triage
                                  else None),
        "first_reply_p50_s": rounded(percentile(list(first.values()), 0.5)),
        "first_reply_p99_s": rounded(percentile(list(first.values()), 0.99)),
        "p0_first_reply_max_s": rounded(max(p0_first)) if p0_first else None,
        "lawyer_reply_wait_p50_s": rounded(percentile(waits, 0.5)),
        "lawyer_replies_delivered": len(waits),
        "responses_429": sum(rate_limited.values()),
        "sends_into_spent_window": rate_limited.get(DM_SEND, 0),
        "cost_usd": usage.get("cost_usd"),
        "cost_usd_by_kind": usage.get("cost_usd_by_kind"),
        "first_reply_within_windows": {
            "bound_windows": math.ceil(len(people) / 15),
            "late_people": sum(1 for value in first.values()
                               if value > math.ceil(len(people) / 15) * window_live),
        },
        "lawyer_errors": lawyer.errors,
    }


async def play(plan: Plan, workdir: Path) -> dict[str, Any]:
    stack = Stack(workdir, x_mode="webhook", quiet_emulator=True, env={
        "X_SANDBOX_LIMITS": "x-2026", "X_SANDBOX_TIME_SCALE": f"{plan.time_scale:g}"})
    loop = asyncio.get_running_loop()
    note(f"live hour: starting the servers (time scale {plan.time_scale:g})")
    await loop.run_in_executor(None, stack.start)
    try:
        _, token = await loop.run_in_executor(None, create_lawyer, stack.database_url)
        async with http_session() as session:
            emulator = Emulator(session, stack.x_base_url)
            info = await emulator.call("GET", "/_control/info")
            emulator.account_id = info["account"]["id"]
            await emulator.call("DELETE", "/_control/usage")
            people = [Person(str(10**15 + index), index % plan.p0_every == 0,
                             X_HANDOVER if index % plan.p0_every == 0 else X_SCRIPT)
                      for index in range(plan.people)]
            spacing = plan.real(plan.arrivals_minutes * 60) / max(plan.people, 1)
            end = time.time() + plan.real(plan.hour_minutes * 60)
            lawyer = Lawyer()
            note(f"live hour: {plan.people} people, "
                 f"{plan.real(plan.hour_minutes * 60):.0f} s of real time")
            async with OutboxWatcher(emulator, poll_seconds=0.05) as watcher:
                tasks = [asyncio.create_task(talk(plan, person, emulator, watcher,
                                                  index * spacing, end))
                         for index, person in enumerate(people)]
                tasks.append(asyncio.create_task(
                    lawyer_loop(plan, session, stack.rasa_url(), token, lawyer, end)))
                await asyncio.sleep(max(0.0, end - time.time()))
                for task in tasks:
                    task.cancel()
                outcomes = await asyncio.gather(*tasks, return_exceptions=True)
                failures = [type(o).__name__ for o in outcomes
                            if isinstance(o, BaseException)
                            and not isinstance(o, asyncio.CancelledError)]
                usage = await emulator.call("GET", "/_control/usage")
                result = figures(plan, people, watcher, lawyer, usage)
                result["driver_failures"] = failures
    finally:
        await loop.run_in_executor(None, stack.stop)
    return {"live_hour": {**result, "plan": asdict(plan), "skeleton": True}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.live_hour",
                                     description=__doc__.splitlines()[0])
    defaults = Plan()
    parser.add_argument("--people", type=int, default=defaults.people)
    parser.add_argument("--time-scale", type=float, default=defaults.time_scale)
    parser.add_argument("--hour-minutes", type=float, default=defaults.hour_minutes)
    parser.add_argument("--arrivals-minutes", type=float, default=defaults.arrivals_minutes)
    parser.add_argument("--p0-every", type=int, default=defaults.p0_every)
    parser.add_argument("--keep", action="store_true", help="keep the servers' folder and logs")
    args = parser.parse_args(argv)
    if not MODEL.exists():
        print(f"{MODEL} is missing: run `make train` first", file=sys.stderr)
        return 2
    plan = Plan(people=args.people, time_scale=args.time_scale,
                hour_minutes=args.hour_minutes, arrivals_minutes=args.arrivals_minutes,
                p0_every=max(args.p0_every, 1))
    workdir = Path(tempfile.mkdtemp(prefix="permanence-live-hour-"))
    try:
        results = asyncio.run(play(plan, workdir))
    finally:
        if args.keep:
            print(f"servers' folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "live_hour.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(results["live_hour"], indent=2, ensure_ascii=False))
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
