"""What the channel does with a public post (pure): Mastodon lets an account answer anything,
but the firm answers only posts that mention its account, once per person and period, with one
neutral invitation to write privately (never a fact in public: LEGAL.md N3/N4). A post that
only carries a watched hashtag is not answered: it is listed for the lawyer, who answers by
hand (``permanence/public_posts.py``). The period itself is kept atomically by the store
(``Store.invitation_allowed``); :func:`decide` takes when the person was last invited, for a
caller that knows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from connectors.mastodon.payloads import InboundStatus, classify

Action = Literal["invite", "desk", "ignore"]


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str  # for the logs: mention, period, hashtag, direct, own, unrelated
    visibility: str | None = None  # of the invitation


def decide(post: InboundStatus, account_id: str, watched: tuple[str, ...],
           last_invited_at: datetime | None, now: datetime, period: timedelta) -> Decision:
    kind = classify(post, account_id, watched)
    if post.account_id == account_id:
        return Decision("ignore", "own")
    if kind == "dm":
        return Decision("ignore", "direct")  # a private message: the conversation's business
    if kind == "hashtag":
        return Decision("desk", "hashtag")
    if kind != "mention":
        return Decision("ignore", "unrelated")
    if last_invited_at is not None and now - last_invited_at < period:
        return Decision("ignore", "period")
    # A followers-only post is answered privately; a public one in the open but unlisted, so
    # that the invitation does not spread on the public timelines.
    visibility = "direct" if post.visibility == "private" else "unlisted"
    return Decision("invite", "mention", visibility)
