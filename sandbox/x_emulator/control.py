"""Control API (``/_control/...``, no auth) for tests and the human page at ``/``.

It plays the public (DMs and tweets to the firm), injects faults and shows what the
account sent. See README.md in this folder for the full list.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from pathlib import Path
from typing import Any

from aiohttp import web

from .activity import chat_payload
from .appkeys import DISPATCHER_KEY, STATE_KEY
from .ids import iso_millis
from .params import ID_PATTERN
from .payloads import (
    aaa_dm_payload,
    aaa_tweet_payload,
    encode_payload,
    xaa_dm_payload,
    xaa_mention,
)
from .profiles import LIMIT_KEYS
from .state import Delivery, EmulatorState, Fault, Tweet, User

logger = logging.getLogger(__name__)

PAGE_PATH = Path(__file__).with_name("page.html")
FAULT_STATUSES = (403, 429, 500, 502, 503, 504)


class ControlError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@web.middleware
async def control_middleware(request: web.Request, handler) -> web.StreamResponse:
    if not request.path.startswith("/_control/"):
        return await handler(request)
    try:
        return await handler(request)
    except ControlError as exc:
        return web.json_response({"error": str(exc)}, status=exc.status)


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise ControlError("body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ControlError("body must be a JSON object")
    return body


def _optional_str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ControlError(f"`{key}` must be a non-empty string")
    return value.strip()


def _optional_id(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    value = str(value)
    if not ID_PATTERN.match(value):
        raise ControlError(f"`{key}` must be a numeric id (1 to 19 digits)")
    return value


def _public_user(state: EmulatorState, user_id: str | None, username: str | None,
                 name: str | None) -> User:
    if user_id is None and username is None:
        raise ControlError("give the member of the public: an id and/or a screen name")
    try:
        user = state.ensure_user(user_id, username, name)
    except ValueError as exc:
        raise ControlError(str(exc), 409) from None
    if user.id == state.account.id:
        raise ControlError("that is the account itself; it acts through the API only")
    return user


def _user_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "screen_name": user.username, "name": user.name}


async def _wait(task: asyncio.Task | None, deliveries: list[Delivery], wait: bool,
                timeout: float) -> list[dict[str, Any]]:
    """Wait for the background delivery (bounded by the delivery timeout) if asked."""
    if task is not None and wait:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), timeout + 1)
    return [delivery.as_json() for delivery in deliveries]


async def _wait_all(published: list[tuple[asyncio.Task | None, list[Delivery]]], wait: bool,
                    timeout: float) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for task, deliveries in published:
        results += await _wait(task, deliveries, wait, timeout)
    return results


# Page and information


@functools.lru_cache(maxsize=1)
def _page_html() -> str:
    return PAGE_PATH.read_text(encoding="utf-8")


async def page(request: web.Request) -> web.Response:
    return web.Response(text=_page_html(), content_type="text/html", charset="utf-8")


async def info(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    return web.json_response({
        "account": _user_json(state.account),
        "api_base": f"{request.scheme}://{request.host}",
        "webhooks": [{**w.as_json(), "subscribed": sorted(w.subscribed)}
                     for w in state.webhooks.values()],
        "rate_limits": state.limiter.limits,
        "limits_profile": state.config.profile.name,
        "limits_file": str(state.config.profile.source),
        "time_scale": state.config.time_scale,
        "rate_limit_windows": state.limiter.describe(),
        "echo_own_events": state.config.echo_own_events,
        "activity": state.activity.describe(),
    })


async def list_users(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    return web.json_response([_user_json(u) for u in state.users.values()])


async def create_user(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    body = await _body(request)
    user = _public_user(state, _optional_id(body, "user_id"),
                        _optional_str(body, "screen_name"), _optional_str(body, "name"))
    return web.json_response(_user_json(user))


# The public acts


async def post_dm(request: web.Request) -> web.Response:
    """A member of the public sends a DM to the account."""
    state = request.app[STATE_KEY]
    body = await _body(request)
    text = _optional_str(body, "text")
    if text is None:
        raise ControlError("`text` is required")
    sender = _public_user(state, _optional_id(body, "sender_id"),
                          _optional_str(body, "screen_name"), _optional_str(body, "name"))
    quick_reply = body.get("quick_reply_payload")
    if quick_reply is not None and not isinstance(quick_reply, str):
        raise ControlError("`quick_reply_payload` must be a string")
    event = state.add_inbound_dm(sender, body["text"], quick_reply)
    logger.info("x_sandbox.dm.inbound event_id=%s sender_id=%s", event.id, sender.id)
    dispatcher = request.app[DISPATCHER_KEY]
    published = [dispatcher.publish(
        event.id, "direct_message_events", encode_payload(aaa_dm_payload(event, state)),
        billed_as="dm_received")]
    emissions = state.activity.emit("dm.received", state.account.id,
                                    xaa_dm_payload(event, state), None, "dm_received", event.id)
    published += dispatcher.publish_activity(emissions)
    results = await _wait_all(published, body.get("wait", True),
                              state.config.delivery_timeout)
    return web.json_response({
        "event_id": event.id,
        "dm_conversation_id": event.dm_conversation_id,
        "sender_id": sender.id,
        "delivery_status": results[0]["status"] if results else None,
        "deliveries": results,
        "activity_event_uuids": [emission.event_uuid for emission in emissions],
    })


async def post_chat(request: web.Request) -> web.Response:
    """A member of the public writes to the account in X Chat (encrypted): a
    ``chat.received`` event whose content nobody without the keys can read."""
    state = request.app[STATE_KEY]
    body = await _body(request)
    sender = _public_user(state, _optional_id(body, "sender_id"),
                          _optional_str(body, "screen_name"), _optional_str(body, "name"))
    payload = chat_payload(sender.id, state.account.id, state.clock())
    logger.info("x_sandbox.chat.inbound message_id=%s sender_id=%s", payload["id"], sender.id)
    emissions = state.activity.emit("chat.received", state.account.id, payload, None, None,
                                    payload["id"])
    results = await _wait_all(request.app[DISPATCHER_KEY].publish_activity(emissions),
                              body.get("wait", True), state.config.delivery_timeout)
    return web.json_response({
        "message_id": payload["id"],
        "activity_event_uuids": [emission.event_uuid for emission in emissions],
        "delivery_status": results[0]["status"] if results else None,
        "deliveries": results,
        "encoded_event": payload["encoded_event"],
    })


async def post_tweet(request: web.Request) -> web.Response:
    """A member of the public tweets (a mention, a hashtag, a reply, a quote or a retweet)."""
    state = request.app[STATE_KEY]
    dispatcher = request.app[DISPATCHER_KEY]
    body = await _body(request)
    text = body.get("text")
    author = _public_user(state, _optional_id(body, "author_id"),
                          _optional_str(body, "username"), _optional_str(body, "name"))
    published: list[Tweet] = []
    if body.get("retweet"):
        original_id = _optional_id(body, "retweet_of")
        if original_id is not None:
            original = state.tweets.get(original_id)
            if original is None:
                raise ControlError(f"no tweet {original_id} to retweet", 404)
        else:
            if not isinstance(text, str) or not text.strip():
                raise ControlError("`text` (of the original) or `retweet_of` is required")
            source = _public_user(state, None,
                                  _optional_str(body, "original_username") or "source_originale",
                                  None)
            original = state.add_tweet(source, text)
            published.append(original)
        original_author = state.users[original.author_id]
        tweet = state.add_tweet(author, f"RT @{original_author.username}: {original.text}",
                                retweet_of=original)
    else:
        if not isinstance(text, str) or not text.strip():
            raise ControlError("`text` is required")
        parent = None
        parent_id = _optional_id(body, "in_reply_to_tweet_id")
        if parent_id is not None:
            parent = state.tweets.get(parent_id)
            if parent is None:
                raise ControlError(f"no tweet {parent_id} to reply to", 404)
        quoted = None
        quoted_id = _optional_id(body, "quote_of")
        if quoted_id is not None:
            quoted = state.tweets.get(quoted_id)
            if quoted is None:
                raise ControlError(f"no tweet {quoted_id} to quote", 404)
        tweet = state.add_tweet(author, text, in_reply_to=parent, quote_of=quoted)
    published.append(tweet)

    results: list[dict[str, Any]] = []
    for item in published:
        concerns = state.concerns_account(item)
        sent = [dispatcher.publish(
            item.id, "tweet_create_events", encode_payload(aaa_tweet_payload(item, state)),
            deliver=concerns, billed_as="post_mention_received")]
        # XAA: only an explicit @mention in the body (not a reply's or a repost's).
        if (item.author_id != state.account.id and item.retweet_of_id is None
                and state.mentions_user(item, state.account)):
            payload, includes = xaa_mention(item, state)
            sent += dispatcher.publish_activity(state.activity.emit(
                "post.mention.create", state.account.id, payload, includes,
                "post_mention_received", item.id))
        logger.info("x_sandbox.tweet.public tweet_id=%s delivered=%s", item.id, concerns)
        results += await _wait_all(sent, body.get("wait", True), state.config.delivery_timeout)
    own = [result for result in results if result["event_id"] == tweet.id]
    answer: dict[str, Any] = {
        "tweet_id": tweet.id,
        # Account Activity only carries tweets that concern the account (mention, reply,
        # retweet of its tweet); a hashtag-only tweet is found through search only.
        "delivered": state.concerns_account(tweet),
        "delivery_status": own[0]["status"] if own else None,
        "deliveries": results,
    }
    if len(published) == 2:
        answer["original_tweet_id"] = published[0].id
    return web.json_response(answer)


# The X Activity API stream


async def stream_control(request: web.Request) -> web.Response:
    """``{"drop": true}`` cuts every open ``/2/activity/stream``; ``{"refuse": true}`` answers
    new connections 503 until ``{"refuse": false}``. ``GET``: the streams' state."""
    hub = request.app[STATE_KEY].activity
    dropped = 0
    if request.method == "POST":
        body = await _body(request)
        if "refuse" in body:
            if not isinstance(body["refuse"], bool):
                raise ControlError("`refuse` must be true or false")
            hub.refusing = body["refuse"]
        if body.get("drop"):
            dropped = hub.drop_streams()
        logger.info("x_sandbox.stream.control dropped=%d refusing=%s", dropped, hub.refusing)
    return web.json_response({"dropped": dropped, "open": len(hub.streams),
                              "refusing": hub.refusing,
                              "connections_total": hub.connections_total})


# Webhook checks


async def redeliver(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    body = await _body(request)
    event_id = _optional_id(body, "event_id")
    if event_id is None or event_id not in state.payloads:
        raise ControlError("unknown `event_id` (nothing was published under it)", 404)
    task, deliveries = request.app[DISPATCHER_KEY].schedule(event_id, redelivery=True)
    results = await _wait(task, deliveries, body.get("wait", True),
                          state.config.delivery_timeout)
    return web.json_response({"event_id": event_id, "deliveries": results})


async def crc(request: web.Request) -> web.Response:
    """Send a CRC GET to ``url`` (default: every registered webhook), as X does hourly."""
    state = request.app[STATE_KEY]
    body = await _body(request)
    url = _optional_str(body, "url")
    urls = [url] if url else sorted({w.url for w in state.webhooks.values()})
    if not urls:
        raise ControlError("no webhook registered and no `url` given")
    results = []
    for target in urls:
        result = await request.app[DISPATCHER_KEY].crc_check(target)
        for webhook in state.webhooks.values():
            if webhook.url == target:
                webhook.valid = result["valid"]  # X disables a webhook that fails its CRC
        results.append(result)
    return web.json_response({"valid": all(r["valid"] for r in results), "results": results})


def _last(request: web.Request, items: list) -> list:
    """``?limit=N``: only the N most recent items."""
    raw = request.query.get("limit")
    if raw is None:
        return items
    if not raw.isdigit():
        raise ControlError("`limit` must be a non-negative integer")
    return items[-int(raw):] if int(raw) else []


async def deliveries(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    return web.json_response([d.as_json() for d in _last(request, state.deliveries)])


# Faults and limits


async def add_fault(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    body = await _body(request)
    status = body.get("status")
    if status not in FAULT_STATUSES:
        raise ControlError(f"`status` must be one of {list(FAULT_STATUSES)}")
    prefix = body.get("path_prefix", "/2/")
    if not isinstance(prefix, str) or not prefix.startswith("/2/"):
        raise ControlError("`path_prefix` must start with /2/")
    method = body.get("method")
    if method is not None and method not in ("GET", "POST", "PUT", "DELETE"):
        raise ControlError("`method` must be GET, POST, PUT or DELETE")
    count, seconds = body.get("count"), body.get("seconds")
    if count is not None and (not isinstance(count, int) or count < 1):
        raise ControlError("`count` must be a positive integer")
    if seconds is not None and (not isinstance(seconds, (int, float)) or seconds <= 0):
        raise ControlError("`seconds` must be a positive number")
    reset_in = body.get("reset_in", 3)
    if not isinstance(reset_in, int) or reset_in < 0:
        raise ControlError("`reset_in` must be a non-negative integer")
    fault = Fault(status=status, path_prefix=prefix, method=method,
                  remaining=count if count is not None else (None if seconds else 1),
                  until=state.clock() + seconds if seconds else None, reset_in=reset_in)
    state.faults.append(fault)
    logger.info("x_sandbox.fault.added status=%s path_prefix=%s", status, prefix)
    return web.json_response({"fault": fault.as_json()})


async def list_faults(request: web.Request) -> web.Response:
    return web.json_response([f.as_json() for f in request.app[STATE_KEY].faults])


async def clear_faults(request: web.Request) -> web.Response:
    request.app[STATE_KEY].faults.clear()
    return web.json_response({"faults": []})


async def set_dm_closed(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    body = await _body(request)
    user_id = _optional_id(body, "user_id")
    if user_id is None:
        raise ControlError("`user_id` is required")
    if body.get("closed", True):
        state.dm_closed.add(user_id)
    else:
        state.dm_closed.discard(user_id)
    return web.json_response({"user_id": user_id, "closed": user_id in state.dm_closed})


async def set_rate_limits(request: web.Request) -> web.Response:
    """``{"limits": {"users_me": 3}, "reset": true}``: change limits, restart windows."""
    state = request.app[STATE_KEY]
    body = await _body(request)
    limits = body.get("limits", {})
    if not isinstance(limits, dict):
        raise ControlError("`limits` must be an object")
    for key, limit in limits.items():
        if key not in LIMIT_KEYS or not isinstance(limit, int) or limit < 0:
            raise ControlError(f"bad limit {key!r}: keys are {sorted(LIMIT_KEYS)}")
        state.limiter.set_limit(key, limit)
    if body.get("reset"):
        state.limiter.reset()
    return web.json_response({"rate_limits": state.limiter.limits})


async def usage(request: web.Request) -> web.Response:
    """Billable calls counted with the limits file's prices, and their cost in US dollars."""
    return web.json_response(request.app[STATE_KEY].usage.report())


async def reset_usage(request: web.Request) -> web.Response:
    """Start counting again; answers the report as it was before the reset."""
    meter = request.app[STATE_KEY].usage
    report = meter.report()
    meter.reset()
    return web.json_response(report)


# What happened


async def outbox(request: web.Request) -> web.Response:
    """``?since_id=N``: only what was sent after the item ``N`` (for pollers)."""
    raw = request.query.get("since_id", "0")
    if not raw.isdigit():
        raise ControlError("`since_id` must be a non-negative integer")
    return web.json_response(request.app[STATE_KEY].outbox(int(raw)))


async def requests_log(request: web.Request) -> web.Response:
    records = list(request.app[STATE_KEY].requests)
    return web.json_response([r.as_json() for r in _last(request, records)])


async def dm_log(request: web.Request) -> web.Response:
    """DM events oldest first, all or those with ``?user_id=``."""
    state = request.app[STATE_KEY]
    user_id = request.query.get("user_id")
    account_id = state.account.id
    events = [ev for ev in state.dm_events
              if user_id is None or user_id in (ev.sender_id, ev.recipient_id)]
    return web.json_response([{
        "id": ev.id,
        "from": "account" if ev.sender_id == account_id else "user",
        "sender_id": ev.sender_id,
        "recipient_id": ev.recipient_id,
        "text": ev.text,
        "quick_reply_payload": ev.quick_reply_payload,
        "created_at": iso_millis(ev.created_at),
    } for ev in events])


async def tweets(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    return web.json_response([{
        "id": t.id,
        "author_id": t.author_id,
        "username": state.users[t.author_id].username,
        "text": t.text,
        "in_reply_to_tweet_id": t.in_reply_to_tweet_id,
        "retweet_of_id": t.retweet_of_id,
        "by_account": t.author_id == state.account.id,
        "created_at": iso_millis(t.created_at),
    } for t in state.tweets.values()])


async def reset(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    body = await _body(request)
    state.reset(webhooks=bool(body.get("webhooks")))
    logger.info("x_sandbox.reset webhooks=%s", bool(body.get("webhooks")))
    return web.json_response({"reset": True})


def add_control_routes(app: web.Application) -> None:
    router = app.router
    router.add_get("/", page)
    router.add_get("/_control/info", info)
    router.add_get("/_control/users", list_users)
    router.add_post("/_control/users", create_user)
    router.add_post("/_control/dm", post_dm)
    router.add_post("/_control/tweet", post_tweet)
    router.add_post("/_control/chat", post_chat)
    router.add_get("/_control/stream", stream_control)
    router.add_post("/_control/stream", stream_control)
    router.add_post("/_control/redeliver", redeliver)
    router.add_post("/_control/crc", crc)
    router.add_get("/_control/deliveries", deliveries)
    router.add_post("/_control/faults", add_fault)
    router.add_get("/_control/faults", list_faults)
    router.add_delete("/_control/faults", clear_faults)
    router.add_post("/_control/dm_closed", set_dm_closed)
    router.add_post("/_control/rate_limits", set_rate_limits)
    router.add_get("/_control/usage", usage)
    router.add_delete("/_control/usage", reset_usage)
    router.add_get("/_control/outbox", outbox)
    router.add_get("/_control/requests", requests_log)
    router.add_get("/_control/dm_log", dm_log)
    router.add_get("/_control/tweets", tweets)
    router.add_post("/_control/reset", reset)
