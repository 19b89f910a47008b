"""Query and body parsing shared by the API handlers, with X's 400 messages."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from aiohttp import web

from .errors import invalid_request
from .ids import parse_iso

ID_PATTERN = re.compile(r"^[0-9]{1,19}$")


async def json_body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise invalid_request("Request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise invalid_request("$: must be a JSON object")
    return body


def id_value(value: str, name: str, where: str = "query") -> str:
    if not ID_PATTERN.match(value):
        raise invalid_request(
            f"The `{name}` {where} parameter value [{value}] does not match ^[0-9]{{1,19}}$",
            name, value)
    return value


def int_param(query: Any, name: str, low: int, high: int, default: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise invalid_request(
            f"The `{name}` query parameter value [{raw}] is not between {low} and {high}",
            name, raw)
    return value


def time_param(query: Any, name: str) -> float | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        return parse_iso(raw)
    except ValueError:
        raise invalid_request(
            f"Invalid '{name}':'{raw}'. '{name}' must be a valid RFC 3339 timestamp",
            name, raw) from None


def _encode_token(kind: str, last_id: str) -> str:
    return base64.b32hexencode(f"{kind}:{last_id}".encode("ascii")).decode("ascii").rstrip("=")


def _decode_token(kind: str, token: str, name: str) -> int:
    try:
        padded = token + "=" * (-len(token) % 8)
        token_kind, _, last_id = base64.b32hexdecode(padded).decode("ascii").partition(":")
        if token_kind != kind:
            raise ValueError(token_kind)
        return int(last_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid_request(
            f"The `{name}` query parameter value [{token}] is not valid", name, token) from None


def paginate(items: list, kind: str, token: str | None, token_name: str, max_results: int
              ) -> tuple[list, str | None]:
    """``items`` newest first; a token resumes after the last id of the previous page."""
    if token:
        cursor = _decode_token(kind, token, token_name)
        items = [item for item in items if int(item.id) < cursor]
    page = items[:max_results]
    next_token = _encode_token(kind, page[-1].id) if len(items) > max_results else None
    return page, next_token
