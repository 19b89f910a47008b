"""Pure: Mastodon's notifications and statuses into inbound events and inbox rows."""

from __future__ import annotations

import copy

import pytest

from connectors.mastodon.payloads import (
    MAX_CONTENT_CHARS,
    MalformedPayload,
    classify,
    html_to_text,
    inbox_rows,
    parse_notification,
    parse_status,
    strip_leading_mentions,
)

ACCOUNT = "109000000000000001"
MENTION_HTML = ('<span class="h-card" translate="no"><a href="https://permanence.example/'
                '@permanence" class="u-url mention">@<span>permanence</span></a></span>')


def status(content: str, visibility: str = "direct", author: str = "42",
           mentions: tuple[str, ...] = (ACCOUNT,), tags: tuple[str, ...] = ()) -> dict:
    return {"id": "110000000000000005", "created_at": "2026-03-01T10:00:00.000Z",
            "in_reply_to_id": None, "visibility": visibility, "content": content,
            "url": "https://avocats.social/@alice/110000000000000005",
            "account": {"id": author, "username": "alice", "acct": "alice@avocats.social"},
            "mentions": [{"id": m, "username": "permanence", "acct": "permanence"}
                         for m in mentions],
            "tags": [{"name": t} for t in tags]}


def notification(body: dict, kind: str = "mention") -> dict:
    return {"id": "110000000000000006", "type": kind, "created_at": body["created_at"],
            "account": body["account"], "status": body}


def test_html_to_text_keeps_lines_and_paragraphs_and_unescapes():
    html = ("<p>Bonjour &lt;maître&gt; &amp; co,<br />ligne 2</p><p>« Paragraphe » "
            "&#39;2&#39;</p>")
    assert html_to_text(html) == "Bonjour <maître> & co,\nligne 2\n\n« Paragraphe » '2'"


def test_html_to_text_gives_a_link_its_full_url():
    html = ('<p>voir <a href="https://example.com/a/very/long/path"><span class="invisible">'
            'https://</span><span class="ellipsis">example.com/a/very/lo</span><span '
            'class="invisible">ng/path</span></a></p>')
    assert html_to_text(html) == "voir https://example.com/a/very/long/path"


def test_odd_text_is_kept_readable_and_huge_html_refused():
    assert html_to_text("<p>a\x00b 🇫🇷 e\u0301</p>") == "a\ufffdb 🇫🇷 e\u0301"
    assert html_to_text("<p>" + "x" * 50_000 + "</p>") == "x" * 50_000
    with pytest.raises(MalformedPayload):
        html_to_text("x" * (MAX_CONTENT_CHARS + 1))


@pytest.mark.parametrize("text, expected", [
    ("@permanence Bonjour", "Bonjour"),
    ("@permanence@permanence.example @avocat@x.fr  Bonjour @autre", "Bonjour @autre"),
    ("@permanence", ""),
    ("Bonjour @permanence", "Bonjour @permanence"),
    ("@permanence, bonjour", "@permanence, bonjour"),
])
def test_strip_leading_mentions(text, expected):
    assert strip_leading_mentions(text) == expected


def test_a_direct_mention_notification_is_a_dm_row_with_the_plain_text():
    body = status(f"<p>{MENTION_HTML} J&#39;ai reçu une OQTF</p>")
    inbound = parse_notification(notification(body))
    assert inbound.text == "J'ai reçu une OQTF"
    assert inbound.notification_id == "110000000000000006"
    assert classify(inbound, ACCOUNT, ()) == "dm"
    [row] = inbox_rows([inbound], ACCOUNT, ())
    assert (row.event_id, row.kind, row.sender_id) == ("dm:110000000000000005", "dm", "42")
    assert row.payload["text"] == "J'ai reçu une OQTF"
    assert row.payload["acct"] == "alice@avocats.social"


def test_public_posts_keep_no_text_and_say_why_they_came():
    mention = parse_status(status(f"<p>{MENTION_HTML} mon secret</p>", "public"))
    tagged = parse_status(status("<p>secret #PermanenceJuridique</p>", "public",
                                 mentions=(), tags=("permanencejuridique",)))
    rows = inbox_rows([mention, tagged], ACCOUNT, ("permanencejuridique",))
    assert [(r.kind, r.payload["kind"]) for r in rows] == [("tweet", "mention"),
                                                           ("tweet", "hashtag")]
    assert all("secret" not in str(r.payload) for r in rows)


def test_own_statuses_other_notifications_and_unrelated_posts_give_no_row():
    own = parse_status(status("<p>réponse</p>", author=ACCOUNT, mentions=("42",)))
    unrelated = parse_status(status("<p>rien</p>", "public", mentions=()))
    private_tag = parse_status(status("<p>#permanencejuridique</p>", "private", mentions=(),
                                      tags=("permanencejuridique",)))
    assert inbox_rows([own, unrelated, private_tag], ACCOUNT, ("permanencejuridique",)) == []
    assert parse_notification(notification(status("<p>x</p>"), kind="favourite")) is None


@pytest.mark.parametrize("path, value", [
    (("account",), None), (("visibility",), "everyone"), (("id",), "../statuses"),
    (("mentions",), "x"), (("content",), 5)])
def test_malformed_bodies_name_the_path_never_the_content(path, value):
    body = copy.deepcopy(status("<p>confidentiel</p>"))
    body[path[0]] = value
    with pytest.raises(MalformedPayload) as raised:
        parse_status(body)
    assert "confidentiel" not in str(raised.value)
    assert path[0] in str(raised.value)
