"""``IngressThread``: a channel's pushed events served apart from Rasa's event loop.

Rasa runs NLU and the policies on the server's event loop. A webhook answered on that loop waits
behind them when many people write at once, and platforms retry, then disable, slow webhooks.
An ingress thread serves the channel's routes (aiohttp) with an event loop of its own: it checks
each request, writes the events to the durable inbox (``ChannelRuntime.accept_rows_from_thread``,
which wakes the workers on the runtime's loop) and answers at once.

A subclass adds its routes (:meth:`routes`); X's is ``connectors/x/ingress.py`` (which also
runs as a process of its own, the recommended door: it shares no interpreter with inference).
"""

from __future__ import annotations

import asyncio
import logging
import threading

from aiohttp import web

logger = logging.getLogger(__name__)

START_TIMEOUT_SECONDS = 10.0
STOP_TIMEOUT_SECONDS = 10.0


class IngressThread:
    """An aiohttp server on ``host:port``, on thread ``<channel>-ingress``."""

    channel: str = ""  # a subclass names its channel (logs, the thread's name)

    def __init__(self, host: str, port: int, max_body_bytes: int) -> None:
        self.host = host
        self.port = port
        self.max_body_bytes = max_body_bytes
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def routes(self, app: web.Application) -> None:
        """Add the channel's routes to ``app``."""
        raise NotImplementedError

    def start(self) -> None:
        """Start the thread and return once it listens (raises if it could not)."""
        self._thread = threading.Thread(target=self._run, name=f"{self.channel}-ingress",
                                        daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_SECONDS):
            raise RuntimeError(f"{self.channel} ingress did not start in time")
        if self._error is not None:
            raise RuntimeError(f"{self.channel} ingress could not start: {self._error}"
                               ) from self._error

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=STOP_TIMEOUT_SECONDS)
        logger.info("%s.ingress.stopped", self.channel)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # noqa: BLE001 - reported to start() through _error
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        app = web.Application(client_max_size=self.max_body_bytes)
        self.routes(app)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port)
            await site.start()
            logger.info("%s.ingress.listening port=%d", self.channel, self.port)
            self._ready.set()
            await self._stop.wait()
        finally:
            await runner.cleanup()
