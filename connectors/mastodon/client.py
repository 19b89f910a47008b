"""Mastodon.py pointed at the instance (any base URL: the emulator's too), rate limits left
to the channel (``ratelimit_method="throw"``: a 429 raises at once, the sender pauses), and
the status and headers of each call's answer kept for the channel's budget.

Mastodon.py is synchronous (requests): the adapter runs each call in a thread, one at a time
per client (:attr:`Client.lock`), so that the answer read after a call is that call's.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
from mastodon import Mastodon

from connectors.mastodon.config import MastodonSettings

USER_AGENT = "Permanence (+Mastodon.py)"


@dataclass
class Client:
    api: Mastodon
    lock: threading.Lock = field(default_factory=threading.Lock)
    last_status: int | None = None
    last_headers: Mapping[str, str] = field(default_factory=dict)

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """``api.<method>(...)``: call under the lock from a worker thread."""
        self.last_status, self.last_headers = None, {}
        return getattr(self.api, method)(*args, **kwargs)


def make_client(settings: MastodonSettings) -> Client:
    session = requests.Session()
    client = Client(api=None)  # type: ignore[arg-type]

    def record(response: requests.Response, *_args: Any, **_kwargs: Any) -> None:
        client.last_status = response.status_code
        client.last_headers = {key: value for key, value in response.headers.items()
                               if key.lower().startswith("x-ratelimit")}

    session.hooks["response"].append(record)
    client.api = Mastodon(access_token=settings.access_token, api_base_url=settings.base_url,
                          ratelimit_method="throw", request_timeout=settings.request_timeout,
                          session=session, version_check_mode="none", user_agent=USER_AGENT)
    return client
