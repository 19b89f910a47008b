"""Per-endpoint request counters over fixed windows, like X's ``x-rate-limit-*`` headers."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping


@dataclass(frozen=True)
class RateWindow:
    limit: int
    remaining: int
    reset: int  # epoch seconds

    def headers(self) -> dict[str, str]:
        return {
            "x-rate-limit-limit": str(self.limit),
            "x-rate-limit-remaining": str(self.remaining),
            "x-rate-limit-reset": str(self.reset),
        }


class RateLimiter:
    """A window opens at the first request of an endpoint and lasts ``window`` seconds."""

    def __init__(self, limits: Mapping[str, int], window: int, clock: Callable[[], float]):
        self.limits = dict(limits)
        self.window = window
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}  # key -> (start, used)

    def _current(self, key: str) -> tuple[float, int]:
        now = self._clock()
        start, used = self._windows.get(key, (now, 0))
        if now >= start + self.window:
            start, used = now, 0
        return start, used

    def _view(self, key: str, start: float, used: int) -> RateWindow:
        limit = self.limits[key]
        return RateWindow(limit, max(limit - used, 0), math.ceil(start + self.window))

    def peek(self, key: str) -> RateWindow:
        return self._view(key, *self._current(key))

    def consume(self, key: str) -> tuple[bool, RateWindow]:
        """Count one request; False (and nothing counted) if the window is used up."""
        start, used = self._current(key)
        if used >= self.limits[key]:
            self._windows[key] = (start, used)
            return False, self._view(key, start, used)
        self._windows[key] = (start, used + 1)
        return True, self._view(key, start, used + 1)

    def set_limit(self, key: str, limit: int) -> None:
        if key not in self.limits:
            raise KeyError(key)
        self.limits[key] = limit

    def reset(self) -> None:
        self._windows.clear()
