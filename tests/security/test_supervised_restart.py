"""Issue #11, item 15: under `make run` one process dying stopped both, nothing restarted them,
and a DM sent while Rasa was down was never answered.

End to end, one boot: `scripts/run.sh` (what `make run` starts) on free ports of 127.0.0.1, with
the X channel in webhook mode against the X emulator, so it supervises three processes (the
action server, Rasa, the X webhook ingress). `kill -9` of the action server, then of Rasa: each
comes back on its own and the conversation goes on; the DM written while Rasa was down is
acknowledged by the ingress, kept in the durable inbox and answered once Rasa is back, once.
Ctrl-C (SIGINT) stops everything.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from sandbox.stack import MODEL, ROOT, X_SANDBOX_CREDENTIALS, Stack, wait_for, x_channel_section
from tests.dialogue import QUESTIONS, SUMMARY, URBANISME, URBANISME_ANSWERS

PERSON = "862000000000000001"
BOOT_SECONDS = 300  # a Rasa boot on a loaded 2-core machine


def pids(log: str, name: str) -> list[int]:
    return [int(pid) for pid in re.findall(rf"supervise: {name} started \(pid (\d+)\)", log)]


def answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2).read()
        return True
    except OSError:
        return False


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"))


@pytest.mark.timeout(900)
def test_each_server_restarts_on_its_own_and_the_dm_sent_meanwhile_is_answered(tmp_path) -> None:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first (make test does)")
    # The Stack gives the ports, the emulator (delivering webhooks to the ingress's port) and
    # the helpers; the servers are started by scripts/run.sh, not by the Stack.
    stack = Stack(tmp_path, x_mode="webhook")
    credentials = tmp_path / "credentials.x.yml"
    credentials.write_text((ROOT / "credentials.yml").read_text() + x_channel_section(
        stack.x_base_url, "webhook", None, {"liveness_seconds": 3}))
    env = {
        **stack.server_env(), **X_SANDBOX_CREDENTIALS,
        "PERMANENCE_ENV_FILE": "/dev/null",  # a developer's .env must not change the ports
        "CREDENTIALS": str(credentials),
        "PERMANENCE_PORT": str(stack.rasa_ports[0]),
        "ACTIONS_PORT": str(stack.actions_port),
        "X_INGRESS_PORT": str(stack.ingress_ports[0]),
        "PERMANENCE_SCHEDULE_FILE": str(ROOT / "tests/schedule_always_live.yml"),
    }
    log_path = tmp_path / "run.log"
    stack.start_emulator()
    with log_path.open("w") as log_file:
        run = subprocess.Popen(["bash", "scripts/run.sh"], cwd=ROOT, env=env, stdout=log_file,
                               stderr=subprocess.STDOUT, start_new_session=True)
    def log() -> str:
        return log_path.read_text(errors="replace")

    actions_health = f"http://127.0.0.1:{stack.actions_port}/health"
    try:
        assert wait_for(lambda: "Permanence is running." in log(), BOOT_SECONDS, 0.5), log()
        assert f"X webhook:     {stack.ingress_url(0)}/webhooks/x/webhook" in log()
        (actions_pid,) = pids(log(), "actions")
        (rasa_pid,) = pids(log(), "rasa")
        (ingress_pid,) = pids(log(), "x-ingress")
        # The ingress acknowledges once Rasa has published the account.
        assert wait_for(lambda: stack.x_sql("SELECT 1 FROM x_cursor WHERE name = 'x.account'"),
                        60, 0.2)

        stack.x_send_dm(PERSON, URBANISME)
        assert stack.x_wait_dm_containing(PERSON, "Acceptez-vous"), stack.x_dm_texts(PERSON)

        # kill -9 the action server: it comes back alone, the conversation goes on.
        os.kill(actions_pid, signal.SIGKILL)
        assert wait_for(lambda: pids(log(), "actions")[1:], 60, 0.2), log()[-3000:]
        assert "supervise: actions killed by SIGKILL after" in log()
        assert re.search(r"supervise: actions restarting in \d+(\.\d+)? s", log())
        assert wait_for(lambda: answers(actions_health), 120, 0.5)
        assert pids(log(), "rasa") == [rasa_pid] and alive(rasa_pid)
        stack.x_send_dm(PERSON, "1")  # « J'accepte »
        assert stack.x_wait_dm_containing(PERSON, QUESTIONS), (
            stack.x_dm_texts(PERSON))
        before = len(stack.x_dm_texts(PERSON))

        # kill -9 Rasa; the person writes while it is down.
        os.kill(rasa_pid, signal.SIGKILL)
        event_id = stack.x_send_dm(PERSON, URBANISME_ANSWERS)  # raises unless acknowledged
        assert not answers(f"{stack.base_url}/")  # still down: the ingress acknowledged it
        assert stack.x_sql("SELECT state FROM x_inbox WHERE event_id = ?", f"dm:{event_id}") \
            or stack.x_sql("SELECT state FROM x_inbox WHERE event_id = ?", event_id), (
            "not in the durable inbox")
        assert pids(log(), "x-ingress") == [ingress_pid] and alive(ingress_pid)

        assert wait_for(lambda: pids(log(), "rasa")[1:], 60, 0.2), log()[-3000:]
        assert "supervise: rasa killed by SIGKILL after" in log()
        assert stack.x_wait_dm_containing(PERSON, SUMMARY, timeout=BOOT_SECONDS), (
            stack.x_dm_texts(PERSON), log()[-3000:])
        time.sleep(3.0)  # a few more sending rounds: a duplicate would show up
        after = stack.x_dm_texts(PERSON)[before:]
        assert len(after) == 1 and SUMMARY in after[0], after
        user_ids = [e.get("message_id") for e in stack.stored_events(PERSON)
                    or stack.stored_events(f"x:{PERSON}") if e["event"] == "user"]
        assert sum(event_id in (mid or "") for mid in user_ids) == 1, user_ids

        # Ctrl-C stops everything.
        children = [*pids(log(), "actions"), *pids(log(), "rasa"), *pids(log(), "x-ingress")]
        run.send_signal(signal.SIGINT)
        assert run.wait(timeout=90) == 0, log()[-3000:]
        assert "supervise: SIGINT received: stopping" in log()
        assert log().rstrip().endswith("supervise: stopped")
        assert not any(alive(pid) for pid in children)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
        stack.stop()
        if "Traceback" in log():
            print(log()[-8000:])
