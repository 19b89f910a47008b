"""Conflict check: does the other party of a case match one of the firm's clients?

Names are compared after folding: lower case, no accents, punctuation and apostrophes as
spaces, spaces collapsed, and "mairie de X", "commune de X", "ville de X" (also "d'X") all
read as "commune X". A client matches when its folded name appears, as whole words, in the
folded other party ("la mairie d'Arras" matches the client "Commune d'Arras"). A match only
flags the case for the lawyer's check: over-flagging is the safe side.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Client", "conflict_check", "fold_name"]

MIN_CLIENT_CHARS = 3
_NON_WORD = re.compile(r"[^a-z0-9]+")
_MUNICIPALITY = re.compile(r"\b(?:mairie|commune|ville)(?: de| d)? ")


@dataclass(frozen=True)
class Client:
    id: int
    name: str


def fold_name(name: str) -> str:
    """Comparable form of an organisation's or a person's name."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = _NON_WORD.sub(" ", plain).strip()
    return _MUNICIPALITY.sub("commune ", f"{words} ").strip()


def conflict_check(other_party: str | None, clients: Iterable[Client]) -> Client | None:
    """The first client whose folded name appears in the folded ``other_party``, or None."""
    if not other_party:
        return None
    party = f" {fold_name(other_party)} "
    for client in clients:
        folded = fold_name(client.name)
        if len(folded) >= MIN_CLIENT_CHARS and f" {folded} " in party:
            return client
    return None
