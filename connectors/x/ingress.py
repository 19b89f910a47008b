"""The X webhook on a thread of its own, so that acknowledging X never waits behind inference.

Rasa runs NLU and the policies on the server's event loop. A webhook answered on that loop waits
behind them when many people write at once, and X retries, then disables, slow webhooks. With
``ingress_port`` set, this thread serves ``/webhooks/x/webhook`` (CRC and POST) with its own
event loop (aiohttp) on ``ingress_host:ingress_port``: it checks the request
(``connectors/x/webhook.py``), writes the events to the durable inbox, answers 200, and wakes
the inbox workers on Rasa's loop. Rasa's own route keeps working on the main port. In
production the reverse proxy sends X's webhook to the ingress port.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import TYPE_CHECKING

from aiohttp import web

from connectors.x.webhook import check_crc, check_post

if TYPE_CHECKING:
    from connectors.x.runtime import XRuntime

logger = logging.getLogger(__name__)

PATH = "/webhooks/x/webhook"
START_TIMEOUT_SECONDS = 10.0


class WebhookIngress:
    def __init__(self, runtime: XRuntime) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def start(self) -> None:
        """Start the thread and return once it listens (raises if it could not)."""
        self._thread = threading.Thread(target=self._run, name="x-ingress", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_SECONDS):
            raise RuntimeError("x ingress did not start in time")
        if self._error is not None:
            raise RuntimeError(f"x ingress could not start: {self._error}") from self._error

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=10)
        logger.info("x.ingress.stopped")

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # noqa: BLE001 - reported to start() through _error
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        app = web.Application(client_max_size=self.settings.max_body_bytes)
        app.router.add_get(PATH, self._crc)
        app.router.add_post(PATH, self._post)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.settings.ingress_host, self.settings.ingress_port)
            await site.start()
            logger.info("x.ingress.listening port=%d", self.settings.ingress_port)
            self._ready.set()
            await self._stop.wait()
        finally:
            await runner.cleanup()

    async def _crc(self, request: web.Request) -> web.Response:
        verdict = check_crc(self.settings, request.query.get("crc_token"))
        return web.json_response(verdict.body, status=verdict.status)

    async def _post(self, request: web.Request) -> web.Response:
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            logger.info("x.webhook.too_large")
            return web.json_response({"error": "body too large"}, status=413)
        headers = {k.lower(): v for k, v in request.headers.items()}
        runtime = self.runtime
        verdict = check_post(self.settings, raw, headers,
                             runtime.account_id if runtime.ready else None)
        if verdict.status != 200:
            return web.json_response(verdict.body, status=verdict.status)
        try:
            loop = asyncio.get_running_loop()
            added = await loop.run_in_executor(None, runtime.accept_from_thread, verdict.events)
        except Exception:  # noqa: BLE001 - the boundary: X must see a failure, not 200
            logger.exception("x.webhook.store_failed")
            return web.json_response({"error": "not stored"}, status=500)
        log = logger.info if verdict.events else logger.debug
        log("x.webhook.accepted events=%d new=%d via=ingress", len(verdict.events), added)
        return web.json_response(verdict.body)
