"""The benchmark suite: ``make bench`` (``python -m bench``) and ``make bench-quick``
(``python -m bench --quick``, a smoke run of every section with small numbers).

Full run, in three phases, each on servers started for it on 127.0.0.1 (``sandbox.stack``):

A. The default deployment: SQLite, one Rasa server with its X channel in webhook mode (the
   ingress thread), the action server and the X emulator. Sections 1 (conversations), 3
   (desk), 2 (acknowledgement under saturation, last: it leaves a backlog), 5 (memory).
B. PostgreSQL and Redis started by the benchmark, the same servers with two Rasa processes:
   section 4 (one process, then two), the desk's queue and the acknowledgement (ingress
   thread and process) on PostgreSQL.
C. A live hour on X (``bench/live_hour.py``): SQLite, one Rasa server, the X emulator at X's
   2026 limits and a time scale, 40 people playing the scenario suite over DMs, some of them
   continuing on the web chat through the overflow link (8 people and a 20-minute hour in the
   quick run).

Results: ``bench/results/latest.json`` and the tables in ``docs/benchmarks.md`` (between
markers; the reading around them is written by hand). The quick run starts one stack, on
PostgreSQL with two Rasa processes, runs every section small, then phase C small, and writes
only ``bench/results/quick.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench import ack, conversations, desk, live_hour, report, scale
from bench.drive import (
    REST_SCRIPT,
    X_SCRIPT,
    Emulator,
    OutboxWatcher,
    http_session,
    record_reference,
    rest_round,
)
from bench.progress import note
from bench.resources import LoadSampler, peak_rss_mb, train_record
from sandbox.postgres import start_throwaway_postgres
from sandbox.redis_server import start_throwaway_redis
from sandbox.stack import MODEL, Stack


@dataclass(frozen=True)
class Plan:
    quick: bool
    sizes: tuple[int, ...]
    repeats: dict[int, int] = field(default_factory=dict)
    desk_people: int = 3
    desk_replies: int = 30
    queue_cases: int = 10_000
    queue_open: int = 100
    queue_repeats: int = 10
    ack_window_s: float = 6.0
    ack_rate_per_s: float = 10.0
    ack_load_people: int = 20
    scale_people: int = 50
    reference_silence_s: float = 1.5
    live_hour: live_hour.Plan = live_hour.FULL


FULL = Plan(quick=False, sizes=(1, 10, 50, 200), repeats={1: 3})
QUICK = Plan(quick=True, sizes=(1, 10), repeats={1: 1}, desk_people=1, desk_replies=3,
             queue_cases=1_000, queue_open=20, queue_repeats=3, ack_window_s=1.5,
             ack_rate_per_s=4.0, ack_load_people=5, scale_people=6, reference_silence_s=1.0,
             live_hour=live_hour.QUICK)


async def _talk(stack: Stack, plan: Plan):
    """HTTP session, emulator and outbox watcher, and the reference run (also a warm-up)."""
    note("servers up")
    session = http_session()
    emulator = Emulator(session, stack.x_base_url)
    await emulator.prepare()
    watcher = OutboxWatcher(emulator)
    await watcher.__aenter__()
    reference = await record_reference(emulator, watcher, X_SCRIPT,
                                       silence=plan.reference_silence_s)
    await rest_round(session, stack.base_url, 1, REST_SCRIPT,  # REST warm-up
                     token=stack.rest_token)
    note(f"reference conversation: {[len(turn) for turn in reference.turns]} DMs per turn")
    return session, emulator, watcher, reference


async def _close(session, watcher) -> None:
    await watcher.__aexit__(None, None, None)
    await session.close()


async def default_phase(plan: Plan, workdir: Path, results: dict[str, Any]) -> None:
    """Phase A: SQLite, one Rasa process."""
    note("phase A: SQLite, one Rasa server: starting")
    stack = Stack(workdir / "sqlite", x_mode="webhook", quiet_emulator=True)
    await asyncio.get_running_loop().run_in_executor(None, stack.start)
    load = LoadSampler().__enter__()
    try:
        session, emulator, watcher, reference = await _talk(stack, plan)
        try:
            results["reference_dms_per_turn"] = [len(turn) for turn in reference.turns]
            results["conversations"] = await conversations.run(
                session, stack.base_url, emulator, watcher, reference, plan.sizes,
                plan.repeats, rest_token=stack.rest_token)
            results["desk"] = {"reply": await desk.reply_latency(
                session, stack.base_url, str(stack.database_url), emulator, watcher,
                plan.desk_people, plan.desk_replies)}
            note(f"desk: reply p50 {results['desk']['reply']['to_dm_ms']['p50']} ms")
            results["desk"]["queue"] = {"sqlite": await desk.queue_timing(
                session, stack.base_url, str(stack.database_url), plan.queue_cases,
                plan.queue_open, plan.queue_repeats)}
            note("desk: queue on SQLite measured")
            results["ack"] = await ack.run(session, stack, emulator, plan.ack_window_s,
                                           plan.ack_rate_per_s, plan.ack_load_people)
        finally:
            await _close(session, watcher)
        results["resources"] = {
            "rasa_rss_mb": peak_rss_mb(stack.processes["rasa"].pid),
            "actions_rss_mb": peak_rss_mb(stack.processes["actions"].pid)}
    finally:
        load.__exit__(None, None, None)
        results.setdefault("machine_load", {})["phase_a"] = load.summary()
        stack.stop()


async def scale_phase(plan: Plan, workdir: Path, results: dict[str, Any]) -> None:
    """Phase B: PostgreSQL and Redis, one then two Rasa processes. In the quick run, every
    section runs here, small, with both processes started at once."""
    note("phase B: PostgreSQL and Redis, two Rasa servers: starting")
    postgres = start_throwaway_postgres(max_connections=300)
    redis = start_throwaway_redis()
    loop = asyncio.get_running_loop()
    load = LoadSampler()
    load.roots.add(postgres.pid or 0)
    try:
        endpoints = scale.endpoints_with_redis_lock_store(workdir, redis.port)
        stack = Stack(workdir / "postgres", x_mode="webhook", database_url=postgres.url,
                      rasa_count=2, endpoints=endpoints, quiet_emulator=True)
        try:
            if plan.quick:  # both Rasa processes at once, on tables created beforehand
                await loop.run_in_executor(None, scale.create_schema, postgres.url)
                await loop.run_in_executor(None, stack.start)
            else:  # the second one comes later (section 4)
                await loop.run_in_executor(None, stack.start_emulator)
                await loop.run_in_executor(None, stack.start_actions)
                await loop.run_in_executor(None, stack.start_rasa, 0)
            load.__enter__()
            session, emulator, watcher, reference = await _talk(stack, plan)
            try:
                if plan.quick:
                    results["reference_dms_per_turn"] = [len(t) for t in reference.turns]
                    results["conversations"] = await conversations.run(
                        session, stack.base_url, emulator, watcher, reference, plan.sizes,
                        plan.repeats, rest_token=stack.rest_token)
                    results["desk"] = {"reply": await desk.reply_latency(
                        session, stack.base_url, postgres.url, emulator, watcher,
                        plan.desk_people, plan.desk_replies), "queue": {}}
                results["scale"] = await scale.run(stack, emulator, watcher, reference,
                                                   plan.scale_people,
                                                   one_process_first=not plan.quick)
                results["desk"]["queue"]["postgresql"] = await desk.queue_timing(
                    session, stack.base_url, postgres.url, plan.queue_cases,
                    plan.queue_open, plan.queue_repeats)
                note("desk: queue on PostgreSQL measured")
                if not plan.quick:  # the same doors without SQLite's file lock
                    results["ack_postgresql"] = await ack.run(
                        session, stack, emulator, plan.ack_window_s, plan.ack_rate_per_s,
                        plan.ack_load_people, only=("thread", "process"))
                if plan.quick:
                    await emulator.deliver_only(f"{stack.ingress_url(0)}/webhooks/x/webhook")
                    results["ack"] = await ack.run(session, stack, emulator,
                                                   plan.ack_window_s, plan.ack_rate_per_s,
                                                   plan.ack_load_people)
            finally:
                await _close(session, watcher)
            resources = results.setdefault("resources", {})
            resources["rasa2_rss_mb"] = peak_rss_mb(stack.processes["rasa1"].pid)
            if plan.quick:
                resources["rasa_rss_mb"] = peak_rss_mb(stack.processes["rasa"].pid)
                resources["actions_rss_mb"] = peak_rss_mb(stack.processes["actions"].pid)
        finally:
            load.__exit__(None, None, None)
            results.setdefault("machine_load", {})["phase_b"] = load.summary()
            stack.stop()
    finally:
        redis.stop()
        postgres.stop()


async def live_hour_phase(plan: Plan, workdir: Path, results: dict[str, Any]) -> None:
    """Phase C: a live hour on X at X's 2026 limits, on servers of its own (the emulator at
    a time scale, the clock frozen where the scenarios are written): ``bench/live_hour.py``."""
    note(f"phase C: a live hour on X, {plan.live_hour.people} people")
    played = await live_hour.play(plan.live_hour, workdir / "live-hour")
    results["live_hour"] = played["live_hour"]
    results.setdefault("machine_load", {})["phase_c"] = results["live_hour"]["machine_load"]
    note(f"live hour: {live_hour.summary_line(results['live_hour'])}")


async def run(plan: Plan, workdir: Path) -> dict[str, Any]:
    results: dict[str, Any] = {
        "mode": "quick" if plan.quick else "full",
        "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": report.machine(),
        "plan": asdict(plan),
    }
    started = time.monotonic()
    if not plan.quick:
        await default_phase(plan, workdir, results)
    await scale_phase(plan, workdir, results)
    await live_hour_phase(plan, workdir, results)
    train = train_record()
    results["resources"]["train"] = train
    results["resources"]["train_s"] = (train or {}).get("train_s")
    results["duration_s"] = round(time.monotonic() - started, 1)
    results["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    results["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    results["headline"] = report.headline(results)
    results["targets"] = report.targets(results["headline"])
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: every section, small (writes bench/results/quick.json)")
    parser.add_argument("--keep", action="store_true", help="keep the servers' folder and logs")
    parser.add_argument("--no-doc", action="store_true",
                        help="do not rewrite docs/benchmarks.md (full run)")
    args = parser.parse_args(argv)
    if not MODEL.exists():
        print(f"{MODEL} is missing: run `make train` first", file=sys.stderr)
        return 2
    plan = QUICK if args.quick else FULL
    workdir = Path(tempfile.mkdtemp(prefix="permanence-bench-"))
    try:
        results = asyncio.run(run(plan, workdir))
    finally:
        if args.keep:
            print(f"servers' folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    table = report.markdown(results)
    print()
    print(table)
    path = report.write_json(results, "quick.json" if plan.quick else "latest.json")
    print(f"results: {path.relative_to(report.ROOT)}")
    if not plan.quick and not args.no_doc:
        report.write_doc(report.markdown(results, live_hour=False))
        if results.get("live_hour"):
            report.write_doc(report.live_hour_doc(results["live_hour"], "`make bench`, phase C"),
                             begin=report.LIVE_BEGIN, end=report.LIVE_END)
        print(f"tables: {report.DOC.relative_to(report.ROOT)}")
    missed = [c["key"] for c in results["targets"] if c["met"] is False]
    if missed:
        print(f"targets missed: {', '.join(missed)} (see docs/benchmarks.md)")
    return 0
