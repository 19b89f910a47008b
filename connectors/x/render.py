"""Text rendering for X: long DMs split in parts, buttons as numbered options, images as
links, and the public invitation to continue in DM.

Lengths are counted in UTF-16 code units, X's own unit (a character outside the Basic
Multilingual Plane, such as most emoji, counts 2). Every part therefore also fits the limit
when counted in Unicode code points, Python's ``len``. The DM limit is 10,000.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

DM_MAX_CHARS = 10_000
TWEET_MAX_CHARS = 280
DM_COMPOSE_URL = "https://x.com/messages/compose?recipient_id={account_id}"
POST_URL = "https://x.com/{username}/status/{tweet_id}"
POST_URL_NO_HANDLE = "https://x.com/i/web/status/{tweet_id}"

_ZWJ = "\u200d"
_NO_BREAK = frozenset("\u00a0\u2007\u202f\u2060\ufeff")  # never cut at these spaces
_NEWLINES = {"\n": 1, "\r\n": 1, "\r": 1, "\x0b": 1, "\x0c": 1, "\x85": 1, "\u2028": 1,
             "\u2029": 2}
_TERMINALS = frozenset(".!?…‼⁇⁈⁉。！？؟")
_CLOSERS = frozenset(")]}\"'»”’›")
_PARAGRAPH, _LINE, _SENTENCE, _WORD = 3, 2, 1, 0
_NUMBER_REPLY = re.compile(r"\s*([0-9]{1,3})\s*[.)]?\s*")
_USERNAME = re.compile(r"[A-Za-z0-9_]{1,15}")
_ACCOUNT_ID = re.compile(r"[0-9]{1,20}")

# Neutral public replies (LEGAL.md N3/N4): nothing from the person's post, no facts, no names.
# ``{to}`` is « @handle » alone, or followed by the DM link when the firm asks for it
# (``invitation_dm_link``: a post with a URL costs $0.20 on X instead of $0.01).
INVITATION_TEMPLATES = (
    "Merci pour votre message. Pour préserver la confidentialité, écrivez-nous en message "
    "privé à {to}. Un assistant automatisé recueillera d'abord quelques informations.",
    "Merci de votre question. Par souci de confidentialité, poursuivons en message privé "
    "avec {to}. Un assistant automatisé vous posera d'abord quelques questions.",
    "Bonjour, pour protéger votre vie privée, écrivez à {to} en message privé. "
    "Un assistant automatisé recueillera d'abord quelques informations. Évitez les détails "
    "en public.",
)


# Splitting


def utf16_length(text: str) -> int:
    """The length of ``text`` in UTF-16 code units, as X counts it."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def split_text(text: str, limit: int = DM_MAX_CHARS) -> list[str]:
    """``text`` in parts of at most ``limit`` UTF-16 code units (hence characters).

    A text that fits is returned whole. A longer one is cut, by order of preference, at a
    paragraph break, a line break, the end of a sentence, then any space; a preferred cut is
    taken only if it leaves the part at least half full. Without any space the text is cut
    between two grapheme-ish units (see ``_units``): a surrogate pair, a character with its
    combining marks or variation selectors, an emoji ZWJ sequence, a flag, CR LF are never
    separated, except a single unit longer than ``limit``, which is cut between code points
    (never inside a surrogate pair). The whitespace at each cut is dropped; no-break spaces
    are never cut at. Blank text gives [].
    """
    if limit < 2:
        raise ValueError("limit must be at least 2 (a character can take 2 UTF-16 units)")
    if not text.strip():
        return []
    if utf16_length(text) <= limit:
        return [text]
    units = _units(text)
    count = len(units)
    space = [_is_break_space(unit) for unit in units]
    prefix = [0]
    for unit in units:
        prefix.append(prefix[-1] + utf16_length(unit))
    parts: list[str] = []
    start = _skip_spaces(space, 0)
    while start < count:
        end = bisect.bisect_right(prefix, prefix[start] + limit) - 1
        if end >= count:
            stop = count
            while space[stop - 1]:
                stop -= 1
            parts.append("".join(units[start:stop]))
            break
        if end == start:  # one unit longer than the limit
            parts.extend(_split_unit(units[start], limit))
            start = _skip_spaces(space, start + 1)
            continue
        cut = _best_cut(units, space, prefix, start, end, limit)
        parts.append("".join(units[start:cut]))
        start = _skip_spaces(space, cut)
    return parts


PARAGRAPH_BREAK = "\n\n"


def pack(parts: Sequence[str], limit: int = DM_MAX_CHARS) -> list[str]:
    """Consecutive ``parts`` joined into as few DMs as fit ``limit``, a blank line between two.

    One turn's answer is several short messages (the disclosure, then the question...). On X
    each DM costs a request against the account's DM rate limit (200 per 15 minutes in the
    recorded X responses) and a notification on the person's phone, so they go as one DM
    when they fit, in order; a part is never cut or reordered here (``split_text`` made each
    fit already)."""
    packed: list[str] = []
    for part in parts:
        if packed and utf16_length(packed[-1]) + 2 + utf16_length(part) <= limit:
            packed[-1] = packed[-1] + PARAGRAPH_BREAK + part
        else:
            packed.append(part)
    return packed


def _units(text: str) -> list[str]:
    """``text`` in grapheme-ish units: a simplification of Unicode's extended grapheme
    clusters (UAX #29) that keeps together CR LF, a character and its extenders (combining
    marks, variation selectors, emoji modifiers, tag characters, ZWNJ, Hangul vowel and final
    jamo, a low surrogate after a high one), ZWJ with the character after it (unless a space,
    a control or a regional indicator), and pairs of regional indicators (flags) counted from
    the start of their run. Controls stand alone."""
    units = []
    size = len(text)
    index = 0
    while index < size:
        start = index
        char = text[index]
        index += 1
        if char == "\r" and index < size and text[index] == "\n":
            index += 1
        elif not _is_control(char):
            if _is_regional(char) and index < size and _is_regional(text[index]):
                index += 1
            while index < size:
                following = text[index]
                if following == _ZWJ:
                    index += 1
                    joined = text[index] if index < size else _ZWJ
                    if (joined != _ZWJ and not _is_control(joined) and not joined.isspace()
                            and not _is_regional(joined)):
                        index += 1  # a following ZWJ is handled by the next turn
                elif _is_extender(following):
                    index += 1
                else:
                    break
        units.append(text[start:index])
    return units


def _is_extender(char: str) -> bool:
    point = ord(char)
    if (0xFE00 <= point <= 0xFE0F or 0xE0100 <= point <= 0xE01EF  # variation selectors
            or 0x1F3FB <= point <= 0x1F3FF  # emoji skin tones
            or 0xE0020 <= point <= 0xE007F  # tags (subdivision flags)
            or 0xDC00 <= point <= 0xDFFF  # low surrogate
            or point == 0x200C  # ZWNJ
            or 0x1160 <= point <= 0x11FF or 0xD7B0 <= point <= 0xD7FF):  # Hangul V, T jamo
        return True
    return unicodedata.category(char) in ("Mn", "Me", "Mc")


def _is_control(char: str) -> bool:
    category = unicodedata.category(char)
    if category == "Cf":
        return char not in (_ZWJ, "\u200c") and not 0xE0020 <= ord(char) <= 0xE007F
    return category in ("Cc", "Zl", "Zp")


def _is_regional(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def _is_break_space(unit: str) -> bool:
    return unit.isspace() and not any(char in _NO_BREAK for char in unit)


def _skip_spaces(space: list[bool], index: int) -> int:
    while index < len(space) and space[index]:
        index += 1
    return index


def _best_cut(units: list[str], space: list[bool], prefix: list[int], start: int, end: int,
              limit: int) -> int:
    """Where to end the part ``units[start:...]`` (at most ``end``), see ``split_text``."""
    half = prefix[start] + limit // 2
    best: dict[int, int] = {}  # level -> latest cut of at least that level, half full
    latest_word = 0
    position = end
    while position > start:
        if space[position] and not space[position - 1]:
            level = _cut_level(units, space, position)
            if not latest_word:
                latest_word = position
            if prefix[position] >= half:
                for rank in range(_SENTENCE, level + 1):
                    best.setdefault(rank, position)
            if _PARAGRAPH in best:
                break
        position -= 1
    for rank in (_PARAGRAPH, _LINE, _SENTENCE):
        if rank in best:
            return best[rank]
    return latest_word or end


def _cut_level(units: list[str], space: list[bool], position: int) -> int:
    newlines = 0
    index = position
    while index < len(units) and space[index]:
        newlines += _NEWLINES.get(units[index], 0)
        index += 1
    if newlines >= 2:
        return _PARAGRAPH
    if newlines == 1:
        return _LINE
    index = position - 1
    while index > 0 and units[index][0] in _CLOSERS and not space[index - 1]:
        index -= 1
    return _SENTENCE if units[index][0] in _TERMINALS else _WORD


def _split_unit(unit: str, limit: int) -> list[str]:
    """A unit longer than ``limit`` cut between code points, never inside a surrogate pair."""
    pieces = []
    current: list[str] = []
    weight = 0
    index = 0
    while index < len(unit):
        step = 2 if (0xD800 <= ord(unit[index]) <= 0xDBFF and index + 1 < len(unit)
                     and 0xDC00 <= ord(unit[index + 1]) <= 0xDFFF) else 1
        chunk = unit[index:index + step]
        size = utf16_length(chunk)
        if weight + size > limit:
            pieces.append("".join(current))
            current, weight = [], 0
        current.append(chunk)
        weight += size
        index += step
    pieces.append("".join(current))
    return pieces


# Buttons


def _options(buttons: Sequence[Any]) -> list[tuple[str, str]]:
    """(title, payload) of the usable buttons, in order; a missing payload is the title."""
    options = []
    for button in buttons:
        if not isinstance(button, Mapping):
            continue
        title = button.get("title")
        if not isinstance(title, str) or not title.strip():
            continue
        payload = button.get("payload")
        if not isinstance(payload, str) or not payload:
            payload = title
        options.append((" ".join(title.split()), payload))
    return options


def render_buttons(text: str, buttons: list[dict]) -> tuple[str, dict[str, str]]:
    """``text`` followed by the buttons as numbered options, and the number -> payload map.

    X DMs have no buttons through the v2 API: the person answers with the number or the title
    (see ``map_reply``). Buttons without a title are left out of both.
    """
    options = _options(buttons)
    lines = "\n".join(f"{number}. {title}" for number, (title, _) in enumerate(options, 1))
    mapping = {str(number): payload for number, (_, payload) in enumerate(options, 1)}
    rendered = "\n\n".join(block for block in (text.rstrip(), lines) if block)
    return rendered, mapping


def map_reply(reply_text: str, options: list[dict]) -> str | None:
    """The payload of the option ``reply_text`` designates, or None (free text for Rasa).

    Accepted: the option's number ("1", "1.", "1)", " 2 "), its title or "<number> <title>"
    compared without case, accents, punctuation and spaces. An ambiguous title gives None.
    """
    choices = _options(options)
    if not choices:
        return None
    number = _NUMBER_REPLY.fullmatch(reply_text)
    if number is not None:
        index = int(number.group(1))
        return choices[index - 1][1] if 1 <= index <= len(choices) else None
    key = _fold(reply_text)
    if not key:
        return None
    found = {payload for position, (title, payload) in enumerate(choices, 1)
             if key in (_fold(title), _fold(f"{position} {title}"))}
    return found.pop() if len(found) == 1 else None


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed.casefold() if char.isalnum())


# Images and the invitation


def render_image(url: str, text: str | None = None) -> str:
    """An image as a link after its text (X DMs sent by the API carry no image URL)."""
    link = url.strip()
    if not link.lower().startswith(("https://", "http://")):
        raise ValueError("an image must be an http(s) URL")
    if text is None or not text.strip():
        return link
    return f"{text.rstrip()}\n{link}"


def invitation_text(account_username: str, account_id: str, *, variant: int = 0,
                    dm_link: bool = False) -> str:
    """The neutral public reply inviting a person to write to the account in DM (French).

    It contains only the account's handle, and with ``dm_link`` the link that opens a DM to
    it (X bills a post with a URL $0.20, one without $0.01), never anything from the person's
    post (LEGAL.md N3/N4), and fits in a tweet. X refuses a tweet identical to an earlier one:
    pass a different ``variant`` (a counter) for each invitation; the wording cycles through
    ``INVITATION_TEMPLATES`` and, after the first round, ends with a neutral number.
    """
    username = account_username.strip().lstrip("@")
    if not _USERNAME.fullmatch(username):
        raise ValueError("not an X username")
    if not _ACCOUNT_ID.fullmatch(account_id):
        raise ValueError("not an X account id")
    if variant < 0:
        raise ValueError("variant must be >= 0")
    round_, index = divmod(variant, len(INVITATION_TEMPLATES))
    to = f"@{username}"
    if dm_link:
        to += " (lien : " + DM_COMPOSE_URL.format(account_id=account_id) + ")"
    text = INVITATION_TEMPLATES[index].format(to=to)
    if round_:
        text = f"{text} ({round_ + 1})"
    if len(text) > TWEET_MAX_CHARS:
        raise ValueError("variant too large for a tweet")
    return text


def post_link(tweet_id: str, username: str | None) -> str:
    """The address of a public post on X (for the desk: the lawyer opens it to answer)."""
    if not _ACCOUNT_ID.fullmatch(tweet_id):
        raise ValueError("not an X post id")
    handle = (username or "").strip().lstrip("@")
    if _USERNAME.fullmatch(handle):
        return POST_URL.format(username=handle, tweet_id=tweet_id)
    return POST_URL_NO_HANDLE.format(tweet_id=tweet_id)
