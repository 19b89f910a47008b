"""`make x-register` against the X sandbox on 127.0.0.1: registers once, then changes nothing."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from aiohttp import web

from connectors.x.signatures import crc_response_token
from sandbox.x_emulator import EmulatorConfig, run_emulator

ROOT = Path(__file__).resolve().parents[2]


async def crc_responder(secret: str, port: int) -> web.AppRunner:
    async def crc(request: web.Request) -> web.Response:
        token = request.query.get("crc_token", "")
        return web.json_response({"response_token": crc_response_token(secret, token)})

    app = web.Application()
    app.router.add_get("/webhooks/x/webhook", crc)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


async def run_register(env: dict, *args: str) -> tuple[int, dict]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "scripts.x_register", *args, cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    out, _ = await process.communicate()
    return process.returncode, json.loads(out.decode().strip().splitlines()[-1])


async def test_register_is_idempotent(unused_tcp_port_factory):
    config = EmulatorConfig()
    port = unused_tcp_port_factory()
    webhook = f"http://127.0.0.1:{port}/webhooks/x/webhook"
    runner = await crc_responder(config.consumer_secret, port)
    try:
        async with run_emulator(config) as emu:
            env = {
                **os.environ,
                "X_CONSUMER_KEY": config.consumer_key,
                "X_CONSUMER_SECRET": config.consumer_secret,
                "X_ACCESS_TOKEN": config.access_token,
                "X_ACCESS_TOKEN_SECRET": config.access_token_secret,
                "X_BEARER_TOKEN": config.bearer_token,
                "X_API_BASE_URL": emu.base_url,
                "X_WEBHOOK_URL": webhook,
            }
            code, first = await run_register(env)
            assert code == 0, first
            assert first["created"] and not first["already_subscribed"]
            code, second = await run_register(env)
            assert code == 0, second
            assert not second["created"] and second["already_subscribed"]
            assert second["webhook_id"] == first["webhook_id"]

            # Wrong secret: a clear error, exit 1, and the secret is not echoed.
            code, error = await run_register({**env, "X_BEARER_TOKEN": "wrong-token"})
            assert code == 1 and "HTTP" in error["error"] and "wrong-token" not in error["error"]
            # Missing configuration.
            env.pop("X_ACCESS_TOKEN")
            code, error = await run_register(env)
            assert code == 1 and "X_ACCESS_TOKEN" in error["error"]
    finally:
        await runner.cleanup()


async def test_register_fails_clearly_when_the_crc_check_fails(unused_tcp_port_factory):
    config = EmulatorConfig()
    port = unused_tcp_port_factory()
    runner = await crc_responder("not-the-consumer-secret", port)
    try:
        async with run_emulator(config) as emu:
            env = {
                **os.environ,
                "X_CONSUMER_KEY": config.consumer_key,
                "X_CONSUMER_SECRET": config.consumer_secret,
                "X_ACCESS_TOKEN": config.access_token,
                "X_ACCESS_TOKEN_SECRET": config.access_token_secret,
                "X_BEARER_TOKEN": config.bearer_token,
            }
            code, error = await run_register(
                env, "--api-base-url", emu.base_url,
                "--webhook-url", f"http://127.0.0.1:{port}/webhooks/x/webhook")
            assert code == 1 and "registering the webhook" in error["error"]
    finally:
        await runner.cleanup()
