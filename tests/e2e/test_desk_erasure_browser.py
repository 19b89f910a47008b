"""Erasure from the desk, in a real browser against the real servers (issue #14, item 4).

A person reaches the lawyer (web chat, then X through the emulator), names an unusual street
and writes « supprimez mes données » during the handover: the assistant is paused, yet the
person is told at once « Votre demande d'effacement est transmise… » through their own channel,
and the lawyer's open case page shows the request without a reload. The lawyer presses
« Effacer ses données », confirms, and the page says the data are erased. Then every column of
every row of every table of both databases (``permanence.db``: tracker events, desk;
``permanence-x.db``: the X channel's store) is scanned for the person's id and words: nothing.
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
import urllib.request
import uuid

from playwright.sync_api import Page, expect

from connectors.webchat import conversation_id_of
from desk import auth, db
from desk.erasure_request import ACKNOWLEDGEMENT
from sandbox.stack import Stack, wait_for

PASSWORD = "un mot de passe assez long"
QUESTION = "la mairie refuse mon permis de construire"
ASK_LAWYER = "je veux parler à l'avocat"
DELETE = "supprimez mes données"
ACK = "Votre demande d'effacement est transmise"
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def traces(stack: Stack, needles: list[str]) -> list[tuple[str, str, str, str]]:
    """Every (database, table, column, needle) where a needle appears, in both SQLite files."""
    found = []
    for path in (stack.db_path, stack.x_db_path):
        with sqlite3.connect(path, timeout=30) as connection:
            tables = [name for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")]
            assert tables, f"no table in {path.name}"
            for table in tables:
                cursor = connection.execute(f'SELECT * FROM "{table}"')
                columns = [column[0] for column in cursor.description]
                for row in cursor:
                    for column, value in zip(columns, row, strict=True):
                        if value is None:
                            continue
                        text = (value.decode("utf-8", "replace") if isinstance(value, bytes)
                                else str(value))
                        found += [(path.name, table, column, needle)
                                  for needle in needles if needle in text]
    return found


def case_id_of(stack: Stack, conversation_id: str) -> int | None:
    rows = stack.sql("SELECT id FROM desk_case WHERE conversation_id = ? ORDER BY id DESC",
                     conversation_id)
    return rows[0][0] if rows else None


def add_lawyer(url: str) -> str:
    email = f"avocat-{uuid.uuid4().hex[:8]}@cabinet.example"
    db.upgrade_to_head(url)
    with db.session_factory(url).begin() as session:
        lawyer = auth.set_lawyer(session, email, PASSWORD)
        auth.set_display_name(session, lawyer, "Maître Exemple")
    return email


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/desk/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(re.compile(r"/desk/$"))


def open_case_page(desk: Page, base: str, case_id: int) -> None:
    desk.goto(f"{base}/desk/cases/{case_id}")
    expect(desk.locator("#live-status")).to_have_text("en direct")
    expect(desk.locator("#erasure-flag")).to_be_hidden()
    desk.evaluate("window.deskSameDocument = true")


def erase_from_the_desk(desk: Page) -> None:
    """The request shows on the open page (live); the lawyer erases, with confirmation."""
    expect(desk.locator("#erasure-flag")).to_be_visible()
    expect(desk.locator("#erasure-flag")).to_contain_text("demande l'effacement")
    assert desk.evaluate("window.deskSameDocument === true"), "the case page was reloaded"
    desk.get_by_role("button", name="Effacer ses données").click()  # the dialog is accepted
    expect(desk.get_by_role("heading", name="Données effacées")).to_be_visible()


def x_ready(stack: Stack) -> bool:
    with urllib.request.urlopen(f"{stack.base_url}/webhooks/x/", timeout=10) as response:
        return json.loads(response.read())["ready"]


def x_settled(stack: Stack) -> bool:
    pending = stack.x_sql("SELECT count(*) FROM x_outbox WHERE state = 'pending'")[0][0]
    busy = stack.x_sql("SELECT count(*) FROM x_inbox WHERE state IN ('pending', 'processing')")
    return pending == 0 and busy[0][0] == 0


def test_an_erasure_request_during_the_handover_then_the_desks_erase_leave_no_trace(
        servers, browser) -> None:
    base, url = servers.base_url, str(servers.database_url)
    email = add_lawyer(url)
    lawyer_context = browser.new_context(viewport=LAPTOP)
    person_context = browser.new_context(viewport=PHONE)
    try:
        desk = lawyer_context.new_page()
        dialogs: list[str] = []

        def accept(dialog) -> None:
            dialogs.append(dialog.message)
            dialog.accept()

        desk.on("dialog", accept)
        log_in(desk, base, email)

        # --- the web chat
        words = f"rue Quelmerville{random.randrange(10**6)}"
        chat = person_context.new_page()
        chat.goto(f"{base}/chat")
        bot = chat.locator(".msg.bot")
        chat.fill("#text", f"{QUESTION}, {words}")
        chat.press("#text", "Enter")
        expect(bot.last).to_contain_text("Acceptez-vous")
        before = bot.count()
        chat.get_by_role("button", name="J'accepte").click()
        expect(bot.nth(before)).to_be_attached(timeout=60_000)
        chat.fill("#text", ASK_LAWYER)
        chat.press("#text", "Enter")
        expect(bot.filter(has_text="transmets")).to_have_count(1)
        conversation = conversation_id_of(
            chat.evaluate("sessionStorage.getItem('permanence.secret')"))
        case_id = wait_for(lambda: case_id_of(servers, conversation), 30)
        assert case_id is not None, "no case opened"
        open_case_page(desk, base, case_id)
        assert traces(servers, [conversation, words]), "the scan must see the person first"

        chat.fill("#text", DELETE)
        chat.press("#text", "Enter")
        expect(bot.filter(has_text=ACK)).to_have_count(1)
        expect(bot.filter(has_text=ACK)).to_have_text(ACKNOWLEDGEMENT)
        erase_from_the_desk(desk)
        assert dialogs and "définitif" in dialogs[-1]
        assert wait_for(lambda: not traces(servers, [conversation, words]), 30, 0.2), (
            traces(servers, [conversation, words]))

        # --- X (the emulator)
        assert wait_for(lambda: x_ready(servers), 60, 0.5), "the X channel did not start"
        user, words = str(random.randrange(10**15, 10**18)), f"Zorglub{random.randrange(10**6)}"
        servers.x_send_dm(user, f"{QUESTION} au {words}")
        assert servers.x_wait_dm_containing(user, "Acceptez-vous", 90), servers.x_dm_texts(user)
        answered = len(servers.x_dm_texts(user))
        servers.x_send_dm(user, "1")  # the first option: consent
        assert wait_for(lambda: len(servers.x_dm_texts(user)) > answered, 90), "no answer"
        servers.x_send_dm(user, ASK_LAWYER)
        assert servers.x_wait_dm_containing(user, "transmets", 90), servers.x_dm_texts(user)
        x_case = wait_for(lambda: case_id_of(servers, f"x:{user}"), 30)
        assert x_case is not None, "no case opened from X"
        open_case_page(desk, base, x_case)

        servers.x_send_dm(user, DELETE)
        assert servers.x_wait_dm_containing(user, ACK, 90), servers.x_dm_texts(user)
        erase_from_the_desk(desk)
        assert wait_for(lambda: x_settled(servers) and not traces(servers, [user, words]),
                        30, 0.2), traces(servers, [user, words])
    finally:
        lawyer_context.close()
        person_context.close()
