"""One status (a direct message, or the public invitation), Mastodon's answer mapped to a typed
outcome (``channels/outcomes.py``). Everything Mastodon.py raises stays here:

- 200: :class:`Sent` with the status's id;
- 429 (the account's 300 requests per 5 minutes, or its 300 statuses per 3 hours):
  :class:`PauseChannel` until the ``X-RateLimit-Reset`` Mastodon gave (None if it gave none);
- 404 (the person's status to reply to is gone, or the person blocked the account: Mastodon
  answers « does not appear to exist »), 410 (the account is gone), 403, 422 (refused):
  :class:`GiveUp` with the lawyer's reason in French;
- 5xx, 401 (credentials being fixed: logged as an error), network, timeout:
  :class:`RetryAfter` with the runtime's backoff.

Synchronous (Mastodon.py is): the adapter calls :func:`post_status` in a thread, under the
client's lock. Logs carry statuses, never the text or the person.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from mastodon import (
    MastodonAPIError,
    MastodonError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)

from channels.outcomes import Delivery, GiveUp, Outcome, PauseChannel, RetryAfter, Sent
from connectors.mastodon.client import Client

logger = logging.getLogger(__name__)

# The lawyer's words (LEGAL: no person id, no text).
BLOCKED_OR_GONE = ("la personne a bloqué le compte, supprimé son message ou son compte "
                   "Mastodon : le message ne peut pas lui être remis")
ACCOUNT_GONE = "ce compte Mastodon n'existe plus ou n'est plus joignable"
REFUSED = "Mastodon a refusé ce message"


def api_status(exc: MastodonAPIError) -> int | None:
    """The HTTP status Mastodon.py put in the exception (its second argument)."""
    status = exc.args[1] if len(exc.args) > 1 else None
    return status if isinstance(status, int) else None


def outcome_of(exc: MastodonError, reset_epoch: float | None) -> Outcome:
    """The outcome of one failed call (pure: ``reset_epoch`` is the client's parsed
    ``X-RateLimit-Reset``)."""
    if isinstance(exc, MastodonRatelimitError):
        until = datetime.fromtimestamp(reset_epoch, timezone.utc) if reset_epoch else None
        return PauseChannel(until, "429")
    if isinstance(exc, MastodonUnauthorizedError):
        logger.error("mastodon.send.unauthorized: check MASTODON_ACCESS_TOKEN")
        return RetryAfter(None, "401")
    if isinstance(exc, MastodonNotFoundError):
        return GiveUp("404", BLOCKED_OR_GONE)
    if isinstance(exc, MastodonServerError):
        return RetryAfter(None, str(api_status(exc) or "5xx"))
    if isinstance(exc, MastodonAPIError):
        status = api_status(exc)
        if status == 410:
            return GiveUp("410", ACCOUNT_GONE)
        if status in (400, 403, 422):
            return GiveUp(str(status), REFUSED)
        return RetryAfter(None, str(status or "api"))
    if isinstance(exc, MastodonNetworkError):
        return RetryAfter(None, "network")
    return RetryAfter(None, type(exc).__name__[:32])


def post_status(client: Client, status: str, in_reply_to_id: str | None,
                visibility: str = "direct", idempotency_key: str | None = None) -> Delivery:
    """Post one status and say what became of it (never raises for Mastodon's answers or
    the network; a programming error still raises)."""
    try:
        posted = client.call("status_post", status, in_reply_to_id=in_reply_to_id,
                             visibility=visibility, idempotency_key=idempotency_key)
    except MastodonError as exc:
        outcome = outcome_of(exc, client.api.ratelimit_reset)
        logger.info("mastodon.send.failed status=%s outcome=%s", client.last_status,
                    type(outcome).__name__)
        return Delivery(outcome, dict(client.last_headers), client.last_status)
    return Delivery(Sent(str(posted["id"])), dict(client.last_headers), client.last_status)
