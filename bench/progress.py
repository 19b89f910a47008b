"""Progress lines on stdout, with the time since the benchmark started."""

from __future__ import annotations

import time

_START = time.monotonic()


def note(text: str) -> None:
    print(f"[{time.monotonic() - _START:6.1f} s] {text}", flush=True)
