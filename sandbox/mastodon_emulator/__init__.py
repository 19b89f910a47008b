"""A Mastodon instance emulator for tests and demos: the REST and streaming endpoints the
Mastodon channel uses, with Mastodon's payloads, rate limits from a file, a time scale and a
control API. Mastodon.py talks to it over HTTP on loopback (see README.md)."""

from .app import RunningEmulator, create_app, run_emulator
from .config import EmulatorConfig

__all__ = ["EmulatorConfig", "RunningEmulator", "create_app", "run_emulator"]
