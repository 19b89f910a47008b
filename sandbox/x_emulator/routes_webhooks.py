"""V2 Webhooks API and Account Activity subscriptions (what ``make x-register`` needs)."""

from __future__ import annotations

import logging
from http import HTTPStatus
from urllib.parse import urlsplit

from aiohttp import web

from .appkeys import DISPATCHER_KEY, STATE_KEY
from .errors import ApiError, invalid_request, json_response
from .params import json_body
from .state import EmulatorState, Webhook

logger = logging.getLogger(__name__)


def _aaa_error(status: int, reason: str, detail: str) -> ApiError:
    return ApiError(status, {
        "errors": [{"message": f"{reason}: {detail}"}],
        "title": HTTPStatus(status).phrase, "detail": detail, "type": "about:blank",
        "status": status,
    })


def _webhook(state: EmulatorState, webhook_id: str) -> Webhook:
    webhook = state.webhooks.get(webhook_id)
    if webhook is None:
        raise _aaa_error(400, "WebhookIdInvalid",
                         f"The webhook id [{webhook_id}] was not found for this application.")
    return webhook


async def create_webhook(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    url = (await json_body(request)).get("url")
    if not isinstance(url, str) or not 1 <= len(url) <= 200:
        raise invalid_request("$.url: must be a string of 1 to 200 characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        # X also refuses http:// and explicit ports; the sandbox must accept them.
        raise _aaa_error(400, "UrlValidationFailed", "The URL is not a valid http(s) URL.")
    if any(webhook.url == url for webhook in state.webhooks.values()):
        raise _aaa_error(400, "DuplicateUrlFailed", "A webhook is already registered for "
                                                    "this URL.")
    if len(state.webhooks) >= state.config.max_webhooks:
        raise _aaa_error(400, "WebhookLimitExceeded", "Too many webhooks for this application.")
    crc = await request.app[DISPATCHER_KEY].crc_check(url)
    if not crc["valid"]:
        raise _aaa_error(400, "CrcValidationFailed",
                         f"The webhook did not pass the CRC check ({crc['error']}).")
    webhook = state.add_webhook(url)
    logger.info("x_sandbox.webhook.created webhook_id=%s", webhook.id)
    return json_response({"data": webhook.as_json()})


async def list_webhooks(request: web.Request) -> web.Response:
    webhooks = [w.as_json() for w in request.app[STATE_KEY].webhooks.values()]
    return json_response({"data": webhooks, "meta": {"result_count": len(webhooks)}})


async def delete_webhook(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    webhook = _webhook(state, request.match_info["webhook_id"])
    del state.webhooks[webhook.id]
    state.activity.forget_webhook(webhook.id)
    logger.info("x_sandbox.webhook.deleted webhook_id=%s", webhook.id)
    return json_response({"data": {"deleted": True}})


async def validate_webhook(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    webhook = _webhook(state, request.match_info["webhook_id"])
    crc = await request.app[DISPATCHER_KEY].crc_check(webhook.url)
    webhook.valid = crc["valid"]
    return json_response({"data": {"valid": webhook.valid}})


async def create_subscription(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    webhook = _webhook(state, request.match_info["webhook_id"])
    await json_body(request)
    if state.account.id in webhook.subscribed:
        raise _aaa_error(409, "DuplicateSubscriptionFailed",
                         "The user is already subscribed to this webhook.")
    webhook.subscribed.add(state.account.id)
    logger.info("x_sandbox.subscription.created webhook_id=%s", webhook.id)
    return json_response({"data": {"subscribed": True}})


async def check_subscription(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    webhook = _webhook(state, request.match_info["webhook_id"])
    return json_response({"data": {"subscribed": state.account.id in webhook.subscribed}})


async def list_subscriptions(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    webhook = _webhook(state, request.match_info["webhook_id"])
    return json_response({"data": {
        "application_id": state.config.app_id,
        "webhook_id": webhook.id,
        "webhook_url": webhook.url,
        "subscriptions": [{"user_id": user_id} for user_id in sorted(webhook.subscribed)],
    }})


async def delete_subscription(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    webhook = _webhook(state, request.match_info["webhook_id"])
    user_id = request.match_info["user_id"]
    if user_id not in webhook.subscribed:
        raise _aaa_error(400, "SubscriptionNotFound",
                         f"No subscription for user [{user_id}] on this webhook.")
    webhook.subscribed.discard(user_id)
    return json_response({"data": {"subscribed": False}})
