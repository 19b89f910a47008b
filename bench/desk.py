"""3. The lawyer's desk: how long a reply takes to reach the person on X, and how long the
queue takes to serve with 10,000 cases in the database.

- Reply: people on X are handed over (P0, at once); a lawyer takes their cases and replies,
  one reply at a time. Latency: from the ``POST /desk/api/cases/<id>/reply`` request to the DM
  reaching the X emulator.
- Queue: 10,000 cases are written straight into ``desk_case`` (one bulk insert: the cases'
  content does not change how the queue is read), a realistic share of them open; then
  ``GET /desk/api/cases`` (bearer token) and the queue page ``GET /desk/`` (session cookie)
  are timed. Then every case is reopened, the worst case of an unpaginated queue.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
import uuid
from datetime import timedelta
from typing import Any

import aiohttp

from bench.drive import X_HANDOVER, Emulator, OutboxWatcher, new_person_id
from bench.stats import summary

PASSWORD = "benchmark password, long enough"


def create_lawyer(database_url: str) -> tuple[str, str]:
    """A lawyer account and an API token on the server's database: (email, token)."""
    from desk import auth, db

    email = f"avocat-{uuid.uuid4().hex[:8]}@bench.example"
    with db.session_factory(database_url).begin() as session:
        lawyer_id = auth.set_lawyer(session, email, PASSWORD)
        token = auth.create_token(session, lawyer_id, "api")
    return email, token


# --------------------------------------------------------------------------- reply


async def handover(emulator: Emulator, watcher: OutboxWatcher) -> str:
    """A new person on X who asks for the lawyer at once; returns their id."""
    person = new_person_id()
    for text in X_HANDOVER:
        before = len(watcher.dms(person))
        await emulator.write(person, text)
        await watcher.quiet(person, before, silence=0.8)
    return person


async def api(session: aiohttp.ClientSession, method: str, url: str, token: str,
              body: Any = None) -> tuple[int, Any]:
    async with session.request(method, url, json=body,
                               headers={"Authorization": f"Bearer {token}"}) as response:
        raw = await response.read()
        return response.status, (json.loads(raw) if raw else None)


async def find_case(session: aiohttp.ClientSession, rasa_url: str, token: str,
                    person: str, timeout: float = 30.0) -> dict:
    """The open case of the X person ``person`` (an X user id)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = await api(session, "GET", f"{rasa_url}/desk/api/cases", token)
        if status == 200:
            found = [c for c in body["queue"] + body["flagged"]
                     if c["sender_id"] == f"x:{person}"]  # an X person's conversation
            if found:
                return found[0]
        await asyncio.sleep(0.2)
    raise RuntimeError(f"no desk case for person {person} after {timeout} s")


async def reply_latency(session: aiohttp.ClientSession, rasa_url: str, database_url: str,
                        emulator: Emulator, watcher: OutboxWatcher, people: int,
                        replies: int) -> dict[str, Any]:
    _, token = await asyncio.get_running_loop().run_in_executor(
        None, create_lawyer, database_url)
    persons = await asyncio.gather(*(handover(emulator, watcher) for _ in range(people)))
    case_ids = {}
    for person in persons:
        case = await find_case(session, rasa_url, token, person)
        status, _ = await api(session, "POST", f"{rasa_url}/desk/api/cases/{case['id']}/take",
                              token)
        if status != 200:
            raise RuntimeError(f"take: HTTP {status}")
        case_ids[person] = case["id"]
    to_dm, request_ms, failed = [], [], 0
    for index in range(replies):
        person = persons[index % len(persons)]
        before = len(watcher.dms(person))
        started = math.floor(time.time() * 1000) / 1000  # the emulator's resolution
        clock = time.perf_counter()
        status, body = await api(
            session, "POST", f"{rasa_url}/desk/api/cases/{case_ids[person]}/reply", token,
            {"text": f"Bonjour, ici Maître Exemple ({index + 1}). Avez-vous le courrier ?"})
        request_ms.append((time.perf_counter() - clock) * 1000)
        if status not in (200, 202) or not await watcher.until(person, before + 1, 30):
            failed += 1
            continue
        to_dm.append((watcher.dms(person)[before].at - started) * 1000)
    return {"cases": people, "replies": replies, "failed": failed,
            "to_dm_ms": summary(to_dm), "request_ms": summary(request_ms)}


# --------------------------------------------------------------------------- queue

DOMAINS = ("urbanisme", "etrangers", "fonction_publique", "fiscalite", "collectivites",
           "responsabilite_administrative", "hors_champ")
TIERS = ("P0", "P1", "P2", "P3", None, "OUT")


def case_rows(count: int, open_count: int, seed: int = 6) -> list[dict[str, Any]]:
    """``count`` plausible cases, ``open_count`` of them waiting, the rest closed; fact cards
    and transcripts of realistic size."""
    from desk.cases import URGENCY_RANK, fact_card
    from desk.models import utcnow

    rng = random.Random(seed)
    now = utcnow()
    rows = []
    for number in range(count):
        tier = rng.choice(TIERS)
        domain = "hors_champ" if tier == "OUT" else rng.choice(DOMAINS[:-1])
        opened = now - timedelta(minutes=rng.randrange(0, 60 * 24 * 365 * 3))
        card = fact_card({
            "domaine": domain, "partie_adverse": f"mairie de Ville-{rng.randrange(1000)}",
            "role": "particulier", "type_decision": "refus de permis de construire",
            "date_decision": "2026-10-02", "code_postal": f"{rng.randrange(10000, 99999)}",
            "recit": "Refus reçu début octobre pour une extension de 20 m2. " * 3,
            "urgence": tier, "echeance_estimee": "2026-12-02",
        })
        transcript = [{"author": "person" if turn % 2 else "assistant",
                       "text": "Un message de la conversation, d'une longueur ordinaire. " * 2,
                       "at": opened.timestamp() + turn} for turn in range(12)]
        waiting = number < open_count
        rows.append({
            "conversation_id": f"bench-case-{uuid.uuid4().hex}",
            "state": "waiting" if waiting else "answered",
            "kind": "referral" if tier == "OUT" else "lawyer",
            "urgency": tier, "urgency_rank": URGENCY_RANK[tier],
            "deadline": "2026-12-02", "channel": rng.choice(("x", "webchat", "rest")),
            "handle": None, "facts": json.dumps(card, ensure_ascii=False),
            "transcript": json.dumps(transcript, ensure_ascii=False), "flagged": False,
            "conflict_client_id": None, "taken_by": None,
            "outcome": None if waiting else "answered", "opened_at": opened,
            "updated_at": opened, "taken_at": None, "closed_at": None if waiting else opened,
        })
    return rows


def insert_cases(database_url: str, count: int, open_count: int) -> float:
    """Bulk-insert the cases; returns the seconds it took."""
    from sqlalchemy import insert

    from desk import db
    from desk.models import desk_case

    rows = case_rows(count, open_count)
    started = time.perf_counter()
    with db.session_factory(database_url).begin() as session:
        session.execute(insert(desk_case), rows)
    return time.perf_counter() - started


def reopen_all(database_url: str) -> int:
    from sqlalchemy import update

    from desk import db
    from desk.models import desk_case

    with db.session_factory(database_url).begin() as session:
        return session.execute(
            update(desk_case).where(desk_case.c.conversation_id.like("bench-case-%"))
            .values(state="waiting", outcome=None, closed_at=None)).rowcount


async def timed_get(session: aiohttp.ClientSession, url: str, repeats: int,
                    headers: dict[str, str] | None = None,
                    cookies: dict[str, str] | None = None) -> dict[str, Any]:
    times, size, status = [], 0, None
    for _ in range(repeats):
        started = time.perf_counter()
        async with session.get(url, headers=headers, cookies=cookies,
                               allow_redirects=False) as response:
            body = await response.read()
            status = response.status
        times.append((time.perf_counter() - started) * 1000)
        size = len(body)
    return {"status": status, "bytes": size, "ms": summary(times)}


async def queue_timing(session: aiohttp.ClientSession, rasa_url: str, database_url: str,
                       count: int, open_count: int, repeats: int,
                       worst_repeats: int = 3) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    email, token = await loop.run_in_executor(None, create_lawyer, database_url)
    insert_s = await loop.run_in_executor(None, insert_cases, database_url, count, open_count)
    # The page needs a browser session: the JSON API's login sets the cookie.
    async with session.post(f"{rasa_url}/desk/api/session",
                            json={"email": email, "password": PASSWORD}) as response:
        await response.read()
        cookie = response.cookies.get("desk_session")
    cookies = {"desk_session": cookie.value} if cookie is not None else None
    bearer = {"Authorization": f"Bearer {token}"}

    async def measure(repeats: int) -> dict[str, Any]:
        api_result = await timed_get(session, f"{rasa_url}/desk/api/cases", repeats, bearer)
        page = await timed_get(session, f"{rasa_url}/desk/", repeats, cookies=cookies)
        page_ok = page["status"] == 200
        return {"api": api_result, "page": page if page_ok else None,
                "page_status": page["status"]}

    result = {"cases": count, "open": open_count, "insert_s": round(insert_s, 2)}
    result["realistic"] = await measure(repeats)
    result["reopened"] = await loop.run_in_executor(None, reopen_all, database_url)
    result["all_open"] = await measure(worst_repeats)
    return result
