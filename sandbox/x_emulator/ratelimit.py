"""Per-endpoint request counters over fixed windows, reported as X reports them.

Each limit key (an endpoint family) has the windows of the limits file (``profiles.py``): a
15-minute one reported in ``x-rate-limit-limit/-remaining/-reset`` and, for DM sends and
posts, 24-hour ones reported in ``x-user-limit-24hour-*`` / ``x-app-limit-24hour-*``. A window
opens at the first request it counts and lasts ``seconds / time_scale`` real seconds; its
``-reset`` header is the epoch second (real clock) when it ends, so a client that sleeps until
that instant finds a new window. A refused request counts in no window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from .profiles import WindowSpec

RATE_FAMILY = "x-rate-limit"


@dataclass(frozen=True)
class RateWindow:
    family: str  # header prefix, e.g. "x-rate-limit" or "x-user-limit-24hour"
    limit: int
    remaining: int
    reset: int  # epoch seconds

    def headers(self) -> dict[str, str]:
        return {
            f"{self.family}-limit": str(self.limit),
            f"{self.family}-remaining": str(self.remaining),
            f"{self.family}-reset": str(self.reset),
        }


@dataclass(frozen=True)
class RateStatus:
    """The windows that apply to one request, as headers."""

    windows: tuple[RateWindow, ...]

    def headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        for window in self.windows:
            headers.update(window.headers())
        return headers

    def primary(self) -> RateWindow | None:
        return next((w for w in self.windows if w.family == RATE_FAMILY), None)


class RateLimiter:
    def __init__(self, limits: Mapping[str, Sequence[WindowSpec]],
                 clock: Callable[[], float], time_scale: float = 1.0):
        if not time_scale > 0:
            raise ValueError("time_scale must be positive")
        self.specs = {key: list(windows) for key, windows in limits.items()}
        self.time_scale = time_scale
        self._clock = clock
        self._windows: dict[tuple[str, int], tuple[float, int]] = {}  # -> (start, used)

    @property
    def limits(self) -> dict[str, int]:
        """Each key's ``x-rate-limit-limit`` for the user context (else its first window)."""
        result: dict[str, int] = {}
        for key, specs in self.specs.items():
            user = [s for s in specs if s.headers == RATE_FAMILY and s.applies_to("oauth1")]
            result[key] = (user or specs)[0].limit
        return result

    def describe(self) -> dict[str, list[dict[str, object]]]:
        """Every window, with its real length in seconds (after the time scale)."""
        return {key: [{"scope": s.scope, "limit": s.limit, "seconds": s.seconds,
                       "real_seconds": self.real_seconds(s), "headers": s.headers}
                      for s in specs] for key, specs in self.specs.items()}

    def real_seconds(self, spec: WindowSpec) -> float:
        return spec.seconds / self.time_scale

    def _applicable(self, key: str, auth: str | None) -> list[int]:
        return [i for i, spec in enumerate(self.specs[key]) if spec.applies_to(auth)]

    def _current(self, key: str, index: int, now: float) -> tuple[float, int]:
        start, used = self._windows.get((key, index), (now, 0))
        if now >= start + self.real_seconds(self.specs[key][index]):
            start, used = now, 0
        return start, used

    def _status(self, key: str, counters: dict[int, tuple[float, int]]) -> RateStatus:
        views = []
        for index, (start, used) in counters.items():
            spec = self.specs[key][index]
            views.append(RateWindow(spec.headers, spec.limit, max(spec.limit - used, 0),
                                    math.ceil(start + self.real_seconds(spec))))
        return RateStatus(tuple(views))

    def peek(self, key: str, auth: str | None = None) -> RateStatus:
        now = self._clock()
        return self._status(key, {i: self._current(key, i, now)
                                  for i in self._applicable(key, auth)})

    def consume(self, key: str, auth: str | None = None) -> tuple[bool, RateStatus]:
        """Count one request in every window that applies; False (nothing counted) if one
        of them is used up."""
        now = self._clock()
        counters = {i: self._current(key, i, now) for i in self._applicable(key, auth)}
        refused = any(used >= self.specs[key][i].limit for i, (_, used) in counters.items())
        if not refused:
            counters = {i: (start, used + 1) for i, (start, used) in counters.items()}
        for index, counter in counters.items():
            self._windows[(key, index)] = counter
        return not refused, self._status(key, counters)

    def set_limit(self, key: str, limit: int) -> None:
        """A test knob: every window of ``key`` (15-minute and 24-hour) gets ``limit``."""
        if key not in self.specs:
            raise KeyError(key)
        self.specs[key] = [WindowSpec(s.scope, limit, s.seconds, s.headers)
                           for s in self.specs[key]]

    def reset(self) -> None:
        self._windows.clear()
