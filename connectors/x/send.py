"""The X adapter's send: one DM, its answer mapped to a typed outcome (``channels/outcomes.py``).

Everything tweepy raises stays here; the runtime's sender (``connectors/x/sender.py``) only
applies the outcome:

- 201: :class:`Sent` with X's ``dm_event_id``;
- 429 (another client of the account spent the budget, or X counts differently):
  :class:`PauseChannel` until the reset X reports (the sender prefers the budget its headers
  give);
- 403 (the person does not accept DMs from the account), 400, 404: :class:`GiveUp`, with the
  reason the lawyer reads in French;
- 5xx, 401 (credentials being fixed), network, timeout: :class:`RetryAfter` with the runtime's
  backoff (401 logged as an error: someone must fix the credentials).

Logs carry statuses, never the text or the recipient.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime, timezone

import aiohttp
import tweepy

from channels.outcomes import Delivery, GiveUp, PauseChannel, RetryAfter, Sent
from connectors.x.client import XApiClient, status_of

logger = logging.getLogger(__name__)

# The lawyer's words for a DM X will never deliver (LEGAL: no person id, no text).
REFUSED_BY_PERSON = "la personne n'accepte plus vos messages privés"
REFUSED_BY_X = "X a refusé ce message"
NO_SUCH_ACCOUNT = "ce compte X n'existe plus ou n'est plus joignable"


def _headers(exc: tweepy.HTTPException) -> Mapping[str, str]:
    return exc.response.headers or {}


async def send_dm(client: XApiClient, recipient_id: str, text: str) -> Delivery:
    """Send one DM and say what became of it (never raises for an answer of X or the
    network; a programming error still raises)."""
    try:
        external_id, headers = await client.send_dm(recipient_id, text)
    except tweepy.TooManyRequests as exc:
        until = (datetime.fromtimestamp(exc.reset_time, timezone.utc)
                 if getattr(exc, "reset_time", None) else None)
        return Delivery(PauseChannel(until, "429"), _headers(exc), 429)
    except tweepy.Forbidden as exc:
        return Delivery(GiveUp("403", REFUSED_BY_PERSON), _headers(exc), 403)
    except tweepy.BadRequest as exc:
        return Delivery(GiveUp(status_of(exc), REFUSED_BY_X), _headers(exc), exc.response.status)
    except tweepy.NotFound as exc:
        return Delivery(GiveUp(status_of(exc), NO_SUCH_ACCOUNT), _headers(exc),
                        exc.response.status)
    except tweepy.HTTPException as exc:  # 5xx, 401
        if isinstance(exc, tweepy.Unauthorized):
            logger.error("x.send.unauthorized")
        return Delivery(RetryAfter(None, status_of(exc)), _headers(exc), exc.response.status)
    except (tweepy.TweepyException, aiohttp.ClientError, asyncio.TimeoutError) as exc:
        # No answer: X may have the DM (the sender looks before sending again).
        return Delivery(RetryAfter(None, status_of(exc)), {}, None)
    return Delivery(Sent(external_id), headers, 201)
