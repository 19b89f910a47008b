"""A live hour on X as it is in 2026 (issue #15, "Done when"), played in about a minute:
``python -m bench.live_hour [--people 40] [--time-scale 60] [--quick]``, and a phase of
``make bench`` (``bench/run.py``; ``--quick`` in ``make bench-quick``).

The default deployment (``sandbox.stack.Stack``: SQLite, one Rasa server with its X channel in
webhook mode, the action server) against the X emulator at X's 2026 limits
(``X_SANDBOX_LIMITS=x-2026``: 15 DM sends per 15 minutes) and a time scale (``--time-scale
60``: a 15-minute window lasts 15 s, the hour one minute).

**The people** (:func:`cast`). ``--people`` people write in the first ``--arrivals-minutes``
(live minutes), evenly spread. Each plays a scenario of the scenario suite
(``tests/scenarios/``, ``docs/scenarios.md``), in an order drawn with ``--seed``: one person in
``--p0-every`` plays a P0 scenario, the others the rest, each list cycled. The person writes
the scenario's first message as a DM, waits for the whole answer (the DMs the X channel sends
for the assistant's turn, counted from the tracker as the suite counts them), then answers
what the assistant asked as the suite's person does (``tests/scenarios/dialogue.py``: the
tracker says what was asked, ``person.py`` answers; a button is typed as its option's number),
until the handover, an erasure, 15 messages, or the end of the hour.

**The date.** The servers' clock is frozen where the scenarios are written
(``PERMANENCE_FROZEN_NOW``, ``tests/scenarios/suite.py`` NOW; ``permanence/clock.py``): it
dates the legal content only (relative dates, deadlines, the schedule, which is always live
here). The emulator's windows, X's ``x-rate-limit-reset`` headers and the outbox's DM budget run
on the real clock, shortened by the time scale in the emulator only: the two never meet. The
sender's safety margin after a reset (``budget_margin_seconds``, 1 s) is scaled down with the
time, or it would cost a live minute per window; X's reset header is a whole second, which at
scale 60 can still cost up to a live minute per window.

**The lawyer** reads the desk's queue (``GET /desk/api/cases``) every ``--lawyer-poll-s`` live
seconds and answers each case once (take, reply). A person is **handed over within the hour**
when the desk showed their case within the hour (``handed_over_x`` or ``handed_over_web``).

**The web-chat overflow** (issue #15 item 4, ``permanence/continue_link.py``) is on: a secret
generated for the run, the Rasa server's address as the base URL, and
``PERMANENCE_CONTINUE_AFTER_SECONDS`` the plan's ``continue_after_minutes`` (5 live minutes)
scaled by the time scale (300 / 60 = 5 real seconds). When the answer to a person would wait
longer, the DM that goes out carries ``<base>/chat?continue=<token>``. A person who gets it
follows it as a real person might: ``--follow-share`` of them (70 %, drawn per person with the
seed, :func:`follows_link`); the others stay on X. Following (:func:`follow_overflow`): the web
chat opened with a socket.io client (``bench/web_page.py``) presenting the token, then the same
scenario person goes on there (:func:`talk_on_web`: the same tracker, so the same
``next_step``; a button is sent as its payload, as the page does), reading the bot's web-chat
messages instead of DMs, until the handover. A link that comes with the turn that ends the
conversation (the handover) is counted, not followed: the triage is over, the person waits for
the lawyer where they are. The page of a person who continued stays open until the end of the
hour: the lawyer's reply reaches it (the desk answers where the person last wrote). A person
the desk saw handed over is counted in ``handed_over_web`` if they continued on the web chat,
else in ``handed_over_x``.

Results (live seconds): ``bench/live_reading.py`` gives the figures and the targets' reading;
written to ``bench/results/live_hour.json`` as ``{"live_hour": {...}}`` when run alone.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp

from bench import live_reading, report, web_page
from bench.desk import api, create_lawyer
from bench.drive import Dm, Emulator, OutboxWatcher, http_session
from bench.progress import note
from bench.resources import LoadSampler
from connectors.webchat import CONTINUED, accepted_payload, domain_button_payloads
from permanence import continue_link
from sandbox.stack import MODEL, Stack
from tests.scenarios import suite
from tests.scenarios.dialogue import (
    latest_bot_events,
    latest_bot_messages,
    next_step,
    x_dms,
    x_option,
)
from tests.scenarios.person import Person as ScenarioPerson
from tests.scenarios.run import ALWAYS_LIVE, MAX_PERSON_TURNS

LAWYER_TEXT = ("Bonjour, je suis l'avocate de permanence. J'ai lu votre message : "
               "je vous réponds ici.")
DM_SEND = "dm_send"  # the emulator's limit key of POST /2/dm_conversations/...
TRACKER_WAIT_S = 10.0  # real seconds for the turn to be in the tracker once its DM came
OVERFLOW_MARK = "?continue="  # the web chat's continuation link (issue #15 item 4)


@dataclass(frozen=True)
class Plan:
    people: int = 40
    time_scale: float = 60.0
    hour_minutes: float = 60.0
    arrivals_minutes: float = 10.0
    p0_every: int = 4  # one person in four plays a P0 scenario (13 of the suite's 49)
    seed: int = 15
    lawyer_poll_s: float = 60.0  # live seconds between two looks at the desk's queue
    continue_after_minutes: float = 5.0  # the link when the next answer would wait longer
    follow_share: float = 0.7  # the share of people who follow the link they get
    quick: bool = False

    def real(self, live_seconds: float) -> float:
        return live_seconds / self.time_scale

    def live(self, real_seconds: float) -> float:
        return real_seconds * self.time_scale


FULL = Plan()
# make bench-quick: 8 people, a 20-minute "hour" (20 s of real time at scale 60).
QUICK = Plan(people=8, hour_minutes=20.0, arrivals_minutes=2.0, quick=True)


@dataclass
class Person:
    index: int
    id: str  # X user id (made up)
    scenario: dict[str, Any]
    wrote_at: float | None = None  # the first message, real clock
    first_ready_at: float | None = None  # the assistant's first answer in the tracker, real
    messages: int = 0  # DMs the person sent
    ended: str | None = None  # handover, erased, turn_limit (None: the hour ended first)
    overflow_links: int = 0
    follows_link: bool = False  # would follow the link to the web chat (drawn with the seed)
    link_refused: bool = False  # followed it, and the web chat refused the token
    page: web_page.Page | None = None  # the web chat, once the person continued there
    web_messages: int = 0  # messages the person wrote on the web chat

    @property
    def p0(self) -> bool:
        return self.scenario["expect"]["tier"] == "P0"

    @property
    def conversation(self) -> str:
        return Stack.x_conversation(self.id)

    @property
    def on_web(self) -> bool:
        return self.page is not None


@dataclass
class Lawyer:
    seen_at: dict[int, float] = field(default_factory=dict)  # case id -> real time seen
    conversation_of: dict[int, str] = field(default_factory=dict)  # case id -> x:<id>
    replied: set[int] = field(default_factory=set)
    errors: int = 0


def cast(plan: Plan, scenarios: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The scenario each person plays: one in ``p0_every`` a P0 one, each list shuffled with
    the plan's seed and cycled."""
    rng = random.Random(plan.seed)
    p0 = [s for s in scenarios if s["expect"]["tier"] == "P0"]
    others = [s for s in scenarios if s["expect"]["tier"] != "P0"]
    rng.shuffle(p0)
    rng.shuffle(others)
    chosen, taken = [], {"p0": 0, "others": 0}
    for index in range(plan.people):
        wants_p0 = bool(p0) and (index % plan.p0_every == 1 % plan.p0_every or not others)
        pool, key = (p0, "p0") if wants_p0 else (others, "others")
        chosen.append(pool[taken[key] % len(pool)])
        taken[key] += 1
    return chosen


# ------------------------------------------------------------------ the web-chat overflow


def overflow_link(text: str) -> bool:
    """Whether a DM carries the web chat's continuation link."""
    return OVERFLOW_MARK in text


def follows_link(plan: Plan, index: int) -> bool:
    """Whether person ``index`` follows the link when they get one: ``follow_share`` of the
    people, drawn per person with the plan's seed (the same person decides the same way in
    every run with that seed, whoever else gets a link)."""
    return random.Random(f"{plan.seed}:follow:{index}").random() < plan.follow_share


def continue_env(plan: Plan) -> dict[str, str]:
    """The overflow's settings for the servers (the base URL, the Rasa server's, is added once
    its port is known): a secret generated for the run, the wait scaled by the time scale."""
    return {continue_link.SECRET_ENV: secrets.token_urlsafe(48),
            continue_link.AFTER_ENV: f"{plan.real(plan.continue_after_minutes * 60):g}"}


async def follow_overflow(stack: Stack, person: Person, text: str) -> bool:
    """The person follows ``<base>/chat?continue=<token>`` of the DM ``text``: the web chat
    opened with the token. True when the server opened the X conversation there (the page is
    kept in ``person.page``); refused, the page is closed and the person stays on X."""
    token = continue_link.find_continue_token(text)
    if token is None:
        raise RuntimeError("a DM carries a continuation link without a valid token")
    page = await web_page.open_continued(stack.base_url, token)
    if not page.continued:
        person.link_refused = True
        await page.close()
        return False
    person.page = page
    return True


def web_content(step_payload: str | None, text: str) -> dict[str, str]:
    """What the page sends for a step: a button's payload (if the domain offers it, as the
    page's buttons do), else the typed text."""
    payload = accepted_payload(step_payload, domain_button_payloads())
    return {"payload": payload} if payload else {"message": text}


async def talk_on_web(stack: Stack, person: Person, speaker: ScenarioPerson,
                      domain: str | None, events: list[dict], end: float) -> None:
    """The same scenario person goes on in the web chat: what the tracker says was asked
    (``next_step``), answered on the page; each turn's answer is the page's next bot message
    (the web chat sends a turn's messages once the turn is saved), then the tracker is read."""
    page = person.page
    assert page is not None
    if not await page.until(1, max(0.0, end - time.time())):  # the page's welcome back
        return
    if page.said[0][1] != CONTINUED:
        raise RuntimeError("the continued web chat did not say it continues the conversation")
    while True:
        step = next_step(speaker, events, domain)
        if step.ended:
            person.ended = step.ended
            return
        if person.messages >= MAX_PERSON_TURNS:
            person.ended = "turn_limit"
            return
        heard = len(page.said)
        await page.say(web_content(step.payload, step.text))
        person.messages += 1
        person.web_messages += 1
        if not await page.until(heard + 1, max(0.0, end - time.time())):
            return  # the hour ended before the answer came
        events = await turn_events(stack, person, end)


# ------------------------------------------------------------------ one person


async def turn_events(stack: Stack, person: Person, end: float) -> list[dict]:
    """The conversation's events once the tracker holds the turn answering the person's
    latest message (Rasa saves the tracker before the X channel queues the turn's DMs)."""
    loop = asyncio.get_running_loop()
    deadline = min(end, time.time() + TRACKER_WAIT_S)
    while True:
        events = await loop.run_in_executor(None, stack.stored_events, person.conversation)
        users = sum(1 for event in events if event.get("event") == "user")
        if users >= person.messages or not events or time.time() >= deadline:
            return events
        await asyncio.sleep(0.05)


def answered_at(events: list[dict]) -> float | None:
    """When the assistant's answer to the latest message was ready: the timestamp (real
    clock) of the turn's last event, once it said something. What came after is the wait for
    the DM budget."""
    if not latest_bot_events(events):
        return None
    users = [i for i, event in enumerate(events) if event.get("event") == "user"]
    turn = events[users[-1]:] if users else events
    stamps = [float(e["timestamp"]) for e in turn if e.get("timestamp")]
    return max(stamps) if stamps else None


async def talk(stack: Stack, person: Person, emulator: Emulator, watcher: OutboxWatcher,
               delay: float, end: float) -> None:
    """The person writes at ``delay`` (real seconds from the start), then answers the
    assistant's turns as the scenario's person, until the conversation ends or the hour."""
    await asyncio.sleep(delay)
    speaker = ScenarioPerson.of(person.scenario)
    domain = suite.expected_domain(person.scenario)
    text = person.scenario["say"]
    person.wrote_at = time.time()
    while True:
        before = len(watcher.dms(person.id))
        await emulator.write(person.id, text)
        person.messages += 1
        if not await watcher.until(person.id, before + 1, timeout=max(0.0, end - time.time())):
            return  # the hour ended before the answer came
        events = await turn_events(stack, person, end)
        if person.first_ready_at is None:
            person.first_ready_at = answered_at(events)
        expected = before + max(1, x_dms(latest_bot_messages(events)))
        if not await watcher.until(person.id, expected, timeout=max(0.0, end - time.time())):
            return
        links = [dm.text for dm in watcher.dms(person.id)[before:expected]
                 if overflow_link(dm.text)]
        person.overflow_links += len(links)
        step = next_step(speaker, events, domain)
        if (links and not step.ended and person.follows_link and not person.link_refused
                and await follow_overflow(stack, person, links[0])):
            await talk_on_web(stack, person, speaker, domain, events, end)
            return
        if step.ended:
            person.ended = step.ended
            return
        if person.messages >= MAX_PERSON_TURNS:
            person.ended = "turn_limit"
            return
        text = (x_option(events, step.payload) if step.payload else None) or step.text


# ------------------------------------------------------------------ the lawyer


async def read_desk(session: aiohttp.ClientSession, rasa_url: str, token: str,
                    lawyer: Lawyer) -> list[dict]:
    """The open cases; each one seen for the first time is noted."""
    status, body = await api(session, "GET", f"{rasa_url}/desk/api/cases", token)
    if status != 200:
        lawyer.errors += 1
        return []
    cases = body["queue"] + body["flagged"]
    for case in cases:
        lawyer.seen_at.setdefault(case["id"], time.time())
        lawyer.conversation_of[case["id"]] = str(case["conversation_id"])
    return cases


async def lawyer_loop(plan: Plan, session: aiohttp.ClientSession, rasa_url: str, token: str,
                      lawyer: Lawyer, end: float) -> None:
    """Reads the queue every ``lawyer_poll_s`` live seconds; takes each new case and answers
    it once."""
    while time.time() < end:
        for case in await read_desk(session, rasa_url, token, lawyer):
            case_id = case["id"]
            if case_id in lawyer.replied:
                continue
            took, _ = await api(session, "POST", f"{rasa_url}/desk/api/cases/{case_id}/take",
                                token, {"takeover": True})
            said, _ = await api(session, "POST", f"{rasa_url}/desk/api/cases/{case_id}/reply",
                                token, {"text": LAWYER_TEXT})
            if took == 200 and said in (200, 202):
                lawyer.replied.add(case_id)
            else:
                lawyer.errors += 1
        await asyncio.sleep(plan.real(plan.lawyer_poll_s))


# ------------------------------------------------------------------ figures


def lawyer_reply(person: Person, dms: list[Dm]) -> tuple[float, str] | None:
    """When the lawyer's reply first reached the person (real clock) and where (``x``: a DM,
    ``web``: the web chat page), else None."""
    reached = [(dm.at, "x") for dm in dms if dm.text == LAWYER_TEXT][:1]
    at = person.page.first_at(LAWYER_TEXT) if person.page is not None else None
    if at is not None:
        reached.append((at, "web"))
    return min(reached) if reached else None


def records(plan: Plan, people: list[Person], watcher: OutboxWatcher, lawyer: Lawyer,
            start: float, end: float) -> tuple[list[dict[str, Any]], list[float], list[float]]:
    """Per person (live seconds from the start; no X id), every DM's send time, and the
    lawyer's reply waits, from what the run recorded."""
    seen = {conversation: lawyer.seen_at[case] for case, conversation
            in lawyer.conversation_of.items() if lawyer.seen_at[case] <= end}
    rows = []
    waits = []
    for person in people:
        dms = watcher.dms(person.id)
        handed_at = seen.get(person.conversation)
        replied = lawyer_reply(person, dms)
        wait = None
        if handed_at is not None and replied is not None:
            wait = plan.live(replied[0] - handed_at)
            waits.append(wait)
        rows.append({
            "index": person.index,
            "scenario": person.scenario["id"],
            "p0": person.p0,
            "arrived_at": (round(plan.live(person.wrote_at - start), 1)
                           if person.wrote_at is not None else None),
            "first_reply_at": round(plan.live(dms[0].at - start), 1) if dms else None,
            "first_ready_at": (round(plan.live(person.first_ready_at - start), 1)
                               if person.first_ready_at is not None else None),
            "messages": person.messages,
            "assistant_dms": sum(1 for dm in dms if dm.text != LAWYER_TEXT),
            "handed_over": handed_at is not None,
            "handed_over_at": (round(plan.live(handed_at - start), 1)
                               if handed_at is not None else None),
            "continued_on_web": person.on_web,
            "web_messages": person.web_messages,
            "handed_over_web": handed_at is not None and person.on_web,
            "lawyer_reply_via": replied[1] if wait is not None else None,
            "lawyer_reply_wait_s": round(wait, 1) if wait is not None else None,
            "ended": person.ended,
            "overflow_links": person.overflow_links,
            "follows_link": person.follows_link,
            "link_refused": person.link_refused,
        })
    send_times = sorted(round(plan.live(dm.at - start), 3)
                        for dms in watcher.received.values() for dm in dms)
    return [r for r in rows if r["arrived_at"] is not None], send_times, waits


async def play(plan: Plan, workdir: Path) -> dict[str, Any]:
    """Start the servers, play the hour, stop them; ``{"live_hour": {...}}``."""
    stack = Stack(workdir, x_mode="webhook", quiet_emulator=True, env={
        "X_SANDBOX_LIMITS": "x-2026", "X_SANDBOX_TIME_SCALE": f"{plan.time_scale:g}",
        "PERMANENCE_FROZEN_NOW": suite.NOW, "PERMANENCE_SCHEDULE_FILE": str(ALWAYS_LIVE),
        **continue_env(plan)},
        x_extra={"budget_margin_seconds": round(1.0 / plan.time_scale, 3)})
    stack.env[continue_link.BASE_URL_ENV] = stack.base_url
    loop = asyncio.get_running_loop()
    note(f"live hour: starting the servers (time scale {plan.time_scale:g})")
    await loop.run_in_executor(None, stack.start)
    try:
        _, token = await loop.run_in_executor(None, create_lawyer, stack.database_url)
        async with http_session() as session:
            emulator = Emulator(session, stack.x_base_url)
            info = await emulator.call("GET", "/_control/info")
            emulator.account_id = info["account"]["id"]
            window = (info.get("rate_limit_windows") or {}).get(DM_SEND, [{}])[0]
            await emulator.call("DELETE", "/_control/usage")
            people = [Person(index, str(10**15 + index), scenario,
                             follows_link=follows_link(plan, index))
                      for index, scenario in enumerate(cast(plan, suite.load()))]
            spacing = plan.real(plan.arrivals_minutes * 60) / max(plan.people, 1)
            load_at_start = round(os.getloadavg()[0], 2)
            start = time.time()
            end = start + plan.real(plan.hour_minutes * 60)
            lawyer = Lawyer()
            note(f"live hour: {plan.people} people, "
                 f"{plan.real(plan.hour_minutes * 60):.0f} s of real time")
            load = LoadSampler(interval=1.0).__enter__()
            async with OutboxWatcher(emulator, poll_seconds=0.05) as watcher:
                tasks = [asyncio.create_task(talk(stack, person, emulator, watcher,
                                                  index * spacing, end))
                         for index, person in enumerate(people)]
                tasks.append(asyncio.create_task(
                    lawyer_loop(plan, session, stack.rasa_url(), token, lawyer, end)))
                await asyncio.sleep(max(0.0, end - time.time()))
                for task in tasks:
                    task.cancel()
                outcomes = await asyncio.gather(*tasks, return_exceptions=True)
                await read_desk(session, stack.rasa_url(), token, lawyer)  # the last minute
                failures = [f"{type(o).__name__}: {o}"[:200] for o in outcomes
                            if isinstance(o, BaseException)
                            and not isinstance(o, asyncio.CancelledError)]
                usage = await emulator.call("GET", "/_control/usage")
                rows, send_times, waits = records(plan, people, watcher, lawyer, start, end)
                closed = await asyncio.gather(*(p.page.close() for p in people if p.page),
                                              return_exceptions=True)
                failures += [f"web chat close: {type(o).__name__}: {o}"[:200] for o in closed
                             if isinstance(o, BaseException)]
            load.__exit__(None, None, None)
        tracebacks = sum(stack.log(name).count("Traceback") for name in ("actions", "rasa"))
    finally:
        await loop.run_in_executor(None, stack.stop)
    result = live_reading.figures(rows, send_times, waits, usage)
    result.update({
        "ended": {kind: sum(1 for r in rows if (r["ended"] or "still_going") == kind)
                  for kind in ("handover", "erased", "turn_limit", "still_going")},
        "lawyer_errors": lawyer.errors,
        "driver_failures": failures,
        "server_tracebacks": tracebacks,
        "window_s": window.get("seconds", live_reading.WINDOW_S),
        "window_limit": window.get("limit", live_reading.LIMIT),
        "frozen_now": suite.NOW,
        "machine_load": load.summary(),
        "load_average_1m_at_start": load_at_start,
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": commit(),
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        "plan": asdict(plan),
        "per_person": rows,
        "send_times": send_times,
    })
    result["reading"] = live_reading.reading(result)
    return {"live_hour": result}


def commit() -> str:
    """The commit measured (``+changes`` when tracked files differ from it)."""
    head = report._command_output(["git", "-C", str(report.ROOT), "rev-parse", "--short",
                                   "HEAD"])
    dirty = report._command_output(["git", "-C", str(report.ROOT), "status", "--porcelain",
                                    "--untracked-files=no"])
    return (head or "?") + ("+changes" if dirty else "")


def summary_line(live: dict[str, Any]) -> str:
    keys = ("people", "people_answered", "handed_over_x", "handed_over_web",
            "dms_per_triage_median", "first_reply_p50_s", "first_reply_p99_s",
            "p0_first_reply_max_s", "lawyer_reply_wait_p50_s", "responses_429",
            "sends_into_spent_window", "cost_usd")
    return ", ".join(f"{key} {live.get(key)}" for key in keys)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.live_hour",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK.people} people, a {QUICK.hour_minutes:g}-minute hour")
    parser.add_argument("--people", type=int)
    parser.add_argument("--time-scale", type=float)
    parser.add_argument("--hour-minutes", type=float)
    parser.add_argument("--arrivals-minutes", type=float)
    parser.add_argument("--p0-every", type=int)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--follow-share", type=float,
                        help="the share of people who follow the link to the web chat "
                             f"(default {FULL.follow_share:g})")
    parser.add_argument("--continue-after-minutes", type=float,
                        help="the link when the next answer would wait longer (live minutes, "
                             f"default {FULL.continue_after_minutes:g})")
    parser.add_argument("--keep", action="store_true", help="keep the servers' folder and logs")
    parser.add_argument("--no-doc", action="store_true",
                        help="do not merge into latest.json nor rewrite section 6 of "
                             "docs/benchmarks.md (the quick run never does)")
    args = parser.parse_args(argv)
    if not MODEL.exists():
        print(f"{MODEL} is missing: run `make train` first", file=sys.stderr)
        return 2
    plan = QUICK if args.quick else FULL
    changes = {"people": args.people, "time_scale": args.time_scale,
               "hour_minutes": args.hour_minutes, "arrivals_minutes": args.arrivals_minutes,
               "p0_every": max(args.p0_every, 1) if args.p0_every else None,
               "seed": args.seed, "follow_share": args.follow_share,
               "continue_after_minutes": args.continue_after_minutes}
    plan = replace(plan, **{k: v for k, v in changes.items() if v is not None})
    workdir = Path(tempfile.mkdtemp(prefix="permanence-live-hour-"))
    try:
        results = asyncio.run(play(plan, workdir))
    finally:
        if args.keep:
            print(f"servers' folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    path = report.write_json(results, "live_hour.json")
    live = results["live_hour"]
    print(json.dumps({k: v for k, v in live.items() if k not in ("per_person", "send_times")},
                     indent=2, ensure_ascii=False))
    print()
    print(report.live_hour_doc(live, "`python -m bench.live_hour`"))
    print(f"results: {path.relative_to(report.ROOT)}")
    if not plan.quick and not args.no_doc:
        merged = report.merge_live_hour(live)
        report.write_doc(report.live_hour_doc(live, "`python -m bench.live_hour`"),
                         begin=report.LIVE_BEGIN, end=report.LIVE_END)
        print(f"merged into {merged.relative_to(report.ROOT)}; section 6 of "
              f"{report.DOC.relative_to(report.ROOT)} rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
