"""2. How fast the X webhook is acknowledged while the assistant is saturated.

X retries, then disables, a webhook that answers slowly; acknowledging must not wait behind
inference. The webhook can be served by three doors, measured one at a time (each DM is
delivered once, to the door under test):

- ``thread``: the ingress thread of the Rasa process (``ingress_port``);
- ``process``: the ingress as a process of its own (``python -m connectors.x.ingress``);
- ``rasa_loop``: Rasa's own route, on the event loop that runs inference.

While REST clients keep the assistant busy (its CPU use over the window is recorded), new
people write on X at a steady rate; the emulator times each webhook POST until its 200.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import aiohttp
import psutil

from bench.drive import REST_SCRIPT, WEBHOOK_PATH, Emulator, new_person_id, rest_person
from bench.progress import note
from bench.stats import summary
from sandbox.stack import ROOT, X_SANDBOX_CREDENTIALS, Stack, free_port, wait_http

# The door a deployment should use (connectors/x/ingress.py): the headline figure.
HEADLINE_DOOR = "process"
DELIVERY_TIMEOUT_SECONDS = 10.0  # the emulator's (sandbox/x_emulator/README.md)


@contextlib.contextmanager
def ingress_process(stack: Stack) -> Iterator[str]:
    """``python -m connectors.x.ingress`` on a free port, on the stack's database; yields its
    base URL."""
    port = free_port()
    log = open(stack.workdir / "ingress_process.log", "a")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "connectors.x.ingress", "--port", str(port)], cwd=ROOT,
        env={**stack.server_env(), **X_SANDBOX_CREDENTIALS}, stdout=log,
        stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}{WEBHOOK_PATH}?crc_token=up", process, timeout=60)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


async def rest_load(session: aiohttp.ClientSession, rasa_url: str, people: int,
                    token: str) -> None:
    """``people`` REST clients running the script again and again, until cancelled."""
    answered: list = []

    async def client() -> None:
        while True:
            await rest_person(session, rasa_url, f"load-{new_person_id()}", REST_SCRIPT,
                              answered, token=token)

    await asyncio.gather(*(client() for _ in range(people)))


async def one_door(session: aiohttp.ClientSession, stack: Stack, emulator: Emulator,
                   door_url: str, window_s: float, rate_per_s: float,
                   load_people: int) -> dict[str, Any]:
    await emulator.deliver_only(f"{door_url}{WEBHOOK_PATH}")
    rasa = psutil.Process(stack.processes["rasa"].pid)
    load = asyncio.create_task(rest_load(session, stack.base_url, load_people,
                                          stack.rest_token))
    await asyncio.sleep(1.0)  # the load is up
    rasa.cpu_percent(None)
    seen = len(await emulator.deliveries())
    events: set[str] = set()
    started = time.monotonic()
    for index in range(max(1, int(window_s * rate_per_s))):
        await asyncio.sleep(max(0.0, started + index / rate_per_s - time.monotonic()))
        events.add(await emulator.write(new_person_id(), REST_SCRIPT[0]))
    # Every delivery ends: answered, or failed at the emulator's timeout (10 s).
    deadline = time.monotonic() + DELIVERY_TIMEOUT_SECONDS + 2
    while True:
        log = [d for d in (await emulator.deliveries())[seen:] if d["event_id"] in events]
        if all(d["latency_ms"] is not None for d in log) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    cpu = rasa.cpu_percent(None)
    load.cancel()
    await asyncio.gather(load, return_exceptions=True)
    acks = [d["latency_ms"] for d in log if d["status"] == 200]
    failures = Counter(d["error"] or (f"HTTP {d['status']}" if d["status"] else "unfinished")
                       for d in log if d["status"] != 200)
    return {"deliveries": len(log), "not_200": len(log) - len(acks),
            "failures": dict(failures), "rasa_cpu_percent": round(cpu, 1),
            "ack_ms": summary(acks)}


async def run(session: aiohttp.ClientSession, stack: Stack, emulator: Emulator,
              window_s: float, rate_per_s: float, load_people: int,
              only: tuple[str, ...] = ("thread", "process", "rasa_loop")) -> dict[str, Any]:
    doors: dict[str, Any] = {}
    with ingress_process(stack) as process_url:
        for name, url in (("thread", stack.ingress_url(0)), ("process", process_url),
                          ("rasa_loop", stack.rasa_url(0))):
            if name not in only:
                continue
            doors[name] = await one_door(session, stack, emulator, url, window_s,
                                         rate_per_s, load_people)
            note(f"ack, {name}: p50 {doors[name]['ack_ms']['p50']} ms, "
                 f"p99 {doors[name]['ack_ms']['p99']} ms, "
                 f"Rasa CPU {doors[name]['rasa_cpu_percent']} %")
    await emulator.deliver_only(f"{stack.ingress_url(0)}{WEBHOOK_PATH}")
    database = "PostgreSQL" if str(stack.database_url).startswith("postgresql") else "SQLite"
    return {"window_s": window_s, "rate_per_s": rate_per_s, "rest_load_people": load_people,
            "database": database, "headline_door": HEADLINE_DOOR, "doors": doors}
