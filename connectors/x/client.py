"""The X API client of the channel: tweepy's ``AsyncClient``, optionally sent to another origin.

tweepy 4.17 builds every URL as ``"https://api.twitter.com" + route`` and, for OAuth 1.0a user
context, signs that URL before handing it to ``self.session.request(...)``. To talk to another
origin (the X sandbox on loopback, a proxy), :class:`OriginSession` stands in for the
``aiohttp.ClientSession`` that tweepy uses when ``client.session`` is set: it swaps the origin
(path and query kept as encoded by tweepy) and, for user-context calls, signs the request again
for the URL that really goes on the wire (an OAuth 1.0a signature covers scheme, host, port,
path and query). Bearer calls only change origin. Error mapping, parameters and return types
stay tweepy's.

Clients are created inside the running loop (sanic ``after_server_start``), never at import.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from oauthlib.oauth1 import Client as OAuthClient
from tweepy.asynchronous import AsyncClient
from yarl import URL

X_API_ORIGIN = "https://api.twitter.com"
REQUEST_TIMEOUT_SECONDS = 30.0


def check_api_base_url(value: str) -> str:
    """``value`` without a trailing slash if it is an absolute http(s) URL, else ValueError."""
    url = URL(value)
    if not url.is_absolute() or url.scheme not in ("http", "https") or url.query_string:
        raise ValueError("api_base_url must be an absolute http(s) URL without query")
    return value.rstrip("/")


def status_of(exc: BaseException) -> str:
    """The HTTP status of an X API error, else the exception's name (for logs and the store)."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status", None)
    return str(status) if status is not None else type(exc).__name__


class OriginSession:
    """Duck-typed ``aiohttp.ClientSession`` for tweepy: another origin, signed for it."""

    def __init__(self, api_base_url: str, client: AsyncClient,
                 session: aiohttp.ClientSession) -> None:
        base = URL(check_api_base_url(api_base_url))
        self._origin = str(base.origin())
        self._prefix = base.raw_path.rstrip("/")
        self._client = client
        self._session = session

    @property
    def closed(self) -> bool:
        return self._session.closed

    async def close(self) -> None:
        await self._session.close()

    def target(self, url: str | URL) -> URL:
        """``https://api.twitter.com/2/x?q=1`` -> ``<api_base_url>/2/x?q=1`` (still encoded)."""
        source = url if isinstance(url, URL) else URL(url, encoded=True)
        if str(source.origin()) != X_API_ORIGIN:
            raise ValueError("tweepy asked for a URL outside the X API")
        return URL(self._origin + self._prefix + source.raw_path_qs, encoded=True)

    def request(self, method: str, url: str | URL, *,
                headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        target = self.target(url)
        headers = dict(headers or {})
        if headers.get("Authorization", "").startswith("OAuth "):
            del headers["Authorization"]
            client = self._client
            oauth = OAuthClient(client.consumer_key, client.consumer_secret,
                                client.access_token, client.access_token_secret)
            signed_url, headers, _ = oauth.sign(str(target), method, headers=headers)
            target = URL(signed_url, encoded=True)
        return self._session.request(method, target, headers=headers, **kwargs)


class XApiClient(AsyncClient):
    """``AsyncClient`` with one HTTP session, created on first use inside the running loop,
    and requests sent to ``api_base_url``. Close it with :meth:`aclose`."""

    def __init__(self, api_base_url: str = X_API_ORIGIN, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.api_base_url = check_api_base_url(api_base_url)

    def _new_session(self) -> Any:
        http = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS), trust_env=False)
        if self.api_base_url == X_API_ORIGIN:
            return http
        return OriginSession(self.api_base_url, self, http)

    async def request(self, method, route, params=None, json=None, user_auth=False):
        if self.session is None or self.session.closed:
            self.session = self._new_session()
        return await super().request(method, route, params=params, json=json,
                                     user_auth=user_auth)

    async def send_dm(self, participant_id: str, text: str) -> tuple[str | None, Any]:
        """Send a DM with the user context; returns X's ``dm_event_id`` and the response's
        headers (the rate-limit windows it reports: ``permanence/x_budget.py``). Errors are
        tweepy's (``TooManyRequests``, ``Forbidden``...), their ``response`` carrying the
        headers too. tweepy's ``create_direct_message`` keeps only the body."""
        response = await self.request(
            "POST", f"/2/dm_conversations/with/{participant_id}/messages", params={},
            json={"text": text}, user_auth=True)
        body = await response.json(content_type=None)
        data = body.get("data") if isinstance(body, dict) else None
        return (data or {}).get("dm_event_id"), response.headers

    async def aclose(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None
