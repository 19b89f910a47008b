"""A REST door for integrations, closed unless a token is configured.

``POST /webhooks/rest/webhook`` with ``Authorization: Bearer <PERMANENCE_REST_TOKEN>`` and a JSON
body ``{"sender": "<id>", "message": "<text>"}``, or ``{"sender": "<id>", "payload": "/affirm"}``
for a button the assistant showed; the answer is the assistant's messages, a JSON list as
Rasa's own REST channel gives (``[{"recipient_id": ..., "text": ..., "buttons": ...}, ...]``).

It replaces Rasa's ``rest`` channel, which let anyone speak in any conversation (X ids are
public). Here:

- without ``PERMANENCE_REST_TOKEN`` in the environment the door refuses every request (403);
  with it, a request without that exact bearer token is refused (403, constant-time compare);
- the conversation id is ``rest:<sender>`` (``permanence.conversations``): an integration never
  reaches a conversation of X or of the web chat, whatever ``sender`` it sends; the sender is
  restricted to the namespace's local-id characters (400 otherwise);
- ``input_channel`` and ``metadata`` of the body are ignored: the message is recorded as coming
  from ``rest``, with no metadata (the desk cannot be told it came from someone's X account);
- the message must be a string (400, its content never logged); a typed text is never an intent
  (``connectors.limits.typed_text``: ``/restart`` is text); a button goes as ``payload``, taken
  only if it is one of the buttons of the assistant's last answer in that conversation (400
  otherwise: :func:`shown_payloads`); over 10,000 characters a message is refused
  with the French ``too_long_text`` (413); a body over :data:`MAX_BODY_BYTES` is refused before
  it is parsed (413); malformed or too deeply nested JSON is a 400;
- a turn that fails (e.g. the tracker store cannot save it) is a 503 with a JSON error: the
  client sends the message again; it never gets a 200 with a partial answer.

:func:`check_request` holds every refusal; it is pure, so it is tested without a server.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.shared.core.constants import ACTION_SESSION_START_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.limits import is_too_long, too_long_text, typed_text
from permanence import conversations
from permanence.logids import ref

logger = logging.getLogger(__name__)

TOKEN_ENV = "PERMANENCE_REST_TOKEN"  # noqa: S105 - the variable's name, not a secret
# The longest legal message with every character escaped as a JSON surrogate pair (12 bytes,
# "\\ud83d\\ude00") is 120,000 bytes: it fits, and nothing much larger is read as JSON.
MAX_BODY_BYTES = 128 * 1024
BEARER = "bearer"
LAWYER = "lawyer"  # desk/delivery.py marks the lawyer's messages {"author": "lawyer"}


@dataclass(frozen=True)
class Verdict:
    """The HTTP answer to give at once (``status`` != 200), or the turn to run (200)."""

    status: int
    body: Any
    conversation_id: str | None = None
    text: str | None = None
    payload: str | None = None  # a button: checked against the conversation by the channel


def _refused(status: int, error: str, reason: str, **fields: Any) -> Verdict:
    logger.info("rest.refused status=%d reason=%s", status, reason)
    return Verdict(status, {"error": error, **fields})


def check_token(configured: str | None, authorization: str | None) -> Verdict | None:
    """None if ``authorization`` is ``Bearer <configured>``; else the refusal (403)."""
    if not configured:
        return _refused(403, f"the REST channel is disabled (set {TOKEN_ENV} to enable it)",
                        "disabled")
    scheme, _, given = (authorization or "").strip().partition(" ")
    if scheme.lower() != BEARER or not hmac.compare_digest(
            given.strip().encode("utf-8", "replace"), configured.encode("utf-8")):
        return _refused(403, "a valid bearer token is required", "token")
    return None


def check_request(configured_token: str | None, raw: bytes,
                  headers: Mapping[str, str]) -> Verdict:
    """Everything the door checks before a turn, in order: token, size, JSON, sender, message.

    ``headers`` are read with lower-case names (sanic's are case-insensitive)."""
    refused = check_token(configured_token, headers.get("authorization"))
    if refused is not None:
        return refused
    declared = headers.get("content-length", "")
    if len(raw) > MAX_BODY_BYTES or (declared.isdigit() and int(declared) > MAX_BODY_BYTES):
        return _refused(413, f"body too large (at most {MAX_BODY_BYTES} bytes)", "body_size")
    try:
        body = json.loads(raw)
    except RecursionError:
        return _refused(400, "malformed JSON body (nested too deeply)", "nested")
    except (ValueError, UnicodeDecodeError):
        return _refused(400, "malformed JSON body", "json")
    if not isinstance(body, dict):
        return _refused(400, "the body must be a JSON object", "not_object")
    sender = body.get("sender")
    try:
        conversation_id = conversations.make(conversations.REST, sender)
    except conversations.InvalidConversationId:
        return _refused(400, "sender must be 1 to 128 characters among A-Z a-z 0-9 _ . @ -",
                        "sender")
    message, payload = body.get("message"), body.get("payload")
    if payload is not None:
        if message is not None:
            return _refused(400, "send either message or payload, not both", "both")
        if not isinstance(payload, str) or not payload.startswith("/") or len(payload) > 1000:
            return _refused(400, "payload must be a button's payload", "payload_type")
        return Verdict(200, [], conversation_id, payload=payload)
    if not isinstance(message, str):
        return _refused(400, "message must be a string", "message_type")
    if is_too_long(message):
        return _refused(413, "message too long", "too_long", text=too_long_text(message))
    return Verdict(200, [], conversation_id, typed_text(message))


def shown_payloads(events: Iterable[Event]) -> set[str]:
    """The payloads of the buttons in the assistant's last answer: its latest bot messages, back
    to the person's message before them. A person's message that got no answer (paused, or the
    first of a session, whose answer Rasa logs before it) leaves the answer before it shown, as
    on X; a message without buttons shows none, and none are shown after the lawyer's."""
    payloads: set[str] = set()
    answered = False
    for event in reversed(list(events)):
        if answered and (isinstance(event, UserUttered) or (
                isinstance(event, ActionExecuted)
                and event.action_name == ACTION_SESSION_START_NAME)):
            break  # before this answer (a session's answer begins at its start)
        if isinstance(event, BotUttered) and (event.metadata or {}).get("author") == LAWYER:
            break  # the lawyer wrote since: the assistant's buttons are behind
        if isinstance(event, BotUttered):
            answered = True
            for button in (event.data or {}).get("buttons") or []:
                if isinstance(button, dict) and isinstance(button.get("payload"), str):
                    payloads.add(button["payload"])
    return payloads


class TokenRestInput(InputChannel):
    """``/webhooks/rest/webhook`` behind ``PERMANENCE_REST_TOKEN`` (module docstring)."""

    @classmethod
    def name(cls) -> str:
        return conversations.INPUT_CHANNEL[conversations.REST]

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls()  # the token is a secret: from the environment only, never the file

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint(f"permanence_{type(self).__name__}", __name__)

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            verdict = check_request(os.environ.get(TOKEN_ENV), request.body or b"",
                                    request.headers)
            if verdict.status != 200:
                return response.json(verdict.body, status=verdict.status)
            if verdict.payload is not None:
                if verdict.payload not in await self._shown(request, verdict.conversation_id):
                    logger.info("rest.refused status=400 reason=payload_not_shown")
                    return response.json(
                        {"error": "payload is not a button of the assistant's last answer"},
                        status=400)
                return await self._turn(on_new_message, verdict.conversation_id,
                                        verdict.payload)
            if not verdict.text.strip():
                logger.info("rest.empty conversation=%s", ref(verdict.conversation_id))
                return response.json([])
            return await self._turn(on_new_message, verdict.conversation_id, verdict.text)

        return blueprint

    @staticmethod
    async def _shown(request: Request, conversation_id: str) -> set[str]:
        agent = getattr(request.app.ctx, "agent", None)
        tracker_store = getattr(agent, "tracker_store", None)
        if tracker_store is None:
            return set()
        # The full tracker: ``retrieve`` starts at the session's ``session_started``, after the
        # session's first answer (the disclosure and the consent question, with its buttons).
        tracker = await tracker_store.retrieve_full_tracker(conversation_id)
        return set() if tracker is None else shown_payloads(tracker.events)

    async def _turn(self, on_new_message: Callable[[UserMessage], Awaitable[Any]],
                    conversation_id: str, text: str) -> HTTPResponse:
        collector = CollectingOutputChannel()
        message = UserMessage(text, collector, conversation_id,
                              input_channel=self.name(), metadata=None)
        conversation = ref(conversation_id)
        try:
            await on_new_message(message)
        except asyncio.CancelledError:
            logger.warning("rest.turn.cancelled conversation=%s", conversation)
            raise
        except Exception as exc:  # noqa: BLE001 - the boundary: the client is told to retry
            logger.error("rest.turn.failed conversation=%s error=%s", conversation,
                         type(exc).__name__)
            return response.json(
                {"error": "the message could not be handled; send it again"}, status=503)
        logger.info("rest.turn.done conversation=%s messages=%d", conversation,
                    len(collector.messages))
        return response.json(collector.messages)
