"""Start the real action server and Rasa server on free 127.0.0.1 ports, once per test session.

They use the trained model (models/permanence.tar.gz, built by `make train`) and a temporary
SQLite database, so that tests can read what the tracker store really kept
(`Stack.stored_events`). The X emulator
(sandbox/x_emulator) runs too, and Rasa's X channel is pointed at it in webhook mode, with the
webhook served by the ingress thread; the Mastodon emulator (sandbox/mastodon_emulator) too,
read by Rasa's Mastodon channel through its stream. The launcher is `sandbox/stack.py`,
shared with `bench/`; tests that need their own servers (polling mode, kill -9, PostgreSQL)
start a `Stack` of their own.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from permanence import continue_link
from sandbox.stack import MODEL, ROOT, Stack

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# CI machines are small and the servers are shared: allow slow answers (not a timing assert).
expect.set_options(timeout=30_000)

ALWAYS_LIVE = ROOT / "tests" / "schedule_always_live.yml"


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first (make test does)")
    # Rasa's HTTP API is on (behind a token) so that tests can push through a channel's
    # output, as the server's API does (tests/e2e/conformance).
    # The schedule is always live: the handover's texts do not depend on the real date.
    # The link to continue an X conversation on the web chat is on (tests/e2e/test_webchat.py
    # opens one in the browser), but never offered in a DM (a wait of 7 days at most): the
    # tests that read DMs read them as the assistant wrote them.
    stack = Stack(tmp_path_factory.mktemp("e2e"), x_mode="webhook", mastodon=True,
                    api_token=secrets.token_hex(16),
                    env={"PERMANENCE_SCHEDULE_FILE": str(ALWAYS_LIVE),
                         continue_link.SECRET_ENV: secrets.token_hex(24),
                         continue_link.AFTER_ENV: str(7 * 86_400)})
    stack.env[continue_link.BASE_URL_ENV] = stack.base_url
    with stack:
        yield stack
    rasa_log = stack.log("rasa")
    if "Traceback" in rasa_log:
        print(rasa_log[-5000:])


# The kill -9 test (test_x_kill.py) and the X outage test (test_x_outage.py) share one stack of
# their own, started once: each talks to people of its own, the kill test starts Rasa again
# before it ends, and the outage's faults end before the outage test does. A dead server's
# items come back once its liveness lease (3 s here) has expired; a send X refused with a 5xx
# is tried again after 2 s, doubling (the defaults: 30 s and 5 s).
X_FAULTS = {"liveness_seconds": 3, "send_retry_seconds": 2}


@pytest.fixture(scope="session")
def x_faults_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first (make test does)")
    stack = Stack(tmp_path_factory.mktemp("x-faults"), x_mode="webhook", x_extra=X_FAULTS)
    with stack:
        yield stack
    for name in ("rasa", "x_emulator"):
        if "Traceback" in stack.log(name):
            print(stack.log(name)[-5000:])


# The Mastodon kill -9 and outage tests (test_mastodon_faults.py) likewise, on a stack with the
# Mastodon channel only: liveness and leases of 3 s, the send backoff from 2 s, a poll every
# 2 s and a broken stream retried after half a second (the defaults: 30 s, 5 s, 30 s, 1 s).
MASTODON_FAULTS = {"MASTODON_LIVENESS_SECONDS": "3", "MASTODON_LEASE_SECONDS": "3",
                   "MASTODON_SEND_RETRY_SECONDS": "2", "MASTODON_POLL_SECONDS": "2",
                   "MASTODON_STREAM_RETRY_SECONDS": "0.5"}


@pytest.fixture(scope="session")
def mastodon_faults_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first (make test does)")
    stack = Stack(tmp_path_factory.mktemp("mastodon-faults"), x_mode=None, mastodon=True,
                  mastodon_env=MASTODON_FAULTS)
    with stack:
        yield stack
    for name in ("rasa", "mastodon_emulator"):
        if "Traceback" in stack.log(name):
            print(stack.log(name)[-5000:])


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium driven by Playwright's sync API (keep it out of async test modules)."""
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is required: apt-get install chromium (.ci/run does it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
