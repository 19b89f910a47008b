"""The emulated X API v2 (``/2/...``): routes, authentication, rate limits and faults.

Every ``/2/`` request goes through :func:`api_middleware`, in this order: request log,
injected fault, authentication (401 / 403 for the wrong kind), rate limit (429), handler.
Every answer of a known endpoint carries ``x-rate-limit-limit/remaining/reset`` and, where
the limits file has 24-hour windows (DM sends, posts), ``x-user-limit-24hour-*`` and
``x-app-limit-24hour-*``. A 429 names the exhausted window by its ``-remaining: 0``.
"""

from __future__ import annotations

import dataclasses
import hmac
import logging
import math
from dataclasses import dataclass
from typing import Awaitable, Callable

from aiohttp import web

from . import routes_activity, routes_dm, routes_tweets, routes_webhooks
from .appkeys import STATE_KEY
from .errors import (
    ApiError,
    about_blank,
    forbidden_body,
    json_response,
    too_many_requests_body,
    unsupported_auth_body,
)
from .oauth import OAuthCredentials, OAuthRequest, verify_oauth1
from .ratelimit import RATE_FAMILY, RateWindow
from .state import EmulatorState, Fault

logger = logging.getLogger(__name__)

USER = frozenset({"oauth1"})
APP = frozenset({"bearer"})
EITHER = USER | APP

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    limit_key: str
    auth: frozenset[str]


# Middleware


@web.middleware
async def api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith("/2/"):
        return await handler(request)
    state = request.app[STATE_KEY]
    auth: str | None = None
    status = 500
    try:
        response, auth = await _dispatch(request, handler, state)
        status = response.status
        return response
    except web.HTTPException as exc:  # e.g. body over client_max_size
        status = exc.status
        return json_response(about_blank(exc.status), exc.status, problem=True)
    except Exception:
        logger.exception("x_sandbox.api.error method=%s path=%s", request.method, request.path)
        return json_response(about_blank(500), 500, problem=True)
    finally:
        state.log_request(request.method, request.path, status, auth)


async def _dispatch(request: web.Request, handler: Handler, state: EmulatorState
                    ) -> tuple[web.StreamResponse, str | None]:
    endpoint = _ENDPOINT_BY_HANDLER.get(request.match_info.handler)
    if endpoint is None:
        http_exception = getattr(request.match_info, "http_exception", None)
        status = http_exception.status if http_exception is not None else 404
        return json_response(about_blank(status), status, problem=True), None

    fault = state.take_fault(request.method, request.path)
    if fault is not None:
        logger.info("x_sandbox.fault.injected status=%s path=%s", fault.status, request.path)
        return _fault_response(request, state, endpoint, fault), None

    auth, failure = await _authenticate(request, endpoint, state)
    if failure is not None:
        failure.headers.update(state.limiter.peek(endpoint.limit_key, auth).headers())
        return failure, auth

    allowed, window = state.limiter.consume(endpoint.limit_key, auth)
    if not allowed:
        exhausted = ",".join(w.family for w in window.windows if w.remaining == 0)
        logger.info("x_sandbox.rate_limit.exceeded key=%s windows=%s",
                    endpoint.limit_key, exhausted)
        state.usage.count_rate_limited(endpoint.limit_key)
        return json_response(too_many_requests_body(), 429, problem=True,
                             headers=window.headers()), auth
    request[routes_activity.RATE_HEADERS] = window.headers()  # a stream sends them first
    try:
        response = await handler(request)
    except ApiError as exc:
        response = exc.response()
    if not response.prepared:
        response.headers.update(window.headers())
    return response, auth


def request_auth_scheme(request: web.Request) -> str | None:
    """The context the request claims (not checked): ``oauth1``, ``bearer`` or None."""
    scheme = request.headers.get("Authorization", "").split(" ", 1)[0].lower()
    return {"oauth": "oauth1", "bearer": "bearer"}.get(scheme)


def _fault_response(request: web.Request, state: EmulatorState, endpoint: Endpoint,
                    fault: Fault) -> web.Response:
    scheme = request_auth_scheme(request)
    status = state.limiter.peek(endpoint.limit_key, scheme)
    if fault.status == 429:
        # The 15-minute window is reported used up until ``reset_in`` seconds from now.
        limit = state.limiter.limits[endpoint.limit_key]
        primary = status.primary() or RateWindow(RATE_FAMILY, limit, 0, 0)
        window = dataclasses.replace(primary, remaining=0,
                                     reset=math.ceil(state.clock() + fault.reset_in))
        headers = {**status.headers(), **window.headers()}
        return json_response(too_many_requests_body(), 429, problem=True, headers=headers)
    body = forbidden_body() if fault.status == 403 else about_blank(fault.status)
    return json_response(body, fault.status, problem=True, headers=status.headers())


async def _authenticate(request: web.Request, endpoint: Endpoint, state: EmulatorState
                        ) -> tuple[str | None, web.Response | None]:
    cfg = state.config
    header = request.headers.get("Authorization", "")
    scheme = header.split(" ", 1)[0].lower()
    if scheme == "bearer":
        kind = "bearer"
        token = header[len("bearer"):].strip()
        if not hmac.compare_digest(token.encode("utf-8"), cfg.bearer_token.encode("utf-8")):
            return _unauthorized("bad_bearer_token", kind)
    elif scheme == "oauth":
        kind = "oauth1"
        form_body = None
        if request.content_type == "application/x-www-form-urlencoded":
            form_body = await request.read()
        reason = verify_oauth1(
            OAuthRequest(
                method=request.method, scheme=request.scheme, host=request.host,
                path=request.rel_url.raw_path, raw_query=request.rel_url.raw_query_string,
                authorization=header, form_body=form_body),
            OAuthCredentials(cfg.consumer_key, cfg.consumer_secret, cfg.access_token,
                             cfg.access_token_secret),
            now=state.clock(), timestamp_skew=cfg.timestamp_skew, nonce_seen=state.nonce_seen)
        if reason is not None:
            return _unauthorized(reason, kind)
    else:
        return _unauthorized("missing_authorization", None)
    if kind not in endpoint.auth:
        logger.info("x_sandbox.auth.unsupported kind=%s path=%s", kind, request.path)
        return kind, json_response(unsupported_auth_body(kind, endpoint.auth), 403, problem=True)
    return kind, None


def _unauthorized(reason: str, kind: str | None) -> tuple[str | None, web.Response]:
    logger.info("x_sandbox.auth.rejected reason=%s", reason)
    return kind, json_response(about_blank(401), 401, problem=True)


_AAA = "/2/account_activity/webhooks/{webhook_id}/subscriptions"
_XAA = "/2/activity/subscriptions"
_DM, _TW, _WH, _AC = routes_dm, routes_tweets, routes_webhooks, routes_activity
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "/2/users/me", _TW.get_me, "users_me", USER),
    Endpoint("POST", "/2/dm_conversations/with/{participant_id}/messages",
             _DM.send_dm_with_participant, "dm_send", USER),
    Endpoint("POST", "/2/dm_conversations/{dm_conversation_id}/messages",
             _DM.send_dm_to_conversation, "dm_send", USER),
    Endpoint("GET", "/2/dm_events", _DM.list_dm_events, "dm_events", USER),
    Endpoint("GET", "/2/dm_conversations/with/{participant_id}/dm_events",
             _DM.list_dm_events_with_participant, "dm_events", USER),
    Endpoint("GET", "/2/dm_conversations/{dm_conversation_id}/dm_events",
             _DM.list_dm_events_of_conversation, "dm_events", USER),
    Endpoint("POST", "/2/tweets", _TW.create_tweet, "tweets_create", USER),
    Endpoint("GET", "/2/users/{id}/mentions", _TW.get_mentions, "mentions", EITHER),
    Endpoint("GET", "/2/tweets/search/recent", _TW.search_recent, "search_recent", EITHER),
    Endpoint("POST", "/2/webhooks", _WH.create_webhook, "webhooks", EITHER),
    Endpoint("GET", "/2/webhooks", _WH.list_webhooks, "webhooks", APP),
    Endpoint("DELETE", "/2/webhooks/{webhook_id}", _WH.delete_webhook, "webhooks", EITHER),
    Endpoint("PUT", "/2/webhooks/{webhook_id}", _WH.validate_webhook, "webhooks", EITHER),
    Endpoint("POST", _AAA + "/all", _WH.create_subscription, "subscriptions", USER),
    Endpoint("GET", _AAA + "/all", _WH.check_subscription, "subscriptions", USER),
    Endpoint("GET", _AAA + "/all/list", _WH.list_subscriptions, "subscriptions", APP),
    Endpoint("DELETE", _AAA + "/{user_id}/all", _WH.delete_subscription, "subscriptions",
             APP),
    # X Activity API (openapi.json security: create and list with either context, update and
    # delete app-only; the stream app-only).
    Endpoint("POST", _XAA, _AC.create_subscription, "activity_subscriptions", EITHER),
    Endpoint("GET", _XAA, _AC.list_subscriptions, "activity_subscriptions", EITHER),
    Endpoint("PUT", _XAA + "/{subscription_id}", _AC.update_subscription,
             "activity_subscriptions", APP),
    Endpoint("DELETE", _XAA + "/{subscription_id}", _AC.delete_subscription,
             "activity_subscriptions", APP),
    Endpoint("GET", "/2/activity/stream", _AC.activity_stream, "activity_stream", APP),
)
_ENDPOINT_BY_HANDLER = {endpoint.handler: endpoint for endpoint in ENDPOINTS}


def add_api_routes(app: web.Application) -> None:
    for endpoint in ENDPOINTS:
        app.router.add_route(endpoint.method, endpoint.path, endpoint.handler)
