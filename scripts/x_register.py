"""Subscribe the firm's X account to what the assistant answers, idempotently (`make x-register`).

    make x-register                                                        # for mode: stream
    X_WEBHOOK_URL=https://bot.example.fr/webhooks/x/webhook make x-register  # for mode: webhook

X Activity API (XAA, the default; ``connectors/x/activity.py`` has the wire formats):

1. The account's id: ``X_ACCOUNT_ID``, else ``GET /2/users/me`` (the account's OAuth 1.0a
   user context).
2. With a webhook URL: ``GET /2/webhooks`` (app bearer token). A URL already registered is
   reused, re-validated with ``PUT /2/webhooks/<id>`` (a new CRC check) if X marked it invalid;
   otherwise ``POST /2/webhooks`` registers it and X checks it with a CRC request: the
   assistant must be running and reachable at that URL. Without a URL, nothing is registered:
   the events go only to the persistent stream (``mode: stream``), which needs no public
   address.
3. ``GET /2/activity/subscriptions`` (bearer), then only what is missing:
   ``POST /2/activity/subscriptions`` (user context: DMs and mentions are private events) for
   ``dm.received`` and ``post.mention.create`` of the account (and ``chat.received`` with
   ``--chat``, to count the encrypted X Chat messages the assistant cannot read), to the
   webhook if any; ``PUT /2/activity/subscriptions/<id>`` (bearer) for one that delivers to
   another webhook.
4. It lists what is subscribed.

Running it twice creates nothing the second time. It prints a JSON summary; on an error it
exits with 1 and the API's answer (status and X's error title, never a secret).

``--intake aaa`` keeps the Account Activity API path (``/2/account_activity/webhooks/<id>/
subscriptions/all``) while X serves it: it ends on 2027-01-01, and from that day the script
says so (``permanence/clock.py``: ``PERMANENCE_FROZEN_NOW`` moves the day for tests).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import requests
from requests_oauthlib import OAuth1

from connectors.x import activity
from connectors.x.payloads import MalformedPayload
from permanence import clock

TIMEOUT = 30
MAX_PAGES = 20
logger = logging.getLogger("x_register")


class RegistrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Credentials:
    consumer_key: str
    consumer_secret: str
    access_token: str
    access_token_secret: str
    bearer_token: str

    @classmethod
    def from_env(cls) -> Credentials:
        names = {
            "consumer_key": "X_CONSUMER_KEY",
            "consumer_secret": "X_CONSUMER_SECRET",
            "access_token": "X_ACCESS_TOKEN",
            "access_token_secret": "X_ACCESS_TOKEN_SECRET",
            "bearer_token": "X_BEARER_TOKEN",
        }
        missing = [env for env in names.values() if not os.environ.get(env)]
        if missing:
            raise RegistrationError(f"missing environment variables: {', '.join(missing)}")
        return cls(**{field: os.environ[env] for field, env in names.items()})


class Api:
    """The X API with the app's bearer token or the account's user context."""

    def __init__(self, base: str, creds: Credentials, http: requests.Session) -> None:
        self.base = base.rstrip("/")
        self.http = http
        self.bearer = {"Authorization": f"Bearer {creds.bearer_token}"}
        self.user = OAuth1(creds.consumer_key, creds.consumer_secret, creds.access_token,
                           creds.access_token_secret)

    def call(self, what: str, method: str, route: str, *, user: bool = False,
             **kwargs: object) -> dict:
        auth = {"auth": self.user} if user else {"headers": self.bearer}
        response = self.http.request(method, self.base + route, timeout=TIMEOUT, **auth,
                                     **kwargs)
        return _check(response, what)


def _check(response: requests.Response, what: str) -> dict:
    if response.status_code >= 400:
        try:
            body = response.json()
            detail = body.get("title") or body.get("detail") or body.get("errors")
        except ValueError:
            detail = response.text[:200]
        raise RegistrationError(f"{what}: HTTP {response.status_code} {detail}")
    return response.json() if response.content else {}


def ensure_webhook(api: Api, webhook_url: str) -> tuple[str, bool, bool]:
    """The id of the webhook registered for ``webhook_url``, and whether it was created or
    re-validated now."""
    listed = api.call("listing webhooks", "GET", activity.WEBHOOKS_ROUTE)
    existing = [w for w in listed.get("data") or [] if w.get("url") == webhook_url]
    if existing:
        webhook_id = str(existing[0]["id"])
        if existing[0].get("valid") is False:
            api.call("re-validating the webhook", "PUT",
                     f"{activity.WEBHOOKS_ROUTE}/{webhook_id}")
            return webhook_id, False, True
        return webhook_id, False, False
    answer = api.call("registering the webhook", "POST", activity.WEBHOOKS_ROUTE,
                      json={"url": webhook_url})
    return str(answer["data"]["id"]), True, False


def list_subscriptions(api: Api) -> list[activity.Subscription]:
    found: list[activity.Subscription] = []
    token: str | None = None
    for _ in range(MAX_PAGES):
        params = {"max_results": "1000", **({"pagination_token": token} if token else {})}
        body = api.call("listing subscriptions", "GET", activity.SUBSCRIPTIONS_ROUTE,
                        params=params)
        page, token = activity.parse_subscriptions(body)
        found += page
        if not token:
            return found
    raise RegistrationError("listing subscriptions: too many pages")


def account_id(api: Api) -> str:
    known = os.environ.get("X_ACCOUNT_ID")
    if known:
        return known
    me = api.call("reading the account (GET /2/users/me)", "GET", "/2/users/me", user=True)
    return str(me["data"]["id"])


def register_xaa(api: Api, webhook_url: str | None, chat: bool = False) -> dict:
    user_id = account_id(api)
    webhook_id, created, revalidated = (ensure_webhook(api, webhook_url) if webhook_url
                                        else (None, False, False))
    event_types = activity.INTAKE_EVENT_TYPES + (activity.CHAT_EVENT_TYPES if chat else ())
    wanted = activity.wanted_subscriptions(user_id, webhook_id, event_types)
    plan = activity.plan_subscriptions(wanted, list_subscriptions(api))
    for want in plan.create:
        api.call(f"subscribing to {want.event_type}", "POST", activity.SUBSCRIPTIONS_ROUTE,
                 user=True, json=activity.create_body(want))
    for subscription_id, target in plan.update:
        api.call("sending a subscription to the webhook", "PUT",
                 f"{activity.SUBSCRIPTIONS_ROUTE}/{subscription_id}",
                 json=activity.update_body(target))
    subscribed = list_subscriptions(api)
    return {
        "intake": "xaa",
        "delivery": "webhook" if webhook_url else "stream",
        "account_id": user_id,
        "webhook_id": webhook_id,
        "webhook_url": webhook_url,
        "created": created,
        "revalidated": revalidated,
        "subscriptions_created": len(plan.create),
        "subscriptions_updated": len(plan.update),
        "subscriptions": [
            {"subscription_id": s.subscription_id, "event_type": s.event_type,
             "user_id": s.user_id, "webhook_id": s.webhook_id}
            for s in subscribed if s.user_id == user_id],
    }


def register_aaa(api: Api, webhook_url: str) -> dict:
    """The Account Activity API path (end of life 2027-01-01)."""
    webhook_id, created, revalidated = ensure_webhook(api, webhook_url)
    path = f"/2/account_activity/webhooks/{webhook_id}/subscriptions/all"
    status = api.call("checking the subscription", "GET", path, user=True)
    already = bool((status.get("data") or {}).get("subscribed"))
    if not already:
        api.call("subscribing the account", "POST", path, user=True)
    return {
        "intake": "aaa",
        "webhook_id": webhook_id,
        "webhook_url": webhook_url,
        "created": created,
        "revalidated": revalidated,
        "subscribed": True,
        "already_subscribed": already,
    }


def register(api_base_url: str, webhook_url: str | None, creds: Credentials,
             intake: str = "xaa", chat: bool = False,
             now: Callable[[], datetime] = clock.now) -> dict:
    with requests.Session() as http:
        api = Api(api_base_url, creds, http)
        if intake == "xaa":
            return register_xaa(api, webhook_url, chat)
        warning = activity.aaa_warning(now())
        if warning:
            logger.warning("x.register.aaa_after_end %s", warning)
        if not webhook_url:
            raise RegistrationError("the Account Activity API needs a webhook URL")
        summary = register_aaa(api, webhook_url)
        if warning:
            summary["warning"] = warning
        return summary


def main(argv: list[str] | None = None, now: Callable[[], datetime] = clock.now) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--webhook-url", default=os.environ.get("X_WEBHOOK_URL") or None,
                        help="the public HTTPS address of /webhooks/x/webhook (mode: webhook); "
                             "without it, the events go to the stream only (mode: stream)")
    parser.add_argument("--api-base-url",
                        default=os.environ.get("X_API_BASE_URL", "https://api.twitter.com"))
    parser.add_argument("--intake", choices=("xaa", "aaa"), default="xaa",
                        help="xaa: X Activity API (default); aaa: Account Activity API, "
                             "which ends on 2027-01-01")
    parser.add_argument("--chat", action="store_true",
                        help="also subscribe to chat.received, to count the encrypted X Chat "
                             "messages the assistant cannot read")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    try:
        summary = register(args.api_base_url, args.webhook_url, Credentials.from_env(),
                           args.intake, args.chat, now)
    except (RegistrationError, MalformedPayload, requests.RequestException) as error:
        print(json.dumps({"error": str(error)}, ensure_ascii=False))
        return 1
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
