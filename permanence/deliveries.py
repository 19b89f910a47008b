"""What became of the lawyer's replies on the channels that queue them (X), as the desk shows
them: queued, sent (with the time) or not delivered (with the reason, in French).

The desk tags each reply it hands to a channel with a *delivery reference* (:func:`ref`: the
desk message's id, never text or a person id). A channel that queues its sends keeps the
reference on each queued part and registers, when it starts, a *lookup*: a synchronous callable
(it may read a database; the desk calls it off the event loop) from references to
:class:`Status`. The desk asks :func:`lookup`; a reference no channel knows (a channel that is
not running) keeps the desk's own state. The web chat (``channels/webchat_store.py``) keeps
each reply until a page of the conversation acknowledges it: « pas encore lu » (``queued``,
with its French reason), then ``delivered`` with the time a page showed it. This module imports
no channel and no desk.

:func:`combine` is pure: a reply split into several parts is sent only when every part is,
and not delivered as soon as one part was given up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from permanence.registry import Registry

logger = logging.getLogger(__name__)

QUEUED, SENT, FAILED = "queued", "sent", "failed"
DELIVERED = "delivered"  # shown to the person: a web-chat page acknowledged it
X = "x"
WEBCHAT = "webchat"
REF_PREFIX = "desk-message:"


@dataclass(frozen=True)
class Status:
    state: str  # QUEUED, SENT, DELIVERED or FAILED
    at: datetime | None = None  # when it was sent (SENT) or shown (DELIVERED)
    reason: str | None = None  # the channel's word, in French (FAILED; QUEUED on the web chat)


@dataclass(frozen=True)
class Part:
    """One queued part of a reply, as the channel's store keeps it."""

    state: str  # QUEUED, SENT or FAILED
    sent_at: datetime | None = None
    reason: str | None = None


Lookup = Callable[[list[str]], dict[str, Status]]
lookups: Registry[Lookup] = Registry()


def ref(message_id: int) -> str:
    """The delivery reference of the desk message ``message_id``."""
    return f"{REF_PREFIX}{int(message_id)}"


def combine(parts: Iterable[Part]) -> Status | None:
    """The status of a reply from its parts' (None when there is none)."""
    parts = list(parts)
    if not parts:
        return None
    failed = [p for p in parts if p.state == FAILED]
    if failed:
        return Status(FAILED, reason=next((p.reason for p in failed if p.reason), None))
    if any(p.state != SENT for p in parts):
        return Status(QUEUED)
    times = [p.sent_at for p in parts if p.sent_at is not None]
    return Status(SENT, at=max(times) if times else None)


def lookup(refs: Iterable[str]) -> dict[str, Status]:
    """The status of each reference a running channel knows; a channel whose lookup fails is
    logged and shows nothing (the desk keeps its own state)."""
    wanted = sorted(set(refs))
    found: dict[str, Status] = {}
    if not wanted:
        return found
    for name, entry in lookups.items():
        try:
            found.update(entry(wanted))
        except Exception:  # noqa: BLE001 - one channel's failure must not hide the others
            logger.exception("deliveries.lookup_failed channel=%s", name)
    return found


def as_json(status: Status) -> dict[str, Any]:
    return {"state": status.state, "at": status.at.isoformat() if status.at else None,
            "reason": status.reason}
