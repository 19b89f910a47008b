"""The longest message a person may send, on every channel, and what they are told beyond it.

10,000 characters is X's documented limit for a direct message; the web chat keeps the same one.
A longer message never reaches the assistant: the channel answers with ``too_long_text``.
Lengths are Python's ``len`` (code points), which never exceeds X's own count, so a DM X
accepted is never refused here.
"""

from __future__ import annotations

MAX_MESSAGE_CHARS = 10_000

TOO_LONG = (
    "Votre message est trop long ({length} caractères, maximum {limit}). "
    "Pouvez-vous le raccourcir ou l'envoyer en plusieurs fois ?"
)


def is_too_long(text: str) -> bool:
    return len(text) > MAX_MESSAGE_CHARS


def too_long_text(text: str) -> str:
    """The answer to a message over the limit (French, like every bot text)."""
    return TOO_LONG.format(length=len(text), limit=MAX_MESSAGE_CHARS)


def typed_text(text: str) -> str:
    """What a person typed, as text for the assistant: never a command or an intent.

    Rasa reads a message starting with ``/`` as an intent (``/restart``, ``/session_start``,
    ``/affirm{"x": 1}``): typed by a person, that would re-run a paused conversation or fill
    slots. Leading slashes (after leading spaces) are removed on every channel; buttons and
    quick replies reach the assistant through their own mechanism, checked by each channel.
    """
    return text.lstrip().lstrip("/")
