"""X (Twitter) API emulator, "the X sandbox", for tests and demos on 127.0.0.1.

Emulates the part of the X API v2 the Permanence X channel uses (DMs, tweets, mentions,
search, webhooks, Account Activity and X Activity API subscriptions, the activity stream), with
OAuth 1.0a checks, rate limits, signed webhook deliveries and a control API. See README.md.
"""

from .app import RunningEmulator, create_app, run_emulator
from .config import EmulatorConfig

__all__ = ["EmulatorConfig", "RunningEmulator", "create_app", "run_emulator"]
