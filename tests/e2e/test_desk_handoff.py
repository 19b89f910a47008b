"""A conversation handed over in the web channel opens a case in the desk's API, on the real
server: fact card, urgency, and the person's later messages; unauthenticated requests refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def desk_cli(servers, *args: str) -> str:
    env = {**os.environ, "PERMANENCE_DATABASE_URL": f"sqlite:///{servers.db_path}"}
    done = subprocess.run([sys.executable, "-m", "desk.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True, timeout=60)
    return done.stdout.strip().splitlines()[-1]


def api(servers, path: str, token: str | None = None):
    request = urllib.request.Request(f"{servers.base_url}/desk/api{path}")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, None


def test_handoff_opens_a_case_in_the_desk(servers):
    email = f"avocat-{uuid.uuid4().hex[:6]}@cabinet.example"
    desk_cli(servers, "user", email, "un mot de passe assez long")
    token = desk_cli(servers, "token", email)
    assert api(servers, "/cases")[0] in (401, 403)

    sender = f"e2e-desk-{uuid.uuid4().hex[:8]}"
    servers.say(sender, "j'ai reçu une OQTF hier et je suis en rétention au CRA de Lesquin")
    servers.say(sender, "/affirm")
    servers.say(sender, "je veux parler à l'avocat maintenant")
    handed_over = time.monotonic()

    def find():
        status, body = api(servers, "/cases", token)
        assert status == 200
        return [c for c in body["queue"] if c.get("sender_id") == sender]

    found = find()
    while not found and time.monotonic() - handed_over < 5:
        time.sleep(0.05)
        found = find()
    assert found, "the handed-over conversation is not in the desk queue"
    case = found[0]
    assert case["state"] == "waiting" and case["urgency"] == "P0"
    assert case["channel"] == "rest" and case["domain"] == "etrangers"

    # The person writes again while the lawyer has the case: the assistant is silent,
    # the message is on the case.
    assert servers.say(sender, "je suis toujours là, merci de me répondre vite") == []
    status, detail = api(servers, f"/cases/{case['id']}", token)
    assert status == 200
    assert "je suis toujours là" in json.dumps(detail, ensure_ascii=False)
