"""The account's DM-send budget on X, as X's response headers report it (pure, no I/O).

X limits the DMs the firm's account sends (X-API-2026.md: 15 per 15 minutes and 1,440 per 24
hours per user, 1,440 per 24 hours per app), and every DM the assistant sends is spent from the
same budget as the lawyer's replies. Each response to a DM send reports the windows that apply:
``x-rate-limit-limit/-remaining/-reset`` (15 minutes), ``x-user-limit-24hour-*`` and
``x-app-limit-24hour-*`` (24 hours); ``-reset`` is the epoch second when the window ends.
Nothing here hard-codes a limit: the windows are whatever X's headers say.

:class:`Budget` is what the senders know of those windows. The store keeps it in one row
(``permanence/x_store.py``, table ``x_budget``), so that every sender of every process spends
from the same count and the count survives a restart:

- :meth:`Budget.take` spends one DM *before* the request goes out (a reservation): the window's
  ``remaining`` goes down at once, so concurrent senders never send more than it allows. It
  refuses when a window is known to be spent; the senders then wait until
  :meth:`Budget.blocked_until` (the window's reset, plus ``margin`` for clock skew).
- :meth:`Budget.observe` folds in the headers of a response (2xx, 4xx, 429 alike). Within one
  window the lower ``remaining`` wins (the header does not count requests still in flight; the
  stored count does not count requests made by other clients of the account). A 429's spent
  window is taken as X reports it, until its reset, whatever was known before.
- A window whose reset has passed is renewed by the next :meth:`take`: its full limit, minus
  that request, with an *estimated* end (now + its nominal length) until a response says.
  Before any response (a new store) the budget is unknown: :meth:`take` then lets one request
  out at a time (a probe), whose headers tell the rest. Any answer ends the probe, and so does
  a request that got none (the sender calls :meth:`observe` with no headers).
- The length of the 15-minute window is learnt from the headers (``period_seconds``: the
  longest ``reset - now`` seen when a new window opened), for a time-scaled emulator as for X;
  :meth:`estimated_wait` uses it to tell the desk how long the queue will take.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

RATE = "x-rate-limit"
USER_DAY = "x-user-limit-24hour"
APP_DAY = "x-app-limit-24hour"
FAMILIES = (RATE, USER_DAY, APP_DAY)
# How long a window lasts when X has not said yet (an estimate is replaced by the headers of
# the first response in it). Only used after a reset passed and before the next response.
NOMINAL_SECONDS = {RATE: 900.0, USER_DAY: 86_400.0, APP_DAY: 86_400.0}
# A 429 without headers: wait this long.
FALLBACK_SECONDS = 60.0
# Wait this long past a reset before sending again (clocks of X and of this server).
DEFAULT_MARGIN_SECONDS = 1.0
# Two resets this close are the same window (X rounds to the second).
SAME_WINDOW_SECONDS = 1.0


@dataclass(frozen=True)
class Window:
    family: str
    limit: int
    remaining: int
    reset: datetime
    estimated: bool = False  # reset guessed (renewed locally), not yet reported by X


@dataclass(frozen=True)
class Budget:
    windows: tuple[Window, ...] = ()
    # Requests sent while nothing was known (a probe), not yet answered; see take().
    probing_until: datetime | None = None
    # The length of the 15-minute window as X reports it (None: not seen a new window yet).
    period_seconds: float | None = None

    # ------------------------------------------------------------ spending

    def blocked_until(self, now: datetime,
                      margin: float = DEFAULT_MARGIN_SECONDS) -> datetime | None:
        """When the next DM may go, if not now: the latest reset (+ margin) of the windows
        that are spent; or the end of a probe in flight while nothing is known."""
        spent = self.spent_until(now, margin)
        if spent is not None:
            return spent
        if not self.windows and self.probing_until is not None and now < self.probing_until:
            return self.probing_until
        return None

    def spent_until(self, now: datetime,
                    margin: float = DEFAULT_MARGIN_SECONDS) -> datetime | None:
        """The latest reset (+ margin) of the windows known to be spent, if one is: nothing
        may go before it, whatever happens meanwhile."""
        pause = timedelta(seconds=margin)
        spent = [w.reset + pause for w in self.windows
                 if w.remaining <= 0 and now < w.reset + pause]
        return max(spent) if spent else None

    def take(self, now: datetime, margin: float = DEFAULT_MARGIN_SECONDS,
             probe_seconds: float = 30.0) -> Budget | None:
        """The budget after one more DM is sent at ``now``, or None if it may not be sent."""
        if self.blocked_until(now, margin) is not None:
            return None
        if not self.windows:  # nothing known yet: one request at a time until one answers
            return replace(self, probing_until=now + timedelta(seconds=probe_seconds))
        pause = timedelta(seconds=margin)
        windows = []
        for window in self.windows:
            if now >= window.reset + pause:  # ended: a new one opens with this request
                length = timedelta(seconds=self._length(window.family))
                window = Window(window.family, window.limit, window.limit - 1,
                                now + length, estimated=True)
            else:
                window = replace(window, remaining=window.remaining - 1)
            windows.append(window)
        return Budget(tuple(windows), None, self.period_seconds)

    def paced_until(self, now: datetime, burst: int) -> datetime | None:
        """When a *paced* DM may go, if not now: a reply to someone already answered spends
        the 15-minute window no faster than its average rate, plus a burst of DMs at once
        (sent < burst + limit × elapsed / length; the burst is ``burst`` or a fifth of the
        window's limit, whichever is more: 3 of X's 15, 40 of a 200 window, where a pace
        would only slow a conversation); None: it may go now. What this keeps is
        for the people who have not written yet: a newcomer's first answer and the lawyer's
        replies are never paced (``permanence/x_store.py``). Nothing known of the window (or
        of its length), or a window over: not paced."""
        rate = next((w for w in self.windows if w.family == RATE), None)
        if rate is None or rate.reset <= now or rate.limit <= 0:
            return None
        burst = max(burst, rate.limit // 5)
        length = self._length(RATE)
        start = rate.reset - timedelta(seconds=length)
        sent = rate.limit - rate.remaining
        if sent < burst:
            return None
        # sent < burst + limit * elapsed / length  <=>  elapsed > (sent - burst) * length / limit
        due = start + timedelta(seconds=(sent - burst) * length / rate.limit)
        return due if due >= now else None

    def _length(self, family: str) -> float:
        if family == RATE and self.period_seconds:
            return self.period_seconds
        return NOMINAL_SECONDS.get(family, 900.0)

    # ----------------------------------------------------------- observing

    def observe(self, headers: Mapping[str, str], now: datetime,
                status: int | None = None) -> Budget:
        """The budget after a response with ``headers`` (any status) arrived at ``now``.
        A 429 without any usable header spends the 15-minute window for FALLBACK_SECONDS."""
        reported = parse_windows(headers)
        if not reported and status == 429:
            reported = [Window(RATE, _limit_of(self, RATE), 0,
                               now + timedelta(seconds=FALLBACK_SECONDS))]
        if not reported:  # no answer, or one without headers: the probe (if any) is over
            return replace(self, probing_until=None)
        known = {w.family: w for w in self.windows}
        period = self.period_seconds
        for new in reported:
            if new.reset <= now:  # a late answer about a window already over
                continue
            old = known.get(new.family)
            if status == 429 and new.remaining <= 0:
                # Refused just now: X's word on this window stands, even if it ends sooner
                # than the one we knew (another limit, a window we misjudged).
                known[new.family] = new
            else:
                known[new.family] = _merge(old, new)
            if new.family == RATE and status != 429 and _opens(old, new):
                period = max(period or 0.0, (new.reset - now).total_seconds())
        if status == 429 and all(w.remaining > 0 for w in known.values()):
            # Refused, yet every window seems to have room (e.g. another limit of X's): wait.
            rate = known.get(RATE)
            reset = rate.reset if rate else now + timedelta(seconds=FALLBACK_SECONDS)
            known[RATE] = Window(RATE, _limit_of(self, RATE), 0,
                                 max(reset, now + timedelta(seconds=1)))
        ordered = tuple(known[f] for f in FAMILIES if f in known) + tuple(
            w for family, w in known.items() if family not in FAMILIES)
        return Budget(ordered, None, period)

    # ------------------------------------------------------------- display

    def left(self, now: datetime, margin: float = DEFAULT_MARGIN_SECONDS) -> int | None:
        """DMs the account may still send before a reset (None: not known yet)."""
        if not self.windows:
            return None
        pause = timedelta(seconds=margin)
        return max(0, min(w.limit if now >= w.reset + pause else w.remaining
                          for w in self.windows))

    def next_reset(self, now: datetime) -> datetime | None:
        """The end of the 15-minute window (else of the first known one), if still ahead."""
        windows = sorted(self.windows, key=lambda w: w.family != RATE)
        for window in windows:
            if window.reset > now:
                return window.reset
        return None

    def estimated_wait(self, waiting: int, now: datetime,
                       margin: float = DEFAULT_MARGIN_SECONDS) -> float | None:
        """Seconds until ``waiting`` DMs have all been allowed out, at best (None: the budget
        is not known yet). What is left now goes at once; the rest waits for the next reset,
        then ``limit`` DMs per window of ``period_seconds``. An estimate: it counts neither the
        replies still to be written nor the time a send takes."""
        if waiting <= 0:
            return 0.0
        left = self.left(now, margin)
        if left is None:
            return None
        if waiting <= left:
            return 0.0
        rate = next((w for w in self.windows if w.family == RATE), self.windows[0])
        limit = max(rate.limit, 1)
        pause = timedelta(seconds=margin)
        resets = [rate.reset + pause] + [w.reset + pause for w in self.windows
                                         if w.remaining <= 0 and now < w.reset + pause]
        first = max(max(resets) - now, timedelta(0)).total_seconds()
        windows_more = math.ceil((waiting - left) / limit) - 1
        return round(first + windows_more * self._length(RATE), 1)

    def describe(self, now: datetime, margin: float = DEFAULT_MARGIN_SECONDS) -> dict:
        """A JSON-ready view: DMs left, when the next DM may go, each window."""
        blocked = self.blocked_until(now, margin)
        reset = self.next_reset(now)
        rate = next((w for w in self.windows if w.family == RATE), None)
        return {
            "known": bool(self.windows),
            "dms_left": self.left(now, margin),
            "limit": rate.limit if rate else None,
            "period_seconds": self.period_seconds,
            "blocked_until": blocked.isoformat() if blocked else None,
            "next_reset": reset.isoformat() if reset else None,
            "windows": [{"family": w.family, "limit": w.limit, "remaining": max(w.remaining, 0),
                         "reset": w.reset.isoformat(), "estimated": w.estimated}
                        for w in self.windows],
        }

    # --------------------------------------------------------------- storage

    def to_json(self) -> str:
        return json.dumps({
            "windows": [[w.family, w.limit, w.remaining, w.reset.timestamp(), w.estimated]
                        for w in self.windows],
            "probing_until": self.probing_until.timestamp() if self.probing_until else None,
            "period_seconds": self.period_seconds,
        })

    @classmethod
    def from_json(cls, raw: str | None) -> Budget:
        if not raw:
            return cls()
        data = json.loads(raw)
        windows = tuple(Window(family, int(limit), int(remaining), _at(reset), bool(estimated))
                        for family, limit, remaining, reset, estimated in data.get("windows", []))
        probing = data.get("probing_until")
        period = data.get("period_seconds")
        return cls(windows, _at(probing) if probing is not None else None,
                   float(period) if period else None)


def parse_windows(headers: Mapping[str, str]) -> list[Window]:
    """The windows a response reports, from its ``<family>-limit/-remaining/-reset`` headers
    (names case-insensitive); a family with a missing or malformed header is left out."""
    lowered = {str(k).lower(): v for k, v in headers.items()}
    windows = []
    for family in FAMILIES:
        try:
            limit = int(lowered[f"{family}-limit"])
            remaining = int(lowered[f"{family}-remaining"])
            reset = float(lowered[f"{family}-reset"])
        except (KeyError, TypeError, ValueError):
            continue
        if limit < 0 or not math.isfinite(reset):
            continue
        windows.append(Window(family, limit, max(remaining, 0), _at(reset)))
    return windows


def _merge(old: Window | None, new: Window) -> Window:
    if old is None:
        return new
    if old.estimated:  # X now says when the window we opened ends; keep our lower count
        return replace(new, remaining=min(old.remaining, new.remaining))
    gap = (new.reset - old.reset).total_seconds()
    if gap > SAME_WINDOW_SECONDS:  # a later window than the one we knew
        return new
    if gap < -SAME_WINDOW_SECONDS:  # about an earlier window (a late answer): keep ours
        return old
    return replace(new, remaining=min(old.remaining, new.remaining),
                   reset=max(old.reset, new.reset))


def _opens(old: Window | None, new: Window) -> bool:
    """Whether ``new`` is the first report of a window (its reset is later than the one
    known, or only an estimate was known)."""
    return (old is None or old.estimated
            or (new.reset - old.reset).total_seconds() > SAME_WINDOW_SECONDS)


def _limit_of(budget: Budget, family: str) -> int:
    return next((w.limit for w in budget.windows if w.family == family), 0)


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(float(epoch), timezone.utc)
