"""The web chat behind several Rasa processes: python-socketio's Redis manager.

One process (the default) needs nothing: a conversation's room lives in the process its page is
connected to. Behind several processes, a lawyer's reply is handled by whichever process the
desk's request reached, while the person's page may be connected to another. With
``PERMANENCE_REDIS_URL`` set (``redis://``, ``rediss://`` for TLS, or ``unix://``), every
process's socket.io server uses :class:`RedisManager` (python-socketio's
``AsyncRedisManager``): an emit to a conversation's room is delivered to that room's sockets in
this process, then published on the Redis channel :data:`CHANNEL`, and every other process
delivers it to the sockets of the room it holds. Rooms stay per conversation, so a message
reaches every page of its conversation, in any process, and no other.

What goes through Redis: the messages to a conversation's room (the assistant's turns, the
lawyer's replies), in transit only (pub/sub keeps nothing). What does not: messages to one
socket (the session secret, a continued conversation's history, the channel's own notices) are
emitted with ``ignore_queue``, in the process that holds the socket.

Failures are reported, not absorbed:

- at start, :func:`check_reachable` pings Redis and raises :class:`RedisUnreachable` (the
  server does not start) with the address, never the password;
- python-socketio logs a failed publish and drops it; :class:`RedisManager` raises
  :class:`RedisUnreachable` instead (after one reconnection), so the desk records the reply as
  ``failed`` and the web chat logs ``webchat.publish.failed``. The sockets of the emitting
  process got the message before the publish; those of other processes did not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from typing import Any
from urllib.parse import urlsplit

import redis
from socketio import AsyncRedisManager

logger = logging.getLogger(__name__)

REDIS_URL_ENV = "PERMANENCE_REDIS_URL"
CHANNEL = "permanence-webchat"
SCHEMES = ("redis", "rediss", "unix")
CONNECT_TIMEOUT_SECONDS = 5.0


class RedisUnreachable(RuntimeError):
    """Redis did not answer (at start) or refused a publish."""


def redis_url(value: str | None) -> str | None:
    """``PERMANENCE_REDIS_URL`` (or the channel's ``redis_url`` key): None when unset or blank
    (one process, no Redis), else the URL. Another scheme raises ValueError: a misconfiguration
    must not quietly fall back to one process."""
    value = (value or "").strip()
    if not value:
        return None
    scheme = urlsplit(value).scheme.lower()
    if scheme not in SCHEMES:
        raise ValueError(f"{REDIS_URL_ENV}: not a Redis URL (redis://, rediss:// or unix://)")
    return value


def redis_url_from_env() -> str | None:
    return redis_url(os.environ.get(REDIS_URL_ENV))


def address(url: str) -> str:
    """The URL without its credentials, for logs and errors: ``redis://host:port/0``."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix://{parts.path}"
    host = parts.hostname or "localhost"
    host = f"[{host}]" if ":" in host else host
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def check_reachable(url: str) -> None:
    """Ping Redis once; raises :class:`RedisUnreachable` saying where, if it does not answer."""
    client = redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
                                  socket_timeout=CONNECT_TIMEOUT_SECONDS)
    try:
        client.ping()
    except redis.RedisError as error:
        raise RedisUnreachable(
            f"{REDIS_URL_ENV}: the web chat cannot reach Redis at {address(url)} "
            f"({type(error).__name__}); several processes need it to share the chat's rooms "
            f"(unset it to run one process)") from error
    finally:
        client.close()


class RedisManager(AsyncRedisManager):
    """python-socketio's Redis manager, on :data:`CHANNEL`, whose failed publish raises."""

    def __init__(self, url: str) -> None:
        super().__init__(url, channel=CHANNEL, logger=logger,
                         redis_options={"socket_connect_timeout": CONNECT_TIMEOUT_SECONDS})
        self.url = url

    async def _publish(self, data: Any) -> Any:
        for attempt in (1, 2):  # as python-socketio: once more on a new connection
            try:
                if not self.connected:
                    self._redis_connect()
                return await self.redis.publish(self.channel, self.json.dumps(data))
            except Exception as error:  # noqa: BLE001 - raised below, with its type
                self.connected = False
                if attempt == 2:
                    raise RedisUnreachable(
                        f"publish to Redis at {address(self.url)} failed "
                        f"({type(error).__name__})") from error
        return None  # not reached

    async def close(self) -> None:
        """Stop listening and close the connection (the server is stopping)."""
        thread = getattr(self, "thread", None)
        if thread is not None:
            thread.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await thread
            self.thread = None
        for resource in (self.pubsub, self.redis):
            if resource is not None:
                with contextlib.suppress(Exception):
                    await resource.close()
        self.pubsub = self.redis = None
        self.connected = False
