"""The web chat: a page at ``/chat`` served by the Rasa server, on Rasa's socketio transport.

The page keeps a random session id (``session_id``) in the browser; it is the conversation's
sender id, and the socket joins a room named after it, so the server (and later the lawyer's
desk) can push messages to the person with ``get_output_channel()``.
"""

from __future__ import annotations

import inspect
import logging
import re
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from connectors.limits import is_too_long, too_long_text

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "webchat_static"
STATIC_FILES = {
    "socket.io.min.js": "application/javascript",
    "chat.js": "application/javascript",
    "chat.css": "text/css",
}
SESSION_ID = re.compile(r"^[0-9a-f]{32}$")


class RecentIds:
    """A bounded set of recently seen message ids, to drop duplicate deliveries."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def seen(self, message_id: str) -> bool:
        """True if ``message_id`` was already seen; remembers it otherwise."""
        if message_id in self._ids:
            return True
        self._ids[message_id] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return False


def clean_session_id(value: Any) -> str:
    """The session id the browser sent if well-formed, else a new one."""
    if isinstance(value, str) and SESSION_ID.match(value):
        return value
    return uuid.uuid4().hex


class WebChatInput(InputChannel):
    """Web chat page and socket.io endpoint (``/socket.io``)."""

    @classmethod
    def name(cls) -> str:
        return "webchat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        return cls(
            user_message_evt=credentials.get("user_message_evt", "user_uttered"),
            bot_message_evt=credentials.get("bot_message_evt", "bot_uttered"),
            socketio_path=credentials.get("socketio_path", "/socket.io"),
        )

    def __init__(
        self,
        user_message_evt: str = "user_uttered",
        bot_message_evt: str = "bot_uttered",
        socketio_path: str = "/socket.io",
    ) -> None:
        self.user_message_evt = user_message_evt
        self.bot_message_evt = bot_message_evt
        self.socketio_path = socketio_path
        self.sio: AsyncServer | None = None
        self.recent_ids = RecentIds()

    def url_prefix(self) -> str:
        return "/chat"

    def get_output_channel(self) -> OutputChannel | None:
        """Messages to a sender id reach every open page of that conversation."""
        if self.sio is None:
            return None
        return SocketIOOutput(self.sio, self.bot_message_evt)

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[])
        self.sio = sio
        chat = SocketBlueprint(sio, self.socketio_path, "webchat", __name__)

        @chat.route("/", methods=["GET"])
        async def page(_: Request) -> HTTPResponse:
            return await response.file(STATIC_DIR / "chat.html", mime_type="text/html")

        @chat.route("/static/<name>", methods=["GET"])
        async def static(_: Request, name: str) -> HTTPResponse:
            if name not in STATIC_FILES:
                return response.json({"error": "not found"}, status=404)
            return await response.file(STATIC_DIR / name, mime_type=STATIC_FILES[name])

        @sio.on("session_request")
        async def session_request(sid: str, data: Any) -> None:
            session_id = clean_session_id((data or {}).get("session_id")
                                          if isinstance(data, dict) else None)
            joined = sio.enter_room(sid, session_id)
            if inspect.isawaitable(joined):  # a coroutine in python-socketio >= 5.10
                await joined
            await sio.emit("session_confirm", session_id, room=sid)
            logger.debug("webchat.session sid=%s", sid)

        @sio.on(self.user_message_evt)
        async def handle_message(sid: str, data: Any) -> None:
            if not isinstance(data, dict):
                logger.info("webchat.message.malformed")
                return
            session_id = data.get("session_id")
            text = data.get("message")
            if not (isinstance(session_id, str) and SESSION_ID.match(session_id)):
                logger.info("webchat.message.no_session")
                return
            if not isinstance(text, str) or not text.strip():
                return
            output = SocketIOOutput(sio, self.bot_message_evt)
            if is_too_long(text):
                await output.send_text_message(session_id, too_long_text(text))
                logger.info("webchat.message.too_long length=%d", len(text))
                return
            message_id = data.get("message_id")
            if isinstance(message_id, str) and message_id:
                if self.recent_ids.seen(f"{session_id}:{message_id}"):
                    logger.info("webchat.message.duplicate")
                    return
            else:
                message_id = None
            await on_new_message(
                UserMessage(
                    text,
                    output,
                    session_id,
                    input_channel=self.name(),
                    message_id=message_id,
                    metadata={"channel": "webchat"},
                )
            )

        return chat
