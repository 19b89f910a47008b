"""Application factory and a helper to run the emulator on a free loopback port."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import AsyncIterator

from aiohttp import web

from .config import EmulatorConfig
from .control import add_control_routes
from .routes import STATE_KEY, add_api_routes, api_middleware
from .state import EmulatorState

logger = logging.getLogger(__name__)


def create_app(config: EmulatorConfig | None = None) -> web.Application:
    """Build the emulator (no I/O here)."""
    config = config or EmulatorConfig.from_env()
    app = web.Application(middlewares=[api_middleware])
    app[STATE_KEY] = EmulatorState(config)
    add_api_routes(app)
    add_control_routes(app)

    async def close_streams(app: web.Application) -> None:
        app[STATE_KEY].drop_streams()

    app.on_shutdown.append(close_streams)
    return app


@dataclass
class RunningEmulator:
    """A started emulator: ``base_url`` is what Mastodon.py gets as ``api_base_url``."""

    app: web.Application
    host: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def state(self) -> EmulatorState:
        return self.app[STATE_KEY]


@contextlib.asynccontextmanager
async def run_emulator(config: EmulatorConfig | None = None, *, host: str = "127.0.0.1",
                       port: int = 0) -> AsyncIterator[RunningEmulator]:
    """``async with run_emulator(cfg) as emu:`` serves on ``emu.base_url`` (port 0: free)."""
    app = create_app(config)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_port = runner.addresses[0][1]
        logger.info("mastodon_sandbox.started host=%s port=%s", host, bound_port)
        yield RunningEmulator(app, host, bound_port)
    finally:
        await runner.cleanup()
