"""Erasure that erases, retention that erases, no silent loss: attacks of issue #11 (items 5, 6)
against the real servers on 127.0.0.1 (X emulator, action server, Rasa with the X channel and the
desk), people writing by X DMs.

- The lawyer's erase (desk API) and « supprimez mes données » leave no trace of the person's X
  id nor of her words (a label the lawyer put on the case included) in any table of either
  database (``permanence.db``: tracker events, desk;
  ``permanence-x.db``: the X channel's store), every column scanned; the firm's anonymous
  counts (``desk_figure``) keep the erased case, with nothing left that leads back to it.
- A conversation continued on the web chat (``permanence/continue_link.py``) and erased there
  leaves neither its token nor its web session, nor the messages the web chat kept for it.
- A web-chat person's conversation erased by the lawyer while the lawyer's reply waits for them
  (``channels/webchat_store.py``) leaves neither the kept reply nor the resume link (which then
  opens nothing) nor the sessions it opened.
- ``python -m desk.cli purge --days 30`` erases conversations idle for 45 days, with a closed
  case or without any case, and keeps the one whose case is open.
- With the database write-locked for longer than the busy timeout, « supprimez mes données »
  gets no confirmation and nothing is claimed erased; the X channel tries the turn again, and
  once the lock is gone the conversation is erased and the erasure confirmed, without the
  person writing again.

On the security tests' shared stack (``security_stack``, tests/security/conftest.py).
Conversation ids: ``x:<X id>`` once the channel namespaces them, the bare X id before
(:func:`conversation_of`).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sqlite3
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import pytest

from permanence import continue_link
from permanence.continue_store import ContinueStore, secret_hash
from sandbox.stack import ROOT, Stack, wait_for
from tests.dialogue import QUESTIONS

QUESTION = "la mairie refuse mon permis de construire"
ASK_LAWYER = "je veux parler à l'avocat"
DELETE = "supprimez mes données"
CONFIRMED = "C'est fait"


@pytest.fixture(scope="module")
def stack(security_stack: Stack) -> Stack:
    assert x_ready(security_stack), "the X channel is not ready"
    return security_stack


# ------------------------------------------------------------------ helpers


def x_ready(stack: Stack) -> bool:
    with urllib.request.urlopen(f"{stack.base_url}/webhooks/x/", timeout=10) as response:
        return json.loads(response.read())["ready"]


def new_person() -> str:
    return str(random.randrange(10**15, 10**18))


def conversation_of(stack: Stack, user: str) -> str | None:
    """The person's conversation id as the tracker store keeps it (``x:<id>`` or ``<id>``)."""
    for candidate in (f"x:{user}", user):
        if stack.sql("SELECT 1 FROM events WHERE sender_id = ? LIMIT 1", candidate):
            return candidate
    return None


def traces(stack: Stack, needles: list[str]) -> list[tuple[str, str, str, str]]:
    """Every (database, table, column, needle) where a needle appears, scanning every value of
    every row of every table of both SQLite files."""
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


def desk_cli(stack: Stack, *args: str, stdin: str | None = None) -> str:
    env = {**os.environ, "PERMANENCE_DATABASE_URL": f"sqlite:///{stack.db_path}",
           "PERMANENCE_X_DATABASE_URL": f"sqlite:///{stack.x_db_path}"}
    done = subprocess.run([sys.executable, "-m", "desk.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, input=stdin)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def lawyer_token(stack: Stack) -> str:
    email = f"avocat-{random.randrange(10**6)}@cabinet.example"
    desk_cli(stack, "user", email, "--password-stdin", stdin="un mot de passe assez long\n")
    return desk_cli(stack, "token", email).strip().splitlines()[-1]


def desk_api(stack: Stack, method: str, path: str, token: str, body: dict | None = None):
    request = urllib.request.Request(
        f"{stack.base_url}/desk/api{path}", method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def case_of(stack: Stack, token: str, user: str) -> dict | None:
    status, body = desk_api(stack, "GET", "/cases", token)
    assert status == 200
    mine = [case for case in body["queue"]
            if case.get("sender_id") in (user, f"x:{user}")
            or case.get("conversation_id") in (user, f"x:{user}")]
    return mine[0] if mine else None


def dm_and_wait(stack: Stack, user: str, text: str, expected: str | None = None) -> None:
    """The person writes; wait for an answer (containing ``expected`` if given)."""
    before = len(stack.x_dm_texts(user))
    stack.x_send_dm(user, text)
    if expected is None:
        assert wait_for(lambda: len(stack.x_dm_texts(user)) > before, 90, 0.2), (
            f"no answer to {text!r}")
    else:
        assert wait_for(lambda: any(expected in t for t in stack.x_dm_texts(user)[before:]),
                        90, 0.2), stack.x_dm_texts(user)[before:]


def gives_facts(stack: Stack, user: str, adversary: str) -> None:
    """Question, consent, the administration on the other side (the person's own words)."""
    dm_and_wait(stack, user, QUESTION, "Acceptez-vous")
    dm_and_wait(stack, user, "1", QUESTIONS)  # the first option: consent
    dm_and_wait(stack, user, f"la mairie de {adversary}")


def handed_over(stack: Stack, token: str, user: str, adversary: str) -> dict:
    gives_facts(stack, user, adversary)
    dm_and_wait(stack, user, ASK_LAWYER, "transmets")
    case = wait_for(lambda: case_of(stack, token, user), 30, 0.2)
    assert case is not None, "no case opened"
    return case


def settled(stack: Stack, user: str) -> bool:
    """Nothing left to send to ``user`` and no DM of theirs waiting to be handled."""
    pending = stack.x_sql("SELECT count(*) FROM x_outbox WHERE state = 'pending'")[0][0]
    busy = stack.x_sql("SELECT count(*) FROM x_inbox WHERE state IN ('pending', 'processing')")
    return pending == 0 and busy[0][0] == 0


@pytest.fixture
def token(stack: Stack) -> str:
    return lawyer_token(stack)


# ------------------------------------------------------------------ the attacks


def test_the_lawyers_erase_leaves_no_trace_and_the_person_starts_afresh(stack, token) -> None:
    user, words = new_person(), f"Quelmerville{random.randrange(10**6)}"
    case = handed_over(stack, token, user, words)
    stack.x_send_dm(user, f"mon voisin Zorglub{words} a tout vu")  # on the case, for the lawyer
    status, _ = desk_api(stack, "POST", f"/cases/{case['id']}/labels", token,
                         {"label": f"famille {words}"})  # a label naming the person
    assert status == 201
    assert wait_for(lambda: settled(stack, user), 60, 0.2)
    before = traces(stack, [user, words])
    assert before, "the scan must see the person before the erasure"
    assert ("desk_label", "name", words) in {found[1:] for found in before}

    # The case's anonymous counts (the firm's figures, desk/figures_record.py): kept.
    (ref,), = stack.sql("SELECT figure_ref FROM desk_case WHERE id = ?", case["id"])
    figure = "SELECT day, session_start, kind, channel, domain, tier FROM desk_figure"
    counted = stack.sql(f"{figure} WHERE ref = ?", ref)
    assert counted and counted[0][2:4] == ("lawyer", "x"), counted

    status, body = desk_api(stack, "POST", f"/cases/{case['id']}/erase", token,
                            {"confirm": "erase"})
    assert (status, body.get("conversation")) == (200, "erased"), body
    assert body["erased_cases"] == 1
    assert traces(stack, [user, words]) == []  # desk_figure scanned with every table
    assert stack.sql(f"{figure} WHERE ref = ?", ref) == counted  # the figures keep the case
    assert stack.sql("SELECT count(*) FROM desk_case WHERE figure_ref = ?", ref) == [(0,)]
    assert desk_api(stack, "GET", f"/cases/{case['id']}", token)[0] == 404

    # No longer paused: the next message is a new conversation, with the disclosure.
    dm_and_wait(stack, user, "bonjour", "Assistant automatisé")


def test_supprimez_mes_donnees_leaves_no_trace(stack) -> None:
    user, words = new_person(), f"Quelmerville{random.randrange(10**6)}"
    gives_facts(stack, user, words)
    assert traces(stack, [user, words])
    dm_and_wait(stack, user, DELETE, CONFIRMED)
    # The confirmation was sent; its outbox rows go once sent.
    assert wait_for(lambda: settled(stack, user) and not traces(stack, [user, words]), 30, 0.2), (
        traces(stack, [user, words]))


async def test_a_conversation_continued_on_the_web_chat_is_erased_with_its_session(stack
                                                                                 ) -> None:
    """A person on X follows the link to the web chat and asks there for the erasure: no
    trace of her id, her words, the token or the web session (its secret's hash) in any
    table (the channel-level test shows the tab's secret then reaches a new conversation:
    tests/webchat/test_webchat_continue.py)."""
    import socketio

    run = asyncio.get_running_loop().run_in_executor
    user, words = new_person(), f"Quelmerville{random.randrange(10**6)}"
    await run(None, gives_facts, stack, user, words)
    settings = continue_link.from_env(stack.env)
    store = ContinueStore.create(f"sqlite:///{stack.x_db_path}")
    try:
        token = store.issue(settings, f"x:{user}")
    finally:
        store.close()
    client = socketio.AsyncClient(reconnection=False)
    said: asyncio.Queue = asyncio.Queue()
    confirmed: asyncio.Future = asyncio.get_running_loop().create_future()
    client.on("bot_uttered", said.put_nowait)
    client.on("session_confirm", lambda data: confirmed.done() or confirmed.set_result(data))
    await client.connect(stack.base_url, socketio_path="/socket.io", transports=["polling"])
    try:
        await client.emit("session_request", {"continue": token.token})
        confirm = await asyncio.wait_for(confirmed, 10)
        assert confirm.get("continued") is True
        secret = confirm["secret"]
        needles = [user, words, token.token_id, secret_hash(secret)]
        # An answer on the web chat: kept there (this socket does not acknowledge it).
        await client.emit("user_uttered", {"message": "je suis toujours là",
                                           "message_id": "here-1"})
        while "id" not in await asyncio.wait_for(said.get(), 90):
            pass  # the channel's own notice (« Vous continuez ici… ») is not kept
        assert {t[1] for t in await run(None, traces, stack, needles)} >= {
            "continue_token", "continue_session", "events", "webchat_message"}
        await client.emit("user_uttered", {"message": DELETE, "message_id": "erase-1"})
        while CONFIRMED not in ((await asyncio.wait_for(said.get(), 90)).get("text") or ""):
            pass
    finally:
        await client.disconnect()
    assert await run(None, lambda: wait_for(
        lambda: settled(stack, user) and not traces(stack, needles), 30, 0.2)), (
        traces(stack, needles))


async def test_the_lawyers_erase_of_a_web_chat_conversation_takes_its_kept_reply_and_link(
        stack, token) -> None:
    from connectors.webchat import RESUME_REFUSED, conversation_id_of
    from tests.e2e.test_webchat_resume_link import open_page

    run = asyncio.get_running_loop().run_in_executor
    words = f"Quelmerville{random.randrange(10**6)}"
    page = await open_page(stack.base_url, {})
    conversation = conversation_id_of(page.confirm["secret"])
    try:
        for message in ({"message": f"la mairie de {words} refuse mon permis de construire"},
                        {"payload": "/affirm"}, {"message": ASK_LAWYER}):
            await page.client.emit("user_uttered", message)
            assert await page.drain(), f"no answer to {message}"
        link = page.link["token"]
    finally:
        await page.close()
    [case] = await run(None, lambda: wait_for(lambda: [
        c for c in desk_api(stack, "GET", "/cases", token)[1]["queue"]
        if c["sender_id"] == conversation], 30, 0.2))
    assert (await run(None, desk_api, stack, "POST", f"/cases/{case['id']}/take", token))[0] == 200
    reply = f"Maître Exemple pour {words}"
    assert (await run(None, desk_api, stack, "POST", f"/cases/{case['id']}/reply", token,
                      {"text": reply}))[0] == 200
    opened = await open_page(stack.base_url, {"resume": link})  # a session the link opened
    await opened.drain()
    await opened.close()
    needles = [conversation, words, secret_hash(link), secret_hash(opened.confirm["secret"])]
    assert {t[1] for t in await run(None, traces, stack, needles)} >= {
        "events", "webchat_message", "webchat_resume", "webchat_session"}

    status, body = await run(None, lambda: desk_api(
        stack, "POST", f"/cases/{case['id']}/erase", token, {"confirm": "erase"}))
    assert (status, body.get("conversation")) == (200, "erased"), body
    assert await run(None, traces, stack, needles) == []
    late = await open_page(stack.base_url, {"resume": link})
    try:
        assert [m["text"] for m in await late.drain(first=10)] == [RESUME_REFUSED]
        assert late.history == [] and "resumed" not in late.confirm
    finally:
        await late.close()


def test_purge_erases_old_conversations_with_and_without_cases(stack, token) -> None:
    no_case, closed, still_open = new_person(), new_person(), new_person()
    words = {user: f"Quelmerville{random.randrange(10**6)}"
             for user in (no_case, closed, still_open)}
    gives_facts(stack, no_case, words[no_case])
    closed_case = handed_over(stack, token, closed, words[closed])
    handed_over(stack, token, still_open, words[still_open])
    status, _ = desk_api(stack, "POST", f"/cases/{closed_case['id']}/close", token,
                         {"outcome": "answered"})
    assert status == 200
    assert wait_for(lambda: settled(stack, closed), 60, 0.2)
    # 45 days idle: every event of the three conversations moves back in time.
    for user in (no_case, closed, still_open):
        conversation = conversation_of(stack, user)
        stack.sql("UPDATE events SET timestamp = timestamp - 45 * 86400 WHERE sender_id = ?",
                  conversation)

    out = desk_cli(stack, "purge", "--days", "30")
    assert "erased 2 conversations" in out, out
    for user in (no_case, closed):
        assert traces(stack, [user, words[user]]) == [], user
    assert conversation_of(stack, still_open) is not None
    assert case_of(stack, token, still_open) is not None
    assert traces(stack, [words[still_open]])


def test_a_locked_database_gets_no_confirmation_then_erasure_once_free(stack) -> None:
    user, words = new_person(), f"Quelmerville{random.randrange(10**6)}"
    gives_facts(stack, user, words)
    conversation = conversation_of(stack, user)
    stored = len(stack.stored_events(conversation))
    before = len(stack.x_dm_texts(user))

    holding, release = threading.Event(), threading.Event()

    def hold() -> None:  # another process's write transaction, longer than the busy timeout
        connection = sqlite3.connect(stack.db_path, timeout=30, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        holding.set()
        release.wait(90)
        connection.execute("ROLLBACK")
        connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(10)
        event_id = stack.x_send_dm(user, DELETE)

        def first_failure() -> bool:
            rows = stack.x_sql("SELECT state, last_error FROM x_inbox WHERE event_id IN (?, ?)",
                               event_id, f"dm:{event_id}")
            return bool(rows) and rows[0][1] is not None and rows[0][0] != "done"

        # The save waits the busy timeout (30 s), then fails: the turn goes back to the queue.
        assert wait_for(first_failure, 80, 0.5)
        assert not any(CONFIRMED in text or "effacé" in text
                       for text in stack.x_dm_texts(user)[before:]), stack.x_dm_texts(user)
        assert len(stack.stored_events(conversation)) == stored  # nothing claimed, nothing lost
    finally:
        release.set()
        holder.join()
    # Once the database is free, the same message is tried again: erased, then confirmed,
    # without the person having to write again.
    assert wait_for(lambda: any(CONFIRMED in text for text in stack.x_dm_texts(user)[before:]),
                    90, 0.5), stack.x_dm_texts(user)[before:]
    assert stack.stored_events(conversation) == []
    assert wait_for(lambda: settled(stack, user) and not traces(stack, [user, words]), 30, 0.2), (
        traces(stack, [user, words]))
