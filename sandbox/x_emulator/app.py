"""Application factory and a helper to run the emulator on a free loopback port."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import AsyncIterator

from aiohttp import web

from .api import add_api_routes, api_middleware
from .appkeys import DISPATCHER_KEY, STATE_KEY
from .config import EmulatorConfig
from .control import add_control_routes, control_middleware
from .delivery import WebhookDispatcher
from .state import EmulatorState

logger = logging.getLogger(__name__)


def create_app(config: EmulatorConfig | None = None) -> web.Application:
    """Build the emulator. Nothing is started until the app runs (no I/O here)."""
    config = config or EmulatorConfig.from_env()
    state = EmulatorState(config)
    dispatcher = WebhookDispatcher(state)
    app = web.Application(middlewares=[api_middleware, control_middleware])
    app[STATE_KEY] = state
    app[DISPATCHER_KEY] = dispatcher
    add_api_routes(app)
    add_control_routes(app)

    async def start_dispatcher(_app: web.Application) -> None:
        await dispatcher.start()

    async def stop_dispatcher(_app: web.Application) -> None:
        await dispatcher.close()

    app.on_startup.append(start_dispatcher)
    app.on_cleanup.append(stop_dispatcher)
    return app


@dataclass
class RunningEmulator:
    """A started emulator: ``base_url`` is what a client uses instead of api.twitter.com."""

    app: web.Application
    host: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def state(self) -> EmulatorState:
        return self.app[STATE_KEY]

    @property
    def config(self) -> EmulatorConfig:
        return self.state.config


@contextlib.asynccontextmanager
async def run_emulator(config: EmulatorConfig | None = None, *, host: str = "127.0.0.1",
                       port: int = 0) -> AsyncIterator[RunningEmulator]:
    """``async with run_emulator(cfg) as emu:`` serves on ``emu.base_url`` (port 0: free)."""
    app = create_app(config)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_port = runner.addresses[0][1]
        logger.info("x_sandbox.started host=%s port=%s", host, bound_port)
        yield RunningEmulator(app, host, bound_port)
    finally:
        await runner.cleanup()
