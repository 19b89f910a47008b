"""Conversation ids: one namespace per channel, so that no channel can reach another's people.

A conversation id is ``<channel>:<local id>``: ``x:<X user id>``, ``web:<server-issued web-chat
session>``, ``rest:<integration's id>``, ``mastodon:<account id>``. Only a channel builds the ids
of its own namespace (from what it authenticated: a signed X webhook, a web-chat session secret
bound to a socket, a token-authenticated integration). Ids without a namespace come from data
saved before namespacing; the desk's migration ``0003`` rewrites them.

Pure: no I/O, no Rasa. Shared by the channels, the desk and the stores.
"""

from __future__ import annotations

import re

X, WEB, REST, MASTODON = "x", "web", "rest", "mastodon"
CHANNELS = (X, WEB, REST, MASTODON)
# The Rasa input channel name of each namespace (InputChannel.name()).
INPUT_CHANNEL = {X: "x", WEB: "webchat", REST: "rest", MASTODON: "mastodon"}
NAMESPACE_OF_INPUT = {name: namespace for namespace, name in INPUT_CHANNEL.items()}

_LOCAL = re.compile(r"^[A-Za-z0-9_.@-]{1,128}\Z")  # \Z: "$" would allow a final newline


class InvalidConversationId(ValueError):
    """Not ``<known channel>:<local id>``."""


def make(channel: str, local_id: str) -> str:
    """``make("x", "42") == "x:42"``; refuses unknown channels and odd local ids."""
    if channel not in CHANNELS:
        raise InvalidConversationId(f"unknown channel {channel[:20]!r}")
    if not isinstance(local_id, str) or not _LOCAL.match(local_id):
        raise InvalidConversationId(f"local id not allowed for channel {channel}")
    return f"{channel}:{local_id}"


def split(conversation_id: str) -> tuple[str, str]:
    """``split("x:42") == ("x", "42")``; raises :class:`InvalidConversationId` otherwise."""
    channel, sep, local_id = (conversation_id or "").partition(":")
    if not sep or channel not in CHANNELS or not _LOCAL.match(local_id):
        raise InvalidConversationId("not a namespaced conversation id")
    return channel, local_id


def local_id(conversation_id: str, channel: str) -> str:
    """The local id of a conversation of ``channel``; raises if it belongs to another one."""
    found, local = split(conversation_id)
    if found != channel:
        raise InvalidConversationId(f"conversation of channel {found}, not {channel}")
    return local


def channel_of(conversation_id: str) -> str | None:
    """The namespace of a conversation id, or None for a legacy or malformed id."""
    try:
        return split(conversation_id)[0]
    except InvalidConversationId:
        return None
