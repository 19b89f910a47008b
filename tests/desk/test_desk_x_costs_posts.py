"""The desk shows what X costs (``GET /desk/api/costs`` and a line on the queue: the live or
last session, the month) and the public posts to answer by hand (``GET /desk/api/public-posts``,
a list on the queue, ``POST .../done``), through a real Sanic server on 127.0.0.1, from a real
X store registered as the X channel registers it."""

from __future__ import annotations

import html
import json
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone
from pathlib import Path

import aiohttp
import pytest
from desk_testlib import handoff_tracker, serving
from sanic import Sanic
from sqlalchemy import select

from connectors.x.render import post_link
from desk import auth, cases, views
from desk.channel import desk_blueprint
from desk.models import desk_audit
from permanence import costs, public_posts
from permanence.x_costs import CostMeter
from permanence.x_store import Store

ROOT = Path(__file__).resolve().parents[2]
ALWAYS_LIVE = ROOT / "tests" / "schedule_always_live.yml"  # one session a day, all day
METER = CostMeter.from_file()


@pytest.fixture
def x_store(desk_url: str, monkeypatch) -> Iterator[Store]:
    monkeypatch.setenv("PERMANENCE_SCHEDULE_FILE", str(ALWAYS_LIVE))
    store = Store.create(desk_url)

    def listed() -> list[dict]:  # as connectors/x/runtime.py gives them
        return [{"id": p["id"], "handle": p["username"],
                 "link": post_link(p["tweet_id"], p["username"]),
                 "posted_at": p["posted_at"], "received_at": p["received_at"]}
                for p in store.public_posts_open()]

    source = public_posts.Source(listed, store.public_post_done)
    costs.register(costs.X, store.cost_totals)
    public_posts.register(public_posts.X, source)
    yield store
    costs.unregister(costs.X)
    public_posts.unregister(public_posts.X)
    store.close()


@pytest.fixture
async def desk(factory, monkeypatch) -> AsyncIterator[tuple[str, str, aiohttp.ClientSession]]:
    monkeypatch.setattr(Sanic, "test_mode", True)
    with factory.begin() as session:
        token = auth.create_token(session, auth.set_lawyer(session, "a@cabinet.example",
                                                           "un mot de passe solide"))
    app = Sanic(f"desk_costs_{uuid.uuid4().hex}")
    app.blueprint(desk_blueprint(lambda: factory), url_prefix="/desk")
    async with serving(app) as base:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
            yield base, token, http


async def call(desk, method: str, path: str) -> tuple[int, str]:
    base, token, http = desk
    async with http.request(method, base + path,
                            headers={"Authorization": f"Bearer {token}"}) as reply:
        return reply.status, await reply.text()


async def test_the_costs_route_and_the_queues_line(desk, x_store, factory) -> None:
    now = datetime.now(timezone.utc)
    x_store.costs_add(METER.call("dm_sent") * 4, now=now)
    x_store.costs_add(METER.resources("dm_received", ["1", "2", "3"], now), now=now)
    x_store.costs_add(METER.call("post_created_summoned"), now=now)
    status, body = await call(desk, "GET", "/desk/api/costs")
    assert status == 200
    report = json.loads(body)
    assert report["currency"] == "USD" and re.fullmatch(r"\d{4}-\d{2}", report["month"])
    [x] = report["channels"]
    assert x["month"]["cost_usd"] == pytest.approx(0.06 + 0.03 + 0.01)
    assert x["month"]["by_kind"]["dm_sent"] == {"count": 4, "cost_usd": 0.06}
    assert x["latest_session"]["live"] and x["latest_session"]["cost_usd"] == pytest.approx(0.1)
    assert x["line"].startswith("Coût X : permanence en cours 0,10 $ (4 DM envoyés, 3 DM lus, "
                                "1 publication) · ")
    assert x["line"].endswith(" : 0,10 $")
    status, page = await call(desk, "GET", "/desk/")
    shown = re.search(r'<p class="budget cost" data-cost="x">([^<]*)</p>', page).group(1)
    assert html.unescape(shown) == x["line"]
    status, fragment = await call(desk, "GET", "/desk/fragments/queue")
    assert status == 200 and 'data-cost="x"' in fragment
    # Another month: nothing; a malformed one: 400.
    status, body = await call(desk, "GET", "/desk/api/costs?month=2020-01")
    assert status == 200 and json.loads(body)["channels"][0]["month"]["cost_usd"] == 0
    status, body = await call(desk, "GET", "/desk/api/costs?month=janvier")
    assert status == 400 and json.loads(body)["error"] == "invalid_input"
    with factory.begin() as session:  # counts only: not audited
        actions = session.execute(select(desk_audit.c.action)).scalars().all()
    assert "costs.read" not in actions


async def test_public_posts_are_listed_then_taken_off(desk, x_store, factory) -> None:
    x_store.public_post_add("1601", "4242", "citoyenne")
    x_store.public_post_add("1602", "777", None)
    status, body = await call(desk, "GET", "/desk/api/public-posts")
    assert status == 200
    [x] = json.loads(body)["channels"]
    assert x["channel"] == "x"
    assert [(p["handle"], p["link"]) for p in x["posts"]] == [
        ("citoyenne", "https://x.com/citoyenne/status/1601"),
        (None, "https://x.com/i/web/status/1602")]
    assert "4242" not in body and "777" not in body  # no person id leaves the X store

    status, page = await call(desk, "GET", "/desk/")
    assert 'href="https://x.com/citoyenne/status/1601"' in page
    assert "Publications à traiter à la main" in page and "@citoyenne" in page
    first = x["posts"][0]["id"]
    assert (await call(desk, "POST", f"/desk/api/public-posts/x/{first}/done"))[0] == 200
    assert (await call(desk, "POST", f"/desk/api/public-posts/x/{first}/done"))[0] == 404
    for path in ("/desk/api/public-posts/mastodon/1/done", "/desk/api/public-posts/x/abc/done"):
        assert (await call(desk, "POST", path))[0] == 404
    status, body = await call(desk, "GET", "/desk/api/public-posts")
    assert [p["link"] for p in json.loads(body)["channels"][0]["posts"]] == [
        "https://x.com/i/web/status/1602"]
    with factory.begin() as session:
        audit = session.execute(select(desk_audit.c.action, desk_audit.c.detail)).all()
    assert ("public_post.done", f"x:{first}") in audit
    assert [a for a, _ in audit].count("public_posts.read") == 2


async def test_the_persons_export_has_her_listed_posts_and_no_one_elses(
        desk, x_store, factory, domain) -> None:
    with factory.begin() as session:
        case_id = cases.open_case_from_tracker(session, handoff_tracker(
            domain, "x:4242", channel="x", metadata={"screen_name": "Citoyenne"}))[0]
    x_store.public_post_add("1601", "4242", "citoyenne")
    x_store.public_post_add("1603", "5353", "voisin")
    status, body = await call(desk, "GET", f"/desk/api/cases/{case_id}/export")
    assert status == 200
    report = json.loads(body)
    assert [(p["channel"], p["link"]) for p in report["public_posts"]] == [
        ("x", "https://x.com/citoyenne/status/1601")]
    assert "voisin" not in body and "1603" not in body
    status, text = await call(desk, "GET", f"/desk/api/cases/{case_id}/export?format=text")
    assert "https://x.com/citoyenne/status/1601" in text and "voisin" not in text


async def test_without_an_x_channel_nothing_is_shown(desk) -> None:
    assert json.loads((await call(desk, "GET", "/desk/api/costs"))[1])["channels"] == []
    assert json.loads((await call(desk, "GET", "/desk/api/public-posts"))[1]) == {
        "channels": []}
    status, page = await call(desk, "GET", "/desk/")
    assert status == 200 and 'class="budget cost"' not in page
    assert "Publications à traiter" not in page


async def test_every_new_route_needs_a_lawyer(desk) -> None:
    base, _, http = desk
    for method, path in (("GET", "/desk/api/costs"), ("GET", "/desk/api/public-posts"),
                         ("POST", "/desk/api/public-posts/x/1/done")):
        async with http.request(method, base + path) as reply:
            assert reply.status == 401


def test_cost_lines() -> None:
    session = {"start": datetime(2026, 12, 1, 11, 0, tzinfo=timezone.utc).isoformat(),
               "live": False, "cost_usd": 0.845,
               "by_kind": {"dm_sent": {"count": 1}, "dm_event_read": {"count": 30}}}
    channel = {"channel": "x", "month": {"cost_usd": 1.2345}, "latest_session": session}
    assert views.cost_line({"month": "2026-12"}, channel) == (
        "Coût X : dernière permanence (mardi 1er décembre) 0,84 $ (1 DM envoyé, 30 DM lus)"
        " · décembre 2026 : 1,23 $")
    assert views.cost_line({"month": "2026-12"}, {**channel, "latest_session": None}) == (
        "Coût X : décembre 2026 : 1,23 $")
    assert "illisible" in views.cost_line({"month": "2026-12"}, {"channel": "x",
                                                                  "error": "unreadable"})
    assert views.money_usd(0.005) == "0,005 $" and views.money_usd(0) == "0,00 $"
