"""The Mastodon user stream read into the durable inbox, by one process at a time.

A :class:`channels.lease.LeaseLoop` (lease ``mastodon.stream``): while this process holds it,
it reads the account's notifications as Mastodon streams them (``stream.notifications``,
reconnecting with backoff from ``stream_retry_seconds``) and stores each mention's rows
(``MastodonAdapter.parse_webhook``, then ``ChannelRuntime.accept_rows``). Mastodon does not
replay what was posted while a stream was down: each time a connection opens, the poller reads
once from its cursor (``AdapterPoller.poll_once``). When the stream cannot be read
(``StreamUnavailable``: the token refused, or several failed connections), the poller, which
runs anyway (every ``poll_seconds``, for the hashtags too), is the intake until the stream is
tried again ``FALLBACK_SECONDS`` later. The inbox's unique event ids drop what comes two ways.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from channels.lease import LeaseLoop
from connectors.mastodon.payloads import MalformedPayload
from connectors.mastodon.stream import StreamUnavailable, notifications

logger = logging.getLogger(__name__)

FALLBACK_SECONDS = 60.0


class StreamIntake(LeaseLoop):
    """Reads the stream of ``runtime.adapter`` into ``runtime``'s inbox under a lease."""

    lease_name = "mastodon.stream"
    log_name = "mastodon.stream"

    def __init__(self, runtime: Any, poller: Any) -> None:
        super().__init__(runtime, runtime.settings.lease_seconds)
        self.poller = poller
        self.connected = False
        self._task: asyncio.Task | None = None

    def start_work(self) -> None:
        self._task = asyncio.ensure_future(self._read())

    def stop_work(self) -> list[asyncio.Future]:
        task, self._task = self._task, None
        self.connected = False
        if task is not None:
            task.cancel()
        return [] if task is None else [task]

    async def _read(self) -> None:
        runtime = self.runtime
        settings = runtime.settings
        while True:
            try:
                async for event, payload in notifications(
                        runtime.adapter.streaming_url, settings.access_token,
                        backoff_seconds=settings.stream_retry_seconds):
                    if event == "connected":
                        self.connected = True
                        logger.info("mastodon.stream.connected")
                        await self._catch_up()
                    else:
                        await self._accept(payload)
            except StreamUnavailable as exc:
                self.connected = False
                logger.warning("mastodon.stream.unavailable reason=%s polling_for=%.0fs",
                               exc, FALLBACK_SECONDS)
                await asyncio.sleep(FALLBACK_SECONDS)

    async def _catch_up(self) -> None:
        """What was posted while the stream was down (a failure: the poller's rounds)."""
        try:
            added = await self.poller.poll_once()
        except Exception as exc:  # noqa: BLE001 - the poller reads again at its next round
            logger.warning("mastodon.stream.catch_up_failed error=%s", type(exc).__name__)
            return
        if added:
            logger.info("mastodon.stream.caught_up new=%d", added)

    async def _accept(self, payload: Any) -> None:
        try:
            rows = self.runtime.adapter.parse_webhook(json.dumps(payload).encode())
        except (MalformedPayload, TypeError, ValueError) as exc:
            logger.warning("mastodon.stream.malformed error=%s", type(exc).__name__)
            return
        if not rows:
            return
        try:
            added = await self.runtime.accept_rows(rows)
        except Exception:  # noqa: BLE001 - not stored: the poller's next round reads it
            logger.exception("mastodon.stream.store_failed events=%d", len(rows))
            return
        logger.info("mastodon.stream.accepted events=%d new=%d", len(rows), added)
