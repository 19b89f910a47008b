"""The control API (``/_control/...``, no auth, JSON): tests make people write, read what the
account sent, inject faults, drop streams and reset the instance."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .entities import status_json
from .routes import STATE_KEY, VISIBILITIES
from .state import Fault


def _bad(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    body = await request.json()
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="a JSON object is expected")
    return body


async def post(request: web.Request) -> web.Response:
    """A person writes: ``{"username", "domain"?, "display_name"?, "text", "visibility"?
    (direct), "in_reply_to_id"?}``. A direct message that does not mention the account gets
    ``@<account> `` in front, as a client addresses it."""
    state = request.app[STATE_KEY]
    body = await _body(request)
    username, text = body.get("username"), body.get("text")
    if not isinstance(username, str) or not username or not isinstance(text, str):
        return _bad("username and text are required")
    visibility = body.get("visibility", "direct")
    if visibility not in VISIBILITIES:
        return _bad(f"visibility must be one of {', '.join(VISIBILITIES)}")
    person = state.person(username, body.get("domain"), body.get("display_name"))
    if visibility == "direct" and f"@{state.account.username}".lower() not in text.lower():
        text = f"@{state.account.username} {text}"
    thread = None
    if body.get("in_reply_to_id"):
        thread = state.statuses.get(str(body["in_reply_to_id"]))
        if thread is None:
            return _bad("no such status")
    notifications_before = len(state.notifications)
    status = state.create_status(person, text, visibility, thread)
    created = state.notifications[notifications_before:]
    return web.json_response({
        "status_id": status.id, "account_id": person.id, "acct": person.acct,
        "notification_id": created[0].id if created else None,
        "filtered": bool(created and created[0].filtered)})


async def sent(request: web.Request) -> web.Response:
    """What the account posted, oldest first (``?since_id=`` for the newer ones)."""
    state = request.app[STATE_KEY]
    since = request.query.get("since_id", "")
    items = [{"id": s.id, "text": s.text, "visibility": s.visibility,
              "in_reply_to_id": s.in_reply_to_id,
              "mentions": [p.acct for p in s.mentions],
              "status": status_json(s, state.config.domain)}
             for s in state.statuses.values() if s.author is state.account
             and (not since.isdigit() or int(s.id) > int(since))]
    return web.json_response({"statuses": items})


async def fail(request: web.Request) -> web.Response:
    """``{"status": 403|404|410|422|429|500|502|503|504, "acct"?, "path_prefix"?, "count"?,
    "reset_in"?}``: the next ``count`` (1) matching requests fail. With ``acct``, only the
    account's posts to that person (mentioning them, or replying to them)."""
    state = request.app[STATE_KEY]
    body = await _body(request)
    status = body.get("status")
    if status not in (401, 403, 404, 410, 422, 429, 500, 502, 503, 504):
        return _bad("unsupported status")
    count = body.get("count", 1)
    if not isinstance(count, int) or count < 1:
        return _bad("count must be a positive integer")
    acct = body.get("acct")
    state.faults.append(Fault(status, acct.lstrip("@") if acct else None,
                              body.get("path_prefix"), count, float(body.get("reset_in", 3))))
    return web.json_response({"faults": len(state.faults)})


async def block(request: web.Request) -> web.Response:
    """``{"acct", "blocked"?: true, "gone"?: false}``: the person blocks the account (or
    unblocks it), or their account is deleted (``gone``)."""
    state = request.app[STATE_KEY]
    body = await _body(request)
    person = state.find_acct(str(body.get("acct") or ""))
    if person is None or person is state.account:
        return _bad("no such person")
    person.blocks_account = bool(body.get("blocked", True))
    person.gone = bool(body.get("gone", False))
    return web.json_response({"acct": person.acct, "blocked": person.blocks_account,
                              "gone": person.gone})


async def stream(request: web.Request) -> web.Response:
    """``{"drop"?: true, "refuse"?: bool}``: cut the open streams, refuse new ones (503)."""
    state = request.app[STATE_KEY]
    body = await _body(request) if request.method == "POST" else {}
    dropped = state.drop_streams() if body.get("drop") else 0
    if "refuse" in body:
        state.refuse_streams = bool(body["refuse"])
    return web.json_response({"dropped": dropped, "open": len(state.streams),
                              "refusing": state.refuse_streams})


async def rate_limits(request: web.Request) -> web.Response:
    """``{"limits": {"statuses": 2}, "reset"?: true}``; GET: the windows and 429s."""
    state = request.app[STATE_KEY]
    if request.method == "POST":
        body = await _body(request)
        for key, limit in (body.get("limits") or {}).items():
            if key not in state.limiter.windows or not isinstance(limit, int) or limit < 1:
                return _bad(f"bad limit {key!r}")
            state.limiter.set_limit(key, limit)
        if body.get("reset"):
            state.limiter.reset()
    return web.json_response({
        "windows": {key: {"limit": w.limit, "seconds": w.seconds,
                          "real_seconds": w.seconds / state.limiter.time_scale}
                    for key, w in state.limiter.windows.items()},
        "rate_limited_429": dict(state.limiter.refused)})


async def requests_log(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    return web.json_response({"requests": state.requests[-int(request.query.get("limit",
                                                                              1000)):]})


async def redeliver(request: web.Request) -> web.Response:
    """``{"status_id"}``: stream a status again: a person's mention as its notification (a
    duplicate delivery), the account's own status as ``update`` (its echo)."""
    state = request.app[STATE_KEY]
    status = state.statuses.get(str((await _body(request)).get("status_id")))
    if status is None:
        return _bad("no such status")
    if status.author is state.account:
        state.publish("update", status_json(status, state.config.domain), ("user",))
        return web.json_response({"event": "update"})
    found = [n for n in state.notifications if n.status is status and not n.filtered]
    if not found:
        return _bad("no notification for this status")
    state.publish("notification", state.notification_json(found[0]),
                  ("user", "user:notification"))
    return web.json_response({"event": "notification", "notification_id": found[0].id})


async def reset(request: web.Request) -> web.Response:
    request.app[STATE_KEY].reset()
    return web.json_response({"reset": True})


def add_control_routes(app: web.Application) -> None:
    app.router.add_post("/_control/post", post)
    app.router.add_get("/_control/sent", sent)
    app.router.add_post("/_control/fail", fail)
    app.router.add_post("/_control/block", block)
    app.router.add_route("*", "/_control/stream", stream)
    app.router.add_route("*", "/_control/rate_limits", rate_limits)
    app.router.add_get("/_control/requests", requests_log)
    app.router.add_post("/_control/redeliver", redeliver)
    app.router.add_post("/_control/reset", reset)
