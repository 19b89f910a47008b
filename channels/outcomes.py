"""What became of one outbound message: the typed outcome an adapter's ``send`` reports, and
what the runtime does with it (pure: the clock and the policy are passed in).

An adapter maps its platform's answers (HTTP statuses, library exceptions) to exactly one of:

- :class:`Sent`: the platform accepted the message (its id there, if it gives one);
- :class:`RetryAfter`: not delivered, try this message again later (``seconds``, or the
  runtime's exponential backoff when None: 5xx, network errors, credentials being fixed);
- :class:`PauseChannel`: the account may not send at all until ``until`` (a rate limit of the
  whole account): every sender of the channel waits, and this message goes again then;
- :class:`GiveUp`: never deliverable (the person does not accept messages, no such account):
  the message is given up and no longer blocks the person's next ones; ``french_reason`` is
  what the lawyer reads, ``reason_code`` what the store keeps.

The adapter never touches the store; the runtime (the sender) applies the outcome
(:func:`retry_at`). No outcome carries the message's text or a person id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Union

from channels.store import backoff_delay

CODE_MAX_LENGTH = 32  # x_outbox.last_error_code


@dataclass(frozen=True)
class Sent:
    platform_id: str | None


@dataclass(frozen=True)
class RetryAfter:
    seconds: float | None  # None: the runtime's backoff
    code: str

    def __post_init__(self) -> None:
        if self.seconds is not None and self.seconds < 0:
            raise ValueError("RetryAfter.seconds must not be negative")


@dataclass(frozen=True)
class PauseChannel:
    until: datetime | None  # None: the platform did not say (the runtime's fallback applies)
    reason: str


@dataclass(frozen=True)
class GiveUp:
    reason_code: str
    french_reason: str

    def __post_init__(self) -> None:
        if not self.reason_code or not self.french_reason:
            raise ValueError("GiveUp needs a reason code and the lawyer's reason in French")


Outcome = Union[Sent, RetryAfter, PauseChannel, GiveUp]


@dataclass(frozen=True)
class Delivery:
    """An outcome with what the platform said about the account's limits (response headers
    and status, None when no answer came): the runtime folds them into the channel's budget."""

    outcome: Outcome
    headers: Mapping[str, Any]
    status: int | None


def retry_at(outcome: RetryAfter, attempts: int, now: datetime, base_seconds: float,
             max_attempts: int) -> datetime | GiveUp:
    """When to try again after ``attempts`` attempts of one message, or :class:`GiveUp`
    once ``max_attempts`` are spent (code ``max:<code>``)."""
    if attempts >= max_attempts:
        return GiveUp(f"max:{outcome.code}"[:CODE_MAX_LENGTH],
                      "le message n'a pas pu être remis après de nombreux essais")
    if outcome.seconds is not None:
        return now + timedelta(seconds=outcome.seconds)
    return now + backoff_delay(attempts, base_seconds)
