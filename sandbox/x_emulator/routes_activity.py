"""X Activity API (XAA) endpoints: subscriptions and the persistent stream (``activity.py``).

Shapes follow X's ``openapi.json`` (``/2/activity/subscriptions``, ``/2/activity/stream``):
a created or updated subscription comes back as ``data.subscription``; lists carry
``meta.total_subscriptions``. Assumed where X documents nothing: a subscription identical to
an existing one is created again (so a client that does not list first makes duplicates), an
unknown subscription id is a 404 ``resource-not-found`` problem, and a refused stream (the
control API's ``refuse``) is a 503.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from .activity import EVENT_TYPES, FILTER_KEYS, ActivitySubscription, Emission, is_private
from .appkeys import STATE_KEY
from .errors import ApiError, about_blank, invalid_request, json_response
from .params import ID_PATTERN, int_param, json_body, paginate

logger = logging.getLogger(__name__)

# Set by api.py before the handler runs: the rate-limit headers of this request, which a
# streamed response must send before its body.
RATE_HEADERS = "x_sandbox_rate_headers"
STREAMING_PROBLEM = "https://api.x.com/2/problems/streaming-connection"
NOT_AUTHORIZED = "https://api.x.com/2/problems/not-authorized-for-resource"
NOT_FOUND = "https://api.x.com/2/problems/resource-not-found"
# How often a waiting stream checks that its client is still there.
LIVENESS_SECONDS = 1.0


def _not_found(subscription_id: str) -> ApiError:
    return ApiError(404, {
        "title": "Not Found Error", "type": NOT_FOUND, "resource_type": "subscription",
        "parameter": "subscription_id", "resource_id": subscription_id,
        "value": subscription_id,
        "detail": f"Could not find subscription with id: [{subscription_id}].",
    })


def _not_authorized(detail: str) -> ApiError:
    return ApiError(403, {"title": "Forbidden", "type": NOT_AUTHORIZED, "status": 403,
                          "resource_type": "subscription", "section": "data",
                          "detail": detail})


def _auth_kind(request: web.Request) -> str:
    scheme = request.headers.get("Authorization", "").split(" ", 1)[0].lower()
    return "oauth1" if scheme == "oauth" else "bearer"


def _subscription(request: web.Request) -> ActivitySubscription:
    hub = request.app[STATE_KEY].activity
    subscription_id = request.match_info["subscription_id"]
    if not ID_PATTERN.match(subscription_id) or subscription_id not in hub.subscriptions:
        raise _not_found(subscription_id)
    return hub.subscriptions[subscription_id]


def _webhook_id(request: web.Request, body: dict[str, Any]) -> str | None:
    webhook_id = body.get("webhook_id")
    if webhook_id is None:
        return None
    if not isinstance(webhook_id, str) or not ID_PATTERN.match(webhook_id):
        raise invalid_request("$.webhook_id: must match ^[0-9]{1,19}$")
    if webhook_id not in request.app[STATE_KEY].webhooks:
        raise invalid_request(f"$.webhook_id: no webhook [{webhook_id}] for this application")
    return webhook_id


def _tag(body: dict[str, Any]) -> str | None:
    tag = body.get("tag")
    if tag is not None and (not isinstance(tag, str) or not 1 <= len(tag) <= 200):
        raise invalid_request("$.tag: must be a string of 1 to 200 characters")
    return tag


async def create_subscription(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    body = await json_body(request)
    unknown = set(body) - {"event_type", "filter", "tag", "webhook_id"}
    if unknown:
        raise invalid_request(f"$: unknown properties {sorted(unknown)}")
    event_type = body.get("event_type")
    if event_type not in EVENT_TYPES:
        raise invalid_request(f"$.event_type: [{event_type}] is not a supported event type")
    matched = body.get("filter")
    if not isinstance(matched, dict) or set(matched) - FILTER_KEYS:
        raise invalid_request("$.filter: an object with user_id, direction or keyword")
    user_id = matched.get("user_id")
    if user_id is not None and (not isinstance(user_id, str) or not ID_PATTERN.match(user_id)):
        raise invalid_request("$.filter.user_id: must match ^[0-9]{1,19}$")
    if user_id is None and event_type != "news.new":
        raise invalid_request("$.filter.user_id: required for this event type")
    tag, webhook_id = _tag(body), _webhook_id(request, body)
    if is_private(event_type):
        # Private events: only with the user context of the user they filter on.
        if _auth_kind(request) != "oauth1":
            raise _not_authorized(f"[{event_type}] is a private event: create its "
                                  "subscription with the user's context")
        if user_id != state.account.id:
            raise _not_authorized(f"The user [{user_id}] has not authorized this application.")
    subscription = state.activity.subscribe(event_type, user_id, tag, webhook_id)
    logger.info("x_sandbox.activity.subscribed subscription_id=%s event_type=%s webhook_id=%s",
                subscription.id, subscription.event_type, webhook_id)
    return json_response({"data": {"subscription": subscription.as_json()},
                          "meta": {"total_subscriptions": len(state.activity.subscriptions)}})


async def list_subscriptions(request: web.Request) -> web.Response:
    hub = request.app[STATE_KEY].activity
    max_results = int_param(request.query, "max_results", 1, 1000, 100)
    page, next_token = paginate(hub.newest_first(), "subscription",
                                request.query.get("pagination_token"), "pagination_token",
                                max_results)
    meta: dict[str, Any] = {"total_subscriptions": len(hub.subscriptions)}
    if next_token:
        meta["next_token"] = next_token
    return json_response({"data": [s.as_json() for s in page], "meta": meta})


async def update_subscription(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    subscription = _subscription(request)
    body = await json_body(request)
    unknown = set(body) - {"tag", "webhook_id"}
    if unknown:
        raise invalid_request(f"$: only tag and webhook_id can change (not {sorted(unknown)})")
    if "tag" in body:
        subscription.tag = _tag(body)
    if "webhook_id" in body:
        subscription.webhook_id = _webhook_id(request, body)
    subscription.updated_at = state.clock()
    logger.info("x_sandbox.activity.updated subscription_id=%s webhook_id=%s",
                subscription.id, subscription.webhook_id)
    return json_response({"data": {"subscription": subscription.as_json(),
                                   "total_subscriptions": len(state.activity.subscriptions)}})


async def delete_subscription(request: web.Request) -> web.Response:
    hub = request.app[STATE_KEY].activity
    subscription = _subscription(request)
    del hub.subscriptions[subscription.id]
    logger.info("x_sandbox.activity.deleted subscription_id=%s", subscription.id)
    return json_response({"data": {"deleted": True},
                          "meta": {"total_subscriptions": len(hub.subscriptions)}})


async def activity_stream(request: web.Request) -> web.StreamResponse:
    """The persistent stream: the backfill asked for, then every emission as one line, and a
    blank line every ``stream_keepalive_seconds`` when nothing else is sent."""
    state = request.app[STATE_KEY]
    hub, cfg = state.activity, state.config
    backfill = int_param(request.query, "backfill_minutes", 0, 5, 0)
    if hub.refusing:
        raise ApiError(503, about_blank(503, "The stream is temporarily unavailable."))
    if len(hub.streams) >= cfg.stream_max_connections:
        raise ApiError(429, {
            "title": "ConnectionException", "connection_issue": "TooManyConnections",
            "detail": "This stream is currently at the maximum allowed connection limit.",
            "type": STREAMING_PROBLEM})
    response = web.StreamResponse(status=200, headers={
        "Content-Type": "application/json; charset=utf-8", **request.get(RATE_HEADERS, {})})
    connection = hub.connect()
    logger.info("x_sandbox.stream.connected backfill_minutes=%d open=%d", backfill,
                len(hub.streams))
    try:
        await response.prepare(request)
        sent: set[str] = set()
        for emission in hub.backlog(backfill):
            await _write(response, state, emission)
            sent.add(emission.event_uuid)
        quiet, step = 0.0, min(LIVENESS_SECONDS, cfg.stream_keepalive_seconds)
        while True:
            try:
                item = await asyncio.wait_for(connection.queue.get(), step)
            except asyncio.TimeoutError:
                if request.transport is None or request.transport.is_closing():
                    break  # the client went away
                quiet += step
                if quiet >= cfg.stream_keepalive_seconds:
                    await response.write(b"\r\n")
                    quiet = 0.0
                continue
            if item is None:  # cut, as a network failure would
                logger.info("x_sandbox.stream.dropped")
                if request.transport is not None:
                    request.transport.abort()
                break
            if item.event_uuid not in sent:
                await _write(response, state, item)
                quiet = 0.0
    except ConnectionError:  # ConnectionResetError: writing to a client that went away
        logger.info("x_sandbox.stream.client_gone")
    finally:
        hub.disconnect(connection)
    return response


async def _write(response: web.StreamResponse, state: Any, emission: Emission) -> None:
    await response.write(emission.body + b"\r\n")
    if emission.billed_as is not None:
        state.usage.charge(emission.billed_as, [emission.resource_id])

