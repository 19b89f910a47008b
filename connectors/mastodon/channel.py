"""The Mastodon channel for Rasa: ``MastodonInput`` (``connectors.mastodon.MastodonInput`` in
the credentials file: ``credentials.mastodon.yml``).

Its settings come from the environment only (``connectors/mastodon/config.py``:
``MASTODON_BASE_URL`` and ``MASTODON_ACCESS_TOKEN``, a secret); the channel listed without
them refuses to start, naming the missing key. Mastodon pushes nothing signed for an account:
events come from the user stream or by polling (``connectors/mastodon/runtime.py``), so the
only route is ``GET /webhooks/mastodon/``, the channel's health (ready once the account is
known; whether the stream is connected).

Nothing happens at import time: the runtime starts in sanic's ``after_server_start`` and stops
in ``before_server_stop``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.mastodon import config
from connectors.mastodon.config import MastodonConfigError, MastodonSettings
from connectors.mastodon.output import MastodonOutput
from connectors.mastodon.runtime import MastodonRuntime
from permanence.priority import LAWYER


class MastodonInput(InputChannel):
    """Direct statuses to the firm's Mastodon account, and public posts mentioning it."""

    @classmethod
    def name(cls) -> str:
        return "mastodon"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """The environment's settings (the credentials file only lists the channel)."""
        settings = config.from_env()
        if settings is None:
            raise MastodonConfigError(f"mastodon channel: {config.BASE_URL_ENV} and "
                                      f"{config.TOKEN_ENV} are not set")
        return cls(settings)

    def __init__(self, settings: MastodonSettings) -> None:
        self.settings = settings
        self.runtime: MastodonRuntime | None = None

    def get_output_channel(self) -> OutputChannel | None:
        """The desk's replies (and Rasa's HTTP API) go through the outbox, first in line."""
        if self.runtime is None:
            return None
        return MastodonOutput(self.runtime, priority=LAWYER)

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        mastodon = Blueprint("mastodon_webhook", __name__)
        runtime = MastodonRuntime(self.settings, on_new_message)
        self.runtime = runtime

        @mastodon.listener("after_server_start")
        async def start(app: Any, loop: Any) -> None:
            await runtime.start(app)

        @mastodon.listener("before_server_stop")
        async def stop(app: Any, loop: Any) -> None:
            await runtime.stop()

        @mastodon.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            stream = runtime.stream
            return response.json({"status": "ok", "ready": runtime.ready,
                                  "intake": self.settings.intake,
                                  "stream_connected": bool(stream and stream.connected)})

        return mastodon
