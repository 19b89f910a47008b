"""The lawyer's reply goes where the person last wrote (desk/delivery.py), with Rasa's own
in-memory tracker and lock stores and collecting output channels standing for the channels."""

from __future__ import annotations

from types import SimpleNamespace

from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from desk.delivery import SENT, UNSUPPORTED, deliver_reply, latest_input_channel

CONV = "x:4242"


class Channel:
    def __init__(self, name: str) -> None:
        self._name = name
        self.output = CollectingOutputChannel()

    def name(self) -> str:
        return self._name

    def get_output_channel(self) -> CollectingOutputChannel:
        return self.output


def test_the_latest_user_event_says_where_the_person_is() -> None:
    assert latest_input_channel([]) is None
    assert latest_input_channel([UserUttered("a", input_channel="x"),
                                 BotUttered("b"), UserUttered("c", input_channel="webchat"),
                                 BotUttered("d")]) == "webchat"
    assert latest_input_channel([UserUttered("a", input_channel="webchat"),
                                 UserUttered("c")]) == "webchat"  # none said: the one before


async def app_with(events: list) -> SimpleNamespace:
    store = InMemoryTrackerStore(Domain.empty())
    await store.save(DialogueStateTracker.from_events(CONV, events))
    channels = [Channel("x"), Channel("webchat")]
    agent = SimpleNamespace(tracker_store=store, lock_store=InMemoryLockStore())
    return SimpleNamespace(ctx=SimpleNamespace(agent=agent, input_channels=channels))


async def test_the_reply_follows_the_person_from_x_to_the_web_chat_and_back() -> None:
    app = await app_with([UserUttered("bonjour", input_channel="x"),
                          UserUttered("je continue ici", input_channel="webchat")])
    x, web = app.ctx.input_channels
    assert await deliver_reply(app, CONV, "x", "Bonjour, ici Maître A.") == SENT
    assert [m["text"] for m in web.output.messages] == ["Bonjour, ici Maître A."]
    assert x.output.messages == []
    tracker = await app.ctx.agent.tracker_store.retrieve(CONV)
    tracker.update(UserUttered("finalement sur X", input_channel="x"))
    await app.ctx.agent.tracker_store.save(tracker)
    assert await deliver_reply(app, CONV, "x", "Bien reçu.") == SENT
    assert [m["text"] for m in x.output.messages] == ["Bien reçu."]
    saved = await app.ctx.agent.tracker_store.retrieve(CONV)
    assert [e.text for e in saved.events if isinstance(e, BotUttered)] == [
        "Bonjour, ici Maître A.", "Bien reçu."]


async def test_without_a_channel_in_the_conversation_the_cases_channel_is_used() -> None:
    app = await app_with([UserUttered("bonjour")])
    assert await deliver_reply(app, CONV, "x", "Bonjour.") == SENT
    assert [m["text"] for m in app.ctx.input_channels[0].output.messages] == ["Bonjour."]
    assert await deliver_reply(app, CONV, "rest", "Bonjour.") == UNSUPPORTED
