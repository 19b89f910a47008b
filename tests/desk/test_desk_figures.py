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
from alembic import command
from desk_testlib import handoff_tracker, serving
from sanic import Sanic
from sqlalchemy import func, insert, inspect, select, text

from desk import auth, cases, db, erasure, figures, figures_db, figures_record, figures_view, hooks
from desk.channel import desk_blueprint
from desk.models import OPEN_STATES, desk_audit, desk_case, desk_figure, desk_message
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


@pytest.fixture(autouse=True)
def schedule_file(monkeypatch, tmp_path) -> None:
    """The firm's schedule, read when a case opens (its session is counted) and by the API."""
    path = tmp_path / "schedule.yml"
    path.write_text(json.dumps(SCHEDULE), encoding="utf-8")  # YAML reads JSON
    monkeypatch.setenv("PERMANENCE_SCHEDULE_FILE", str(path))


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
async def served(factory, desk_url, monkeypatch) -> AsyncIterator[tuple]:
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


# ------------------------------------------- figures that outlive erasure and retention

# Three people, each with an id, a handle and words of their own (long: no random ref can
# contain them by chance).
ERASED_BY_LAWYER = ("x:880142317", "zorglub_temoin", "Quelmerville")
ERASED_ON_REQUEST = ("web:770293114", "vormezeele_habitant", "Vormezeele")
PURGED = ("web:660318275", "brindavoine_voisin", "Brindavoine")


def scan(factory, needles) -> list[tuple[str, str, str]]:
    """Every (table, column, needle) where a needle appears: every value of every row of
    every table of the desk's database."""
    found = []
    with factory.begin() as session:
        tables = inspect(session.connection()).get_table_names()
        assert "desk_figure" in tables
        for table in tables:
            result = session.execute(text(f'SELECT * FROM "{table}"'))
            columns = list(result.keys())
            for row in result:
                for column, value in zip(columns, row, strict=True):
                    if value is not None:
                        found += [(table, column, n) for n in needles if n in str(value)]
    return found


def without_still_open(figures_: dict) -> dict:
    return {k: v for k, v in figures_.items() if k not in ("still_open", "start", "end")}


async def test_erasure_and_retention_leave_the_months_figures_and_no_trace(
        factory, desk_url, domain) -> None:
    lawyer = seed(factory, domain)["lawyer"]
    with factory.begin() as session:
        def open_(person, when: datetime, **slots) -> int:
            conversation, handle, words = person
            return cases.open_case_from_tracker(session, handoff_tracker(
                domain, conversation, channel=conversation.split(":")[0].replace(
                    "web", "webchat"), metadata={"screen_name": handle},
                partie_adverse=f"la mairie de {words}", **slots), now=when)[0]

        # In the second session, answered after 5 minutes, still open: the lawyer erases it.
        erased = open_(ERASED_BY_LAWYER, at(8, 11, 50), urgence="P0", domaine="etrangers")
        cases.take(session, erased, lawyer, now=at(8, 11, 52))
        cases.reply(session, erased, lawyer, f"Bien reçu, {ERASED_BY_LAWYER[2]}.",
                    now=at(8, 11, 55))
        # Outside sessions, a referral still open: « supprimez mes données ».
        open_(ERASED_ON_REQUEST, at(11, 16), urgence="OUT", domaine="hors_champ",
              ordres=[ARRAS])
        # In the first session, answered after 15 minutes and closed: retention purges it.
        purged = open_(PURGED, at(1, 12, 15), urgence="P1", domaine="fonction_publique")
        cases.take(session, purged, lawyer, now=at(1, 12, 20))
        cases.reply(session, purged, lawyer, "Voici la marche à suivre.", now=at(1, 12, 30))
        cases.close(session, purged, lawyer, "answered", now=at(1, 12, 40))

    before = month_report(factory)
    month = before["figures"]
    assert (month["cases"], month["conversations"], month["still_open"]) == (13, 12, 10)
    assert month["first_reply"]["answered"] == 6
    assert month["referrals_by_ordre"][ARRAS] == 1
    assert [s["cases"] for s in before["sessions"][:2]] == [5, 4]
    needles = [part for person in (ERASED_BY_LAWYER, ERASED_ON_REQUEST, PURGED)
               for part in (*person, person[0].split(":")[1])]
    seen = {(table, needle) for table, _, needle in scan(factory, needles)}
    assert {("desk_case", n) for n in needles} <= seen  # the scan sees the people first

    # The lawyer's erase (the desk's part of POST /desk/api/cases/<id>/erase).
    with factory.begin() as session:
        assert erasure.erase_conversation(session, ERASED_BY_LAWYER[0], lawyer,
                                          reason="lawyer") == 1
    # The person's own request: the assistant erases the conversation, the hook the cases.
    await hooks.on_conversation_erased(desk_url, ERASED_ON_REQUEST[0])
    # Retention: the cases closed before the 20th (the purged person's, and two seeded).
    with factory.begin() as session:
        assert erasure.purge_closed(session, before=at(20, 0)) == 3
        assert session.execute(select(func.count()).select_from(desk_case)).scalar_one() == 10

    after = month_report(factory)
    # The same figures; only the two open cases erased are no longer open.
    assert without_still_open(after["figures"]) == without_still_open(month)
    assert after["figures"]["still_open"] == month["still_open"] - 2
    for old, new in zip(before["sessions"], after["sessions"], strict=True):
        assert without_still_open(new) == without_still_open(old)
    assert after["outside_sessions"]["cases"] == before["outside_sessions"]["cases"]
    assert scan(factory, needles) == []
    with factory.begin() as session:
        kept = session.execute(select(desk_figure)).mappings().all()
    assert len(kept) == 15  # the 12 seeded (two outside December) and the three people's
    assert {c for row in kept for c in row} == {
        "ref", "conversation", "day", "session_start", "kind", "route", "channel", "domain",
        "tier", "ordres", "first_reply_seconds"}
    assert all(row["session_start"] is None or row["session_start"].minute == 0
               for row in kept)  # a session's start, never the minute a case opened


def test_a_new_case_of_the_same_conversation_counts_once(factory, domain) -> None:
    """One conversation, two cases (the first closed): one conversation in the figures; once
    the first case is erased, the second still counts as one conversation, the same."""
    with factory.begin() as session:
        lawyer = auth.set_lawyer(session, "a@cabinet.example", "un mot de passe solide")
        first = cases.open_case_from_tracker(session, handoff_tracker(
            domain, "web:31", urgence="P2", domaine="urbanisme"), now=at(1, 11, 5))[0]
        cases.take(session, first, lawyer, now=at(1, 11, 6))
        cases.close(session, first, lawyer, "answered", now=at(1, 11, 7))
        cases.open_case_from_tracker(session, handoff_tracker(
            domain, "web:31", urgence="P1", domaine="urbanisme"), now=at(1, 11, 30))
        assert session.execute(select(func.count(desk_figure.c.conversation.distinct()))
                               ).scalar_one() == 1
    assert month_report(factory)["figures"]["conversations"] == 1
    with factory.begin() as session:
        erasure.purge_closed(session, before=at(2, 0))
    assert month_report(factory)["figures"]["conversations"] == 1
    assert month_report(factory)["figures"]["cases"] == 2


def test_the_migration_counts_the_cases_already_held(empty_url) -> None:
    """An install from before the counts table: upgrading gives every case it holds a row,
    with its session and its first reply, so its figures stay as they were."""
    command.upgrade(db.alembic_config(empty_url), "0006_case_labels")
    engine = db.make_engine(empty_url)

    def case(conversation: str, when: datetime, kind: str, tier: str | None,
             facts: dict, state: str = "waiting") -> dict:
        return {"conversation_id": conversation, "state": state, "kind": kind,
                "urgency": tier, "urgency_rank": cases.URGENCY_RANK[tier], "channel": "webchat",
                "handle": "quelquun", "facts": json.dumps(facts), "transcript": "[]",
                "flagged": False, "opened_at": when, "updated_at": when}

    try:
        with engine.begin() as connection:
            ids = [connection.execute(insert(desk_case).values(**row)).inserted_primary_key[0]
                   for row in (
                case("web:41", at(1, 11, 5), "lawyer", "P0", {"domaine": "etrangers"},
                     "answered"),
                case("web:41", at(1, 12, 50), "lawyer", "P2", {"domaine": "etrangers"}),
                case("web:42", at(10, 9), "referral", "OUT",
                     {"domaine": "hors_champ", "ordres": [LILLE]}))]
            connection.execute(insert(desk_message).values(
                case_id=ids[0], author="lawyer", text="Bonjour.", delivery="sent",
                created_at=at(1, 11, 17)))
    finally:
        engine.dispose()
    db.upgrade_to_head(empty_url)
    factory = db.session_factory(empty_url)
    report = month_report(factory)
    month = report["figures"]
    assert (month["cases"], month["conversations"], month["handovers"]) == (3, 2, 2)
    assert month["referrals_by_ordre"] == {LILLE: 1}
    assert month["tiers"] == {"P0": 1, "P2": 1, "OUT": 1}
    assert month["first_reply"]["median_seconds"] == 720.0
    assert month["still_open"] == 2
    assert report["sessions"][0]["cases"] == 2 and report["outside_sessions"]["cases"] == 1
    db.upgrade_to_head(empty_url)  # a second start adds nothing
    assert month_report(factory)["figures"]["cases"] == 3


def test_a_count_keeps_only_codes_never_free_text() -> None:
    """Whatever reaches the fact card, the counts keep only short codes from closed lists."""
    kept = figures_record.values(
        "referral", "Jean Dupont <jd@example.org>", "P9",
        {"domaine": "voir mon voisin M. Dupont", "ordres": [LILLE, 3, ""]},
        route="referral")
    assert kept == {"kind": "referral", "route": "referral", "channel": None, "domain": None,
                    "tier": None, "ordres": json.dumps([LILLE], ensure_ascii=False)}
    day, session_start = figures_record.when(at(30, 23, 30, month=11),
                                             parse_schedule(SCHEDULE))
    assert (day.isoformat(), session_start) == ("2026-12-01", None)  # Paris's day
    day, session_start = figures_record.when(at(1, 12, 59), parse_schedule(SCHEDULE))
    assert session_start == at(1, 11) and session_start.tzinfo == UTC
