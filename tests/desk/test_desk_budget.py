"""The desk shows the channels' sending budgets (X: DMs left in the window, its reset, DMs
waiting, estimated wait): ``GET /desk/api/budgets`` and a line on the queue, through a real
Sanic server on 127.0.0.1, from a real X store; and the desk tells the channels which
conversations are P0 (desk/channel.py)."""

from __future__ import annotations

import html
import json
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta, timezone

import aiohttp
import pytest
from desk_testlib import handoff_tracker, serving
from sanic import Sanic
from sqlalchemy import select

from desk import auth, cases, views
from desk.channel import case_tier, desk_blueprint
from desk.models import desk_audit
from permanence import budgets
from permanence.x_store import Store

T0 = datetime(2026, 12, 7, 13, 0, tzinfo=timezone.utc)  # 14 h 00 in Paris


@pytest.fixture
def x_store(desk_url: str) -> Iterator[Store]:
    store = Store.create(desk_url)
    yield store
    budgets.unregister(budgets.X)
    store.close()


@pytest.fixture
async def desk(factory, monkeypatch) -> AsyncIterator[tuple[str, str, aiohttp.ClientSession]]:
    monkeypatch.setattr(Sanic, "test_mode", True)
    with factory.begin() as session:
        token = auth.create_token(session, auth.set_lawyer(session, "a@cabinet.example",
                                                           "un mot de passe solide"))
    app = Sanic(f"desk_budget_{uuid.uuid4().hex}")
    app.blueprint(desk_blueprint(lambda: factory), url_prefix="/desk")
    async with serving(app) as base:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
            yield base, token, http


async def get(desk, path: str) -> tuple[int, str]:
    base, token, http = desk
    async with http.get(base + path, headers={"Authorization": f"Bearer {token}"}) as reply:
        return reply.status, await reply.text()


def spend(store: Store, remaining: int, reset_in: float) -> None:
    reset = datetime.now(timezone.utc) + timedelta(seconds=reset_in)
    store.budget_observe("dm_send", {"x-rate-limit-limit": "15",
                                     "x-rate-limit-remaining": str(remaining),
                                     "x-rate-limit-reset": str(int(reset.timestamp()))},
                         status=201)


async def test_the_budget_route_and_the_queues_line(desk, x_store, factory) -> None:
    spend(x_store, 0, 600)
    for person in ("4242", "4242", "5353"):
        x_store.outbox_enqueue(person, "une réponse")
    budgets.register(budgets.X, lambda: x_store.budget_status("dm_send"))

    status, body = await get(desk, "/desk/api/budgets")
    assert status == 200
    [x] = json.loads(body)["channels"]
    assert x["channel"] == "x"
    assert (x["status"]["dms_left"], x["status"]["limit"]) == (0, 15)
    assert x["status"]["waiting"]["pending"] == 3 and x["status"]["waiting"]["people"] == 2
    assert 590 < x["status"]["estimated_wait_seconds"] <= 602
    assert x["line"].startswith("X : 0 DM sur 15 disponibles · nouvelle fenêtre à ")
    assert "3 DM en attente (2 personnes) · attente estimée 10 min" in x["line"]
    assert "une réponse" not in body and "4242" not in body  # counts only

    status, page = await get(desk, "/desk/")
    assert status == 200
    shown = re.search(r'<p class="budget" data-budget="x">([^<]*)</p>', page).group(1)
    assert html.unescape(shown).startswith("X : 0 DM sur 15 disponibles · nouvelle fenêtre à ")
    assert "3 DM en attente (2 personnes) · attente estimée 10 min" in html.unescape(shown)
    status, fragment = await get(desk, "/desk/fragments/queue")
    assert status == 200 and 'data-budget="x"' in fragment
    with factory.begin() as session:  # the account's counts: no case, no person, not audited
        actions = session.execute(select(desk_audit.c.action)).scalars().all()
    assert "budgets.read" not in actions and actions.count("queue.read") == 2


async def test_without_a_limited_channel_nothing_is_shown(desk) -> None:
    status, body = await get(desk, "/desk/api/budgets")
    assert (status, json.loads(body)) == (200, {"channels": []})
    status, page = await get(desk, "/desk/")
    assert status == 200 and 'class="budget"' not in page


async def test_a_failing_report_is_said_not_hidden(desk) -> None:
    def broken() -> dict:
        raise RuntimeError("database is locked")

    budgets.register(budgets.X, broken)
    try:
        status, body = await get(desk, "/desk/api/budgets")
    finally:
        budgets.unregister(budgets.X)
    assert status == 200
    [x] = json.loads(body)["channels"]
    assert x["status"] is None and "illisible" in x["line"]


def test_budget_lines() -> None:
    unknown = {"known": False, "waiting": {"pending": 2, "people": 1},
               "estimated_wait_seconds": None}
    assert views.budget_line("x", unknown, T0) == (
        "X : budget de DM pas encore connu (aucun envoi depuis le démarrage) · "
        "2 DM en attente (1 personne)")
    idle = {"known": True, "dms_left": 15, "limit": 15, "next_reset": None,
            "waiting": {"pending": 0, "people": 0}, "estimated_wait_seconds": 0}
    assert views.budget_line("x", idle, T0) == (
        "X : 15 DM sur 15 disponibles · aucun DM en attente")
    busy = {"known": True, "dms_left": 0, "limit": 15,
            "next_reset": (T0 + timedelta(minutes=5)).isoformat(), "blocked_until": None,
            "waiting": {"pending": 20, "people": 7}, "estimated_wait_seconds": 1201}
    assert views.budget_line("x", busy, T0) == (
        "X : 0 DM sur 15 disponibles · nouvelle fenêtre à 14 h 05 (dans 5 min) · "
        "20 DM en attente (7 personnes) · attente estimée 20 min")
    soon = {**busy, "next_reset": (T0 + timedelta(seconds=12)).isoformat(),
            "estimated_wait_seconds": 12}
    assert "(dans 12 s)" in views.budget_line("x", soon, T0)
    assert views.budget_line("x", None, T0).startswith("X : budget d'envoi illisible")


def test_the_desk_says_which_conversations_are_p0(factory, desk_url, domain) -> None:
    with factory.begin() as session:
        cases.open_case_from_tracker(session, handoff_tracker(domain, "x:777", urgence="P0"))
        cases.open_case_from_tracker(session, handoff_tracker(domain, "x:778", urgence="P2"))
    assert case_tier(desk_url, "x:777") == "P0"
    assert case_tier(desk_url, "x:778") == "P2"
    assert case_tier(desk_url, "x:779") is None
