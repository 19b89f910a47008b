"""`make x-register` against the X sandbox on 127.0.0.1: registers once, then changes nothing.

X Activity API subscriptions for a webhook and for the stream, and the Account Activity path
kept until X stops serving it (a warning from 2027-01-01, the clock pinned through
``PERMANENCE_FROZEN_NOW``)."""

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
    code, summary, _ = await run_register_logged(env, *args)
    return code, summary


async def run_register_logged(env: dict, *args: str) -> tuple[int, dict, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "scripts.x_register", *args, cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    out, err = await process.communicate()
    return process.returncode, json.loads(out.decode().strip().splitlines()[-1]), err.decode()


def sandbox_env(config: EmulatorConfig, base_url: str, **extra: str) -> dict:
    env = {key: value for key, value in os.environ.items()
           if key not in ("X_WEBHOOK_URL", "X_ACCOUNT_ID", "PERMANENCE_FROZEN_NOW")}
    return {
        **env,
        "X_CONSUMER_KEY": config.consumer_key,
        "X_CONSUMER_SECRET": config.consumer_secret,
        "X_ACCESS_TOKEN": config.access_token,
        "X_ACCESS_TOKEN_SECRET": config.access_token_secret,
        "X_BEARER_TOKEN": config.bearer_token,
        "X_API_BASE_URL": base_url,
        **extra,
    }


def subscribed(summary: dict) -> set[tuple[str, str | None]]:
    return {(s["event_type"], s["webhook_id"]) for s in summary["subscriptions"]}


async def test_xaa_webhook_registration_and_subscriptions_are_idempotent(
        unused_tcp_port_factory):
    config = EmulatorConfig()
    port = unused_tcp_port_factory()
    webhook = f"http://127.0.0.1:{port}/webhooks/x/webhook"
    runner = await crc_responder(config.consumer_secret, port)
    try:
        async with run_emulator(config) as emu:
            env = sandbox_env(config, emu.base_url, X_WEBHOOK_URL=webhook)
            code, first = await run_register(env)
            assert code == 0, first
            assert first["intake"] == "xaa" and first["delivery"] == "webhook"
            assert first["created"] and first["subscriptions_created"] == 2
            assert first["account_id"] == config.account_id
            webhook_id = first["webhook_id"]
            assert subscribed(first) == {("dm.received", webhook_id),
                                         ("post.mention.create", webhook_id)}
            code, second = await run_register(env)
            assert code == 0, second
            assert not second["created"] and second["webhook_id"] == webhook_id
            assert second["subscriptions_created"] == second["subscriptions_updated"] == 0
            assert second["subscriptions"] == first["subscriptions"]
            assert len(emu.state.activity.subscriptions) == 2  # nothing new on X
            assert len(emu.state.webhooks) == 1
            # No Account Activity subscription: the XAA path alone.
            assert not any(w.subscribed for w in emu.state.webhooks.values())

            # Wrong secret: a clear error, exit 1, and the secret is not echoed.
            code, error = await run_register({**env, "X_BEARER_TOKEN": "wrong-token"})
            assert code == 1 and "HTTP" in error["error"] and "wrong-token" not in error["error"]
    finally:
        await runner.cleanup()


async def test_xaa_for_the_stream_needs_no_webhook_and_reuses_a_webhook_subscription(
        unused_tcp_port_factory):
    config = EmulatorConfig()
    async with run_emulator(config) as emu:
        env = sandbox_env(config, emu.base_url)
        code, first = await run_register(env, "--chat")
        assert code == 0, first
        assert first["delivery"] == "stream" and first["webhook_id"] is None
        assert subscribed(first) == {("dm.received", None), ("post.mention.create", None),
                                     ("chat.received", None)}
        code, second = await run_register(env, "--chat")
        assert code == 0 and second["subscriptions_created"] == 0
        assert len(emu.state.activity.subscriptions) == 3

        # Later the firm gets a public address: the same subscriptions are sent to it.
        port = unused_tcp_port_factory()
        runner = await crc_responder(config.consumer_secret, port)
        try:
            webhook = f"http://127.0.0.1:{port}/webhooks/x/webhook"
            code, third = await run_register({**env, "X_WEBHOOK_URL": webhook})
            assert code == 0, third
            assert (third["subscriptions_created"], third["subscriptions_updated"]) == (0, 2)
            assert subscribed(third) == {("dm.received", third["webhook_id"]),
                                         ("post.mention.create", third["webhook_id"]),
                                         ("chat.received", None)}
        finally:
            await runner.cleanup()
        # Back to the stream only: a subscription to a webhook serves the stream too.
        code, fourth = await run_register(env)
        assert code == 0 and fourth["subscriptions_created"] == 0
        assert len(emu.state.activity.subscriptions) == 3


async def test_aaa_path_warns_from_2027(unused_tcp_port_factory):
    config = EmulatorConfig()
    port = unused_tcp_port_factory()
    webhook = f"http://127.0.0.1:{port}/webhooks/x/webhook"
    runner = await crc_responder(config.consumer_secret, port)
    try:
        async with run_emulator(config) as emu:
            before = sandbox_env(config, emu.base_url, X_WEBHOOK_URL=webhook,
                                 PERMANENCE_FROZEN_NOW="2026-12-31T23:00:00+00:00")
            code, first, log = await run_register_logged(before, "--intake", "aaa")
            assert code == 0, first
            assert first["intake"] == "aaa" and not first["already_subscribed"]
            assert "warning" not in first and "end of life" not in log
            after = {**before, "PERMANENCE_FROZEN_NOW": "2027-01-01T09:00:00+01:00"}
            code, second, log = await run_register_logged(after, "--intake", "aaa")
            assert code == 0 and second["already_subscribed"]
            assert "2027-01-01" in second["warning"] and "make x-register" in second["warning"]
            assert "x.register.aaa_after_end" in log
    finally:
        await runner.cleanup()


async def test_register_is_idempotent_on_the_aaa_path(unused_tcp_port_factory):
    config = EmulatorConfig()
    port = unused_tcp_port_factory()
    webhook = f"http://127.0.0.1:{port}/webhooks/x/webhook"
    runner = await crc_responder(config.consumer_secret, port)
    try:
        async with run_emulator(config) as emu:
            env = sandbox_env(config, emu.base_url, X_WEBHOOK_URL=webhook)
            code, first = await run_register(env, "--intake", "aaa")
            assert code == 0, first
            assert first["created"] and not first["already_subscribed"]
            code, second = await run_register(env, "--intake", "aaa")
            assert code == 0, second
            assert not second["created"] and second["already_subscribed"]
            assert second["webhook_id"] == first["webhook_id"]
            assert not emu.state.activity.subscriptions  # the AAA path alone

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
            env = sandbox_env(config, "http://127.0.0.1:9/unused")
            code, error = await run_register(
                env, "--api-base-url", emu.base_url,
                "--webhook-url", f"http://127.0.0.1:{port}/webhooks/x/webhook")
            assert code == 1 and "registering the webhook" in error["error"]
    finally:
        await runner.cleanup()
