"""X-style error bodies (v2 "problem" JSON) and the exception handlers raise to send them."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from aiohttp import web

from .fixtures import load_fixture

PROBLEM_CONTENT_TYPE = "application/problem+json"
JSON_CONTENT_TYPE = "application/json"
INVALID_REQUEST_TYPE = "https://api.twitter.com/2/problems/invalid-request"
UNSUPPORTED_AUTH_TYPE = "https://api.twitter.com/2/problems/unsupported-authentication"
RESOURCE_NOT_FOUND_TYPE = "https://api.twitter.com/2/problems/resource-not-found"

AUTH_LABELS = {
    "oauth1": "OAuth 1.0a User Context",
    "bearer": "OAuth 2.0 Application-Only",
}


def about_blank(status: int, detail: str | None = None) -> dict[str, Any]:
    """The generic body X sends for 401/403/429/5xx, e.g. the recorded 403 and 429."""
    title = HTTPStatus(status).phrase
    return {"title": title, "type": "about:blank", "status": status, "detail": detail or title}


def forbidden_body() -> dict[str, Any]:
    return load_fixture("error_403_forbidden_dm_send.json")


def too_many_requests_body() -> dict[str, Any]:
    return load_fixture("error_429_too_many_requests.json")


def forbidden_detail_body(detail: str) -> dict[str, Any]:
    return {"detail": detail, "type": "about:blank", "title": "Forbidden", "status": 403}


def unsupported_auth_body(used: str, supported: frozenset[str]) -> dict[str, Any]:
    allowed = ", ".join(AUTH_LABELS[kind] for kind in sorted(supported))
    if supported == frozenset({"oauth1"}):
        allowed += ", OAuth 2.0 User Context"
    return {
        "title": "Unsupported Authentication",
        "detail": (f"Authenticating with {AUTH_LABELS[used]} is forbidden for this endpoint.  "
                   f"Supported authentication types are [{allowed}]."),
        "type": UNSUPPORTED_AUTH_TYPE,
        "status": 403,
    }


def invalid_request_body(message: str, parameters: dict[str, list[str]] | None = None
                         ) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message}
    if parameters:
        error = {"parameters": parameters, "message": message}
    return {
        "errors": [error],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": INVALID_REQUEST_TYPE,
    }


def not_found_problem(resource_type: str, parameter: str, value: str, detail: str
                      ) -> dict[str, Any]:
    """A partial error, carried in ``errors`` of a 200 response (e.g. unknown user id)."""
    return {
        "value": value,
        "detail": detail,
        "title": "Not Found Error",
        "resource_type": resource_type,
        "parameter": parameter,
        "resource_id": value,
        "type": RESOURCE_NOT_FOUND_TYPE,
    }


def json_response(body: Any, status: int = 200, *, problem: bool = False,
                  headers: dict[str, str] | None = None) -> web.Response:
    content_type = PROBLEM_CONTENT_TYPE if problem else JSON_CONTENT_TYPE
    return web.Response(
        text=json.dumps(body, ensure_ascii=False),
        status=status,
        content_type=content_type,
        charset="utf-8",
        headers=headers,
    )


class ApiError(Exception):
    """Raised by API handlers; the middleware turns it into the response."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status)
        self.status = status
        self.body = body

    def response(self) -> web.Response:
        return json_response(self.body, self.status, problem=True)


def invalid_request(message: str, parameter: str | None = None, value: str | None = None
                    ) -> ApiError:
    parameters = {parameter: [value if value is not None else ""]} if parameter else None
    return ApiError(400, invalid_request_body(message, parameters))
