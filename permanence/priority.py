"""Which replies go first when a channel may send only so many (X: 15 DMs per 15 minutes).

A reply gets a priority *class* when it is queued, computed by whoever queues it; the channel
stores it (``permanence/x_store.py``):

- :data:`LAWYER` (0): the lawyer's replies from the desk (and the desk's hand-back message);
- :data:`URGENT` (1): the assistant's replies in a P0 conversation;
- :data:`NORMAL` (2): every other reply of the assistant.

The channel sends first the lawyer's replies; then the first answer of each person who has had
none, P0 conversations first; then the other replies, P0 conversations first; in each group
whoever has waited longest. It never reorders one person's replies. A first answer goes before
a P0 conversation's *next* message because, at 15 DMs a window, a few five-message P0 triages
would otherwise leave everyone else unanswered for more than a window (issue #15: every person
answered within ceil(N/15) windows); the P0 person was answered first among the new, and when
their next answer would wait they are offered the web chat (``permanence/continue_link.py``),
where nothing is rationed.

The rule for P0, simple on purpose: a conversation is P0 when its urgency slot (``urgence``:
a provisional tier set by the triage at each turn, ``actions/intake_action.py``, then the final
one at the handover, ``actions/handoff.py``) says ``P0``, or when the desk's case of the
conversation says ``P0``. The X channel reads the slot from the saved tracker after the turn.

The desk registers its lookup here (:func:`register_case_tier`) when it starts; the channels
ask :func:`of_conversation`. This module imports no channel and no desk.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from permanence.logids import ref

logger = logging.getLogger(__name__)

LAWYER, URGENT, NORMAL = 0, 1, 2
PRIORITIES = (LAWYER, URGENT, NORMAL)
URGENT_TIER = "P0"

# conversation id -> the urgency of the desk's latest case of it, or None. Synchronous: it is
# called from a thread pool, off the event loop.
CaseTier = Callable[[str], "str | None"]

_case_tier: CaseTier | None = None
_lock = threading.Lock()


def register_case_tier(lookup: CaseTier) -> None:
    global _case_tier
    with _lock:
        _case_tier = lookup


def unregister_case_tier() -> None:
    global _case_tier
    with _lock:
        _case_tier = None


def case_tier(conversation_id: str) -> str | None:
    """The desk's urgency for ``conversation_id``, None when no desk is registered or the
    lookup fails (logged: the reply is then queued as NORMAL, never held back)."""
    lookup = _case_tier
    if lookup is None:
        return None
    try:
        return lookup(conversation_id)
    except Exception:  # noqa: BLE001 - a priority is never worth losing a reply
        logger.exception("priority.case_tier_failed conversation=%s", ref(conversation_id))
        return None


def of_conversation(conversation_id: str, slot_tier: object = None) -> int:
    """URGENT when the urgency slot or the desk's case says P0, else NORMAL."""
    if slot_tier == URGENT_TIER or case_tier(conversation_id) == URGENT_TIER:
        return URGENT
    return NORMAL
