"""The account's notifications as Mastodon streams them (server-sent events on
``/api/v1/streaming/user/notification``), reconnecting with exponential backoff.

:func:`notifications` yields ``("connected", None)`` each time a connection opens (the caller
then polls once with its cursor: what was posted while the stream was down is not replayed),
then ``("notification", <Notification JSON>)`` for each event. After ``max_failures``
consecutive failed connections, or at once on 401, it raises :class:`StreamUnavailable`: the
caller falls back to polling (``MastodonAdapter.poll``). Heartbeats (``:thump``) keep the
read timeout from firing on a quiet stream.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp

logger = logging.getLogger(__name__)

NOTIFICATION_PATH = "/api/v1/streaming/user/notification"


class StreamUnavailable(RuntimeError):
    """The stream cannot be read now: poll instead."""


class StreamRefused(RuntimeError):
    def __init__(self, status: int) -> None:
        super().__init__(f"stream answered {status}")
        self.status = status


def streaming_base(advertised: str | None, base_url: str) -> str:
    """The streaming server's origin: the instance's ``urls.streaming_api`` (ws/wss turned
    into http/https, as Mastodon.py does), else the instance itself."""
    if not advertised:
        return base_url
    parts = urlsplit(advertised)
    scheme = {"wss": "https", "ws": "http"}.get(parts.scheme, parts.scheme)
    if scheme not in ("http", "https") or not parts.netloc:
        return base_url
    return f"{scheme}://{parts.netloc}"


async def read_events(session: aiohttp.ClientSession, url: str, token: str
                      ) -> AsyncIterator[tuple[str, Any]]:
    """One connection: ``("connected", None)``, then each event's name and decoded data."""
    async with session.get(url, headers={"Authorization": f"Bearer {token}",
                                         "Accept": "text/event-stream"}) as response:
        if response.status != 200:
            raise StreamRefused(response.status)
        yield "connected", None
        event, data = None, []
        async for raw in response.content:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if line.startswith(":"):
                continue  # heartbeat
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip(" "))
            elif not line and event:
                try:
                    payload = json.loads("\n".join(data)) if data else None
                except ValueError:
                    logger.warning("mastodon.stream.bad_event event=%s", event)
                else:
                    yield event, payload
                event, data = None, []


async def notifications(base_url: str, token: str, *, path: str = NOTIFICATION_PATH,
                        backoff_seconds: float = 1.0, max_backoff_seconds: float = 60.0,
                        max_failures: int = 5, read_timeout: float = 60.0,
                        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
                        ) -> AsyncIterator[tuple[str, Any]]:
    failures = 0
    timeout = aiohttp.ClientTimeout(total=None, connect=30, sock_read=read_timeout)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        while True:
            try:
                async for event, payload in read_events(session, base_url + path, token):
                    if event == "connected":
                        failures = 0
                        yield event, None
                    elif event == "notification":
                        yield event, payload
                logger.info("mastodon.stream.closed")
                failures += 1
            except StreamRefused as exc:
                if exc.status == 401:
                    raise StreamUnavailable("the token was refused (401)") from exc
                failures += 1
                logger.warning("mastodon.stream.refused status=%s", exc.status)
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                failures += 1
                logger.warning("mastodon.stream.error kind=%s", type(exc).__name__)
            if failures >= max_failures:
                raise StreamUnavailable(f"{failures} failed connections")
            await sleep(min(backoff_seconds * 2 ** (failures - 1), max_backoff_seconds))
