"""X's public posts: what the runtime does with a tweet meant for the account, and the list
the desk shows.

X accepts an automated reply only to a post that summons the account (an @mention, a quote of
one of its posts: ``payloads.summons``): such a post gets one neutral public invitation to write
in DM, per person and ``invitation_period_hours``. A post that only carries the hashtag gets
none (X forbids it since 2026-02-23): it is listed on the desk for the lawyer to answer by hand
(``x_public_post``, ``permanence/public_posts.py``), as a handle and a link, never a text.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import tweepy

from channels.store import InboxItem
from connectors.x import render
from connectors.x.inbox import person_ref
from connectors.x.payloads import InboundTweet, is_for_us, summons
from permanence import public_posts, x_costs

if TYPE_CHECKING:
    from connectors.x.runtime import XRuntime

logger = logging.getLogger(__name__)

INVITATION_VARIANT_CURSOR = "x.invitation.variant"


class PublicPosts:
    """The X runtime's public posts (``source``: what the desk's registry reads)."""

    def __init__(self, runtime: XRuntime) -> None:
        self.runtime = runtime
        self.source = public_posts.Source(self.open_posts, self.done)

    def open_posts(self) -> list[dict[str, Any]]:
        """The public posts to answer by hand, for the desk (synchronous): handle and link,
        never a text."""
        store = self.runtime.store
        if store is None:
            raise RuntimeError("the x channel is not running (no store)")
        return [{"id": post["id"], "handle": post["username"],
                 "link": render.post_link(post["tweet_id"], post["username"]),
                 "posted_at": post["posted_at"], "received_at": post["received_at"]}
                for post in store.public_posts_open()]

    def done(self, post_id: int) -> bool:
        store = self.runtime.store
        if store is None:
            raise RuntimeError("the x channel is not running (no store)")
        return store.public_post_done(post_id)

    async def handle(self, item: InboxItem) -> None:
        """A tweet meant for the account (the inbox item of kind ``tweet``)."""
        runtime = self.runtime
        payload = item.payload or {}
        tweet = InboundTweet(
            tweet_id=str(payload["tweet_id"]), author_id=item.sender_id,
            username=payload.get("username"), text="",
            hashtags=tuple(payload.get("hashtags") or ()),
            mentions=tuple(payload.get("mentions") or ()),
            in_reply_to_status_id=None, is_retweet=bool(payload.get("is_retweet")),
            created_at=None,
            quoted_author_id=runtime.account_id if payload.get("quotes_account") else None)
        account_id, username = runtime.account_id or "", runtime.account_username or ""
        if not is_for_us(tweet, account_id, username, runtime.settings.hashtags):
            return
        if not summons(tweet, account_id, username):
            # Only the hashtag: X allows no automated reply; the lawyer answers by hand.
            await self._to_desk(item, tweet)
            return
        period = timedelta(hours=runtime.settings.invitation_period_hours)
        if not await runtime.run_db(runtime.store.invitation_allowed, tweet.author_id,
                                    period=period):
            logger.info("x.tweet.invitation_skipped tweet_id=%s person=%s reason=period",
                        tweet.tweet_id, person_ref(tweet.author_id))
            return
        await self._post_invitation(tweet)

    async def _to_desk(self, item: InboxItem, tweet: InboundTweet) -> None:
        """List a hashtag-only post for the lawyer: its id, author (for erasure) and handle."""
        runtime = self.runtime
        posted = (item.payload or {}).get("created_at")
        try:
            posted_at = datetime.fromisoformat(posted) if posted else None
        except ValueError:
            posted_at = None
        added = await runtime.run_db(runtime.store.public_post_add, tweet.tweet_id, tweet.author_id,
                                  tweet.username, posted_at)
        logger.info("x.tweet.to_desk tweet_id=%s person=%s new=%s", tweet.tweet_id,
                    person_ref(tweet.author_id), added)

    async def _post_invitation(self, tweet: InboundTweet) -> None:
        """One public reply; X refuses a text identical to an earlier tweet (403), so each
        invitation uses the next wording (a counter kept in the store). It carries the DM link
        only with ``invitation_dm_link`` (a post with a URL costs $0.20 instead of $0.01)."""
        runtime = self.runtime
        raw = await runtime.run_db(runtime.store.cursor_get, INVITATION_VARIANT_CURSOR)
        variant = int(raw) if raw and raw.isdigit() else 0
        for attempt in range(len(render.INVITATION_TEMPLATES) + 1):
            text = render.invitation_text(runtime.account_username, runtime.account_id,
                                          variant=variant + attempt,
                                          dm_link=runtime.settings.invitation_dm_link)
            try:
                response = await runtime.client.create_tweet(
                    text=text, in_reply_to_tweet_id=tweet.tweet_id, user_auth=True)
            except tweepy.Forbidden:
                logger.warning("x.tweet.invitation_refused tweet_id=%s attempt=%d",
                               tweet.tweet_id, attempt)
                continue
            # A reply to a post that summoned the account (the only ones answered).
            await runtime.charge(runtime.meter.call(x_costs.post_kind(text, summoned_reply=True)))
            await runtime.run_db(runtime.store.cursor_set, INVITATION_VARIANT_CURSOR,
                              str(variant + attempt + 1))
            reply_id = (response.data or {}).get("id")
            logger.info("x.tweet.invited tweet_id=%s person=%s reply_id=%s",
                        tweet.tweet_id, person_ref(tweet.author_id), reply_id)
            return
        raise RuntimeError("x.tweet.invitation_failed")

