"""Percentiles and summaries of measured samples (pure functions, no I/O)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) with linear interpolation between closest ranks; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    if low == high:
        return float(ordered[low])
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def summary(values: Sequence[float], digits: int = 1) -> dict[str, float | int | None]:
    """n, p50, p95, p99, mean and max of ``values``, rounded."""
    return {
        "n": len(values),
        "p50": rounded(percentile(values, 0.50), digits),
        "p95": rounded(percentile(values, 0.95), digits),
        "p99": rounded(percentile(values, 0.99), digits),
        "mean": rounded(sum(values) / len(values), digits) if values else None,
        "max": rounded(max(values), digits) if values else None,
    }


def ratio(numerator: float | None, denominator: float | None, digits: int = 3) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, digits)
