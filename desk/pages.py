"""The lawyer's desk in the browser: server-rendered pages under ``/desk`` (Jinja2, autoescaped),
with a little JavaScript (``desk/static/desk.js``) for the actions and the live updates.

    GET  /desk/login             the login form               POST /desk/login   log in
    POST /desk/logout            log out
    GET  /desk/                  the queue: cases by urgency then age, referrals, conflicts
    GET  /desk/cases/<id>        the case: fact card, timeline, reply box, actions, labels,
                                 the person's export links (GDPR art. 15)
    GET  /desk/search            the search form and the closed cases
    POST /desk/search            search (desk/search.py): the form's criteria, never in the URL
    POST /desk/notifications     the lawyer's e-mail preference (which new cases besides P0)
    GET  /desk/canned            canned replies               POST /desk/canned  add/edit/delete
    GET  /desk/figures[?month=YYYY-MM]   the firm's figures: bar charts (inline SVG) and tables
    GET  /desk/figures.csv[?month=YYYY-MM]   the same numbers as CSV (desk/figures.py)
    GET  /desk/fragments/queue   the queue's HTML, re-rendered on a live event (XHR) and
                                 every ``desk.js`` QUEUE_SECONDS (public posts to answer by
                                 hand arrive without an event); the sending budgets' lines
                                 are refreshed every BUDGET_SECONDS from ``/desk/api/budgets``,
                                 the API cost lines from ``/desk/api/costs``
    GET  /desk/cases/<id>/updates   new timeline items and the state, as JSON (XHR)
    GET  /desk/static/<name>     the stylesheet and the script

The pages use the JSON API's session (:func:`desk.api.start_session`, the same cookie). The
case actions (take, reply, note, hand back, close, release, reassign, reopen, labels) are the
JSON API's own routes, called by the script with the ``X-CSRF-Token`` header: one code path per
action. The forms here (login, logout, canned replies) carry a ``csrf_token`` field: the
session's token, and for the login a token tied to a short-lived ``desk_login`` cookie (double
submit). Without a session, a page
redirects to the login form; the XHR routes answer 401. Every read is audited.
"""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from desk import (
    api,
    auth,
    canned,
    cases,
    db,
    delivery,
    delivery_status,
    figures,
    figures_view,
    mail,
    retention,
    search,
    teamwork,
    views,
)
from desk.models import desk_lawyer

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
STATIC_FILES = {
    "desk.css": "text/css; charset=utf-8",
    "desk.js": "application/javascript; charset=utf-8",
}
LOGIN_URL = "/desk/login"
QUEUE_URL = "/desk/"
LOGIN_COOKIE = "desk_login"
LOGIN_COOKIE_SECONDS = 3600
CSRF_FIELD = "csrf_token"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
ERROR_TEXTS = {
    400: "La demande n'est pas valable.",
    403: "Ce formulaire a expiré ou ne vient pas du bureau : rechargez la page et recommencez.",
    404: "Ce dossier ou cette page n'existe pas (ou plus).",
    409: "Ce dossier a changé entre-temps : rechargez la page.",
    500: "Une erreur est survenue. Réessayez ; si elle persiste, prévenez l'équipe technique.",
}


@functools.lru_cache(maxsize=1)
def templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(("html",), default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def render(name: str, status: int = 200, **context: Any) -> HTTPResponse:
    html = templates().get_template(name).render(**context)
    return response.html(html, status=status, headers=dict(SECURITY_HEADERS))


def render_fragment(name: str, **context: Any) -> str:
    return templates().get_template(name).render(**context)


def wants_json(request: Request) -> bool:
    accept = request.headers.get("accept") or ""
    return bool(request.headers.get("x-requested-with")) or "application/json" in accept or (
        "text/event-stream" in accept)


def permanence_status(now: datetime | None = None) -> dict[str, Any]:
    """The live / off line of the schedule (``schedule.yml``), never raising."""
    try:
        from permanence.schedule import format_session_fr, load_schedule

        status = load_schedule().status(now)
    except Exception:  # noqa: BLE001 - a broken schedule must not break the desk
        logger.warning("desk.pages.schedule_unreadable", exc_info=True)
        return views.schedule_line(None, None)
    return views.schedule_line(status, format_session_fr)


def lawyer_emails(session: Session) -> dict[int, str]:
    return {row.id: row.email for row in session.execute(
        select(desk_lawyer.c.id, desk_lawyer.c.email))}


def lawyer_names(session: Session) -> dict[int, str]:
    """How the pages name each lawyer: the display name, else the e-mail address."""
    return auth.lawyer_names(session)


def form_credentials(request: Request) -> str:
    """The session token of a form POST: the cookie, and the form's CSRF field (or header)."""
    token = request.cookies.get(api.SESSION_COOKIE)
    if not token:
        raise api.Unauthorized("a session is required")
    presented = request.headers.get(api.CSRF_HEADER) or form_field(request, CSRF_FIELD)
    if not auth.csrf_valid(token, presented):
        raise api.Forbidden("missing or invalid CSRF token")
    return token


def form_field(request: Request, name: str) -> str | None:
    if len(request.body or b"") > api.MAX_BODY_BYTES:
        raise cases.InvalidInput("body too large")
    try:
        value = request.form.get(name)
    except Exception:  # noqa: BLE001 - not a form: no such field
        return None
    return value if isinstance(value, str) else None


def current_lawyer(session: Session, kind: str, token: str) -> dict[str, Any]:
    lawyer_id = auth.verify_token(session, token, kind)
    if lawyer_id is None:
        raise api.Unauthorized("unknown, expired or revoked credentials")
    emails = lawyer_emails(session)
    names = lawyer_names(session)
    return {"id": lawyer_id, "email": emails.get(lawyer_id, ""),
            "name": names.get(lawyer_id, ""), "names": names}


SEARCH_FIELDS = ("q", "handle", "domain", "tier", "state", "from", "to", "label")
SEARCH_STATES = [("open", "Ouverts (en attente ou pris)"), ("closed", "Clos (tous)"),
                 *views.STATE_LABELS.items()]


def reopenable(case: dict[str, Any], now: datetime | None = None) -> bool:
    """Whether the case page offers « Rouvrir le dossier » (desk/teamwork.py decides)."""
    return teamwork.reopenable(case["state"], views.moment(case.get("closed_at")),
                               retention.retention_days(), now or datetime.now(timezone.utc))


def _positive(value: str | None) -> int:
    return int(value) if value and value.isdigit() and len(value) <= 18 else 0


def install(bp: Blueprint, factory: Callable[[], sessionmaker]) -> None:
    """The pages, on the desk's blueprint (served under ``/desk``)."""

    in_db = functools.partial(db.in_session, factory)

    def guarded(xhr: bool = False) -> Callable:
        """Refusals as the caller expects them: a page redirects to the login form (401) or
        shows the error; an XHR route answers JSON."""

        def decorate(handler: Callable[..., Awaitable[HTTPResponse]]) -> Callable:
            @functools.wraps(handler)
            async def wrapper(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
                as_json = xhr or wants_json(request)
                try:
                    return await handler(request, *args, **kwargs)
                except cases.DeskError as exc:
                    if as_json:
                        return api.error(exc.status, exc.code, str(exc))
                    if exc.status == 401:
                        return response.redirect(LOGIN_URL, status=303)
                    return render("error.html", status=exc.status,
                                  message=ERROR_TEXTS.get(exc.status, ERROR_TEXTS[400]))
                except Exception:  # the pages' boundary: logged, answered
                    logger.exception("desk.pages.error route=%s", request.path)
                    if as_json:
                        return api.error(500, "internal_error")
                    return render("error.html", status=500, message=ERROR_TEXTS[500])

            return wrapper

        return decorate

    def page_context(lawyer: dict[str, Any], token: str, kind: str) -> dict[str, Any]:
        return {
            "lawyer": lawyer,
            "csrf": auth.csrf_token(token) if kind == "session" else "",
            "schedule": permanence_status(),
        }

    # ------------------------------------------------------------ login / logout

    def login_page(request: Request, status: int = 200, error: str | None = None,
                   email: str = "") -> HTTPResponse:
        nonce = secrets.token_urlsafe(auth.TOKEN_BYTES)
        reply = render("login.html", status=status, csrf=auth.csrf_token(nonce), error=error,
                       email=email)
        reply.cookies[LOGIN_COOKIE] = nonce
        cookie = reply.cookies[LOGIN_COOKIE]
        cookie["httponly"] = True
        cookie["samesite"] = "Strict"
        cookie["path"] = LOGIN_URL
        cookie["max-age"] = LOGIN_COOKIE_SECONDS
        if api.is_https(request):
            cookie["secure"] = True
        return reply

    @bp.get("/login")
    @guarded()
    async def login_form(request: Request) -> HTTPResponse:
        token = request.cookies.get(api.SESSION_COOKIE)
        if token and await in_db(lambda s: auth.verify_token(s, token, "session")) is not None:
            return response.redirect(QUEUE_URL, status=303)
        return login_page(request)

    @bp.post("/login")
    @guarded()
    async def login(request: Request) -> HTTPResponse:
        nonce = request.cookies.get(LOGIN_COOKIE)
        email = form_field(request, "email") or ""
        if not nonce or not auth.csrf_valid(nonce, form_field(request, CSRF_FIELD)):
            return login_page(request, 403, "Le formulaire a expiré : recommencez.", email)
        password = form_field(request, "password")
        ip = api.client_ip(request)
        result, token = await in_db(lambda s: api.start_session(s, email, password, ip))
        if result == "limited":
            return login_page(request, 429, "Trop de tentatives : réessayez plus tard.",
                              email)
        if token is None:
            return login_page(request, 401, "Adresse ou mot de passe incorrect.", email)
        reply = response.redirect(QUEUE_URL, status=303)
        api.set_session_cookie(request, reply, token)
        reply.cookies[LOGIN_COOKIE] = ""
        reply.cookies[LOGIN_COOKIE]["path"] = LOGIN_URL
        reply.cookies[LOGIN_COOKIE]["max-age"] = 0
        return reply

    @bp.post("/logout")
    @guarded()
    async def logout(request: Request) -> HTTPResponse:
        token = form_credentials(request)
        await in_db(lambda s: api.end_session(s, "session", token))
        reply = response.redirect(LOGIN_URL, status=303)
        api.clear_session_cookie(reply)
        return reply

    # ------------------------------------------------------------ the queue

    async def channel_lines() -> dict[str, Any]:
        """What the channels add to the queue: sending budgets, API costs, public posts to
        answer by hand (none of them stops the page: a failure shows as unreadable)."""
        cost_report = await api.api_costs()
        return {"budgets": await api.sending_budgets(),
                "costs": [{"channel": c["channel"], "line": c["line"]}
                          for c in cost_report["channels"]],
                "public_posts": views.public_post_rows(await api.open_public_posts(),
                                                       datetime.now(timezone.utc))}

    def queue_data(session: Session, lawyer: dict[str, Any]) -> dict[str, Any]:
        now = datetime.now(timezone.utc)
        queue = cases.list_queue(session)
        flagged = cases.list_flagged(session)
        cases.audit(session, lawyer["id"], None, "queue.read")

        labels = teamwork.labels_of(session, [c["id"] for c in queue + flagged])

        def rows(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [{**views.queue_row(c, lawyer["id"], lawyer["names"], now),
                     "labels": [label["name"] for label in labels.get(c["id"], [])]}
                    for c in found]

        failures = mail.recent_failures(session, now)
        return {
            "cases": rows([c for c in queue if c["kind"] != "referral"]),
            "referrals": rows([c for c in queue if c["kind"] == "referral"]),
            "flagged": rows(flagged),
            "mail_failures": failures and {**failures, "at": views.day_clock(failures["at"])},
        }

    def notify_context(session: Session, lawyer: dict[str, Any]) -> dict[str, Any]:
        """The queue page's notification settings: the e-mail preference and status."""
        return {"notify_level": mail.preference(session, lawyer["id"]),
                "notify_levels": list(mail.LEVEL_LABELS.items()),
                "mail_status": mail.status_line()}

    @bp.get("/")
    @guarded()
    async def queue_page(request: Request) -> HTTPResponse:
        kind, token = api.credentials(request)

        def unit(session: Session) -> dict[str, Any]:
            lawyer = current_lawyer(session, kind, token)
            return {"lawyer": lawyer, **queue_data(session, lawyer),
                    **notify_context(session, lawyer)}

        data = await in_db(unit)
        return render("queue.html", **{**data, **page_context(data["lawyer"], token, kind)},
                      **await channel_lines(),
                      notify_saved=request.args.get("notify") == "saved")

    @bp.post("/notifications")
    @guarded()
    async def notifications_change(request: Request) -> HTTPResponse:
        token = form_credentials(request)
        level = form_field(request, "notify_cases")

        def unit(session: Session) -> None:
            lawyer = current_lawyer(session, "session", token)
            mail.set_preference(session, lawyer["id"], level)
            cases.audit(session, lawyer["id"], None, "notify.set", f"cases={level}")

        await in_db(unit)
        return response.redirect(f"{QUEUE_URL}?notify=saved#h-notify", status=303)

    @bp.get("/fragments/queue")
    @guarded(xhr=True)
    async def queue_fragment(request: Request) -> HTTPResponse:
        kind, token = api.credentials(request)

        def unit(session: Session) -> dict[str, Any]:
            lawyer = current_lawyer(session, kind, token)
            return {"lawyer": lawyer, **queue_data(session, lawyer)}

        data = await in_db(unit)
        html = render_fragment("_queue.html", schedule=permanence_status(),
                               **await channel_lines(), **data)
        return response.html(html, headers=dict(SECURITY_HEADERS))

    # ------------------------------------------------------------ a case

    def case_data(session: Session, lawyer: dict[str, Any], case_id: str) -> dict[str, Any]:
        found = cases.get_case(session, api._case_id(case_id))
        cases.audit(session, lawyer["id"], found["id"], "case.read")
        return delivery_status.with_channel_status(found)

    @bp.get("/cases/<case_id>")
    @guarded()
    async def case_page(request: Request, case_id: str) -> HTTPResponse:
        kind, token = api.credentials(request)

        def unit(session: Session) -> dict[str, Any]:
            lawyer = current_lawyer(session, kind, token)
            case = case_data(session, lawyer, case_id)
            client = None
            if case["conflict_client_id"] is not None:
                client = next((c.name for c in cases.clients(session)
                               if c.id == case["conflict_client_id"]), None)
            return {"lawyer": lawyer, "case": case, "client": client,
                    "canned": canned.list_replies(session),
                    "colleagues": [c for c in teamwork.active_lawyers(session)
                                   if c["id"] != lawyer["id"]],
                    "label_names": teamwork.all_label_names(session)}

        data = await in_db(unit)
        lawyer, case = data["lawyer"], data["case"]
        names = lawyer["names"]
        last_message, last_note = views.last_ids(case)
        # Where the person last wrote (an X conversation continued on the web chat): where the
        # lawyer's reply goes (desk/delivery.py).
        try:
            now_on = await delivery.person_channel(request.app, case["conversation_id"],
                                                   case["channel"])
        except Exception:  # noqa: BLE001 - the case stays readable; the failure is logged
            logger.exception("desk.case_page.channel_unknown case=%s", case["id"])
            now_on = None
        return render(
            "case.html",
            **page_context(lawyer, token, kind),
            case=case,
            client=data["client"],
            canned=data["canned"],
            colleagues=data["colleagues"],
            label_names=data["label_names"],
            reopenable=reopenable(case),
            key_facts=views.key_fact_rows(case),
            facts=views.fact_rows(case["facts"], skip=views.KEY_FACTS),
            tier_label=views.TIER_LABELS.get(case["urgency"], case["urgency"]),
            domain=views.DOMAIN_LABELS.get(case["domain"], case["domain"] or "—"),
            channel=views.channel_line(case["channel"], now_on),
            state_label=views.state_label(case, lawyer["id"], names),
            mine=case["taken_by"] == lawyer["id"],
            before=views.before_handover(case),
            after=views.after_handover(case, names),
            last_message=last_message,
            last_note=last_note,
            times={name: views.day_clock(case[name])
                   for name in ("opened_at", "taken_at", "closed_at", "updated_at")},
            deadline=views.deadline_line(case["deadline"]),
            erasure_requested=views.day_clock(case["erasure_requested_at"]),
            decision_date=views.date_fr(case["facts"].get("date_decision")),
        )

    @bp.get("/cases/<case_id>/updates")
    @guarded(xhr=True)
    async def case_updates(request: Request, case_id: str) -> HTTPResponse:
        kind, token = api.credentials(request)
        after_message = _positive(request.args.get("after_message"))
        after_note = _positive(request.args.get("after_note"))

        def unit(session: Session) -> dict[str, Any]:
            lawyer = current_lawyer(session, kind, token)
            return {"lawyer": lawyer, "case": case_data(session, lawyer, case_id)}

        data = await in_db(unit)
        lawyer, case = data["lawyer"], data["case"]
        items = views.after_handover(case, lawyer["names"], after_message, after_note)
        last_message, last_note = views.last_ids(case)
        return response.json({
            "state": case["state"],
            "state_label": views.state_label(case, lawyer["id"], lawyer["names"]),
            "erasure_requested": views.day_clock(case["erasure_requested_at"]),
            "mine": case["taken_by"] == lawyer["id"],
            "html": render_fragment("_items.html", items=items),
            "last_message": max(last_message, after_message),
            "last_note": max(last_note, after_note),
            "deliveries": views.deliveries(case),
            "labels": case["labels"],
            "reopenable": reopenable(case),
        }, headers={"Cache-Control": "no-store"})

    # ------------------------------------------------------------ search, closed cases

    async def search_results(kind: str, token: str, args: dict[str, str]) -> HTTPResponse:
        """Cases by criteria (desk/search.py); without any, the closed cases (reopenable)."""
        try:
            query, problem = search.parse(args or {"state": "closed"}), None
        except cases.InvalidInput:
            query, problem = None, "Ces critères ne sont pas valables : vérifiez-les."

        def unit(session: Session) -> dict[str, Any]:
            lawyer = current_lawyer(session, kind, token)
            found, more = search.search(session, query) if query else ([], False)
            labels = teamwork.labels_of(session, [c["id"] for c in found])
            cases.audit(session, lawyer["id"], None, "cases.search",
                        query.criteria() if query else "invalid")
            return {"lawyer": lawyer, "found": found, "more": more, "labels": labels,
                    "label_names": teamwork.all_label_names(session)}

        data = await in_db(unit)
        lawyer, now = data["lawyer"], datetime.now(timezone.utc)
        rows = [{**views.queue_row(c, lawyer["id"], lawyer["names"], now),
                 "labels": [label["name"] for label in data["labels"].get(c["id"], [])],
                 "reopenable": reopenable(c)} for c in data["found"]]
        return render("search.html", **page_context(lawyer, token, kind), rows=rows,
                      more=data["more"], criteria=args, problem=problem,
                      default=not args, label_names=data["label_names"],
                      retention_days=retention.retention_days(),
                      domains=[(k, v) for k, v in views.DOMAIN_LABELS.items()],
                      tiers=[(k or "none", v) for k, v in views.TIER_LABELS.items()],
                      states=SEARCH_STATES)

    @bp.get("/search")
    @guarded()
    async def closed_cases(request: Request) -> HTTPResponse:
        """The search form and the closed cases. No criteria in the address: words, handles
        and labels would stay in the browser's history and proxies' logs."""
        kind, token = api.credentials(request)
        return await search_results(kind, token, {})

    @bp.post("/search")
    @guarded()
    async def search_page(request: Request) -> HTTPResponse:
        """The search form, posted (with the session's CSRF token)."""
        token = form_credentials(request)
        args = {name: value for name in SEARCH_FIELDS if (value := form_field(request, name))}
        return await search_results("session", token, args)

    # ------------------------------------------------------------ the firm's figures

    async def figures_report(request: Request) -> tuple[dict[str, Any], dict[str, Any], str,
                                                        str]:
        kind, token = api.credentials(request)
        month = request.args.get("month") or None
        found: dict[str, Any] = {}

        def lawyer_id(session: Session) -> int:
            found["lawyer"] = current_lawyer(session, kind, token)
            return found["lawyer"]["id"]

        report = await api.api_figures(in_db, month, lawyer_id)
        return report, found["lawyer"], kind, token

    @bp.get("/figures")
    @guarded()
    async def figures_page(request: Request) -> HTTPResponse:
        report, lawyer, kind, token = await figures_report(request)
        return render("figures.html", **page_context(lawyer, token, kind),
                      p=figures_view.page(report))

    @bp.get("/figures.csv")
    @guarded()
    async def figures_csv(request: Request) -> HTTPResponse:
        report, _, _, _ = await figures_report(request)
        return response.text(
            figures.to_csv(report), content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition":
                     f'attachment; filename="chiffres-{report["month"]}.csv"',
                     "Cache-Control": "no-store"})

    # ------------------------------------------------------------ canned replies

    @bp.get("/canned")
    @guarded()
    async def canned_page(request: Request) -> HTTPResponse:
        kind, token = api.credentials(request)

        def unit(session: Session) -> dict[str, Any]:
            lawyer = current_lawyer(session, kind, token)
            cases.audit(session, lawyer["id"], None, "canned.read")
            return {"lawyer": lawyer, "replies": canned.list_replies(session)}

        data = await in_db(unit)
        done = request.args.get("done")
        return render("canned.html", **page_context(data["lawyer"], token, kind),
                      replies=data["replies"], done=done if done in CANNED_DONE else None,
                      done_text=CANNED_DONE.get(done or ""), error=None)

    @bp.post("/canned")
    @guarded()
    async def canned_change(request: Request) -> HTTPResponse:
        token = form_credentials(request)
        action = form_field(request, "action")
        reply_id = form_field(request, "id")
        title, text = form_field(request, "title"), form_field(request, "text")

        def unit(session: Session) -> dict[str, Any]:
            lawyer = current_lawyer(session, "session", token)
            try:
                if action == "create":
                    canned.add_reply(session, lawyer["id"], title, text)
                elif action == "update":
                    canned.update_reply(session, lawyer["id"], reply_id, title, text)
                elif action == "delete":
                    canned.delete_reply(session, lawyer["id"], reply_id)
                else:
                    raise cases.InvalidInput("action must be create, update or delete")
            except cases.InvalidInput as exc:
                return {"lawyer": lawyer, "error": str(exc),
                        "replies": canned.list_replies(session)}
            return {"lawyer": lawyer, "error": None}

        data = await in_db(unit)
        if data["error"] is None:
            return response.redirect(f"/desk/canned?done={action}", status=303)
        return render("canned.html", status=400,
                      **page_context(data["lawyer"], token, "session"),
                      replies=data["replies"], done=None, done_text=None,
                      error="Un titre et un texte sont nécessaires (titre : 120 caractères au "
                            "plus).", draft={"title": title or "", "text": text or ""})

    # ------------------------------------------------------------ static files

    @bp.get("/static/<name>")
    async def static(request: Request, name: str) -> HTTPResponse:
        if name not in STATIC_FILES:
            return api.error(404, "not_found")
        return await response.file(STATIC / name, mime_type=STATIC_FILES[name],
                                   headers={"Cache-Control": "no-cache",
                                            "X-Content-Type-Options": "nosniff"})


CANNED_DONE = {
    "create": "Réponse type ajoutée.",
    "update": "Réponse type modifiée.",
    "delete": "Réponse type supprimée.",
}
