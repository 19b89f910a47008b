"""Fixed windows per limit key, reported as Mastodon reports them: ``X-RateLimit-Limit``,
``-Remaining`` and ``-Reset`` (ISO 8601, UTC, with microseconds) of the window closest to
being used up. A window opens at the first request it counts and lasts ``seconds /
time_scale`` real seconds. A refused request (429) counts in no window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from .config import Window


def iso(epoch: float) -> str:
    stamp = datetime.fromtimestamp(epoch, timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


@dataclass(frozen=True)
class Status:
    limit: int
    remaining: int
    reset: float  # epoch seconds

    def headers(self) -> dict[str, str]:
        return {"X-RateLimit-Limit": str(self.limit),
                "X-RateLimit-Remaining": str(self.remaining),
                "X-RateLimit-Reset": iso(self.reset)}


class RateLimiter:
    def __init__(self, windows: dict[str, Window], clock: Callable[[], float],
                 time_scale: float) -> None:
        self.windows = windows
        self.time_scale = time_scale
        self._clock = clock
        self._used: dict[tuple[str, str], tuple[float, int]] = {}  # (key, who) -> start, used
        self.refused: dict[str, int] = {}

    def _current(self, key: str, who: str, now: float) -> tuple[float, int]:
        start, used = self._used.get((key, who), (now, 0))
        if now >= start + self.windows[key].seconds / self.time_scale:
            return now, 0
        return start, used

    def consume(self, keys: list[str], who: str) -> tuple[bool, Status]:
        """Count one request in every window of ``keys``; False (nothing counted) if one is
        used up. The status is that of the window closest to being used up."""
        now = self._clock()
        current = {key: self._current(key, who, now) for key in keys}
        full = [key for key, (_, used) in current.items() if used >= self.windows[key].limit]
        if full:
            for key in full:
                self.refused[key] = self.refused.get(key, 0) + 1
        else:
            current = {key: (start, used + 1) for key, (start, used) in current.items()}
            self._used.update({(key, who): value for key, value in current.items()})
        statuses = [Status(self.windows[key].limit,
                           max(self.windows[key].limit - used, 0),
                           start + self.windows[key].seconds / self.time_scale)
                    for key, (start, used) in current.items()]
        return not full, min(statuses, key=lambda s: (s.remaining, -s.reset))

    def set_limit(self, key: str, limit: int) -> None:
        self.windows[key] = Window(limit, self.windows[key].seconds)

    def reset(self) -> None:
        self._used.clear()
        self.refused.clear()
