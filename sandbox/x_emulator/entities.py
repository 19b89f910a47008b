"""Hashtags, @mentions and URLs found in a text, and X's weighted tweet length."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A hashtag needs at least one non-digit; it may not follow a word character or '&'.
_HASHTAG = re.compile(r"(?<![\w&])[#\uff03](\w*[^\W\d]\w*)")
_MENTION = re.compile(r"(?<![A-Za-z0-9_@])[@\uff20]([A-Za-z0-9_]{1,15})(?![A-Za-z0-9_@])")
_URL = re.compile(r"https?://[^\s]+", re.IGNORECASE)
_URL_TRAILING = ".,;:!?)»\"'"

# twitter-text v3: these code point ranges weigh 1, all others 2; a URL weighs 23.
_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
TRANSFORMED_URL_LENGTH = 23


@dataclass(frozen=True)
class Entity:
    kind: str  # "hashtag" | "mention" | "url"
    start: int  # index of '#', '@' or 'h' in the text (code points)
    end: int  # exclusive
    value: str  # tag without '#', username without '@', or the URL


def find_urls(text: str) -> list[Entity]:
    found = []
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_URL_TRAILING)
        found.append(Entity("url", match.start(), match.start() + len(url), url))
    return found


def extract_entities(text: str) -> list[Entity]:
    """All entities, ordered by position; hashtags/mentions inside URLs are ignored."""
    urls = find_urls(text)

    def inside_url(position: int) -> bool:
        return any(url.start <= position < url.end for url in urls)

    found = list(urls)
    for match in _HASHTAG.finditer(text):
        if not inside_url(match.start()):
            found.append(Entity("hashtag", match.start(), match.end(), match.group(1)))
    for match in _MENTION.finditer(text):
        if not inside_url(match.start()):
            found.append(Entity("mention", match.start(), match.end(), match.group(1)))
    return sorted(found, key=lambda entity: entity.start)


def weighted_length(text: str) -> int:
    """Length as X counts it for the 280 limit (simplified: no emoji sequence grouping)."""
    total = 0
    position = 0
    for url in find_urls(text):
        total += _weigh(text[position:url.start]) + TRANSFORMED_URL_LENGTH
        position = url.end
    return total + _weigh(text[position:])


def _weigh(chunk: str) -> int:
    return sum(
        1 if any(low <= ord(char) <= high for low, high in _LIGHT_RANGES) else 2
        for char in chunk
    )
