"""The desk's JSON API, a Sanic blueprint served under ``/desk`` (see :mod:`desk.channel`).

Every route needs a lawyer: ``Authorization: Bearer <token>`` (``make desk-token``), or the
session cookie set by ``POST /desk/api/session``, and then, on every state-changing request,
the ``X-CSRF-Token`` header returned at login. Refusals are 401 (no or bad credentials) and
403 (missing or wrong CSRF token). Reply, hand back, close and erase on a case a colleague
holds are 409 ``held_by_colleague`` until the lawyer takes it over. Errors are JSON
``{"error": code, "detail": text}``, 4xx for bad input (a body nested too deeply too), never
500 for it. Every read and action is written to the audit log.

    POST   /desk/api/session               {"email", "password"} -> cookie + {"csrf_token"}
    DELETE /desk/api/session               log out
    GET    /desk/api/cases                 {"queue": [...], "flagged": [...]}
    GET    /desk/api/cases/<id>            the case, fact card, transcript, messages, notes
    POST   /desk/api/cases/<id>/take       {"takeover": true} to take a colleague's case (audited)
    POST   /desk/api/cases/<id>/release    the holder puts the case back in the queue
    POST   /desk/api/cases/<id>/reassign   {"to": <lawyer id>}: given to a colleague
    POST   /desk/api/cases/<id>/reopen     a closed case taken again (within the retention); the
                                           conversation is paused again (desk/handback.py)
    POST   /desk/api/cases/<id>/labels     {"label"} -> 201;  DELETE .../labels/<label id>
    GET    /desk/api/cases/<id>/export     everything held about the person (GDPR art. 15):
                                           JSON, or French text with ?format=text; audited
    POST   /desk/api/search                {"q" (fact card words), "handle", "domain", "tier",
                                           "state" (or open/closed), "from", "to", "label"}
    GET    /desk/api/lawyers               the active lawyers (id, name)
    POST   /desk/api/cases/<id>/reply      {"text"} -> 202 {"delivery": "pending"}
    POST   /desk/api/cases/<id>/note       {"text"}
    POST   /desk/api/cases/<id>/handback   the assistant resumes and tells the person
    POST   /desk/api/cases/<id>/close      {"outcome": "answered"|"referred"|"nothing_to_answer"}
                                           the assistant resumes, silently
    POST   /desk/api/cases/<id>/erase      {"confirm": "erase"}: the conversation is erased from
                                           every store (permanence/erasure.py) -> {"erased_cases",
                                           "channel", "conversation": "erased"}; 503
                                           "erasure_failed" if a store did not (case kept)
    GET    /desk/api/budgets               the channels' sending budgets (X: DMs left in the
                                           window, its reset, DMs and people waiting, estimated
                                           wait), each with its line for the page; not audited
                                           (the account's counts: no case, no person)
    GET    /desk/api/costs[?month=YYYY-MM] what the channels' APIs cost (X's pay-per-use
                                           prices): the month, each session of schedule.yml in
                                           it, the current or last session, each with its line
                                           for the page; not audited (no case, no person)
    GET    /desk/api/figures[?month=YYYY-MM] the firm's figures (desk/figures.py): cases,
                                           handovers, referrals by Ordre, domains, tiers, time
                                           to the first reply, still open, X's cost; the month,
                                           each session in it; audited (figures.read)
    GET    /desk/api/public-posts          the public posts to answer by hand (X: they carry
                                           the hashtag without summoning the account, so no
                                           automated reply): handle and link, never a text
    POST   /desk/api/public-posts/<channel>/<id>/done   answered by hand (or set aside): off
                                           the list

Database work runs in the default executor, off the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.orm import Session, sessionmaker

from desk import (
    access,
    auth,
    cases,
    client_address,
    db,
    delivery_status,
    erasure,
    figures,
    figures_db,
    retention,
    search,
    teamwork,
    views,
)
from desk.delivery import deliver_reply, person_channel
from desk.handback import pause_conversation, resume_conversation
from permanence import budgets, costs, deliveries, public_posts, settings
from permanence import erasure as everywhere

logger = logging.getLogger(__name__)

SESSION_COOKIE = "desk_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_BODY_BYTES = 64 * 1024
# On every response of the desk, unless the route set its own (the pages have a fuller
# Content-Security-Policy, static files may be cached): never framed (clickjacking), never
# sniffed, never cached.
BASE_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"


class Unauthorized(cases.DeskError):
    status = 401
    code = "unauthorized"


class Forbidden(cases.DeskError):
    status = 403
    code = "forbidden"


class ErasureIncomplete(cases.DeskError):
    status = 503
    code = "erasure_failed"


class TooManyAttempts(cases.DeskError):
    status = 429
    code = "too_many_attempts"


def error(status: int, code: str, detail: str = "") -> HTTPResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="desk"'} if status == 401 else None
    return response.json({"error": code, "detail": detail}, status=status, headers=headers)


@functools.lru_cache(maxsize=4)
def _proxies(text: str) -> tuple[client_address.Network, ...]:
    return client_address.parse_proxies(text)


def trusted_proxies() -> tuple[client_address.Network, ...]:
    """``PERMANENCE_TRUSTED_PROXIES``, parsed (an invalid entry raises, at start-up)."""
    return _proxies(settings.trusted_proxies())


def client_ip(request: Request) -> str:
    """The client's address for the login limits: the peer, or the client a trusted proxy
    forwarded (desk/client_address.py). Sanic's own ``remote_addr`` is not used: it follows
    forwarded headers according to the server's config, not ``PERMANENCE_TRUSTED_PROXIES``."""
    return client_address.client_address(
        request.ip, request.headers.getall("x-forwarded-for", []), trusted_proxies())


def credentials(request: Request) -> tuple[str, str]:
    """``(token kind, token)`` of the request; CSRF is checked for cookie sessions."""
    scheme, _, value = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return "api", value.strip()
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        if request.method not in SAFE_METHODS and not auth.csrf_valid(
            cookie, request.headers.get(CSRF_HEADER)
        ):
            raise Forbidden("missing or invalid CSRF token")
        return "session", cookie
    raise Unauthorized("a bearer token or a session is required")


def json_body(request: Request) -> dict[str, Any]:
    raw = request.body or b""
    if len(raw) > MAX_BODY_BYTES:
        raise cases.InvalidInput("body too large")
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise cases.InvalidInput("the body is not valid JSON") from exc
    except RecursionError as exc:  # [[[[… nested deeper than the parser's recursion limit
        raise cases.InvalidInput("the body is nested too deeply") from exc
    if not isinstance(body, dict):
        raise cases.InvalidInput("the body must be a JSON object")
    return body


# ------------------------------------------------------------------ sessions (API and pages)


def start_session(session: Session, email: object, password: object,
                  ip: str) -> tuple[auth.LoginResult, str | None]:
    """Check a login (rate limited), audit it and open a session: ``(result, session token)``."""
    result, lawyer_id = auth.authenticate(session, email, password, ip)
    if result != "ok" or lawyer_id is None:
        return result, None
    cases.audit(session, lawyer_id, None, "session.login")
    return result, auth.create_token(session, lawyer_id, "session")


def end_session(session: Session, kind: str, token: str) -> int:
    """Log out: a session token is revoked (an API token is not); returns the lawyer's id."""
    lawyer_id = _lawyer(session, kind, token)
    if kind == "session":
        auth.revoke_token(session, token)
    cases.audit(session, lawyer_id, None, "session.logout")
    return lawyer_id


def set_session_cookie(request: Request, reply: HTTPResponse, token: str) -> None:
    """The session cookie: HttpOnly, SameSite=Strict, path ``/desk``, Secure behind HTTPS."""
    reply.cookies[SESSION_COOKIE] = token
    cookie = reply.cookies[SESSION_COOKIE]
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["path"] = "/desk"
    cookie["max-age"] = int(auth.SESSION_TTL.total_seconds())
    if is_https(request):
        cookie["secure"] = True


def clear_session_cookie(reply: HTTPResponse) -> None:
    reply.cookies[SESSION_COOKIE] = ""
    reply.cookies[SESSION_COOKIE]["path"] = "/desk"
    reply.cookies[SESSION_COOKIE]["max-age"] = 0


def is_https(request: Request) -> bool:
    return request.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


async def sending_budgets() -> list[dict[str, Any]]:
    """Each channel's sending budget (``permanence/budgets.py``, read off the event loop),
    with its French line (:func:`desk.views.budget_line`)."""
    report = await asyncio.get_running_loop().run_in_executor(None, budgets.report)
    now = datetime.now(timezone.utc)
    return [{"channel": name, "status": status, "line": views.budget_line(name, status, now)}
            for name, status in report.items()]


def _schedule() -> Any:
    """``schedule.yml``; a broken file gives a schedule without sessions (logged), so that the
    month's costs still show."""
    from permanence.schedule import Schedule, load_schedule

    try:
        return load_schedule()
    except Exception:  # noqa: BLE001 - a broken schedule must not hide the costs
        logger.warning("desk.api.schedule_unreadable", exc_info=True)
        return Schedule(timezone=views.DISPLAY_TZ)


async def api_costs(month: str | None = None) -> dict[str, Any]:
    """What the channels' APIs cost (``permanence/costs.py``, read off the event loop) for
    ``month`` (``YYYY-MM``, default the current one), each channel with its French line
    (:func:`desk.views.cost_line`). A malformed month is a 400."""
    def work() -> dict[str, Any]:
        return costs.report(_schedule(), month)

    try:
        report = await asyncio.get_running_loop().run_in_executor(None, work)
    except ValueError as exc:
        raise cases.InvalidInput(str(exc)) from None
    for channel in report["channels"]:
        channel["line"] = views.cost_line(report, channel)
    return report


async def api_figures(in_db: Callable[[Callable[[Session], Any]], Awaitable[Any]],
                      month: str | None, lawyer: Callable[[Session], int]) -> dict[str, Any]:
    """The firm's figures for ``month`` (``YYYY-MM``, default the current one): the cases
    (``desk/figures_db.py``, in ``in_db`` after ``lawyer`` authenticates, audited as
    ``figures.read``), the sessions of ``schedule.yml`` that start in the month and X's cost
    (``permanence/costs.py``), computed by ``desk/figures.py``. A malformed month is a 400."""
    now = datetime.now(timezone.utc)

    def plan() -> tuple[Any, ...]:
        schedule = _schedule()
        label, start, end = costs.month_bounds(month, schedule, now)
        sessions = [s for s in schedule.sessions_between(start, end) if start <= s.start < end]
        return label, start, end, sessions, costs.report(schedule, label, now)

    try:
        label, start, end, sessions, cost_report = (
            await asyncio.get_running_loop().run_in_executor(None, plan))
    except ValueError as exc:
        raise cases.InvalidInput(str(exc)) from None

    def unit(session: Session) -> list[figures.CaseRow]:
        cases.audit(session, lawyer(session), None, "figures.read", f"month={label}")
        return figures_db.rows(session, start, end)

    found = await in_db(unit)
    return figures.report(found, label, start, end, sessions, cost_report, now)


async def open_public_posts() -> list[dict[str, Any]]:
    """The public posts each channel lists for the lawyer (``permanence/public_posts.py``)."""
    return await asyncio.get_running_loop().run_in_executor(None, public_posts.report)


def make_blueprint(
    factory: Callable[[], sessionmaker] = db.session_factory, name: str = "desk"
) -> Blueprint:
    """The API's blueprint; ``factory`` gives the session factory (the project's database by
    default), looked up at the first request."""
    bp = Blueprint(name)
    trusted_proxies()  # an invalid PERMANENCE_TRUSTED_PROXIES stops the server here

    in_db = functools.partial(db.in_session, factory)

    @bp.middleware("response")
    async def security_headers(request: Request, reply: HTTPResponse) -> None:
        if reply is None:
            return
        for header, value in BASE_HEADERS.items():
            reply.headers.setdefault(header, value)
        reply.headers.setdefault("Content-Security-Policy", DEFAULT_CSP)

    def guarded(
        handler: Callable[..., Awaitable[HTTPResponse]],
    ) -> Callable[..., Awaitable[HTTPResponse]]:
        @functools.wraps(handler)
        async def wrapper(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            try:
                return await handler(request, *args, **kwargs)
            except cases.DeskError as exc:
                return error(exc.status, exc.code, str(exc))
            except Exception:  # the API's boundary: logged, answered in JSON
                logger.exception("desk.api.error route=%s", request.path)
                return error(500, "internal_error")

        return wrapper

    def lawyer_action(
        work: Callable[[Session, int, int, dict[str, Any]], Any], status: int = 200,
        after: Callable[[Request, dict[str, Any]], Awaitable[dict[str, Any]]] | None = None,
    ) -> Callable[..., Awaitable[HTTPResponse]]:
        """A POST on one case: authenticate, parse, run ``work`` and answer its result, plus
        what ``after`` adds once the database work is committed."""

        async def handler(request: Request, case_id: str) -> HTTPResponse:
            kind, token = credentials(request)
            body = json_body(request)

            def unit(session: Session) -> Any:
                lawyer_id = _lawyer(session, kind, token)
                return work(session, _case_id(case_id), lawyer_id, body)

            result = await in_db(unit)
            if after is not None:
                added = await after(request, result)  # may take keys out of ``result``
                result = {**result, **added}
            return response.json(result, status=status)

        return guarded(handler)

    # ------------------------------------------------------------ session

    @bp.post("/api/session")
    @guarded
    async def login(request: Request) -> HTTPResponse:
        body = json_body(request)  # not JSON, or nested too deeply: 400
        ip = client_ip(request)

        result, token = await in_db(
            lambda session: start_session(session, body.get("email"), body.get("password"), ip)
        )
        if result == "limited":
            raise TooManyAttempts("too many failed attempts: try again later")
        if token is None:
            raise Unauthorized("wrong email or password")
        reply = response.json({"csrf_token": auth.csrf_token(token)})
        set_session_cookie(request, reply, token)
        return reply

    @bp.delete("/api/session")
    @guarded
    async def logout(request: Request) -> HTTPResponse:
        kind, token = credentials(request)

        await in_db(lambda session: end_session(session, kind, token))
        reply = response.json({"ok": True})
        clear_session_cookie(reply)
        return reply

    # ------------------------------------------------------------ cases

    @bp.get("/api/cases")
    @guarded
    async def queue(request: Request) -> HTTPResponse:
        kind, token = credentials(request)

        def unit(session: Session) -> dict[str, Any]:
            lawyer_id = _lawyer(session, kind, token)
            cases.audit(session, lawyer_id, None, "queue.read")
            queue, flagged = cases.list_queue(session), cases.list_flagged(session)
            labels = teamwork.labels_of(session, [c["id"] for c in queue + flagged])
            return {name: [{**c, "labels": labels.get(c["id"], [])} for c in found]
                    for name, found in (("queue", queue), ("flagged", flagged))}

        return response.json(await in_db(unit))

    @bp.get("/api/cases/<case_id>")
    @guarded
    async def read_case(request: Request, case_id: str) -> HTTPResponse:
        kind, token = credentials(request)

        def unit(session: Session) -> dict[str, Any]:
            lawyer_id = _lawyer(session, kind, token)
            found = cases.get_case(session, _case_id(case_id))
            cases.audit(session, lawyer_id, found["id"], "case.read")
            # What became of each reply on its channel (permanence/deliveries.py).
            return delivery_status.with_channel_status(found)

        found = await in_db(unit)
        # Where the person last wrote, where the reply goes (an X conversation continued on
        # the web chat): desk/delivery.py.
        found["writes_on"] = await person_channel(request.app, found["conversation_id"],
                                                  found["channel"])
        # A referral's Ordre des avocats, in French (null for a case for the lawyer).
        found["referral_ordre"] = views.referral_ordre(found)
        return response.json(found)

    @bp.get("/api/budgets")
    @guarded
    async def read_budgets(request: Request) -> HTTPResponse:
        kind, token = credentials(request)
        await in_db(lambda session: _lawyer(session, kind, token))
        return response.json({"channels": await sending_budgets()})

    @bp.get("/api/costs")
    @guarded
    async def read_costs(request: Request) -> HTTPResponse:
        kind, token = credentials(request)
        await in_db(lambda session: _lawyer(session, kind, token))
        month = request.args.get("month")
        return response.json(await api_costs(month if month else None))

    @bp.get("/api/figures")
    @guarded
    async def read_figures(request: Request) -> HTTPResponse:
        kind, token = credentials(request)
        month = request.args.get("month")
        return response.json(await api_figures(
            in_db, month if month else None, lambda session: _lawyer(session, kind, token)))

    @bp.get("/api/public-posts")
    @guarded
    async def read_public_posts(request: Request) -> HTTPResponse:
        kind, token = credentials(request)

        def unit(session: Session) -> None:
            cases.audit(session, _lawyer(session, kind, token), None, "public_posts.read")

        await in_db(unit)
        return response.json({"channels": await open_public_posts()})

    @bp.post("/api/public-posts/<channel>/<post_id>/done")
    @guarded
    async def public_post_done(request: Request, channel: str, post_id: str) -> HTTPResponse:
        kind, token = credentials(request)
        lawyer_id = await in_db(lambda session: _lawyer(session, kind, token))
        found = public_posts.source(channel)
        if found is None or not post_id.isdigit() or len(post_id) > 18:
            raise cases.NotFound("no such public post")
        done = await asyncio.get_running_loop().run_in_executor(None, found.done, int(post_id))
        if not done:
            raise cases.NotFound("no such public post still to answer")

        def unit(session: Session) -> None:
            cases.audit(session, lawyer_id, None, "public_post.done", f"{channel}:{post_id}")

        await in_db(unit)
        return response.json({"done": True})

    def do_take(session: Session, case_id: int, lawyer_id: int, body: dict) -> Any:
        takeover = body.get("takeover", False)
        if not isinstance(takeover, bool):
            raise cases.InvalidInput("takeover must be true or false")
        cases.take(session, case_id, lawyer_id, takeover=takeover)
        return {"case": cases.get_summary(session, case_id)}

    @bp.post("/api/cases/<case_id>/reply")
    @guarded
    async def reply(request: Request, case_id: str) -> HTTPResponse:
        """Record the reply, send it through the person's channel, then say how it went."""
        kind, token = credentials(request)
        body = json_body(request)

        def record(session: Session) -> dict[str, Any]:
            lawyer_id = _lawyer(session, kind, token)
            number = _case_id(case_id)
            message_id = cases.reply(session, number, lawyer_id, body.get("text"))
            case = cases.get_summary(session, number)
            return {"message_id": message_id, "case": case}

        recorded = await in_db(record)
        case = recorded["case"]
        delivery = await deliver_reply(request.app, case["conversation_id"], case["channel"],
                                       body["text"].strip(),
                                       deliveries.ref(recorded["message_id"]))

        def mark(session: Session) -> None:
            # Not delivered through the channel either way: the case shows it as failed.
            stored = "sent" if delivery == "sent" else "failed"
            cases.set_delivery(session, recorded["message_id"], stored)

        await in_db(mark)
        status = 200 if delivery == "sent" else 202
        return response.json({"message_id": recorded["message_id"], "delivery": delivery},
                             status=status)

    def do_note(session: Session, case_id: int, lawyer_id: int, body: dict) -> Any:
        return {"note_id": cases.note(session, case_id, lawyer_id, body.get("text"))}

    def do_handback(session: Session, case_id: int, lawyer_id: int, body: dict) -> Any:
        cases.handback(session, case_id, lawyer_id)
        return {"case": cases.get_summary(session, case_id)}

    def resume(announce: bool) -> Callable[[Request, dict[str, Any]], Awaitable[dict]]:
        """After a hand back (announced) or a close (silent): the assistant takes over again."""

        async def after(request: Request, result: dict[str, Any]) -> dict[str, Any]:
            case = result["case"]
            outcome = await resume_conversation(request.app, case["conversation_id"],
                                                case["channel"], announce)
            return {"conversation": outcome}

        return after

    def do_close(session: Session, case_id: int, lawyer_id: int, body: dict) -> Any:
        cases.close(session, case_id, lawyer_id, body.get("outcome"))
        return {"case": cases.get_summary(session, case_id)}

    @bp.post("/api/cases/<case_id>/erase")
    @guarded
    async def erase(request: Request, case_id: str) -> HTTPResponse:
        """The case's conversation, from every store (``permanence.erasure``), under the
        conversation's lock in this server: the assistant's record, the channel's, then the
        desk's cases (attributed to the lawyer). Answered ``"conversation": "erased"`` only
        once every store has erased; otherwise 503 and the case stays, to erase again."""
        kind, token = credentials(request)
        body = json_body(request)

        def find(session: Session) -> tuple[int, str, str]:
            lawyer_id = _lawyer(session, kind, token)
            if body.get("confirm") != "erase":
                raise cases.InvalidInput('erasing needs {"confirm": "erase"}')
            number = _case_id(case_id)
            cases.refuse_if_held_by_colleague(session, number, lawyer_id)
            found = erasure.conversation_of(session, number)
            if found is None:
                raise cases.NotFound(f"no case {number}")
            return (lawyer_id, *found)

        lawyer_id, conversation_id, channel = await in_db(find)
        if everywhere.TRACKER_EVENTS not in everywhere.registered():
            raise ErasureIncomplete("the conversation store is not reachable from this server")
        agent = getattr(request.app.ctx, "agent", None)
        lock_store = getattr(agent, "lock_store", None)
        async with (lock_store.lock(conversation_id) if lock_store is not None
                    else contextlib.nullcontext()):
            try:
                await asyncio.get_running_loop().run_in_executor(
                    None, functools.partial(everywhere.erase_everywhere, conversation_id,
                                            skip=(everywhere.DESK_CASES,)))
            except everywhere.ErasureFailed as failed:
                raise ErasureIncomplete(
                    "not erased from: " + ", ".join(sorted(failed.failures))) from failed
            erased = await in_db(lambda session: erasure.erase_conversation(
                session, conversation_id, lawyer_id, reason="lawyer_request"))
        return response.json({"erased_cases": erased, "channel": channel,
                              "conversation": "erased"})

    # ------------------------------------------------------------ several lawyers

    def do_release(session: Session, case_id: int, lawyer_id: int, body: dict) -> Any:
        teamwork.release(session, case_id, lawyer_id)
        return {"case": cases.get_summary(session, case_id)}

    def do_reassign(session: Session, case_id: int, lawyer_id: int, body: dict) -> Any:
        teamwork.reassign(session, case_id, lawyer_id, body.get("to"))
        return {"case": cases.get_summary(session, case_id)}

    def do_reopen(session: Session, case_id: int, lawyer_id: int, body: dict) -> Any:
        teamwork.reopen(session, case_id, lawyer_id, retention.retention_days())
        return {"case": cases.get_summary(session, case_id)}

    async def pause_again(request: Request, result: dict[str, Any]) -> dict[str, Any]:
        """A reopened case: the assistant stops answering; the person's messages go on it."""
        return {"conversation": await pause_conversation(
            request.app, result["case"]["conversation_id"])}

    def do_label(session: Session, case_id: int, lawyer_id: int, body: dict) -> Any:
        label_id = teamwork.add_label(session, case_id, lawyer_id, body.get("label"))
        return {"label_id": label_id,
                "labels": teamwork.labels_of(session, [case_id]).get(case_id, [])}

    @bp.delete("/api/cases/<case_id>/labels/<label_id>")
    @guarded
    async def unlabel(request: Request, case_id: str, label_id: str) -> HTTPResponse:
        kind, token = credentials(request)

        def unit(session: Session) -> dict[str, Any]:
            number = _case_id(case_id)
            teamwork.remove_label(session, number, _lawyer(session, kind, token), label_id)
            return {"labels": teamwork.labels_of(session, [number]).get(number, [])}

        return response.json(await in_db(unit))

    @bp.post("/api/search")
    @guarded
    async def find_cases(request: Request) -> HTTPResponse:
        """The criteria in the body, not the URL (proxies log URLs; words and handles would
        identify the person)."""
        kind, token = credentials(request)
        query = search.parse(json_body(request))

        def unit(session: Session) -> dict[str, Any]:
            lawyer_id = _lawyer(session, kind, token)
            found, more = search.search(session, query)
            labels = teamwork.labels_of(session, [c["id"] for c in found])
            cases.audit(session, lawyer_id, None, "cases.search", query.criteria())
            return {"cases": [{**c, "labels": labels.get(c["id"], [])} for c in found],
                    "more": more}

        return response.json(await in_db(unit))

    @bp.get("/api/lawyers")
    @guarded
    async def colleagues(request: Request) -> HTTPResponse:
        kind, token = credentials(request)

        def unit(session: Session) -> list[dict[str, Any]]:
            _lawyer(session, kind, token)
            return teamwork.active_lawyers(session)

        return response.json({"lawyers": await in_db(unit)})

    @bp.get("/api/cases/<case_id>/export")
    @guarded
    async def export(request: Request, case_id: str) -> HTTPResponse:
        """The person's data (GDPR art. 15): JSON, or French text with ``?format=text``."""
        kind, token = credentials(request)
        as_text = request.args.get("format") == "text"

        def unit(session: Session) -> dict[str, Any]:
            lawyer_id = _lawyer(session, kind, token)
            number = _case_id(case_id)
            report = access.collect(session, number, auth.lawyer_names(session))
            cases.audit(session, lawyer_id, number, "case.export",
                        "format=text" if as_text else "format=json")
            return report

        report = access.with_public_posts(await in_db(unit), await open_public_posts())
        name = f"donnees-dossier-{_case_id(case_id)}"
        if as_text:
            return response.text(access.to_text(report), content_type="text/plain; charset=utf-8",
                                 headers={"Content-Disposition":
                                          f'attachment; filename="{name}.txt"'})
        return response.text(access.to_json(report),
                             content_type="application/json; charset=utf-8",
                             headers={"Content-Disposition":
                                      f'attachment; filename="{name}.json"'})

    bp.add_route(lawyer_action(do_release), "/api/cases/<case_id>/release", methods=["POST"])
    bp.add_route(lawyer_action(do_reassign), "/api/cases/<case_id>/reassign", methods=["POST"])
    bp.add_route(lawyer_action(do_reopen, after=pause_again),
                 "/api/cases/<case_id>/reopen", methods=["POST"])
    bp.add_route(lawyer_action(do_label, status=201), "/api/cases/<case_id>/labels",
                 methods=["POST"])
    bp.add_route(lawyer_action(do_take), "/api/cases/<case_id>/take", methods=["POST"])
    bp.add_route(lawyer_action(do_note, status=201), "/api/cases/<case_id>/note", methods=["POST"])
    bp.add_route(lawyer_action(do_handback, after=resume(announce=True)),
                 "/api/cases/<case_id>/handback", methods=["POST"])
    bp.add_route(lawyer_action(do_close, after=resume(announce=False)),
                 "/api/cases/<case_id>/close", methods=["POST"])
    return bp


def _lawyer(session: Session, kind: str, token: str) -> int:
    lawyer_id = auth.verify_token(session, token, kind)
    if lawyer_id is None:
        raise Unauthorized("unknown, expired or revoked credentials")
    return lawyer_id


def _case_id(value: str) -> int:
    if not value.isdigit() or len(value) > 18:
        raise cases.NotFound(f"no case {value[:20]}")
    return int(value)
