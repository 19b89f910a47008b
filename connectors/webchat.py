"""The web chat: a page at ``/chat`` served by the Rasa server, on Rasa's socketio transport.

Sessions are issued by the server. On ``session_request`` a socket gets a new unguessable
secret (``secrets.token_urlsafe(32)``), unless the page presents one it kept (the page keeps
it in ``sessionStorage``, so a reload of the tab resumes the conversation; not
``localStorage``: on a shared phone or a library computer the next person to open the chat
would find the conversation). The conversation id is derived from the secret and does not
reveal it: ``web:`` + the first 32 hex digits of its SHA-256 (:func:`conversation_id_of`); the
secret itself is stored nowhere. A secret the server never issued is harmless: it only reaches
the conversation of its own hash, which nobody else can name.

Durable messages (``channels/webchat_store.py``). Every message of the assistant and of the
lawyer to a conversation is stored before it is emitted and carries its id (``"id"``); the
lawyer's reply (the desk's ``send_text_message`` with a ``delivery_ref``) is one message marked
``"from": "lawyer"``, which the page shows as « Votre avocat ». The page acknowledges what it
shows (``ack``, ``{"ids": [...]}``; only ids of the socket's own conversation count); the
store then clears the text. A socket that (re)connects to a conversation (a reload, another
tab with the secret, a resume link, a continue link; in any process: the store is the
database) gets the messages no page acknowledged, in order, to itself only; a page drops an id
it already shows. Storing comes before the room's emit and the socket joins the room before
reading what waits, so a message is never missed, at worst received twice (and shown once).
The desk reads the store (``permanence/deliveries.py``): not acknowledged, « pas encore lu : la
personne n'a pas rouvert la conversation »; acknowledged, « remis le … ». A turn's messages
that cannot be stored are still shown (logged ``webchat.keep.failed``); a desk push that
cannot be stored raises (the desk records the reply as failed). The channel's own notices to
one socket (refused link, too long, not saved) are not kept. A turn that erased its own
conversation (« supprimez mes données ») keeps nothing: its confirmation is shown only.

The resume link. When a turn's responses include the handover (``utter_handoff…``), the socket
gets ``resume_link`` ``{"token", "notice"}`` (to itself, never through Redis), once per
conversation; the page shows ``<page address>#resume=<token>`` for the person to keep. In the
fragment, not the query: a browser never sends a fragment to a server, so the token reaches no
access log of the server, a proxy or a CDN (and no ``Referer``); the page takes it out of its
address (``history.replaceState``) and presents it in its ``session_request``
(``{"resume": <token>}``). The server finds the conversation by the token's SHA-256, issues a
new session secret mapped to it (the SHA-256, ``webchat_session``), binds the socket
(``"resumed": true``), sends the earlier messages (``history``, from the tracker: the kept ones
carry their ``ids``, the lawyer's ``"from": "lawyer"``) and then the messages not
acknowledged. A link may be opened any number of times, in any browser, until the conversation
is erased (the person's « effacer », the desk's erase, retention): the erasure deletes the
token, the sessions it opened, the kept messages and the notice address, and the link then
gets :data:`RESUME_REFUSED` and a new ordinary session. With ``notice`` true (SMTP configured),
the page offers to leave an e-mail address, with a consent box, to be told that the lawyer
answered (``notice`` event, ``{"email", "consent": true}``; an empty address withdraws it;
answered ``notice_confirm``): ``connectors/webchat_notice.py``.

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
confirmed once it happened. The desk's pushes (``get_output_channel()``) are not held (they are
stored, then emitted).

Continuing an X conversation (``permanence/continue_link.py``). When the account's DM budget
makes a person on X wait, a DM carries ``<base>/chat?continue=<token>``. The page takes the
token out of its address (``history.replaceState``) and presents it once, in its
``session_request`` (``{"continue": <token>}``). The server redeems it
(``permanence/continue_store.py``: signed for its conversation, not expired, never used;
consumed in the same transaction as it records the new session), issues a new session secret,
keeps ``sha256(secret) -> x:<X user id>`` server-side, binds the socket to that conversation
(the same Rasa tracker, so the same desk case) and sends the page the earlier messages of the
conversation (``history``: the person's and the bot's texts from the tracker,
:func:`transcript`) and those kept and not acknowledged, to that socket only. From then on the
secret (kept in the tab like any other) resumes that conversation; an erasure of the
conversation deletes the mapping. A token refused for any reason (forged, for another
conversation, expired, already used) gets :data:`LINK_REFUSED` and a new ordinary web session,
nothing of the conversation; the reason is logged, never the token. A failure to check it (the
database) consumes nothing: the page says so (:data:`LINK_FAILED`) and the link from X works
again. With the feature off, every token is refused. A crawler that previews the link (X does)
fetches the page only: the token is presented by the page's script, not by the request for the
page.

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
What Redis's pub/sub loses (a process cut from it for a while) the store does not: the page
gets it at its next connection, and the desk does not say « remis » meanwhile.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import os
import re
import secrets
import time
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

from channels import webchat_store
from channels.webchat_store import BOT, LAWYER, Stored, WebchatStore, clean_email, clean_ids
from connectors import webchat_notice, webchat_redis
from connectors.limits import is_too_long, too_long_text, typed_text
from permanence import continue_link, continue_store, conversations, deliveries, erasure
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
RESUME_REFUSED = ("Ce lien ne rouvre plus aucune conversation (elle a peut-être été "
                  "effacée). Vous pouvez écrire ici pour en commencer une nouvelle.")
RESUME_FAILED = ("La conversation n'a pas pu être rouverte pour l'instant. Merci d'ouvrir le "
                 "lien à nouveau dans un instant.")
TRANSCRIPT_MAX = 200
HANDOVER_PREFIX = "utter_handoff"  # the responses of the handover (actions/handoff.py)
ERASED_REMEMBERED = 1000

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


def message_key(message: Mapping[str, Any]) -> str | None:
    """The key of the tracker event a bot message shows (Rasa's ``BotUttered.message()``
    carries the event's timestamp): ``ts:<timestamp>``."""
    timestamp = message.get("timestamp")
    if isinstance(timestamp, (int, float)) and not isinstance(timestamp, bool):
        return f"ts:{float(timestamp)!r}"
    return None


def event_key(event: Mapping[str, Any]) -> str | None:
    """The key a kept message has for this bot event (``Event.as_dict()``): the lawyer's
    reply by its delivery reference (``desk/delivery.py``), the assistant's by timestamp."""
    metadata = event.get("metadata") if isinstance(event.get("metadata"), Mapping) else {}
    if metadata.get("author") == LAWYER:
        reference = metadata.get("delivery_ref")
        return f"ref:{reference}" if isinstance(reference, str) and reference else None
    return message_key(event)


def transcript(events: Iterable[Any], limit: int = TRANSCRIPT_MAX,
               kept: Mapping[str, list[str]] | None = None) -> list[dict[str, Any]]:
    """The person's and the bot's texts of a tracker's events (dicts, as ``Event.as_dict()``
    gives them), oldest first, the last ``limit``: what a page that continues or resumes the
    conversation shows. Button payloads and commands (a text starting with ``/``) are left
    out. The lawyer's messages are marked ``"from": "lawyer"``; a bot message the web chat
    kept (``kept``: ids by :func:`event_key`) carries their ``ids``, so that the page
    acknowledges them and does not show them twice."""
    shown: list[dict[str, Any]] = []
    for event in events:
        if not isinstance(event, Mapping):
            continue
        text = event.get("text")
        if not isinstance(text, str) or not text.strip():
            continue
        if event.get("event") == "user" and not text.startswith("/"):
            shown.append({"who": "user", "text": text})
        elif event.get("event") == "bot":
            item: dict[str, Any] = {"who": "bot", "text": text}
            metadata = event.get("metadata")
            if isinstance(metadata, Mapping) and metadata.get("author") == LAWYER:
                item["from"] = LAWYER
            key = event_key(event)
            if kept and key in kept:
                item["ids"] = list(kept[key])
            shown.append(item)
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


class Kept:
    """The channel's :class:`~channels.webchat_store.WebchatStore`, called off the event loop,
    and the conversations it erased lately (a turn that erased its conversation keeps none of
    its messages: the confirmation is shown, not stored)."""

    def __init__(self, store: WebchatStore) -> None:
        self.store = store
        self._erased: OrderedDict[str, float] = OrderedDict()

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, functools.partial(function, *args))

    def erase(self, conversation_id: str) -> int:
        """The eraser registered with ``permanence.erasure`` (in an executor thread)."""
        rows = self.store.erase_conversation(conversation_id)
        self._erased[conversation_id] = time.monotonic()
        self._erased.move_to_end(conversation_id)
        while len(self._erased) > ERASED_REMEMBERED:
            self._erased.popitem(last=False)
        return rows

    def erased_since(self, conversation_id: str, since: float) -> bool:
        at = self._erased.get(conversation_id)
        return at is not None and at >= since


class WebChatOutput(SocketIOOutput):
    """Rasa's socket.io output, emitting to a conversation's room only; with ``kept``, each
    message is stored first (``channels/webchat_store.py``) and carries its id, which the page
    acknowledges. A failure to store raises: the desk records the reply as failed.

    The lawyer's reply (``send_text_message`` with a ``delivery_ref``, ``desk/delivery.py``)
    is one message marked ``"from": "lawyer"``. Rasa's ``send_custom_json`` passes the JSON as
    ``emit`` arguments (a ``room`` key would choose the room): here it is data for the
    conversation's room like any other message."""

    def __init__(self, sio: AsyncServer, bot_message_evt: str, kept: Kept | None = None
                 ) -> None:
        super().__init__(sio, bot_message_evt)
        self.kept = kept

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any],
                               **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"custom": json_message})

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        delivery_ref = kwargs.get("delivery_ref")
        if not delivery_ref:
            await super().send_text_message(recipient_id, text, **kwargs)
            return
        body = {"text": text.strip(), "from": LAWYER}
        await self._emit(recipient_id, [(body, f"ref:{delivery_ref}")], LAWYER, delivery_ref)

    async def _send_message(self, socket_id: str, response: Any) -> None:
        await self._emit(socket_id, [(response, None)], BOT)

    async def _emit(self, room: str, messages: list[tuple[dict[str, Any], str | None]],
                    author: str, delivery_ref: str | None = None) -> None:
        bodies = [body for body, _ in messages]
        if self.kept is not None:
            stored = await self.kept.run(self.kept.store.add, room, author, messages,
                                         delivery_ref)
            bodies = [s.body for s in stored]
        for body in bodies:
            await self.sio.emit(self.bot_message_evt, body, room=room)


class TurnOutput(WebChatOutput):
    """The bot's messages of one turn, held until :meth:`flush` (after the turn was saved),
    with the key of the event each shows (:func:`message_key`) and the responses uttered."""

    def __init__(self, sio: AsyncServer, bot_message_evt: str, kept: Kept | None = None
                 ) -> None:
        super().__init__(sio, bot_message_evt, kept)
        self.held: list[tuple[str, Any, str | None]] = []
        self.responses: set[str] = set()
        self._key: str | None = None

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self._key = message_key(message)
        if isinstance(message.get("utter_action"), str):
            self.responses.add(message["utter_action"])
        try:
            await super().send_response(recipient_id, message)
        finally:
            self._key = None

    async def _send_message(self, socket_id: str, response: Any) -> None:
        self.held.append((socket_id, response, self._key))

    def handed_over(self) -> bool:
        return any(name.startswith(HANDOVER_PREFIX) for name in self.responses)

    async def flush(self, keep: bool = True) -> None:
        """Store (unless ``keep`` is false: the turn erased its conversation) and emit the
        held messages. A failure to store is logged and the messages are shown anyway,
        without ids (not kept for a page that is closed). A failed publish to Redis (several
        processes) is logged: the turn was saved and this process's pages got the messages;
        pages of the conversation in other processes did not."""
        held, self.held = self.held, []
        rooms: OrderedDict[str, list[tuple[dict[str, Any], str | None]]] = OrderedDict()
        for room, message, key in held:
            rooms.setdefault(room, []).append((message, key))
        for room, messages in rooms.items():
            bodies = [message for message, _ in messages]
            if keep and self.kept is not None:
                try:
                    stored = await self.kept.run(self.kept.store.add, room, BOT, messages)
                    bodies = [s.body for s in stored]
                except Exception as error:  # noqa: BLE001 - shown anyway; reported
                    logger.error("webchat.keep.failed conversation=%s error=%s", ref(room),
                                 type(error).__name__)
            for body in bodies:
                try:
                    await self.sio.emit(self.bot_message_evt, body, room=room)
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
        # The durable messages, links and notices (channels/webchat_store.py), opened when
        # the server starts; the SMTP settings of the notices (None: not offered).
        self.kept: Kept | None = None
        self.smtp = webchat_notice.smtp()
        self._sweeper: asyncio.Task | None = None

    def url_prefix(self) -> str:
        return "/chat"

    def get_output_channel(self) -> OutputChannel | None:
        """Messages to a conversation id reach every open page of that conversation."""
        if self.sio is None:
            return None
        return WebChatOutput(self.sio, self.bot_message_evt, self.kept)

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
        """The conversation a session opened by a continue link or a resume link reaches, if
        ``secret`` is one."""
        if self.links_store is not None:
            found = await self._db(self.links_store.session_conversation, secret)
            if found is not None:
                return found
        if self.kept is not None:
            return await self._db(self.kept.store.session_conversation, secret)
        return None

    async def _redeliver(self, sid: str, conversation_id: str) -> None:
        """The conversation's messages no page acknowledged, in order, to this socket only
        (the page drops those it already shows, by id). A failure is logged: the page gets
        them at its next connection."""
        if self.kept is None:
            return
        try:
            waiting: list[Stored] = await self._db(self.kept.store.unacked, conversation_id)
        except Exception as error:  # noqa: BLE001 - reported; nothing is lost
            logger.error("webchat.redeliver.failed conversation=%s error=%s",
                         ref(conversation_id), type(error).__name__)
            return
        assert self.sio is not None
        for message in waiting:
            await self.sio.emit(self.bot_message_evt, message.body, room=sid, ignore_queue=True)
        if waiting:
            logger.info("webchat.redelivered conversation=%s messages=%d", ref(conversation_id),
                        len(waiting))

    async def _resume(self, sid: str, token: Any) -> None:
        """Open a resume link: the socket joins its conversation with a new session secret,
        gets the earlier messages (with the ids of those kept) and those not acknowledged;
        or, unknown, a new ordinary session and :data:`RESUME_REFUSED`."""
        secret = new_secret()
        try:
            if self.kept is None:
                raise RuntimeError("the web chat's store is not open")
            conversation_id = await self._db(self.kept.store.resume_open, token, secret)
        except Exception as error:  # noqa: BLE001 - the person is told; nothing was opened
            await self._bind(sid, conversation_id_of(secret), secret)
            await self._say(sid, RESUME_FAILED)
            logger.error("webchat.resume.failed error=%s", type(error).__name__)
            return
        if conversation_id is None:
            fresh = conversation_id_of(secret)
            await self._bind(sid, fresh, secret)
            await self._say(sid, RESUME_REFUSED)
            logger.warning("webchat.resume.refused conversation=%s", ref(fresh))
            return
        history = await self._history(conversation_id)
        await self._bind(sid, conversation_id, secret, {"resumed": True})
        assert self.sio is not None
        await self.sio.emit("history", {"messages": history}, room=sid, ignore_queue=True)
        await self._redeliver(sid, conversation_id)
        logger.info("webchat.resume.opened conversation=%s messages=%d", ref(conversation_id),
                    len(history))

    async def _offer_resume(self, sid: str, conversation_id: str) -> None:
        """At the handover: the resume link's token, to this socket only (never through
        Redis), once per conversation; and whether the page may offer the e-mail notice."""
        if self.kept is None:
            return
        try:
            token = await self._db(self.kept.store.resume_issue, conversation_id)
        except Exception as error:  # noqa: BLE001 - the conversation goes on; reported
            logger.error("webchat.resume.issue_failed conversation=%s error=%s",
                         ref(conversation_id), type(error).__name__)
            return
        if token is None:
            return
        assert self.sio is not None
        await self.sio.emit("resume_link", {"token": token, "notice": self.smtp is not None},
                            room=sid, ignore_queue=True)

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
        await self._redeliver(sid, conversation_id)
        await self._say(sid, CONTINUED)
        logger.info("webchat.continue.opened conversation=%s messages=%d", ref(conversation_id),
                    len(history))

    async def _history(self, conversation_id: str) -> list[dict[str, Any]]:
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
        if tracker is None:
            return []
        kept: dict[str, list[str]] = {}
        if self.kept is not None:
            try:
                kept = await self._db(self.kept.store.event_ids, conversation_id)
            except Exception as error:  # noqa: BLE001 - shown without ids; redelivered
                logger.error("webchat.history.ids_failed conversation=%s error=%s",
                             ref(conversation_id), type(error).__name__)
        return transcript((e.as_dict() for e in tracker.events), kept=kept)

    async def _sweep_notices(self, store: WebchatStore) -> None:
        """Send the e-mail notices due, every interval, until the server stops."""
        assert self.smtp is not None
        delay, interval = webchat_notice.timing()
        while True:
            try:
                await self._db(webchat_notice.sweep, store, self.smtp, delay)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the loop goes on; reported
                logger.exception("webchat.notice.sweep_failed")
            await asyncio.sleep(interval)

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
            loop = asyncio.get_running_loop()
            if self.links is not None:
                self.links_store = await loop.run_in_executor(None, continue_store.shared)
            # The durable messages (an unreachable database stops the start, as the X store).
            store = await loop.run_in_executor(None, webchat_store.shared)
            self.kept = Kept(store)
            erasure.register(webchat_store.ERASURE_NAME, self.kept.erase, prune=store.prune)
            deliveries.lookups.register(deliveries.WEBCHAT, store.deliveries)
            if self.smtp is not None:
                self._sweeper = asyncio.create_task(self._sweep_notices(store))
            logger.info("webchat.notice %s", "on " + self.smtp.describe() if self.smtp
                        else "off (PERMANENCE_SMTP_HOST unset)")

        @chat.listener("before_server_stop")
        async def closing(_: Any, __: Any) -> None:
            if self._sweeper is not None:
                self._sweeper.cancel()
                self._sweeper = None
            if self.kept is not None:
                deliveries.lookups.unregister(deliveries.WEBCHAT, self.kept.store.deliveries)
            if manager is not None:
                await manager.close()

        @sio.on("session_request")
        async def session_request(sid: str, data: Any) -> None:
            data = data if isinstance(data, dict) else {}
            if data.get("continue") is not None:
                await self._continue(sid, data.get("continue"))
                return
            if data.get("resume") is not None:
                await self._resume(sid, data.get("resume"))
                return
            secret, resumed = session_secret(data.get("secret"))
            conversation_id = (await self._continued_conversation(secret) if resumed else None
                               ) or conversation_id_of(secret)
            await self._bind(sid, conversation_id, secret)
            if resumed:
                await self._redeliver(sid, conversation_id)
            logger.info("webchat.session conversation=%s resumed=%s", ref(conversation_id),
                        resumed)

        @sio.on("ack")
        async def ack(sid: str, data: Any) -> None:
            """A page showed these messages: kept no longer, delivered for the desk."""
            conversation_id = await self._conversation_of(sid)
            ids = clean_ids(data.get("ids") if isinstance(data, dict) else None)
            if conversation_id is None or not ids or self.kept is None:
                return
            try:
                await self._db(self.kept.store.ack, conversation_id, ids)
            except Exception as error:  # noqa: BLE001 - redelivered next time; reported
                logger.error("webchat.ack.failed conversation=%s error=%s",
                             ref(conversation_id), type(error).__name__)

        @sio.on("notice")
        async def notice(sid: str, data: Any) -> None:
            """The person's address, given with consent, to be told the lawyer answered (an
            empty one withdraws it). Answered ``notice_confirm`` ``{"kept": bool, "error"}``."""
            conversation_id = await self._conversation_of(sid)
            if conversation_id is None or self.kept is None:
                return
            data = data if isinstance(data, dict) else {}
            given = data.get("email")
            withdraw = given is None or (isinstance(given, str) and not given.strip())
            email = None if withdraw else clean_email(given)
            error = None
            if not withdraw and self.smtp is None:
                error = "off"
            elif not withdraw and email is None:
                error = "invalid"
            elif not withdraw and data.get("consent") is not True:
                error = "consent"
            if error is None:
                try:
                    await self._db(self.kept.store.notice_set, conversation_id, email)
                except Exception as failure:  # noqa: BLE001 - the person is told
                    logger.error("webchat.notice.keep_failed conversation=%s error=%s",
                                 ref(conversation_id), type(failure).__name__)
                    error = "failed"
            await sio.emit("notice_confirm", {"kept": error is None and email is not None,
                                              "error": error}, room=sid, ignore_queue=True)
            logger.info("webchat.notice.%s conversation=%s", error or (
                "withdrawn" if withdraw else "kept"), ref(conversation_id))

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
            output = TurnOutput(sio, self.bot_message_evt, self.kept)
            started = time.monotonic()
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
            erased = self.kept is not None and self.kept.erased_since(conversation_id, started)
            handed_over = output.handed_over()
            await output.flush(keep=not erased)
            if handed_over and not erased:
                await self._offer_resume(sid, conversation_id)

        return chat
