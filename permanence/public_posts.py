"""Public posts the lawyer answers by hand, as the desk lists them.

X accepts an automated reply only to a post that summons the firm's account (an @mention, a
quote); a post that only carries the permanence's hashtag gets none, and is listed on the desk
instead: its author's handle and a link to it, never its text. A channel that has such posts
registers, when it starts, a :class:`Source`: ``open()`` lists them (JSON-ready dicts with at
least ``id``, ``handle``, ``link``, ``received_at``), ``done(id)`` takes one off the list (the
lawyer answered it, or sets it aside). Both are synchronous (a database): the desk calls them
off the event loop. This module imports no channel and no desk.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from permanence.registry import Registry

logger = logging.getLogger(__name__)

X = "x"


@dataclass(frozen=True)
class Source:
    open: Callable[[], list[dict[str, Any]]]
    done: Callable[[int], bool]


_registry: Registry[Source] = Registry()
register = _registry.register
unregister = _registry.unregister
source = _registry.get


def report() -> list[dict[str, Any]]:
    """Each registered channel's open posts: ``[{"channel", "posts": [...]}]``, or
    ``{"channel", "error"}`` for one whose list cannot be read (logged)."""
    out = []
    for name, found in _registry.items():
        try:
            out.append({"channel": name, "posts": found.open()})
        except Exception:  # noqa: BLE001 - one channel's failure must not hide the others
            logger.exception("public_posts.report_failed channel=%s", name)
            out.append({"channel": name, "error": "unreadable"})
    return out
