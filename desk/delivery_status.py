"""The channel's word on the lawyer's replies, added to a case the desk shows.

A channel that keeps its sends (X's outbox, the web chat until a page acknowledges them)
registers a lookup in ``permanence/deliveries.py``; the desk never imports it.
:func:`with_channel_status` asks it about the case's replies (by their reference,
:func:`permanence.deliveries.ref`) and puts the answer on each reply as ``channel_delivery``
(``{"state", "at", "reason"}``, or None when no channel knows the reply: a channel not running,
a reply from before the web chat kept its messages), and ``delivery_status``: what the desk
shows (``views.delivery_view``). Synchronous (the lookup may read the channel's database): call
it off the event loop, e.g. in the ``in_db`` unit that read the case.
"""

from __future__ import annotations

from typing import Any

from desk import views
from permanence import deliveries


def with_channel_status(case: dict[str, Any]) -> dict[str, Any]:
    replies = {deliveries.ref(m["id"]): m for m in case.get("messages") or []
               if m.get("author") == "lawyer"}
    found = deliveries.lookup(replies) if replies else {}
    for reference, message in replies.items():
        status = found.get(reference)
        message["channel_delivery"] = deliveries.as_json(status) if status else None
        message["delivery_status"] = views.delivery_view(message)
    return case
