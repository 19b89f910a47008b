"""Desk hardening (issue #11, items 10, 11, 14): the attacks an outsider or a colleague would try
on the lawyer's desk, against the desk served in process on 127.0.0.1 (the same blueprint the
Rasa server serves, on a fresh database: SQLite, and PostgreSQL when asked for).

- Lockout behind a proxy: a guesser through the firm's trusted proxy does not stop the lawyer
  logging in from her own address; a forged ``X-Forwarded-For`` from a peer that is not a
  trusted proxy is ignored; password spraying from one address is stopped; guessing spread
  over many addresses leaves the lawyer's usual address working.
- Tokens: expired, revoked (``desk.cli revoke``) and deactivated accounts
  (``desk.cli deactivate``) are refused.
- A colleague's case: closing, replying, handing back, erasing refused without a takeover; the
  takeover is in the audit log with both lawyers.
- A deeply nested JSON body is a 400, not a 500 with a traceback.
- Headers: no page or API answer can be framed.
- The P0 alert carries no person id, no handle, no deadline rule.

Self-contained: its fixtures are here; builders come from the desk's test library.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import aiohttp
import pytest
from sanic import Sanic
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from desk import alerts, auth, cases, cli, db, hooks
from desk.channel import desk_blueprint
from desk.models import desk_audit, utcnow
from tests.desk.desk_testlib import handoff_tracker, serving

PASSWORD = "la phrase de passe de l'avocate"
LAWYER = "avocate@cabinet.example"
COLLEAGUE = "collegue@cabinet.example"
PROXY = "127.0.0.1"  # the test client's peer address: the "reverse proxy" when trusted
HER_ADDRESS = "192.0.2.10"  # the lawyer's office, as the proxy forwards it
ATTACKER = "203.0.113.66"


@dataclass
class Desk:
    base: str
    factory: sessionmaker
    http: aiohttp.ClientSession
    lawyer: int
    colleague: int
    token: str
    colleague_token: str

    async def call(self, method: str, path: str, token: str | None = None, body=None,
                   raw: bytes | None = None, headers: dict | None = None):
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else (None if body is None else json.dumps(body))
        async with self.http.request(method, self.base + path, data=data,
                                     headers=headers) as reply:
            text = await reply.text()
            return reply.status, (json.loads(text) if reply.content_type == "application/json"
                                  else text), reply.headers

    async def login(self, password: str, forwarded_for: str | None = None,
                    email: str = LAWYER) -> int:
        headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else None
        status, _, _ = await self.call("POST", "/desk/api/session",
                                       body={"email": email, "password": password},
                                       headers=headers)
        return status


@pytest.fixture
def factory(fresh_database_url: str) -> Iterator[sessionmaker]:
    db.upgrade_to_head(fresh_database_url)
    yield db.session_factory(fresh_database_url)
    alerts.drain(timeout=30)
    db.dispose_all()


@pytest.fixture
async def desk(factory, monkeypatch) -> AsyncIterator[Desk]:
    monkeypatch.setattr(Sanic, "test_mode", True)
    monkeypatch.delenv("PERMANENCE_TRUSTED_PROXIES", raising=False)
    with factory.begin() as session:
        lawyer = auth.set_lawyer(session, LAWYER, PASSWORD)
        colleague = auth.set_lawyer(session, COLLEAGUE, PASSWORD)
        token = auth.create_token(session, lawyer)
        colleague_token = auth.create_token(session, colleague)
    app = Sanic(f"desk_security_{uuid.uuid4().hex}")
    app.blueprint(desk_blueprint(lambda: factory), url_prefix="/desk")
    async with serving(app) as base:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
            yield Desk(base, factory, http, lawyer, colleague, token, colleague_token)


def trust_the_proxy(monkeypatch) -> None:
    monkeypatch.setenv("PERMANENCE_TRUSTED_PROXIES", f"{PROXY}/32, 10.0.0.0/8")


# ------------------------------------------------------------------ lockout behind a proxy


async def test_a_guesser_behind_the_proxy_does_not_lock_the_lawyer_out(desk, monkeypatch):
    trust_the_proxy(monkeypatch)
    limit = auth.LOGIN_LIMITS.account_address.failures
    for n in range(limit):
        # The proxy appends what it saw to whatever the client sent.
        assert await desk.login(f"devinette {n}", f"10.9.9.9, {ATTACKER}") == 401
    # The guesser is stopped, even when he finds the password...
    assert await desk.login(PASSWORD, ATTACKER) == 429
    # ...and the lawyer, through the same proxy from her office, logs in.
    assert await desk.login(PASSWORD, HER_ADDRESS) == 200
    # A second proxy of the firm in the chain (10.0.0.0/8) is skipped too.
    assert await desk.login(PASSWORD, f"{ATTACKER}, 10.1.2.3") == 429
    assert await desk.login(PASSWORD, f"{HER_ADDRESS}, 10.1.2.3") == 200


async def test_without_a_trusted_proxy_forged_forwarded_headers_are_ignored(desk, monkeypatch):
    """The peer is not a trusted proxy: a new X-Forwarded-For on every try does not make new
    addresses; the failures pile up on the peer, and a forged header naming the lawyer's
    address cannot lock her out elsewhere."""
    monkeypatch.setenv("PERMANENCE_TRUSTED_PROXIES", "10.0.0.0/8")
    limit = auth.LOGIN_LIMITS.account_address.failures
    for n in range(limit):
        assert await desk.login(f"devinette {n}", f"198.51.100.{n + 1}") == 401
    assert await desk.login(PASSWORD, "198.51.100.200") == 429
    with desk.factory.begin() as session:
        assert auth.login_refusal(session, LAWYER, PROXY) == "account_address"
        assert auth.login_refusal(session, LAWYER, "198.51.100.1") is None
        assert auth.login_refusal(session, LAWYER, HER_ADDRESS) is None


async def test_password_spraying_from_one_address_is_stopped(desk, monkeypatch):
    trust_the_proxy(monkeypatch)
    limit = auth.LOGIN_LIMITS.address.failures
    for n in range(limit):
        assert await desk.login("Printemps2026!", ATTACKER,
                                email=f"avocat{n}@cabinet.example") == 401
    assert await desk.login("Printemps2026!", ATTACKER, email=COLLEAGUE) == 429
    assert await desk.login(PASSWORD, ATTACKER) == 429  # even the right one
    assert await desk.login(PASSWORD, HER_ADDRESS) == 200
    assert await desk.login(PASSWORD, "198.51.100.9", email=COLLEAGUE) == 200


async def test_guessing_from_many_addresses_keeps_the_lawyers_own_address(desk, monkeypatch):
    trust_the_proxy(monkeypatch)
    assert await desk.login(PASSWORD, HER_ADDRESS) == 200  # her usual place
    limit = auth.LOGIN_LIMITS.account.failures
    for n in range(limit):  # one guess per address: no address reaches its own limit
        assert await desk.login(f"devinette {n}", f"203.0.113.{n + 1}") == 401
    assert await desk.login(PASSWORD, "203.0.113.250") == 429
    assert await desk.login(PASSWORD, HER_ADDRESS) == 200


async def test_a_burst_of_guesses_cannot_slip_past_the_limit(desk):
    """Concurrent attempts on one account are counted one after the other (the account's row
    is locked, SQLite's write lock is held): exactly the limit is checked, the rest refused."""
    import asyncio

    limit = auth.LOGIN_LIMITS.account_address.failures
    statuses = await asyncio.gather(*(desk.login(f"devinette {n}") for n in range(limit + 7)))
    assert sorted(statuses) == [401] * limit + [429] * 7


# ------------------------------------------------------------------ tokens and accounts


async def test_expired_revoked_and_deactivated_credentials_are_refused(desk, monkeypatch):
    monkeypatch.setenv("PERMANENCE_DATABASE_URL", str(desk.factory.kw["bind"].url.render_as_string(
        hide_password=False)))
    with desk.factory.begin() as session:
        old = auth.create_token(session, desk.lawyer, now=utcnow() - timedelta(days=91))
        fresh = auth.create_token(session, desk.lawyer)
    assert (await desk.call("GET", "/desk/api/cases", old))[0] == 401
    assert (await desk.call("GET", "/desk/api/cases", fresh))[0] == 200

    assert cli.main(["revoke", LAWYER]) == 0
    for token in (fresh, desk.token):
        assert (await desk.call("GET", "/desk/api/cases", token))[0] == 401
    assert (await desk.call("GET", "/desk/api/cases", desk.colleague_token))[0] == 200

    assert await desk.login(PASSWORD) == 200
    with desk.factory.begin() as session:
        again = auth.create_token(session, desk.lawyer)
    assert cli.main(["deactivate", LAWYER]) == 0
    assert (await desk.call("GET", "/desk/api/cases", again))[0] == 401
    assert await desk.login(PASSWORD) == 401


# ------------------------------------------------------------------ a colleague's case


async def test_a_colleagues_case_needs_an_audited_takeover(desk, domain):
    with desk.factory.begin() as session:
        case_id = cases.open_case_from_tracker(session, handoff_tracker(domain, "web:s1"))[0]
    path = f"/desk/api/cases/{case_id}"
    assert (await desk.call("POST", f"{path}/take", desk.token))[0] == 200

    for action, body in (("close", {"outcome": "nothing_to_answer"}), ("handback", None),
                         ("reply", {"text": "Je reprends votre demande."}),
                         ("erase", {"confirm": "erase"}), ("take", None)):
        status, answer, _ = await desk.call("POST", f"{path}/{action}", desk.colleague_token,
                                            body)
        assert (status, answer["error"]) == (409, "held_by_colleague"), action
    status, case, _ = await desk.call("GET", path, desk.token)
    assert (case["state"], case["taken_by"], case["messages"]) == ("taken", desk.lawyer, [])

    status, answer, _ = await desk.call("POST", f"{path}/take", desk.colleague_token,
                                        {"takeover": True})
    assert (status, answer["case"]["taken_by"]) == (200, desk.colleague)
    with desk.factory.begin() as session:
        [row] = session.execute(select(desk_audit.c.lawyer_id, desk_audit.c.detail).where(
            desk_audit.c.action == "case.takeover", desk_audit.c.case_id == case_id)).all()
    assert tuple(row) == (desk.colleague, f"from={desk.lawyer}")
    # Now the first lawyer is the colleague.
    status, answer, _ = await desk.call("POST", f"{path}/close", desk.token,
                                        {"outcome": "answered"})
    assert (status, answer["error"]) == (409, "held_by_colleague")
    status, answer, _ = await desk.call("POST", f"{path}/close", desk.colleague_token,
                                        {"outcome": "answered"})
    assert (status, answer["case"]["state"]) == (200, "answered")


# ------------------------------------------------------------------ bad input and headers


async def test_deeply_nested_json_is_a_400(desk, domain):
    with desk.factory.begin() as session:
        case_id = cases.open_case_from_tracker(session, handoff_tracker(domain, "web:s2"))[0]
    nested = b"[" * 30_000 + b"]" * 30_000
    for method, path, token in (("POST", f"/desk/api/cases/{case_id}/note", desk.token),
                                ("POST", f"/desk/api/cases/{case_id}/take", desk.token),
                                ("POST", "/desk/api/session", None)):
        status, answer, _ = await desk.call(method, path, token, raw=nested)
        assert status == 400 and answer["error"] == "invalid_input", path
        assert "Traceback" not in json.dumps(answer)


async def test_no_desk_answer_can_be_framed(desk):
    for path in ("/desk/login", "/desk/api/cases", "/desk/"):
        async with desk.http.get(desk.base + path, allow_redirects=False) as reply:
            assert reply.headers["X-Frame-Options"] == "DENY", path
            assert "frame-ancestors 'none'" in reply.headers["Content-Security-Policy"], path
            assert reply.headers["Cache-Control"] == "no-store", path


# ------------------------------------------------------------------ the P0 alert


async def test_the_alert_names_the_case_not_the_person(factory, domain, monkeypatch):
    bodies: list[bytes] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("PERMANENCE_ALERT_WEBHOOK_URL",
                       f"http://127.0.0.1:{server.server_port}/alert")
    rule = "OQTF sans délai avec rétention : 48 heures"
    tracker = handoff_tracker(domain, "x:1234567890", channel="x",
                              metadata={"screen_name": "personne_qui_ecrit"}, urgence="P0",
                              domaine="etrangers", echeance_estimee="2026-12-01",
                              echeance_regle=rule)
    url = factory.kw["bind"].url.render_as_string(hide_password=False)
    try:
        await hooks.on_tracker_saved(url, tracker, tracker.events)
        alerts.drain(timeout=30)
    finally:
        server.shutdown()
        server.server_close()
    [body] = bodies
    alert = json.loads(body)
    assert set(alert) == {"event", "case_id", "link", "tier", "domain", "deadline"}
    assert (alert["tier"], alert["domain"], alert["deadline"]) == ("P0", "etrangers",
                                                                   "2026-12-01")
    text = body.decode()
    for leak in ("1234567890", "personne_qui_ecrit", "OQTF", "48 heures", "x:", "mairie"):
        assert leak not in text, leak


@pytest.fixture(scope="module")
def domain():
    from pathlib import Path

    from rasa.shared.core.domain import Domain

    return Domain.load(str(Path(__file__).resolve().parents[2] / "domain.yml"))
