"""The X webhook as a process of its own (python -m connectors.x.ingress), next to the real
server: it acknowledges deliveries, refuses forged ones, and the DM is answered once even when
X delivers it to two webhooks."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from sandbox.stack import ROOT, X_SANDBOX_CREDENTIALS, free_port, wait_http
from scripts.x_register import Credentials, register


@pytest.fixture(scope="module")
def ingress_process(servers, tmp_path_factory):
    port = free_port()
    log = open(tmp_path_factory.mktemp("ingress") / "ingress.log", "w")  # noqa: SIM115
    env = {**os.environ, **X_SANDBOX_CREDENTIALS,
           "PERMANENCE_DATABASE_URL": f"sqlite:///{servers.db_path}"}
    process = subprocess.Popen([sys.executable, "-m", "connectors.x.ingress", "--port", str(port)],
                               cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/webhooks/x/webhook"
    try:
        wait_http(f"{url}?crc_token=up", process, timeout=60)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def test_a_dm_delivered_to_the_process_and_to_rasa_is_answered_once(servers, ingress_process):
    """X Activity API envelopes to the process (``make x-register``), Account Activity ones to
    Rasa's ingress thread (the session's emulator): one DM, two doors, one answer."""
    creds = Credentials(**{k[2:].lower(): v for k, v in X_SANDBOX_CREDENTIALS.items()})
    summary = register(servers.x_base_url, ingress_process, creds)
    assert {(s["event_type"], s["webhook_id"]) for s in summary["subscriptions"]} == {
        ("dm.received", summary["webhook_id"]), ("post.mention.create", summary["webhook_id"])}
    try:
        check_answered_once(servers, ingress_process)
    finally:  # the other tests share the emulator: take this webhook and its subscriptions away
        bearer = {"Authorization": f"Bearer {X_SANDBOX_CREDENTIALS['X_BEARER_TOKEN']}"}
        paths = [f"/2/activity/subscriptions/{s['subscription_id']}"
                 for s in summary["subscriptions"]]
        for path in [*paths, f"/2/webhooks/{summary['webhook_id']}"]:
            urllib.request.urlopen(urllib.request.Request(
                servers.x_base_url + path, method="DELETE", headers=bearer), timeout=10)


def check_answered_once(servers, ingress_process: str) -> None:
    sender = str(random.randrange(10**15, 10**18))
    answer = servers.x_control("POST", "/_control/dm", {
        "sender_id": sender, "text": "bonjour, la préfecture refuse mon titre de séjour"})
    statuses = {d["url"]: d["status"] for d in answer["deliveries"]}
    assert statuses[ingress_process] == 200 and len(statuses) >= 2

    def dms():
        return [dm for dm in servers.x_control("GET", "/_control/outbox")["dms"]
                if dm["recipient_id"] == sender]

    deadline = time.monotonic() + 20
    while not any("Acceptez-vous" in dm["text"] for dm in dms()):
        assert time.monotonic() < deadline, "no answer through the ingress process"
        time.sleep(0.1)
    time.sleep(1.0)
    assert sum("Acceptez-vous" in dm["text"] for dm in dms()) == 1  # once, not once per door

    forged = urllib.request.Request(ingress_process, data=b'{"for_user_id": "1"}', method="POST",
                                    headers={"x-twitter-webhooks-signature": "sha256=AAAA"})
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(forged, timeout=10)
    assert error.value.code == 403
