"""What the desk says of the lawyer's reply on X is what X did with it, end to end: the real
Rasa server's X channel against the X emulator, the lawyer on the desk's API.

A person whose DMs are closed (``/_control/dm_closed``): X refuses the reply (403), and the
desk shows it as not delivered, with the reason in French, in ``GET /desk/api/cases/<id>`` and
in the case page's live updates. A person whose DMs are open: the reply goes out, and the desk
shows it as sent, with the time. Never « remis » on a guess.
"""

from __future__ import annotations

import html
import json
import urllib.request
import uuid

from connectors.x.send import REFUSED_BY_PERSON
from sandbox.stack import wait_for
from tests.e2e.test_desk_handoff import api, api_post, lawyer_token, open_case_of

REPLY = "Bonjour, ici Maître Exemple. Avez-vous gardé le courrier ?"


def handed_over_on_x(servers, token: str) -> tuple[str, dict]:
    """A person on X, triage consented, handed over: (their X user id, the open case)."""
    user_id = str(uuid.uuid4().int % 10**17 + 10**17)

    def dms() -> list[str]:
        return servers.x_dm_texts(user_id)

    servers.x_send_dm(user_id, "la mairie refuse mon permis de construire")
    assert wait_for(lambda: any("?" in text for text in dms()))
    before = len(dms())
    servers.x_send_dm(user_id, "1")  # the consent question's first option: yes
    assert wait_for(lambda: len(dms()) > before)
    servers.x_send_dm(user_id, "je veux parler à l'avocat")
    case = open_case_of(servers, token, f"x:{user_id}")
    assert case["channel"] == "x"
    status, _ = api_post(servers, f"/cases/{case['id']}/take", token)
    assert status == 200
    return user_id, case


def reply_status(servers, token: str, case_id: int) -> dict:
    status, detail = api(servers, f"/cases/{case_id}", token)
    assert status == 200
    [reply] = [m for m in detail["messages"] if m["author"] == "lawyer"]
    return reply["delivery_status"]


def live_badge(servers, token: str, case_id: int, message_id: int) -> dict:
    """The reply's badge in the case page's live updates (what desk.js applies)."""
    request = urllib.request.Request(f"{servers.base_url}/desk/cases/{case_id}/updates",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["deliveries"][f"m{message_id}"]


def case_page(servers, token: str, case_id: int) -> str:
    request = urllib.request.Request(f"{servers.base_url}/desk/cases/{case_id}",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return html.unescape(response.read().decode())


def test_a_reply_x_refuses_shows_as_not_delivered_with_the_reason(servers):
    token = lawyer_token(servers)
    user_id, case = handed_over_on_x(servers, token)
    servers.x_control("POST", "/_control/dm_closed", {"user_id": user_id, "closed": True})
    status, body = api_post(servers, f"/cases/{case['id']}/reply", token, {"text": REPLY})
    assert (status, body["delivery"]) == (200, "sent")  # handed to the X outbox

    failed = wait_for(lambda: (s := reply_status(servers, token, case["id"]))["state"]
                      == "failed" and s, timeout=60)
    assert failed, reply_status(servers, token, case["id"])
    assert failed["reason"] == REFUSED_BY_PERSON
    assert failed["label"] == f"non remis : {REFUSED_BY_PERSON}"
    assert REPLY not in servers.x_dm_texts(user_id)
    assert live_badge(servers, token, case["id"], body["message_id"]) == {
        "state": "failed", "label": f"non remis : {REFUSED_BY_PERSON}"}
    assert (f'<span class="delivery failed">non remis : {REFUSED_BY_PERSON}</span>'
            in case_page(servers, token, case["id"]))


def test_a_reply_that_goes_out_shows_as_sent_with_the_time(servers):
    token = lawyer_token(servers)
    user_id, case = handed_over_on_x(servers, token)
    status, body = api_post(servers, f"/cases/{case['id']}/reply", token, {"text": REPLY})
    assert (status, body["delivery"]) == (200, "sent")

    assert servers.x_wait_dm_containing(user_id, REPLY)
    sent = wait_for(lambda: (s := reply_status(servers, token, case["id"]))["state"]
                    == "sent" and s.get("at") and s, timeout=60)
    assert sent, reply_status(servers, token, case["id"])
    assert sent["reason"] is None and sent["label"].startswith("envoyé le ")
    badge = live_badge(servers, token, case["id"], body["message_id"])
    assert badge["state"] == "sent" and badge["label"] == sent["label"]
    page = case_page(servers, token, case["id"])
    assert f'<span class="delivery sent">{sent["label"]}</span>' in page
