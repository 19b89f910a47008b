"""Start the real action server and Rasa server on free 127.0.0.1 ports, once per test session.

They use the trained model (models/permanence.tar.gz, built by `make train`) and a temporary
SQLite database, so that tests can read what the tracker store really kept. The X emulator
(sandbox/x_emulator) runs too, and Rasa's X channel is pointed at it in webhook mode, with the
webhook served by the ingress thread. The launcher is `sandbox/stack.py`, shared with `bench/`;
tests that need their own servers (polling mode, kill -9, PostgreSQL) start a `Stack` of their
own.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterator

import pytest

from sandbox.stack import MODEL, ROOT, Stack

ALWAYS_LIVE = ROOT / "tests" / "schedule_always_live.yml"


class Servers(Stack):
    """The session's stack, plus what the tests read back from its SQLite database."""

    def stored_events(self, sender: str) -> list[dict]:
        """The events the tracker store kept for ``sender``, oldest first."""
        with sqlite3.connect(self.db_path) as db:
            rows = db.execute(
                "SELECT data FROM events WHERE sender_id = ? ORDER BY id", (sender,)
            ).fetchall()
        return [json.loads(row[0]) for row in rows]

    def stored_slots(self, sender: str) -> dict:
        slots: dict = {}
        for event in self.stored_events(sender):
            if event.get("event") == "slot":
                slots[event["name"]] = event["value"]
        return slots


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first (make test does)")
    # Rasa's HTTP API is on (behind a token) so that tests can push through a channel's
    # output, as the server's API does (tests/e2e/conformance).
    # The schedule is always live: the handover's texts do not depend on the real date.
    stack = Servers(tmp_path_factory.mktemp("e2e"), x_mode="webhook",
                    api_token=secrets.token_hex(16),
                    env={"PERMANENCE_SCHEDULE_FILE": str(ALWAYS_LIVE)})
    with stack:
        yield stack
    rasa_log = stack.log("rasa")
    if "Traceback" in rasa_log:
        print(rasa_log[-5000:])
