"""What the emulated calls would cost on X's pay-per-use pricing (prices from the limits file).

Writes (a DM sent, a post created) are charged per request. Reads (DM events, posts, the
user) are charged per resource returned, and webhook events per event delivered; both once
per resource per 24-hour UTC day (X's "Deduplication"), the day being shortened by the time
scale like the rate-limit windows. ``GET /_control/usage`` shows the counts and the cost.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Mapping

DAY_SECONDS = 86_400
# Kinds charged once per resource per day; the others once per request.
DEDUPLICATED = frozenset({"dm_event_read", "dm_received", "post_mention_received",
                          "post_read", "owned_read", "user_read"})


class UsageMeter:
    def __init__(self, prices: Mapping[str, float], clock: Callable[[], float],
                 time_scale: float = 1.0) -> None:
        self.prices = dict(prices)
        self._clock = clock
        self.time_scale = time_scale
        self.started_at = clock()
        self.counts: dict[str, int] = {kind: 0 for kind in self.prices}
        self.repeats: dict[str, int] = {kind: 0 for kind in self.prices}
        self._charged: set[tuple[str, int, str]] = set()  # (kind, day, resource id)
        self.rate_limited: dict[str, int] = {}  # limit key -> 429s from the limits (no fault)

    def _day(self) -> int:
        return math.floor(self._clock() * self.time_scale / DAY_SECONDS)

    def charge(self, kind: str, resource_ids: Iterable[str] = ()) -> int:
        """Count a billable call; returns how many units were charged.

        For a deduplicated kind, ``resource_ids`` are the resources returned or delivered
        (each charged at most once a day); for the others, one unit per call.
        """
        if kind not in self.prices:
            raise KeyError(kind)
        if kind not in DEDUPLICATED:
            self.counts[kind] += 1
            return 1
        day = self._day()
        charged = 0
        for resource_id in resource_ids:
            mark = (kind, day, resource_id)
            if mark in self._charged:
                self.repeats[kind] += 1
                continue
            self._charged.add(mark)
            charged += 1
        self.counts[kind] += charged
        return charged

    def count_rate_limited(self, limit_key: str) -> None:
        """A request refused with 429 because a window was used up (it costs nothing)."""
        self.rate_limited[limit_key] = self.rate_limited.get(limit_key, 0) + 1

    def report(self) -> dict[str, Any]:
        costs = {kind: round(count * self.prices[kind], 6) for kind, count in self.counts.items()}
        return {
            "counts": dict(self.counts),
            "not_charged_again": dict(self.repeats),
            "prices_usd": dict(self.prices),
            "cost_usd_by_kind": costs,
            "cost_usd": round(sum(costs.values()), 6),
            "since": self.started_at,
            "elapsed_seconds": round(self._clock() - self.started_at, 3),
            "time_scale": self.time_scale,
            "rate_limited_429": dict(self.rate_limited),
        }

    def reset(self) -> None:
        self.started_at = self._clock()
        self.counts = {kind: 0 for kind in self.prices}
        self.repeats = {kind: 0 for kind in self.prices}
        self._charged.clear()
        self.rate_limited = {}
