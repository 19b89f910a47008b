"""The desk's pages and live events through a real Sanic server on 127.0.0.1: login form and
session cookie, pages refused without a session, forms refused without their CSRF token, the
queue and the case as the lawyer reads them, escaping of what people wrote, canned replies,
Server-Sent Events, and the audit log. (The browser itself: tests/e2e/test_desk_browser.py.)"""

from __future__ import annotations

import asyncio
import html
import json
import re
import threading
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.cookies import SimpleCookie
from types import SimpleNamespace

import aiohttp
import pytest
from desk_testlib import handoff_tracker, serving
from sanic import Sanic
from sqlalchemy import select

from desk import auth, canned, cases, db, live, mail, views
from desk.api import SESSION_COOKIE
from desk.channel import desk_blueprint
from desk.models import desk_audit, desk_canned_reply
from desk.pages import LOGIN_COOKIE

PASSWORD = "un mot de passe solide"
EMAIL = "avocate@cabinet.example"
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@dataclass
class Browserish:
    """A client that keeps no cookies by itself: each test says which cookie it sends."""

    base: str
    factory: object
    http: aiohttp.ClientSession
    lawyer: int

    async def request(self, method: str, path: str, cookie: str | None = None,
                      data: dict | None = None, headers: dict | None = None
                      ) -> tuple[int, aiohttp.typedefs.LooseHeaders, str]:
        headers = dict(headers or {})
        if cookie:
            headers["Cookie"] = cookie
        async with self.http.request(method, self.base + path, data=data, headers=headers,
                                     allow_redirects=False) as reply:
            return reply.status, reply.headers, await reply.text()

    async def login(self, email: str = EMAIL, password: str = PASSWORD) -> tuple[str, str]:
        """The login form as a browser fills it: (session cookie header, CSRF token)."""
        status, headers, page = await self.request("GET", "/desk/login")
        assert status == 200
        nonce = cookies(headers)[LOGIN_COOKIE].value
        status, headers, _ = await self.request(
            "POST", "/desk/login", cookie=f"{LOGIN_COOKIE}={nonce}",
            data={"csrf_token": hidden_csrf(page), "email": email, "password": password})
        assert (status, headers["Location"]) == (303, "/desk/"), status
        token = cookies(headers)[SESSION_COOKIE].value
        return f"{SESSION_COOKIE}={token}", auth.csrf_token(token)


def cookies(headers) -> SimpleCookie:
    found = SimpleCookie()
    for value in headers.getall("Set-Cookie", []):
        found.load(value)
    return found


def hidden_csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def section_ids(page: str, list_id: str) -> list[int]:
    match = re.search(rf'<ol class="[^"]*" id="{list_id}">(.*?)</ol>', page, re.S)
    return [int(x) for x in re.findall(r'data-case-id="(\d+)"', match.group(1))] if match else []


@pytest.fixture
async def desk(factory, monkeypatch) -> AsyncIterator[Browserish]:
    monkeypatch.setattr(Sanic, "test_mode", True)
    with factory.begin() as session:
        lawyer = auth.set_lawyer(session, EMAIL, PASSWORD)
    app = Sanic(f"desk_pages_{uuid.uuid4().hex}")
    app.blueprint(desk_blueprint(lambda: factory), url_prefix="/desk")
    async with serving(app) as base:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
            yield Browserish(base, factory, http, lawyer)


def open_case(factory, domain, sender: str, **slots) -> int:
    with factory.begin() as session:
        return cases.open_case_from_tracker(session, handoff_tracker(domain, sender, **slots))[0]


def audit_actions(factory, lawyer_id: int) -> list[tuple]:
    with factory.begin() as session:
        rows = session.execute(select(desk_audit.c.case_id, desk_audit.c.action)
                               .where(desk_audit.c.lawyer_id == lawyer_id)
                               .order_by(desk_audit.c.id))
        return [tuple(row) for row in rows]


# ------------------------------------------------------------------ login, logout


async def test_login_form_opens_the_apis_session(desk: Browserish) -> None:
    status, headers, page = await desk.request("GET", "/desk/login")
    assert status == 200 and 'type="password"' in page
    login_cookie = cookies(headers)[LOGIN_COOKIE]
    assert login_cookie["httponly"] and login_cookie["samesite"] == "Strict"
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    form = {"email": EMAIL, "password": PASSWORD}

    # Without the form's token, or with another browser's, the login is refused.
    status, _, _ = await desk.request("POST", "/desk/login", data=form)
    assert status == 403
    status, _, page = await desk.request(
        "POST", "/desk/login", cookie=f"{LOGIN_COOKIE}=another-nonce",
        data={**form, "csrf_token": hidden_csrf((await desk.request("GET", "/desk/login"))[2])})
    assert status == 403 and "expiré" in page
    nonce = login_cookie.value
    status, _, page = await desk.request(
        "POST", "/desk/login", cookie=f"{LOGIN_COOKIE}={nonce}",
        data={**form, "password": "pas le bon", "csrf_token": auth.csrf_token(nonce)})
    assert status == 401 and "incorrect" in page and SESSION_COOKIE not in page

    status, headers, _ = await desk.request(
        "POST", "/desk/login", cookie=f"{LOGIN_COOKIE}={nonce}",
        data={**form, "csrf_token": auth.csrf_token(nonce)})
    assert (status, headers["Location"]) == (303, "/desk/")
    session = cookies(headers)[SESSION_COOKIE]
    assert session["httponly"] and session["samesite"] == "Strict" and session["path"] == "/desk"
    cookie = f"{SESSION_COOKIE}={session.value}"
    # The same session as the JSON API's: the API accepts it, with the same CSRF token.
    status, _, body = await desk.request("GET", "/desk/api/cases", cookie=cookie)
    assert status == 200 and json.loads(body) == {"queue": [], "flagged": []}
    status, headers, _ = await desk.request("GET", "/desk/login", cookie=cookie)
    assert (status, headers["Location"]) == (303, "/desk/")
    assert [a for _, a in audit_actions(desk.factory, desk.lawyer)] == [
        "session.login", "queue.read"]


async def test_login_form_is_rate_limited(desk: Browserish) -> None:
    for _ in range(auth.LOGIN_LIMITS.account_address.failures):
        status, headers, page = await desk.request("GET", "/desk/login")
        nonce = cookies(headers)[LOGIN_COOKIE].value
        status, _, _ = await desk.request(
            "POST", "/desk/login", cookie=f"{LOGIN_COOKIE}={nonce}",
            data={"email": EMAIL, "password": "faux", "csrf_token": hidden_csrf(page)})
        assert status == 401
    status, headers, page = await desk.request("GET", "/desk/login")
    nonce = cookies(headers)[LOGIN_COOKIE].value
    status, headers, page = await desk.request(
        "POST", "/desk/login", cookie=f"{LOGIN_COOKIE}={nonce}",
        data={"email": EMAIL, "password": PASSWORD, "csrf_token": hidden_csrf(page)})
    assert status == 429 and "Trop de tentatives" in page
    assert SESSION_COOKIE not in cookies(headers)


async def test_logout_needs_the_csrf_token_and_ends_the_session(desk: Browserish) -> None:
    cookie, csrf = await desk.login()
    assert (await desk.request("POST", "/desk/logout", cookie=cookie))[0] == 403
    other = auth.csrf_token("another session")
    assert (await desk.request("POST", "/desk/logout", cookie=cookie,
                               data={"csrf_token": other}))[0] == 403
    assert (await desk.request("GET", "/desk/", cookie=cookie))[0] == 200  # still logged in
    status, headers, _ = await desk.request("POST", "/desk/logout", cookie=cookie,
                                            data={"csrf_token": csrf})
    assert (status, headers["Location"]) == (303, "/desk/login")
    assert cookies(headers)[SESSION_COOKIE]["max-age"] == "0"
    status, headers, _ = await desk.request("GET", "/desk/", cookie=cookie)
    assert (status, headers["Location"]) == (303, "/desk/login")
    assert [a for _, a in audit_actions(desk.factory, desk.lawyer)][-1] == "session.logout"


@pytest.mark.parametrize("path", ["/desk/", "/desk", "/desk/cases/1", "/desk/canned"])
async def test_pages_send_a_stranger_to_the_login_form(desk: Browserish, domain, path) -> None:
    open_case(desk.factory, domain, "someone")
    for cookie in (None, f"{SESSION_COOKIE}=forged"):
        status, headers, page = await desk.request("GET", path, cookie=cookie)
        assert (status, headers["Location"]) == (303, "/desk/login")
        assert "mairie" not in page
    for xhr in ("/desk/fragments/queue", "/desk/cases/1/updates", "/desk/events"):
        status, _, body = await desk.request("GET", xhr, headers={"Accept": "text/event-stream"})
        assert (status, json.loads(body)["error"]) == (401, "unauthorized")


# ------------------------------------------------------------------ the queue


async def test_queue_by_urgency_then_age_referrals_and_conflicts_apart(desk: Browserish,
                                                                       domain) -> None:
    with desk.factory.begin() as session:
        cases.add_client(session, "Commune de Liévin")
    older = open_case(desk.factory, domain, "p2", urgence="P2")
    urgent = open_case(desk.factory, domain, "p0", urgence="P0")
    newer = open_case(desk.factory, domain, "p2-later", urgence="P2")
    referral = open_case(desk.factory, domain, "out", urgence="OUT", domaine="hors_champ")
    flagged = open_case(desk.factory, domain, "client", partie_adverse="commune de Lievin")
    closed = open_case(desk.factory, domain, "done")
    with desk.factory.begin() as session:
        cases.close(session, closed, desk.lawyer, "nothing_to_answer")
    cookie, _ = await desk.login()

    status, _, page = await desk.request("GET", "/desk/", cookie=cookie)
    assert status == 200
    assert section_ids(page, "queue-cases") == [urgent, older, newer]
    assert section_ids(page, "queue-referrals") == [referral]
    assert section_ids(page, "queue-flagged") == [flagged]
    assert "Confirmer l'orientation" in page and f'data-case-id="{closed}"' not in page
    assert 'id="schedule-badge"' in page
    status, _, fragment = await desk.request("GET", "/desk/fragments/queue", cookie=cookie)
    assert status == 200 and section_ids(fragment, "queue-cases") == [urgent, older, newer]
    assert "<html" not in fragment
    assert [a for _, a in audit_actions(desk.factory, desk.lawyer)] == [
        "case.close", "session.login", "queue.read", "queue.read"]


# ------------------------------------------------------------------ a case


async def test_case_page_fact_card_timeline_and_escaping(desk: Browserish, domain) -> None:
    case_id = open_case(desk.factory, domain, "xss", recit=HOSTILE, partie_adverse=HOSTILE,
                        urgence="P1", echeance_estimee="2026-12-19")
    with desk.factory.begin() as session:
        cases.record_person_message(session, "xss", f"encore moi {HOSTILE}")
        cases.take(session, case_id, desk.lawyer)
        cases.reply(session, case_id, desk.lawyer, "Bonjour, ici l'avocate.")
        cases.note(session, case_id, desk.lawyer, "<b>à rappeler</b>")
        canned.add_reply(session, desk.lawyer, "Pièces", f'" onclick="{HOSTILE}')
    cookie, csrf = await desk.login()

    status, headers, page = await desk.request("GET", f"/desk/cases/{case_id}", cookie=cookie)
    assert status == 200 and headers["Cache-Control"] == "no-store"
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>" not in page
    assert html.escape(HOSTILE, quote=False) in page.replace("&#34;", '"').replace("&#39;", "'")
    assert 'onclick="' not in page
    for kind in ("person", "assistant", "lawyer", "note"):
        assert f'class="msg {kind}"' in page, kind
    assert "19/12/2026" in page and "P1 · urgent" in page and "Urbanisme, permis" in page
    assert f'<meta name="csrf-token" content="{csrf}">' in page
    assert 'data-mine="yes"' in page and 'data-state="taken"' in page

    # Live updates: only what is new, rendered (escaped) by the server.
    with desk.factory.begin() as session:
        last_message, last_note = views.last_ids(cases.get_case(session, case_id))
        cases.record_person_message(session, "xss", f"et maintenant {HOSTILE}")
    status, _, body = await desk.request(
        "GET", f"/desk/cases/{case_id}/updates?after_message={last_message}"
               f"&after_note={last_note}", cookie=cookie)
    update = json.loads(body)
    assert status == 200 and update["state"] == "taken" and update["mine"] is True
    assert update["html"].count('class="msg person"') == 1 and "et maintenant" in update["html"]
    assert "<script>" not in update["html"] and update["last_message"] == last_message + 1
    assert list(update["deliveries"].values()) == [{"state": "pending",
                                                    "label": "envoi en cours"}]
    assert [a for c, a in audit_actions(desk.factory, desk.lawyer) if c == case_id][-2:] == [
        "case.read", "case.read"]

    assert (await desk.request("GET", "/desk/cases/99999", cookie=cookie))[0] == 404
    assert (await desk.request("GET", "/desk/cases/abc", cookie=cookie))[0] == 404


async def test_a_referral_case_says_which_ordre_the_person_was_sent_to(desk: Browserish,
                                                                          domain) -> None:
    """The Ordre des avocats named to the person (the fact card's ``ordres``), in French among
    the key facts of the case page and as ``referral_ordre`` in GET /desk/api/cases/<id>."""
    one = open_case(desk.factory, domain, "web:ordre-1", urgence="OUT", domaine="hors_champ",
                    ordres=["Barreau d'Arras"])
    several = open_case(desk.factory, domain, "web:ordre-2", urgence="OUT",
                        domaine="hors_champ", ordres=["Barreau de Lille", "Barreau de Douai"])
    unknown = open_case(desk.factory, domain, "web:ordre-3", urgence="OUT",
                        domaine="hors_champ", ordres=[])
    for_lawyer = open_case(desk.factory, domain, "web:ordre-4", urgence="P2")
    cookie, _ = await desk.login()
    expected = {
        one: "Ordre des avocats (Barreau d'Arras)",
        several: "L'un des Ordres des avocats de son département : Barreau de Lille ou "
                 "Barreau de Douai",
        unknown: views.ORDRE_NOT_FOUND,
    }
    for case_id, line in expected.items():
        status, _, page = await desk.request("GET", f"/desk/cases/{case_id}", cookie=cookie)
        assert status == 200
        key_facts = page.split('class="fact-card key-facts"', 1)[1].split("</dl>", 1)[0]
        assert "<dt>Orientée vers</dt>" in key_facts, case_id
        assert line in key_facts.replace("&#39;", "'"), (case_id, key_facts)
        assert page.count("<dt>Orientée vers</dt>") == 1  # once, among the key facts
        status, _, body = await desk.request("GET", f"/desk/api/cases/{case_id}",
                                             cookie=cookie)
        assert status == 200 and json.loads(body)["referral_ordre"] == line
    status, _, page = await desk.request("GET", f"/desk/cases/{for_lawyer}", cookie=cookie)
    assert status == 200 and "Orientée vers" not in page
    status, _, body = await desk.request("GET", f"/desk/api/cases/{for_lawyer}", cookie=cookie)
    assert json.loads(body)["referral_ordre"] is None


# ------------------------------------------------------------------ canned replies


async def test_canned_replies_crud(desk: Browserish, domain) -> None:
    cookie, csrf = await desk.login()
    new = {"action": "create", "title": "Délais", "text": "Le délai de recours est de 2 mois."}
    assert (await desk.request("POST", "/desk/canned", cookie=cookie, data=new))[0] == 403
    status, headers, _ = await desk.request("POST", "/desk/canned", cookie=cookie,
                                            data={**new, "csrf_token": csrf})
    assert (status, headers["Location"]) == (303, "/desk/canned?done=create")
    with desk.factory.begin() as session:
        [reply] = canned.list_replies(session)
    status, _, page = await desk.request("GET", "/desk/canned?done=create", cookie=cookie)
    assert status == 200 and "Réponse type ajoutée" in page and "2 mois" in page

    case_id = open_case(desk.factory, domain, "canned")
    status, _, page = await desk.request("GET", f"/desk/cases/{case_id}", cookie=cookie)
    assert 'data-text="Le délai de recours est de 2 mois."' in page

    changed = {"action": "update", "id": str(reply["id"]), "title": "Délai",
               "text": "Deux mois.", "csrf_token": csrf}
    assert (await desk.request("POST", "/desk/canned", cookie=cookie, data=changed))[0] == 303
    with desk.factory.begin() as session:
        assert canned.list_replies(session) == [{"id": reply["id"], "title": "Délai",
                                                 "text": "Deux mois."}]
    status, _, page = await desk.request(
        "POST", "/desk/canned", cookie=cookie, data={**changed, "title": "  "})
    assert status == 400 and "Un titre et un texte" in page
    status, _, _ = await desk.request(
        "POST", "/desk/canned", cookie=cookie, data={**changed, "id": "999"})
    assert status == 404
    deleted = {"action": "delete", "id": str(reply["id"]), "csrf_token": csrf}
    assert (await desk.request("POST", "/desk/canned", cookie=cookie, data=deleted))[0] == 303
    with desk.factory.begin() as session:
        assert session.execute(select(desk_canned_reply)).all() == []
    actions = [a for _, a in audit_actions(desk.factory, desk.lawyer)]
    assert [a for a in actions if a.startswith("canned.")] == [
        "canned.create", "canned.read", "canned.update", "canned.delete"]


# ------------------------------------------------------------------ live events


async def read_event(stream: aiohttp.StreamReader) -> str:
    """The next event or comment block of a Server-Sent Events stream."""
    lines = []
    while True:
        line = (await asyncio.wait_for(stream.readline(), 30)).decode()
        if line in ("\n", ""):
            return "".join(lines)
        lines.append(line)


async def next_data(stream: aiohttp.StreamReader) -> dict:
    while True:
        block = await read_event(stream)
        if block.startswith("data: "):
            return json.loads(block[len("data: "):])


async def test_events_stream_in_process_and_from_the_database(desk: Browserish, domain,
                                                              monkeypatch) -> None:
    monkeypatch.setattr(live, "KEEPALIVE_SECONDS", 0.3)
    cookie, csrf = await desk.login()
    case_id = open_case(desk.factory, domain, "live")
    async with desk.http.get(desk.base + "/desk/events", headers={"Cookie": cookie}) as reply:
        assert reply.status == 200
        assert reply.headers["Content-Type"].startswith("text/event-stream")
        assert "connected" in await read_event(reply.content)

        # A hook in an executor thread of the Rasa server publishes in-process.
        thread = threading.Thread(target=live.publish, args=("case.opened", 41))
        thread.start()
        thread.join()
        assert await next_data(reply.content) == {"type": "case.opened", "case_id": 41}

        # Another process changed the database: the watcher sees it.
        with desk.factory.begin() as session:
            cases.take(session, case_id, desk.lawyer)
        assert await next_data(reply.content) == {"type": "case.changed", "case_id": case_id}
        assert ": keep-alive" in await read_event(reply.content)

        # Logged out elsewhere: the stream says so and ends.
        status, _, _ = await desk.request("POST", "/desk/logout", cookie=cookie,
                                          data={"csrf_token": csrf})
        assert status == 303
        assert await next_data(reply.content) == {"type": "session.ended", "case_id": None}
        assert await asyncio.wait_for(reply.content.read(), 30) == b""
    for _ in range(300):  # the stream's handler has let go of its subscription
        if live.broker.count() == 0:
            break
        await asyncio.sleep(0.05)
    assert live.broker.count() == 0
    assert ("events.open" in [a for _, a in audit_actions(desk.factory, desk.lawyer)])


async def test_a_lawyer_going_away_unsubscribes(desk: Browserish) -> None:
    cookie, _ = await desk.login()
    async with desk.http.get(desk.base + "/desk/events", headers={"Cookie": cookie}) as reply:
        assert "connected" in await read_event(reply.content)
        assert live.broker.count() == 1
    for _ in range(300):
        if live.broker.count() == 0:
            break
        await asyncio.sleep(0.05)
    assert live.broker.count() == 0


# ------------------------------------------------------------------ pure logic


def test_change_tracker_reports_each_change_once_and_erasures() -> None:
    t0 = datetime(2026, 12, 1, 11, 0, tzinfo=timezone.utc)
    tracker = live.ChangeTracker()
    assert tracker.update(2, [(1, t0), (2, t0)]) == []  # the first read only primes
    assert tracker.update(2, [(1, t0), (2, t0)]) == []
    # A commit that lands late with an older timestamp is still seen (the overlap).
    late = t0 - timedelta(seconds=1)
    assert tracker.update(3, [(1, t0), (2, t0), (3, late)]) == [
        {"type": "case.changed", "case_id": 3}]
    assert tracker.update(3, [(1, t0 + timedelta(seconds=2)), (2, t0), (3, late)]) == [
        {"type": "case.changed", "case_id": 1}]
    assert tracker.update(2, [(1, t0 + timedelta(seconds=2)), (3, late)]) == [
        {"type": "desk.changed", "case_id": None}]


def test_schedule_line_live_off_and_unknown() -> None:
    paris = views.DISPLAY_TZ
    live_now = SimpleNamespace(live=True, current_end=datetime(2026, 12, 1, 13, 0, tzinfo=paris),
                               next_start=None)
    assert views.schedule_line(live_now, str) == {
        "live": True, "badge": "Permanence en cours", "detail": "jusqu'à 13 h",
        "queue_title": "File d'attente"}
    off = SimpleNamespace(live=False, current_end=None,
                          next_start=datetime(2027, 1, 5, 12, 0, tzinfo=paris))
    line = views.schedule_line(off, lambda dt: f"le {dt.day}")
    assert line["live"] is False and line["detail"] == "Prochaine permanence : le 5"
    assert line["queue_title"] == "File pour la prochaine permanence (le 5)"
    assert views.schedule_line(None, None)["live"] is None


def test_the_desk_reads_the_real_schedule(monkeypatch, tmp_path) -> None:
    from desk.pages import permanence_status

    schedule = tmp_path / "schedule.yml"
    schedule.write_text('timezone: Europe/Paris\nrecurring:\n  - {every: day, start: "00:00", '
                        'end: "24:00"}\n')
    monkeypatch.setenv("PERMANENCE_SCHEDULE_FILE", str(schedule))
    assert permanence_status()["live"] is True
    schedule.write_text("timezone: Europe/Paris\nrecurring: []\nextra:\n  - {date: 2099-06-02, "
                        'start: "12:00", end: "13:00"}\n')
    line = permanence_status(datetime(2099, 6, 1, tzinfo=timezone.utc))
    assert line["live"] is False and "2 juin 2099 à 12 h" in line["detail"]
    schedule.write_text("timezone: Mars/Olympus\n")
    assert permanence_status()["live"] is None


async def test_the_tracker_store_tells_the_listening_pages_at_once(tmp_path, domain) -> None:
    """The hooks run in an executor thread of the Rasa server: the handover and the person's
    next message reach a subscriber of this process without waiting for the database watcher."""
    from rasa.shared.core.events import UserUttered

    from permanence.tracker_store import ConfidentialSQLTrackerStore

    url = f"sqlite:///{tmp_path / 'permanence.db'}"
    store = ConfidentialSQLTrackerStore(domain=domain, url=url)
    subscriber = live.broker.subscribe()
    # A namespaced id, as every channel makes: the desk's schema is created at the first save
    # here, and its migration 0002 would rename an unprefixed (legacy) conversation's events.
    try:
        tracker = handoff_tracker(domain, "web:live-hook", channel="webchat")
        await store.save(tracker)
        opened = await asyncio.wait_for(subscriber.queue.get(), 30)
        assert opened["type"] == "case.opened"
        with db.session_factory(url).begin() as session:
            assert cases.open_case_id(session, "web:live-hook") == opened["case_id"]
        tracker.update(UserUttered("toujours là", input_channel="webchat"))
        await store.save(tracker)
        assert await asyncio.wait_for(subscriber.queue.get(), 30) == {
            "type": "case.message", "case_id": opened["case_id"]}
    finally:
        live.broker.unsubscribe(subscriber)
        db.dispose_all()


def test_change_tracker_first_read_reports_changes_after_the_lawyer_connected() -> None:
    connected = datetime(2026, 12, 1, 11, 0, tzinfo=timezone.utc)
    tracker = live.ChangeTracker(started=connected)
    before, after = connected - timedelta(seconds=5), connected + timedelta(milliseconds=300)
    # A case taken between the connection and the watcher's first read is not lost.
    assert tracker.update(2, [(1, before), (2, after)]) == [
        {"type": "case.changed", "case_id": 2}]
    assert tracker.update(2, [(1, before), (2, after)]) == []


async def test_the_email_preference_form_needs_the_csrf_token_and_a_known_level(
        desk: Browserish) -> None:
    cookie, csrf = await desk.login()
    status, _, page = await desk.request("GET", "/desk/", cookie=cookie)
    assert status == 200 and 'id="notify-cases"' in page
    assert '<option value="P0" selected>' in page
    assert (await desk.request("POST", "/desk/notifications", cookie=cookie,
                               data={"notify_cases": "all"}))[0] == 403
    assert (await desk.request("POST", "/desk/notifications", cookie=cookie,
                               data={"notify_cases": "P2", "csrf_token": csrf}))[0] == 400
    with desk.factory.begin() as session:
        assert mail.preference(session, desk.lawyer) == "P0"
    status, headers, _ = await desk.request("POST", "/desk/notifications", cookie=cookie,
                                            data={"notify_cases": "all", "csrf_token": csrf})
    assert (status, headers["Location"]) == (303, "/desk/?notify=saved#h-notify")
    with desk.factory.begin() as session:
        assert mail.preference(session, desk.lawyer) == "all"
    assert "notify.set" in [a for _, a in audit_actions(desk.factory, desk.lawyer)]
    page = (await desk.request("GET", "/desk/?notify=saved", cookie=cookie))[2]
    assert '<option value="all" selected>' in page and "Préférence enregistrée." in page
