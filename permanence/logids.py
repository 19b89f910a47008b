"""Person and conversation ids as they appear in logs: a keyed hash, never the raw id.

People who write to a law firm are identifiable by their X id or their web-chat session; logs
are read by more people and kept longer than the conversations. ``ref("x:42")`` gives a short
stable token (``p-3f9a…``), the same for the same id within one key, so an operator can follow
one conversation through the logs without learning who it is.

The key comes from ``PERMANENCE_LOG_KEY`` (any secret string). Unset, a random key is drawn once
per process: references then hold within a process only (a warning says so, once).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from functools import lru_cache

logger = logging.getLogger(__name__)
ENV = "PERMANENCE_LOG_KEY"


@lru_cache(maxsize=1)
def _key() -> bytes:
    configured = os.environ.get(ENV)
    if configured:
        return configured.encode()
    logger.warning("logids.random_key: set %s for references stable across restarts", ENV)
    return secrets.token_bytes(32)


def ref(identifier: object) -> str:
    """A keyed, truncated hash of ``identifier`` for logs (``p-`` and 12 hex digits)."""
    if identifier is None or identifier == "":
        return "p-none"
    digest = hmac.new(_key(), str(identifier).encode(), hashlib.sha256).hexdigest()
    return f"p-{digest[:12]}"


def reset_for_tests() -> None:
    _key.cache_clear()
