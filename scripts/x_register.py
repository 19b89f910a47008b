"""Register the X webhook URL and subscribe the firm's account, idempotently (`make x-register`).

    X_WEBHOOK_URL=https://bot.example.fr/webhooks/x/webhook make x-register

1. ``GET /2/webhooks`` (app bearer token). If the URL is already registered, its id is reused,
   and a webhook X marked invalid is re-validated with ``PUT /2/webhooks/<id>`` (a new CRC
   check). Otherwise ``POST /2/webhooks`` registers it, and X checks it with a CRC request:
   the assistant must be running and reachable at that URL.
2. ``GET /2/account_activity/webhooks/<id>/subscriptions/all`` (the account's OAuth 1.0a user
   context). The account is subscribed with a ``POST`` to the same path only if it is not
   subscribed yet.

Running it twice changes nothing the second time. It prints a JSON summary; on an error it exits
with 1 and the API's answer (status and X's error title, never a secret).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass

import requests
from requests_oauthlib import OAuth1

TIMEOUT = 30


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


def _check(response: requests.Response, what: str) -> dict:
    if response.status_code >= 400:
        try:
            body = response.json()
            detail = body.get("title") or body.get("detail") or body.get("errors")
        except ValueError:
            detail = response.text[:200]
        raise RegistrationError(f"{what}: HTTP {response.status_code} {detail}")
    return response.json() if response.content else {}


def register(api_base_url: str, webhook_url: str, creds: Credentials) -> dict:
    base = api_base_url.rstrip("/")
    bearer = {"Authorization": f"Bearer {creds.bearer_token}"}
    user = OAuth1(creds.consumer_key, creds.consumer_secret, creds.access_token,
                  creds.access_token_secret)
    with requests.Session() as http:
        listed = _check(http.get(f"{base}/2/webhooks", headers=bearer, timeout=TIMEOUT),
                        "listing webhooks")
        existing = [w for w in listed.get("data") or [] if w.get("url") == webhook_url]
        created = revalidated = False
        if existing:
            webhook_id = existing[0]["id"]
            if existing[0].get("valid") is False:
                _check(http.put(f"{base}/2/webhooks/{webhook_id}", headers=bearer,
                                timeout=TIMEOUT), "re-validating the webhook")
                revalidated = True
        else:
            answer = _check(http.post(f"{base}/2/webhooks", json={"url": webhook_url},
                                      headers=bearer, timeout=TIMEOUT), "registering the webhook")
            webhook_id = answer["data"]["id"]
            created = True
        path = f"{base}/2/account_activity/webhooks/{webhook_id}/subscriptions/all"
        status = _check(http.get(path, auth=user, timeout=TIMEOUT), "checking the subscription")
        already = bool((status.get("data") or {}).get("subscribed"))
        if not already:
            _check(http.post(path, auth=user, timeout=TIMEOUT), "subscribing the account")
    return {
        "webhook_id": webhook_id,
        "webhook_url": webhook_url,
        "created": created,
        "revalidated": revalidated,
        "subscribed": True,
        "already_subscribed": already,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--webhook-url", default=os.environ.get("X_WEBHOOK_URL"))
    parser.add_argument("--api-base-url",
                        default=os.environ.get("X_API_BASE_URL", "https://api.twitter.com"))
    args = parser.parse_args(argv)
    try:
        if not args.webhook_url:
            raise RegistrationError("give --webhook-url or set X_WEBHOOK_URL")
        summary = register(args.api_base_url, args.webhook_url, Credentials.from_env())
    except (RegistrationError, requests.RequestException) as error:
        print(json.dumps({"error": str(error)}, ensure_ascii=False))
        return 1
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
