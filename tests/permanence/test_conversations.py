import pytest
from hypothesis import given
from hypothesis import strategies as st

from permanence import conversations, logids
from permanence.conversations import InvalidConversationId


def test_make_and_split_round_trip():
    assert conversations.make("x", "42") == "x:42"
    assert conversations.split("web:" + "a" * 43) == ("web", "a" * 43)
    assert conversations.local_id("rest:crm-7", "rest") == "crm-7"
    assert conversations.channel_of("mastodon:109") == "mastodon"


@pytest.mark.parametrize("bad", ["42", "", ":42", "x:", "sms:1", "x:4 2", "x:" + "1" * 129,
                                 "x:a/b", "X:42", "x:42\n"])
def test_refused_ids(bad):
    with pytest.raises(InvalidConversationId):
        conversations.split(bad)
    assert conversations.channel_of(bad) is None


def test_a_local_id_with_a_final_newline_is_refused():
    with pytest.raises(InvalidConversationId):
        conversations.make("rest", "42\n")


def test_an_id_of_another_channel_is_refused():
    with pytest.raises(InvalidConversationId):
        conversations.local_id("x:42", "rest")
    with pytest.raises(InvalidConversationId):
        conversations.make("sms", "1")


@given(st.sampled_from(conversations.CHANNELS),
       st.from_regex(r"[A-Za-z0-9_.@-]{1,128}", fullmatch=True))
def test_round_trip_property(channel, local):
    assert conversations.split(conversations.make(channel, local)) == (channel, local)


def test_log_refs_are_keyed_stable_and_hide_the_id(monkeypatch):
    monkeypatch.setenv(logids.ENV, "k1")
    logids.reset_for_tests()
    first = logids.ref("x:1234567890")
    assert first == logids.ref("x:1234567890") and first.startswith("p-")
    assert "1234567890" not in first and first != logids.ref("x:1234567891")
    monkeypatch.setenv(logids.ENV, "k2")
    logids.reset_for_tests()
    assert logids.ref("x:1234567890") != first
    logids.reset_for_tests()


@pytest.mark.parametrize("typed,text", [
    ("/restart", "restart"),
    ("  //session_start", "session_start"),
    ('/affirm{"consent": "given"}', 'affirm{"consent": "given"}'),
    ("bonjour /x", "bonjour /x"),
])
def test_typed_text_is_never_an_intent(typed, text):
    from connectors.limits import typed_text

    assert typed_text(typed) == text
    assert not typed_text(typed).startswith("/")
