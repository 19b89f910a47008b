"""The Mastodon channel (issue #13, item 6): ``MastodonInput``
(``connectors.mastodon.MastodonInput`` in the credentials file, settings from the environment).

Platform side: ``config`` (settings from the environment), ``payloads`` (notifications and
statuses into inbound events), ``render`` (a turn as statuses), ``client`` (Mastodon.py, with
the last answer's headers), ``send`` (one direct status, its answer as a typed outcome),
``invitation`` (the one public invitation), ``stream`` (the user stream, reconnecting) and
``adapter`` (``MastodonAdapter``). On the durable runtime (``channels/``): ``intake`` (the
stream read under a lease, a poll after each reconnection), ``output``, ``sender``, ``posts``
(public mentions), ``runtime`` (``MastodonRuntime``) and ``channel`` (``MastodonInput``).

``MastodonInput`` is imported on first use, so that the pure modules stay importable without
Rasa.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MastodonInput"]


def __getattr__(name: str) -> Any:
    if name == "MastodonInput":
        from connectors.mastodon.channel import MastodonInput

        return MastodonInput
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
