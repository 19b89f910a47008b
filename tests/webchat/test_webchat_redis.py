"""The web chat behind several processes (connectors/webchat_redis.py): the setting, the start
check, and two channels served on 127.0.0.1 sharing a throwaway Redis (sandbox/redis_server.py),
each as one process would serve it. Two real Rasa processes on PostgreSQL and Redis, with the
desk: tests/e2e/test_webchat_processes.py."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack

import pytest
from redis import asyncio as aioredis
from sanic import Sanic

from connectors.webchat import WebChatInput
from connectors.webchat_redis import (
    CHANNEL,
    REDIS_URL_ENV,
    RedisUnreachable,
    address,
    check_reachable,
    redis_url,
)
from sandbox.redis_server import RedisUnavailable, ThrowawayRedis, start_throwaway_redis
from sandbox.stack import free_port
from tests.webchat.test_webchat_channel import Agent, Page, close_quickly, open_page, serving

# ------------------------------------------------------------------ the setting


def test_the_redis_url_is_optional_and_must_be_a_redis_url():
    assert redis_url(None) is None
    assert redis_url("") is None
    assert redis_url("  ") is None
    for url in ("redis://127.0.0.1:6379/0", "rediss://:secret@redis.cabinet.fr:6380/1",
                "unix:///run/redis/redis.sock", "REDIS://h"):
        assert redis_url(f" {url} ") == url
    for wrong in ("127.0.0.1:6379", "http://redis.cabinet.fr", "valkey://h", "memory://"):
        with pytest.raises(ValueError, match=REDIS_URL_ENV):
            redis_url(wrong)


def test_the_address_never_shows_the_credentials():
    assert address("rediss://user:s3cret@redis.cabinet.fr:6380/1") == (
        "rediss://redis.cabinet.fr:6380/1")
    assert address("redis://:s3cret@127.0.0.1/0") == "redis://127.0.0.1/0"
    assert address("redis://[::1]:6379") == "redis://[::1]:6379"
    assert address("unix://:s3cret@/run/redis.sock") == "unix:///run/redis.sock"


def test_the_setting_comes_from_the_environment_or_the_channels_key(monkeypatch):
    monkeypatch.delenv(REDIS_URL_ENV, raising=False)
    assert WebChatInput().redis_url is None
    monkeypatch.setenv(REDIS_URL_ENV, "redis://127.0.0.1:1/0")
    assert WebChatInput().redis_url == "redis://127.0.0.1:1/0"
    assert WebChatInput.from_credentials({"redis_url": "redis://10.0.0.2/3"}).redis_url == (
        "redis://10.0.0.2/3")
    monkeypatch.setenv(REDIS_URL_ENV, "10.0.0.2:6379")
    with pytest.raises(ValueError, match=REDIS_URL_ENV):
        WebChatInput()


def test_an_unreachable_redis_stops_the_start_and_says_where(monkeypatch):
    port = free_port()  # nothing listens there
    url = f"redis://:s3cret@127.0.0.1:{port}/0"
    with pytest.raises(RedisUnreachable) as raised:
        check_reachable(url)
    message = str(raised.value)
    assert f"127.0.0.1:{port}/0" in message and REDIS_URL_ENV in message
    assert "s3cret" not in message
    monkeypatch.setenv(REDIS_URL_ENV, url)
    channel = WebChatInput()
    with pytest.raises(RedisUnreachable):
        channel.blueprint(Agent())
    assert channel.sio is None  # no server was built


# ------------------------------------------------------------------ two processes' channels


@pytest.fixture
def redis_server() -> Iterator[ThrowawayRedis]:
    try:
        server = start_throwaway_redis()
    except RedisUnavailable as error:
        pytest.fail(f"the throwaway Redis did not start: {error}")
    try:
        yield server
    finally:
        server.stop()


async def subscribers(url: str) -> int:
    client = aioredis.Redis.from_url(url)
    try:
        [(_, count)] = await client.pubsub_numsub(CHANNEL)
        return count
    finally:
        await client.close()


async def until(probe, timeout: float = 20.0):
    """The first truthy value of the coroutine function ``probe`` within ``timeout`` s."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await probe()
        if value or asyncio.get_running_loop().time() >= deadline:
            return value
        await asyncio.sleep(0.05)


@pytest.fixture
async def two_processes(redis_server, monkeypatch) -> AsyncIterator[tuple]:
    """Two channels on two servers (A and B), as two processes serve them, sharing Redis."""
    monkeypatch.setattr(Sanic, "test_mode", True)
    monkeypatch.delenv("PERMANENCE_PUBLIC_ORIGIN", raising=False)
    monkeypatch.setenv(REDIS_URL_ENV, redis_server.url)
    pages: list[Page] = []
    async with AsyncExitStack() as stack:
        a = await stack.enter_async_context(serving(WebChatInput(), Agent()))
        b = await stack.enter_async_context(serving(WebChatInput(), Agent()))
        # Both listen from the start, before any socket connects.
        assert await until(lambda: _at_least(redis_server.url, 2))

        async def opener(served, *args, **kwargs) -> Page:
            page = await open_page(served.url, *args, **kwargs)
            pages.append(page)
            return page

        try:
            yield a, b, opener
        finally:
            await close_quickly(pages)


async def _at_least(url: str, count: int) -> bool:
    return await subscribers(url) >= count


async def test_a_message_sent_through_one_process_reaches_the_page_on_the_other(two_processes):
    a, b, open_on = two_processes
    person = await open_on(b)
    other = await open_on(b)  # another conversation, on the same process
    same_on_a = await open_on(a, person.secret)  # the person's second tab, on A
    assert same_on_a.conversation_id == person.conversation_id != other.conversation_id

    await a.channel.get_output_channel().send_text_message(person.conversation_id,
                                                           "réponse de l'avocate")
    assert [m["text"] for m in await person.drain(quiet=2.0)] == ["réponse de l'avocate"]
    assert [m["text"] for m in await same_on_a.drain()] == ["réponse de l'avocate"]  # once
    assert await other.drain() == []

    # A turn handled by B reaches the person's tab on A too, and only the person's.
    await person.emit({"message": "bonjour"})
    expected = ["reçu : bonjour", "C'est fait."]
    assert [m["text"] for m in await person.drain(quiet=2.0)] == expected
    assert [m["text"] for m in await same_on_a.drain(quiet=2.0)] == expected
    assert await other.drain() == []
    assert [m.sender_id for m in b.agent.handled] == [person.conversation_id]
    assert a.agent.handled == []


async def test_the_session_secret_stays_in_its_process(two_processes, redis_server):
    a, b, open_on = two_processes
    listener = aioredis.Redis.from_url(redis_server.url).pubsub()
    await listener.subscribe(CHANNEL)
    try:
        page = await open_on(b)
        await b.channel.get_output_channel().send_text_message(page.conversation_id, "repère")
        published = []
        deadline = asyncio.get_running_loop().time() + 3.0
        while asyncio.get_running_loop().time() < deadline:  # None: a subscription message
            message = await listener.get_message(ignore_subscribe_messages=True, timeout=0.5)
            if message is not None:
                published.append(message["data"].decode())
        assert any("repère" in data or "rep\\u00e8re" in data for data in published)
        assert not any(page.secret in data for data in published)
    finally:
        await listener.close()


async def test_a_failed_publish_is_reported_not_absorbed(two_processes, redis_server, caplog):
    a, b, open_on = two_processes
    person = await open_on(b)
    redis_server.stop()
    with pytest.raises(RedisUnreachable):
        await a.channel.get_output_channel().send_text_message(person.conversation_id, "perdu")
    # A turn on B: the person's page on B gets its answer (it was saved); the failed publish
    # for the conversation's pages elsewhere is logged.
    with caplog.at_level(logging.ERROR, logger="connectors.webchat"):
        await person.emit({"message": "bonjour"})
        texts = [m["text"] for m in await person.drain(quiet=2.0)]
    assert texts == ["reçu : bonjour", "C'est fait."]
    assert "webchat.publish.failed" in caplog.text
    assert person.conversation_id not in caplog.text
