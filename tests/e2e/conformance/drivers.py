"""Channel drivers for the conformance kit: what a person does on a channel, and what they see.

A driver plays people on one channel of the session's servers (``tests/e2e/conftest.py``) with
the channel's own means, and reads the bot's messages the way the person sees them
(:class:`Shown`: the text and the options offered). The tests in ``test_conformance.py`` are
written once against :class:`ChannelDriver` and run for every driver.

- :class:`XDriver`: the public writes through the X emulator (``/_control/dm``), which posts
  signed Account Activity webhooks; replies are read from the emulator's outbox. Buttons are
  numbered options at the end of a DM; the person answers with the number or the title.
- :class:`WebChatDriver`: a socket.io client, as the page ``/chat`` is (long-polling: the
  client's websocket needs aiohttp >= 3.10, Rasa pins 3.9). The server issues the session's
  secret; the conversation id is derived from it. Buttons are quick replies; a click sends the
  button's payload as ``{"payload": ...}``, as ``chat.js`` does.

"Own echo" on each channel:

- X posts the account's own DMs back to the webhook (an event whose sender is the account).
  The driver redelivers the echo of the last DM the account sent to the person.
- The web chat's bot messages only travel from the server to the page, as ``bot_uttered``.
  The page's own echo is that event sent back to the server by the page, with the person's
  conversation id. The channel only listens to ``user_uttered``, so it must ignore it.
"""

from __future__ import annotations

import random
import re
import threading
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, TypeVar

import engineio.payload
import socketio

from connectors.limits import MAX_MESSAGE_CHARS
from connectors.webchat import conversation_id_of
from connectors.x.render import DM_MAX_CHARS

T = TypeVar("T")

_OPTION_LINE = re.compile(r"([0-9]{1,3})\. (.+)")



@dataclass(frozen=True)
class Shown:
    """One bot message as the person sees it: its text, and the options it offers (button or
    quick-reply titles, in order). ``carried`` is the whole text as the channel carried it."""

    text: str
    options: tuple[str, ...] = ()
    carried: str = ""
    raw: Any = None


@dataclass
class Person:
    """Someone writing on a channel; ``conversation_id`` is Rasa's sender id."""

    conversation_id: str
    sent: dict[str, str] = field(default_factory=dict)  # message id -> text
    state: Any = None  # the driver's own (the web chat's socket)


class ChannelDriver(ABC):
    """What the conformance tests need from a channel."""

    #: the channel's name for the server's API (``?output_channel=<name>``)
    name: str
    #: the longest message a person may send (the channel's documented limit)
    max_message_chars: int = MAX_MESSAGE_CHARS
    #: the longest bot message the channel carries in one piece (UTF-16 units), or None
    bot_text_limit: int | None = None

    @abstractmethod
    def new_person(self) -> Person:
        """Someone who has not written yet."""

    @abstractmethod
    def send(self, person: Person, text: str) -> str:
        """The person writes ``text``; returns the channel's message id."""

    @abstractmethod
    def redeliver(self, person: Person, message_id: str) -> None:
        """The channel delivers the message ``message_id`` again (same id, same content)."""

    @abstractmethod
    def messages(self, person: Person) -> list[Shown]:
        """Every bot message the person received so far, oldest first."""

    @abstractmethod
    def choose(self, person: Person, title: str, *, by_title: bool = False) -> str:
        """The person picks the option ``title`` of the last message offering it, the way the
        channel lets them (X: types its number, or its title with ``by_title``; web chat:
        clicks it). Returns the message id."""

    @abstractmethod
    def send_own_echo(self, person: Person) -> None:
        """The channel hands back the bot's own last message to the person (see the module
        docstring for what that is on each channel)."""

    def echo_conversation_ids(self) -> list[str]:
        """Conversations an echo taken for a person's message would wrongly feed."""
        return []

    def close(self) -> None:
        """Let go of what the driver holds (sockets)."""


def last_offering(shown: list[Shown], title: str) -> Shown:
    for message in reversed(shown):
        if title in message.options:
            return message
    raise AssertionError(f"no option {title!r} offered in {[m.options for m in shown]}")


# X


def shown_from_dm(text: str) -> Shown:
    """A DM as the person reads it: numbered lines at its end (``render.render_buttons``) are
    the options."""
    head, _, tail = text.rpartition("\n\n")  # a long text may leave the options alone
    matches = [_OPTION_LINE.fullmatch(line) for line in tail.split("\n")]
    numbers = [int(match.group(1)) for match in matches if match]
    if all(matches) and numbers == list(range(1, len(matches) + 1)):
        return Shown(head, tuple(match.group(2) for match in matches), text, text)
    return Shown(text, (), text, text)


class XDriver(ChannelDriver):
    name = "x"
    bot_text_limit = DM_MAX_CHARS

    def __init__(self, servers: Any) -> None:
        self.servers = servers
        self.account_id = servers.x_control("GET", "/_control/info")["account"]["id"]

    def new_person(self) -> Person:
        """An X user; ``state`` is their X user id, ``conversation_id`` ``x:<that id>``."""
        user_id = str(random.randrange(10**15, 10**18))
        return Person(f"x:{user_id}", state=user_id)

    def send(self, person: Person, text: str) -> str:
        answer = self.servers.x_control("POST", "/_control/dm", {
            "sender_id": person.state,
            "screen_name": f"citoyen{person.state[-8:]}", "text": text})
        assert answer["delivery_status"] == 200, answer
        person.sent[answer["event_id"]] = text
        return answer["event_id"]

    def redeliver(self, person: Person, message_id: str) -> None:
        answer = self.servers.x_control("POST", "/_control/redeliver", {"event_id": message_id})
        assert [d["status"] for d in answer["deliveries"]] == [200], answer

    def _dms(self, person: Person) -> list[dict]:
        return [dm for dm in self.servers.x_control("GET", "/_control/outbox")["dms"]
                if dm["recipient_id"] == person.state]

    def messages(self, person: Person) -> list[Shown]:
        return [shown_from_dm(dm["text"]) for dm in self._dms(person)]

    def choose(self, person: Person, title: str, *, by_title: bool = False) -> str:
        offering = last_offering(self.messages(person), title)
        number = offering.options.index(title) + 1
        return self.send(person, title if by_title else str(number))

    def send_own_echo(self, person: Person) -> None:
        dms = self._dms(person)
        assert dms, "the account has not written to this person yet"
        last = dms[-1]["id"]
        # X (and the emulator) already posted the echo when the DM was sent; post it again.
        echoed = [d for d in self.servers.x_control("GET", "/_control/deliveries")
                  if d["event_id"] == last and not d["redelivery"]]
        assert echoed and echoed[0]["status"] == 200, echoed
        self.redeliver(person, last)

    def echo_conversation_ids(self) -> list[str]:
        return [f"x:{self.account_id}", self.account_id]


# Web chat


@dataclass
class _Socket:
    client: socketio.Client
    received: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    secret: str = ""
    sent: dict[str, dict] = field(default_factory=dict)  # message id -> what was emitted


class WebChatDriver(ChannelDriver):
    name = "webchat"

    # python-engineio's client refuses a long-polling answer of more than 16 packets (the
    # browser's client has no such cap): a long bot text, one message per paragraph, is more.
    MAX_PACKETS_PER_POLL = 1000

    def __init__(self, servers: Any) -> None:
        self.base_url = servers.base_url
        self.people: list[Person] = []
        engineio.payload.Payload.max_decode_packets = self.MAX_PACKETS_PER_POLL

    def new_person(self) -> Person:
        client = socketio.Client(reconnection=False)
        socket = _Socket(client)
        confirmed = threading.Event()

        def on_bot(data: Any) -> None:
            with socket.lock:
                socket.received.append(data)

        def on_confirm(data: Any) -> None:
            socket.secret = data["secret"]
            confirmed.set()

        client.on("bot_uttered", on_bot)
        client.on("session_confirm", on_confirm)
        client.connect(self.base_url, socketio_path="/socket.io", transports=["polling"])
        client.emit("session_request", {})
        assert confirmed.wait(20), "no session_confirm"
        person = Person(conversation_id_of(socket.secret), state=socket)
        self.people.append(person)
        return person

    def _emit(self, person: Person, content: dict[str, str]) -> str:
        message_id = uuid.uuid4().hex
        message = {**content, "message_id": message_id}
        person.state.sent[message_id] = message
        person.state.client.emit("user_uttered", message)
        return message_id

    def send(self, person: Person, text: str) -> str:
        message_id = self._emit(person, {"message": text})
        person.sent[message_id] = text
        return message_id

    def redeliver(self, person: Person, message_id: str) -> None:
        person.state.client.emit("user_uttered", person.state.sent[message_id])

    def messages(self, person: Person) -> list[Shown]:
        with person.state.lock:
            received = list(person.state.received)
        shown = []
        for data in received:
            choices = data.get("quick_replies") or data.get("buttons") or []
            text = data.get("text") or ""
            shown.append(Shown(text, tuple(c["title"] for c in choices), text, data))
        return shown

    def choose(self, person: Person, title: str, *, by_title: bool = False) -> str:
        offering = last_offering(self.messages(person), title)
        choices = offering.raw.get("quick_replies") or offering.raw.get("buttons")
        [payload] = [c["payload"] for c in choices if c["title"] == title]
        message_id = self._emit(person, {"payload": payload})
        person.sent[message_id] = payload
        return message_id

    def send_own_echo(self, person: Person) -> None:
        shown = self.messages(person)
        assert shown, "the bot has not written to this person yet"
        person.state.client.emit("bot_uttered", {**shown[-1].raw,
                                                 "session_id": person.conversation_id})

    def close(self) -> None:
        # A long-polling client waits for its pending poll to end (up to ~30 s): all at once.
        closing = [threading.Thread(target=person.state.client.disconnect)
                   for person in self.people]
        for thread in closing:
            thread.start()
        for thread in closing:
            thread.join(60)
        self.people.clear()


# Mastodon


class MastodonDriver(ChannelDriver):
    """People write direct statuses through the Mastodon emulator (``/_control/post``); the
    account's direct statuses to them (``/_control/sent``) are what they read, their leading
    ``@acct`` removed; options are numbered lines, as on X. A redelivery streams the same
    notification again; the account's echo is its own last status streamed back as
    ``update``. ``servers.mastodon_control(method, path, body)`` is the emulator's control API
    (``sandbox/stack.py``)."""

    name = "mastodon"
    bot_text_limit = 500  # the emulator's max_characters, the mention included

    def __init__(self, servers: Any) -> None:
        self.control = servers.mastodon_control

    def new_person(self) -> Person:
        username = f"citoyen{random.randrange(10**8, 10**9)}"
        # The conversation id needs the person's account id, known once they have written.
        return Person("", state={"username": username, "acct": f"{username}@avocats.social"})

    def send(self, person: Person, text: str) -> str:
        answer = self.control("POST", "/_control/post", {
            "username": person.state["username"], "domain": "avocats.social", "text": text,
            "visibility": "direct"})
        assert answer["notification_id"] and not answer["filtered"], answer
        person.conversation_id = f"mastodon:{answer['account_id']}"
        person.sent[answer["status_id"]] = text
        return answer["status_id"]

    def redeliver(self, person: Person, message_id: str) -> None:
        answer = self.control("POST", "/_control/redeliver", {"status_id": message_id})
        assert answer["event"] == "notification", answer

    def _statuses(self, person: Person) -> list[dict]:
        return [s for s in self.control("GET", "/_control/sent", None)["statuses"]
                if s["visibility"] == "direct" and person.state["acct"] in s["mentions"]]

    def messages(self, person: Person) -> list[Shown]:
        prefix = f"@{person.state['acct']} "
        shown = []
        for status in self._statuses(person):
            text = status["text"]
            body = text[len(prefix):] if text.startswith(prefix) else text
            seen = shown_from_dm(body)
            shown.append(Shown(seen.text, seen.options, text, status))
        return shown

    def choose(self, person: Person, title: str, *, by_title: bool = False) -> str:
        offering = last_offering(self.messages(person), title)
        number = offering.options.index(title) + 1
        return self.send(person, title if by_title else str(number))

    def send_own_echo(self, person: Person) -> None:
        statuses = self._statuses(person)
        assert statuses, "the account has not written to this person yet"
        answer = self.control("POST", "/_control/redeliver", {"status_id": statuses[-1]["id"]})
        assert answer["event"] == "update", answer
