"""The live hour's statistics and the reading of issue #15's targets (pure, no I/O).

A run (``bench/live_hour.py``) records, in live seconds from its start: each person's arrival
(their first DM), their first reply, whether they are P0, how many of the assistant's DMs they
got, whether the desk saw them handed over; and the moment of every DM the account sent. From
those, this module gives the figures and the targets' reading:

- **windows**: the emulator opens a DM-send window at the first DM it accepts and closes it
  ``window_s`` later (X: 15 minutes); the next one opens at the next accepted DM. The send
  times give them back exactly (a refused request counts in no window).
- **P0 in the first window with budget**: a P0 person's first reply goes out in the window
  open at their arrival if fewer than ``limit`` DMs had gone out in it by then, else in the
  next window to open.
- **first answer within ceil(N/15) windows of arrival**: the first reply's window is fewer
  than ``ceil(N / limit)`` windows after the arrival's (the arrival's: the one open then, or
  the next to open). A person never answered is late.
- **arrival order apart from priority**: among the people who are not P0, a later arrival
  answered in an earlier window than an earlier arrival is one inversion (the same window:
  served together, the order inside it is the machine's, not the queue's). A person never
  answered counts as answered after everyone.
- **median DMs per completed triage**: the assistant's DMs (the lawyer's excluded) received
  by each person the desk saw handed over who stayed on X (``dms_per_triage_median``); with
  those who continued on the web chat (the DMs they got on X before), the X DMs the account
  spent per handover whatever the channel (``dms_per_triage_median_with_web``).
- **through X alone / through the web-chat overflow**: a person the desk saw handed over is
  in ``handed_over_web`` if they continued on the web chat (``continued_on_web``), else in
  ``handed_over_x``. The lawyer's reply wait counts both (the reply reaches the web chat for
  the people there; ``lawyer_reply_via``).

On a loaded machine at a time scale of 60, one real second of a turn is a live minute: the
first reply is also given in two parts, the turn (arrival -> the answer in the tracker) and
the wait for the budget (-> the DM), and the P0 and order readings are repeated from the
moment each first answer was ready, which is the outbox's own order.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bench.stats import percentile, rounded
from permanence.x_costs import MICRO, load_prices

WINDOW_S = 900.0  # X: a DM-send window lasts 15 minutes (live seconds)
LIMIT = 15  # X: 15 DM sends per window


@dataclass(frozen=True)
class Window:
    start: float
    end: float
    sent: tuple[float, ...]


def windows(send_times: Sequence[float], window_s: float = WINDOW_S) -> list[Window]:
    """The DM-send windows the accepted sends opened, in order."""
    found: list[Window] = []
    start: float | None = None
    sent: list[float] = []
    for at in sorted(send_times):
        if start is None or at >= start + window_s:
            if start is not None:
                found.append(Window(start, start + window_s, tuple(sent)))
            start, sent = at, []
        sent.append(at)
    if start is not None:
        found.append(Window(start, start + window_s, tuple(sent)))
    return found


def window_at(opened: Sequence[Window], at: float) -> int:
    """The index of the window open at ``at``, else of the next one to open (``len`` when
    none opened after it)."""
    for index, window in enumerate(opened):
        if at < window.end:
            return index
    return len(opened)


def first_window_with_budget(opened: Sequence[Window], at: float, limit: int = LIMIT) -> int:
    """The first window, from ``at`` on, that still had DMs to send at ``at``."""
    index = window_at(opened, at)
    if index < len(opened) and opened[index].start <= at:
        spent = sum(1 for sent in opened[index].sent if sent <= at)
        if spent >= limit:
            return index + 1
    return index


def p0_late(people: Sequence[Mapping[str, Any]], opened: Sequence[Window],
            limit: int = LIMIT, since: str = "arrived_at") -> list[int]:
    """The P0 people (their indexes) not answered in the first window with budget after
    ``since`` (their arrival; ``first_ready_at``: once the answer was ready, which leaves the
    machine's time out; a person without that moment is not judged)."""
    late = []
    for person in people:
        if not person.get("p0") or person.get(since) is None:
            continue
        first = person.get("first_reply_at")
        due = first_window_with_budget(opened, person[since], limit)
        if first is None or window_at(opened, first) > due:
            late.append(person["index"])
    return late


def windows_bound(people_count: int, limit: int = LIMIT) -> int:
    return max(1, math.ceil(people_count / limit))


def first_reply_late(people: Sequence[Mapping[str, Any]], opened: Sequence[Window],
                     limit: int = LIMIT) -> list[int]:
    """The people (indexes) whose first reply was not within ceil(N/limit) windows."""
    bound = windows_bound(len(people), limit)
    late = []
    for person in people:
        first = person.get("first_reply_at")
        if (first is None or window_at(opened, first)
                - window_at(opened, person["arrived_at"]) >= bound):
            late.append(person["index"])
    return late


def arrival_order_inversions(people: Sequence[Mapping[str, Any]],
                             opened: Sequence[Window], since: str = "arrived_at") -> int:
    """Pairs of people who are not P0 whose first replies' windows are in the reverse order
    of their arrivals (``since="first_ready_at"``: of the moments their answers were ready,
    the order the outbox itself keeps)."""
    served = [(person[since], math.inf if person.get("first_reply_at") is None
               else window_at(opened, person["first_reply_at"]))
              for person in people if not person.get("p0") and person.get(since) is not None]
    served.sort(key=lambda pair: pair[0])
    return sum(1 for i, (_, earlier) in enumerate(served) for _, later in served[i + 1:]
               if later < earlier)


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def cost_per_triage(handed_x: Sequence[Mapping[str, Any]],
                    prices: Mapping[str, int] | None = None) -> float | None:
    """The median of what X bills for a triage done on X, in dollars: each DM the assistant
    sent (``dm_sent``) and each DM the person wrote (``dm_received``); prices in millionths of
    a dollar (``permanence.x_costs.load_prices``, the emulator's file by default)."""
    if prices is None:
        prices = load_prices()
    costs = [(p["assistant_dms"] * prices["dm_sent"] + p.get("messages", 0)
              * prices["dm_received"]) / MICRO for p in handed_x]
    found = median(costs)
    return None if found is None else round(found, 4)


def figures(people: Sequence[Mapping[str, Any]], send_times: Sequence[float],
            lawyer_waits: Sequence[float], usage: Mapping[str, Any]) -> dict[str, Any]:
    """The live hour's figures (live seconds) from what a run recorded."""
    first = [p["first_reply_at"] - p["arrived_at"] for p in people
             if p.get("first_reply_at") is not None]
    p0_first = [p["first_reply_at"] - p["arrived_at"] for p in people
                if p.get("p0") and p.get("first_reply_at") is not None]
    handed = [p for p in people if p.get("handed_over")]
    handed_x = [p for p in handed if not p.get("continued_on_web")]
    web_waits = [p["lawyer_reply_wait_s"] for p in people
                 if p.get("lawyer_reply_via") == "web" and p.get("lawyer_reply_wait_s") is not None]
    ready = [p for p in people if p.get("first_ready_at") is not None]
    turn = [p["first_ready_at"] - p["arrived_at"] for p in ready]
    budget = [p["first_reply_at"] - p["first_ready_at"] for p in ready
              if p.get("first_reply_at") is not None]
    rate_limited = usage.get("rate_limited_429") or {}
    return {
        "people": len(people),
        "people_answered": len(first),
        "p0_people": sum(1 for p in people if p.get("p0")),
        "handed_over_x": len(handed_x),
        "handed_over_web": len(handed) - len(handed_x),
        "dms_sent": len(send_times),
        "dms_per_triage_median": median([p["assistant_dms"] for p in handed_x]),
        "dms_per_triage_median_with_web": median([p["assistant_dms"] for p in handed]),
        "first_reply_p50_s": rounded(percentile(first, 0.5)),
        "first_reply_p99_s": rounded(percentile(first, 0.99)),
        "p0_first_reply_max_s": rounded(max(p0_first)) if p0_first else None,
        # The first reply in two parts: the machine (arrival -> answer in the tracker) and
        # the DM budget (answer ready -> DM sent).
        "first_answer_turn_p50_s": rounded(percentile(turn, 0.5)),
        "first_answer_turn_p99_s": rounded(percentile(turn, 0.99)),
        "first_answer_budget_wait_p50_s": rounded(percentile(budget, 0.5)),
        "first_answer_budget_wait_p99_s": rounded(percentile(budget, 0.99)),
        "lawyer_reply_wait_p50_s": rounded(percentile(lawyer_waits, 0.5)),
        "lawyer_replies_delivered": len(lawyer_waits),
        "lawyer_replies_on_web": len(web_waits),
        "lawyer_reply_wait_web_p50_s": rounded(percentile(web_waits, 0.5)),
        "responses_429": sum(rate_limited.values()),
        "sends_into_spent_window": rate_limited.get("dm_send", 0),
        "cost_usd": usage.get("cost_usd"),
        # What X bills for one triage completed on X (issue #15 item 6): the assistant's DMs
        # sent and the person's DMs received (dm.received), at the prices of the X config.
        "cost_per_triage_usd_median": cost_per_triage(handed_x),
        "cost_usd_by_kind": usage.get("cost_usd_by_kind"),
        "overflow_links_received": sum(p.get("overflow_links", 0) for p in people),
        "overflow_people_with_link": sum(1 for p in people if p.get("overflow_links")),
        "overflow_continued_on_web": sum(1 for p in people if p.get("continued_on_web")),
        "overflow_links_refused": sum(1 for p in people if p.get("link_refused")),
    }


def reading(live: Mapping[str, Any]) -> dict[str, Any]:
    """The targets' figures of a recorded live hour (``latest.json``'s ``live_hour``)."""
    people = live.get("per_person") or []
    window_s = live.get("window_s", WINDOW_S)
    limit = live.get("window_limit", LIMIT)
    opened = windows(live.get("send_times") or [], window_s)
    return {
        "windows": len(opened),
        "first_reply_bound_windows": windows_bound(len(people), limit),
        "p0_late": p0_late(people, opened, limit),
        "first_reply_late": first_reply_late(people, opened, limit),
        "arrival_order_inversions": arrival_order_inversions(people, opened),
        # The same, from the moment each first answer was ready (the queue's own order).
        "p0_late_once_ready": p0_late(people, opened, limit, since="first_ready_at"),
        "order_inversions_once_ready": arrival_order_inversions(people, opened,
                                                                since="first_ready_at"),
    }
