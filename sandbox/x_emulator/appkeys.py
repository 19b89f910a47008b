"""Keys of the objects stored on the aiohttp application."""

from __future__ import annotations

from aiohttp import web

from .delivery import WebhookDispatcher
from .state import EmulatorState

STATE_KEY = web.AppKey("x_sandbox_state", EmulatorState)
DISPATCHER_KEY = web.AppKey("x_sandbox_dispatcher", WebhookDispatcher)
