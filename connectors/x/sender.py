"""``OutboxSender``: the X channel's sender, the generic one (``channels/sender.py``: its own
thread and loop, order per person, the typed outcomes applied, backoff, the 429 pause) with what
X adds:

- **the DM budget** (X: 15 per 15 minutes, 1,440 per 24 hours, shared by the assistant and
  the lawyer): every response's ``x-rate-limit-*`` and ``x-*-limit-24hour-*`` headers go into
  the store's ``dm_send`` budget (``permanence/x_budget.py``), a reply is only handed out with
  one DM of that budget reserved, in the same transaction, and when a window is spent every
  sender of every process waits for its reset (plus ``budget_margin_seconds``) instead of
  meeting a 429. Replies to people already answered are paced (``budget_pace_burst``): they
  spend the window no faster than its average rate, so that a rush of newcomers still finds
  DMs for their first answers;
- **the send** by the X adapter (``connectors/x/adapter.py``, ``send.py``: tweepy's exceptions
  mapped to outcomes there: 429 ``PauseChannel``, 403/400/404 ``GiveUp``, 5xx/401/network
  ``RetryAfter`` with backoff from ``send_retry_seconds``);
- **a DM sent before a crash**: a reply reserved before (its process died mid-send) is first
  looked up in the conversation on X, so a DM X accepted but never recorded is not sent twice;
- **the link to continue on the web chat** (``permanence/continue_link.py``, when the firm
  turned it on): before a DM goes, if the person's next answer would wait longer than the
  configured time for the budget (the DMs queued ahead of it, the window's reset), and the
  conversation was never offered the link, a token is issued and the DM's text, with the link
  line added, is stored before it is sent (a retry sends and looks for the same text). A
  failure to offer is logged and the DM goes without the link;
- **costs** (``permanence/x_costs.py``): a DM accepted (201) is recorded with the reply marked
  sent, in one transaction; the DM events a look-up read, once per event per UTC day.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from datetime import timedelta

from channels.sender import ChannelSender
from channels.store import ERASED, OutboxItem, Store, utcnow
from connectors.x.adapter import XAdapter
from connectors.x.client import REQUEST_TIMEOUT_SECONDS, XApiClient, status_of
from connectors.x.config import XSettings
from connectors.x.inbox import person_ref
from connectors.x.payloads import conversation_events_request, parse_dm_events_page
from connectors.x.polling import response_json
from connectors.x.render import DM_MAX_CHARS
from permanence import continue_link, conversations, x_costs
from permanence.continue_link import Settings as ContinueSettings
from permanence.continue_store import ContinueStore
from permanence.priority import LAWYER, NORMAL
from permanence.x_costs import Charge, CostMeter

BUDGET = "dm_send"  # the store's row of the account's DM-send budget

logger = logging.getLogger(__name__)

# A reply being sent is reserved this long: more than a request may take.
OUTBOX_HOLD_SECONDS = REQUEST_TIMEOUT_SECONDS + 5.0
CLOCK_SKEW = timedelta(seconds=2)


class OutboxSender(ChannelSender):
    """The X senders of one process, on thread ``x-sender``."""

    channel = conversations.X
    budget = BUDGET
    hold_seconds = OUTBOX_HOLD_SECONDS

    def __init__(self, settings: XSettings, store: Store,
                 account_id: Callable[[], str | None],
                 meter: CostMeter | None = None,
                 continue_settings: ContinueSettings | None = None,
                 continue_store: ContinueStore | None = None) -> None:
        super().__init__(settings, store)
        self.settings: XSettings = settings
        self.continue_settings = continue_settings
        self.continue_store = continue_store
        self.meter = meter or settings.cost_meter()
        self._account_id = account_id
        self.client: XApiClient | None = None

    async def open(self) -> None:
        self.client = self.settings.api_client()
        self.adapter = XAdapter(self.settings, self.client, self._account_id() or "")

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()

    def sent_charges(self, item: OutboxItem) -> Sequence[Charge]:
        return self.meter.call(x_costs.DM_SENT)

    async def prepare(self, item: OutboxItem) -> OutboxItem:
        return await self._with_continue_link(item)

    async def sent_before(self, item: OutboxItem) -> str | None:
        return await self._sent_before(item)

    async def _with_continue_link(self, item: OutboxItem) -> OutboxItem:
        """``item`` with the link to continue on the web chat added to its text (stored), when
        the person's next answer would wait too long and the link was never offered."""
        settings, links = self.continue_settings, self.continue_store
        if (settings is None or links is None or item.text is None
                or item.conversation_key == ERASED):  # an erasure's confirmation: no trace
            return item
        try:
            conversation_id = conversations.make(conversations.X, item.recipient_id)
            if await self._db(links.offered, conversation_id):
                return item
            now = utcnow()
            budget = await self._db(self.store.budget_get, BUDGET)
            # The person's next answer is the assistant's: of this conversation's class.
            priority = NORMAL if item.priority == LAWYER else item.priority
            ahead = await self._db(self.store.outbox_ahead, item.id, priority)
            wait = continue_link.next_answer_wait(budget, ahead, now)
            if not continue_link.should_offer(wait, settings.after_seconds, offered=False):
                return item
            token = await self._db(links.issue, settings, conversation_id, now)
            if token is None:
                return item
            text = continue_link.with_link(item.text, settings.link(token.token))
            if len(text) > DM_MAX_CHARS or not await self._db(self.store.outbox_set_text,
                                                             item.id, text):
                # Not sent with the link (too long, or the reply was erased meanwhile): the
                # token goes (the conversation had no other: issue() gives one at most).
                await self._db(links.erase_conversation, conversation_id)
                return item
        except Exception:  # noqa: BLE001 - the DM goes without the link; logged
            logger.exception("x.outbox.continue_failed id=%s", item.id)
            return item
        logger.info("x.outbox.continue_offered id=%s recipient=%s wait_s=%s ahead=%d", item.id,
                    person_ref(item.recipient_id), wait, ahead)
        return dataclasses.replace(item, text=text)

    async def _sent_before(self, item: OutboxItem) -> str | None:
        """The X id of this reply if the conversation on X already has it (sent by an attempt
        whose process died before recording it), else None. Matched on the text, sent after
        the reply was queued, and not yet attributed to another reply."""
        request = conversation_events_request(item.recipient_id)
        try:
            response = await self.client.request("GET", request.route,
                                                  params=dict(request.params), user_auth=True)
            page = parse_dm_events_page(await response_json(response), self._account_id() or "")
            await self._db(self.store.costs_add, self.meter.resources(
                x_costs.DM_EVENT_READ, page.item_ids, utcnow()))
            known = await self._db(self.store.outbox_external_ids, item.recipient_id)
        except Exception as exc:  # noqa: BLE001 - cannot tell: send (at worst twice)
            logger.warning("x.outbox.lookup_failed id=%s error=%s", item.id, status_of(exc))
            return None
        since_ms = (item.created_at - CLOCK_SKEW).timestamp() * 1000 if item.created_at else 0
        for dm in reversed(page.sent):  # oldest first
            if (dm.recipient_id == item.recipient_id and dm.text == item.text
                    and dm.event_id not in known
                    and (dm.created_at_ms is None or dm.created_at_ms >= since_ms)):
                return dm.event_id
        return None
