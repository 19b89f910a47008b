"""Fixtures for the X sandbox tests: emulator, tweepy client, webhook receiver, control API.

Everything listens on 127.0.0.1 with OS-assigned ports. Async fixtures use
``pytest_asyncio.fixture``, so no ``asyncio_mode`` setting is needed. Helpers are exposed
as fixtures (no ``from conftest import``: several conftest.py files may exist in tests/).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from sandbox.x_emulator import EmulatorConfig, run_emulator
from sandbox.x_emulator.tweepy_redirect import RedirectedAsyncClient

# Credentials unlike the sandbox defaults, so that no test passes by relying on them.
TEST_CREDENTIALS = {
    "consumer_key": "test-consumer-key",
    "consumer_secret": "test-consumer-secret",
    "access_token": "test-access-token",
    "access_token_secret": "test-access-token-secret",
    "bearer_token": "test-bearer-token",
}


@dataclass
class WebhookReceiver:
    """A minimal webhook endpoint: answers CRC with ``secret`` and records POSTs."""

    secret: str
    url: str = ""
    posts: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    crc_tokens: list[str] = field(default_factory=list)
    queue: asyncio.Queue = field(default_factory=asyncio.Queue)

    async def handle_get(self, request: web.Request) -> web.Response:
        token = request.query["crc_token"]
        self.crc_tokens.append(token)
        digest = hmac.new(self.secret.encode(), token.encode(), hashlib.sha256).digest()
        return web.json_response({"response_token": "sha256=" + base64.b64encode(digest).decode()})

    async def handle_post(self, request: web.Request) -> web.Response:
        item = (await request.read(), dict(request.headers))
        self.posts.append(item)
        self.queue.put_nowait(item)
        return web.Response(status=200)

    async def next_post(self, timeout: float = 5.0) -> tuple[bytes, dict[str, str]]:
        return await asyncio.wait_for(self.queue.get(), timeout)


@contextlib.asynccontextmanager
async def _serve_receiver(secret: str):
    receiver = WebhookReceiver(secret)
    app = web.Application()
    app.router.add_get("/webhooks/x", receiver.handle_get)
    app.router.add_post("/webhooks/x", receiver.handle_post)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        receiver.url = f"http://127.0.0.1:{runner.addresses[0][1]}/webhooks/x"
        yield receiver
    finally:
        await runner.cleanup()


class Control:
    """Thin helper over an emulator's /_control API."""

    def __init__(self, emu, session: aiohttp.ClientSession) -> None:
        self.emu = emu
        self.session = session

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None,
                   expect: int = 200) -> Any:
        async with self.session.request(method, self.emu.base_url + path,
                                        json=body) as response:
            payload = await response.json()
            assert response.status == expect, payload
            return payload

    async def post(self, path: str, body: dict[str, Any] | None = None, expect: int = 200):
        return await self.call("POST", path, body or {}, expect)

    async def get(self, path: str) -> Any:
        return await self.call("GET", path)

    async def dm(self, sender_id: str, text: str, **extra: Any) -> dict[str, Any]:
        return await self.post("/_control/dm", {"sender_id": sender_id, "text": text, **extra})

    async def tweet(self, username: str, text: str, **extra: Any) -> dict[str, Any]:
        return await self.post("/_control/tweet", {"username": username, "text": text, **extra})


@pytest.fixture
def make_config():
    """``make_config(**overrides)``: an EmulatorConfig with the test credentials."""
    def factory(**overrides: Any) -> EmulatorConfig:
        return EmulatorConfig(**{**TEST_CREDENTIALS, **overrides})
    return factory


@pytest.fixture
def serve_receiver():
    """``async with serve_receiver(secret) as rec``: an extra webhook receiver."""
    return _serve_receiver


@pytest_asyncio.fixture
async def receiver():
    async with _serve_receiver(TEST_CREDENTIALS["consumer_secret"]) as rec:
        yield rec


@pytest.fixture
def start_emulator(make_config):
    """``async with start_emulator(**config_overrides) as emu``."""
    def factory(**overrides: Any):
        return run_emulator(make_config(**overrides))
    return factory


@pytest_asyncio.fixture
async def emulator(start_emulator):
    async with start_emulator() as emu:
        yield emu


@pytest_asyncio.fixture
async def webhook_emulator(start_emulator, receiver):
    """An emulator started with ``webhook_url`` pointing at ``receiver``."""
    async with start_emulator(webhook_url=receiver.url) as emu:
        yield emu


@pytest.fixture
def make_client():
    """``make_client(emu, **kwargs)``: a RedirectedAsyncClient with the emulator's credentials."""
    def factory(emu, **kwargs: Any) -> RedirectedAsyncClient:
        cfg = emu.config
        options = {
            "consumer_key": cfg.consumer_key, "consumer_secret": cfg.consumer_secret,
            "access_token": cfg.access_token, "access_token_secret": cfg.access_token_secret,
            "bearer_token": cfg.bearer_token, **kwargs,
        }
        return RedirectedAsyncClient(emu.base_url, **options)
    return factory


@pytest_asyncio.fixture
async def client(emulator, make_client):
    async with make_client(emulator) as tweepy_client:
        yield tweepy_client


@pytest_asyncio.fixture
async def webhook_client(webhook_emulator, make_client):
    async with make_client(webhook_emulator) as tweepy_client:
        yield tweepy_client


@pytest_asyncio.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def control(emulator, http) -> Control:
    return Control(emulator, http)


@pytest.fixture
def webhook_control(webhook_emulator, http) -> Control:
    return Control(webhook_emulator, http)


@pytest.fixture
def control_for(http):
    """``control_for(emu)``: the control API of an emulator started in the test."""
    def factory(emu) -> Control:
        return Control(emu, http)
    return factory
