"""The desk's JSON API through a real Sanic server on 127.0.0.1 (sanic-testing is not
installed): authentication on every route, CSRF for cookie sessions, the case actions, JSON
errors for bad input (never 500), and the audit log."""

from __future__ import annotations

import json
import re
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from http.cookies import SimpleCookie

import aiohttp
import pytest
from desk_testlib import handoff_tracker
from rasa.core.channels.channel import register
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic
from sqlalchemy import select

from desk import auth, cases, db
from desk.api import SESSION_COOKIE
from desk.channel import DeskInput, desk_blueprint
from desk.models import desk_audit
from permanence.tracker_store import ConfidentialSQLTrackerStore

PASSWORD = "un mot de passe solide"
EXPECTED_ROUTES = {
    ("POST", "/desk/api/session"), ("DELETE", "/desk/api/session"),
    ("GET", "/desk/api/cases"), ("GET", "/desk/api/cases/1"),
    ("POST", "/desk/api/cases/1/take"), ("POST", "/desk/api/cases/1/reply"),
    ("POST", "/desk/api/cases/1/note"), ("POST", "/desk/api/cases/1/handback"),
    ("POST", "/desk/api/cases/1/close"), ("POST", "/desk/api/cases/1/erase"),
    ("GET", "/desk/events"), ("GET", "/desk/fragments/queue"), ("GET", "/desk/cases/1/updates"),
    ("GET", "/desk/api/budgets"), ("GET", "/desk/api/figures"),
    ("POST", "/desk/api/cases/1/release"), ("POST", "/desk/api/cases/1/reassign"),
    ("POST", "/desk/api/cases/1/reopen"), ("POST", "/desk/api/cases/1/labels"),
    ("DELETE", "/desk/api/cases/1/labels/1"), ("GET", "/desk/api/cases/1/export"),
    ("POST", "/desk/api/search"), ("GET", "/desk/api/lawyers"),
}
# The pages (desk/pages.py): without a session, the browser is sent to the login form.
PAGE_ROUTES = {
    ("GET", "/desk"), ("GET", "/desk/cases/1"), ("GET", "/desk/canned"),
    ("POST", "/desk/canned"), ("POST", "/desk/logout"), ("GET", "/desk/figures"),
    ("GET", "/desk/figures.csv"), ("POST", "/desk/notifications"), ("GET", "/desk/search"),
    ("POST", "/desk/search"),
}
# Open to anyone: the login form (its POST needs the form's own CSRF token) and static files.
PUBLIC_ROUTES = {("GET", "/desk/login"), ("POST", "/desk/login"), ("GET", "/desk/static/1")}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Desk:
    base: str
    app: Sanic
    factory: object
    http: aiohttp.ClientSession
    lawyer: int
    other: int
    token: str
    other_token: str

    def routes(self) -> set[tuple[str, str]]:
        """Every (method, path) of the app under /desk, parameters replaced by 1."""
        found = set()
        for route in self.app.router.routes:
            path = "/" + route.path.lstrip("/")
            if path.startswith("/desk"):
                for method in route.methods:
                    found.add((method, re.sub(r"<[^>]+>", "1", path)))
        return found

    async def page(self, method: str, path: str, headers: dict | None = None,
                   data: dict | None = None) -> tuple[int, dict, str]:
        """A browser's request: no redirect followed; (status, headers, body)."""
        async with self.http.request(method, self.base + path, data=data, headers=headers,
                                     allow_redirects=False) as reply:
            return reply.status, reply.headers, await reply.text()

    async def call(self, method: str, path: str, token: str | None = None, body=None,
                   headers: dict | None = None, raw: bytes | None = None):
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else (None if body is None else json.dumps(body))
        async with self.http.request(method, self.base + path, data=data,
                                     headers=headers) as reply:
            text = await reply.text()
            assert reply.content_type == "application/json", (method, path, reply.status, text)
            return reply.status, json.loads(text), reply.headers


@pytest.fixture
async def desk(factory, monkeypatch) -> AsyncIterator[Desk]:
    # Sanic's test mode: its start-up code rewriting ("touchup") is safe to run per app.
    monkeypatch.setattr(Sanic, "test_mode", True)
    with factory.begin() as session:
        lawyer = auth.set_lawyer(session, "a@cabinet.example", PASSWORD)
        other = auth.set_lawyer(session, "b@cabinet.example", PASSWORD)
        token = auth.create_token(session, lawyer)
        other_token = auth.create_token(session, other)
    app = Sanic(f"desk_test_{uuid.uuid4().hex}")
    app.blueprint(desk_blueprint(lambda: factory), url_prefix="/desk")
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True,
                                     access_log=False)
    await server.startup()
    await server.before_start()
    await server.after_start()
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        yield Desk(f"http://127.0.0.1:{port}", app, factory, http, lawyer, other, token,
                   other_token)
    await server.before_stop()
    server.close()
    await server.wait_closed()
    await server.after_stop()


def open_case(factory, domain, sender: str, **slots) -> int:
    with factory.begin() as session:
        return cases.open_case_from_tracker(session, handoff_tracker(domain, sender, **slots))[0]


def audit_trail(factory) -> list[tuple]:
    with factory.begin() as session:
        rows = session.execute(
            select(desk_audit.c.lawyer_id, desk_audit.c.case_id, desk_audit.c.action)
            .order_by(desk_audit.c.id)
        )
        return [tuple(row) for row in rows]


# ------------------------------------------------------------------ refusals


async def test_every_desk_route_refuses_without_credentials(desk: Desk, domain) -> None:
    open_case(desk.factory, domain, "walk")  # case 1 exists: refusals are not 404s
    routes = desk.routes()
    assert EXPECTED_ROUTES | PAGE_ROUTES | PUBLIC_ROUTES <= routes
    for method, path in sorted(PAGE_ROUTES):
        await refuses_page(desk, method, path)
    assert (await desk.page("GET", "/desk/login"))[0] == 200
    assert (await desk.page("POST", "/desk/login", data={"email": "a@cabinet.example",
                                                          "password": PASSWORD}))[0] == 403
    assert (await desk.page("GET", "/desk/static/1"))[0] == 404
    # Everything else, routes added later included, answers 401 in JSON.
    for method, path in sorted(routes - PAGE_ROUTES - PUBLIC_ROUTES):
        for headers in ({}, {"Authorization": "Bearer not-a-token"},
                        {"Authorization": "Basic YTpi"}):
            status, body, reply_headers = await desk.call(method, path, headers=headers,
                                                          body={"text": "x"})
            assert status == 401, (method, path, headers, status, body)
            assert body["error"] == "unauthorized"
            assert reply_headers.get("WWW-Authenticate", "").startswith("Bearer")
        # A session cookie without the CSRF token cannot change anything.
        if method != "GET":
            status, body, _ = await desk.call(method, path, headers={
                "Cookie": f"{SESSION_COOKIE}=whatever"}, body={"text": "x"})
            assert status in (401, 403), (method, path, status)
    assert all(row[0] is None for row in audit_trail(desk.factory))  # nobody did anything


async def refuses_page(desk: Desk, method: str, path: str) -> None:
    """A page without a (valid) session: the login form, or 401 for a script; a form posted
    with a session cookie but without its CSRF token: 403."""
    for headers in ({}, {"Authorization": "Bearer not-a-token"},
                    {"Cookie": f"{SESSION_COOKIE}=whatever", "X-CSRF-Token":
                     auth.csrf_token("whatever")}):
        status, reply_headers, _ = await desk.page(method, path, headers=headers,
                                                   data={"title": "x", "text": "x"})
        assert (status, reply_headers.get("Location")) == (303, "/desk/login"), (method, path)
    status, _, body = await desk.page(method, path, headers={"X-Requested-With": "fetch"})
    assert (status, json.loads(body)["error"]) == (401, "unauthorized"), (method, path)
    if method == "POST":
        status, _, _ = await desk.page(method, path, headers={
            "Cookie": f"{SESSION_COOKIE}=whatever"}, data={"title": "x", "text": "x"})
        assert status == 403, (method, path)


# ------------------------------------------------------------------ bearer API


async def test_queue_read_take_reply_note_close(desk: Desk, domain) -> None:
    older = open_case(desk.factory, domain, "p2", urgence="P2")
    urgent = open_case(desk.factory, domain, "p0", urgence="P0")
    referral = open_case(desk.factory, domain, "out", urgence="OUT", domaine="hors_champ")
    status, body, _ = await desk.call("GET", "/desk/api/cases", desk.token)
    assert status == 200
    assert [c["id"] for c in body["queue"]] == [urgent, older, referral]
    assert body["queue"][-1]["kind"] == "referral" and body["flagged"] == []

    status, case, _ = await desk.call("GET", f"/desk/api/cases/{urgent}", desk.token)
    assert status == 200
    assert case["facts"]["urgence"] == "P0" and case["facts"]["partie_adverse"] == "mairie de Lens"
    assert case["transcript"] and case["transcript"][0]["author"] == "person"

    status, body, _ = await desk.call("POST", f"/desk/api/cases/{urgent}/take", desk.token)
    assert (status, body["case"]["state"], body["case"]["taken_by"]) == (200, "taken", desk.lawyer)
    status, body, _ = await desk.call("POST", f"/desk/api/cases/{urgent}/reply", desk.token,
                                      {"text": "Bonjour, pouvez-vous m'envoyer la décision ?"})
    # The test app has no Rasa channels: the reply is kept on the case, not delivered.
    assert status == 202 and body["delivery"] == "unsupported"
    message_id = body["message_id"]
    status, body, _ = await desk.call("POST", f"/desk/api/cases/{urgent}/note", desk.token,
                                      {"text": "délai à vérifier"})
    assert status == 201
    status, body, _ = await desk.call("POST", f"/desk/api/cases/{urgent}/close", desk.token,
                                      {"outcome": "answered"})
    assert (status, body["case"]["state"]) == (200, "answered")
    status, body, _ = await desk.call("POST", f"/desk/api/cases/{older}/handback", desk.token)
    assert (status, body["case"]["state"]) == (200, "handed_back")

    status, case, _ = await desk.call("GET", f"/desk/api/cases/{urgent}", desk.token)
    assert [(m["id"], m["author"], m["delivery"]) for m in case["messages"]] == [
        (message_id, "lawyer", "failed")]
    assert [n["text"] for n in case["notes"]] == ["délai à vérifier"]
    status, body, _ = await desk.call("GET", "/desk/api/cases", desk.token)
    assert [c["id"] for c in body["queue"]] == [referral]

    lawyer = desk.lawyer
    mine = [row for row in audit_trail(desk.factory) if row[0] == lawyer]
    assert mine == [
        (lawyer, None, "queue.read"), (lawyer, urgent, "case.read"),
        (lawyer, urgent, "case.take"), (lawyer, urgent, "case.reply"),
        (lawyer, urgent, "case.note"), (lawyer, urgent, "case.close"),
        (lawyer, older, "case.handback"), (lawyer, urgent, "case.read"),
        (lawyer, None, "queue.read"),
    ]


BAD_INPUTS = [
    # (method, path template, body or raw bytes, expected status)
    ("POST", "/desk/api/cases/{id}/reply", b"{not json", 400),
    ("POST", "/desk/api/cases/{id}/reply", b"[1, 2]", 400),
    ("POST", "/desk/api/cases/{id}/reply", b"\xff\xfe", 400),
    ("POST", "/desk/api/cases/{id}/reply", {}, 400),
    ("POST", "/desk/api/cases/{id}/reply", {"text": ""}, 400),
    ("POST", "/desk/api/cases/{id}/reply", {"text": 42}, 400),
    ("POST", "/desk/api/cases/{id}/reply", {"text": "x" * (cases.MAX_TEXT_CHARS + 1)}, 400),
    ("POST", "/desk/api/cases/{id}/reply", b"{" + b'"a": 1, ' * 10_000 + b'"b": 2}', 400),
    ("POST", "/desk/api/cases/{id}/note", {"text": None}, 400),
    ("POST", "/desk/api/cases/{id}/close", {"outcome": "won"}, 400),
    ("POST", "/desk/api/cases/{id}/close", {}, 400),
    ("POST", "/desk/api/cases/999999/take", None, 404),
    ("GET", "/desk/api/cases/999999", None, 404),
    ("GET", "/desk/api/cases/abc", None, 404),
    ("GET", "/desk/api/cases/-1", None, 404),
    ("POST", "/desk/api/cases/99999999999999999999999/take", None, 404),
    ("POST", "/desk/api/cases/{id}/take", {"takeover": "yes"}, 400),
    ("POST", "/desk/api/cases/{id}/reply", b"[" * 30_000 + b"]" * 30_000, 400),
    ("POST", "/desk/api/cases/{id}/note", b'{"text": ' + b'{"a": ' * 5_000 + b"1" + b"}" * 5_001,
     400),
]


@pytest.mark.parametrize(("method", "path", "payload", "expected"), BAD_INPUTS)
async def test_bad_input_is_a_json_4xx(desk: Desk, domain, method, path, payload, expected):
    case_id = open_case(desk.factory, domain, "bad")
    await desk.call("POST", f"/desk/api/cases/{case_id}/take", desk.token)
    raw = payload if isinstance(payload, bytes) else None
    body = None if isinstance(payload, bytes) else payload
    status, answer, _ = await desk.call(method, path.format(id=case_id), desk.token, body=body,
                                        raw=raw)
    assert status == expected and isinstance(answer.get("error"), str)


async def test_erase_needs_confirmation_then_deletes_the_conversation_everywhere(
    desk: Desk, domain, desk_url
) -> None:
    first = open_case(desk.factory, domain, "to-erase")
    with desk.factory.begin() as session:
        cases.take(session, first, desk.lawyer)
        cases.reply(session, first, desk.lawyer, "Réponse de l'avocat")
        cases.note(session, first, desk.lawyer, "note interne")
        cases.handback(session, first, desk.lawyer)
    second = open_case(desk.factory, domain, "to-erase")  # the person came back
    kept = open_case(desk.factory, domain, "someone-else")

    status, body, _ = await desk.call("POST", f"/desk/api/cases/{second}/erase", desk.token, {})
    assert (status, body["error"]) == (400, "invalid_input")
    # No tracker store in this process: nothing is claimed, the cases stay.
    status, body, _ = await desk.call("POST", f"/desk/api/cases/{second}/erase", desk.token,
                                      {"confirm": "erase"})
    assert (status, body["error"]) == (503, "erasure_failed")
    assert (await desk.call("GET", f"/desk/api/cases/{second}", desk.token))[0] == 200

    # The real tracker store on the same database (it registers its eraser when built).
    store = ConfidentialSQLTrackerStore(domain=domain, url=desk_url)
    for sender in ("to-erase", "someone-else"):
        store_tracker = DialogueStateTracker.from_events(
            sender, [ActionExecuted("action_listen"), UserUttered("mes faits", {"name": "inform"})],
            slots=domain.slots)
        await store.save(store_tracker)
    status, body, _ = await desk.call("POST", f"/desk/api/cases/{second}/erase", desk.token,
                                      {"confirm": "erase"})
    assert status == 200 and body == {"erased_cases": 2, "channel": "webchat",
                                      "conversation": "erased"}
    assert await store.retrieve("to-erase") is None
    assert await store.retrieve("someone-else") is not None
    for case_id in (first, second):
        status, _, _ = await desk.call("GET", f"/desk/api/cases/{case_id}", desk.token)
        assert status == 404
    status, body, _ = await desk.call("GET", "/desk/api/cases", desk.token)
    assert [c["id"] for c in body["queue"]] == [kept]
    status, _, _ = await desk.call("POST", "/desk/api/cases/99999/erase", desk.token,
                                   {"confirm": "erase"})
    assert status == 404
    erased = [row for row in audit_trail(desk.factory) if row[2] == "case.erased"]
    assert sorted(erased) == sorted([(desk.lawyer, first, "case.erased"),
                                     (desk.lawyer, second, "case.erased")])
    store.engine.dispose()


async def test_invalid_transitions_are_409(desk: Desk, domain) -> None:
    case_id = open_case(desk.factory, domain, "conflict")
    path = f"/desk/api/cases/{case_id}"
    status, body, _ = await desk.call("POST", f"{path}/reply", desk.token, {"text": "Bonjour"})
    assert (status, body["error"]) == (409, "invalid_transition")  # not taken yet
    assert (await desk.call("POST", f"{path}/take", desk.token))[0] == 200
    # A colleague's case: refused, with what to do instead.
    for action, payload in (("take", None), ("reply", {"text": "Bonjour"}),
                            ("handback", None), ("close", {"outcome": "answered"}),
                            ("erase", {"confirm": "erase"})):
        status, body, _ = await desk.call("POST", f"{path}/{action}", desk.other_token, payload)
        assert (status, body["error"]) == (409, "held_by_colleague"), action
        assert '"takeover": true' in body["detail"]
    # A note is fine.
    assert (await desk.call("POST", f"{path}/note", desk.other_token, {"text": "vu"}))[0] == 201
    assert (await desk.call("POST", f"{path}/close", desk.token, {"outcome": "referred"}))[0] == 200
    for action, payload in (("take", None), ("handback", None), ("close", {"outcome": "answered"})):
        assert (await desk.call("POST", f"{path}/{action}", desk.token, payload))[0] == 409


# ------------------------------------------------------------------ cookie sessions


def session_cookie(headers) -> SimpleCookie:
    cookie = SimpleCookie()
    for value in headers.getall("Set-Cookie", []):
        cookie.load(value)
    return cookie


async def test_login_session_cookie_csrf_and_logout(desk: Desk, domain) -> None:
    case_id = open_case(desk.factory, domain, "cookie")
    status, body, headers = await desk.call(
        "POST", "/desk/api/session", body={"email": "A@cabinet.example", "password": PASSWORD})
    assert status == 200
    morsel = session_cookie(headers)[SESSION_COOKIE]
    assert morsel["httponly"] and morsel["samesite"] == "Strict" and morsel["path"] == "/desk"
    token, csrf = morsel.value, body["csrf_token"]
    assert csrf == auth.csrf_token(token) and csrf != token
    cookie = {"Cookie": f"{SESSION_COOKIE}={token}"}

    assert (await desk.call("GET", "/desk/api/cases", headers=cookie))[0] == 200
    take = f"/desk/api/cases/{case_id}/take"
    assert (await desk.call("POST", take, headers=cookie))[0] == 403
    wrong = {**cookie, "X-CSRF-Token": auth.csrf_token("another session")}
    assert (await desk.call("POST", take, headers=wrong))[0] == 403
    status, body, _ = await desk.call("POST", take, headers={**cookie, "X-CSRF-Token": csrf})
    assert (status, body["case"]["taken_by"]) == (200, desk.lawyer)
    # The session token is not an API token, and an API token is not a session.
    assert (await desk.call("GET", "/desk/api/cases", token=token))[0] == 401

    status, _, headers = await desk.call("DELETE", "/desk/api/session",
                                         headers={**cookie, "X-CSRF-Token": csrf})
    assert status == 200 and session_cookie(headers)[SESSION_COOKIE]["max-age"] == "0"
    assert (await desk.call("GET", "/desk/api/cases", headers=cookie))[0] == 401
    actions = [row[2] for row in audit_trail(desk.factory) if row[0] == desk.lawyer]
    assert actions == ["session.login", "queue.read", "case.take", "session.logout"]


@pytest.mark.parametrize("body", [
    {"email": "a@cabinet.example", "password": "wrong"},
    {"email": "nobody@cabinet.example", "password": PASSWORD},
    {"email": 3, "password": []},
    {},
])
async def test_bad_logins_are_401(desk: Desk, body) -> None:
    status, answer, headers = await desk.call("POST", "/desk/api/session", body=body)
    assert (status, answer["error"]) == (401, "unauthorized")
    assert SESSION_COOKIE not in session_cookie(headers)


async def test_login_is_rate_limited(desk: Desk) -> None:
    wrong = {"email": "a@cabinet.example", "password": "wrong"}
    for _ in range(auth.LOGIN_LIMITS.account_address.failures):
        assert (await desk.call("POST", "/desk/api/session", body=wrong))[0] == 401
    right = {"email": "a@cabinet.example", "password": PASSWORD}
    status, answer, _ = await desk.call("POST", "/desk/api/session", body=right)
    assert (status, answer["error"]) == (429, "too_many_attempts")


async def test_desk_channel_serves_the_api_under_desk_and_migrates(empty_url, monkeypatch):
    """The channel as Rasa registers it (credentials.yml: ``desk.channel.DeskInput:``)."""
    monkeypatch.setattr(Sanic, "test_mode", True)
    channel = DeskInput.from_credentials({"database_url": empty_url})
    assert (channel.name(), channel.url_prefix()) == ("desk", "/desk")
    app = Sanic(f"desk_channel_{uuid.uuid4().hex}")

    app.ctx.agent = None
    register([channel], app, route="/webhooks/")
    assert db.current_revision(empty_url) is None
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True,
                                     access_log=False)
    await server.startup()
    await server.before_start()  # the channel creates the desk's tables here
    await server.after_start()
    try:
        assert db.current_revision(empty_url) is not None
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/desk/api/cases") as reply:
                assert reply.status == 401
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()
        db.dispose_all()
