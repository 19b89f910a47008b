"""The X webhook served apart from Rasa's event loop, so acknowledging X never waits behind
inference.

Rasa runs NLU and the policies on the server's event loop. A webhook answered on that loop waits
behind them when many people write at once, and X retries, then disables, slow webhooks. This
module serves ``/webhooks/x/webhook`` (CRC and POST) with an event loop of its own (aiohttp): it
checks the request (``connectors/x/webhook.py``), writes the events to the durable inbox and
answers 200. Two ways to run it:

- **A separate process** (recommended): ``python -m connectors.x.ingress --port 5006``, with the
  X secrets in the environment and the same ``PERMANENCE_DATABASE_URL``. It shares no
  interpreter (no GIL) with inference; the Rasa process's inbox workers pick the events up from
  the database (they look every ``POLL_SECONDS``). The account is read from the database, where
  the Rasa process publishes it, or from ``X_ACCOUNT_ID`` / ``X_ACCOUNT_USERNAME``.
- **A thread of the Rasa process** (``ingress_port`` in the channel's credentials; the thread
  is the generic ``channels/ingress.py``, this module gives it X's routes). Measured with
  ``bench/ack.py``: a thread still competes with inference for the interpreter, so its p99 was
  no better than Rasa's own route; it is kept for single-process set-ups.

In production the reverse proxy sends X's webhook to the ingress.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import logging
import os
import sys
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from aiohttp import web

from channels.ingress import IngressThread
from channels.store import Store, utcnow
from connectors.x.config import XSettings
from connectors.x.inbox import (
    ACCOUNT_CURSOR,
    delivered_charges,
    inbox_rows,
    person_ref,
    record_chats,
)
from connectors.x.payloads import EncryptedChat
from connectors.x.webhook import CrcLimiter, check_crc, check_post
from permanence.settings import x_database_url

if TYPE_CHECKING:
    from connectors.x.runtime import XRuntime

logger = logging.getLogger(__name__)

PATH = "/webhooks/x/webhook"


class StandaloneSink:
    """What the ingress needs of a runtime, in a process of its own: the store and the account."""

    def __init__(self, settings: XSettings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.account_id = settings.account_id
        self.account_username = settings.account_username
        self.meter = settings.cost_meter()

    @property
    def ready(self) -> bool:
        if not (self.account_id and self.account_username):
            published = self.store.cursor_get(ACCOUNT_CURSOR)
            if published:
                account = json.loads(published)
                self.account_id, self.account_username = account["id"], account["username"]
        return bool(self.account_id and self.account_username)

    def accept_from_thread(self, events: list, *, delivered: list | None = None,
                           chats: Sequence[EncryptedChat] = ()) -> int:
        if chats:
            record_chats(self.store, chats, self.settings, utcnow())
        rows = inbox_rows(events, self.settings, self.account_id or "",
                          self.account_username or "")
        charges = delivered_charges(self.meter, events if delivered is None else delivered,
                                    utcnow())
        if not rows and not charges:
            return 0
        added = self.store.inbox_add_many(rows, costs=charges)
        for row, new in zip(rows, added, strict=True):
            logger.info("x.inbox.%s event_id=%s sender=%s via=ingress",
                        "added" if new else "duplicate", row.event_id,
                        person_ref(row.sender_id))
        return sum(added)


class WebhookIngress(IngressThread):
    """X's webhook routes (CRC and POST) on the generic ingress thread (``channels/ingress.py``)."""

    channel = "x"

    def __init__(self, runtime: XRuntime | StandaloneSink) -> None:
        settings = runtime.settings
        super().__init__(settings.ingress_host, settings.ingress_port, settings.max_body_bytes)
        self.runtime = runtime
        self.settings = settings
        self.crc_limiter = CrcLimiter.for_settings(settings)

    def routes(self, app: web.Application) -> None:
        app.router.add_get(PATH, self._crc)
        app.router.add_post(PATH, self._post)

    async def _crc(self, request: web.Request) -> web.Response:
        verdict = check_crc(self.settings, request.query.get("crc_token"), self.crc_limiter)
        return web.json_response(verdict.body, status=verdict.status)

    async def _post(self, request: web.Request) -> web.Response:
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            logger.info("x.webhook.too_large")
            return web.json_response({"error": "body too large"}, status=413)
        headers = {k.lower(): v for k, v in request.headers.items()}
        runtime = self.runtime
        loop = asyncio.get_running_loop()
        ready = await loop.run_in_executor(None, lambda: runtime.ready)
        verdict = check_post(self.settings, raw, headers, runtime.account_id if ready else None)
        if verdict.status != 200:
            return web.json_response(verdict.body, status=verdict.status)
        try:
            added = await loop.run_in_executor(None, functools.partial(
                runtime.accept_from_thread, verdict.events, delivered=verdict.delivered,
                chats=verdict.chats))
        except Exception:  # noqa: BLE001 - the boundary: X must see a failure, not 200
            logger.exception("x.webhook.store_failed")
            return web.json_response({"error": "not stored"}, status=500)
        log = logger.info if verdict.events else logger.debug
        log("x.webhook.accepted events=%d new=%d stale=%d via=ingress", len(verdict.events),
            added, verdict.stale)
        return web.json_response(verdict.body)


# Optional settings of the process, from X_<KEY> in the environment (as in the credentials).
OPTIONAL_ENV = ("max_event_age_seconds", "max_event_skew_seconds", "crc_per_second",
                "crc_burst")


def settings_from_env() -> XSettings:
    env = os.environ
    optional = {key: env[f"X_{key.upper()}"] for key in OPTIONAL_ENV
                if env.get(f"X_{key.upper()}")}
    return XSettings.from_credentials({
        "consumer_key": env.get("X_CONSUMER_KEY"),
        "consumer_secret": env.get("X_CONSUMER_SECRET"),
        "access_token": env.get("X_ACCESS_TOKEN"),
        "access_token_secret": env.get("X_ACCESS_TOKEN_SECRET"),
        "hashtags": env.get("X_HASHTAGS", "droitautweet"),
        "account_id": env.get("X_ACCOUNT_ID"),
        "account_username": env.get("X_ACCOUNT_USERNAME"),
        "prices_file": env.get("X_PRICES_FILE"),
        **optional,
    })


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The X webhook as a process of its own.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5006)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = settings_from_env()
    settings = XSettings(**{**settings.__dict__, "ingress_host": args.host,
                            "ingress_port": args.port})
    store = Store.create(x_database_url())
    ingress = WebhookIngress(StandaloneSink(settings, store))
    ingress.start()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        ingress.stop()
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
