"""The X channel for Rasa: ``XInput`` and its routes.

Three modes (``mode:`` in the credentials): ``webhook``, X posts each event to the routes below;
``stream``, for a firm without a public HTTPS address, the runtime reads X's persistent activity
stream (``connectors/x/stream.py``); ``polling``, the fallback for accounts without either, the
runtime's poller reads X's lists (``connectors/x/polling.py``). The routes stay in every mode,
and an event that comes two ways is stored once.

``/webhooks/x/webhook``:

- ``GET ?crc_token=T`` answers X's CRC check with ``{"response_token": ...}``: 400 without T
  or when T is not of X's shape (the answer would sign any text, a forged body included), 429
  beyond ``crc_burst`` requests at once and ``crc_per_second`` on average.
- ``POST`` takes an Account Activity (or X Activity API) batch: signature over the raw body
  (403 if missing or wrong, nothing stored), 413 over ``max_body_bytes``, 400 if the body is
  not JSON of the documented shape, 503 until the account is known. Every DM and every tweet
  meant for us, dated within ``max_event_age_seconds`` (``connectors/x/inbox.py``), is written
  to the durable inbox, then 200 at once: Rasa is fed from the inbox
  by the runtime's workers (``connectors/x/runtime.py``), never inside the request.

Nothing happens at import time: the store, the API client and the tasks are created in
sanic's ``after_server_start`` and stopped in ``before_server_stop``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.x.config import XSettings
from connectors.x.output import XOutput
from connectors.x.runtime import XRuntime
from connectors.x.webhook import CrcLimiter, check_crc, check_post
from permanence.priority import LAWYER

logger = logging.getLogger(__name__)


class XInput(InputChannel):
    """X direct messages and public mentions, through X's webhooks or by polling."""

    @classmethod
    def name(cls) -> str:
        return "x"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls(XSettings.from_credentials(credentials))

    def __init__(self, settings: XSettings) -> None:
        self.settings = settings
        self.runtime: XRuntime | None = None

    def get_output_channel(self) -> OutputChannel | None:
        """Pushes (the lawyer's desk: a reply, a hand-back; Rasa's HTTP API) go through the
        outbox like any reply, first in line when the DM budget is short (``LAWYER``)."""
        if self.runtime is None:
            return None
        return XOutput(self.runtime, priority=LAWYER)

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        x_webhook = Blueprint("x_webhook", __name__)
        runtime = XRuntime(self.settings, on_new_message)
        self.runtime = runtime
        settings = self.settings
        crc_limiter = CrcLimiter.for_settings(settings)

        @x_webhook.listener("after_server_start")
        async def start(app: Any, loop: Any) -> None:
            await runtime.start(app)

        @x_webhook.listener("before_server_stop")
        async def stop(app: Any, loop: Any) -> None:
            await runtime.stop()

        @x_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            streamer = runtime.streamer
            return response.json({"status": "ok", "ready": runtime.ready,
                                  "mode": settings.mode,
                                  "stream_connected": bool(streamer and streamer.connected)})

        @x_webhook.route("/webhook", methods=["GET"])
        async def crc(request: Request) -> HTTPResponse:
            verdict = check_crc(settings, request.args.get("crc_token"), crc_limiter)
            return response.json(verdict.body, status=verdict.status)

        @x_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            headers = {k.lower(): v for k, v in request.headers.items()}
            verdict = check_post(settings, request.body or b"", headers,
                                 runtime.account_id if runtime.ready else None)
            if verdict.status != 200:
                return response.json(verdict.body, status=verdict.status)
            try:
                added = await runtime.accept(verdict.events, delivered=verdict.delivered,
                                             chats=verdict.chats)
            except Exception:  # noqa: BLE001 - the boundary: X must see a failure, not 200
                logger.exception("x.webhook.store_failed")
                return response.json({"error": "not stored"}, status=500)
            # Batches without events for us (the account's own echoes, typing...) are noise.
            log = logger.info if verdict.events else logger.debug
            log("x.webhook.accepted events=%d new=%d stale=%d", len(verdict.events), added,
                verdict.stale)
            return response.json(verdict.body)

        return x_webhook
