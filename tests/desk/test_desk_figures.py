"""The firm's figures (``desk/figures.py``, ``desk/figures_db.py``): a seeded month of cases,
the numbers checked against direct SQL counts on the desk's tables, and the same numbers from
``GET /desk/api/figures`` and ``/desk/figures.csv`` on a real Sanic server on 127.0.0.1 (bearer
token), with X's cost from a real X store registered as the X channel registers it."""

from __future__ import annotations

import csv
import io
import json
import math
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import aiohttp
import pytest
from desk_testlib import handoff_tracker, serving
from sanic import Sanic
from sqlalchemy import func, select

from desk import auth, cases, figures, figures_db, figures_view
from desk.channel import desk_blueprint
from desk.models import OPEN_STATES, desk_audit, desk_case, desk_message
from permanence import costs
from permanence.schedule import parse_schedule
from permanence.x_costs import CostMeter
from permanence.x_store import Store

UTC = timezone.utc
# Every Tuesday, 12:00-14:00 in Paris (11:00-13:00 UTC in December).
SCHEDULE = {"timezone": "Europe/Paris",
            "recurring": [{"every": "week", "weekday": "tuesday", "start": "12:00",
                           "end": "14:00"}]}
MONTH = "2026-12"
LILLE = "Barreau de Lille"
ARRAS = "Barreau d'Arras"
PERSON_WORDS = ("x:7001", "web:7002", "@quelquun", "permis de construire", "mairie de Lens")


def at(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def seed(factory, domain) -> dict[str, int]:
    """A month of cases: in and out of sessions, every kind, replies after known waits, one
    on the month's first Paris hour (30 November in UTC) and one on each side of the month."""
    with factory.begin() as session:
        lawyer = auth.set_lawyer(session, "a@cabinet.example", "un mot de passe solide")

        def open_(conv: str, when: datetime, channel: str = "webchat", **slots) -> int:
            return cases.open_case_from_tracker(
                session, handoff_tracker(domain, conv, channel=channel, **slots), now=when)[0]

        def answer(case_id: int, when: datetime, after: timedelta) -> None:
            cases.take(session, case_id, lawyer, now=when + after / 2)
            cases.reply(session, case_id, lawyer, "Bonjour, je vous rappelle.", now=when + after)

        # Tuesday 1 December, 12:00-14:00 Paris = 11:00-13:00 UTC.
        a = open_("x:7001", at(1, 11, 5), channel="x", urgence="P0", domaine="etrangers")
        answer(a, at(1, 11, 5), timedelta(minutes=10))
        cases.reply(session, a, lawyer, "Deuxième réponse.", now=at(1, 12, 30))
        b = open_("web:7002", at(1, 11, 30), urgence="P1", domaine="urbanisme")
        answer(b, at(1, 11, 30), timedelta(minutes=20))
        cases.close(session, b, lawyer, "answered", now=at(1, 12, 40))
        # The same conversation again, later in the session: two cases, one conversation.
        c = open_("web:7002", at(1, 12, 45), urgence="P2", domaine="urbanisme")
        open_("web:7003", at(1, 12, 50), urgence="OUT", domaine="hors_champ",
              ordres=[LILLE])
        # Tuesday 8 December.
        d = open_("web:7004", at(8, 11, 10), urgence="P2", domaine="fonction_publique")
        answer(d, at(8, 11, 10), timedelta(minutes=30))
        r = open_("web:7005", at(8, 11, 20), urgence="OUT", domaine="hors_champ",
                  ordres=[LILLE])
        cases.take(session, r, lawyer, now=at(8, 11, 25))
        cases.close(session, r, lawyer, "referred", now=at(8, 11, 30))
        open_("web:7006", at(8, 11, 40), urgence="OUT", domaine="hors_champ", ordres=[])
        # Outside sessions: Thursday 10 December, and Paris's 1 December at 00:30.
        e = open_("web:7007", at(10, 9), urgence=None, domaine="fiscalite")
        answer(e, at(10, 9), timedelta(hours=2))
        open_("web:7008", at(30, 23, 30, month=11), urgence="P3", domaine="etrangers")
        open_("web:7009", at(12, 10), urgence="OUT", domaine="hors_champ",
              ordres=[ARRAS, "Barreau de Béthune"])
        # Not in December (Paris): 30 November 22:59 UTC is 23:59 in Paris; January.
        open_("web:7010", at(30, 22, 59, month=11), urgence="P0", domaine="etrangers")
        open_("web:7011", datetime(2027, 1, 5, 11, 15, tzinfo=UTC), urgence="P1",
              domaine="urbanisme")
    return {"lawyer": lawyer, "c": c}


def month_report(factory, x_costs=None) -> dict:
    schedule = parse_schedule(SCHEDULE)
    label, start, end = costs.month_bounds(MONTH, schedule, at(7, 12))
    sessions = [s for s in schedule.sessions_between(start, end) if start <= s.start < end]
    with factory.begin() as session:
        found = figures_db.rows(session, start, end)
    return figures.report(found, label, start, end, sessions, x_costs, at(7, 12))


def sql_counts(factory, start: datetime, end: datetime) -> dict:
    """The same figures counted directly on the tables (no figures_db)."""
    where = (desk_case.c.opened_at >= start, desk_case.c.opened_at < end)
    with factory.begin() as session:
        count = session.execute(select(func.count()).select_from(desk_case).where(*where))
        by_kind = dict(session.execute(select(desk_case.c.kind, func.count())
                                       .where(*where).group_by(desk_case.c.kind)).all())
        by_tier = dict(session.execute(select(desk_case.c.urgency, func.count())
                                       .where(*where).group_by(desk_case.c.urgency)).all())
        still_open = session.execute(select(func.count()).select_from(desk_case).where(
            *where, desk_case.c.state.in_(OPEN_STATES))).scalar_one()
        conversations = session.execute(select(func.count(
            desk_case.c.conversation_id.distinct())).where(*where)).scalar_one()
        facts = [json.loads(f) for f in session.execute(
            select(desk_case.c.facts).where(*where)).scalars()]
        waits = session.execute(
            select(desk_case.c.opened_at, func.min(desk_message.c.created_at))
            .join(desk_message, desk_message.c.case_id == desk_case.c.id)
            .where(*where, desk_message.c.author == "lawyer", desk_case.c.kind == "lawyer")
            .group_by(desk_case.c.id, desk_case.c.opened_at)).all()
    seconds = sorted((_utc(last) - _utc(first)).total_seconds() for first, last in waits)
    return {
        "cases": count.scalar_one(), "conversations": conversations,
        "handovers": by_kind.get("lawyer", 0), "referrals": by_kind.get("referral", 0),
        "tiers": {("unknown" if k is None else k): v for k, v in by_tier.items()},
        "domains": dict(Counter(f["domaine"] for f in facts)),
        "ordres": dict(Counter(" ou ".join(f["ordres"]) or "unknown" for f in facts
                               if f["domaine"] == "hors_champ")),
        "still_open": still_open, "waits": seconds,
    }


def _utc(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def check_against_sql(found: dict, counted: dict) -> None:
    for name in ("cases", "conversations", "handovers", "referrals", "still_open", "tiers",
                 "domains"):
        assert found[name] == counted[name], name
    assert found["referrals_by_ordre"] == counted["ordres"]
    waits = counted["waits"]
    reply = found["first_reply"]
    assert reply["answered"] == len(waits)
    if waits:
        middle = len(waits) // 2
        median = waits[middle] if len(waits) % 2 else (waits[middle - 1] + waits[middle]) / 2
        assert reply["median_seconds"] == median
        assert reply["p90_seconds"] == waits[math.ceil(0.9 * len(waits)) - 1]


def test_a_seeded_month_matches_a_direct_count(factory, domain) -> None:
    seed(factory, domain)
    report = month_report(factory)
    month = report["figures"]
    # The numbers by hand first, then against SQL.
    assert month["cases"] == 10 and month["conversations"] == 9
    assert month["handovers"] == 6 and month["referrals"] == 4
    assert month["referrals_by_ordre"] == {LILLE: 2, f"{ARRAS} ou Barreau de Béthune": 1,
                                           "unknown": 1}
    assert month["tiers"] == {"P0": 1, "P1": 1, "P2": 2, "P3": 1, "unknown": 1, "OUT": 4}
    assert month["domains"] == {"hors_champ": 4, "etrangers": 2, "urbanisme": 2,
                                "fiscalite": 1, "fonction_publique": 1}
    # Waits of 10, 20, 30 min and 2 h (the second reply does not count).
    assert month["first_reply"] == {"median_seconds": 1500.0, "p90_seconds": 7200.0,
                                    "answered": 4, "unanswered": 2}
    assert month["still_open"] == 8  # b and a referral were closed
    start, end = datetime.fromisoformat(report["from"]), datetime.fromisoformat(report["to"])
    check_against_sql(month, sql_counts(factory, start, end))

    # Sessions: every Tuesday of December; the first two have cases.
    assert [s["start"][:10] for s in report["sessions"]] == [
        "2026-12-01", "2026-12-08", "2026-12-15", "2026-12-22", "2026-12-29"]
    for session in report["sessions"]:
        check_against_sql(session, sql_counts(
            factory, datetime.fromisoformat(session["start"]),
            datetime.fromisoformat(session["end"])))
    first, second = report["sessions"][:2]
    assert (first["cases"], first["conversations"], first["referrals"]) == (4, 3, 1)
    assert first["first_reply"]["median_seconds"] == 900.0
    assert (second["cases"], second["handovers"], second["referrals"]) == (3, 1, 2)
    assert report["sessions"][2]["cases"] == 0
    assert report["sessions"][2]["first_reply"]["median_seconds"] is None
    assert report["outside_sessions"]["cases"] == 3
    assert report["x"] is None  # no X channel registered

    text = json.dumps(report, ensure_ascii=False) + figures.to_csv(report)
    for word in PERSON_WORDS:
        assert word not in text, word


def test_the_page_model_labels_and_bars() -> None:
    chart = figures_view.chart("domains", "Domaines", [("Urbanisme, permis", 4), ("Élections", 1)])
    assert [b["width"] for b in chart["bars"]] == [figures_view.BAR_MAX, 72]
    assert chart["height"] == 2 * figures_view.ROW
    assert figures_view.neighbour_months("2026-12") == ("2026-11", "2027-01")
    assert figures_view.neighbour_months("2027-01") == ("2026-12", "2027-02")
    assert figures_view.duration(1500.0) == "25 min" and figures_view.duration(None) == "—"
    assert figures.percentile([5, 1, 3], 0.9) == 5 and figures.percentile([], 0.5) is None
    assert figures._cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"


# ---------------------------------------------------------------------- the HTTP routes


@pytest.fixture
async def served(factory, desk_url, monkeypatch, tmp_path) -> AsyncIterator[tuple]:
    schedule_file = tmp_path / "schedule.yml"
    schedule_file.write_text(json.dumps(SCHEDULE), encoding="utf-8")  # YAML reads JSON
    monkeypatch.setenv("PERMANENCE_SCHEDULE_FILE", str(schedule_file))
    monkeypatch.setattr(Sanic, "test_mode", True)
    store = Store.create(desk_url)
    costs.register(costs.X, store.cost_totals)
    with factory.begin() as session:
        token = auth.create_token(session, auth.set_lawyer(session, "b@cabinet.example",
                                                           "un mot de passe solide"))
    app = Sanic(f"desk_figures_{uuid.uuid4().hex}")
    app.blueprint(desk_blueprint(lambda: factory), url_prefix="/desk")
    try:
        async with serving(app) as base:
            async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
                yield base, token, http, store
    finally:
        costs.unregister(costs.X)
        store.close()


async def get(served, path: str, token: str | None = None) -> tuple[int, str, str]:
    base, default, http, _ = served
    headers = {"Authorization": f"Bearer {token or default}"} if token != "" else {}
    async with http.get(base + path, headers=headers, allow_redirects=False) as reply:
        return reply.status, reply.headers.get("content-type", ""), await reply.text()


async def test_the_api_and_the_csv_give_the_same_numbers(served, factory, domain) -> None:
    seed(factory, domain)
    store = served[3]
    meter = CostMeter.from_file()
    store.costs_add(meter.call("dm_sent") * 3, now=at(1, 11, 30))  # in the first session
    store.costs_add(meter.call("dm_sent"), now=at(3, 9))  # outside

    status, kind, body = await get(served, f"/desk/api/figures?month={MONTH}")
    assert status == 200 and kind.startswith("application/json")
    found = json.loads(body)
    expected = month_report(factory, costs.report(parse_schedule(SCHEDULE), MONTH))
    assert found["figures"] == expected["figures"]
    assert found["sessions"][0]["cases"] == 4
    x_month = costs.report(parse_schedule(SCHEDULE), MONTH)["channels"][0]["month"]
    assert found["x"]["cost_usd"] == x_month["cost_usd"] > 0
    assert found["x"]["by_kind"] == {"dm_sent": 4}
    assert found["sessions"][0]["x"]["by_kind"] == {"dm_sent": 3}
    assert found["sessions"][1]["x"] == {"cost_usd": 0.0, "by_kind": {}}
    for word in PERSON_WORDS:
        assert word not in body, word

    status, kind, body = await get(served, f"/desk/figures.csv?month={MONTH}")
    assert status == 200 and kind.startswith("text/csv")
    table = list(csv.reader(io.StringIO(body)))
    assert table[0] == list(figures.CSV_COLUMNS)
    month_rows = {(r[3], r[4]): r[5] for r in table[1:] if r[0] == "month"}
    assert month_rows[("cases", "")] == "10"
    assert month_rows[("referrals_by_ordre", LILLE)] == "2"
    assert month_rows[("first_reply", "p90_seconds")] == "7200.0"
    assert month_rows[("x_calls", "dm_sent")] == "4"

    with factory.begin() as session:
        actions = session.execute(select(desk_audit.c.action, desk_audit.c.detail).where(
            desk_audit.c.action == "figures.read")).all()
    assert [tuple(a) for a in actions] == [("figures.read", "month=2026-12")] * 2

    assert (await get(served, "/desk/api/figures?month=2026-13"))[0] == 400
    assert (await get(served, "/desk/api/figures", token=""))[0] == 401
    assert (await get(served, "/desk/api/figures", token="not-a-token"))[0] == 401
    status, _, _ = await get(served, "/desk/figures.csv", token="")
    assert status in (303, 401)


def test_the_referral_card_keeps_the_ordre(factory, domain) -> None:
    with factory.begin() as session:
        case_id = cases.open_case_from_tracker(session, handoff_tracker(
            domain, "web:1", urgence="OUT", domaine="hors_champ", ordres=[LILLE]))[0]
        assert cases.get_case(session, case_id)["facts"]["ordres"] == [LILLE]
