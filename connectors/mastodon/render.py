"""A turn's messages as Mastodon statuses, and the public invitation (French, neutral).

A direct status must start with ``@acct`` to reach the person; Mastodon counts a remote
mention by its username alone (``@alice@avocats.social`` costs 6), and a username has at most
30 characters, so the text of a status keeps ``MENTION_RESERVE`` characters free for it, for
any person. The splitting, the options and the images reuse the X channel's pure helpers
(``connectors/x/render.py``: channel-neutral functions, lengths counted in UTF-16 units, never
fewer than the characters Mastodon counts).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from connectors.x.render import pack, render_buttons, render_image, split_text

DEFAULT_MAX_CHARACTERS = 500
USERNAME_MAX = 30
MENTION_RESERVE = 1 + USERNAME_MAX + 1  # "@" + the longest username + the space
_ACCT = re.compile(r"[A-Za-z0-9_]{1,30}(?:@[A-Za-z0-9.-]{1,253})?")

# LEGAL.md N3/N4: nothing from the person's post, no facts, no names but the handles.
INVITATION = ("Merci pour votre message. Pour préserver la confidentialité, écrivez-nous en "
              "message privé (visibilité « mentions privées ») à @{account}. Un assistant "
              "automatisé recueillera d'abord quelques informations. Évitez les détails en "
              "public.")


def text_limit(max_characters: int = DEFAULT_MAX_CHARACTERS) -> int:
    """The room for the text of a direct status, after the mention of any person."""
    limit = max_characters - MENTION_RESERVE
    if limit < 2:
        raise ValueError("the instance's max_characters is too small")
    return limit


def render(messages: Sequence[Mapping[str, Any]],
           max_characters: int = DEFAULT_MAX_CHARACTERS) -> list[str]:
    """The texts of the statuses of one turn, in order: buttons as numbered options, images
    as links, each cut to fit and consecutive ones packed together."""
    limit = text_limit(max_characters)
    parts: list[str] = []
    for message in messages:
        text = message.get("text") or ""
        if message.get("buttons"):
            text, _ = render_buttons(text, list(message["buttons"]))
        elif message.get("image"):
            text = render_image(message["image"], text or None)
        parts.extend(split_text(text, limit))
    return pack(parts, limit)


def check_acct(acct: str) -> str:
    acct = acct.strip().lstrip("@")
    if not _ACCT.fullmatch(acct):
        raise ValueError("not a Mastodon account")
    return acct


def addressed(acct: str, text: str) -> str:
    """The status that carries ``text`` to ``acct`` (a direct status must mention them)."""
    return f"@{check_acct(acct)} {text}"


def invitation_text(person_acct: str, account_acct: str) -> str:
    """The public reply to a post that mentions the account: the person's handle (so that the
    reply reaches them), the account's, and nothing of the post."""
    return addressed(person_acct, INVITATION.format(account=check_acct(account_acct)))
