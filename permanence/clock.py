"""The assistant's clock: the one place the actions read the current moment.

Deadlines, relative dates (« hier », « dimanche soir ») and the schedule are computed from
:func:`now`. ``PERMANENCE_FROZEN_NOW`` (an ISO 8601 moment with its offset, e.g.
``2026-10-13T10:00:00+02:00``) pins it, for the scenario suite and tests only: a frozen clock
in production would compute wrong deadlines, so it is logged loudly at every read.
"""

from __future__ import annotations

import logging
import os
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
FROZEN_ENV = "PERMANENCE_FROZEN_NOW"

logger = logging.getLogger(__name__)


class ClockError(ValueError):
    """``PERMANENCE_FROZEN_NOW`` is set but not an ISO moment with an offset."""


def frozen() -> datetime | None:
    """The pinned moment (UTC), or None when the clock runs."""
    raw = os.environ.get(FROZEN_ENV, "").strip()
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError as error:
        raise ClockError(f"{FROZEN_ENV}={raw!r} is not an ISO 8601 moment") from error
    if moment.tzinfo is None:
        raise ClockError(f"{FROZEN_ENV}={raw!r} needs an offset (e.g. +02:00)")
    logger.warning("clock.frozen now=%s", moment.isoformat())
    return moment.astimezone(timezone.utc)


def now() -> datetime:
    """The current moment, aware, in UTC."""
    return frozen() or datetime.now(timezone.utc)


def now_paris() -> datetime:
    """The current moment in French local time (dates in French law are counted there)."""
    return now().astimezone(PARIS)


def today() -> date:
    """Today in Paris."""
    return now_paris().date()
