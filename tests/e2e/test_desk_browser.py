"""The lawyer's desk in a real browser (Debian's Chromium driven by Playwright), against the
real servers, on SQLite (the session's stack) and on PostgreSQL (a stack of its own).

One flow for both: the lawyer logs in and watches the queue; a person in the web chat asks for
the lawyer; the case appears without a reload; the lawyer takes it and replies, the person
reads the reply, answers, and the answer appears on the case page without a reload; the lawyer
hands back, the person is told and the assistant answers again. Then a person writes on X
(the emulator): the lawyer replies from the browser, the reply leaves through the X outbox; a
colleague can only take the case over (« Reprendre le dossier », audited), the lawyer's page
follows and she takes it back; closing the case takes it off the queue of another open tab.
"""

from __future__ import annotations

import json
import random
import re
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from connectors.webchat import conversation_id_of
from desk import auth, canned, db
from desk.models import desk_audit, desk_case, desk_message
from sandbox.stack import MODEL, ROOT, Stack, wait_for, x_screen_name

T = TypeVar("T")
ALWAYS_LIVE = ROOT / "tests" / "schedule_always_live.yml"
PASSWORD = "un mot de passe assez long"
QUESTION = "la mairie refuse mon permis de construire"
ASK_LAWYER = "je veux parler à l'avocat"
REPLY = "Bonjour, ici Maître Exemple. Pouvez-vous m'envoyer l'arrêté de refus ?"
FOLLOW_UP = "Oui, je l'ai reçu le 18 novembre, je vous l'envoie."
CANNED_TITLE = "Délai de recours"
CANNED_TEXT = "Le délai de recours contentieux est de deux mois."
X_REPLY = "Bonjour, ici Maître Exemple, sur X. Avez-vous la décision écrite ?"
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}




@pytest.fixture(scope="module")
def postgres_stack(postgres_url: str, tmp_path_factory: pytest.TempPathFactory
                   ) -> Iterator[Stack]:
    """The whole assistant (X emulator, actions, Rasa with the desk) on a PostgreSQL database of
    its own, on the throwaway server of tests/conftest.py (started if needed; the test fails
    if PostgreSQL cannot be started)."""
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first (make test does)")
    name = f"desk_browser_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_url, future=True, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    stack = Stack(tmp_path_factory.mktemp("desk-pg"), x_mode="webhook", database_url=url,
                  env={"PERMANENCE_SCHEDULE_FILE": str(ALWAYS_LIVE)})
    try:
        with stack:
            yield stack
    finally:
        db.dispose_all()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        if "Traceback" in stack.log("rasa"):
            print(stack.log("rasa")[-5000:])


# ------------------------------------------------------------------ the database


def add_lawyer(url: str) -> str:
    """A lawyer (and a canned reply) on the stack's database, with the desk's own functions."""
    email = f"avocat-{uuid.uuid4().hex[:8]}@cabinet.example"
    db.upgrade_to_head(url)
    with db.session_factory(url).begin() as session:
        lawyer = auth.set_lawyer(session, email, PASSWORD)
        if not any(r["title"] == CANNED_TITLE for r in canned.list_replies(session)):
            canned.add_reply(session, lawyer, CANNED_TITLE, CANNED_TEXT)
    return email


def case_of(url: str, conversation_id: str) -> Any:
    with db.session_factory(url).begin() as session:
        return session.execute(
            select(desk_case.c.id, desk_case.c.state, desk_case.c.channel)
            .where(desk_case.c.conversation_id == conversation_id)
            .order_by(desk_case.c.id.desc())
        ).first()


def person_messages(url: str, case_id: int) -> list[str]:
    with db.session_factory(url).begin() as session:
        return list(session.execute(
            select(desk_message.c.text).where(desk_message.c.case_id == case_id,
                                              desk_message.c.author == "person")
            .order_by(desk_message.c.id)
        ).scalars())


def lawyer_ids(url: str, *emails: str) -> list[int]:
    with db.session_factory(url).begin() as session:
        return [auth.lawyer_id_by_email(session, email) for email in emails]


def takeovers(url: str, case_id: int) -> list[tuple]:
    """The audit log's takeovers of a case: (the lawyer taking over, ``from=<previous>``)."""
    with db.session_factory(url).begin() as session:
        return [tuple(row) for row in session.execute(
            select(desk_audit.c.lawyer_id, desk_audit.c.detail)
            .where(desk_audit.c.case_id == case_id, desk_audit.c.action == "case.takeover")
            .order_by(desk_audit.c.id))]


# ------------------------------------------------------------------ the pages


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/desk/")
    expect(page).to_have_url(re.compile(r"/desk/login$"))  # no session: the login form
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(re.compile(r"/desk/$"))
    expect(page.locator("#schedule-badge")).to_have_text("Permanence en cours")


def wait_live(page: Page) -> None:
    """The page listens to /desk/events; a marker tells whether it was reloaded since."""
    expect(page.locator("#live-status")).to_have_text("en direct")
    page.evaluate("window.deskSameDocument = true")


def same_document(page: Page) -> bool:
    return page.evaluate("window.deskSameDocument === true")


def bot_count(page: Page) -> int:
    return page.locator(".msg.bot").count()


def wait_more_bot_messages(page: Page, than: int) -> None:
    # A locator, not wait_for_function: the chat's policy forbids evaluating strings.
    expect(page.locator(".msg.bot").nth(than)).to_be_attached(timeout=60_000)


def chat_until_handoff(chat: Page, base: str) -> str:
    """A person in the web chat reaches the lawyer; returns the conversation's id."""
    chat.goto(f"{base}/chat")
    bot = chat.locator(".msg.bot")
    chat.fill("#text", QUESTION)
    chat.press("#text", "Enter")
    expect(bot.last).to_contain_text("Acceptez-vous")
    before = bot_count(chat)
    chat.get_by_role("button", name="J'accepte").click()
    wait_more_bot_messages(chat, before)
    chat.fill("#text", ASK_LAWYER)
    chat.press("#text", "Enter")
    expect(bot.filter(has_text="transmets")).to_have_count(1)
    return conversation_id_of(chat.evaluate("sessionStorage.getItem('permanence.secret')"))


# ------------------------------------------------------------------ X (the emulator)


def x_ready(stack: Stack) -> bool:
    with urllib.request.urlopen(f"{stack.base_url}/webhooks/x/", timeout=10) as response:
        return json.loads(response.read())["ready"]


# ------------------------------------------------------------------ the flow


def desk_flow(stack: Stack, browser: Browser, shots: Path) -> None:
    base, url = stack.base_url, str(stack.database_url)
    email = add_lawyer(url)
    lawyer_context = browser.new_context(viewport=LAPTOP)
    person_context = browser.new_context(viewport=PHONE)
    try:
        desk = lawyer_context.new_page()
        desk.on("dialog", lambda dialog: dialog.accept())
        log_in(desk, base, email)
        wait_live(desk)

        # --- the web chat: the case appears live, the lawyer takes it and replies
        chat = person_context.new_page()
        conversation_id = chat_until_handoff(chat, base)
        case = wait_for(lambda: case_of(url, conversation_id), 30)
        assert case is not None and case.channel == "webchat", "no case opened"
        row = desk.locator(f"#queue-cases [data-case-id='{case.id}']")
        expect(row).to_be_visible()
        expect(row).to_contain_text("Urbanisme")
        assert same_document(desk), "the queue was reloaded"
        desk.screenshot(path=str(shots / "queue.png"))

        row.locator("a.case-link").click()
        expect(desk).to_have_url(re.compile(rf"/desk/cases/{case.id}$"))
        expect(desk.locator(".msg.person").first).to_contain_text(QUESTION)
        wait_live(desk)  # the page's script runs: its buttons act (a click before is lost)
        desk.get_by_role("button", name="Prendre le dossier").click()
        expect(desk.locator("#case-state")).to_have_text("Pris en charge par vous")
        desk.locator(".canned summary").click()
        desk.get_by_role("button", name=CANNED_TITLE).click()
        expect(desk.locator("#reply")).to_have_value(CANNED_TEXT)
        desk.fill("#reply", REPLY)
        desk.get_by_role("button", name="Envoyer la réponse").click()
        expect(desk.locator("#flash")).to_have_text("Réponse envoyée.")
        shown = chat.locator(".msg.lawyer")  # the person's page: marked as the lawyer's
        expect(shown).to_have_count(1)
        expect(shown).to_have_text(f"Votre avocat : {REPLY}")
        lawyer_reply = desk.locator(".msg.lawyer").last
        expect(lawyer_reply).to_contain_text(REPLY)
        # The person's page acknowledged it: « remis le … » (« pas encore lu » until then).
        expect(lawyer_reply.locator(".delivery")).to_have_text(re.compile(r"^remis le "))

        # --- the person answers: on the case page without a reload
        wait_live(desk)
        chat.fill("#text", FOLLOW_UP)
        chat.press("#text", "Enter")
        expect(desk.locator(".msg.person").last).to_contain_text(FOLLOW_UP)
        assert same_document(desk), "the case page was reloaded"
        assert person_messages(url, case.id) == [FOLLOW_UP]
        desk.screenshot(path=str(shots / "case.png"))

        # --- hand back: the person is told, and the assistant answers again
        desk.get_by_role("button", name="Rendre la main à l'assistant").click()
        expect(desk.locator("#case-state")).to_have_text("Rendu à l'assistant")
        expect(desk.locator("#reply-form")).to_be_hidden()
        expect(chat.locator(".msg.bot").last).to_contain_text("reprendre la conversation")
        before = bot_count(chat)
        chat.fill("#text", "j'ai une autre question : la préfecture refuse mon titre de séjour")
        chat.press("#text", "Enter")
        wait_more_bot_messages(chat, before)
        assert REPLY not in chat.locator(".msg.bot").last.inner_text()
        assert person_messages(url, case.id) == [FOLLOW_UP]  # no longer for the lawyer
        desk.goto(f"{base}/desk/")
        expect(desk.locator(f"[data-case-id='{case.id}']")).to_have_count(0)

        # --- X: a DM reaches the lawyer, the reply leaves through the X outbox
        assert wait_for(lambda: x_ready(stack), 60, 0.5), "the X channel did not become ready"
        wait_live(desk)
        user_id = str(random.randrange(10**15, 10**18))
        stack.x_send_dm(user_id, QUESTION)
        assert stack.x_wait_dm_containing(user_id, "Acceptez-vous", 90), stack.x_dm_texts(user_id)
        answered = len(stack.x_dm_texts(user_id))
        stack.x_send_dm(user_id, "1")  # the first option: consent
        assert wait_for(lambda: len(stack.x_dm_texts(user_id)) > answered, 90), "no answer"
        stack.x_send_dm(user_id, ASK_LAWYER)
        assert stack.x_wait_dm_containing(user_id, "transmets", 90), stack.x_dm_texts(user_id)
        x_case = wait_for(lambda: case_of(url, f"x:{user_id}"), 30)
        assert x_case is not None and x_case.channel == "x", "no case opened from X"
        x_row = desk.locator(f"#queue-cases [data-case-id='{x_case.id}']")
        expect(x_row).to_contain_text(f"@{x_screen_name(user_id)}")
        assert same_document(desk), "the queue was reloaded"

        queue_tab = lawyer_context.new_page()  # a second tab stays on the queue
        queue_tab.goto(f"{base}/desk/")
        wait_live(queue_tab)
        expect(queue_tab.locator(f"[data-case-id='{x_case.id}']")).to_have_count(1)

        x_row.locator("a.case-link").click()
        expect(desk).to_have_url(re.compile(rf"/desk/cases/{x_case.id}$"))
        wait_live(desk)
        desk.get_by_role("button", name="Prendre le dossier").click()
        expect(desk.locator("#case-state")).to_have_text("Pris en charge par vous")
        desk.fill("#reply", X_REPLY)
        desk.get_by_role("button", name="Envoyer la réponse").click()
        expect(desk.locator("#flash")).to_have_text("Réponse envoyée.")
        assert wait_for(lambda: X_REPLY in stack.x_dm_texts(user_id), 30), (
            f"the reply is not in the X outbox: {stack.x_dm_texts(user_id)}")
        # What X did with it, on the page without a reload (permanence/deliveries.py).
        x_badge = desk.locator(".msg.lawyer").last.locator(".delivery")
        expect(x_badge).to_have_text(re.compile(r"^envoyé le \d{1,2} "))
        expect(x_badge).to_have_class("delivery sent")
        assert same_document(desk), "the case page was reloaded"

        # --- a colleague: only « Reprendre le dossier » (audited); the lawyer takes it back
        colleague_email = add_lawyer(url)
        colleague_context = browser.new_context(viewport=LAPTOP)
        colleague = colleague_context.new_page()
        colleague.on("dialog", lambda dialog: dialog.accept())
        log_in(colleague, base, colleague_email)
        colleague.goto(f"{base}/desk/cases/{x_case.id}")
        expect(colleague.locator("#case-state")).to_have_text(f"Pris en charge par {email}")
        for action in ("close", "handback", "take"):
            expect(colleague.locator(f"button[data-action={action}]")).to_be_hidden()
        expect(colleague.locator("#reply-form")).to_be_hidden()
        wait_live(colleague)
        colleague.get_by_role("button", name="Reprendre le dossier").click()
        expect(colleague.locator("#case-state")).to_have_text("Pris en charge par vous")
        expect(colleague.locator("#reply-form")).to_be_visible()
        expect(colleague.locator("button[data-action=close]")).to_be_visible()
        # The lawyer's page hears of it: her actions give way to « Reprendre le dossier ».
        expect(desk.locator("#case-state")).to_have_text(f"Pris en charge par {colleague_email}")
        expect(desk.locator("button[data-action=close]")).to_be_hidden()
        expect(desk.locator("#reply-form")).to_be_hidden()
        desk.get_by_role("button", name="Reprendre le dossier").click()
        expect(desk.locator("#case-state")).to_have_text("Pris en charge par vous")
        expect(colleague.locator("#case-state")).to_have_text(f"Pris en charge par {email}")
        colleague_context.close()
        lawyer_id, colleague_id = lawyer_ids(url, email, colleague_email)
        assert takeovers(url, x_case.id) == [(colleague_id, f"from={lawyer_id}"),
                                             (lawyer_id, f"from={colleague_id}")]

        desk.select_option("#outcome", "answered")
        desk.get_by_role("button", name="Clore").click()
        expect(desk.locator("#case-state")).to_have_text("Répondu")
        expect(queue_tab.locator(f"[data-case-id='{x_case.id}']")).to_have_count(0)
        assert same_document(queue_tab), "the queue tab was reloaded"
        assert case_of(url, f"x:{user_id}").state == "answered"
    finally:
        lawyer_context.close()
        person_context.close()


def test_the_desk_in_the_browser_on_sqlite(servers, browser, tmp_path) -> None:
    desk_flow(servers, browser, tmp_path)


def test_the_desk_in_the_browser_on_postgresql(postgres_stack, browser, tmp_path) -> None:
    assert make_url(str(postgres_stack.database_url)).get_backend_name() == "postgresql"
    desk_flow(postgres_stack, browser, tmp_path)
