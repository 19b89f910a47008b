"""The web chat page in a real browser: Debian's Chromium driven by Playwright."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import WebSocketRoute, expect

from connectors.webchat import CONTINUED, LINK_REFUSED, conversation_id_of
from permanence import continue_link
from permanence.continue_store import ContinueStore
from sandbox.stack import wait_for
from tests.dialogue import QUESTIONS, SUMMARY, URBANISME
from tests.e2e.test_desk_handoff import api, api_post, lawyer_token, open_case_of

LAWYER = "Bonjour, ici Maître Exemple. Avez-vous la décision de la préfecture ?"


def test_a_person_holds_the_triage_in_the_browser(servers, browser, tmp_path):
    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    page.goto(f"{servers.base_url}/chat")
    bot = page.locator(".msg.bot")

    page.fill("#text", "la préfecture refuse de renouveler mon titre de séjour")
    page.press("#text", "Enter")
    expect(bot.filter(has_text="assistant automatisé")).to_have_count(1)
    expect(bot.last).to_contain_text("Acceptez-vous")
    page.get_by_role("button", name="J'accepte").click()
    expect(bot.last).to_contain_text(QUESTIONS)

    # The conversation survives a reload of the page (same session secret, transcript kept).
    secret = page.evaluate("sessionStorage.getItem('permanence.secret')")
    assert secret and len(secret) == 43
    page.reload()
    expect(page.locator(".msg.bot").filter(has_text=QUESTIONS)).to_have_count(1)
    assert page.evaluate("sessionStorage.getItem('permanence.secret')") == secret

    # Every missing fact in one answer: the summary, confirmed with its button.
    page.fill("#text", "la préfecture du Rhône, je suis libre, reçue hier vers 11h, 69003")
    page.press("#text", "Enter")
    expect(bot.last).to_contain_text(SUMMARY)
    expect(bot.last).to_contain_text("préfecture du Rhône")
    page.get_by_role("button", name="Oui, c'est ça").click()
    # The handover itself (the opening and the summary say « en personne » and « transmets »).
    expect(bot.filter(has_text="La suite de l'échange se fera ici même")).to_have_count(1)

    # Right-to-left text is shown in its own direction, as typed (recorded for the lawyer).
    page.fill("#text", "رفض تجديد بطاقة الإقامة")
    page.press("#text", "Enter")
    user = page.locator(".msg.user").last
    expect(user).to_have_text("رفض تجديد بطاقة الإقامة")
    expect(user).to_have_attribute("dir", "auto")
    page.screenshot(path=str(tmp_path / "webchat.png"))
    slots = servers.stored_slots(conversation_id_of(secret))
    assert "préfecture du Rhône" in slots["partie_adverse"]
    assert slots["code_postal"] == "69003" and slots["route"] == "handoff"
    # The page's policy (no inline script or style, socket on its own origin) let it all run.
    assert not [line for line in console if "Content Security Policy" in line
                or line.startswith(("error", "pageerror"))], console

    # The handover gave a resume link, in the address's fragment (never sent to a server).
    resume = page.get_by_role("region", name="Pour revenir à cette conversation")
    expect(resume).to_be_visible()
    link = resume.locator("a.resume-link").get_attribute("href")
    assert re.fullmatch(re.escape(servers.base_url) + r"/chat/?#resume=[A-Za-z0-9_-]{43}", link)
    page.close()  # the tab is closed

    # The lawyer answers the closed tab; the desk says it is not read yet.
    token = lawyer_token(servers)
    case = open_case_of(servers, token, conversation_id_of(secret))
    assert api_post(servers, f"/cases/{case['id']}/take", token)[0] == 200
    assert api_post(servers, f"/cases/{case['id']}/reply", token, {"text": LAWYER})[0] == 200
    assert lawyer_delivery(servers, token, case["id"])["state"] == "queued"

    # Later, in another browser (a new context: nothing of the first tab), the link.
    other = browser.new_context().new_page()
    other.goto(link)
    lawyer = other.locator(".msg.lawyer")
    expect(lawyer).to_have_count(1)
    expect(lawyer).to_contain_text("Votre avocat")
    expect(lawyer).to_contain_text(LAWYER)
    expect(other.locator(".msg.user").filter(has_text="رفض تجديد")).to_have_count(1)
    assert "resume" not in other.url  # taken out of the address and its history
    assert wait_for(lambda: lawyer_delivery(servers, token, case["id"])["state"] == "delivered")
    other.reload()  # the same tab: its own secret, the reply shown once
    expect(other.locator(".msg.lawyer")).to_have_count(1)
    other.close()


def lawyer_delivery(servers, token: str, case_id: int) -> dict:
    _, detail = api(servers, f"/cases/{case_id}", token)
    return [m for m in detail["messages"] if m["author"] == "lawyer"][0]["channel_delivery"]



def test_a_message_typed_before_the_session_is_confirmed_waits_for_it(servers, browser):
    """On a slow network the person may write before the server confirmed the session; the
    server takes nothing from a socket without one, so the page holds the message until the
    confirmation, then sends it. The page's session request is held back here, on its
    websocket (which the page's policy allows: the route sees it)."""
    page = browser.new_page()
    held: list[str] = []
    sent: list[str | bytes] = []
    servers_side: list[WebSocketRoute] = []

    def route(socket: WebSocketRoute) -> None:
        server = socket.connect_to_server()
        servers_side.append(server)

        def from_page(message: str | bytes) -> None:
            if isinstance(message, str) and "session_request" in message and not held:
                held.append(message)
            else:
                sent.append(message)
                server.send(message)

        socket.on_message(from_page)

    page.route_web_socket(re.compile(r"/socket\.io/"), route)
    page.goto(f"{servers.base_url}/chat")
    for _ in range(300):
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the page opened no websocket"
    page.fill("#text", "bonjour")
    page.press("#text", "Enter")
    expect(page.locator(".msg.user")).to_have_text(["bonjour"])
    page.wait_for_timeout(2000)
    assert not any("user_uttered" in str(message) for message in sent), sent

    servers_side[0].send(held[0])
    expect(page.locator(".msg.bot").filter(has_text="Acceptez-vous")).to_have_count(1)
    secret = page.evaluate("sessionStorage.getItem('permanence.secret')")
    users = [e["text"] for e in servers.stored_events(conversation_id_of(secret))
             if e["event"] == "user"]
    assert users == ["bonjour"]
    page.close()


def test_a_person_from_x_opens_the_continue_link_in_the_browser(servers, browser):
    """The page presents the link's token once, takes it out of its address, shows what was
    said on X and carries on in that conversation; the same link in another tab opens
    nothing of it."""
    person = str(uuid.uuid4().int % 10**17 + 10**17)
    servers.x_send_dm(person, URBANISME)
    assert servers.x_wait_dm_containing(person, "Acceptez-vous", 90)
    settings = continue_link.from_env(servers.env)
    store = ContinueStore.create(f"sqlite:///{servers.x_db_path}")
    try:
        token = store.issue(settings, servers.x_conversation(person))
    finally:
        store.close()
    link = settings.link(token.token)
    assert continue_link.find_continue_token(continue_link.with_link("…", link)) == token.token

    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(link)
    bot = page.locator(".msg.bot")
    expect(bot.filter(has_text=CONTINUED)).to_have_count(1)
    expect(page.locator(".msg.user")).to_have_text([URBANISME])
    expect(bot.filter(has_text="Acceptez-vous")).to_have_count(1)
    assert "continue" not in page.url
    page.fill("#text", "oui j'accepte")
    page.press("#text", "Enter")
    expect(bot.last).to_contain_text(QUESTIONS)
    events = servers.stored_events(servers.x_conversation(person))
    assert [e.get("input_channel") for e in events if e["event"] == "user"] == ["x", "webchat"]
    page.reload()  # the tab's session resumes the conversation; the link is not presented again
    expect(page.locator(".msg.bot").filter(has_text=QUESTIONS)).to_have_count(1)
    expect(page.locator(".msg.bot").filter(has_text=LINK_REFUSED)).to_have_count(0)

    other = browser.new_page()
    other.goto(link)
    expect(other.locator(".msg.bot").filter(has_text=LINK_REFUSED)).to_have_count(1)
    expect(other.locator(".msg.user")).to_have_count(0)
    expect(other.locator(".msg.bot").filter(has_text="Acceptez-vous")).to_have_count(0)
    other.close()
    page.close()
