"""Mastodon's public posts, as the runtime handles them (the inbox items of kind ``tweet``, the
store's kind of a public post): a post that mentions the account gets one neutral invitation
to write privately, per person and ``invitation_period_hours`` (``invitation.decide``, the
period kept by ``Store.invitation_allowed``), posted at once with an ``Idempotency-Key`` of its
own (a retried turn never posts it twice). A post that only carries a watched hashtag is for
the lawyer to answer by hand: logged (status id only) until the desk's list of public posts has
a channel column (``x_public_post`` is X's today).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from channels.outcomes import Sent
from channels.store import InboxItem, utcnow
from connectors.mastodon.invitation import decide
from connectors.mastodon.payloads import InboundStatus
from permanence.logids import ref

if TYPE_CHECKING:
    from connectors.mastodon.runtime import MastodonRuntime

logger = logging.getLogger(__name__)


def inbound(item: InboxItem) -> InboundStatus:
    """The post of an inbox item, as stored (never its text)."""
    payload = item.payload or {}
    return InboundStatus(
        status_id=str(payload["status_id"]), account_id=item.sender_id,
        acct=str(payload["acct"]), text="", visibility=str(payload.get("visibility")),
        mentions=(), hashtags=tuple(payload.get("hashtags") or ()), in_reply_to_id=None,
        created_at=None, url=payload.get("url"))


async def handle(runtime: MastodonRuntime, item: InboxItem) -> None:
    payload = item.payload or {}
    post = inbound(item)
    person = ref(f"mastodon:{item.sender_id}")
    if payload.get("kind") == "hashtag":
        logger.warning("mastodon.post.hashtag_only status_id=%s person=%s (answer by hand)",
                       post.status_id, person)
        return
    adapter = runtime.adapter
    # Stored as a mention: it mentioned the account (the stored row keeps no mention list).
    post = InboundStatus(**{**post.__dict__, "mentions": (adapter.account_id,)})
    decision = decide(post, adapter.account_id, runtime.settings.hashtags, None, utcnow(),
                      timedelta(hours=runtime.settings.invitation_period_hours))
    if decision.action != "invite":
        logger.info("mastodon.post.ignored status_id=%s reason=%s", post.status_id,
                    decision.reason)
        return
    period = timedelta(hours=runtime.settings.invitation_period_hours)
    if not await runtime.run_db(runtime.store.invitation_allowed, item.sender_id,
                                period=period):
        logger.info("mastodon.post.invitation_skipped status_id=%s person=%s reason=period",
                    post.status_id, person)
        return
    delivery = await adapter.invite(post, decision.visibility or "unlisted",
                                    idempotency_key=f"permanence-invitation-{post.status_id}")
    if not isinstance(delivery.outcome, Sent):
        # The turn is retried; the invitation stays recorded for the period (as on X).
        raise RuntimeError(f"mastodon.post.invitation_failed {type(delivery.outcome).__name__}")
    logger.info("mastodon.post.invited status_id=%s person=%s reply_id=%s", post.status_id,
                person, delivery.outcome.platform_id)
