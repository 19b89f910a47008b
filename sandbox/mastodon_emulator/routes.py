"""The Mastodon REST and streaming endpoints the channel uses (docs.joinmastodon.org/methods),
behind Mastodon's bearer-token check, rate limits and the injected faults."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from .entities import MENTION_RE, URL_RE, account_json, instance_v1, instance_v2, status_json
from .ratelimit import iso
from .state import EmulatorState, Stream

logger = logging.getLogger(__name__)
STATE_KEY: web.AppKey[EmulatorState] = web.AppKey("mastodon_state", EmulatorState)

# Paths answered without a token (Mastodon: public unless the administrator locks them).
PUBLIC = (re.compile(r"/api/v[12]/instance"), re.compile(r"/api/v1/timelines/(public|tag/.+)"),
          re.compile(r"/api/v1/streaming/health"))
VISIBILITIES = ("public", "unlisted", "private", "direct")
NOTIFICATION_TYPES = ("mention", "status", "reblog", "follow", "follow_request", "favourite",
                      "poll", "update", "admin.sign_up", "admin.report")
POLICY_VALUES = ("accept", "filter", "drop")
_GATEWAY_PAGE = "<html><head><title>{0}</title></head><body><center><h1>{0}</h1></center>" \
                "<hr><center>nginx</center></body></html>"
_REASONS = {500: "Internal Server Error", 502: "502 Bad Gateway",
            503: "503 Service Temporarily Unavailable", 504: "504 Gateway Time-out"}


def error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    if status in (502, 503, 504):
        return web.Response(status=status, text=_GATEWAY_PAGE.format(_REASONS[status]),
                            content_type="text/html", headers=headers)
    return web.json_response({"error": message}, status=status, headers=headers)


FAULT_MESSAGES = {401: "The access token is invalid", 403: "This action is not allowed",
                  404: "Record not found", 410: "Gone", 422: "Validation failed",
                  429: "Too many requests", 500: "We're sorry, but something went wrong."}


def fault_response(state: EmulatorState, fault) -> web.Response:
    headers = {}
    if fault.status == 429:
        limit = state.limiter.windows["account"].limit
        headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": "0",
                   "X-RateLimit-Reset": iso(state.config.clock() + fault.reset_in)}
    return error(fault.status, FAULT_MESSAGES.get(fault.status, "Error"), headers)


def bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[7:].strip()
    return request.query.get("access_token")


@web.middleware
async def api_middleware(request: web.Request, handler) -> web.StreamResponse:
    if not request.path.startswith("/api/"):
        return await handler(request)
    state = request.app[STATE_KEY]
    path = request.path.rstrip("/") or "/"
    token = bearer(request)
    authed = token == state.config.access_token
    entry = {"method": request.method, "path": path, "auth": "bearer" if authed else None}
    state.requests.append(entry)
    response = await _api(request, handler, state, path, token, authed)
    entry["status"] = response.status
    return response


async def _api(request, handler, state, path, token, authed) -> web.StreamResponse:
    if not authed and (token is not None or not any(p.fullmatch(path) for p in PUBLIC)):
        return error(401, "The access token is invalid")
    if "/streaming/" in path:
        return await handler(request)
    keys = ["account" if authed else "ip"]
    if request.method == "POST" and path == "/api/v1/statuses":
        keys.append("statuses")
    allowed, status = state.limiter.consume(keys, "account" if authed else request.remote or "")
    if not allowed:
        return error(429, "Too many requests", status.headers())
    fault = state.take_fault(request.method, path, set())
    if fault is not None:
        return fault_response(state, fault)
    response = await handler(request)
    for name, value in status.headers().items():  # a fault's own headers win
        response.headers.setdefault(name, value)
    return response


def _page(items: list[dict[str, Any]], query, default: int, maximum: int
          ) -> list[dict[str, Any]]:
    """Mastodon's id paging over ``items`` (oldest first): newest first, ``max_id`` (older
    than), ``since_id`` (newer than, the newest ones), ``min_id`` (newer than, the ones just
    after it)."""
    try:
        limit = min(max(int(query.get("limit", default)), 1), maximum)
    except ValueError:
        limit = default
    ids = {name: int(query[name]) for name in ("max_id", "since_id", "min_id")
           if str(query.get(name, "")).isdigit()}
    chosen = [item for item in items
              if ("max_id" not in ids or int(item["id"]) < ids["max_id"])
              and ("since_id" not in ids or int(item["id"]) > ids["since_id"])
              and ("min_id" not in ids or int(item["id"]) > ids["min_id"])]
    if "min_id" in ids:
        return list(reversed(chosen[:limit]))
    return list(reversed(chosen[-limit:]))


def _paged(request: web.Request, page: list[dict[str, Any]], keep: dict[str, Any]
           ) -> web.Response:
    headers = {}
    if page:
        base = f"{request.scheme}://{request.host}{request.path}"
        links = [f'<{base}?{urlencode({**keep, "max_id": page[-1]["id"]}, doseq=True)}>; '
                 'rel="next"',
                 f'<{base}?{urlencode({**keep, "min_id": page[0]["id"]}, doseq=True)}>; '
                 'rel="prev"']
        headers["Link"] = ", ".join(links)
    return web.json_response(page, headers=headers)


def _list(query, name: str) -> list[str]:
    return query.getall(f"{name}[]", []) + query.getall(name, [])


def countable_length(text: str) -> int:
    """Mastodon's count: a URL is 23 characters, a mention counts its username only."""
    text = URL_RE.sub("x" * 23, text)
    text = MENTION_RE.sub(lambda m: "@" + m.group(1), text)
    return len(text)


async def _params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        body = await request.json()
        return body if isinstance(body, dict) else {}
    return dict(await request.post())


# ---------------------------------------------------------------- handlers


async def instance(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    streaming = f"ws://{request.host}"
    build = instance_v2 if request.path.startswith("/api/v2") else instance_v1
    return web.json_response(build(state.config, streaming))


async def verify_credentials(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    body = account_json(state.account, state.config.domain)
    body["source"] = {"privacy": "public", "sensitive": False, "language": "fr", "note": "",
                      "fields": []}
    return web.json_response(body)


async def account(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    person = state.people.get(request.match_info["id"])
    if person is None:
        return error(404, "Record not found")
    if person.gone:
        return error(410, "Gone")
    return web.json_response(account_json(person, state.config.domain))


async def post_status(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    params = await _params(request)
    key = request.headers.get("Idempotency-Key")
    if key and key in state.idempotency:
        return web.json_response(status_json(state.statuses[state.idempotency[key]],
                                             state.config.domain))
    text = str(params.get("status") or "")
    visibility = str(params.get("visibility") or "public")
    if visibility not in VISIBILITIES:
        return error(422, "Validation failed: Visibility is not included in the list")
    thread = None
    if params.get("in_reply_to_id"):
        thread = state.statuses.get(str(params["in_reply_to_id"]))
        if thread is None or not state.visible_to_account(thread):
            return error(404, "The post you are trying to reply to does not appear to exist.")
    accts = {m.group(0).lstrip("@").lower() for m in MENTION_RE.finditer(text)}
    if thread is not None:
        accts.add(thread.author.acct.lower())
    fault = state.take_fault("POST", "/api/v1/statuses", accts, acct_only=True)
    if fault is not None:
        return fault_response(state, fault)
    if not text.strip():
        return error(422, "Validation failed: Text can't be blank")
    if countable_length(text) > state.config.max_characters:
        return error(422, "Validation failed: Text character limit of "
                          f"{state.config.max_characters} exceeded")
    status = state.create_status(state.account, text, visibility, thread)
    if key:
        state.idempotency[key] = status.id
    return web.json_response(status_json(status, state.config.domain))


async def get_status(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    status = state.statuses.get(request.match_info["id"])
    if status is None or not state.visible_to_account(status):
        return error(404, "Record not found")
    return web.json_response(status_json(status, state.config.domain))


async def notifications(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    query = request.query
    types = set(_list(query, "types")) or set(NOTIFICATION_TYPES)
    types -= set(_list(query, "exclude_types"))
    include_filtered = query.get("include_filtered") in ("true", "1", "True")
    items = [state.notification_json(n) for n in state.notifications
             if n.kind in types and (include_filtered or not n.filtered)
             and not n.status.author.gone]
    keep = {name: _list(query, name) for name in ("types", "exclude_types")
            if _list(query, name)}
    keep = {f"{name}[]": values for name, values in keep.items()}
    return _paged(request, _page(items, query, 40, 80), keep)


async def tag_timeline(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    tag = request.match_info["tag"].lower()
    items = [status_json(s, state.config.domain) for s in state.statuses.values()
             if s.visibility == "public" and tag in (t.lower() for t in s.tags)
             and state.visible_to_account(s)]
    return _paged(request, _page(items, request.query, 20, 40), {})


async def public_timeline(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    items = [status_json(s, state.config.domain) for s in state.statuses.values()
             if s.visibility == "public" and state.visible_to_account(s)]
    return _paged(request, _page(items, request.query, 20, 40), {})


async def get_policy(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    return web.json_response({**state.policy, "summary": {
        "pending_requests_count": 0,
        "pending_notifications_count": sum(n.filtered for n in state.notifications)}})


async def patch_policy(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    params = await _params(request)
    for name, value in params.items():
        if name in state.policy:
            if value not in POLICY_VALUES:
                return error(422, f"Validation failed: {name} is not included in the list")
            state.policy[name] = value
    return await get_policy(request)


async def stream(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    if state.refuse_streams:
        return error(503, "Service Unavailable")
    path = request.path.rstrip("/")
    if path.endswith("/hashtag"):
        tag = request.query.get("tag", "").lower()
        if not tag:
            return error(400, "Missing tag name parameter")
        kind = f"hashtag:{tag}"
    else:
        kind = "user:notification" if path.endswith("/notification") else "user"
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                           "Cache-Control": "no-store"})
    await response.prepare(request)
    subscription = Stream(kind)
    state.streams.append(subscription)
    try:
        await response.write(b":)\n")
        while True:
            try:
                item = await asyncio.wait_for(subscription.queue.get(),
                                              state.config.stream_heartbeat_seconds)
            except asyncio.TimeoutError:
                await response.write(b":thump\n")
                continue
            if item is None:  # dropped by the control API
                request.transport.close()
                break
            event, payload = item
            data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
            await response.write(f"event: {event}\ndata: {data}\n\n".encode())
    finally:
        state.streams.remove(subscription)
    return response


async def stream_health(request: web.Request) -> web.Response:
    return web.Response(text="OK")


def add_api_routes(app: web.Application) -> None:
    routes = [
        ("GET", "/api/v1/instance", instance), ("GET", "/api/v2/instance", instance),
        ("GET", "/api/v1/accounts/verify_credentials", verify_credentials),
        ("GET", "/api/v1/accounts/{id}", account),
        ("POST", "/api/v1/statuses", post_status), ("GET", "/api/v1/statuses/{id}", get_status),
        ("GET", "/api/v1/notifications", notifications),
        ("GET", "/api/v1/timelines/tag/{tag}", tag_timeline),
        ("GET", "/api/v1/timelines/public", public_timeline),
        ("GET", "/api/v2/notifications/policy", get_policy),
        ("PATCH", "/api/v2/notifications/policy", patch_policy),
        ("GET", "/api/v1/streaming/health", stream_health),
        ("GET", "/api/v1/streaming/user", stream),
        ("GET", "/api/v1/streaming/user/notification", stream),
        ("GET", "/api/v1/streaming/hashtag", stream),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, path, handler)
        app.router.add_route(method, path + "/", handler)  # Mastodon.py asks /instance/
