"""Point tweepy's ``AsyncClient`` at another API origin (the X sandbox), correctly signed.

The problem: tweepy 4.17 hard-codes ``"https://api.twitter.com" + route`` inside
``AsyncBaseClient.request`` and, for OAuth 1.0a user context, signs that URL with oauthlib
before calling ``self.session.request(method, url, params=..., json=..., headers=...)``.
An OAuth 1.0a signature covers the scheme, host, port, path and query, so a URL rewritten
*after* signing no longer matches the request the server receives, and any server that
checks the signature against the URL it was sent (the sandbox does, as X does) answers 401.

The approach: ``AsyncClient.session`` is a public attribute, and tweepy uses it for every
request when it is set. :class:`RedirectingSession` stands in for the ``aiohttp.ClientSession``
and, for each call,

1. swaps the ``https://api.twitter.com`` origin for ``api_base`` (path and query kept
   byte for byte, e.g. tweepy's ``%3A``), then
2. for user-context calls (``Authorization: OAuth ...``), drops tweepy's header and signs
   again with the same credentials for the rewritten URL, so the signature covers exactly
   what goes on the wire. Bearer calls only need the new origin.

Nothing else of tweepy changes: parameter handling, error mapping (``Unauthorized``,
``Forbidden``, ``TooManyRequests``, ``TwitterServerError``...), ``wait_on_rate_limit``.
Rejected alternatives: copying ``AsyncBaseClient.request`` (90 lines that drift with tweepy),
monkeypatching ``tweepy.asynchronous.client`` globals (affects every client in the process),
or teaching the server to accept signatures made for another host (hides real bugs).

Usage (a connector can do the same when ``X_API_BASE_URL`` is set)::

    client = RedirectedAsyncClient(
        "http://127.0.0.1:8090",
        consumer_key=..., consumer_secret=..., access_token=..., access_token_secret=...,
        bearer_token=...)
    try:
        me = await client.get_me()
    finally:
        await client.aclose()
"""

from __future__ import annotations

from typing import Any

import aiohttp
from oauthlib.oauth1 import Client as OAuthClient
from tweepy.asynchronous import AsyncClient
from yarl import URL

TWITTER_API_ORIGIN = "https://api.twitter.com"


class RedirectingSession:
    """Duck-typed ``aiohttp.ClientSession`` for tweepy: new origin, fresh OAuth signature."""

    def __init__(self, api_base: str, client: AsyncClient,
                 session: aiohttp.ClientSession | None = None) -> None:
        base = URL(api_base)
        if not base.is_absolute():
            raise ValueError(f"api_base must be an absolute URL, got {api_base!r}")
        self._origin = str(base.origin())
        self._prefix = base.raw_path.rstrip("/")
        self._client = client
        self._session = session or aiohttp.ClientSession()

    @property
    def closed(self) -> bool:
        return self._session.closed

    async def close(self) -> None:
        await self._session.close()

    def redirect(self, url: str | URL) -> URL:
        """``https://api.twitter.com/2/x?q=1`` -> ``<api_base>/2/x?q=1`` (still encoded)."""
        source = url if isinstance(url, URL) else URL(url)
        if str(source.origin()) != TWITTER_API_ORIGIN:
            raise ValueError(f"unexpected URL for tweepy: {source}")
        return URL(self._origin + self._prefix + source.raw_path_qs, encoded=True)

    def request(self, method: str, url: str | URL, *, headers: dict[str, str] | None = None,
                **kwargs: Any):
        target = self.redirect(url)
        headers = dict(headers or {})
        if headers.get("Authorization", "").startswith("OAuth "):
            del headers["Authorization"]
            client = self._client
            oauth = OAuthClient(client.consumer_key, client.consumer_secret,
                                client.access_token, client.access_token_secret)
            signed_url, headers, _ = oauth.sign(str(target), method, headers=headers)
            target = URL(signed_url, encoded=True)
        return self._session.request(method, target, headers=headers, **kwargs)


class RedirectedAsyncClient(AsyncClient):
    """``tweepy.asynchronous.AsyncClient`` whose requests go to ``api_base``.

    Same arguments as ``AsyncClient`` after ``api_base``. It keeps one HTTP session; close
    it with :meth:`aclose` or use the client as an async context manager.
    """

    def __init__(self, api_base: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.api_base = api_base

    async def request(self, method, route, params=None, json=None, user_auth=False):
        # Created here, inside the running loop, as aiohttp requires.
        if self.session is None or self.session.closed:
            self.session = RedirectingSession(self.api_base, self)
        return await super().request(method, route, params=params, json=json,
                                     user_auth=user_auth)

    async def aclose(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None

    async def __aenter__(self) -> RedirectedAsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
