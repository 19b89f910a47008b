"""The web chat: a page at ``/chat`` served by the Rasa server, on Rasa's socketio transport.

Sessions are issued by the server. On ``session_request`` a socket gets a new unguessable
secret (``secrets.token_urlsafe(32)``), unless the page presents one it kept (the page keeps
it in ``sessionStorage``, so a reload of the tab resumes the conversation). The conversation
id is derived from the secret and does not reveal it: ``web:`` + the first 32 hex digits of
its SHA-256 (:func:`conversation_id_of`). Nothing is stored: it holds across restarts and
several processes, and an erasure has nothing more to erase. A secret the server never issued
is harmless: it only reaches the conversation of its own hash, which nobody else can name.

The socket is bound to its conversation on the server (its socket.io session) and joins the
room of that conversation, server-side only. ``user_uttered`` ignores any id in the payload:
a socket speaks in, and hears, its own conversation only; a socket without a session gets
nothing through. ``get_output_channel()`` (the desk's replies) emits to the conversation's
room: every open page of that conversation, and no other. Logs carry
``permanence.logids.ref`` of the conversation, never the secret or the id.

What a page may send (``user_uttered``):

- ``{"message": <typed text>, "message_id": ...}``: typed text, never an intent
  (``connectors.limits.typed_text``: a typed ``/restart`` is the text ``restart``);
- ``{"payload": <button payload>, "message_id": ...}``: a click on a button, accepted only if
  the payload is one the domain's responses offer (:func:`button_payloads`).

The bot's messages of a turn are held until the turn was handled and saved
(``on_new_message`` returned). If it raised (a failed save, a failed erasure), the person is
told to send the message again, and the held messages are dropped: an erasure is only
confirmed once it happened. The desk's pushes (``get_output_channel()``) are not held.

Continuing an X conversation (``permanence/continue_link.py``). When the account's DM budget
makes a person on X wait, a DM carries ``<base>/chat?continue=<token>``. The page takes the
token out of its address (``history.replaceState``) and presents it once, in its
``session_request`` (``{"continue": <token>}``). The server redeems it
(``permanence/continue_store.py``: signed for its conversation, not expired, never used; consumed
in the same transaction as it records the new session), issues a new session secret, keeps
``sha256(secret) -> x:<X user id>`` server-side, binds the socket to that conversation (the same
Rasa tracker, so the same desk case) and sends the page the earlier messages of the conversation
(``history``: the person's and the bot's texts from the tracker, :func:`transcript`), to that
socket only. From then on the secret (kept in the tab like any other) resumes that
conversation; an erasure of the conversation deletes the mapping. A token refused for any reason
(forged, for another conversation, expired, already used) gets :data:`LINK_REFUSED` and a new
ordinary web session, nothing of the conversation; the reason is logged, never the token. A
failure to check it (the database) consumes nothing: the page says so (:data:`LINK_FAILED`) and
the link from X works again. With the feature off, every token is refused. A crawler that
previews the link (X does) fetches the page only: the token is presented by the page's script,
not by the request for the page.

Origins. socket.io accepts a browser's connection only from the site's own origin:
``PERMANENCE_PUBLIC_ORIGIN`` (comma-separated, e.g. ``https://chat.cabinet.fr``) when set, else
python-engineio's same-origin check (``cors_allowed_origins=None``). That check accepts an
``Origin`` equal to ``<scheme>://<Host header>``, where the scheme is ``X-Forwarded-Proto`` or
``http`` (Sanic's driver), and also ``<X-Forwarded-Proto>://<X-Forwarded-Host>`` when either
is sent. Behind a reverse proxy it therefore works only if the proxy passes the public
``Host`` (or ``X-Forwarded-Host``) and ``X-Forwarded-Proto``; a proxy that rewrites ``Host``
to the upstream address makes every browser connection fail (closed, not open). Set
``PERMANENCE_PUBLIC_ORIGIN`` in production. A request without ``Origin`` (not a browser) is
not checked: the origin check protects people's browsers from other sites, not the server
from clients.

Several processes (``connectors/webchat_redis.py``). With ``PERMANENCE_REDIS_URL`` set, the
socket.io server shares its rooms through Redis (python-socketio's ``AsyncRedisManager``): a
message to a conversation's room, such as the lawyer's reply sent by whichever process the
desk's request reached, reaches that conversation's pages in every process. Messages to one
socket stay in its process (``ignore_queue``). Redis is pinged when the server is built: an
unreachable Redis stops the start. Unset, one process, as before. Behind a load balancer, a
socket's requests must reach the process that holds it (sticky sessions, or WebSocket only).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import os
import re
import secrets
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from connectors import webchat_redis
from connectors.limits import is_too_long, too_long_text, typed_text
from permanence import continue_link, continue_store, conversations
from permanence.continue_link import Refused
from permanence.logids import ref

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
DOMAIN_FILE = ROOT / "domain.yml"
STATIC_DIR = Path(__file__).resolve().parent / "webchat_static"
STATIC_FILES = {
    "socket.io.min.js": "application/javascript",
    "chat.js": "application/javascript",
    "chat.css": "text/css",
}
PUBLIC_ORIGIN_ENV = "PERMANENCE_PUBLIC_ORIGIN"

# What token_urlsafe(32) gives: 43 characters of URL-safe base64.
SECRET = re.compile(r"^[A-Za-z0-9_-]{43}$")
MESSAGE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
ORIGIN = re.compile(r"^(https?)://([a-z0-9.-]+|\[[0-9a-f:]+\])(?::([0-9]{1,5}))?$")

NOT_SAVED = ("Votre message n'a pas pu être enregistré. "
             "Merci de le renvoyer dans un instant.")
CHOICE_REFUSED = "Ce choix n'est pas disponible. Merci d'écrire votre réponse."
LINK_REFUSED = ("Ce lien n'est plus valable (il a déjà servi ou il a expiré). Vous pouvez "
                "continuer sur X, ou écrire ici pour commencer une nouvelle conversation.")
CONTINUED = ("Vous continuez ici la conversation commencée sur X. "
             "Vous pouvez aussi y revenir : les réponses arriveront là où vous écrivez.")
LINK_FAILED = ("Ce lien n'a pas pu être ouvert pour l'instant. Merci de l'ouvrir à nouveau "
               "depuis X dans un instant.")
TRANSCRIPT_MAX = 200

# /chat and its static files: no inline script or style, no framing, no referrer.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; "
        "object-src 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


# ------------------------------------------------------------------ pure pieces


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def session_secret(presented: Any) -> tuple[str, bool]:
    """The secret of a ``session_request``: the one the page presented if well-formed (resumed
    is True), else a new one."""
    if isinstance(presented, str) and SECRET.match(presented):
        return presented, True
    return new_secret(), False


def conversation_id_of(secret: str) -> str:
    """``web:<first 32 hex digits of sha256(secret)>``: names the conversation, not the key."""
    return conversations.make(conversations.WEB,
                              hashlib.sha256(secret.encode()).hexdigest()[:32])


def button_payloads(domain: Mapping[str, Any]) -> frozenset[str]:
    """Every button payload the domain's responses offer (any variation, any channel)."""
    found: set[str] = set()
    responses = domain.get("responses") if isinstance(domain, Mapping) else None
    for variations in (responses or {}).values() if isinstance(responses, Mapping) else ():
        for variation in variations if isinstance(variations, list) else ():
            buttons = variation.get("buttons") if isinstance(variation, Mapping) else None
            for button in buttons if isinstance(buttons, list) else ():
                payload = button.get("payload") if isinstance(button, Mapping) else None
                if isinstance(payload, str) and payload:
                    found.add(payload)
    return frozenset(found)


@lru_cache(maxsize=4)
def domain_button_payloads(path: Path = DOMAIN_FILE) -> frozenset[str]:
    """:func:`button_payloads` of the domain file, read once."""
    return button_payloads(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


def accepted_payload(payload: Any, allowed: Iterable[str]) -> str | None:
    """The payload of a click if it is one the domain offers, else None (refused)."""
    if isinstance(payload, str) and payload in allowed:
        return payload
    return None


def allowed_origins(value: str | None) -> list[str] | None:
    """``PERMANENCE_PUBLIC_ORIGIN`` as python-engineio's ``cors_allowed_origins``: a list of
    origins (``scheme://host[:port]``, lower case, default port dropped, as browsers send
    them), or None (unset or blank: engineio's same-origin check). An entry that is not an
    origin (a path, a wildcard, another scheme) raises ValueError: a misconfiguration must
    not open or silently close the chat."""
    origins: list[str] = []
    for entry in (value or "").split(","):
        entry = entry.strip().rstrip("/").lower()
        if not entry:
            continue
        match = ORIGIN.match(entry)
        if not match:
            raise ValueError(f"{PUBLIC_ORIGIN_ENV}: not an origin (scheme://host[:port])")
        scheme, host, port = match.groups()
        if port is not None and (not 0 < int(port) < 65536):
            raise ValueError(f"{PUBLIC_ORIGIN_ENV}: port out of range")
        if port in ({"http": "80", "https": "443"}[scheme], None):
            origins.append(f"{scheme}://{host}")
        else:
            origins.append(f"{scheme}://{host}:{port}")
    return origins or None


def transcript(events: Iterable[Any], limit: int = TRANSCRIPT_MAX) -> list[dict[str, str]]:
    """The person's and the bot's texts of a tracker's events (dicts, as ``Event.as_dict()``
    gives them), oldest first, the last ``limit``: what a page that continues the
    conversation shows. Button payloads and commands (a text starting with ``/``) are left
    out."""
    shown: list[dict[str, str]] = []
    for event in events:
        if not isinstance(event, Mapping):
            continue
        text = event.get("text")
        if not isinstance(text, str) or not text.strip():
            continue
        if event.get("event") == "user" and not text.startswith("/"):
            shown.append({"who": "user", "text": text})
        elif event.get("event") == "bot":
            shown.append({"who": "bot", "text": text})
    return shown[-limit:]


def clean_message_id(value: Any) -> str | None:
    return value if isinstance(value, str) and MESSAGE_ID.match(value) else None


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

    def forget(self, message_id: str) -> None:
        """A message that was not handled may come again."""
        self._ids.pop(message_id, None)


# ------------------------------------------------------------------ output


class WebChatOutput(SocketIOOutput):
    """Rasa's socket.io output, emitting to a conversation's room only.

    Rasa's ``send_custom_json`` passes the JSON as ``emit`` arguments (a ``room`` key would
    choose the room): here it is data for the conversation's room like any other message."""

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any],
                               **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"custom": json_message})


class TurnOutput(WebChatOutput):
    """The bot's messages of one turn, held until :meth:`flush` (after the turn was saved)."""

    def __init__(self, sio: AsyncServer, bot_message_evt: str) -> None:
        super().__init__(sio, bot_message_evt)
        self.held: list[tuple[str, Any]] = []

    async def _send_message(self, socket_id: str, response: Any) -> None:
        self.held.append((socket_id, response))

    async def flush(self) -> None:
        """Emit the held messages. A failed publish to Redis (several processes) is logged: the
        turn was saved and this process's pages got the messages; pages of the conversation in
        other processes did not."""
        held, self.held = self.held, []
        for room, message in held:
            try:
                await self.sio.emit(self.bot_message_evt, message, room=room)
            except webchat_redis.RedisUnreachable:
                logger.error("webchat.publish.failed conversation=%s", ref(room))


# ------------------------------------------------------------------ the channel


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
            redis_url=credentials.get("redis_url") or None,
        )

    def __init__(
        self,
        user_message_evt: str = "user_uttered",
        bot_message_evt: str = "bot_uttered",
        socketio_path: str = "/socket.io",
        public_origin: str | None = None,
        domain_file: Path = DOMAIN_FILE,
        redis_url: str | None = None,
    ) -> None:
        self.user_message_evt = user_message_evt
        self.bot_message_evt = bot_message_evt
        self.socketio_path = socketio_path
        self.origins = allowed_origins(public_origin if public_origin is not None
                                       else os.environ.get(PUBLIC_ORIGIN_ENV))
        self.payloads = domain_button_payloads(domain_file)
        # Several processes share the rooms through Redis (a bad URL fails here; an
        # unreachable Redis, when the server is built).
        self.redis_url = (webchat_redis.redis_url(redis_url) if redis_url is not None
                          else webchat_redis.redis_url_from_env())
        self.sio: AsyncServer | None = None
        self.recent_ids = RecentIds()
        # The link to continue an X conversation here (off unless configured; a half
        # configuration fails when the server is built).
        self.links = continue_link.from_env()
        self.links_store: continue_store.ContinueStore | None = None
        self.app: Any = None

    def url_prefix(self) -> str:
        return "/chat"

    def get_output_channel(self) -> OutputChannel | None:
        """Messages to a conversation id reach every open page of that conversation."""
        if self.sio is None:
            return None
        return WebChatOutput(self.sio, self.bot_message_evt)

    async def _say(self, sid: str, text: str) -> None:
        """A message of the channel itself to one socket (not part of the conversation)."""
        assert self.sio is not None
        await self.sio.emit(self.bot_message_evt, {"text": text}, room=sid, ignore_queue=True)

    async def _conversation_of(self, sid: str) -> str | None:
        assert self.sio is not None
        try:
            session = await self.sio.get_session(sid)
        except KeyError:  # the socket is gone
            return None
        return session.get("conversation")

    async def _bind(self, sid: str, conversation_id: str, secret: str,
                    extra: dict[str, Any] | None = None) -> None:
        """Bind the socket to its conversation (its session and room) and confirm."""
        sio = self.sio
        assert sio is not None
        previous = await self._conversation_of(sid)
        if previous is not None and previous != conversation_id:
            await sio.leave_room(sid, previous)
        await sio.save_session(sid, {"conversation": conversation_id})
        await sio.enter_room(sid, conversation_id)
        # To this socket, in this process: the secret never goes through Redis.
        await sio.emit("session_confirm", {"secret": secret, **(extra or {})}, room=sid,
                       ignore_queue=True)

    async def _db(self, function: Callable[..., Any], *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, functools.partial(function, *args))

    async def _continued_conversation(self, secret: str) -> str | None:
        """The conversation a session opened by a continue link reaches, if ``secret`` is one."""
        if self.links_store is None:
            return None
        return await self._db(self.links_store.session_conversation, secret)

    async def _continue(self, sid: str, token: Any) -> None:
        """Redeem a continue link's token: the socket joins its conversation, with the earlier
        messages; or, refused, a new ordinary session and :data:`LINK_REFUSED`."""
        secret = new_secret()
        try:
            if self.links is None or self.links_store is None:
                raise Refused(continue_link.UNKNOWN)
            conversation_id = await self._db(self.links_store.redeem, self.links, token,
                                             secret)
        except Refused as refused:
            fresh = conversation_id_of(secret)
            await self._bind(sid, fresh, secret)
            await self._say(sid, LINK_REFUSED)
            logger.warning("webchat.continue.refused reason=%s conversation=%s",
                           refused.reason, ref(fresh))
            return
        except Exception as error:  # noqa: BLE001 - the person is told; the token is unused
            await self._bind(sid, conversation_id_of(secret), secret)
            await self._say(sid, LINK_FAILED)
            logger.error("webchat.continue.failed error=%s", type(error).__name__)
            return
        history = await self._history(conversation_id)
        await self._bind(sid, conversation_id, secret, {"continued": True})
        assert self.sio is not None
        await self.sio.emit("history", {"messages": history}, room=sid, ignore_queue=True)
        await self._say(sid, CONTINUED)
        logger.info("webchat.continue.opened conversation=%s messages=%d", ref(conversation_id),
                    len(history))

    async def _history(self, conversation_id: str) -> list[dict[str, str]]:
        agent = getattr(getattr(self.app, "ctx", None), "agent", None)
        tracker_store = getattr(agent, "tracker_store", None)
        if tracker_store is None:
            return []
        try:
            # Every session's events: ``retrieve`` keeps only those since the last session
            # start, and the assistant's opening comes just before it.
            tracker = await tracker_store.retrieve_full_tracker(conversation_id)
        except Exception as error:  # noqa: BLE001 - the conversation goes on; logged
            logger.error("webchat.continue.history_failed conversation=%s error=%s",
                         ref(conversation_id), type(error).__name__)
            return []
        return [] if tracker is None else transcript(e.as_dict() for e in tracker.events)

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        manager = None
        if self.redis_url is not None:
            webchat_redis.check_reachable(self.redis_url)  # unreachable: the server stops here
            manager = webchat_redis.RedisManager(self.redis_url)
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=self.origins,
                          client_manager=manager)
        self.sio = sio
        logger.info("webchat.rooms %s", "redis address=" + webchat_redis.address(self.redis_url)
                    if self.redis_url else "local (one process)")
        chat = SocketBlueprint(sio, self.socketio_path, "webchat", __name__)

        @chat.route("/", methods=["GET"])
        async def page(_: Request) -> HTTPResponse:
            return await response.file(STATIC_DIR / "chat.html", mime_type="text/html",
                                       headers=SECURITY_HEADERS)

        @chat.route("/static/<name>", methods=["GET"])
        async def static(_: Request, name: str) -> HTTPResponse:
            if name not in STATIC_FILES:
                return response.json({"error": "not found"}, status=404,
                                     headers=SECURITY_HEADERS)
            return await response.file(STATIC_DIR / name, mime_type=STATIC_FILES[name],
                                       headers=SECURITY_HEADERS)

        @chat.listener("after_server_start")
        async def opened(app: Any, _: Any) -> None:
            self.app = app  # its agent holds the trackers (the earlier messages)
            if manager is not None and not sio.manager_initialized:
                # Listen to the other processes now, not at the first socket.
                sio.manager_initialized = True
                manager.initialize()
            if self.links is not None:
                loop = asyncio.get_running_loop()
                self.links_store = await loop.run_in_executor(None, continue_store.shared)

        @chat.listener("before_server_stop")
        async def closing(_: Any, __: Any) -> None:
            if manager is not None:
                await manager.close()

        @sio.on("session_request")
        async def session_request(sid: str, data: Any) -> None:
            data = data if isinstance(data, dict) else {}
            if data.get("continue") is not None:
                await self._continue(sid, data.get("continue"))
                return
            secret, resumed = session_secret(data.get("secret"))
            conversation_id = (await self._continued_conversation(secret) if resumed else None
                               ) or conversation_id_of(secret)
            await self._bind(sid, conversation_id, secret)
            logger.info("webchat.session conversation=%s resumed=%s", ref(conversation_id),
                        resumed)

        @sio.on(self.user_message_evt)
        async def handle_message(sid: str, data: Any) -> None:
            conversation_id = await self._conversation_of(sid)
            if conversation_id is None:
                logger.info("webchat.message.no_session")
                return
            if not isinstance(data, dict):
                logger.info("webchat.message.malformed conversation=%s", ref(conversation_id))
                return
            if "payload" in data:
                text = accepted_payload(data.get("payload"), self.payloads)
                if text is None:
                    logger.warning("webchat.payload.refused conversation=%s",
                                   ref(conversation_id))
                    await self._say(sid, CHOICE_REFUSED)
                    return
            else:
                typed = data.get("message")
                if not isinstance(typed, str) or not typed.strip():
                    return
                if is_too_long(typed):
                    await self._say(sid, too_long_text(typed))
                    logger.info("webchat.message.too_long conversation=%s length=%d",
                                ref(conversation_id), len(typed))
                    return
                text = typed_text(typed)
                if not text.strip():
                    return
            message_id = clean_message_id(data.get("message_id"))
            seen_key = f"{conversation_id}:{message_id}" if message_id else None
            if seen_key and self.recent_ids.seen(seen_key):
                logger.info("webchat.message.duplicate conversation=%s", ref(conversation_id))
                return
            output = TurnOutput(sio, self.bot_message_evt)
            try:
                await on_new_message(UserMessage(
                    text, output, conversation_id, input_channel=self.name(),
                    message_id=message_id, metadata={"channel": "webchat"}))
            except Exception as error:  # noqa: BLE001 - the boundary: the person is told
                if seen_key:
                    self.recent_ids.forget(seen_key)
                # The type only: a database error's text may carry the message.
                logger.error("webchat.turn.failed conversation=%s error=%s",
                             ref(conversation_id), type(error).__name__)
                await self._say(sid, NOT_SAVED)
                return
            await output.flush()

        return chat
