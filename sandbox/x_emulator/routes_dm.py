"""Direct message endpoints: send (201/403) and list DM events."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from .appkeys import DISPATCHER_KEY, STATE_KEY
from .errors import ApiError, forbidden_body, invalid_request, json_response
from .params import ID_PATTERN, id_value, int_param, json_body, paginate
from .payloads import (
    DM_EVENT_FIELDS_KNOWN,
    DM_EVENT_TYPES,
    DM_EXPANSIONS_KNOWN,
    TWEET_FIELDS_KNOWN,
    USER_FIELDS_KNOWN,
    Includes,
    aaa_dm_payload,
    dm_event_v2,
    encode_payload,
    parse_list_param,
    xaa_dm_payload,
)
from .state import EmulatorState, conversation_id_for

logger = logging.getLogger(__name__)

DM_MAX_LENGTH = 10_000


def _dm_request(body: dict[str, Any]) -> tuple[str, list[str]]:
    for key in body:
        if key not in ("text", "attachments"):
            raise invalid_request(f"$.{key}: is not defined in the schema and the schema "
                                  "does not allow additional properties")
    text = body.get("text")
    attachments = body.get("attachments")
    if text is None and attachments is None:
        raise invalid_request("$: at least one of `text`, `attachments` is required")
    if text is not None:
        if not isinstance(text, str) or not text:
            raise invalid_request("$.text: must be a non-empty string")
        if len(text) > DM_MAX_LENGTH:
            raise invalid_request(f"$.text: must be at most {DM_MAX_LENGTH} characters long")
    media_ids: list[str] = []
    if attachments is not None:
        if (not isinstance(attachments, list) or len(attachments) != 1
                or not isinstance(attachments[0], dict)
                or not ID_PATTERN.match(str(attachments[0].get("media_id", "")))):
            raise invalid_request("$.attachments: one item {\"media_id\": \"<id>\"} expected")
        media_ids = [str(attachments[0]["media_id"])]
    return text or "", media_ids


async def _send_dm(request: web.Request, recipient_id: str) -> web.Response:
    state = request.app[STATE_KEY]
    text, media_ids = _dm_request(await json_body(request))
    refusal = state.dm_refusal(recipient_id)
    if refusal is not None:
        logger.info("x_sandbox.dm.refused recipient_id=%s reason=%s", recipient_id, refusal)
        raise ApiError(403, forbidden_body())
    event = state.add_outbound_dm(recipient_id, text, media_ids)
    state.usage.charge("dm_sent")
    logger.info("x_sandbox.dm.sent event_id=%s recipient_id=%s length=%d",
                event.id, recipient_id, len(text))
    dispatcher = request.app[DISPATCHER_KEY]
    dispatcher.publish(
        event.id, "direct_message_events", encode_payload(aaa_dm_payload(event, state)),
        deliver=state.config.echo_own_events)
    dispatcher.publish_activity(state.activity.emit(
        "dm.sent", state.account.id, xaa_dm_payload(event, state), None, None, event.id))
    # The recorded response has the id in quotes in this header (sic).
    location = f'{request.scheme}://{request.host}/2/dm_events/"{event.id}"'
    return json_response(
        {"data": {"dm_conversation_id": event.dm_conversation_id, "dm_event_id": event.id}},
        201, headers={"location": location})


async def send_dm_with_participant(request: web.Request) -> web.Response:
    participant_id = id_value(request.match_info["participant_id"], "participant_id", "path")
    return await _send_dm(request, participant_id)


def _other_participant(state: EmulatorState, conversation_id: str) -> str:
    parts = conversation_id.split("-")
    account_id = state.account.id
    if len(parts) != 2 or not all(ID_PATTERN.match(p) for p in parts) or account_id not in parts:
        logger.info("x_sandbox.dm.refused reason=unknown_conversation")
        raise ApiError(403, forbidden_body())
    return parts[1] if parts[0] == account_id else parts[0]


async def send_dm_to_conversation(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    recipient_id = _other_participant(state, request.match_info["dm_conversation_id"])
    return await _send_dm(request, recipient_id)


async def _list_dm_events(request: web.Request, conversation_id: str | None) -> web.Response:
    state = request.app[STATE_KEY]
    query = request.query
    fields = parse_list_param(query, "dm_event.fields", DM_EVENT_FIELDS_KNOWN)
    expansions = parse_list_param(query, "expansions", DM_EXPANSIONS_KNOWN)
    user_fields = parse_list_param(query, "user.fields", USER_FIELDS_KNOWN)
    tweet_fields = parse_list_param(query, "tweet.fields", TWEET_FIELDS_KNOWN)
    parse_list_param(query, "media.fields", {"media_key", "type", "url", "preview_image_url",
                                             "width", "height", "duration_ms", "alt_text",
                                             "public_metrics", "variants"})
    event_types = parse_list_param(query, "event_types", DM_EVENT_TYPES) or set(DM_EVENT_TYPES)
    max_results = int_param(query, "max_results", 1, 100, 100)
    events = [ev for ev in state.account_dm_events(conversation_id)
              if ev.event_type in event_types]
    page, next_token = paginate(events, "dm", query.get("pagination_token"),
                                 "pagination_token", max_results)
    if not page:
        return json_response({"meta": {"result_count": 0}})
    state.usage.charge("dm_event_read", [event.id for event in page])
    includes = Includes(state, user_fields, tweet_fields)
    for event in page:
        if "sender_id" in expansions or "participant_ids" in expansions:
            includes.add_user(event.sender_id)
        if "participant_ids" in expansions:
            includes.add_user(event.recipient_id)
    body: dict[str, Any] = {"data": [dm_event_v2(ev, state, fields) for ev in page]}
    if includes.as_json():
        body["includes"] = includes.as_json()
    body["meta"] = {"result_count": len(page)}
    if next_token:
        body["meta"]["next_token"] = next_token
    return json_response(body)


async def list_dm_events(request: web.Request) -> web.Response:
    return await _list_dm_events(request, None)


async def list_dm_events_with_participant(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    participant_id = id_value(request.match_info["participant_id"], "participant_id", "path")
    return await _list_dm_events(request, conversation_id_for(state.account.id, participant_id))


async def list_dm_events_of_conversation(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    other = _other_participant(state, request.match_info["dm_conversation_id"])
    return await _list_dm_events(request, conversation_id_for(state.account.id, other))
