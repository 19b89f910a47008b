"""One stack for the attacks that need the real servers with the X channel in webhook mode
(test_disclosure_outage.py, test_erasure_no_trace.py, test_rest_door.py,
test_x_webhook_forgery.py), started once instead of once per module: each module talks to
people and conversations of its own, and the action server outage ends (the server started
again) within its test.

Its X settings: stack_settings.py. The schedule is always live: the handover's texts do not
depend on the date.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator

import pytest

from permanence import continue_link
from sandbox.stack import MODEL, ROOT, Stack, wait_for
from tests.security.stack_settings import X_EXTRA

ALWAYS_LIVE = ROOT / "tests" / "schedule_always_live.yml"


def x_ready(stack: Stack) -> bool:
    with urllib.request.urlopen(f"{stack.base_url}/webhooks/x/", timeout=10) as response:
        return json.loads(response.read())["ready"]


@pytest.fixture(scope="session")
def security_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first (make test does)")
    # The link to continue on the web chat is on: a continued conversation is erased too
    # (test_erasure_no_trace.py).
    stack = Stack(tmp_path_factory.mktemp("security"), x_mode="webhook",
                  env={"PERMANENCE_SCHEDULE_FILE": str(ALWAYS_LIVE),
                       continue_link.SECRET_ENV: os.urandom(24).hex()},
                  x_extra=dict(X_EXTRA))
    stack.env[continue_link.BASE_URL_ENV] = stack.base_url
    with stack:
        assert wait_for(lambda: x_ready(stack), 90, 0.5), "the X channel did not start"
        yield stack
    for name in ("rasa", "actions"):
        log = stack.log(name)
        if "Traceback" in log:
            print(log[-6000:])
