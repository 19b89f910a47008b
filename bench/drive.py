"""Simulated people talking to the assistant: the scripted triage, the REST channel, and the
X channel through the emulator (its own signed deliveries, or signed webhooks posted by the
bench to chosen ingress ports), with a watcher of what reaches the emulator's outbox.

A person sends a message only once the whole answer to the previous one has arrived. On REST
that is the HTTP response. On X it is the moment the person has received, in total, as many DMs
as a reference run of the same script gave after that turn (``Reference``): the assistant's
answers are deterministic, so the reference also says which DMs each person must get, in which
order, and lets the bench count the ones that came out of order, twice, or never.

Times on X come from the emulator's clock: when it started the webhook POST
(``/_control/deliveries``) or when the bench posted it, and ``created_at`` of the reply DM.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp

from sandbox.stack import X_SANDBOX_CREDENTIALS
from sandbox.x_emulator.oauth import webhook_signature

URBANISME = "bonjour, la mairie a refusé mon permis de construire pour une extension"
# The same conversation on both channels: on X the consent is given by typing the option's
# number, which the channel maps to the button's payload (``/affirm``) that REST sends as is.
# Three turns: the opening (disclosure and consent question, one message), the
# consent (a payload), an answer in free text (NLU).
X_SCRIPT = (URBANISME, "1", "la mairie de Lens")
REST_SCRIPT = (URBANISME, "/affirm", "la mairie de Lens")
# A conversation handed over to the lawyer at once (P0: detention), for the desk.
X_HANDOVER = ("j'ai reçu une OQTF hier et je suis en rétention au CRA de Lesquin", "1",
              "je veux parler à l'avocat maintenant")
WEBHOOK_PATH = "/webhooks/x/webhook"
POLL_SECONDS = 0.01
TURN_TIMEOUT_SECONDS = 600.0


def epoch(iso: str) -> float:
    """Seconds since the epoch of the emulator's ``2026-01-02T03:04:05.678Z``."""
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def new_person_id() -> str:
    return str(random.randrange(10**15, 10**18))


def http_session(limit: int = 0) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=limit),
        timeout=aiohttp.ClientTimeout(total=TURN_TIMEOUT_SECONDS), trust_env=False)


# --------------------------------------------------------------------------- the emulator


@dataclass(frozen=True)
class Dm:
    id: int
    text: str
    at: float  # emulator clock, seconds


class Emulator:
    """The X emulator's control API, and the account's view of the webhooks."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self.session = session
        self.base_url = base_url
        self.account_id = ""
        self.consumer_secret = X_SANDBOX_CREDENTIALS["X_CONSUMER_SECRET"]

    async def call(self, method: str, path: str, body: Any = None,
                   headers: dict | None = None) -> Any:
        async with self.session.request(method, f"{self.base_url}{path}", json=body,
                                        headers=headers) as response:
            raw = await response.read()
            if response.status >= 400:
                raise RuntimeError(f"{method} {path}: {response.status} {raw[:300]!r}")
            return json.loads(raw) if raw else None

    async def prepare(self) -> None:
        """Know the account; lift the rate limits (a benchmark sends thousands of DMs)."""
        info = await self.call("GET", "/_control/info")
        self.account_id = info["account"]["id"]
        limits = {key: 10**9 for key in info["rate_limits"]}
        await self.call("POST", "/_control/rate_limits", {"limits": limits, "reset": True})

    async def write(self, person: str, text: str) -> str:
        """The person writes a DM; the emulator delivers it to its webhooks in the background.
        Returns the event id."""
        answer = await self.call("POST", "/_control/dm", {
            "sender_id": person, "screen_name": f"p{person[-12:]}", "text": text,
            "wait": False})
        return answer["event_id"]

    async def deliveries(self) -> list[dict]:
        return await self.call("GET", "/_control/deliveries")

    async def deliver_only(self, url: str | None) -> None:
        """Make ``url`` the account's only webhook (None: no webhook, nothing delivered)."""
        from scripts.x_register import Credentials, register

        bearer = {"Authorization": f"Bearer {X_SANDBOX_CREDENTIALS['X_BEARER_TOKEN']}"}
        listed = await self.call("GET", "/2/webhooks", headers=bearer)
        for webhook in listed.get("data") or []:
            if webhook["url"] != url:
                await self.call("DELETE", f"/2/webhooks/{webhook['id']}", headers=bearer)
        if url is not None:
            creds = Credentials(**{k[2:].lower(): v for k, v in X_SANDBOX_CREDENTIALS.items()})
            await asyncio.get_running_loop().run_in_executor(
                None, register, self.base_url, url, creds)

    def signed_dm_webhook(self, event_id: str, person: str, text: str) -> tuple[bytes, str]:
        """The Account Activity body X would post for this DM, and its signature."""
        now_ms = str(int(time.time() * 1000))
        body = json.dumps({
            "for_user_id": self.account_id,
            "direct_message_events": [{
                "type": "message_create", "id": event_id, "created_timestamp": now_ms,
                "message_create": {"target": {"recipient_id": self.account_id},
                                   "sender_id": person,
                                   "message_data": {"text": text, "entities": {}}}}],
            "users": {person: {"id": person, "created_timestamp": now_ms, "name": person,
                               "screen_name": f"p{person[-12:]}"}},
        }, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return body, webhook_signature(self.consumer_secret, body)


class OutboxWatcher:
    """Polls ``/_control/outbox?since_id=`` and wakes the people waiting for their DMs."""

    def __init__(self, emulator: Emulator, poll_seconds: float = POLL_SECONDS) -> None:
        self.emulator = emulator
        self.poll_seconds = poll_seconds
        self.received: dict[str, list[Dm]] = {}
        self._last_id = 0
        self._waiters: dict[str, list[tuple[int, asyncio.Future]]] = {}
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> OutboxWatcher:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            outbox = await self.emulator.call("GET", f"/_control/outbox?since_id={self._last_id}")
            for dm in outbox["dms"]:
                self._last_id = max(self._last_id, int(dm["id"]))
                got = self.received.setdefault(dm["recipient_id"], [])
                got.append(Dm(int(dm["id"]), dm["text"], epoch(dm["created_at"])))
                self._wake(dm["recipient_id"])
            await asyncio.sleep(self.poll_seconds)

    def _wake(self, person: str) -> None:
        count = len(self.received.get(person, ()))
        waiting = self._waiters.get(person, [])
        for item in [w for w in waiting if w[0] <= count]:
            waiting.remove(item)
            if not item[1].done():
                item[1].set_result(None)

    def dms(self, person: str) -> list[Dm]:
        return self.received.get(person, [])

    async def until(self, person: str, count: int, timeout: float = TURN_TIMEOUT_SECONDS) -> bool:
        """Wait until ``person`` has received ``count`` DMs in all; False on timeout."""
        if len(self.dms(person)) >= count:
            return True
        future = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(person, []).append((count, future))
        try:
            await asyncio.wait_for(future, timeout)
            return True
        except asyncio.TimeoutError:
            return False

    async def quiet(self, person: str, count_before: int, silence: float,
                    timeout: float = 120.0) -> int:
        """Wait for at least one new DM, then for ``silence`` seconds without another; returns
        how many DMs the person has in all."""
        await self.until(person, count_before + 1, timeout)
        while True:
            count = len(self.dms(person))
            await asyncio.sleep(silence)
            if len(self.dms(person)) == count:
                return count


# --------------------------------------------------------------------------- reference


@dataclass
class Reference:
    """The DMs each turn of a script gives (texts, in order), from one person's run."""

    turns: list[list[str]]

    @property
    def cumulative(self) -> list[int]:
        total, counts = 0, []
        for texts in self.turns:
            total += len(texts)
            counts.append(total)
        return counts

    @property
    def texts(self) -> list[str]:
        return [text for turn in self.turns for text in turn]


async def record_reference(emulator: Emulator, watcher: OutboxWatcher, script: Sequence[str],
                           deliver: Callable[[str, str], Awaitable[Any]] | None = None,
                           silence: float = 1.5) -> Reference:
    """Run ``script`` for one new person, waiting after each message until the DMs stop for
    ``silence`` seconds. Also a warm-up: the first turns load the model's components."""
    person = new_person_id()
    turns: list[list[str]] = []
    for text in script:
        before = len(watcher.dms(person))
        if deliver is None:
            await emulator.write(person, text)
        else:
            await deliver(person, text)
        after = await watcher.quiet(person, before, silence)
        turns.append([dm.text for dm in watcher.dms(person)[before:after]])
    return Reference(turns)


def check_order(received: Sequence[str], expected: Sequence[str]) -> dict[str, int]:
    """Compare one person's DMs with the reference: ``duplicates`` (a DM beyond its expected
    number of copies), ``missing`` and ``out_of_order`` (a DM that arrived before one that the
    reference puts ahead of it)."""
    unused: dict[str, list[int]] = {}
    for index, text in enumerate(expected):
        unused.setdefault(text, []).append(index)
    positions, duplicates = [], 0
    for text in received:
        if unused.get(text):
            positions.append(unused[text].pop(0))
        else:
            duplicates += 1
    out_of_order = sum(1 for a, b in zip(positions, positions[1:], strict=False) if b < a)
    return {"duplicates": duplicates, "missing": len(expected) - len(positions),
            "out_of_order": out_of_order}


# --------------------------------------------------------------------------- people


@dataclass
class Turn:
    person: str
    index: int
    started: float  # REST: perf_counter; X: emulator clock (filled in after the round)
    latency_ms: float | None = None
    event_id: str | None = None
    last_dm: int | None = None  # X: index, among the person's DMs, of the one ending the turn
    first_ms: float | None = None  # X: to the first DM of the answer
    ok: bool = True
    error: str | None = None  # why it failed: HTTP status, empty answer, exception, timeout


@dataclass
class Round:
    channel: str
    people: int
    turns: list[Turn] = field(default_factory=list)
    wall_s: float = 0.0
    acks_ms: list[float] = field(default_factory=list)

    @property
    def completed(self) -> list[Turn]:
        return [t for t in self.turns if t.ok and t.latency_ms is not None]


def rest_body(person: str, text: str) -> dict[str, str]:
    """A REST door request: a text starting with ``/`` is a button's payload."""
    return {"sender": person, "payload" if text.startswith("/") else "message": text}


async def rest_person(session: aiohttp.ClientSession, rasa_url: str, person: str,
                      script: Sequence[str], out: list[Turn], *, token: str) -> None:
    """One person through the REST door (``token``: the servers' ``PERMANENCE_REST_TOKEN``,
    ``Stack.rest_token``)."""
    headers = {"Authorization": f"Bearer {token}"}
    for index, text in enumerate(script):
        started = time.perf_counter()
        turn = Turn(person, index, started)
        try:
            async with session.post(f"{rasa_url}/webhooks/rest/webhook", headers=headers,
                                    json=rest_body(person, text)) as response:
                answer = await response.json(content_type=None)
                if response.status != 200:
                    turn.error = f"HTTP {response.status}"
                elif not answer:
                    turn.error = "empty answer"
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            turn.error = type(exc).__name__
        turn.ok = turn.error is None
        turn.latency_ms = (time.perf_counter() - started) * 1000
        out.append(turn)
        if not turn.ok:
            return


async def rest_round(session: aiohttp.ClientSession, rasa_url: str, people: int,
                     script: Sequence[str], *, token: str) -> Round:
    result = Round("rest", people)
    started = time.perf_counter()
    await asyncio.gather(*(rest_person(session, rasa_url, f"bench-{new_person_id()}", script,
                                       result.turns, token=token) for _ in range(people)))
    result.wall_s = time.perf_counter() - started
    return result


async def x_person(emulator: Emulator, watcher: OutboxWatcher, person: str,
                   script: Sequence[str], reference: Reference, out: list[Turn],
                   deliver: Callable[[str, str], Awaitable[tuple[str, float]]] | None) -> None:
    """One person on X. ``deliver`` posts the webhook itself and returns (event id, emulator
    time of the POST); without it the emulator delivers and its log gives the time."""
    first = 0  # index of the first DM of the next answer
    for index, (text, count) in enumerate(zip(script, reference.cumulative, strict=True)):
        if deliver is None:
            turn = Turn(person, index, 0.0, event_id=await emulator.write(person, text))
        else:
            event_id, started = await deliver(person, text)
            turn = Turn(person, index, started, event_id=event_id)
        out.append(turn)
        turn.ok = await watcher.until(person, count)
        if not turn.ok:
            turn.error = "timeout"
            return
        turn.last_dm = count - 1
        if deliver is not None:
            turn.latency_ms = (watcher.dms(person)[count - 1].at - turn.started) * 1000
            turn.first_ms = (watcher.dms(person)[first].at - turn.started) * 1000
        first = count


async def x_round(emulator: Emulator, watcher: OutboxWatcher, people: int,
                  script: Sequence[str], reference: Reference,
                  deliver: Callable[[str, str], Awaitable[tuple[str, float]]] | None = None
                  ) -> Round:
    """``people`` new persons run ``script`` at once on X. Latency: from the webhook POST to
    the DM that ends the turn reaching the emulator; wall time: from the first POST to the
    last such DM (emulator clock)."""
    result = Round("x", people)
    persons = [new_person_id() for _ in range(people)]
    seen = len(await emulator.deliveries()) if deliver is None else 0
    await asyncio.gather(*(x_person(emulator, watcher, person, script, reference,
                                    result.turns, deliver) for person in persons))
    if deliver is None:  # the emulator's log: when each POST started, how long the ack took
        log = (await emulator.deliveries())[seen:]
        started = {d["event_id"]: epoch(d["started_at"]) for d in log if not d["redelivery"]}
        result.acks_ms = [d["latency_ms"] for d in log
                          if d["status"] == 200 and d["latency_ms"] is not None]
        for turn in result.turns:
            if turn.ok and turn.event_id in started:
                turn.started = started[turn.event_id]
                dms = watcher.dms(turn.person)
                turn.latency_ms = (dms[turn.last_dm].at - turn.started) * 1000
                first = turn.last_dm + 1 - len(reference.turns[turn.index])
                turn.first_ms = (dms[first].at - turn.started) * 1000
    done = [t for t in result.turns if t.latency_ms is not None]
    if done:
        result.wall_s = (max(watcher.dms(t.person)[t.last_dm].at for t in done)
                         - min(t.started for t in done))
    return result


class SignedDelivery:
    """Posts each DM's webhook, signed as X does, to the ingress ports in turn (round-robin);
    the emulator only records the DM (it has no webhook), so that it accepts the replies."""

    def __init__(self, emulator: Emulator, ingress_urls: Sequence[str]) -> None:
        self.emulator = emulator
        self.urls = [f"{url}{WEBHOOK_PATH}" for url in ingress_urls]
        self.acks_ms: list[float] = []
        self.failures = 0
        self._next = 0

    async def __call__(self, person: str, text: str) -> tuple[str, float]:
        event_id = await self.emulator.write(person, text)
        body, signature = self.emulator.signed_dm_webhook(event_id, person, text)
        url = self.urls[self._next % len(self.urls)]
        self._next += 1
        # Whole milliseconds, like the emulator's timestamps.
        started, clock = time.perf_counter(), math.floor(time.time() * 1000) / 1000
        async with self.emulator.session.post(url, data=body, headers={
                "Content-Type": "application/json",
                "x-twitter-webhooks-signature": signature}) as response:
            await response.read()
            if response.status != 200:
                self.failures += 1
        self.acks_ms.append((time.perf_counter() - started) * 1000)
        return event_id, clock
