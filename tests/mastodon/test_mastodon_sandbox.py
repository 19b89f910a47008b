"""The emulator itself: its limits come from the file and follow the time scale, its stream
is what Mastodon.py's own streaming client reads, its paging is Mastodon's."""

from __future__ import annotations

import threading

import pytest
import requests
from mastodon import Mastodon, StreamListener

from sandbox.mastodon_emulator.config import DEFAULT_ACCESS_TOKEN as TOKEN
from sandbox.mastodon_emulator.config import EmulatorConfig, LimitsError, load_limits
from sandbox.mastodon_emulator.ratelimit import RateLimiter

pytestmark = pytest.mark.timeout(60)


def test_the_default_limits_are_mastodons(tmp_path):
    windows = load_limits()
    assert (windows["account"].limit, windows["account"].seconds) == (300, 300)
    assert (windows["statuses"].limit, windows["statuses"].seconds) == (300, 3 * 3600)
    bad = tmp_path / "bad.yml"
    bad.write_text("limits: {account: {limit: 0, seconds: 300}}\n")
    with pytest.raises(LimitsError):
        load_limits(str(bad))


def test_windows_follow_the_time_scale_and_report_the_closest_limit():
    now = [1_000.0]
    limiter = RateLimiter(EmulatorConfig(rate_limits={"statuses": 2}).windows,
                          lambda: now[0], time_scale=60)
    assert limiter.consume(["account", "statuses"], "a")[1].remaining == 1  # statuses: closer
    allowed, status = limiter.consume(["account", "statuses"], "a")
    assert allowed and status.remaining == 0 and status.reset == 1_000 + 10800 / 60
    assert not limiter.consume(["account", "statuses"], "a")[0]
    assert limiter.consume(["account"], "a")[0]  # other endpoints still answer
    now[0] += 10800 / 60
    assert limiter.consume(["account", "statuses"], "a")[0]
    assert limiter.refused == {"statuses": 1}


class Collect(StreamListener):
    def __init__(self) -> None:
        self.notifications: list = []
        self.received = threading.Event()

    def on_notification(self, notification) -> None:
        self.notifications.append(notification)
        self.received.set()


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return EmulatorConfig(stream_heartbeat_seconds=0.2, for_private_mentions="accept")


def test_mastodon_py_reads_the_emulators_user_stream(emulator):
    api = Mastodon(access_token=TOKEN, api_base_url=emulator.base_url)
    listener = Collect()
    handle = api.stream_user(listener, run_async=True)
    try:
        for _ in range(100):
            if emulator.state.streams:
                break
            listener.received.wait(0.05)
        written = emulator.dm("alice", "Bonjour <b>&")
        assert listener.received.wait(10)
        [notification] = listener.notifications
        assert notification.type == "mention"
        assert notification.status.id == written["status_id"]
        assert "Bonjour &lt;b&gt;&amp;" in notification.status.content
    finally:
        handle.close()


def test_notification_paging_follows_link_headers(emulator):
    api = Mastodon(access_token=TOKEN, api_base_url=emulator.base_url)
    ids = [emulator.dm("alice", f"m{i}")["notification_id"] for i in range(5)]
    page = api.notifications(limit=2)
    assert [n.id for n in page] == ids[:-3:-1]
    older = api.fetch_next(page)
    assert [n.id for n in older] == [ids[2], ids[1]]
    newer = api.notifications(min_id=ids[0], limit=2)
    assert [n.id for n in newer] == [ids[2], ids[1]]
    assert api.notifications(since_id=ids[0], limit=2)[0].id == ids[4]
    raw = requests.get(f"{emulator.base_url}/api/v1/notifications?types[]=mention&limit=2",
                       headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert "types%5B%5D=mention" in raw.headers["Link"] and 'rel="next"' in raw.headers["Link"]


def test_the_conformance_driver_plays_a_person_on_the_emulator(emulator):
    """The Mastodon driver of the conformance kit (not in its DRIVERS until the channel is
    wired to the runtime) against the emulator alone: the account's replies are written here
    with Mastodon.py, as the channel's sender will."""
    from tests.e2e.conformance.drivers import MastodonDriver

    class Servers:
        @staticmethod
        def mastodon_control(method, path, body=None):
            return emulator.control(path.removeprefix("/_control/"),
                                    body if method == "POST" else None)

    driver = MastodonDriver(Servers())
    person = driver.new_person()
    first = driver.send(person, "Bonjour")
    assert person.conversation_id.startswith("mastodon:")
    api = Mastodon(access_token=TOKEN, api_base_url=emulator.base_url)
    api.status_post(f"@{person.state['acct']} Acceptez-vous ?\n\n1. Oui\n2. Non",
                    in_reply_to_id=first, visibility="direct")
    [shown] = driver.messages(person)
    assert (shown.text, shown.options) == ("Acceptez-vous ?", ("Oui", "Non"))
    choice = driver.choose(person, "Non")
    assert person.sent[choice] == "2"
    driver.redeliver(person, first)
    driver.send_own_echo(person)
