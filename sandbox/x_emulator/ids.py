"""Snowflake-like ids and the two timestamp formats X uses."""

from __future__ import annotations

import datetime as dt
from typing import Callable

# Twitter's snowflake epoch (2010-11-04T01:42:54.657Z), in milliseconds.
TWITTER_EPOCH_MS = 1288834974657
_MACHINE_ID = 1  # 10 bits: datacenter + worker; any constant will do
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class SnowflakeGenerator:
    """Strictly increasing ids built like X's (ms since epoch << 22 | machine << 12 | seq).

    Ids sort like the creation time, so ``since_id`` comparisons work as on X.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._last = 0

    def next_id(self) -> str:
        millis = int(self._clock() * 1000)
        candidate = ((millis - TWITTER_EPOCH_MS) << 22) | (_MACHINE_ID << 12)
        self._last = max(candidate, self._last + 1)
        return str(self._last)


def snowflake_millis(snowflake: str | int) -> int:
    """The creation time (epoch ms) encoded in a snowflake id."""
    return (int(snowflake) >> 22) + TWITTER_EPOCH_MS


def iso_millis(timestamp: float) -> str:
    """v2 format, e.g. ``2022-10-19T20:58:00.000Z``."""
    moment = dt.datetime.fromtimestamp(timestamp, tz=dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(value: str) -> float:
    """Parse the RFC 3339 timestamps accepted by ``start_time``/``end_time``."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.timestamp()


def v1_created_at(timestamp: float) -> str:
    """v1.1 format, e.g. ``Sat Nov 28 05:30:03 +0000 2020`` (locale-independent)."""
    moment = dt.datetime.fromtimestamp(timestamp, tz=dt.timezone.utc)
    return (
        f"{_DAYS[moment.weekday()]} {_MONTHS[moment.month - 1]} {moment.day:02d} "
        f"{moment:%H:%M:%S} +0000 {moment.year}"
    )
